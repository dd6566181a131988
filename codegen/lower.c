/* Lowering a kernel to a loop function (see lower.h): the three kernel
 * shapes — loop (by rows or by columns), dot, index. */
#include "codegen/lower_internal.h"
#include "codegen/driver.h"
#include "ir/uses.h"
#include "ir/view.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- loops ---------------------------------------------------------------- */

/* for %iv = 0 to hi (a value no larger than `bound`, 0: unknown; a
 * constant is its own bound), entered: L->blk is its body. */
static int open_loop_below(lowerer *L, int hi, int64_t bound, bool parallel) {
  int loop = gc_loop_for(L->f, L->blk, lw_const(L, 0), hi, 1, NULL, 0, NULL);
  L->f->insts[loop].parallel = parallel;
  L->blk = loop;
  L->depth++;
  int64_t extent = bound;
  gc_loop_is_index_const(L->f, hi, &extent);
  lw_note_var(L, gc_loop_iv(L->f, loop), extent);
  return gc_loop_iv(L->f, loop);
}

static int open_loop(lowerer *L, int hi, bool parallel) { return open_loop_below(L, hi, 0, parallel); }

/* Leave the loop whose body is L->blk, back to `outer`. */
static void close_loop(lowerer *L, int outer) {
  L->blk = outer;
  L->depth--;
  lw_memo_pop(L);
}

static int numel(const gc_type *t) { return (int)gc_type_numel_unchecked(t); }

/* The shape F with the axes marked in `drop` removed. */
static gc_type without(const gc_type *F, const bool *drop) {
  gc_type t = {.dtype = F->dtype};
  for (int k = 0; k < F->rank; k++)
    if (!drop[k]) t.dims[t.rank++] = F->dims[k];
  return t;
}

/* Results are stored after all of them are computed, so that a result
 * written over a buffer the kernel reads (an update into its param, an
 * elementwise result in place) never changes what the others read. */
typedef struct {
  int n;
  int node[64], index[64], value[64];
} pending_stores;

static void compute(lowerer *L, pending_stores *ps, int id, const int *c) {
  const gc_type *t = &L->g->nodes[id]->type;
  int64_t s[GC_MAX_RANK];
  gc_row_major_strides(t, s);
  if (ps->n == 64) {
    lw_fail(L, "more than 64 results");
    return;
  }
  ps->node[ps->n] = id;
  ps->value[ps->n] = lw_eval(L, id, c);
  ps->index[ps->n++] = lw_linear(L, c, s, t->rank);
}

static void store_all(lowerer *L, pending_stores *ps) {
  for (int i = 0; i < ps->n; i++)
    gc_loop_store(L->f, L->blk, lw_buffer(L, ps->node[i], true), ps->index[i], ps->value[i]);
  ps->n = 0;
}

/* ---- reductions ---------------------------------------------------------- */

typedef struct {
  gc_op op;
  gc_dtype dt;
  int n_iter;            /* 1, or 2 for argmax (value, index) */
} reduction;

static reduction reduction_of(const gc_graph *g, int r) {
  const gc_node *n = g->nodes[r];
  gc_dtype in = g->nodes[n->in[0]]->type.dtype;
  return (reduction){n->op, in, n->op == GC_OP_ARGMAX ? 2 : 1};
}

static int identity_of(lowerer *L, const reduction *r, int k) {
  if (k == 1) return lw_const(L, 0);   /* argmax's index */
  if (r->op == GC_OP_REDUCE_SUM) return gc_loop_const(L->f, L->blk, r->dt, 0);
  if (gc_dtype_is_float(r->dt)) return gc_loop_const(L->f, L->blk, r->dt, -INFINITY);
  return gc_loop_const(L->f, L->blk, r->dt, r->dt == GC_I32 ? (double)INT32_MIN : -0x1p63);
}

/* The accumulators after one more element v (at reduced index `index`). */
static void combine(lowerer *L, const reduction *r, const int *acc, int v, int index, int *out) {
  gc_loop_fn *f = L->f;
  if (r->op == GC_OP_REDUCE_SUM) {
    out[0] = gc_loop_op(f, L->blk, GC_OP_ADD, r->dt, (int[]){acc[0], v}, 2);
  } else if (r->op == GC_OP_REDUCE_MAX) {
    out[0] = gc_loop_op(f, L->blk, GC_OP_MAX, r->dt, (int[]){acc[0], v}, 2);
  } else {   /* argmax: the first maximum, a NaN counting as maximal */
    int take = gc_loop_op(f, L->blk, GC_OP_LT, GC_BOOL, (int[]){acc[0], v}, 2);
    if (gc_dtype_is_float(r->dt)) {
      int v_nan = gc_loop_op(f, L->blk, GC_OP_NE, GC_BOOL, (int[]){v, v}, 2);
      int best_nan = gc_loop_op(f, L->blk, GC_OP_NE, GC_BOOL, (int[]){acc[0], acc[0]}, 2);
      int f0 = gc_loop_const(f, L->blk, GC_BOOL, 0), t1 = gc_loop_const(f, L->blk, GC_BOOL, 1);
      int new_nan = gc_loop_op(f, L->blk, GC_OP_WHERE, GC_BOOL, (int[]){best_nan, f0, v_nan}, 3);
      take = gc_loop_op(f, L->blk, GC_OP_WHERE, GC_BOOL, (int[]){take, t1, new_nan}, 3);
      take = gc_loop_op(f, L->blk, GC_OP_WHERE, GC_BOOL, (int[]){best_nan, f0, take}, 3);
    }
    out[0] = gc_loop_op(f, L->blk, GC_OP_WHERE, r->dt, (int[]){take, v, acc[0]}, 3);
    out[1] = gc_loop_op(f, L->blk, GC_OP_WHERE, GC_I64, (int[]){take, index, acc[1]}, 3);
  }
}

