/* The llvm backend: each kernel of the program's graph through the loop
 * IR's stages (codegen/driver.h: lowered, split, tiled for the host), emitted as LLVM IR
 * (emit.c), compiled at O3 in parallel through the object cache
 * (compile.c) and linked by the JIT; a run calls each kernel's steps in
 * order, parallel loops and GEMMs shared out on the thread pool.
 *
 * Kernels: the fused kernels when the graph has them (nodes with the same
 * kernel id), else every node that computes something is its own kernel.
 * A collective (all_reduce, ...) is a kernel of its own with no code: the
 * runtime runs it between the kernels, through the program's communicator
 * (backends/runtime/comm.h), on its operand's stored value.
 * Constants, iota and rand_uniform are computed where they are used.
 * Intermediate values live in one arena at the offsets the plan pass wrote
 * (kernels are gc_live's steps, as plan counts them); params and inputs are
 * read in their slots. */
#include "backends/llvm/machine.h"
#include "backends/llvm/jobs.h"
#include "backends/llvm/emit.h"
#include "backends/llvm/gemm.h"
#include "backends/llvm/jit.h"
#include "backends/llvm/call_kernel.h"
#include "backends/runtime/comm.h"
#include "base/alloc.h"
#include "backends/runtime/pool.h"
#include "backends/runtime/program.h"
#include "codegen/driver.h"
#include "passes/pass.h"
#include "ir/uses.h"
#include "ir/live.h"
#include "base/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

enum { MAX_STEPS = 16 };

typedef struct {
  gc_loop_fn *fn;             /* NULL for a collective */
  gc_llvm_call *call;         /* a buffer call's site (call_kernel.h) */
  int call_node;
  int collective;             /* a collective's node + 1 (run by the runtime, no code), 0 */
  int *buffer_nodes;          /* loop buffer -> graph node */
  void **bufs;                /* the buffers' addresses for a run */
  int n_steps;
  gc_kernel_step steps[MAX_STEPS];
  void *fns[MAX_STEPS][2];    /* step fn, or GEMM ukr + epi */
  int64_t work;               /* elements read and written: small kernels run on one thread */
  /* profile */
  const char *label;          /* a label of its nodes */
  int display;                /* its number, k<display> in dumps and profiles */
  double flops, bytes;        /* per run */
  double seconds;             /* summed over runs */
  int64_t runs;
} kernel;

typedef struct {
  gc_host host;
  gc_pool *pool;
  gc_jit *jit;
  int n_kernels;
  kernel *kernels;
  char *arena;
  size_t arena_bytes;
  void **value;               /* node -> address (arena or slot), NULL for generated values */
  int *into;                  /* node -> the param slot it is written into in place, -1 */
  void **scratch;             /* per worker, for GEMMs */
  int64_t err[2];
  bool profile;
  int compiled, cached, unique;   /* kernels compiled now, loaded from the cache, distinct */
} llvm_state;

/* ---- kernels of the graph -------------------------------------------------- */

static bool bound(const gc_graph *g, int id) {
  for (int i = 0; i < g->n_outputs; i++)
    if (g->outputs[i].node == id) return true;
  for (int i = 0; i < g->n_updates; i++)
    if (g->updates[i].node == id) return true;
  return false;
}

/* The kernels, in execution order: gc_live's steps (a fused kernel, or a
 * node outside kernels that computes something); kernel k's nodes are
 * nodes[first[k] .. first[k+1]). */
static int kernels_of(const gc_graph *g, int *nodes, int *first, int *n_kernels, gc_diag *d) {
  gc_uses u;
  gc_live l;
  if (gc_uses_init(&u, g, d)) return -1;
  if (gc_live_init(&l, g, &u, d)) return gc_uses_free(&u), -1;
  gc_live_steps(&l, g, nodes, first);
  *n_kernels = l.n_steps;
  gc_live_free(&l);
  gc_uses_free(&u);
  return 0;
}

/* ---- compiling ---------------------------------------------------------------- */

static LLVMModuleRef build_module(LLVMContextRef ctx, void *arg, gc_diag *d);

typedef struct {
  const gc_loop_fn *fn;
  const gc_host *host;
} job_arg;

static LLVMModuleRef build_module(LLVMContextRef ctx, void *arg, gc_diag *d) {
  job_arg *a = arg;
  return gc_emit_loop_fn(ctx, a->fn, a->host, d);
}

