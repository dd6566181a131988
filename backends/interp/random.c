/* rand_uniform: the counter-based generator Philox4x32-10 (Salmon et al.,
 * "Parallel random numbers: as easy as 1, 2, 3", SC'11).
 *   key      = (seed low 32 bits, seed high 32 bits)
 *   counter  = (index low, index high, ctr low, ctr high)
 *   f32      = (word0 >> 8) * 2^-24                     (top 24 bits)
 *   f64      = ((word0 << 32 | word1) >> 11) * 2^-53    (top 53 bits of 64)
 * Each element is a pure function of (seed, ctr, index), so any split of the
 * work across threads gives the same bits. */
#include "backends/interp/kernels.h"

#define PHILOX_M0 UINT32_C(0xD2511F53)
#define PHILOX_M1 UINT32_C(0xCD9E8D57)
#define PHILOX_W0 UINT32_C(0x9E3779B9)
#define PHILOX_W1 UINT32_C(0xBB67AE85)

static inline void mulhilo(uint32_t a, uint32_t b, uint32_t *hi, uint32_t *lo) {
  uint64_t p = (uint64_t)a * b;
  *hi = (uint32_t)(p >> 32);
  *lo = (uint32_t)p;
}

void interp_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
  uint32_t x0 = ctr[0], x1 = ctr[1], x2 = ctr[2], x3 = ctr[3];
  uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; round++) {
    uint32_t hi0, lo0, hi1, lo1;
    if (round > 0) {
      k0 += PHILOX_W0;
      k1 += PHILOX_W1;
    }
    mulhilo(PHILOX_M0, x0, &hi0, &lo0);
    mulhilo(PHILOX_M1, x2, &hi1, &lo1);
    x0 = hi1 ^ x1 ^ k0;
    x1 = lo1;
    x2 = hi0 ^ x3 ^ k1;
    x3 = lo0;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
}

static void draw(uint64_t seed, int64_t ctr, int64_t index, uint32_t out[4]) {
  uint64_t i = (uint64_t)index, c = (uint64_t)ctr;
  uint32_t counter[4] = {(uint32_t)i, (uint32_t)(i >> 32), (uint32_t)c, (uint32_t)(c >> 32)};
  uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  interp_philox4x32_10(counter, key, out);
}

float gc_rand_uniform_f32(uint64_t seed, int64_t ctr, int64_t index) {
  uint32_t w[4];
  draw(seed, ctr, index, w);
  return (float)(w[0] >> 8) * 0x1p-24f;
}

double gc_rand_uniform_f64(uint64_t seed, int64_t ctr, int64_t index) {
  uint32_t w[4];
  draw(seed, ctr, index, w);
  uint64_t bits = ((uint64_t)w[0] << 32) | w[1];
  return (double)(bits >> 11) * 0x1p-53;
}

int interp_kernel_rand_uniform(const interp_call *c) {
  uint64_t seed = (uint64_t)c->node->attrs.seed.seed;
  int64_t ctr = *(const int64_t *)c->in[0]->data, n = gc_tensor_numel(c->out);
  switch (c->out->type.dtype) {
  case GC_F32:
    for (int64_t i = 0; i < n; i++) ((float *)c->out->data)[i] = gc_rand_uniform_f32(seed, ctr, i);
    return 0;
  case GC_F64:
    for (int64_t i = 0; i < n; i++) ((double *)c->out->data)[i] = gc_rand_uniform_f64(seed, ctr, i);
    return 0;
  default:
    return interp_node_error(c, "dtype %s is not supported", gc_dtype_name(c->out->type.dtype));
  }
}