/* The reduction node r over the axes marked in ra of F, at the outer
 * coordinates oc (F-rank; the reduced axes are ignored): its value (or
 * argmax's index), emitted as nested loops in L->blk. */
static int reduce_rows(lowerer *L, int r, const gc_type *F, const bool *ra, const int *oc, int store) {
  reduction red = reduction_of(L->g, r);
  int outer = L->blk, loops[GC_MAX_RANK], n_loops = 0;
  int fc[GC_MAX_RANK], acc[2];
  memcpy(fc, oc, sizeof(int) * (size_t)F->rank);
  for (int k = 0; k < red.n_iter; k++) acc[k] = identity_of(L, &red, k);
  gc_dtype dts[2] = {red.dt, GC_I64};
  int64_t rs[GC_MAX_RANK], s = 1;   /* row-major strides over the reduced axes (argmax) */
  for (int k = F->rank - 1; k >= 0; k--)
    if (ra[k]) rs[k] = s, s *= F->dims[k];
    else rs[k] = 0;
  for (int k = 0; k < F->rank; k++) {
    if (!ra[k]) continue;
    int loop = gc_loop_for(L->f, L->blk, lw_const(L, 0), lw_const(L, F->dims[k]), 1, acc, red.n_iter, dts);
    loops[n_loops++] = loop;
    L->blk = loop;
    L->depth++;
    fc[k] = gc_loop_iv(L->f, loop);
    lw_note_var(L, fc[k], F->dims[k]);
    for (int j = 0; j < red.n_iter; j++) acc[j] = gc_loop_iter(L->f, loop, j);
  }
  if (n_loops == 0) return lw_fail(L, "reduction %%%d over no axes", r);
  L->f->insts[loops[n_loops - 1]].reassoc = red.op != GC_OP_ARGMAX;
  int v = lw_eval(L, L->g->nodes[r]->in[0], fc), next[2];
  if (store >= 0) {   /* the operand is also a result: stored as it is summed */
    int64_t xs[GC_MAX_RANK];
    gc_row_major_strides(F, xs);
    gc_loop_store(L->f, L->blk, lw_buffer(L, store, true), lw_linear(L, fc, xs, F->rank), v);
  }
  combine(L, &red, acc, v, lw_linear(L, fc, rs, F->rank), next);
  for (int i = n_loops - 1; i >= 0; i--) {
    gc_loop_yield(L->f, loops[i], next);
    L->blk = i > 0 ? loops[i - 1] : outer;
    L->depth--;
    lw_memo_pop(L);
    for (int j = 0; j < red.n_iter; j++) next[j] = gc_loop_result(L->f, L->blk, loops[i], j);
  }
  return red.n_iter == 2 ? next[1] : next[0];
}

/* The reduction node r at its own coordinates c (keepdims or not): the
 * reduction loops emitted right here.  Used when r is read at coordinates
 * other than the kernel's rows (a small reduction feeding layout ops). */
int lw_reduce_at(lowerer *L, int r, const int *c) {
  const gc_node *n = L->g->nodes[r];
  const gc_type *F = &L->g->nodes[n->in[0]]->type;
  bool ra[GC_MAX_RANK] = {0};
  if (n->op == GC_OP_ARGMAX) ra[n->attrs.argmax.axis] = true;
  else for (int a = 0; a < n->attrs.reduce.axes.n; a++) ra[n->attrs.reduce.axes.v[a]] = true;
  int oc[GC_MAX_RANK], k = 0;
  bool keep = n->type.rank == F->rank;
  for (int a = 0; a < F->rank; a++) {
    oc[a] = ra[a] ? lw_const(L, 0) : c[keep ? a : k];
    if (!ra[a]) k++;
  }
  return reduce_rows(L, r, F, ra, oc, -1);
}