static void release(void *state) {
  llvm_state *s = state;
  if (!s) return;
  for (int k = 0; k < s->n_kernels; k++) {
    gc_llvm_call_free(s->kernels[k].call);
    gc_loop_free(s->kernels[k].fn);
    free(s->kernels[k].buffer_nodes);
    free(s->kernels[k].bufs);
  }
  free(s->kernels);
  gc_jit_free(s->jit);
  if (s->scratch)
    for (int w = 0; w < gc_pool_threads(s->pool); w++) gc_free(s->scratch[w]);
  free(s->scratch);
  gc_pool_free(s->pool);
  gc_free(s->arena);
  free(s->value);
  free(s->into);
  free(s);
}

/* Which written buffer of a kernel is stored over one it reads, as the
 * plan wrote it in the IR: an update into its param (into="P"), or a result
 * over a dying operand (over=%x; not when the result is bound to an output:
 * it is then computed in the output's slot).  The plan allows both only
 * where the kernel reads the shared value at the elements it writes, so the
 * emitter may hand both the same pointer (and LLVM then sees a distance of
 * 0, not a possible overlap). */
static void share_buffers(const gc_graph *g, kernel *kn) {
  gc_loop_fn *f = kn->fn;
  for (int b = 0; b < f->n_buffers; b++) {
    gc_loop_buffer *w = &f->buffers[b];
    if (!w->written || w->local) continue;   /* a local buffer has no node */
    int vn = kn->buffer_nodes[b];
    const gc_node *v = g->nodes[vn];
    int over = v->into ? gc_graph_find_param(g, v->into) : bound(g, vn) ? -1 : gc_node_over(v);
    for (int r = 0; r < f->n_buffers && over >= 0 && w->shares < 0; r++) {
      const gc_loop_buffer *rb = &f->buffers[r];
      if (!rb->written && !rb->local && kn->buffer_nodes[r] == over && rb->elements == w->elements && rb->dtype == w->dtype)
        w->shares = r;
    }
  }
}

typedef struct {
  const gc_graph *g;
  kernel *kn;
} lowered_arg;

/* After lower: the kernel's function, its buffers marked as the plan shares them. */
static void lowered(gc_codegen_kernel *ck, void *arg) {
  lowered_arg *a = arg;
  a->kn->fn = ck->fn;
  a->kn->buffer_nodes = ck->buffer_nodes;
  share_buffers(a->g, a->kn);
}

/* Kernel k through the loop IR's stages. */
static int lower_one(llvm_state *s, const gc_graph *g, int k, const int *nodes, const int *first, const gc_uses *uses,
                     bool *inside, int *buffer, const gc_pass_options *po, gc_codegen_times *times, gc_diag *d) {
  kernel *kn = &s->kernels[k];
  char name[64];
  snprintf(name, sizeof name, "k%d", k);
  kn->display = k;
  for (int i = first[k]; i < first[k + 1]; i++) {
    const gc_node *nd = g->nodes[nodes[i]];
    if (!kn->label && nd->label) kn->label = nd->label;
    kn->flops += gc_node_flops(g, nodes[i]);
  }
  if (first[k + 1] - first[k] == 1 && gc_op_is_collective(g->nodes[nodes[first[k]]]->op)) {
    kn->collective = nodes[first[k]] + 1;
    kn->bytes = 2.0 * (double)gc_node_bytes(g->nodes[nodes[first[k]]]);
    return 0;
  }
  const gc_node *only = g->nodes[nodes[first[k]]];
  bool call_kernel = first[k + 1] - first[k] == 1 && only->op == GC_OP_CALL && !gc_node_is_fusible_call(only);
  if (call_kernel && !(kn->call = gc_llvm_call_new(g, kn->call_node = nodes[first[k]], d))) return -1;
  lowered_arg arg = {g, kn};
  gc_codegen_kernel ck = {.ref = {g, nodes + first[k], first[k + 1] - first[k], name, uses, inside, buffer},
                          .target = {s->host.vector_bits, s->host.l1d_bytes, s->host.l2_bytes},
                          .display = k, .label = kn->label, .lowered = lowered, .arg = &arg};
  int rc;
  if (call_kernel) {   /* no loops to lower: its function is made here */
    kn->fn = gc_llvm_call_loop_fn(g, kn->call_node, kn->call, name, &kn->buffer_nodes, d);
    rc = kn->fn ? 0 : -1;
  } else {
    rc = gc_codegen_run(&ck, po, times, d);
    kn->fn = ck.fn;
    kn->buffer_nodes = ck.buffer_nodes;
  }
  if (rc) return -1;
  /* the buffers' addresses, then the functions it calls (call_kernel.h) */
  if (!(kn->bufs = calloc((size_t)kn->fn->n_buffers + (size_t)kn->fn->n_callees + 1, sizeof *kn->bufs)))
    return gc_diag_set(d, "out of memory");
  if (gc_llvm_callees_bind(g, kn->fn, kn->bufs + kn->fn->n_buffers, d)) return -1;
  if (kn->call) kn->bufs[kn->fn->n_buffers] = kn->call;   /* its one callee: the site's entry */
  kn->n_steps = gc_kernel_steps(kn->fn, kn->steps, MAX_STEPS);
  if (kn->n_steps < 0) return gc_diag_set(d, "kernel %s has more than %d steps", name, MAX_STEPS);
  for (int b = 0; b < kn->fn->n_buffers; b++) {
    const gc_loop_buffer *lb = &kn->fn->buffers[b];
    if (lb->local) continue;
    kn->work += lb->elements;   /* reads too: a sum of many reads writes few */
    kn->bytes += (double)lb->elements * (double)gc_dtype_size(lb->dtype);
  }
  return 0;
}

