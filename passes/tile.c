/* Tiling (see tile.h). */
#include "passes/tile.h"

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
  int64_t l1 = t->l1_bytes > 0 ? t->l1_bytes : 32 << 10, l2 = t->l2_bytes > 0 ? t->l2_bytes : 512 << 10;
  /* B's KC x NR micro-panel in half of L1 */
  g->kc = round_down(l1 / 2 / (g->nr * esize), 8);
  if (g->kc > 512) g->kc = 512;
  if (g->kc > g->k && g->k > 0) g->kc = g->k;
  if (g->kc < 1) g->kc = 1;
  /* A's MC x KC block in a quarter of L2, B's KC x NC in another quarter */
  g->mc = round_down(l2 / 4 / (g->kc * esize), g->mr);
  if (g->mc > 240) g->mc = 240;
  g->nc = round_down(l2 / 4 / (g->kc * esize), g->nr);
  if (g->nc > 1024) g->nc = 1024;
}

static void tile_block(gc_loop_fn *f, const gc_loop_block *b, const gc_tile_target *t) {
  for (int i = 0; i < b->n; i++) {
    gc_loop_inst *in = &f->insts[b->insts[i]];
    if (in->op == GC_L_GEMM) tile_gemm(in->gemm, t);
    if (in->op == GC_L_FOR) tile_block(f, &in->body, t);
  }
}

void gc_tile_loop_fn(gc_loop_fn *f, const gc_tile_target *t) { tile_block(f, &f->body, t); }
