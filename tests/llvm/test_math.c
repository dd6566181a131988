/* backends/llvm/math: the emitted exp, log, tanh, sigmoid, erf, sin, cos, pow
 * and rsqrt against libm (the interpreter's reference), JIT-compiled at O3
 * for the host.
 *
 * - special values: NaN, infinities, signed zeros, overflow, underflow and
 *   subnormals as libm gives them;
 * - accuracy: f32 within 2 ulp of the double-precision libm result, f64
 *   within 1e-13 relative of the long double libm result, on a dense
 *   deterministic sample (every 1021st f32 bit pattern, edge regions,
 *   random and dense f64 values); the maxima are printed;
 * - vectorization: on an AVX-512 host, a loop applying each function
 *   compiles to zmm code with no calls;
 * - explicit vector operands give bitwise the scalar loop's results.
 *
 * GC_MATH_EXHAUSTIVE=1 also sweeps all 2^32 f32 inputs of each unary
 * function (a few minutes each; GC_MATH_ONLY=exp for one), and
 * GC_MATH_DUMP=FILE writes the kernels' assembly. Under AddressSanitizer the
 * sample is 8x sparser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/llvm/math.h"
#include "tests/llvm/math_harness.h"

#if defined(__SANITIZE_ADDRESS__)
#define SPARSE 8
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPARSE 8
#endif
#endif
#ifndef SPARSE
#define SPARSE 1
#endif

enum { F32, F64 };
enum { VW32 = 16, VW64 = 8 }; /* explicit vector widths: 512 bits */

typedef void (*kern32)(float *out, const float *x, const float *y, int64_t n);
typedef void (*kern64)(double *out, const double *x, const double *y, int64_t n);

static struct {
  mh h;
  kern32 s32[GC_MATH_COUNT], v32[GC_MATH_COUNT];
  kern64 s64[GC_MATH_COUNT], v64[GC_MATH_COUNT];
  char *ir[2][GC_MATH_COUNT];  /* optimised IR of each scalar-loop kernel */
  char *asm_text;              /* the whole module's assembly */
  int avx512;
} J;

/* ---- kernels: out[i] = fn(x[i], y[i]) for i < n ---- */

/* Vector width w = 0: a loop over scalars (the vectorizer's job); w > 0: a
 * loop over <w x T> chunks, n counting chunks. */
static LLVMValueRef build_kernel(mh *h, const char *name, int dt, gc_math_fn fn, unsigned w) {
  LLVMContextRef c = h->ctx;
  LLVMTypeRef et = dt == F32 ? LLVMFloatTypeInContext(c) : LLVMDoubleTypeInContext(c);
  LLVMTypeRef t = w ? LLVMVectorType(et, w) : et;
  LLVMTypeRef ptr = LLVMPointerTypeInContext(c, 0), i64 = LLVMInt64TypeInContext(c);
  LLVMTypeRef params[4] = {ptr, ptr, ptr, i64};
  LLVMValueRef f = mh_function(h, name, LLVMFunctionType(LLVMVoidTypeInContext(c), params, 4, 0));
  unsigned noalias = LLVMGetEnumAttributeKindForName("noalias", 7);
  for (unsigned i = 1; i <= 3; i++) LLVMAddAttributeAtIndex(f, i, LLVMCreateEnumAttribute(c, noalias, 0));
  LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(c, f, "entry");
  LLVMBasicBlockRef loop = LLVMAppendBasicBlockInContext(c, f, "loop");
  LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(c, f, "done");
  LLVMBuilderRef b = LLVMCreateBuilderInContext(c);
  LLVMPositionBuilderAtEnd(b, entry);
  LLVMValueRef n = LLVMGetParam(f, 3), zero = LLVMConstInt(i64, 0, 0);
  LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntSGT, n, zero, ""), loop, done);
  LLVMPositionBuilderAtEnd(b, loop);
  LLVMValueRef i = LLVMBuildPhi(b, i64, "i");
  unsigned align = dt == F32 ? 4 : 8;
  LLVMValueRef px = LLVMBuildGEP2(b, t, LLVMGetParam(f, 1), &i, 1, "");
  LLVMValueRef vx = LLVMBuildLoad2(b, t, px, "x");
  LLVMSetAlignment(vx, align);
  LLVMValueRef vy = NULL;
  if (gc_math_fn_arity(fn) == 2) {
    LLVMValueRef py = LLVMBuildGEP2(b, t, LLVMGetParam(f, 2), &i, 1, "");
    vy = LLVMBuildLoad2(b, t, py, "y");
    LLVMSetAlignment(vy, align);
  }
  LLVMValueRef r = gc_llvm_math(b, h->mod, fn, vx, vy);
  assert_non_null(r);
  LLVMValueRef po = LLVMBuildGEP2(b, t, LLVMGetParam(f, 0), &i, 1, "");
  LLVMSetAlignment(LLVMBuildStore(b, r, po), align);
  LLVMValueRef next = LLVMBuildNSWAdd(b, i, LLVMConstInt(i64, 1, 0), "");
  LLVMValueRef more = LLVMBuildICmp(b, LLVMIntSLT, next, n, "");
  LLVMBuildCondBr(b, more, loop, done);
  LLVMValueRef in_v[2] = {zero, next};
  LLVMBasicBlockRef in_b[2] = {entry, loop};
  LLVMAddIncoming(i, in_v, in_b, 2);
  LLVMPositionBuilderAtEnd(b, done);
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);
  return f;
}

