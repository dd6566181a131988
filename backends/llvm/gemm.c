/* The GEMM driver (see gemm.h). */
#include "backends/llvm/gemm.h"

#include <string.h>

static int64_t up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

size_t gc_gemm_scratch_bytes(const gc_loop_gemm *g) {
  int64_t mc = up(g->mc, g->mr), nc = up(g->nc, g->nr);
  return (size_t)(mc * g->kc + g->kc * nc + mc * nc) * gc_dtype_size(g->dtype) + 256;
}

typedef struct {
  const gc_loop_gemm *g;
  void **bufs;
  gc_ukr_fn *ukr;
  gc_epi_fn *epi;
  void **scratch;
  int64_t *err;
  int64_t m_blocks, n_blocks;
} run;

/* A's element (i, k) of batch offset `base`: a_offset + base + i*row + k*col */
#define PACK(T)                                                                                          \
  static void pack_a_##T(const T *a, int64_t row, int64_t col, int64_t m0, int64_t mc, int64_t m, int64_t k0, \
                         int64_t kc, int mr, T *out) {                                                      \
    for (int64_t p = 0; p < mc; p += mr)                                                                   \
      for (int64_t k = 0; k < kc; k++)                                                                     \
        for (int r = 0; r < mr; r++) {                                                                     \
          int64_t i = m0 + p + r;                                                                          \
          *out++ = i < m && p + r < mc ? a[i * row + (k0 + k) * col] : 0;                                  \
        }                                                                                                  \
  }                                                                                                        \
  static void pack_b_##T(const T *b, int64_t row, int64_t col, int64_t n0, int64_t nc, int64_t n, int64_t k0, \
                         int64_t kc, int nr, T *out) {                                                      \
    for (int64_t q = 0; q < nc; q += nr)                                                                   \
      for (int64_t k = 0; k < kc; k++) {                                                                   \
        const T *src = b + (k0 + k) * row;                                                                 \
        for (int c = 0; c < nr; c++) {                                                                     \
          int64_t j = n0 + q + c;                                                                          \
          *out++ = j < n && q + c < nc ? src[j * col] : 0;                                                 \
        }                                                                                                  \
      }                                                                                                    \
  }
PACK(float)
PACK(double)

static void task(void *ctx, int64_t t, int worker) {
  run *r = ctx;
  const gc_loop_gemm *g = r->g;
  if (r->err[0]) return;
  int64_t per_batch = r->m_blocks * r->n_blocks, b = t / per_batch, mi = t % per_batch / r->n_blocks,
          ni = t % r->n_blocks;
  int64_t m0 = mi * g->mc, n0 = ni * g->nc, mc = min64(g->mc, g->m - m0), nc = min64(g->nc, g->n - n0);
  /* the batch's offsets: b row-major over batch_dims */
  int64_t a_off = g->a_offset, b_off = g->b_offset, rest = b;
  for (int k = g->batch_rank - 1; k >= 0; k--) {
    int64_t c = rest % g->batch_dims[k];
    rest /= g->batch_dims[k];
    a_off += c * g->a_batch[k];
    b_off += c * g->b_batch[k];
  }
  size_t es = gc_dtype_size(g->dtype);
  int64_t mcp = up(mc, g->mr), ncp = up(nc, g->nr), ldc = up(g->nc, g->nr);
  char *s = (char *)(((uintptr_t)r->scratch[worker] + 63) & ~(uintptr_t)63);
  char *ap = s, *bp = ap + (size_t)(up(g->mc, g->mr) * g->kc) * es, *cb = bp + (size_t)(g->kc * ldc) * es;
  for (int64_t k0 = 0; k0 < g->k || k0 == 0; k0 += g->kc) {
    int64_t kc = min64(g->kc, g->k - k0);
    if (g->dtype == GC_F32) {
      pack_a_float((const float *)r->bufs[g->a_buf] + a_off, g->a_row, g->a_col, m0, mc, g->m, k0, kc, g->mr,
                   (float *)ap);
      pack_b_float((const float *)r->bufs[g->b_buf] + b_off, g->b_row, g->b_col, n0, nc, g->n, k0, kc, g->nr,
                   (float *)bp);
    } else {
      pack_a_double((const double *)r->bufs[g->a_buf] + a_off, g->a_row, g->a_col, m0, mc, g->m, k0, kc, g->mr,
                    (double *)ap);
      pack_b_double((const double *)r->bufs[g->b_buf] + b_off, g->b_row, g->b_col, n0, nc, g->n, k0, kc, g->nr,
                    (double *)bp);
    }
    for (int64_t q = 0; q < ncp; q += g->nr)
      for (int64_t p = 0; p < mcp; p += g->mr)
        r->ukr(ap + (size_t)(p * kc) * es, bp + (size_t)(q * kc) * es, kc, cb + (size_t)(p * ldc + q) * es, ldc,
               k0 > 0);
    if (g->k == 0) break;
  }
  r->epi(r->bufs, cb, ldc, b, m0, n0, mc, nc, r->err);
}

void gc_gemm_run(const gc_loop_gemm *g, void **bufs, gc_ukr_fn *ukr, gc_epi_fn *epi, gc_pool *pool,
                 void **scratch, int64_t *err) {
  run r = {g, bufs, ukr, epi, scratch, err, (g->m + g->mc - 1) / g->mc, (g->n + g->nc - 1) / g->nc};
  int64_t batches = 1;
  for (int k = 0; k < g->batch_rank; k++) batches *= g->batch_dims[k];
  if (g->m == 0 || g->n == 0) return;
  gc_pool_run(pool, batches * r.m_blocks * r.n_blocks, task, &r);
}