/* Every kernel through the loop IR's stages. */
static int lower_all(llvm_state *s, const gc_graph *g, const int *nodes, const int *first,
                     const gc_pass_options *po, gc_diag *d) {
  gc_uses u;
  if (gc_uses_init(&u, g, d)) return -1;
  /* one scratch for every kernel's lowering: each kernel costs its size */
  bool *inside = calloc((size_t)g->n_nodes + 1, sizeof *inside);
  int *buffer = malloc(sizeof *buffer * ((size_t)g->n_nodes + 1));
  if (!inside || !buffer) return free(inside), free(buffer), gc_uses_free(&u), gc_diag_set(d, "out of memory");
  for (int i = 0; i < g->n_nodes; i++) buffer[i] = -1;
  int rc = 0;
  gc_codegen_times times = {{0}};
  for (int k = 0; k < s->n_kernels && !rc; k++) rc = lower_one(s, g, k, nodes, first, &u, inside, buffer, po, &times, d);
  if (rc == 0) gc_codegen_report(&times, po);
  free(inside), free(buffer);
  gc_uses_free(&u);
  return rc;
}

/* code followed by the unoptimised LLVM IR the loop function emits to,
 * its values unnamed: the emitter names them after graph nodes (%464), which
 * differ between kernels alike (a model's layers, the same layer in a model
 * with more of them), so the key would too and a warm cache would miss. */
static char *key_text(const char *code, const gc_loop_fn *fn, const gc_host *host) {
  LLVMContextRef ctx = LLVMContextCreate();
  LLVMContextSetDiscardValueNames(ctx, 1);
  gc_diag d;
  LLVMModuleRef m = gc_emit_loop_fn(ctx, fn, host, &d);
  char *ir = m ? LLVMPrintModuleToString(m) : NULL;
  size_t a = strlen(code), b = ir ? strlen(ir) : 0;
  char *key = malloc(a + b + 1);
  if (key) {
    memcpy(key, code, a);
    if (ir) memcpy(key + a, ir, b);
    key[a + b] = 0;
  }
  if (ir) LLVMDisposeMessage(ir);
  if (m) LLVMDisposeModule(m);
  LLVMContextDispose(ctx);
  return key;
}

/* Compile every kernel (in parallel, through the cache) and link it.  A
 * kernel's functions are named after its code (XXH3 of its loop IR without
 * names), so kernels that are alike — a model's layers — share one
 * object, compiled once. */
/* DIR/kernels.txt: which file holds kernel kN (files are named after their
 * code, which kernels alike share), with its first label. */