static int setup(void **state) {
  (void)state;
  if (mh_init(&J.h, "test_math")) return -1;
  J.avx512 = mh_has_avx512(&J.h);
  LLVMValueRef ks[2][GC_MATH_COUNT];
  char name[64];
  for (int fn = 0; fn < GC_MATH_COUNT; fn++) {
    for (int dt = F32; dt <= F64; dt++) {
      snprintf(name, sizeof name, "%s_%s", gc_math_fn_name(fn), dt == F32 ? "f32" : "f64");
      ks[dt][fn] = build_kernel(&J.h, name, dt, fn, 0);
      snprintf(name, sizeof name, "%s_v%s", gc_math_fn_name(fn), dt == F32 ? "f32" : "f64");
      build_kernel(&J.h, name, dt, fn, dt == F32 ? VW32 : VW64);
    }
  }
  if (mh_optimize(&J.h)) return -1;
  for (int dt = F32; dt <= F64; dt++)
    for (int fn = 0; fn < GC_MATH_COUNT; fn++) {
      char *s = LLVMPrintValueToString(ks[dt][fn]);
      J.ir[dt][fn] = strdup(s);
      LLVMDisposeMessage(s);
    }
  J.asm_text = mh_asm(&J.h);
  if (!J.asm_text) return -1;
  const char *dump = getenv("GC_MATH_DUMP"); /* a file for the kernels' assembly */
  FILE *f = dump ? fopen(dump, "w") : NULL;
  if (f) fputs(J.asm_text, f), fclose(f);
  if (mh_jit(&J.h)) return -1;
  for (int fn = 0; fn < GC_MATH_COUNT; fn++) {
    const char *nm = gc_math_fn_name(fn);
    snprintf(name, sizeof name, "%s_f32", nm);
    J.s32[fn] = (kern32)mh_lookup(&J.h, name);
    snprintf(name, sizeof name, "%s_vf32", nm);
    J.v32[fn] = (kern32)mh_lookup(&J.h, name);
    snprintf(name, sizeof name, "%s_f64", nm);
    J.s64[fn] = (kern64)mh_lookup(&J.h, name);
    snprintf(name, sizeof name, "%s_vf64", nm);
    J.v64[fn] = (kern64)mh_lookup(&J.h, name);
    if (!J.s32[fn] || !J.v32[fn] || !J.s64[fn] || !J.v64[fn]) return -1;
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  for (int dt = F32; dt <= F64; dt++)
    for (int fn = 0; fn < GC_MATH_COUNT; fn++) free(J.ir[dt][fn]);
  free(J.asm_text);
  mh_dispose(&J.h);
  return 0;
}

/* ---- references: libm, as the interpreter computes ---- */

static double sigmoid_d(double x) {
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}

static long double sigmoid_l(long double x) {
  if (x >= 0) return 1.0L / (1.0L + expl(-x));
  long double e = expl(x);
  return e / (1.0L + e);
}

/* f32: the double-precision libm result */
static double ref32(gc_math_fn fn, float xf, float yf) {
  double x = xf, y = yf;
  switch (fn) {
  case GC_MATH_EXP: return exp(x);
  case GC_MATH_LOG: return log(x);
  case GC_MATH_TANH: return tanh(x);
  case GC_MATH_SIGMOID: return sigmoid_d(x);
  case GC_MATH_ERF: return erf(x);
  case GC_MATH_SIN: return sin(x);
  case GC_MATH_COS: return cos(x);
  case GC_MATH_POW: return pow(x, y);
  case GC_MATH_RSQRT: return 1.0 / sqrt(x);
  default: return NAN;
  }
}

/* f64: the long double libm result */
static long double ref64(gc_math_fn fn, double xd, double yd) {
  long double x = xd, y = yd;
  switch (fn) {
  case GC_MATH_EXP: return expl(x);
  case GC_MATH_LOG: return logl(x);
  case GC_MATH_TANH: return tanhl(x);
  case GC_MATH_SIGMOID: return sigmoid_l(x);
  case GC_MATH_ERF: return erfl(x);
  case GC_MATH_SIN: return sinl(x);
  case GC_MATH_COS: return cosl(x);
  case GC_MATH_POW: return powl(x, y);
  case GC_MATH_RSQRT: return 1.0L / sqrtl(x);
  default: return NAN;
  }
}

/* the interpreter's own f64 formula, for the special-value checks */
static double libm64(gc_math_fn fn, double x, double y) {
  switch (fn) {
  case GC_MATH_EXP: return exp(x);
  case GC_MATH_LOG: return log(x);
  case GC_MATH_TANH: return tanh(x);
  case GC_MATH_SIGMOID: return sigmoid_d(x);
  case GC_MATH_ERF: return erf(x);
  case GC_MATH_SIN: return sin(x);
  case GC_MATH_COS: return cos(x);
  case GC_MATH_POW: return pow(x, y);
  case GC_MATH_RSQRT: return 1.0 / sqrt(x);
  default: return NAN;
  }
}

/* ---- error measures ---- */

static double ulp32(double v) {
  float f = fabsf((float)v);
  if (f < FLT_MIN) return 0x1p-149;
  int e;
  frexpf(f, &e);
  return ldexp(1.0, e - 24);
}

/* f32 error in ulps of the rounded reference; INFINITY when the class
 * differs (NaN, infinity, or a zero's sign where both are zero). */
static double err32(float got, double ref) {
  float rf = (float)ref;
  if (isnan(rf) || isnan(got)) return isnan(rf) && isnan(got) ? 0 : INFINITY;
  if (isinf(rf) || isinf(got)) return rf == got ? 0 : INFINITY;
  if (rf == 0 && got == 0 && signbit(rf) != signbit(got)) return INFINITY;
  return fabs((double)got - ref) / ulp32(ref);
}

/* f64 relative error, the denominator at least `floor` (DBL_MIN: subnormal
 * results are judged absolutely); INFINITY when the class differs. */
static double err64(double got, long double ref, long double floor_) {
  double rd = (double)ref;
  if (isnan(rd) || isnan(got)) return isnan(rd) && isnan(got) ? 0 : INFINITY;
  if (isinf(rd) || isinf(got)) return rd == got ? 0 : INFINITY;
  if (rd == 0 && got == 0 && signbit(rd) != signbit(got)) return INFINITY;
  long double d = fabsl(ref);
  if (d < floor_) d = floor_;
  return (double)(fabsl((long double)got - ref) / d);
}

typedef struct {
  double max;
  double x, y;
  long n;
} stat;

static void stat_add(stat *s, double e, double x, double y) {
  s->n++;
  if (e > s->max || (isinf(e) && !isinf(s->max))) {
    s->max = e;
    s->x = x;
    s->y = y;
  }
}

/* ---- running a batch ---- */

enum { BATCH = 1 << 14 };

static void run32(gc_math_fn fn, const float *x, const float *y, int n, stat *s) {
  static float out[BATCH];
  J.s32[fn](out, x, y, n);
  for (int i = 0; i < n; i++) stat_add(s, err32(out[i], ref32(fn, x[i], y ? y[i] : 0)), x[i], y ? y[i] : 0);
}

static void run64(gc_math_fn fn, const double *x, const double *y, int n, long double floor_, stat *s) {
  static double out[BATCH];
  J.s64[fn](out, x, y, n);
  for (int i = 0; i < n; i++)
    stat_add(s, err64(out[i], ref64(fn, x[i], y ? y[i] : 0), floor_), x[i], y ? y[i] : 0);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rng(void) { /* splitmix64 */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static double uniform(double lo, double hi) { return lo + (hi - lo) * (double)(rng() >> 11) * 0x1p-53; }

static float f32_of_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}
static uint32_t bits_of_f32(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}
static double f64_of_bits(uint64_t u) {
  double d;
  memcpy(&d, &u, 8);
  return d;
}
static uint64_t bits_of_f64(double d) {
  uint64_t u;
  memcpy(&u, &d, 8);
  return u;
}

/* ---- f32 sweeps ---- */

typedef struct {
  float x[BATCH];
  int n;
} buf32;

static void push32(buf32 *b, gc_math_fn fn, float v, stat *s) {
  b->x[b->n++] = v;
  if (b->n == BATCH) {
    run32(fn, b->x, NULL, b->n, s);
    b->n = 0;
  }
}

/* every stride-th bit pattern from `start`, over all 2^32 */
static void sweep32(gc_math_fn fn, uint64_t start, uint64_t stride, stat *s) {
  static buf32 b;
  b.n = 0;
  for (uint64_t u = start; u < (1ULL << 32); u += stride) push32(&b, fn, f32_of_bits((uint32_t)u), s);
  if (b.n) run32(fn, b.x, NULL, b.n, s);
}

/* the 2*r+1 floats around each center */
static void around32(gc_math_fn fn, const float *centers, int nc, int r, stat *s) {
  static buf32 b;
  b.n = 0;
  for (int c = 0; c < nc; c++) {
    float v = centers[c];
    for (int i = 0; i < r; i++) v = nextafterf(v, -INFINITY);
    for (int i = 0; i <= 2 * r; i++, v = nextafterf(v, INFINITY)) push32(&b, fn, v, s);
  }
  if (b.n) run32(fn, b.x, NULL, b.n, s);
}

static void uniform32(gc_math_fn fn, double lo, double hi, long n, stat *s) {
  static buf32 b;
  b.n = 0;
  for (long i = 0; i < n; i++) push32(&b, fn, (float)uniform(lo, hi), s);
  if (b.n) run32(fn, b.x, NULL, b.n, s);
}

/* f32 inputs nearest k pi/2, the hardest for the reduction, for k <= kmax */
static void near_pio2_32(gc_math_fn fn, int kmax, int r, stat *s) {
  static float c[8192];
  int nc = 0;
  for (int k = 1; k <= kmax && nc < 8192; k += 1 + k / 4096) {
    c[nc++] = (float)(k * M_PI_2);
    c[nc++] = (float)(-k * M_PI_2);
  }
  around32(fn, c, nc, r, s);
}

static void report(const char *fn, const char *dt, const char *what, const stat *s, const char *unit) {
  printf("  %-8s %s %-28s max %-10.4g %s at x = %-14.9g", fn, dt, what, s->max, unit, s->x);
  if (s->y != 0) printf(" y = %.9g", s->y);
  printf(" (%ld values)\n", s->n);
}

static void check32(gc_math_fn fn, const char *what, const stat *s, double bound) {
  report(gc_math_fn_name(fn), "f32", what, s, "ulp");
  if (!(s->max <= bound))
    fail_msg("%s f32 %s: %.4g ulp at x = %.9g (%a) y = %.9g, bound %g", gc_math_fn_name(fn), what, s->max, s->x,
             s->x, s->y, bound);
}

static void check64(gc_math_fn fn, const char *what, const stat *s, double bound) {
  report(gc_math_fn_name(fn), "f64", what, s, "rel");
  if (!(s->max <= bound))
    fail_msg("%s f64 %s: %.4g at x = %.17g (%a) y = %.17g, bound %g", gc_math_fn_name(fn), what, s->max, s->x, s->x,
             s->y, bound);
}

#define STRIDE32 (1021ULL * SPARSE)
#define ULP_BOUND 2.0
#define REL_BOUND 1e-13

static const float edges_common[] = {0.0f, -0.0f, 1.0f, -1.0f, FLT_MIN, -FLT_MIN, FLT_MAX, -FLT_MAX};
#define NE(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void unary32(gc_math_fn fn, const float *edges, int ne, double lo, double hi) {
  stat s = {0};
  sweep32(fn, 0, STRIDE32, &s);
  check32(fn, "every 1021st bit pattern", &s, ULP_BOUND);
  stat e = {0};
  around32(fn, edges_common, NE(edges_common), 4096 / SPARSE, &e);
  around32(fn, edges, ne, 4096 / SPARSE, &e);
  check32(fn, "edges +-4096 ulp", &e, ULP_BOUND);
  stat u = {0};
  uniform32(fn, lo, hi, 1000000 / SPARSE, &u);
  char what[64];
  snprintf(what, sizeof what, "uniform [%g, %g]", lo, hi);
  check32(fn, what, &u, ULP_BOUND);
}

static void test_exp_f32(void **state) {
  (void)state;
  static const float edges[] = {88.7228317f, -87.3365479f, -103.972084f, -102.0f, 0.346573591f, -0.346573591f, 1e-7f};
  unary32(GC_MATH_EXP, edges, NE(edges), -104, 89);
}

static void test_log_f32(void **state) {
  (void)state;
  static const float edges[] = {0.707106769f, 1.41421354f, 0.5f, 2.0f, 1e-40f, 0x1p-149f, 3.0f};
  unary32(GC_MATH_LOG, edges, NE(edges), 0, 4);
}

static void test_tanh_f32(void **state) {
  (void)state;
  static const float edges[] = {0.625f, -0.625f, 9.0f, -9.0f, 10.0f, 1e-4f, 0.3f};
  unary32(GC_MATH_TANH, edges, NE(edges), -10, 10);
}

static void test_sigmoid_f32(void **state) {
  (void)state;
  static const float edges[] = {-87.3365479f, -103.27893f, -104.0f, 16.6355324f, 17.0f, 1e-4f, -1e-4f};
  unary32(GC_MATH_SIGMOID, edges, NE(edges), -110, 20);
}

static void test_erf_f32(void **state) {
  (void)state;
  static const float edges[] = {1.0f, -1.0f, 3.9192059f, 3.95f, 2.5f, 1e-4f, 0.5f};
  unary32(GC_MATH_ERF, edges, NE(edges), -5, 5);
}

static void trig32(gc_math_fn fn) {
  static const float edges[] = {0.785398185f, 1.57079637f, 3.14159274f, 1e4f, -1e4f, 1e-4f, 100.0f};
  unary32(fn, edges, NE(edges), -1e4, 1e4);
  stat s = {0};
  near_pio2_32(fn, 6366, 4, &s); /* |x| <= 1e4 */
  check32(fn, "near k pi/2, |x| <= 1e4", &s, ULP_BOUND);
  stat w = {0};
  uniform32(fn, -1e6, 1e6, 200000 / SPARSE, &w);
  check32(fn, "uniform [-1e6, 1e6]", &w, ULP_BOUND);
}

static void test_sin_f32(void **state) {
  (void)state;
  trig32(GC_MATH_SIN);
}

static void test_cos_f32(void **state) {
  (void)state;
  trig32(GC_MATH_COS);
}

static void test_rsqrt_f32(void **state) {
  (void)state;
  static const float edges[] = {4.0f, 0x1p-149f, 0x1p-126f, 1e30f, 0.25f, 2.0f, 3.0f};
  unary32(GC_MATH_RSQRT, edges, NE(edges), 0, 100);
  /* bitwise the interpreter's 1.0f / sqrtf(x) */
  static float x[BATCH], out[BATCH];
  int n = 0;
  for (uint64_t u = 0; u < (1ULL << 31) && n < BATCH; u += (1ULL << 31) / BATCH) x[n++] = f32_of_bits((uint32_t)u);
  J.s32[GC_MATH_RSQRT](out, x, NULL, n);
  for (int i = 0; i < n; i++) {
    float want = 1.0f / sqrtf(x[i]);
    if (bits_of_f32(out[i]) != bits_of_f32(want)) fail_msg("rsqrt(%a) = %a, interp %a", x[i], out[i], want);
  }
}

/* ---- f64 samples ---- */

typedef struct {
  double x[BATCH], y[BATCH];
  int n;
} buf64;

typedef struct {
  gc_math_fn fn;
  long double floor_;
  buf64 b;
  stat s;
} acc64;

static void push64(acc64 *a, double x, double y) {
  a->b.x[a->b.n] = x;
  a->b.y[a->b.n] = y;
  if (++a->b.n == BATCH) {
    run64(a->fn, a->b.x, a->b.y, a->b.n, a->floor_, &a->s);
    a->b.n = 0;
  }
}

static void flush64(acc64 *a) {
  if (a->b.n) run64(a->fn, a->b.x, a->b.y, a->b.n, a->floor_, &a->s);
  a->b.n = 0;
}

static void acc64_init(acc64 *a, gc_math_fn fn, long double floor_) {
  a->fn = fn;
  a->floor_ = floor_;
  a->b.n = 0;
  memset(&a->s, 0, sizeof a->s);
}

/* sin and cos of f64 |x| > 2^50 are NaN (docs/math.md) */
#define TRIG_MAX64 0x1p50

static int trig(gc_math_fn fn) { return fn == GC_MATH_SIN || fn == GC_MATH_COS; }

static void unary64(gc_math_fn fn, const double *edges, int ne, double lo, double hi, long double floor_) {
  static acc64 a;
  acc64_init(&a, fn, floor_);
  long n = 1000000 / SPARSE;
  for (long i = 0; i < n; i++) { /* every binade, both signs */
    double x = f64_of_bits(rng());
    if (!trig(fn) || fabs(x) <= TRIG_MAX64) push64(&a, x, 0);
  }
  flush64(&a);
  check64(fn, "random bit patterns", &a.s, REL_BOUND);
  acc64_init(&a, fn, floor_);
  for (long i = 0; i < n; i++) push64(&a, uniform(lo, hi), 0);
  flush64(&a);
  char what[64];
  snprintf(what, sizeof what, "uniform [%g, %g]", lo, hi);
  check64(fn, what, &a.s, REL_BOUND);
  acc64_init(&a, fn, floor_);
  static const double common[] = {0.0, 1.0, -1.0, DBL_MIN, -DBL_MIN, 1e300, -1e300};
  for (int pass = 0; pass < 2; pass++) {
    const double *c = pass ? edges : common;
    int nc = pass ? ne : NE(common);
    for (int k = 0; k < nc; k++) {
      if (trig(fn) && fabs(c[k]) > TRIG_MAX64 / 2) continue;
      double v = c[k];
      for (int i = 0; i < 2048 / SPARSE; i++) v = nextafter(v, -INFINITY);
      for (int i = 0; i <= 4096 / SPARSE; i++, v = nextafter(v, INFINITY)) push64(&a, v, 0);
      /* and a wider neighbourhood, relative 1e-6 */
      for (int i = 0; i < 1000 / SPARSE; i++) push64(&a, c[k] * (1 + uniform(-1e-6, 1e-6)), 0);
    }
  }
  flush64(&a);
  check64(fn, "edges", &a.s, REL_BOUND);
}

static void test_exp_f64(void **state) {
  (void)state;
  static const double edges[] = {709.782712893384, -708.3964185322641, -745.1332191019411, -744.44007192138122,
                                 0.34657359027997264, -0.34657359027997264, 1e-9};
  unary64(GC_MATH_EXP, edges, NE(edges), -746, 710, DBL_MIN);
}

static void test_log_f64(void **state) {
  (void)state;
  static const double edges[] = {0.70710678118654757, 1.4142135623730951, 0.5, 2.0, 1e-310, 0x1p-1074, 3.0};
  unary64(GC_MATH_LOG, edges, NE(edges), 0, 4, DBL_MIN);
  static acc64 a;
  acc64_init(&a, GC_MATH_LOG, DBL_MIN);
  for (long i = 0; i < 500000 / SPARSE; i++) push64(&a, 1 + uniform(-1e-3, 1e-3), 0); /* log near 0 */
  flush64(&a);
  check64(GC_MATH_LOG, "uniform 1 +- 1e-3", &a.s, REL_BOUND);
}

static void test_tanh_f64(void **state) {
  (void)state;
  static const double edges[] = {0.25, -0.25, 19.0, 20.0, 1e-5, 0.1, 0.625};
  unary64(GC_MATH_TANH, edges, NE(edges), -20, 20, DBL_MIN);
}

static void test_sigmoid_f64(void **state) {
  (void)state;
  static const double edges[] = {-708.3964185322641, -745.1332191019411, -746.0, 36.7368005696771, 37.5, 1e-9, -1e-9};
  unary64(GC_MATH_SIGMOID, edges, NE(edges), -750, 40, DBL_MIN);
}

static void test_erf_f64(void **state) {
  (void)state;
  static const double edges[] = {1.0, -1.0, 5.9215871957945083, 6.0, 3.5, 1e-9, 0.5};
  unary64(GC_MATH_ERF, edges, NE(edges), -7, 7, DBL_MIN);
}

/* sin/cos: relative error where |result| >= 2^-30, absolute (scaled by
 * 2^30) below, so the zeros near k pi count by absolute error */
static void trig64(gc_math_fn fn) {
  static const double edges[] = {0.78539816339744828, 1.5707963267948966, 3.1415926535897931, 1e4, -1e4, 1e-8, 100.0};
  unary64(fn, edges, NE(edges), -1e4, 1e4, 0x1p-30L);
  static acc64 a;
  acc64_init(&a, fn, 0x1p-30L);
  for (int k = 1; k <= 6366; k++) { /* the doubles nearest k pi/2, |x| <= 1e4 */
    double v = k * (double)M_PI_2;
    v = (double)(k * 1.5707963267948966192313216916397514L);
    for (int i = -3; i <= 3; i++) {
      double w = v;
      for (int j = 0; j < abs(i); j++) w = nextafter(w, i < 0 ? -INFINITY : INFINITY);
      push64(&a, w, 0);
      push64(&a, -w, 0);
    }
  }
  flush64(&a);
  check64(fn, "near k pi/2, |x| <= 1e4", &a.s, REL_BOUND);
  acc64_init(&a, fn, 0x1p-30L);
  for (long i = 0; i < 200000 / SPARSE; i++) push64(&a, uniform(-1e9, 1e9), 0);
  flush64(&a);
  check64(fn, "uniform [-1e9, 1e9]", &a.s, REL_BOUND);
}

static void test_sin_f64(void **state) {
  (void)state;
  trig64(GC_MATH_SIN);
}

static void test_cos_f64(void **state) {
  (void)state;
  trig64(GC_MATH_COS);
}

static void test_rsqrt_f64(void **state) {
  (void)state;
  static const double edges[] = {4.0, 0x1p-1074, 0x1p-1022, 1e300, 0.25, 2.0, 3.0};
  unary64(GC_MATH_RSQRT, edges, NE(edges), 0, 100, DBL_MIN);
}

/* ---- pow ---- */

/* y values the models and common code use, and some awkward ones */
static const double pow_ys[] = {2, 3, -1, -2, 0.5, -0.5, 1.0 / 3, 2.5, -1.7, 1e-3, 7.25, 10, -3, 4, 1.5, 0.25};

static void test_pow_f32(void **state) {
  (void)state;
  static float x[BATCH], y[BATCH];
  stat s = {0};
  int n = 0;
  long count = 0;
  /* positive x over every binade, y cycling through pow_ys and random */
  for (uint64_t u = 1; u < 0x7f800000u; u += 1021 * SPARSE, count++) {
    x[n] = f32_of_bits((uint32_t)u);
    y[n] = count % 3 ? (float)pow_ys[count % NE(pow_ys)] : (float)uniform(-20, 20);
    if (++n == BATCH) run32(GC_MATH_POW, x, y, n, &s), n = 0;
  }
  if (n) run32(GC_MATH_POW, x, y, n, &s), n = 0;
  check32(GC_MATH_POW, "x > 0 bit patterns", &s, ULP_BOUND);
  stat m = {0};
  for (long i = 0; i < 400000 / SPARSE; i++) {
    switch (i % 4) {
    case 0: x[n] = 10000.0f, y[n] = (float)uniform(-1, 1); break;                 /* RoPE's theta^e */
    case 1: x[n] = (float)uniform(0.9, 0.9999), y[n] = (float)(rng() % 100000); break; /* Adam's beta^t */
    case 2: x[n] = -(float)uniform(0.01, 100), y[n] = (float)((int)(rng() % 21) - 10); break;
    default: x[n] = (float)uniform(0, 50), y[n] = (float)uniform(-30, 30); break;
    }
    if (++n == BATCH) run32(GC_MATH_POW, x, y, n, &m), n = 0;
  }
  if (n) run32(GC_MATH_POW, x, y, n, &m), n = 0;
  check32(GC_MATH_POW, "model cases, negative x", &m, ULP_BOUND);
}

static void test_pow_f64(void **state) {
  (void)state;
  static acc64 a;
  acc64_init(&a, GC_MATH_POW, DBL_MIN);
  long n = 1000000 / SPARSE;
  for (long i = 0; i < n; i++) {
    double x = f64_of_bits(rng() >> 1); /* x > 0, every binade */
    double y = i % 3 ? pow_ys[i % NE(pow_ys)] : uniform(-3, 3);
    push64(&a, x, y);
  }
  flush64(&a);
  check64(GC_MATH_POW, "x > 0 bit patterns", &a.s, REL_BOUND);
  acc64_init(&a, GC_MATH_POW, DBL_MIN);
  for (long i = 0; i < n; i++) {
    switch (i % 4) {
    case 0: push64(&a, 10000.0, uniform(-1, 1)); break;
    case 1: push64(&a, uniform(0.9, 0.9999), (double)(rng() % 100000)); break;
    case 2: push64(&a, -uniform(0.01, 100), (double)((int)(rng() % 21) - 10)); break;
    default: push64(&a, uniform(0.5, 2), uniform(-1000, 1000)); break; /* |y log x| up to ~700 */
    }
  }
  flush64(&a);
  check64(GC_MATH_POW, "model cases, large |y log x|", &a.s, REL_BOUND);
}

/* ---- special values, both dtypes, against libm ---- */

static const double specials[] = {
    0.0, -0.0, INFINITY, -INFINITY, NAN, -NAN, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, 1.5, -2.5,
    0x1p-1074, -0x1p-1074, 0x1p-149, -0x1p-149, 1e-300, -1e-300, 1e-40, -1e-40, DBL_MAX, -DBL_MAX, FLT_MAX,
    -FLT_MAX, 1e10, -1e10, 100, -100, 1000, -1000, 800, -800, 710, -746, 89, -104, 0x1p52 + 1, -0x1p52 - 1,
    0x1p53, 1e20, -1e20,
};

/* class and value: NaN for NaN, the same infinity, the same signed zero,
 * bitwise equal where libm is exact (exp(0), tanh(inf), ...) or within the
 * accuracy bound */
static int same_special(double got, double want, double tol_rel) {
  if (isnan(want)) return isnan(got);
  if (isinf(want) || want == 0) return got == want && signbit(got) == signbit(want);
  if (want == 1.0 || want == -1.0 || want == 0.5) return got == want;
  return fabs(got - want) <= tol_rel * fabs(want);
}

static void test_specials(void **state) {
  (void)state;
  enum { N = sizeof specials / sizeof *specials };
  static double x64[N * N], y64[N * N], o64[N * N], vo64[N * N];
  static float x32[N * N], y32[N * N], o32[N * N], vo32[N * N];
  int failures = 0;
  for (int fn = 0; fn < GC_MATH_COUNT; fn++) {
    int n = 0;
    for (int i = 0; i < N; i++)
      for (int j = 0; j < (gc_math_fn_arity(fn) == 2 ? N : 1); j++) {
        x64[n] = specials[i], y64[n] = specials[j];
        x32[n] = (float)specials[i], y32[n] = (float)specials[j];
        n++;
      }
    int nv = n / VW32 * VW32;
    J.s64[fn](o64, x64, y64, n);
    J.v64[fn](vo64, x64, y64, nv / VW64);
    J.s32[fn](o32, x32, y32, n);
    J.v32[fn](vo32, x32, y32, nv / VW32);
    for (int i = 0; i < n; i++) {
      double w64 = libm64(fn, x64[i], y64[i]);
      if (trig(fn) && fabs(x64[i]) > TRIG_MAX64) w64 = NAN; /* the documented fallback */
      float w32 = (float)ref32(fn, x32[i], y32[i]);
      if (!same_special(o64[i], w64, 1e-13)) {
        print_error("%s f64 (%a, %a): got %a, libm %a\n", gc_math_fn_name(fn), x64[i], y64[i], o64[i], w64);
        failures++;
      }
      if (!same_special(o32[i], w32, 3e-7)) {
        print_error("%s f32 (%a, %a): got %a, libm %a\n", gc_math_fn_name(fn), x32[i], y32[i], o32[i], w32);
        failures++;
      }
      if (i < nv && (bits_of_f64(vo64[i]) != bits_of_f64(o64[i]) || bits_of_f32(vo32[i]) != bits_of_f32(o32[i]))) {
        print_error("%s (%a, %a): vector operands differ from the scalar loop\n", gc_math_fn_name(fn), x64[i], y64[i]);
        failures++;
      }
    }
  }
  assert_int_equal(failures, 0);
}

/* explicit <16 x float> / <8 x double> operands: bitwise the scalar loop */
static void test_vector_operands(void **state) {
  (void)state;
  enum { N = 4096 };
  static float x32[N], y32[N], a32[N], b32[N];
  static double x64[N], y64[N], a64[N], b64[N];
  for (int i = 0; i < N; i++) {
    x64[i] = uniform(-30, 30) * (i % 7 == 0 ? 30 : 1);
    y64[i] = uniform(-4, 4);
    if (i % 5 == 0) x64[i] = fabs(x64[i]);
    x32[i] = (float)x64[i], y32[i] = (float)y64[i];
  }
  for (int fn = 0; fn < GC_MATH_COUNT; fn++) {
    J.s32[fn](a32, x32, y32, N);
    J.v32[fn](b32, x32, y32, N / VW32);
    J.s64[fn](a64, x64, y64, N);
    J.v64[fn](b64, x64, y64, N / VW64);
    for (int i = 0; i < N; i++) {
      if (bits_of_f32(a32[i]) != bits_of_f32(b32[i]))
        fail_msg("%s f32 (%a): scalar loop %a, <16 x float> %a", gc_math_fn_name(fn), x32[i], a32[i], b32[i]);
      if (bits_of_f64(a64[i]) != bits_of_f64(b64[i]))
        fail_msg("%s f64 (%a): scalar loop %a, <8 x double> %a", gc_math_fn_name(fn), x64[i], a64[i], b64[i]);
    }
  }
}

/* ---- the interface ---- */

static void test_api(void **state) {
  (void)state;
  assert_string_equal(gc_math_fn_name(GC_MATH_SIGMOID), "sigmoid");
  assert_null(gc_math_fn_name(GC_MATH_COUNT));
  assert_int_equal(gc_math_fn_arity(GC_MATH_POW), 2);
  assert_int_equal(gc_math_fn_arity(GC_MATH_EXP), 1);
  LLVMContextRef c = LLVMContextCreate();
  LLVMModuleRef m = LLVMModuleCreateWithNameInContext("api", c);
  LLVMTypeRef f32 = LLVMFloatTypeInContext(c), i32 = LLVMInt32TypeInContext(c);
  LLVMTypeRef v4 = LLVMVectorType(f32, 4), v3d = LLVMVectorType(LLVMDoubleTypeInContext(c), 3);
  assert_true(gc_math_type_ok(v4) && gc_math_type_ok(v3d) && gc_math_type_ok(f32));
  assert_false(gc_math_type_ok(i32) || gc_math_type_ok(LLVMVectorType(i32, 4)) ||
               gc_math_type_ok(LLVMHalfTypeInContext(c)) || gc_math_type_ok(LLVMVectorType(f32, 128)));
  assert_null(gc_llvm_math_function(m, GC_MATH_EXP, i32));
  assert_null(gc_llvm_math_function(m, GC_MATH_COUNT, f32));
  /* one helper per (function, type), named after both, reused */
  LLVMValueRef e4 = gc_llvm_math_function(m, GC_MATH_EXP, v4);
  assert_non_null(e4);
  size_t len;
  assert_string_equal(LLVMGetValueName2(e4, &len), "gc.math.exp.v4f32");
  assert_ptr_equal(gc_llvm_math_function(m, GC_MATH_EXP, v4), e4);
  for (int fn = 0; fn < GC_MATH_COUNT; fn++) assert_non_null(gc_llvm_math_function(m, fn, v3d));
  assert_string_equal(LLVMGetValueName2(gc_llvm_math_function(m, GC_MATH_POW, v3d), &len), "gc.math.pow.v3f64");
  /* pow needs y of x's type */
  LLVMTypeRef fty = LLVMFunctionType(f32, &f32, 1, 0);
  LLVMValueRef f = LLVMAddFunction(m, "user", fty);
  LLVMBuilderRef b = LLVMCreateBuilderInContext(c);
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(c, f, "entry"));
  LLVMValueRef x = LLVMGetParam(f, 0);
  assert_null(gc_llvm_math(b, m, GC_MATH_POW, x, NULL));
  LLVMValueRef r = gc_llvm_math(b, m, GC_MATH_TANH, x, NULL);
  assert_non_null(r);
  LLVMBuildRet(b, r);
  LLVMDisposeBuilder(b);
  char *msg = NULL;
  int bad = LLVMVerifyModule(m, LLVMReturnStatusAction, &msg);
  if (bad) print_error("%s\n", msg);
  LLVMDisposeMessage(msg);
  assert_false(bad);
  LLVMDisposeModule(m);
  LLVMContextDispose(c);
}

