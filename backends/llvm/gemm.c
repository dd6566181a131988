/* The GEMM driver (see gemm.h). */
#include "backends/llvm/gemm.h"
#include "backends/llvm/gemv.h"

#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

static int64_t up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

size_t gc_gemm_scratch_bytes(const gc_loop_gemm *g) {
  int64_t mc = up(g->mc, g->mr), nc = up(g->nc, g->nr);
  /* C block, B block (when B must be packed), A block (when A is packed:
   * transposed; else its one edge panel) */
  return (size_t)(mc * nc + g->kc * nc + mc * g->kc) * gc_dtype_size(g->dtype) + 256;
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

/* Rows m0 .. m0+rows-1 of A, k0 .. k0+kc-1, as mr-row panels zero padded
 * to a whole panel: panel p at out + p*mr*kc, out[p*mr*kc + k*mr + r].  k
 * outermost: a transposed A (row == 1) is read along its rows. */
#define PACK(T)                                                                                          \
  static void pack_a_##T(const T *a, int64_t row, int64_t col, int64_t m0, int64_t rows, int64_t k0,     \
                         int64_t kc, int mr, T *out) {                                                   \
    for (int64_t k = 0; k < kc; k++)                                                                     \
      for (int64_t p = 0; p < rows; p += mr)                                                             \
        for (int r = 0; r < mr; r++)                                                                     \
          out[p * kc + k * mr + r] = p + r < rows ? a[(m0 + p + r) * row + (k0 + k) * col] : 0;         \
  }                                                                                                      \
  /* Columns n0 .. n0+nc-1 of B's rows k0 .. k0+kc-1 as NR-column panels,   \
   * zero padded: panel q at out + q*kc, out[q*kc + k*nr + c]. */                                        \
  static void pack_b_##T(const T *b, int64_t row, int64_t col, int64_t n0, int64_t nc, int64_t k0,       \
                         int64_t kc, int nr, T *out) {                                                   \
    for (int64_t q = 0; q < nc; q += nr) {                                                               \
      int64_t cols = nc - q < nr ? nc - q : nr;                                                          \
      for (int64_t k = 0; k < kc; k++) {                                                                 \
        const T *src = b + (k0 + k) * row + (n0 + q) * col;                                              \
        T *dst = out + q * kc + k * nr;                                                                  \
        if (col == 1) {                                                                                  \
          memcpy(dst, src, sizeof(T) * (size_t)cols);                                                    \
        } else {                                                                                         \
          for (int64_t c = 0; c < cols; c++) dst[c] = src[c * col];                                      \
        }                                                                                                \
        for (int64_t c = cols; c < nr; c++) dst[c] = 0;                                                  \
      }                                                                                                  \
    }                                                                                                    \
  }
PACK(float)
PACK(double)

/* B stored transposed (B[k][n] at n*col + k: attention's K^T), f32, on an
 * AVX-512 machine: 16 x 16 blocks transposed in registers (unpack, shuffle,
 * then 128-bit lane shuffles); edges element by element. */
__attribute__((target("avx512f"))) static void transpose16(const float *src, int64_t ld, float *dst, int64_t ldd) {
  __m512 r[16], t[16];
  for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + i * ld);
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) {
    r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 4; j++) {
      t[8 * i + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0x88);
      t[8 * i + 4 + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0xdd);
    }
  for (int j = 0; j < 8; j++) {
    r[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88);
    r[8 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xdd);
  }
  for (int i = 0; i < 16; i++) _mm512_storeu_ps(dst + i * ldd, r[i]);
}

__attribute__((target("avx512f"))) static void pack_bt_float_avx512(const float *b, int64_t col, int64_t n0, int64_t nc,
                                                                    int64_t k0, int64_t kc, int nr, float *out) {
  for (int64_t q = 0; q < nc; q += nr) {
    int64_t cols = nc - q < nr ? nc - q : nr, full = cols / 16 * 16, kfull = kc / 16 * 16;
    float *panel = out + q * kc;
    for (int64_t c0 = 0; c0 < full; c0 += 16) {
      const float *src = b + (n0 + q + c0) * col + k0;
      for (int64_t k = 0; k < kfull; k += 16) transpose16(src + k, col, panel + k * nr + c0, nr);
      for (int64_t k = kfull; k < kc; k++)
        for (int c = 0; c < 16; c++) panel[k * nr + c0 + c] = src[c * col + k];
    }
    for (int64_t k = 0; k < kc; k++) {
      for (int64_t c = full; c < cols; c++) panel[k * nr + c] = b[(n0 + q + c) * col + k0 + k];
      for (int64_t c = cols; c < nr; c++) panel[k * nr + c] = 0;
    }
  }
}