static int write_kernel_index(const llvm_state *s, const char *dir, gc_diag *d) {
  size_t cap = 64, len = 0;
  for (int k = 0; k < s->n_kernels; k++) cap += 64 + (s->kernels[k].label ? strlen(s->kernels[k].label) : 0);
  char *text = malloc(cap);
  if (!text) return gc_diag_set(d, "out of memory");
  len += (size_t)snprintf(text, cap, "# kernel, file, label\n");
  for (int k = 0; k < s->n_kernels; k++) {
    const kernel *kn = &s->kernels[k];
    len += (size_t)snprintf(text + len, cap - len, "k%d %s %s\n", kn->display,
                            kn->fn ? kn->fn->name : kn->call ? "call" : "(collective)",
                            kn->label ? kn->label : "");
  }
  int rc = gc_machine_write_text(dir, "kernels", "txt", text, d);
  free(text);
  return rc;
}

static int compile_all(llvm_state *s, int threads, const gc_llvm_options *lo, gc_diag *d) {
  int n = s->n_kernels, n_jobs = 0;
  gc_compile_job *jobs = calloc((size_t)n + 1, sizeof *jobs);
  job_arg *args = calloc((size_t)n + 1, sizeof *args);
  char **keys = calloc((size_t)n + 1, sizeof *keys);
  uint64_t *hash = calloc((size_t)n + 1, sizeof *hash);
  gc_compiled *out = calloc((size_t)n + 1, sizeof *out);
  int rc = jobs && args && keys && hash && out ? 0 : gc_diag_set(d, "out of memory");
  for (int k = 0; rc == 0 && k < n; k++) {
    kernel *kn = &s->kernels[k];
    if (!kn->fn) continue;   /* a call kernel or a collective: nothing to compile */
    char *code = gc_loop_print_code(kn->fn);
    if (!code) {
      rc = gc_diag_set(d, "out of memory");
      break;
    }
    hash[k] = XXH3_64bits(code, strlen(code));
    char name[32];
    snprintf(name, sizeof name, "g%016llx", (unsigned long long)hash[k]);
    kn->fn->name = gc_arena_strdup(kn->fn->arena, name);
    kn->n_steps = gc_kernel_steps(kn->fn, kn->steps, MAX_STEPS);   /* step names follow the name */
    bool seen = false;
    for (int j = 0; j < n_jobs && !seen; j++) seen = args[j].fn->name && strcmp(args[j].fn->name, name) == 0;
    if (seen) {
      free(code);
      continue;
    }
    args[n_jobs] = (job_arg){kn->fn, &s->host};
    /* the cache key: the loop IR and the LLVM IR it becomes (so a change
     * of the emitter or the math never loads a stale object) */
    keys[n_jobs] = key_text(code, kn->fn, &s->host);
    free(code);
    if (!keys[n_jobs]) {
      rc = gc_diag_set(d, "out of memory");
      break;
    }
    jobs[n_jobs] = (gc_compile_job){kn->fn->name, keys[n_jobs], strlen(keys[n_jobs]), build_module, &args[n_jobs]};
    n_jobs++;
  }
  gc_objcache cache;
  gc_objcache_open(&cache, &s->host, getenv("GC_NO_CACHE") != NULL || lo->no_cache);
  gc_jobs_options co = {.host = &s->host, .threads = threads, .cache = &cache,
                        .want_ir = lo->emit_llvm, .want_asm = lo->emit_asm, .jit = s->jit};
  gc_compile_stats stats;
  if (rc == 0) rc = gc_compile_jobs(jobs, n_jobs, &co, out, &stats, d);
  for (int k = 0; rc == 0 && k < n_jobs; k++) {
    if (lo->emit_llvm && out[k].ir_text) rc = gc_machine_write_text(lo->emit_llvm, jobs[k].name, "ll", out[k].ir_text, d);
    if (rc == 0 && lo->emit_asm && out[k].asm_text)
      rc = gc_machine_write_text(lo->emit_asm, jobs[k].name, "s", out[k].asm_text, d);
  }
  if (rc == 0 && lo->emit_llvm) rc = write_kernel_index(s, lo->emit_llvm, d);
  if (rc == 0 && lo->emit_asm) rc = write_kernel_index(s, lo->emit_asm, d);
  if (rc == 0) {
    s->compiled = stats.compiled;
    s->cached = stats.from_cache;
    s->unique = n_jobs;
  }
  (void)s->unique;
  for (int k = 0; rc == 0 && k < n; k++) {
    kernel *kn = &s->kernels[k];
    for (int i = 0; rc == 0 && i < kn->n_steps; i++) {
      char name[128];
      if (kn->steps[i].kind == GC_STEP_GEMM) {
        snprintf(name, sizeof name, "%s.ukr", kn->steps[i].name);
        if (!(kn->fns[i][0] = gc_jit_lookup(s->jit, name, d))) rc = -1;
        snprintf(name, sizeof name, "%s.epi", kn->steps[i].name);
        if (rc == 0 && !(kn->fns[i][1] = gc_jit_lookup(s->jit, name, d))) rc = -1;
      } else if (!(kn->fns[i][0] = gc_jit_lookup(s->jit, kn->steps[i].name, d))) {
        rc = -1;
      }
    }
  }
  if (out) gc_compiled_free(out, n_jobs);
  for (int k = 0; keys && k < n_jobs; k++) free(keys[k]);
  free(keys), free(out), free(args), free(jobs), free(hash);
  return rc;
}

