/* Tiling (see tile.h). */
#include "codegen/tile.h"
#include "codegen/driver.h"

static int64_t round_down(int64_t x, int64_t m) { return x / m * m > 0 ? x / m * m : m; }

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t round_up(int64_t x, int64_t m) { return ceil_div(x, m) * m; }

/* Tasks are (batch, MC block, NC block).  A contraction with fewer than
 * MIN_TASKS of them (a weight's gradient X^T·dY: a 128 x 128 result summed
 * over 1,024 rows is one block) would leave threads idle: its rows and
 * columns are cut into more blocks of equal size, rows first, down to
 * NR columns and 4·MR rows.  Each C element is still one task's, summed
 * over k in the same order. */
#define MIN_TASKS 4

static void balance(gc_loop_gemm *g) {
  if (g->m <= 0 || g->n <= 0) return;
  int64_t batches = 1;
  for (int k = 0; k < g->batch_rank; k++) batches *= g->batch_dims[k];
  int64_t nb = ceil_div(g->n, g->nc), mb = ceil_div(g->m, g->mc);
  while (batches * ceil_div(g->m, g->mc) * ceil_div(g->n, g->nc) < MIN_TASKS) {
    if (g->m / (mb + 1) >= 4 * g->mr) {
      mb++;
      g->mc = round_up(ceil_div(g->m, mb), g->mr);
    } else if (g->n / (nb + 1) >= g->nr) {
      nb++;
      g->nc = round_up(ceil_div(g->n, nb), g->nr);
    } else {
      break;
    }
  }
}

/* The elements of C computed with MR x NR tiles: C padded to whole tiles. */
static int64_t up_area(int64_t m, int64_t n, int64_t mr, int64_t nr) { return round_up(m, mr) * round_up(n, nr); }

static void tile_gemm(gc_loop_gemm *g, const gc_tile_target *t) {
  int esize = (int)gc_dtype_size(g->dtype);
  int vw = t->vector_bits / (8 * esize);
  if (vw < 1) vw = 1;
  /* 6 rows x 4 vectors: 24 accumulators, 4 loads of B and 6 broadcasts of
   * A per step of k, within 32 vector registers (AVX-512) or, with 16
   * registers, 6 x 2 */
  g->mr = 6;
  g->nr = (t->vector_bits >= 512 ? 4 : 2) * vw;
  /* with 16 registers, 4 rows x 3 vectors is the other tile of 12
   * accumulators (3 loads of B and 4 broadcasts per step of k): taken when
   * it pads C less, as for the 256 rows of a batch of 4 x 64 tokens (6 rows
   * would leave 4 of every 128 computed for nothing) */
  if (t->vector_bits < 512 && up_area(g->m, g->n, 4, 3 * vw) < up_area(g->m, g->n, g->mr, g->nr))
    g->mr = 4, g->nr = 3 * vw;
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
  balance(g);
}

static void tile_block(gc_loop_fn *f, const gc_loop_block *b, const gc_tile_target *t) {
  for (int i = 0; i < b->n; i++) {
    gc_loop_inst *in = &f->insts[b->insts[i]];
    if (in->op == GC_L_GEMM) tile_gemm(in->gemm, t);
    if (in->op == GC_L_FOR) tile_block(f, &in->body, t);
  }
}

void gc_tile_loop_fn(gc_loop_fn *f, const gc_tile_target *t) { tile_block(f, &f->body, t); }

/* The stage (codegen/stages.def). */
int gc_stage_tile(gc_codegen_kernel *k, gc_diag *d) {
  (void)d;
  gc_tile_loop_fn(k->fn, &k->target);
  return 0;
}
