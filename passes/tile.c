/* Tiling (see tile.h). */
#include "passes/tile.h"

#include "passes/split.h"

static int64_t round_down(int64_t x, int64_t m) { return x / m * m > 0 ? x / m * m : m; }

static void tile_gemm(gc_loop_gemm *g, const gc_tile_target *t) {
  int esize = (int)gc_dtype_size(g->dtype);
  int vw = t->vector_bits / (8 * esize);
  if (vw < 1) vw = 1;
  /* 6 rows x 4 vectors: 24 accumulators, 4 loads of B and 6 broadcasts of
   * A per step of k, within 32 vector registers (AVX-512) or, with 16
   * registers, 6 x 2 */
  g->mr = 6;
  g->nr = (t->vector_bits >= 512 ? 4 : 2) * vw;
  /* a narrow C (attention's [T,T]·[T,d] with d = 32) would leave half of
   * each tile empty: 12 rows x 2 vectors instead (AVX-512) */
  if (t->vector_bits >= 512 && g->n <= 2 * vw) g->mr = 12, g->nr = 2 * vw;
  int64_t l2 = t->l2_bytes > 0 ? t->l2_bytes : 512 << 10;
  /* A is read in place (see backends/llvm/gemm.h), so KC only bounds a
   * pass over k: a KC x NR panel of B stays in L2 while every MR-row panel
   * of A streams past it.  KC is fixed by the shape alone (the order of the sums over k
   * never depends on threads). */
  g->kc = 256;
  if (g->kc > g->k && g->k > 0) g->kc = g->k;
  if (g->kc < 1) g->kc = 1;
  /* the C block (MC x NC) per thread in a quarter of L2 */
  g->nc = round_down(g->n < 256 ? g->n + g->nr - 1 : 256, g->nr);
  g->mc = round_down(l2 / 4 / (g->nc * esize), g->mr);
  if (g->mc > 192) g->mc = 192;
  if (g->mc < g->mr) g->mc = g->mr;
}

static void tile_block(gc_loop_fn *f, const gc_loop_block *b, const gc_tile_target *t) {
  for (int i = 0; i < b->n; i++) {
    gc_loop_inst *in = &f->insts[b->insts[i]];
    if (in->op == GC_L_GEMM) tile_gemm(in->gemm, t);
    if (in->op == GC_L_FOR) tile_block(f, &in->body, t);
  }
}

void gc_tile_loop_fn(gc_loop_fn *f, const gc_tile_target *t) {
  gc_split_loops(f, t->vector_bits / 32);
  tile_block(f, &f->body, t);
}