/* The arena, as the plan pass placed the values (gc_compile always runs
 * it): each stored value of a kernel at its offset, or in its param's slot
 * (into=). */
static int place(llvm_state *s, gc_program *p, gc_diag *d) {
  const gc_graph *g = p->graph;
  int n = g->n_nodes, rc = 0;
  bool *stored = calloc((size_t)n + 1, sizeof *stored);
  if (!stored) return gc_diag_set(d, "out of memory");
  s->arena_bytes = 0;
  for (int k = 0; k < s->n_kernels && rc == 0; k++) {
    int c = s->kernels[k].collective - 1;
    if (c >= 0) {   /* a collective stores its value (its operand is another kernel's) */
      const gc_node *nd = g->nodes[c];
      stored[c] = true;
      if (!nd->planned)
        rc = gc_diag_set(d, "node %%%d is stored but has no place: the graph has no plan (gc_compile runs plan)", c);
      size_t end = (size_t)nd->offset + (size_t)gc_node_bytes(nd);
      if (rc == 0 && !nd->into && end > s->arena_bytes) s->arena_bytes = end;
      continue;
    }
    for (int b = 0; b < s->kernels[k].fn->n_buffers && rc == 0; b++) {
      const gc_loop_buffer *lb = &s->kernels[k].fn->buffers[b];
      if (lb->local || !lb->written) continue;   /* a local buffer has no node */
      int node = s->kernels[k].buffer_nodes[b];
      const gc_node *nd = g->nodes[node];
      stored[node] = true;
      if (!nd->planned)
        rc = gc_diag_set(d, "node %%%d is stored but has no place: the graph has no plan (gc_compile runs plan)", node);
      size_t end = (size_t)nd->offset + (size_t)lb->elements * gc_dtype_size(lb->dtype);
      if (rc == 0 && !nd->into && end > s->arena_bytes) s->arena_bytes = end;
    }
  }
  if (rc == 0 && !(s->arena = gc_alloc_uninit(s->arena_bytes ? s->arena_bytes : 64)))
    rc = gc_diag_set(d, "out of memory for the arena");
  for (int i = 0; rc == 0 && i < n; i++) {
    s->value[i] = stored[i] && !g->nodes[i]->into ? s->arena + g->nodes[i]->offset : NULL;
    /* a value an output binds is computed straight into the output's slot
     * (no copy when the run ends) */
    for (int o = 0; s->value[i] && o < p->n_outputs; o++)
      if (p->outputs[o].node == i) {
        s->value[i] = p->outputs[o].tensor.data;
        break;
      }
    s->into[i] = -1;
    if (stored[i] && g->nodes[i]->into) {
      int param = gc_graph_find_param(g, g->nodes[i]->into);
      s->into[i] = param >= 0 ? p->slot_of_node[param] : -1;
      if (s->into[i] < 0) rc = gc_diag_set(d, "node %%%d: into=\"%s\" names no param", i, g->nodes[i]->into);
    }
  }
  p->stats.work_bytes = s->arena_bytes;
  free(stored);
  return rc;
}