/* Coordinates of reduction r's own result at outer coordinates oc. */
static void reduced_coords(lowerer *L, int r, const gc_type *F, const bool *ra, const int *oc, int *rc) {
  const gc_node *n = L->g->nodes[r];
  int k = 0;
  for (int a = 0; a < F->rank; a++) {
    if (!ra[a]) rc[k++] = oc[a];
    else if (n->type.rank == F->rank) rc[k++] = lw_const(L, 0);   /* keepdims */
  }
}

/* ---- loop kernels ---------------------------------------------------------- */

typedef struct {
  const int *results, *reduces;
  int n_results, n_reduces;
  gc_type F;
  bool ra[GC_MAX_RANK];
  bool outer_level[64];   /* per result */
} loop_kernel;

/* Whether reduce r's operand reads another reduction of the kernel. */
static bool reads_reduction(const lowerer *L, int id, int depth) {
  const gc_node *n = L->g->nodes[id];
  if (!L->inside[id] || depth > 64) return false;
  for (int k = 0; k < n->n_in; k++) {
    int o = n->in[k];
    if (L->inside[o] && gc_op_kind(L->g->nodes[o]->op) == GC_KIND_REDUCE) return true;
    if (reads_reduction(L, o, depth + 1)) return true;
  }
  return false;
}

static int shape_loop_kernel(lowerer *L, loop_kernel *k) {
  const gc_graph *g = L->g;
  memset(k->ra, 0, sizeof k->ra);
  if (k->n_reduces) {
    const gc_node *r0 = g->nodes[k->reduces[0]];
    k->F = g->nodes[r0->in[0]]->type;
    for (int i = 0; i < k->n_reduces; i++) {
      const gc_node *r = g->nodes[k->reduces[i]];
      bool ra[GC_MAX_RANK] = {0};
      if (r->op == GC_OP_ARGMAX) ra[r->attrs.argmax.axis] = true;
      else for (int a = 0; a < r->attrs.reduce.axes.n; a++) ra[r->attrs.reduce.axes.v[a]] = true;
      if (!gc_shape_equal(&g->nodes[r->in[0]]->type, &k->F) || (i > 0 && memcmp(ra, k->ra, sizeof ra)))
        return lw_fail(L, "reductions %%%d and %%%d do not reduce the same axes of the same shape", k->reduces[0],
                       k->reduces[i]);
      memcpy(k->ra, ra, sizeof ra);
    }
  } else {
    for (int i = 0; i < k->n_results; i++) {
      const gc_type *t = &g->nodes[k->results[i]]->type;
      if (i == 0 || numel(t) > numel(&k->F)) k->F = *t;
    }
  }
  gc_type O = without(&k->F, k->ra);
  if (k->n_results > 64) return lw_fail(L, "more than 64 results");
  for (int i = 0; i < k->n_results; i++) {
    int n = numel(&g->nodes[k->results[i]]->type);
    k->outer_level[i] = k->n_reduces && n == numel(&O);
    if (!k->outer_level[i] && n != numel(&k->F))
      return lw_fail(L, "result %%%d has %d elements, the kernel's shape %d", k->results[i], n, numel(&k->F));
  }
  return 0;
}

/* Outer loops over the axes of F not in ra (size-1 axes need none); the
 * first real one is parallel.  oc receives the coordinates. */
static void open_outer(lowerer *L, const gc_type *F, const bool *ra, int *oc, bool parallel) {
  for (int a = 0; a < F->rank; a++) {
    oc[a] = lw_const(L, 0);
    if (ra[a] || F->dims[a] == 1) continue;
    oc[a] = open_loop(L, lw_const(L, F->dims[a]), parallel);
    parallel = false;
  }
}

/* Back out of every loop opened since (blk, depth). */
static void close_to(lowerer *L, int blk, int depth) {
  L->blk = blk;
  L->depth = depth;
  lw_memo_pop(L);
}