/* ---- vectorization ---- */

/* The assembly of one function: from its label to the end marker. */
static char *asm_of(const char *name) {
  char label[80];
  snprintf(label, sizeof label, "\n%s:", name);
  const char *p = strstr(J.asm_text, label);
  if (!p) return NULL;
  const char *q = strstr(p, ".Lfunc_end");
  size_t n = q ? (size_t)(q - p) : strlen(p);
  char *s = malloc(n + 1);
  memcpy(s, p, n);
  s[n] = 0;
  return s;
}

/* A call in IR that is not to an llvm.* intrinsic, or NULL. */
static const char *foreign_call(const char *ir) {
  for (const char *p = strstr(ir, "call "); p; p = strstr(p + 5, "call ")) {
    const char *at = strchr(p, '@');
    const char *eol = strchr(p, '\n');
    if (!at || (eol && at > eol) || strncmp(at, "@llvm.", 6) != 0) return p;
  }
  return NULL;
}

/* The widest "<N x float>" or "<N x double>" in IR, as text. */
static const char *widest(const char *ir) {
  static char best[32];
  int bits = 0;
  best[0] = 0;
  for (const char *p = strchr(ir, '<'); p; p = strchr(p + 1, '<')) {
    int n;
    char ty[8];
    if (sscanf(p, "<%d x %7[a-z]>", &n, ty) != 2) continue;
    int b = n * (strcmp(ty, "double") == 0 ? 64 : strcmp(ty, "float") == 0 ? 32 : 0);
    if (b > bits) bits = b, snprintf(best, sizeof best, "<%d x %s>", n, ty);
  }
  return bits ? best : "none";
}