static int compile(gc_program *p, const gc_compile_options *o, void **state, gc_diag *d) {
  const gc_graph *g = p->graph;
  int n = g->n_nodes;
  llvm_state *s = calloc(1, sizeof *s);
  if (!s) return gc_diag_set(d, "out of memory");
  *state = s;
  int *nodes = malloc(sizeof(int) * ((size_t)n + 1));
  int *first = malloc(sizeof(int) * ((size_t)n + 2));
  s->value = calloc((size_t)n + 1, sizeof *s->value);
  s->into = malloc(sizeof *s->into * ((size_t)n + 1));
  s->profile = o->profile;
  int rc = nodes && first && s->value && s->into ? 0 : gc_diag_set(d, "out of memory");
  if (rc == 0) rc = gc_host_detect(&s->host, d);
  if (rc == 0 && !(s->pool = gc_pool_new(o->threads))) rc = gc_diag_set(d, "cannot start the thread pool");
  if (rc == 0 && !(s->jit = gc_jit_new(d))) rc = -1;
  if (rc == 0 && (rc = kernels_of(g, nodes, first, &s->n_kernels, d)) == 0) {
    if (!(s->kernels = calloc((size_t)s->n_kernels + 1, sizeof *s->kernels))) rc = gc_diag_set(d, "out of memory");
  }
  const gc_pass_options *po = o->pass_options;
  double t0 = gc_now_seconds();
  if (rc == 0) rc = lower_all(s, g, nodes, first, po, d);
  double t1 = gc_now_seconds();
  if (rc == 0) rc = compile_all(s, gc_pool_threads(s->pool), &o->llvm, d);
  double t2 = gc_now_seconds();
  if (rc == 0) rc = place(s, p, d);
  if (po && po->time_passes)
    fprintf(po->out ? po->out : stderr, "time-passes: %-10s %9.3f ms\ntime-passes: %-10s %9.3f ms (%d kernels: %d compiled, %d cached)\ntime-passes: %-10s %9.3f ms\n",
            "codegen", 1e3 * (t1 - t0), "llvm", 1e3 * (t2 - t1), s->n_kernels, s->compiled, s->cached, "arena",
            1e3 * (gc_now_seconds() - t2));
  p->stats.kernels = s->n_kernels;
  p->stats.compiled = s->compiled;
  p->stats.cached = s->cached;
  /* GEMM scratch, per worker */
  size_t scratch = 0;
  for (int k = 0; rc == 0 && k < s->n_kernels; k++)
    for (int i = 0; i < s->kernels[k].n_steps; i++)
      if (s->kernels[k].steps[i].kind == GC_STEP_GEMM && gc_gemm_scratch_bytes(s->kernels[k].steps[i].gemm) > scratch)
        scratch = gc_gemm_scratch_bytes(s->kernels[k].steps[i].gemm);
  if (rc == 0 && scratch) {
    int w = gc_pool_threads(s->pool);
    if (!(s->scratch = calloc((size_t)w, sizeof *s->scratch))) rc = gc_diag_set(d, "out of memory");
    for (int i = 0; rc == 0 && i < w; i++)
      if (!(s->scratch[i] = gc_alloc_uninit(scratch))) rc = gc_diag_set(d, "out of memory");
  }
  free(nodes), free(first);
  return rc;
}

/* ---- running ------------------------------------------------------------------- */

typedef struct {
  gc_step_fn *fn;
  void **bufs;
  int64_t extent, chunk;
  int64_t *err;
} parallel;

static void run_chunk(void *ctx, int64_t t, int worker) {
  parallel *par = ctx;
  (void)worker;
  int64_t lo = t * par->chunk, hi = lo + par->chunk < par->extent ? lo + par->chunk : par->extent;
  par->fn(par->bufs, lo, hi, par->err);
}

/* The address of node id's value now (slots may move between runs). */
static void *address(llvm_state *s, gc_program *p, int id) {
  gc_slot *slot = gc_program_source_slot(p, id);
  if (slot) return slot->tensor.data;
  return s->into[id] >= 0 ? p->params[s->into[id]].tensor.data : s->value[id];
}

static int error_message(const kernel *kn, const int64_t *err, gc_diag *d) {
  if (kn->call) return gc_llvm_call_error(kn->call, d);   /* the callee's message */
  int code = (int)err[0] - 1;
  const char *fmt = code >= 0 && code < kn->fn->n_errors ? kn->fn->errors[code] : "kernel error %lld";
  char msg[900];
  snprintf(msg, sizeof msg, fmt, (long long)err[1]);
  return gc_diag_set(d, "%s", msg);
}

