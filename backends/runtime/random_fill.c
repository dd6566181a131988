/* Seeded tensor fills on every core (see random_fill.h). */
#include "backends/runtime/random_fill.h"
#include "backends/runtime/pool.h"
#include "base/splitmix64.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

enum { CHUNK = 1 << 16, PARALLEL_FROM = 1 << 20 };

/* ---- the ziggurat ------------------------------------------------------ */

/* Marsaglia & Tsang's ziggurat ("The Ziggurat Method for Generating Random
 * Variables", J. Stat. Softw. 5(8), 2000) with 256 layers of equal area V
 * and a 52-bit magnitude, the layer and the sign taken from different bits
 * of one draw.  Layer 0 is the base strip with the tail past R; the tables
 * are built once from R and V with libm's exp, log and sqrt. */
#define ZIG_R 3.6541528853610088
#define ZIG_V 4.92867323399e-3
#define ZIG_M 4503599627370496.0   /* 2^52 */

static uint64_t zig_k[256];
static double zig_w[256], zig_f[256];
static pthread_once_t zig_once = PTHREAD_ONCE_INIT;

static void zig_tables(void) {
  double dn = ZIG_R, tn = dn, q = ZIG_V / exp(-0.5 * dn * dn);
  zig_k[0] = (uint64_t)(dn / q * ZIG_M);
  zig_k[1] = 0;
  zig_w[0] = q / ZIG_M;
  zig_w[255] = dn / ZIG_M;
  zig_f[0] = 1.0;
  zig_f[255] = exp(-0.5 * dn * dn);
  for (int i = 254; i >= 1; i--) {
    dn = sqrt(-2.0 * log(ZIG_V / dn + exp(-0.5 * dn * dn)));
    zig_k[i + 1] = (uint64_t)(dn / tn * ZIG_M);
    tn = dn;
    zig_f[i] = exp(-0.5 * dn * dn);
    zig_w[i] = dn / ZIG_M;
  }
}

static double unit(uint64_t *s) { return (double)(gc_splitmix64(s) >> 11) * 0x1.0p-53; }

/* One standard normal from the stream *s (one draw 99% of the time). */
static double zig_normal(uint64_t *s) {
  for (;;) {
    uint64_t r = gc_splitmix64(s);
    int layer = (int)(r & 0xff);
    bool negative = (r >> 8) & 1;
    uint64_t mag = r >> 12;                       /* 52 bits */
    double x = (double)mag * zig_w[layer];
    if (mag < zig_k[layer]) return negative ? -x : x;
    if (layer == 0) {                             /* the tail past R */
      for (;;) {
        double xx = -log(1.0 - unit(s)) / ZIG_R, yy = -log(1.0 - unit(s));
        if (yy + yy > xx * xx) return negative ? -(ZIG_R + xx) : ZIG_R + xx;
      }
    }
    if (zig_f[layer] + unit(s) * (zig_f[layer - 1] - zig_f[layer]) < exp(-0.5 * x * x)) return negative ? -x : x;
  }
}

/* ---- chunks on the pool ------------------------------------------------ */

typedef struct {
  gc_tensor *t;
  uint64_t state;
  double a, b;   /* normal: mean, std; value: v */
  int64_t high;  /* integers */
  void (*range)(const void *job, int64_t lo, int64_t hi);
} job;

static void store(gc_tensor *t, int64_t i, double v) {
  if (t->type.dtype == GC_F32) ((float *)t->data)[i] = (float)v;
  else if (t->type.dtype == GC_F64) ((double *)t->data)[i] = v;
  else gc_tensor_store(t, i, v);
}

/* lo is a multiple of CHUNK: the chunk's own stream starts there. */
static void normal_range(const void *p, int64_t lo, int64_t hi) {
  const job *j = p;
  uint64_t s = gc_splitmix64_at(j->state, (uint64_t)(lo / CHUNK));
  for (int64_t i = lo; i < hi; i++) store(j->t, i, j->a + j->b * zig_normal(&s));
}

static void integer_range(const void *p, int64_t lo, int64_t hi) {
  const job *j = p;
  for (int64_t i = lo; i < hi; i++) {
    uint64_t r = gc_splitmix64_at(j->state, (uint64_t)i);
    double v = j->t->type.dtype == GC_BOOL ? (double)(r & 1) : j->high > 0 ? (double)(r % (uint64_t)j->high) : 0;
    gc_tensor_store(j->t, i, v);
  }
}

static void value_range(const void *p, int64_t lo, int64_t hi) {
  const job *j = p;
  for (int64_t i = lo; i < hi; i++) store(j->t, i, j->a);
}

static void chunk(void *ctx, int64_t c, int worker) {
  (void)worker;
  const job *j = ctx;
  int64_t n = gc_tensor_numel(j->t), lo = c * CHUNK, hi = lo + CHUNK < n ? lo + CHUNK : n;
  j->range(j, lo, hi);
}

/* Chunk by chunk, in any order on any thread: the values never depend on
 * which.  A pool is worth its threads only for large tensors. */
static void run(job *j) {
  int64_t n = gc_tensor_numel(j->t), chunks = (n + CHUNK - 1) / CHUNK;
  gc_pool *pool = n >= PARALLEL_FROM && gc_available_cores() > 1 ? gc_pool_new(0) : NULL;
  if (pool) gc_pool_run(pool, chunks, chunk, j);
  else
    for (int64_t c = 0; c < chunks; c++) chunk(j, c, 0);
  gc_pool_free(pool);
}

void gc_fill_normal(gc_tensor *t, uint64_t state, double mean, double std) {
  pthread_once(&zig_once, zig_tables);
  run(&(job){.t = t, .state = state, .a = mean, .b = std, .range = normal_range});
}

void gc_fill_integers(gc_tensor *t, uint64_t state, int64_t high) {
  run(&(job){.t = t, .state = state, .high = high, .range = integer_range});
}

void gc_fill_value(gc_tensor *t, double v) {
  if (v == 0 && !signbit(v)) memset(t->data, 0, gc_tensor_bytes(t));   /* +0 is all zero bits in every dtype */
  else run(&(job){.t = t, .a = v, .range = value_range});
}