static void test_vectorized(void **state) {
  (void)state;
  for (int dt = F32; dt <= F64; dt++)
    for (int fn = 0; fn < GC_MATH_COUNT; fn++) {
      const char *ir = J.ir[dt][fn];
      const char *call = foreign_call(ir);
      if (call) fail_msg("%s: a call in the optimised loop: %.80s", gc_math_fn_name(fn), call);
      static const char *const libm[] = {"exp", "log", "tanh", "erf", "sin", "cos", "pow", "sqrt", "expm1", "log1p"};
      for (int i = 0; i < NE(libm); i++) {
        char ref[32];
        for (int f = 0; f < 2; f++) {
          snprintf(ref, sizeof ref, "@%s%s(", libm[i], f ? "f" : "");
          if (strstr(ir, ref)) fail_msg("%s: references %s", gc_math_fn_name(fn), ref);
        }
      }
    }
  if (!J.avx512) {
    print_message("no AVX-512 on this host (%s): vector width not checked\n", J.h.cpu);
    skip();
  }
  for (int dt = F32; dt <= F64; dt++)
    for (int fn = 0; fn < GC_MATH_COUNT; fn++) {
      char name[64];
      snprintf(name, sizeof name, "%s_%s", gc_math_fn_name(fn), dt == F32 ? "f32" : "f64");
      /* 512-bit vectors: f32 sin, cos and pow compute in f64, 8 lanes */
      int wide = strstr(J.ir[dt][fn], "<16 x float>") || strstr(J.ir[dt][fn], "<8 x double>");
      print_message("  %-12s widest vector: %s\n", name, widest(J.ir[dt][fn]));
      if (!wide) fail_msg("%s: no <16 x float> or <8 x double> in the optimised loop", name);
      char *a = asm_of(name);
      assert_non_null(a);
      if (!strstr(a, "zmm")) fail_msg("%s: no zmm register in the assembly", name);
      if (strstr(a, "call")) fail_msg("%s: a call in the assembly", name);
      free(a);
    }
}

