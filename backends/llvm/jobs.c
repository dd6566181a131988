/* Many modules compiled at once, through the object cache (see jobs.h). */
#include "backends/llvm/jobs.h"
#include "backends/llvm/machine.h"
#include "base/clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const gc_compile_job *jobs;
  int n;
  const gc_jobs_options *o;
  gc_compiled *out;
  atomic_int next;             /* the next job to claim */
  atomic_int failed;           /* a job failed: claim no more */
  atomic_int compiled, from_cache, store_failures, refused;
  pthread_mutex_t lock;        /* guards the two below */
  int first_failure;           /* lowest failing job index, n if none */
  gc_diag first_diag;
} batch;

static void record_failure(batch *b, int i, const gc_diag *d) {
  pthread_mutex_lock(&b->lock);
  if (i < b->first_failure) {
    b->first_failure = i;
    gc_diag_set(&b->first_diag, "kernel %s: %.900s", b->jobs[i].name ? b->jobs[i].name : "(unnamed)",
                d->msg[0] ? d->msg : "build failed");
  }
  pthread_mutex_unlock(&b->lock);
  atomic_store(&b->failed, 1);
}

static bool cacheable(const batch *b, const gc_compile_job *job) {
  return b->o->cache && b->o->cache->enabled && job->key;
}

/* Job i from the cache: true on a hit. */
static bool load_cached(batch *b, int i) {
  const gc_compile_job *job = &b->jobs[i];
  if (!cacheable(b, job) || b->o->want_ir || b->o->want_asm) return false;
  gc_objcache_key key = gc_objcache_key_of(b->o->cache, job->key, job->key_len);
  void *obj;
  size_t len;
  if (!gc_objcache_load(b->o->cache, key, &obj, &len)) return false;
  b->out[i].object = obj;
  b->out[i].object_len = len;
  b->out[i].from_cache = true;
  atomic_fetch_add(&b->from_cache, 1);
  return true;
}

/* Builds and compiles job i in a fresh context with the worker's target
 * machine (*tm, created on first use). */
static int compile_job(batch *b, int i, LLVMTargetMachineRef *tm, gc_diag *d) {
  const gc_compile_job *job = &b->jobs[i];
  if (!*tm && !(*tm = gc_host_target_machine(b->o->host, d))) return -1;
  LLVMContextRef ctx = LLVMContextCreate();
  LLVMModuleRef m = job->build(ctx, job->arg, d);
  if (!m) {
    LLVMContextDispose(ctx);
    return -1;
  }
  gc_machine_options opts = {.want_ir = b->o->want_ir, .want_asm = b->o->want_asm};
  gc_machine_output cg;
  int rc = gc_machine_module(m, *tm, &opts, &cg, d);
  LLVMDisposeModule(m);
  LLVMContextDispose(ctx);
  if (rc) return -1;
  b->out[i] = (gc_compiled){.object = cg.object, .object_len = cg.object_len,
                            .ir_text = cg.ir_text, .asm_text = cg.asm_text};
  atomic_fetch_add(&b->compiled, 1);
  if (cacheable(b, job)) {
    gc_objcache_key key = gc_objcache_key_of(b->o->cache, job->key, job->key_len);
    if (gc_objcache_store(b->o->cache, key, cg.object, cg.object_len, NULL))
      atomic_fetch_add(&b->store_failures, 1);
  }
  return 0;
}

/* Claims jobs in index order until none is left or one has failed.  Since
 * claims are ordered, every job before a failing one has been claimed and
 * runs to its end: the lowest failing index is the same for any T. */
static void *worker(void *arg) {
  batch *b = arg;
  LLVMTargetMachineRef tm = NULL;
  while (!atomic_load(&b->failed)) {
    int i = atomic_fetch_add(&b->next, 1);
    if (i >= b->n) break;
    gc_diag d = {0};
    if (!load_cached(b, i) && compile_job(b, i, &tm, &d)) record_failure(b, i, &d);
  }
  if (tm) LLVMDisposeTargetMachine(tm);
  return NULL;
}

/* Job i's object into the JIT.  A cached one the JIT refuses is dropped
 * from the cache, told of, compiled again and added (see jobs.h). */
static int add_to_jit(batch *b, int i, LLVMTargetMachineRef *tm, gc_diag *d) {
  const gc_compile_job *job = &b->jobs[i];
  gc_compiled *c = &b->out[i];
  gc_diag why = {0};
  if (!c->from_cache) return gc_jit_add_object(b->o->jit, c->object, c->object_len, job->name, d);
  if (gc_jit_add_object_now(b->o->jit, c->object, c->object_len, job->name, &why) == 0) return 0;
  gc_objcache_key key = gc_objcache_key_of(b->o->cache, job->key, job->key_len);
  char path[4200];
  gc_objcache_path(b->o->cache, key, path, sizeof path);
  gc_objcache_drop(b->o->cache, key);
  fprintf(b->o->notes ? b->o->notes : stderr,
          "gc: kernel cache entry %s: refused by the JIT (%s); removed, compiling kernel %s again\n", path, why.msg,
          job->name);
  free(c->object);
  memset(c, 0, sizeof *c);
  atomic_fetch_add(&b->from_cache, -1);
  atomic_fetch_add(&b->refused, 1);
  if (compile_job(b, i, tm, d)) return -1;
  return gc_jit_add_object(b->o->jit, c->object, c->object_len, job->name, d);
}

int gc_compile_jobs(const gc_compile_job *jobs, int n, const gc_jobs_options *o,
                    gc_compiled *out, gc_compile_stats *stats, gc_diag *d) {
  double start = gc_now_seconds();
  if (n < 0) n = 0;
  memset(out, 0, sizeof *out * (size_t)n);
  if (stats) memset(stats, 0, sizeof *stats);
  if (!o || !o->host) return gc_diag_set(d, "gc_compile_jobs: no host given");
  batch b = {.jobs = jobs, .n = n, .o = o, .out = out, .first_failure = n};
  pthread_mutex_init(&b.lock, NULL);

  int threads = o->threads < 1 ? 1 : o->threads > n ? n : o->threads;
  pthread_t *extra = threads > 1 ? calloc((size_t)threads - 1, sizeof *extra) : NULL;
  int started = 0;
  for (int t = 0; extra && t < threads - 1; t++)
    if (pthread_create(&extra[t], NULL, worker, &b) == 0) started++;
  worker(&b);                         /* the calling thread works too */
  for (int t = 0; t < started; t++) pthread_join(extra[t], NULL);
  free(extra);
  pthread_mutex_destroy(&b.lock);

  LLVMTargetMachineRef tm = NULL;
  for (int i = 0; o->jit && b.first_failure == n && i < n; i++) {
    gc_diag why = {0};
    if (add_to_jit(&b, i, &tm, &why)) record_failure(&b, i, &why);
  }
  if (tm) LLVMDisposeTargetMachine(tm);
  if (stats) {
    stats->compiled = atomic_load(&b.compiled);
    stats->cache_refused = atomic_load(&b.refused);
    stats->from_cache = atomic_load(&b.from_cache);
    stats->cache_store_failures = atomic_load(&b.store_failures);
    stats->seconds = gc_now_seconds() - start;
  }
  if (b.first_failure < n) {
    gc_compiled_free(out, n);
    if (d) *d = b.first_diag;
    return -1;
  }
  return 0;
}

void gc_compiled_free(gc_compiled *out, int n) {
  for (int i = 0; i < n; i++) {
    free(out[i].object);
    free(out[i].ir_text);
    free(out[i].asm_text);
    memset(&out[i], 0, sizeof out[i]);
  }
}