/* Updates take effect together: one whose value is a param an earlier
 * update writes ("update a = %b; update b = %a") reads that param's old
 * value, copied aside first. */
static bool reads_updated_param(llvm_state *s, gc_program *p, int i) {
  void *from = address(s, p, p->graph->updates[i].node);
  for (int j = 0; j < i && from; j++)
    if (p->params[p->update_param[j]].tensor.data == from) return true;
  return false;
}

static int write_updates(llvm_state *s, gc_program *p, gc_diag *d) {
  const gc_graph *g = p->graph;
  bool copies = false;   /* the usual case: none, and nothing is allocated */
  for (int i = 0; i < p->n_updates && !copies; i++) copies = reads_updated_param(s, p, i);
  void **old = copies ? calloc((size_t)p->n_updates + 1, sizeof *old) : NULL;
  if (copies && !old) return gc_diag_set(d, "out of memory");
  int rc = 0;
  for (int i = 0; copies && i < p->n_updates && rc == 0; i++) {
    if (!reads_updated_param(s, p, i)) continue;
    void *from = address(s, p, g->updates[i].node);
    size_t bytes = gc_tensor_bytes(&p->params[p->update_param[i]].tensor);
    if (!(old[i] = malloc(bytes ? bytes : 1))) rc = gc_diag_set(d, "out of memory");
    else memcpy(old[i], from, bytes);
  }
  for (int i = 0; i < p->n_updates && rc == 0; i++) {
    gc_slot *to = &p->params[p->update_param[i]];
    void *from = old && old[i] ? old[i] : address(s, p, g->updates[i].node);
    if (from && from != to->tensor.data) memcpy(to->tensor.data, from, gc_tensor_bytes(&to->tensor));
  }
  for (int i = 0; old && i < p->n_updates; i++) free(old[i]);
  free(old);
  return rc;
}

/* Collective node c on its operand's value, through the communicator. */
static int run_collective(llvm_state *s, gc_program *p, int c, gc_diag *d) {
  const gc_node *n = p->graph->nodes[c];
  void *in = address(s, p, n->in[0]), *out = address(s, p, c);
  if (!in || !out)
    return gc_diag_set(d, "%s %%%d: its operand %%%d has no stored value", gc_op_name(n->op), c, n->in[0]);
  gc_diag e = {0};
  if (gc_comm_run_node(p->comm, n, &p->graph->nodes[n->in[0]]->type, in, out, &e) == 0) return 0;
  if (n->label) return gc_diag_set(d, "%s %%%d (\"%s\"): %s", gc_op_name(n->op), c, n->label, e.msg);
  return gc_diag_set(d, "%s %%%d: %s", gc_op_name(n->op), c, e.msg);
}

/* --check-nans: kernel k's results scanned (backends/runtime/nan_check.h) */
typedef struct {
  llvm_state *s;
  gc_program *p;
} run_ctx;

static void *value_now(void *ctx, int node) { return address(((run_ctx *)ctx)->s, ((run_ctx *)ctx)->p, node); }

static int check_kernel(llvm_state *s, gc_program *p, int k, gc_diag *d) {
  const kernel *kn = &s->kernels[k];
  int last = -1, lo, hi;
  for (int b = 0; b < kn->fn->n_buffers; b++)
    if (!kn->fn->buffers[b].local && kn->buffer_nodes[b] > last) last = kn->buffer_nodes[b];
  gc_nan_kernel_span(p->graph, last, &lo, &hi);
  run_ctx r = {s, p};
  return gc_nan_check_kernel(p, kn->display, lo, hi, value_now, &r, d);
}

