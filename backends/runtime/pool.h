/* backends/runtime/pool.h — a persistent thread pool for kernels.
 *
 * gc_pool_run(pool, n, fn, ctx) calls fn(ctx, i, worker) for every i in
 * [0, n) and returns when all are done; the calling thread works too.
 * Tasks are taken in index order from a shared counter, so which thread runs
 * a task varies, but nothing else does: kernels give every task its own
 * outputs, so results never depend on the thread count.
 *
 * Workers spin briefly between calls (kernels come in quick succession)
 * and then sleep.  One pool serves one caller at a time.
 *
 * Ownership: gc_pool_new's result is the caller's; gc_pool_free joins the
 * workers.  The explicitly created pool is gc's only shared runtime state. */
#ifndef GC_RUNTIME_POOL_H
#define GC_RUNTIME_POOL_H

#include <stdint.h>

typedef struct gc_pool gc_pool;
typedef void gc_pool_task(void *ctx, int64_t index, int worker);

/* A pool of `threads` threads in all, the caller included (threads - 1
 * workers); threads <= 0 means the cores available to the process. NULL
 * when out of memory or threads cannot be made. */
gc_pool *gc_pool_new(int threads);
void gc_pool_free(gc_pool *p);
int gc_pool_threads(const gc_pool *p);

/* Run tasks 0..n-1 on the pool (n <= 0: nothing). */
void gc_pool_run(gc_pool *p, int64_t n, gc_pool_task *fn, void *ctx);

/* The cores this process may run on (sched_getaffinity), at least 1. */
int gc_available_cores(void);

#endif