/* Rows: outer loops; in them each reduction, then the results. */
static void lower_rows(lowerer *L, const loop_kernel *k) {
  const gc_type *F = &k->F;
  int oc[GC_MAX_RANK], top = L->blk, depth = L->depth;
  open_outer(L, F, k->ra, oc, true);
  /* A result that a reduction reads whole (softmax's exp(x - max), read by
   * the sum) is stored by the reduction's loop, and read back after it,
   * not computed a second time. */
  bool early[64] = {0};
  for (int i = 0; i < k->n_reduces; i++) {
    int r = k->reduces[i], rc[GC_MAX_RANK], x = L->g->nodes[r]->in[0], store = -1;
    for (int j = 0; j < k->n_results && store < 0; j++)
      if (k->results[j] == x && !k->outer_level[j] && !early[j] && !L->g->nodes[x]->into && L->inside[x] &&
          gc_shape_equal(&L->g->nodes[x]->type, F))
        store = j;
    int v = reduce_rows(L, r, F, k->ra, oc, store >= 0 ? x : -1);
    if (store >= 0) early[store] = true, L->inside[x] = false;   /* later reads load it */
    reduced_coords(L, r, F, k->ra, oc, rc);
    lw_memo_put(L, r, rc, v);
  }
  gc_type O = without(F, k->ra);
  int ocO[GC_MAX_RANK], n = 0;
  for (int a = 0; a < F->rank; a++)
    if (!k->ra[a]) ocO[n++] = oc[a];
  bool any_full = false;
  pending_stores ps = {0};
  for (int i = 0; i < k->n_results; i++) {
    if (!k->outer_level[i]) {
      any_full = any_full || !early[i];
      continue;
    }
    int xc[GC_MAX_RANK];
    lw_recoord(L, &O, ocO, &L->g->nodes[k->results[i]]->type, xc);
    compute(L, &ps, k->results[i], xc);
  }
  store_all(L, &ps);
  if (any_full) {
    int fc[GC_MAX_RANK];
    memcpy(fc, oc, sizeof fc);
    int blocks[GC_MAX_RANK], nb = 0;
    for (int a = 0; a < F->rank; a++) {
      if (!k->ra[a] || F->dims[a] == 1) continue;
      blocks[nb++] = L->blk;
      fc[a] = open_loop(L, lw_const(L, F->dims[a]), false);
    }
    for (int i = 0; i < k->n_results; i++) {
      if (k->outer_level[i] || early[i]) continue;
      int xc[GC_MAX_RANK];
      lw_recoord(L, F, fc, &L->g->nodes[k->results[i]]->type, xc);
      compute(L, &ps, k->results[i], xc);
    }
    store_all(L, &ps);
    while (nb > 0) close_loop(L, blocks[--nb]);
  }
  close_to(L, top, depth);
  for (int i = 0; i < k->n_results; i++)
    if (early[i]) L->inside[k->results[i]] = true;
}

/* Columns: the reduced axes do not include F's last axis c, and the
 * kernel's full-size results do not read its reductions.  Per chunk of c
 * (parallel), the reduced axes run outside and c inside (so every access
 * runs along rows), the full-size results are stored as they come, and the
 * reductions accumulate into local arrays. */
enum { COLUMN_CHUNK = 256 };

static void lower_columns(lowerer *L, const loop_kernel *k) {
  const gc_graph *g = L->g;
  const gc_type *F = &k->F;
  int last = F->rank - 1, top = L->blk, depth = L->depth;
  int64_t C = F->dims[last], chunks = (C + COLUMN_CHUNK - 1) / COLUMN_CHUNK;
  int64_t width = C < COLUMN_CHUNK ? C : COLUMN_CHUNK;   /* a chunk's columns, at most */
  int oc[GC_MAX_RANK];
  bool ra_c[GC_MAX_RANK];
  memcpy(ra_c, k->ra, sizeof ra_c);
  ra_c[last] = true;   /* opened below, in chunks */
  bool outer_real = false;
  for (int a = 0; a < last; a++) outer_real = outer_real || (!k->ra[a] && F->dims[a] > 1);
  open_outer(L, F, ra_c, oc, true);
  int q = open_loop(L, lw_const(L, chunks), !outer_real);
  int base = lw_mul(L, q, lw_const(L, COLUMN_CHUNK));
  int len = gc_loop_op(L->f, L->blk, GC_OP_MIN, GC_I64,
                       (int[]){lw_const(L, COLUMN_CHUNK), lw_add(L, lw_const(L, C), lw_mul(L, base, lw_const(L, -1)))}, 2);
  int chunk_blk = L->blk;
  /* accumulators */
  int acc_buf[16][2];
  reduction red[16];
  for (int i = 0; i < k->n_reduces && i < 16; i++) {
    red[i] = reduction_of(g, k->reduces[i]);
    for (int j = 0; j < red[i].n_iter; j++) {
      acc_buf[i][j] = gc_loop_add_local(L->f, "acc", j ? GC_I64 : red[i].dt, COLUMN_CHUNK);
      int jj = open_loop_below(L, len, width, false);
      gc_loop_store(L->f, L->blk, acc_buf[i][j], jj, identity_of(L, &red[i], j));
      close_loop(L, chunk_blk);
    }
  }
  /* the reduced axes outside, c inside */
  int fc[GC_MAX_RANK], blocks[GC_MAX_RANK + 1], nb = 0;
  memcpy(fc, oc, sizeof fc);
  int64_t rs[GC_MAX_RANK], s = 1;
  for (int a = F->rank - 1; a >= 0; a--)
    if (k->ra[a]) rs[a] = s, s *= F->dims[a];
    else rs[a] = 0;
  for (int a = 0; a < last; a++) {
    if (!k->ra[a] || F->dims[a] == 1) continue;
    blocks[nb++] = L->blk;
    fc[a] = open_loop(L, lw_const(L, F->dims[a]), false);
  }
  blocks[nb++] = L->blk;
  int j = open_loop_below(L, len, width, false);
  fc[last] = lw_add(L, base, j);
  int index = lw_linear(L, fc, rs, F->rank);
  pending_stores full = {0};
  for (int i = 0; i < k->n_results; i++) {
    if (k->outer_level[i]) continue;
    int xc[GC_MAX_RANK];
    lw_recoord(L, F, fc, &g->nodes[k->results[i]]->type, xc);
    compute(L, &full, k->results[i], xc);
  }
  for (int i = 0; i < k->n_reduces && i < 16; i++) {
    int acc[2], next[2];
    for (int t = 0; t < red[i].n_iter; t++) acc[t] = gc_loop_load(L->f, L->blk, acc_buf[i][t], j);
    int v = lw_eval(L, g->nodes[k->reduces[i]]->in[0], fc);
    combine(L, &red[i], acc, v, index, next);
    for (int t = 0; t < red[i].n_iter; t++) gc_loop_store(L->f, L->blk, acc_buf[i][t], j, next[t]);
  }
  store_all(L, &full);
  while (nb > 0) close_loop(L, blocks[--nb]);
  /* the results, per column of the chunk */
  j = open_loop_below(L, len, width, false);
  oc[last] = lw_add(L, base, j);
  for (int i = 0; i < k->n_reduces && i < 16; i++) {
    int rc[GC_MAX_RANK];
    reduced_coords(L, k->reduces[i], F, k->ra, oc, rc);
    lw_memo_put(L, k->reduces[i], rc, gc_loop_load(L->f, L->blk, acc_buf[i][red[i].n_iter - 1], j));
  }
  gc_type O = without(F, k->ra);
  int ocO[GC_MAX_RANK], n = 0;
  for (int a = 0; a < F->rank; a++)
    if (!k->ra[a]) ocO[n++] = oc[a];
  pending_stores ps = {0};
  for (int i = 0; i < k->n_results; i++) {
    if (!k->outer_level[i]) continue;
    int xc[GC_MAX_RANK];
    lw_recoord(L, &O, ocO, &g->nodes[k->results[i]]->type, xc);
    compute(L, &ps, k->results[i], xc);
  }
  store_all(L, &ps);
  close_to(L, top, depth);
}