/* ---- the full f32 sweep, on request ---- */

static void test_exhaustive_f32(void **state) {
  (void)state;
  const char *env = getenv("GC_MATH_EXHAUSTIVE");
  if (!env || strcmp(env, "1") != 0) {
    print_message("set GC_MATH_EXHAUSTIVE=1 for the sweep over all 2^32 f32 inputs\n");
    skip();
  }
  static const gc_math_fn fns[] = {GC_MATH_EXP, GC_MATH_LOG, GC_MATH_TANH, GC_MATH_SIGMOID, GC_MATH_ERF,
                                   GC_MATH_SIN, GC_MATH_COS, GC_MATH_RSQRT};
  const char *only = getenv("GC_MATH_ONLY");
  for (int i = 0; i < NE(fns); i++) {
    if (only && strcmp(only, gc_math_fn_name(fns[i])) != 0) continue;
    stat s = {0};
    sweep32(fns[i], 0, 1, &s);
    check32(fns[i], "all 2^32 inputs", &s, ULP_BOUND);
    fflush(stdout);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_api),            cmocka_unit_test(test_specials),
      cmocka_unit_test(test_vector_operands),
      cmocka_unit_test(test_vectorized),     cmocka_unit_test(test_exp_f32),
      cmocka_unit_test(test_log_f32),        cmocka_unit_test(test_tanh_f32),
      cmocka_unit_test(test_sigmoid_f32),    cmocka_unit_test(test_erf_f32),
      cmocka_unit_test(test_sin_f32),        cmocka_unit_test(test_cos_f32),
      cmocka_unit_test(test_rsqrt_f32),      cmocka_unit_test(test_pow_f32),
      cmocka_unit_test(test_exp_f64),        cmocka_unit_test(test_log_f64),
      cmocka_unit_test(test_tanh_f64),       cmocka_unit_test(test_sigmoid_f64),
      cmocka_unit_test(test_erf_f64),        cmocka_unit_test(test_sin_f64),
      cmocka_unit_test(test_cos_f64),        cmocka_unit_test(test_rsqrt_f64),
      cmocka_unit_test(test_pow_f64),        cmocka_unit_test(test_exhaustive_f32),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