static bool have_avx512(void) {
  static int known = -1;
  if (known < 0) known = __builtin_cpu_supports("avx512f") != 0;
  return known;
}

/* pack_b for f32: the transposed layout through registers when it can. */
static void pack_b_f32(const float *b, int64_t row, int64_t col, int64_t n0, int64_t nc, int64_t k0, int64_t kc, int nr,
                       float *out) {
  if (row == 1 && col > 1 && nr % 16 == 0 && have_avx512()) pack_bt_float_avx512(b, col, n0, nc, k0, kc, nr, out);
  else pack_b_float(b, row, col, n0, nc, k0, kc, nr, out);
}

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
  bool f32 = g->dtype == GC_F32;
  const char *A = (const char *)r->bufs[g->a_buf] + (size_t)a_off * es;
  const char *B = (const char *)r->bufs[g->b_buf] + (size_t)b_off * es;
  int64_t mcp = up(mc, g->mr), ncp = up(nc, g->nr), ldc = up(g->nc, g->nr);
  char *s = (char *)(((uintptr_t)r->scratch[worker] + 63) & ~(uintptr_t)63);
  char *cb = s, *bp = cb + (size_t)(up(g->mc, g->mr) * ldc) * es, *ap = bp + (size_t)(g->kc * ldc) * es;
  if (f32 && gc_gemv_f32(g, (const float *)A, (const float *)B, n0, nc, (float *)cb)) {   /* one row */
    r->epi(r->bufs, cb, ldc, b, m0, n0, mc, nc, r->err);
    return;
  }
  /* B's rows are read in place when contiguous; else (or at the ragged
   * right edge) packed */
  bool b_inplace = g->b_col == 1 && g->k <= 64;   /* small panels in place; else packed for locality */
  for (int64_t k0 = 0; k0 < g->k || k0 == 0; k0 += g->kc) {
    int64_t kc = min64(g->kc, g->k - k0);
    if (!b_inplace) {
      if (f32) pack_b_f32((const float *)B, g->b_row, g->b_col, n0, nc, k0, kc, g->nr, (float *)bp);
      else pack_b_double((const double *)B, g->b_row, g->b_col, n0, nc, k0, kc, g->nr, (double *)bp);
    } else if (nc % g->nr) {   /* only the last panel */
      int64_t q = nc / g->nr * g->nr;
      if (f32) pack_b_float((const float *)B, g->b_row, 1, n0 + q, nc - q, k0, kc, g->nr, (float *)bp);
      else pack_b_double((const double *)B, g->b_row, 1, n0 + q, nc - q, k0, kc, g->nr, (double *)bp);
    }
    /* A transposed (a weight's gradient X^T·dY) is packed whole: read in
     * place, each step of k would touch a new cache line and, A's rows
     * apart, a new page, for every NR panel of B.  Else only the last
     * panel when it is short of MR rows, zero padded. */
    bool a_packed = g->a_col != 1, a_edge = mc % g->mr != 0;
    if (a_packed) {
      if (f32) pack_a_float((const float *)A, g->a_row, g->a_col, m0, mc, k0, kc, g->mr, (float *)ap);
      else pack_a_double((const double *)A, g->a_row, g->a_col, m0, mc, k0, kc, g->mr, (double *)ap);
    } else if (a_edge) {
      int64_t p = mc / g->mr * g->mr;
      if (f32) pack_a_float((const float *)A, g->a_row, g->a_col, m0 + p, mc - p, k0, kc, g->mr, (float *)ap);
      else pack_a_double((const double *)A, g->a_row, g->a_col, m0 + p, mc - p, k0, kc, g->mr, (double *)ap);
    }
    for (int64_t q = 0; q < ncp; q += g->nr) {
      const char *bq;
      int64_t bk;
      if (b_inplace && q + g->nr <= nc) {
        bq = B + (size_t)(k0 * g->b_row + (n0 + q)) * es;
        bk = g->b_row;
      } else {
        bq = bp + (size_t)((b_inplace ? 0 : q) * kc) * es;
        bk = g->nr;
      }
      for (int64_t p = 0; p < mcp; p += g->mr) {
        char *c = cb + (size_t)(p * ldc + q) * es;
        if (a_packed)
          r->ukr(ap + (size_t)(p * kc) * es, g->mr, 1, bq, bk, kc, c, ldc, k0 > 0);
        else if (p + g->mr <= mc)
          r->ukr(A + (size_t)((m0 + p) * g->a_row + k0 * g->a_col) * es, g->a_col, g->a_row, bq, bk, kc, c, ldc, k0 > 0);
        else
          r->ukr(ap, g->mr, 1, bq, bk, kc, c, ldc, k0 > 0);
      }
    }
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