static int lower_loop_kernel(lowerer *L, loop_kernel *k) {
  if (shape_loop_kernel(L, k)) return -1;
  bool columns = k->n_reduces > 0 && k->n_reduces <= 16 && !k->ra[k->F.rank - 1];
  for (int i = 0; columns && i < k->n_results; i++)
    columns = k->outer_level[i] || !reads_reduction(L, k->results[i], 0);
  for (int i = 0; columns && i < k->n_reduces; i++) columns = !reads_reduction(L, L->g->nodes[k->reduces[i]]->in[0], 0);
  if (columns) lower_columns(L, k);
  else lower_rows(L, k);
  return L->failed ? -1 : 0;
}

/* ---- dot kernels ----------------------------------------------------------- */

static bool outside(int id, void *ctx) { return !((lowerer *)ctx)->inside[id]; }

/* The strided view of a dot operand: [..., rows, cols] after its transpose. */
static int operand_view(lowerer *L, int id, bool transpose, int batch_rank, const int64_t *batch_dims,
                        int64_t *batch_strides, int *buf, int64_t *offset, int64_t *row, int64_t *col) {
  gc_view v;
  if (!gc_view_of(L->g, id, outside, L, &v) || L->inside[v.base])
    return lw_fail(L, "dot operand %%%d is not a strided view of a stored value", id);
  int r = v.rank;
  *row = v.strides[r - (transpose ? 1 : 2)];
  *col = v.strides[r - (transpose ? 2 : 1)];
  *offset = v.offset;
  for (int k = 0; k < batch_rank; k++) {
    int j = k - (batch_rank - (r - 2));   /* the operand's batch axis aligned from the right */
    batch_strides[k] = j >= 0 && v.dims[j] == batch_dims[k] ? v.strides[j] : 0;
  }
  *buf = lw_buffer(L, v.base, false);
  return 0;
}

