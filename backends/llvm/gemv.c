/* The matrix-vector products of the GEMM driver (see gemv.h). */
#include "backends/llvm/gemv.h"

#include <immintrin.h>

static bool have_avx512(void) {
  static int known = -1;
  if (known < 0) known = __builtin_cpu_supports("avx512f") != 0;
  return known;
}

/* ---- B transposed: c[j] = a · B's row n0 + j (each contiguous) ----------- */

/* Four rows at a time, each with its own 16-lane sum over k (in order, the
 * last partial vector masked), then the lanes added in a fixed tree. */
__attribute__((target("avx512f,fma"))) static void dot_rows_avx512(const float *a, const float *b, int64_t ld,
                                                                   int64_t n, int64_t k, float *c) {
  int64_t kf = k / 16 * 16;
  __mmask16 tail = (__mmask16)((1u << (k - kf)) - 1);
  __m512 va_tail = _mm512_maskz_loadu_ps(tail, a + kf);
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const float *b0 = b + j * ld, *b1 = b0 + ld, *b2 = b1 + ld, *b3 = b2 + ld;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (int64_t i = 0; i < kf; i += 16) {
      __m512 va = _mm512_loadu_ps(a + i);
      s0 = _mm512_fmadd_ps(va, _mm512_loadu_ps(b0 + i), s0);
      s1 = _mm512_fmadd_ps(va, _mm512_loadu_ps(b1 + i), s1);
      s2 = _mm512_fmadd_ps(va, _mm512_loadu_ps(b2 + i), s2);
      s3 = _mm512_fmadd_ps(va, _mm512_loadu_ps(b3 + i), s3);
    }
    if (tail) {
      s0 = _mm512_fmadd_ps(va_tail, _mm512_maskz_loadu_ps(tail, b0 + kf), s0);
      s1 = _mm512_fmadd_ps(va_tail, _mm512_maskz_loadu_ps(tail, b1 + kf), s1);
      s2 = _mm512_fmadd_ps(va_tail, _mm512_maskz_loadu_ps(tail, b2 + kf), s2);
      s3 = _mm512_fmadd_ps(va_tail, _mm512_maskz_loadu_ps(tail, b3 + kf), s3);
    }
    c[j] = _mm512_reduce_add_ps(s0);
    c[j + 1] = _mm512_reduce_add_ps(s1);
    c[j + 2] = _mm512_reduce_add_ps(s2);
    c[j + 3] = _mm512_reduce_add_ps(s3);
  }
  for (; j < n; j++) {
    const float *b0 = b + j * ld;
    __m512 s0 = _mm512_setzero_ps();
    for (int64_t i = 0; i < kf; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b0 + i), s0);
    if (tail) s0 = _mm512_fmadd_ps(va_tail, _mm512_maskz_loadu_ps(tail, b0 + kf), s0);
    c[j] = _mm512_reduce_add_ps(s0);
  }
}

/* Elsewhere: 8 partial sums per row over k, added in a fixed order. */
static void dot_rows_generic(const float *a, const float *b, int64_t ld, int64_t n, int64_t k, float *c) {
  for (int64_t j = 0; j < n; j++) {
    const float *bj = b + j * ld;
    float s[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= k; i += 8)
      for (int l = 0; l < 8; l++) s[l] += a[i + l] * bj[i + l];
    for (int l = 0; i < k; i++, l++) s[l] += a[i] * bj[i];
    c[j] = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  }
}

/* ---- B as it is: c[0..n) = Σ_k a[k] · B's row k (columns n0 ..) ---------- */

#define AXPY_ROWS(name, attr)                                                                    \
  attr static void name(const float *a, int64_t a_col, const float *restrict b, int64_t ld,     \
                        int64_t n, int64_t k, float *restrict c) {                               \
    for (int64_t j = 0; j < n; j++) c[j] = 0;                                                    \
    for (int64_t i = 0; i < k; i++) {                                                            \
      float x = a[i * a_col];                                                                    \
      const float *restrict bi = b + i * ld;                                                     \
      for (int64_t j = 0; j < n; j++) c[j] += x * bi[j];                                         \
    }                                                                                            \
  }
AXPY_ROWS(axpy_rows_avx512, __attribute__((target("avx512f,fma"))))
AXPY_ROWS(axpy_rows_generic, )

bool gc_gemv_f32(const gc_loop_gemm *g, const float *A, const float *B, int64_t n0, int64_t nc, float *c) {
  if (g->m != 1 || g->k < 1 || g->dtype != GC_F32) return false;
  bool wide = have_avx512();
  if (g->b_row == 1 && g->a_col == 1) {   /* B[k][n] at n·b_col + k */
    (wide ? dot_rows_avx512 : dot_rows_generic)(A, B + n0 * g->b_col, g->b_col, nc, g->k, c);
    return true;
  }
  if (g->b_col == 1) {                    /* B[k][n] at k·b_row + n */
    (wide ? axpy_rows_avx512 : axpy_rows_generic)(A, g->a_col, B + n0, g->b_row, nc, g->k, c);
    return true;
  }
  return false;
}
