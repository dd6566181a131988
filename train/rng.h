/* train/rng.h — a small deterministic pseudo-random generator.
 *
 * xoshiro256** 1.0 (Blackman & Vigna, https://prng.di.unimi.it/), seeded
 * through splitmix64 as its authors recommend.  The whole state is four
 * uint64 words in a plain struct: copy it into a checkpoint and copy it back
 * to continue the exact same sequence (a resumed run draws bit-for-bit what
 * the uninterrupted run would have drawn).  Not for cryptography.
 *
 * Header only; no global state: every function takes the generator. */
#ifndef GC_RNG_H
#define GC_RNG_H

#include "base/splitmix64.h"

#include <stdint.h>

typedef struct {
  uint64_t s[4];   /* never all zero once seeded */
} gc_rng;


/* Fills the state with four splitmix64 outputs of `seed`.  Any seed (also 0)
 * gives a valid, non-zero state. */
static inline void gc_rng_seed(gc_rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++) r->s[i] = gc_splitmix64(&seed);
}

static inline uint64_t gc_rng_rotl_(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

/* The next 64 uniformly distributed bits. */
static inline uint64_t gc_rng_next(gc_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = gc_rng_rotl_(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = gc_rng_rotl_(s[3], 45);
  return result;
}

/* Uniform integer in [0, n); n must be > 0.  Unbiased (rejects the short
 * top range of 2^64 that n does not divide). */
static inline uint64_t gc_rng_below(gc_rng *r, uint64_t n) {
  uint64_t threshold = (0 - n) % n;   /* 2^64 mod n */
  for (;;) {
    uint64_t x = gc_rng_next(r);
    if (x >= threshold) return x % n;
  }
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double gc_rng_uniform(gc_rng *r) {
  return (double)(gc_rng_next(r) >> 11) * 0x1.0p-53;
}

#endif