static int lower_dot_kernel(lowerer *L, int dot, const int *results, int n_results) {
  const gc_graph *g = L->g;
  const gc_node *n = g->nodes[dot];
  const gc_type *t = &n->type;
  int id;
  gc_loop_gemm *gm = gc_loop_gemm_new(L->f, L->blk, t->dtype, &id);
  gm->batch_rank = t->rank - 2;
  memcpy(gm->batch_dims, t->dims, sizeof(int64_t) * (size_t)gm->batch_rank);
  gm->m = t->dims[t->rank - 2];
  gm->n = t->dims[t->rank - 1];
  const gc_type *a = &g->nodes[n->in[0]]->type;
  gm->k = n->attrs.dot.transpose_a ? a->dims[a->rank - 2] : a->dims[a->rank - 1];
  if (operand_view(L, n->in[0], n->attrs.dot.transpose_a, gm->batch_rank, gm->batch_dims, gm->a_batch, &gm->a_buf,
                   &gm->a_offset, &gm->a_row, &gm->a_col) ||
      operand_view(L, n->in[1], n->attrs.dot.transpose_b, gm->batch_rank, gm->batch_dims, gm->b_batch, &gm->b_buf,
                   &gm->b_offset, &gm->b_row, &gm->b_col))
    return -1;
  /* A B with B shared by every batch and A's batches following each other
   * row after row (x [B, T, C] times W): one GEMM over B*T rows */
  int fold = 0;   /* the batch dims folded into m, counted from the left */
  bool b_shared = true;
  for (int k = 0; k < gm->batch_rank; k++) b_shared = b_shared && gm->b_batch[k] == 0;
  if (b_shared && gm->batch_rank > 0) {
    int64_t stride = gm->m * gm->a_row;
    bool rows = gm->a_row != 0;
    for (int k = gm->batch_rank - 1; k >= 0 && rows; k--) {
      rows = gm->a_batch[k] == stride || gm->batch_dims[k] == 1;
      stride *= gm->batch_dims[k];
    }
    if (rows) fold = gm->batch_rank;
  }
  int64_t rows_per_batch = gm->m;
  if (fold) {
    for (int k = 0; k < gm->batch_rank; k++) gm->m *= gm->batch_dims[k];
    gm->batch_rank = 0;
  }
  /* the epilogue: the dot's value at (batch, m, n) is the accumulator */
  int outer = L->blk;
  L->blk = id;
  L->depth++;
  const int *e = gc_loop_block_of(L->f, id)->insts;
  int64_t batches = 1;
  for (int k = 0; k < gm->batch_rank; k++) batches *= gm->batch_dims[k];
  lw_note_var(L, e[0], batches);
  lw_note_var(L, e[1], gm->m);
  lw_note_var(L, e[2], gm->n);
  int c[GC_MAX_RANK];
  gc_type batch = {.dtype = t->dtype, .rank = t->rank - 2};
  memcpy(batch.dims, t->dims, sizeof(int64_t) * (size_t)batch.rank);
  gc_type flat = {.dtype = t->dtype, .rank = 1, .dims = {gc_type_numel_unchecked(&batch)}};
  int b_lin = fold ? lw_div(L, e[1], rows_per_batch) : e[0];
  lw_recoord(L, &flat, &b_lin, &batch, c);
  c[t->rank - 2] = fold ? lw_mod(L, e[1], rows_per_batch) : e[1];
  c[t->rank - 1] = e[2];
  lw_memo_put(L, dot, c, e[3]);
  pending_stores ps = {0};
  for (int i = 0; i < n_results; i++) {
    if (!gc_shape_equal(&g->nodes[results[i]]->type, t))
      return lw_fail(L, "dot kernel result %%%d is not of the dot's shape", results[i]);
    compute(L, &ps, results[i], c);
  }
  store_all(L, &ps);
  L->depth--;
  lw_memo_pop(L);
  L->blk = outer;
  return L->failed ? -1 : 0;
}

/* ---- index kernels --------------------------------------------------------- */

/* The node's name for an error message that is a printf format (its
 * value is filled in at run time): every '%' of it doubled. */
static char *node_name(const gc_graph *g, int id, char *buf, size_t size) {
  const gc_node *n = g->nodes[id];
  char plain[512];
  if (n->label) snprintf(plain, sizeof plain, "%s %%%d (\"%s\")", gc_op_name(n->op), id, n->label);
  else snprintf(plain, sizeof plain, "%s %%%d", gc_op_name(n->op), id);
  size_t k = 0;
  for (const char *c = plain; *c && k + 2 < size; c++) {
    if (*c == '%') buf[k++] = '%';
    buf[k++] = *c;
  }
  buf[k] = 0;
  return buf;
}

/* idx (an i32/i64 value) as an i64 in [0, dim), negatives counting from the
 * end; anything else stops the kernel with the node's error. */
static int checked_index(lowerer *L, int node, int idx, int64_t dim, gc_dtype dt) {
  char name[256], msg[400];
  if (dt != GC_I64) idx = gc_loop_op(L->f, L->blk, GC_OP_CAST, GC_I64, &idx, 1);
  int neg = gc_loop_op(L->f, L->blk, GC_OP_LT, GC_BOOL, (int[]){idx, lw_const(L, 0)}, 2);
  int wrapped = gc_loop_op(L->f, L->blk, GC_OP_WHERE, GC_I64, (int[]){neg, lw_add(L, idx, lw_const(L, dim)), idx}, 3);
  snprintf(msg, sizeof msg, "%s: index %%lld is out of range for an axis of size %lld",
           node_name(L->g, node, name, sizeof name), (long long)dim);
  gc_loop_check(L->f, L->blk, wrapped, lw_const(L, dim), idx, gc_loop_add_error(L->f, msg));
  return wrapped;
}

