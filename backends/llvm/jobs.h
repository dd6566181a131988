/* backends/llvm/jobs.h — many modules compiled at once: N independent
 * jobs on up to T threads, through the object cache.
 *
 * A job builds one LLVM module in a context it is given; the worker then
 * verifies, prepares, optimises and emits it (machine.h).  Each job gets a
 * fresh LLVMContext and each worker its own target machine, so jobs share
 * nothing; results land in job order, so they never depend on T (the same
 * object bytes whatever the thread count).
 *
 * With a cache and a job key, a job whose object is cached is not built at
 * all; a compiled object is stored.  A job that asks for IR or assembly text
 * is always compiled (the cache holds objects only).
 *
 * With a JIT, each object is added to it once all are compiled, in job
 * order; one from the cache is linked at once (gc_jit_add_object_now), and
 * when the JIT refuses it despite its sound checksum the entry is removed,
 * a note names its file ("gc: kernel cache entry PATH: refused by the JIT
 * (...); removed, compiling kernel NAME again"), and the job is compiled
 * and added as if the entry had never been there.
 *
 * Ownership: jobs, their names, keys and args stay the caller's.  The build
 * callbacks run on worker threads, several at a time: what they read through
 * `arg` must be safe to read concurrently.  The results array is the
 * caller's; its buffers are malloc'd and freed with gc_compiled_free. */
#ifndef GC_LLVM_JOBS_H
#define GC_LLVM_JOBS_H

#include "backends/llvm/cache.h"
#include "backends/llvm/host.h"
#include "backends/llvm/jit.h"
#include "ir/ir.h"

#include <llvm-c/Core.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Builds one module in `ctx` (the module must belong to ctx; the worker
 * disposes of it).  NULL with a message in d on failure. */
typedef LLVMModuleRef (*gc_build_module_fn)(LLVMContextRef ctx, void *arg, gc_diag *d);

typedef struct {
  const char *name;            /* for messages and emitted files (the kernel's name) */
  const char *key;             /* cache key text, e.g. the kernel's IR; NULL: not cached */
  size_t key_len;
  gc_build_module_fn build;
  void *arg;
} gc_compile_job;

typedef struct {
  const gc_host *host;         /* the target */
  int threads;                 /* workers; <= 1 compiles on the calling thread */
  const gc_objcache *cache;    /* NULL: no cache */
  bool want_ir, want_asm;      /* keep IR / assembly text of every job */
  gc_jit *jit;                 /* non-NULL: every object is added to it, in job order */
  FILE *notes;                 /* where a refused cache entry is told of (NULL: stderr) */
} gc_jobs_options;

typedef struct {
  char *object;                /* the ELF object */
  size_t object_len;
  char *ir_text, *asm_text;    /* NULL unless wanted */
  bool from_cache;             /* object loaded from the cache, nothing built */
} gc_compiled;

typedef struct {
  int compiled;                /* jobs built and compiled */
  int from_cache;              /* jobs loaded from the cache */
  int cache_store_failures;    /* compiled objects the cache could not keep */
  int cache_refused;           /* cache entries the JIT refused (then compiled) */
  double seconds;              /* wall time of the whole call */
} gc_compile_stats;

/* Compiles jobs[0..n) into out[0..n) (zeroed first).  0 when every job
 * succeeded; otherwise -1 with "kernel NAME: <why>" of the first failing
 * job in job order, every out[i] freed and emptied.  After a failure no
 * further job is started.  stats may be NULL. */
int gc_compile_jobs(const gc_compile_job *jobs, int n, const gc_jobs_options *o,
                    gc_compiled *out, gc_compile_stats *stats, gc_diag *d);

/* Frees the buffers of out[0..n) and empties them. */
void gc_compiled_free(gc_compiled *out, int n);

#endif
