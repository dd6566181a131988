/* base/splitmix64.h — the splitmix64 generator (Steele, Lea & Flood), the
 * seeding step of gc's generators and the stream of its seeded fills.
 * Each call adds the golden gamma to the state and mixes it, so the k-th
 * output of a state s is a function of s + k * gamma alone. */
#ifndef GC_BASE_SPLITMIX64_H
#define GC_BASE_SPLITMIX64_H

#include <stdint.h>

#define GC_SPLITMIX64_GAMMA UINT64_C(0x9e3779b97f4a7c15)

/* splitmix64: advances *x and returns the next output. */
static inline uint64_t gc_splitmix64(uint64_t *x) {
  uint64_t z = (*x += GC_SPLITMIX64_GAMMA);
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

/* The (k+1)-th output of state s, without the k before it. */
static inline uint64_t gc_splitmix64_at(uint64_t s, uint64_t k) {
  uint64_t x = s + k * GC_SPLITMIX64_GAMMA;
  return gc_splitmix64(&x);
}

#endif