static int lower_gather(lowerer *L, int id) {
  const gc_graph *g = L->g;
  const gc_node *n = g->nodes[id];
  const gc_type *t = &n->type, *tab = &g->nodes[n->in[0]]->type, *ix = &g->nodes[n->in[1]]->type;
  int axis = (int)n->attrs.axis.axis, top = L->blk, depth = L->depth;
  int c[GC_MAX_RANK], tc[GC_MAX_RANK], ic[GC_MAX_RANK];
  bool none[GC_MAX_RANK] = {0};
  open_outer(L, t, none, c, true);
  for (int k = 0; k < ix->rank; k++) ic[k] = c[axis + k];
  int idx = checked_index(L, id, lw_eval(L, n->in[1], ic), tab->dims[axis], ix->dtype);
  for (int k = 0; k < tab->rank; k++) tc[k] = k < axis ? c[k] : k == axis ? idx : c[k - 1 + ix->rank];
  int64_t s[GC_MAX_RANK], os[GC_MAX_RANK];
  gc_row_major_strides(tab, s);
  gc_row_major_strides(t, os);
  int v = gc_loop_load(L->f, L->blk, lw_buffer(L, n->in[0], false), lw_linear(L, tc, s, tab->rank));
  gc_loop_store(L->f, L->blk, lw_buffer(L, id, true), lw_linear(L, c, os, t->rank), v);
  close_to(L, top, depth);
  return L->failed ? -1 : 0;
}

/* zeros, then for each index i (in order) out[pre, idx[i], post] += src[pre, i, post];
 * the pre axes are shared out, the post axes innermost. */
static int lower_scatter(lowerer *L, int id) {
  const gc_graph *g = L->g;
  const gc_node *n = g->nodes[id];
  const gc_type *t = &n->type, *ix = &g->nodes[n->in[0]]->type, *src = &g->nodes[n->in[1]]->type;
  int axis = (int)n->attrs.axis.axis, top = L->blk, depth = L->depth;
  int out = lw_buffer(L, id, true);
  int64_t os[GC_MAX_RANK], ss[GC_MAX_RANK];
  gc_row_major_strides(t, os);
  gc_row_major_strides(src, ss);
  int c[GC_MAX_RANK];
  bool none[GC_MAX_RANK] = {0};
  open_outer(L, t, none, c, true);   /* zeros */
  gc_loop_store(L->f, L->blk, out, lw_linear(L, c, os, t->rank), gc_loop_const(L->f, L->blk, t->dtype, 0));
  close_to(L, top, depth);
  int sc[GC_MAX_RANK], blocks[3 * GC_MAX_RANK], nb = 0;
  bool parallel = true;
  for (int k = 0; k < src->rank; k++) {
    sc[k] = lw_const(L, 0);
    if (src->dims[k] == 1) continue;
    bool pre = k < axis;
    blocks[nb++] = L->blk;
    sc[k] = open_loop(L, lw_const(L, src->dims[k]), pre && parallel);
    if (pre) parallel = false;
  }
  int ic[GC_MAX_RANK], tc[GC_MAX_RANK];
  for (int k = 0; k < ix->rank; k++) ic[k] = sc[axis + k];
  int idx = checked_index(L, id, lw_eval(L, n->in[0], ic), t->dims[axis], ix->dtype);
  for (int k = 0; k < t->rank; k++) tc[k] = k < axis ? sc[k] : k == axis ? idx : sc[k - 1 + ix->rank];
  int at = lw_linear(L, tc, os, t->rank);
  int v = lw_eval(L, n->in[1], sc);
  int old = gc_loop_load(L->f, L->blk, out, at);
  gc_loop_store(L->f, L->blk, out, at, gc_loop_op(L->f, L->blk, GC_OP_ADD, t->dtype, (int[]){old, v}, 2));
  while (nb > 0) close_loop(L, blocks[--nb]);
  close_to(L, top, depth);
  return L->failed ? -1 : 0;
}

/* ---- loop-invariant values ------------------------------------------------- */

/* Whether node x (rank 0) depends on a reduction computed in this kernel. */
static bool reads_kernel_reduction(const lowerer *L, int x, int depth) {
  const gc_node *n = L->g->nodes[x];
  if (!L->inside[x] || depth > 256) return false;
  if (gc_op_kind(n->op) == GC_KIND_REDUCE || gc_op_kind(n->op) == GC_KIND_CONTRACT) return true;
  for (int k = 0; k < n->n_in; k++)
    if (reads_kernel_reduction(L, n->in[k], depth + 1)) return true;
  return false;
}

/* Scalars (a learning rate, a step counter's bias corrections, a clipping
 * factor) computed once at the top, before any loop, not per element: in
 * loops that also store, a load of a scalar could not be hoisted by LLVM
 * (the buffers may alias). */