static int run(gc_program *p, void *state, gc_diag *d) {
  llvm_state *s = state;
  int threads = gc_pool_threads(s->pool);
  s->err[0] = s->err[1] = 0;
  for (int k = 0; k < s->n_kernels; k++) {
    kernel *kn = &s->kernels[k];
    double t0 = s->profile ? gc_now_seconds() : 0;
    if (kn->collective) {
      if (run_collective(s, p, kn->collective - 1, d)) return -1;
      if (s->profile) kn->seconds += gc_now_seconds() - t0, kn->runs++;
      continue;
    }
    for (int b = 0; kn->fn && b < kn->fn->n_buffers; b++)
      if (!kn->fn->buffers[b].local) kn->bufs[b] = address(s, p, kn->buffer_nodes[b]);
    for (int i = 0; i < kn->n_steps; i++) {
      const gc_kernel_step *st = &kn->steps[i];
      if (st->kind == GC_STEP_GEMM) {
        gc_gemm_run(st->gemm, kn->bufs, (gc_ukr_fn *)kn->fns[i][0], (gc_epi_fn *)kn->fns[i][1], s->pool,
                    s->scratch, s->err);
      } else if (st->kind == GC_STEP_PARALLEL && threads > 1 && kn->work >= 4096 && st->extent > 1) {
        int64_t tasks = st->extent < 8 * threads ? st->extent : 8 * threads;
        parallel par = {(gc_step_fn *)kn->fns[i][0], kn->bufs, st->extent, (st->extent + tasks - 1) / tasks, s->err};
        gc_pool_run(s->pool, (st->extent + par.chunk - 1) / par.chunk, run_chunk, &par);
      } else {
        ((gc_step_fn *)kn->fns[i][0])(kn->bufs, 0, st->kind == GC_STEP_PARALLEL ? st->extent : 0, s->err);
      }
      if (s->err[0]) return error_message(kn, s->err, d);
    }
    if (p->nan_check && check_kernel(s, p, k, d)) return -1;
    if (s->profile) {
      kn->seconds += gc_now_seconds() - t0;
      kn->runs++;
    }
  }
  for (int i = 0; i < p->n_outputs; i++) {
    void *from = address(s, p, p->outputs[i].node);
    if (from && from != p->outputs[i].tensor.data) memcpy(p->outputs[i].tensor.data, from, gc_tensor_bytes(&p->outputs[i].tensor));
  }
  return write_updates(s, p, d);
}

static int by_time(const void *a, const void *b) {
  const kernel *x = *(const kernel *const *)a, *y = *(const kernel *const *)b;
  return x->seconds < y->seconds ? 1 : x->seconds > y->seconds ? -1 : 0;
}

static void profile(const gc_program *p, const void *state, FILE *out, int top) {
  llvm_state *s = (llvm_state *)state;
  (void)p;
  if (!out) {   /* reset */
    for (int k = 0; k < s->n_kernels; k++) s->kernels[k].seconds = 0, s->kernels[k].runs = 0;
    return;
  }
  const kernel **order = malloc(sizeof *order * ((size_t)s->n_kernels + 1));
  if (!order) return;
  double total = 0;
  int64_t runs = 0;
  for (int k = 0; k < s->n_kernels; k++) {
    order[k] = &s->kernels[k];
    total += s->kernels[k].seconds;
    if (s->kernels[k].runs > runs) runs = s->kernels[k].runs;
  }
  if (!runs) {
    fprintf(out, "profile: no runs timed (compile with profiling on)\n");
    free(order);
    return;
  }
  qsort(order, (size_t)s->n_kernels, sizeof *order, by_time);
  fprintf(out, "profile: %d kernels, %.3f ms per run (%lld runs)\n", s->n_kernels, 1e3 * total / (double)runs,
          (long long)runs);
  fprintf(out, "%8s %6s %9s %9s %8s  %-6s %s\n", "ms/run", "share", "MFLOP", "GFLOP/s", "GB/s", "kernel", "label");
  for (int i = 0; i < s->n_kernels && i < top; i++) {
    const kernel *kn = order[i];
    double sec = kn->seconds / (double)(kn->runs ? kn->runs : 1);
    char name[16];
    snprintf(name, sizeof name, "k%d", kn->display);
    fprintf(out, "%8.3f %5.1f%% %9.2f %9.2f %8.2f  %-6s %s\n", 1e3 * sec, 100 * kn->seconds / total,
            kn->flops / 1e6, sec > 0 ? kn->flops / sec / 1e9 : 0, sec > 0 ? kn->bytes / sec / 1e9 : 0,
            name, kn->label ? kn->label : "");
  }
  free(order);
}

const gc_backend gc_backend_llvm = {
    .name = "llvm",
    .description = "kernels lowered to loops, compiled by LLVM for this CPU, run on a thread pool",
    .compile = compile,
    .run = run,
    .release = release,
    .profile = profile,
};
