/* The thread pool (see pool.h): a generation counter announces a job,
 * workers and the caller take task indices from an atomic counter, and the
 * caller waits until every task has finished. */
#define _GNU_SOURCE
#include "backends/runtime/pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

enum { SPIN_ROUNDS = 1 << 16 };

/* One gc_pool_run call; it lives on the caller's stack, and the caller
 * returns only when no worker holds it any more. */
typedef struct {
  gc_pool_task *fn;
  void *ctx;
  int64_t n;
  atomic_int_fast64_t next;       /* the next task index to take */
  atomic_int_fast64_t done;       /* tasks finished */
} job;

struct gc_pool {
  int threads;
  pthread_t *workers;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  _Atomic(job *) current;         /* the job being run, or NULL */
  atomic_int active;              /* workers holding `current` */
  atomic_uint generation;         /* bumped for every job */
  atomic_bool stop;
  int sleepers;                   /* under lock */
};

int gc_available_cores(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  return 1;
}

static inline void pause_cpu(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* Take and run tasks of j until none is left. */
static void work(job *j, int worker) {
  for (;;) {
    int64_t i = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
    if (i >= j->n) return;
    j->fn(j->ctx, i, worker);
    atomic_fetch_add_explicit(&j->done, 1, memory_order_release);
  }
}

typedef struct {
  gc_pool *pool;
  int index;
} worker_arg;

/* Join the current job, if there still is one. */
static void join(gc_pool *p, int worker) {
  job *j = atomic_load_explicit(&p->current, memory_order_acquire);
  if (!j) return;
  /* seq_cst on both sides (here and at the end of gc_pool_run): each thread
   * stores one variable and then loads the other, which weaker orders let
   * x86 reorder; the caller could then see no active worker while one is
   * about to work on a job whose frame has gone. */
  atomic_fetch_add(&p->active, 1);
  if (atomic_load(&p->current) == j) work(j, worker);
  atomic_fetch_sub_explicit(&p->active, 1, memory_order_release);
}

static void *worker_main(void *arg) {
  worker_arg w = *(worker_arg *)arg;
  free(arg);
  gc_pool *p = w.pool;
  unsigned seen = atomic_load(&p->generation);
  for (;;) {
    /* spin, then sleep, until a new generation or stop */
    int spins = 0;
    while (atomic_load_explicit(&p->generation, memory_order_acquire) == seen && !atomic_load(&p->stop)) {
      if (++spins < SPIN_ROUNDS) {
        pause_cpu();
        continue;
      }
      pthread_mutex_lock(&p->lock);
      p->sleepers++;
      while (atomic_load(&p->generation) == seen && !atomic_load(&p->stop)) pthread_cond_wait(&p->wake, &p->lock);
      p->sleepers--;
      pthread_mutex_unlock(&p->lock);
    }
    if (atomic_load(&p->stop)) return NULL;
    seen = atomic_load_explicit(&p->generation, memory_order_acquire);
    join(p, w.index);
  }
}

gc_pool *gc_pool_new(int threads) {
  if (threads <= 0) threads = gc_available_cores();
  gc_pool *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->threads = threads;
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->wake, NULL);
  p->workers = calloc((size_t)threads, sizeof *p->workers);
  if (!p->workers) {
    free(p);
    return NULL;
  }
  for (int i = 1; i < threads; i++) {
    worker_arg *a = malloc(sizeof *a);
    if (!a) {
      p->threads = i;
      break;
    }
    *a = (worker_arg){p, i};
    if (pthread_create(&p->workers[i], NULL, worker_main, a) != 0) {
      free(a);
      p->threads = i;
      break;
    }
  }
  return p;
}

void gc_pool_free(gc_pool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->lock);
  atomic_store(&p->stop, true);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->lock);
  for (int i = 1; i < p->threads; i++) pthread_join(p->workers[i], NULL);
  pthread_mutex_destroy(&p->lock);
  pthread_cond_destroy(&p->wake);
  free(p->workers);
  free(p);
}

int gc_pool_threads(const gc_pool *p) { return p ? p->threads : 1; }

void gc_pool_run(gc_pool *p, int64_t n, gc_pool_task *fn, void *ctx) {
  if (n <= 0) return;
  if (!p || p->threads <= 1 || n == 1) {
    for (int64_t i = 0; i < n; i++) fn(ctx, i, 0);
    return;
  }
  job j = {.fn = fn, .ctx = ctx, .n = n};
  atomic_init(&j.next, 0);
  atomic_init(&j.done, 0);
  atomic_store_explicit(&p->current, &j, memory_order_release);
  atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
  pthread_mutex_lock(&p->lock);
  if (p->sleepers) pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->lock);
  work(&j, 0);
  while (atomic_load_explicit(&j.done, memory_order_acquire) < n) pause_cpu();
  atomic_store(&p->current, NULL); /* seq_cst: see join */
  while (atomic_load(&p->active) > 0) pause_cpu();
}