static void hoist_scalars(lowerer *L, const gc_kernel_ref *kr) {
  const gc_graph *g = L->g;
  for (int j = 0; j < kr->n_nodes && !L->failed; j++) {
    int i = kr->nodes[j];
    const gc_node *n = g->nodes[i];
    for (int k = -1; k < n->n_in; k++) {
      int x = k < 0 ? i : n->in[k];
      if (g->nodes[x]->type.rank == 0 && !reads_kernel_reduction(L, x, 0)) lw_eval(L, x, NULL);
    }
  }
}

/* ---- the entry ------------------------------------------------------------- */

gc_loop_fn *gc_lower_kernel(const gc_kernel_ref *k, int **buffer_nodes, gc_diag *d) {
  const gc_graph *g = k->g;
  int n = g->n_nodes;
  lowerer L = {.g = g, .blk = GC_LOOP_TOP, .d = d};
  *buffer_nodes = NULL;
  L.f = gc_loop_new(k->name);
  bool own_scratch = !k->inside || !k->buffer;
  L.inside = own_scratch ? calloc((size_t)n + 1, sizeof *L.inside) : k->inside;
  L.buffer = own_scratch ? malloc(sizeof *L.buffer * ((size_t)n + 1)) : k->buffer;
  int *results = malloc(sizeof *results * ((size_t)k->n_nodes + 1));
  int *reduces = malloc(sizeof *reduces * ((size_t)k->n_nodes + 1));
  gc_uses own = {0};
  const gc_uses *up = k->uses;
  if (!L.f || !L.inside || !L.buffer || !results || !reduces || (!up && gc_uses_init(&own, g, d))) {
    if (!own.first && !up) gc_diag_set(d, "out of memory");
    L.failed = true;
    goto done;
  }
  if (!up) up = &own;
  const gc_uses u = *up;
  if (own_scratch)
    for (int i = 0; i < n; i++) L.buffer[i] = -1;
  for (int i = 0; i < k->n_nodes; i++) L.inside[k->nodes[i]] = true;
  int n_results = 0, n_reduces = 0, dot = -1, index = -1;
  for (int i = 0; i < k->n_nodes; i++) {
    int id = k->nodes[i];
    bool leaves = gc_uses_is_bound(&u, id);
    for (int r = 0; r < gc_uses_count(&u, id); r++) leaves = leaves || !L.inside[gc_uses_readers(&u, id)[r]];
    if (leaves) results[n_results++] = id;
    gc_kind kind = gc_op_kind(g->nodes[id]->op);
    if (kind == GC_KIND_REDUCE) reduces[n_reduces++] = id;
    if (kind == GC_KIND_CONTRACT) dot = dot < 0 ? id : -2;
    if (kind == GC_KIND_INDEX) index = index < 0 ? id : -2;
  }
  if (dot == -2 || index == -2 || (dot >= 0 && (index >= 0 || n_reduces)) || (index >= 0 && k->n_nodes > 1)) {
    lw_fail(&L, "a kernel holds one dot (with elementwise ops after it), one gather or scatter_add alone, or "
                "elementwise, layout and reduction ops");
  } else if (dot >= 0) {
    lower_dot_kernel(&L, dot, results, n_results);
  } else if (index >= 0) {
    if (g->nodes[index]->op == GC_OP_GATHER) lower_gather(&L, index);
    else lower_scatter(&L, index);
  } else if (n_results == 0) {
    /* nothing it computes is read or bound (an unused node of a graph run
     * without passes): nothing to do */
  } else {
    loop_kernel lk = {.results = results, .reduces = reduces, .n_results = n_results, .n_reduces = n_reduces};
    hoist_scalars(&L, k);
    lower_loop_kernel(&L, &lk);
  }
done:
  gc_uses_free(&own);
  free(results);
  free(reduces);
  if (own_scratch) {
    free(L.inside);
    free(L.buffer);
  } else {   /* left as it came */
    for (int i = 0; i < k->n_nodes; i++) L.inside[k->nodes[i]] = false;
    for (int b = 0; b < L.cap_buffer_nodes; b++)
      if (L.buffer_nodes[b] >= 0) L.buffer[L.buffer_nodes[b]] = -1;
  }
  if (L.f) lw_reserve_buffer_nodes(&L, L.f->n_buffers);
  free(L.memo);
  free(L.bucket);
  free(L.frames);
  free(L.const_vals);
  free(L.const_insts);
  free(L.aff);
  free(L.extent);
  if (L.failed) {
    gc_loop_free(L.f);
    free(L.buffer_nodes);
    return NULL;
  }
  *buffer_nodes = L.buffer_nodes;
  return L.f;
}

/* The stage (codegen/stages.def): the kernel's loop function. */
int gc_stage_lower(gc_codegen_kernel *k, gc_diag *d) {
  gc_loop_free(k->fn);
  free(k->buffer_nodes);
  k->buffer_nodes = NULL;
  k->fn = gc_lower_kernel(&k->ref, &k->buffer_nodes, d);
  return k->fn ? 0 : -1;
}
