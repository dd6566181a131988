/* Vectorizable exp, log, tanh, sigmoid, erf, sin, cos, pow and rsqrt in LLVM IR.
 *
 * Every function is straight-line code: both sides of every case are
 * computed and the right one picked with a select, so the loop vectorizer
 * turns a call on a scalar into the same code on a vector. Inputs are
 * sanitised (moved into the range the core handles) before any
 * float-to-integer step, so no value is ever poison; special inputs are
 * patched in at the end. Methods, error bounds and special values:
 * docs/math.md. The coefficients come from scripts/fit_math.py.
 */
#include "backends/llvm/math.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ---- coefficients (fitted by scripts/fit_math.py) ---- */

/* BEGIN fitted by scripts/fit_math.py */
#define LN2_HI_F32 0x1.62e4000000000p-1 /* 0.693145751953125 */
#define LN2_LO_F32 0x1.7f7d1c0000000p-20 /* 1.428606765330187e-06 */
#define LN2_HI_F64 0x1.62e42fee00000p-1 /* 0.6931471803691238 */
#define LN2_LO_F64 0x1.a39ef35793c76p-33 /* 1.9082149292705877e-10 */
#define PIO2_1 0x1.921fb54442d18p+0 /* 1.5707963267948966 */
#define PIO2_2 0x1.1a62633145c07p-54 /* 6.123233995736766e-17 */
#define PIO2_3 -0x1.f1976b7ed8fbcp-110 /* -1.4973849048591698e-33 */
#define TANH_SMALL_F32 0x1.4000000000000p-1 /* 0.625 */
#define TANH_SMALL_F64 0x1.0000000000000p-2 /* 0.25 */
#define ERF_MID_F32 0x1.4000000000000p+1 /* 2.5 */
#define ERF_TOP_F32 0x1.f99999999999ap+1 /* 3.95 */
#define ERF_MID_F64 0x1.c000000000000p+1 /* 3.5 */
#define ERF_TOP_F64 0x1.8000000000000p+2 /* 6.0 */
#define TRIG_MAX 0x1.0000000000000p+50 /* 1125899906842624.0 */
/* 2/pi = sum of these, each 24 bits: f32 sin/cos beyond TRIG_MAX */
static const double two_over_pi_24[9] = {
  0x1.45f3060000000p-1,
  0x1.b939100000000p-26,
  0x1.529fc00000000p-52,
  0x1.3abe880000000p-75,
  0x1.ea69ba0000000p-97,
  0x1.81b6c40000000p-121,
  0x1.2b32780000000p-145,
  0x1.0e41040000000p-170,
  0x1.fca2c60000000p-193,
};

/* e^r = 1 + r + r^2 Q(r), |r| <= ln2/2; max weighted error 5.53e-9 (exact arithmetic) */
static const double exp_f32[5] = {
  0x1.fffffc0000000p-2, /* 0.4999999403953552 */
  0x1.55549c0000000p-3, /* 0.16666528582572937 */
  0x1.5558f20000000p-5, /* 0.04166838899254799 */
  0x1.1239d40000000p-7, /* 0.008368710055947304 */
  0x1.6a244c0000000p-10, /* 0.001381461275741458 */
};

/* e^r = 1 + r + r^2 Q(r), |r| <= ln2/2; max weighted error 8.08e-18 (exact arithmetic) */
static const double exp_f64[10] = {
  0x1.000000000000dp-1, /* 0.5000000000000014 */
  0x1.55555555554f3p-3, /* 0.16666666666666394 */
  0x1.55555555503d9p-5, /* 0.04166666666652192 */
  0x1.1111111127d01p-7, /* 0.008333333333494954 */
  0x1.6c16c1843a85dp-10, /* 0.0013888888943776247 */
  0x1.a01a012ad2193p-13, /* 0.00019841269507937502 */
  0x1.a0199a5b07ee5p-16, /* 2.4801493378244928e-05 */
  0x1.71df253ba3460p-19, /* 2.7557586273542375e-06 */
  0x1.28ad68c3f1d54p-22, /* 2.7630234122581255e-07 */
  0x1.ad7f78b6cfe92p-26, /* 2.5000070204326232e-08 */
};

/* log1p f = f + f^2 P(f), f in [sqrt(1/2)-1, sqrt(2)-1]; max weighted error 1.23e-8 (exact arithmetic) */
static const double log_f32[9] = {
  -0x1.fffff60000000p-2, /* -0.49999985098838806 */
  0x1.55554a0000000p-2, /* 0.33333316445350647 */
  -0x1.0004460000000p-2, /* -0.25001630187034607 */
  0x1.99a4c00000000p-3, /* 0.20002126693725586 */
  -0x1.5426e00000000p-3, /* -0.16608977317810059 */
  0x1.22703a0000000p-3, /* 0.14181561768054962 */
  -0x1.0f37660000000p-3, /* -0.13242988288402557 */
  0x1.0848680000000p-3, /* 0.12904435396194458 */
  -0x1.3830260000000p-4, /* -0.07621779292821884 */
};

/* log1p f = 2s + s^3 R(s^2), s = f/(2+f); max weighted error 1.98e-18 (exact arithmetic) */
static const double log_f64[7] = {
  0x1.5555555555595p-1, /* 0.6666666666666737 */
  0x1.999999997fb9cp-2, /* 0.39999999999411684 */
  0x1.24924941f47fap-2, /* 0.2857142874246389 */
  0x1.c71c520955c01p-3, /* 0.22222198573101085 */
  0x1.74663eea11e06p-3, /* 0.18183564330887253 */
  0x1.39a1ba89beba9p-3, /* 0.15314050419678196 */
  0x1.2f05656fcdabfp-3, /* 0.1479595112557117 */
};

/* tanh x = x + x^3 P(x^2), |x| < 0.625; max weighted error 2.63e-9 (exact arithmetic) */
static const double tanh_f32[6] = {
  -0x1.5555540000000p-2, /* -0.3333333134651184 */
  0x1.1110660000000p-3, /* 0.1333320587873459 */
  -0x1.b9ee900000000p-5, /* -0.05394676327705383 */
  0x1.638b5a0000000p-6, /* 0.021700704470276833 */
  -0x1.0bf4fe0000000p-7, /* -0.008177398703992367 */
  0x1.18e1de0000000p-9, /* 0.002142961835488677 */
};

/* tanh x = x + x^3 P(x^2), |x| < 0.25; max weighted error 7.81e-18 (exact arithmetic) */
static const double tanh_f64[7] = {
  -0x1.55555555554f1p-2, /* -0.33333333333332776 */
  0x1.11111110fdd59p-3, /* 0.13333333333114686 */
  -0x1.ba1ba190b3a00p-5, /* -0.05396825366698366 */
  0x1.664f334392e51p-6, /* 0.02186946874853241 */
  -0x1.22685cf78c238p-7, /* -0.008862538713487841 */
  0x1.d50d7d3be7b7dp-9, /* 0.003578588044504226 */
  -0x1.5988c1c53a4ddp-10, /* -0.001318108393485943 */
};

/* erf x = x + x P(x^2), |x| < 1; max weighted error 4.08e-9 (exact arithmetic) */
static const double erf_small_f32[7] = {
  0x1.06eba80000000p-3, /* 0.12837916612625122 */
  -0x1.81273e0000000p-2, /* -0.3761262595653534 */
  0x1.ce2cf80000000p-4, /* 0.1128358542919159 */
  -0x1.b7f90c0000000p-6, /* -0.026853810995817184 */
  0x1.5405b00000000p-8, /* 0.00518832728266716 */
  -0x1.a3f7000000000p-11, /* -0.0008010193705558777 */
  0x1.496a320000000p-14, /* 7.853861461626366e-05 */
};

/* erfc x = exp(-x^2 + G(x - 2.5)), 1 <= x <= 3.95; max weighted error 2.0e-9 (exact arithmetic) */
static const double erf_large_f32[10] = {
  -0x1.8e8b720000000p+0, /* -1.556815266609192 */
  -0x1.69251e0000000p-2, /* -0.35268065333366394 */
  0x1.cb9fd20000000p-5, /* 0.056106481701135635 */
  -0x1.63d22a0000000p-7, /* -0.010858793742954731 */
  0x1.1b70d40000000p-9, /* 0.002162481192499399 */
  -0x1.bc882e0000000p-12, /* -0.0004239387053530663 */
  0x1.488e460000000p-14, /* 7.83337964094244e-05 */
  -0x1.0d06440000000p-17, /* -8.017554137040861e-06 */
  0x1.62809c0000000p-18, /* 5.282497113512363e-06 */
  0x1.aced1e0000000p-21, /* 7.98937378476694e-07 */
};

/* erf x = x + x P(x^2), |x| < 1; max weighted error 1.55e-17 (exact arithmetic) */
static const double erf_small_f64[13] = {
  0x1.06eba8214db68p-3, /* 0.12837916709551256 */
  -0x1.812746b0379e6p-2, /* -0.3761263890318375 */
  0x1.ce2f21a042b27p-4, /* 0.11283791670954867 */
  -0x1.b82ce31284a42p-6, /* -0.02686617064507347 */
  0x1.565bcd0db0ab2p-8, /* 0.005223977624782593 */
  -0x1.c02db3d8f3059p-11, /* -0.0008548326978767936 */
  0x1.f9a321a140c5cp-14, /* 0.00012055331037079522 */
  -0x1.f4d1df399f1edp-17, /* -1.4925593507125192e-05 */
  0x1.b9def19df5a08p-20, /* 1.6460972811403974e-06 */
  -0x1.5f1d36c17e4e8p-23, /* -1.635002516013169e-07 */
  0x1.f7a41224a7401p-27, /* 1.4657879418312552e-08 */
  -0x1.386ac0a46c098p-30, /* -1.1365664322068045e-09 */
  0x1.0579aa593ee1ep-34, /* 5.9452589894953e-11 */
};

/* erfc x = exp(-x^2 + G(x - 3.5)), 1 <= x <= 6; max weighted error 1.09e-17 (exact arithmetic) */
static const double erf_large_f64[23] = {
  -0x1.dcc8b29512d78p+0, /* -1.8624374021481724 */
  -0x1.107c6916078d9p-2, /* -0.26609958836514874 */
  0x1.105be5d267ff1p-5, /* 0.03324694525804251 */
  -0x1.5677ff29bee05p-8, /* -0.0052256582218848146 */
  0x1.ca1053bb06773p-11, /* 0.0008736873199979136 */
  -0x1.34e7e573ecffep-13, /* -0.00014729778524513732 */
  0x1.9922a88387528p-16, /* 2.438636921741236e-05 */
  -0x1.05059a5a5120bp-18, /* -3.88952920566235e-06 */
  0x1.3a6dddb5b1a92p-21, /* 5.856699576083354e-07 */
  -0x1.5a750bed4c307p-24, /* -8.066585595736273e-08 */
  0x1.460d06e0280e6p-27, /* 9.489329711170317e-09 */
  -0x1.d33d1eee9dc1bp-31, /* -8.499023410628213e-10 */
  -0x1.1c65888ae63c4p-34, /* -6.466430357349039e-11 */
  0x1.75b86e76760ffp-35, /* 4.248709450708173e-11 */
  0x1.625ed23760241p-36, /* 2.014362480317363e-11 */
  0x1.4f0d406b5bac5p-36, /* 1.9045487773129326e-11 */
  0x1.29c7dffae70d3p-39, /* 2.1158595687248152e-12 */
  -0x1.50c2f68efb5aep-39, /* -2.392834905751983e-12 */
  -0x1.046dae1448901p-39, /* -1.8504553444265397e-12 */
  -0x1.5fb04fe0f8f21p-41, /* -6.247246610757502e-13 */
  -0x1.1044848c51a42p-43, /* -1.209111244565864e-13 */
  -0x1.c5f38f6c582bdp-47, /* -1.259968260876783e-14 */
  -0x1.1d6e679ab9cdep-51, /* -4.951443220325453e-16 */
};

/* sin r = r + r^3 S(r^2), |r| <= pi/4; max weighted error 6.3e-18 (exact arithmetic) */
static const double sin_f64[7] = {
  -0x1.5555555555555p-3, /* -0.16666666666666666 */
  0x1.111111111110bp-7, /* 0.008333333333333323 */
  -0x1.a01a01a018a6ap-13, /* -0.00019841269841254793 */
  0x1.71de3a53308b9p-19, /* 2.755731921406492e-06 */
  -0x1.ae64528d7e620p-26, /* -2.505210488187055e-08 */
  0x1.61208c47c97fdp-33, /* 1.605836316727226e-10 */
  -0x1.aaa2471153164p-41, /* -7.578540406901048e-13 */
};

/* cos r = 1 - r^2/2 + r^4 C(r^2), |r| <= pi/4; max weighted error 1.19e-18 (exact arithmetic) */
static const double cos_f64[7] = {
  0x1.5555555555555p-5, /* 0.041666666666666664 */
  -0x1.6c16c16c16c0fp-10, /* -0.0013888888888888872 */
  0x1.a01a01a018cc3p-16, /* 2.4801587301570527e-05 */
  -0x1.27e4fb75eb743p-22, /* -2.755731921499772e-07 */
  0x1.1eed8c90cb2aep-29, /* 2.0876754287080345e-09 */
  -0x1.9393241e9f03dp-37, /* -1.1470284843300338e-11 */
  0x1.aabd186cd4a01p-45, /* 4.7377507911033324e-14 */
};
/* END fitted by scripts/fit_math.py */

#define NCOEF(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- an emitter: one function body, one operand type ---- */

typedef struct {
  LLVMModuleRef m;
  LLVMContextRef ctx;
  LLVMBuilderRef b;
  LLVMTypeRef t;     /* float, double or a vector of either */
  LLVMTypeRef it;    /* the integer type of the same shape */
  unsigned lanes;    /* 0 for a scalar */
  bool f64;
  int mant;          /* explicit mantissa bits: 23 or 52 */
  int bias;          /* exponent bias: 127 or 1023 */
} em;

typedef LLVMValueRef V;

static void em_init(em *e, LLVMModuleRef m, LLVMBuilderRef b, LLVMTypeRef t) {
  e->m = m;
  e->ctx = LLVMGetModuleContext(m);
  e->b = b;
  e->t = t;
  LLVMTypeRef et = t;
  e->lanes = 0;
  if (LLVMGetTypeKind(t) == LLVMVectorTypeKind) {
    e->lanes = LLVMGetVectorSize(t);
    et = LLVMGetElementType(t);
  }
  e->f64 = LLVMGetTypeKind(et) == LLVMDoubleTypeKind;
  e->mant = e->f64 ? 52 : 23;
  e->bias = e->f64 ? 1023 : 127;
  LLVMTypeRef ie = LLVMIntTypeInContext(e->ctx, e->f64 ? 64 : 32);
  e->it = e->lanes ? LLVMVectorType(ie, e->lanes) : ie;
}

/* The same shape with f64 elements (f32 sin, cos and pow compute in f64). */
static void em_widen(em *w, const em *e) {
  LLVMTypeRef d = LLVMDoubleTypeInContext(e->ctx);
  em_init(w, e->m, e->b, e->lanes ? LLVMVectorType(d, e->lanes) : d);
}

static V splat(const em *e, V c) {
  if (!e->lanes) return c;
  V elems[64]; /* gc_math_type_ok: at most 64 lanes */
  for (unsigned i = 0; i < e->lanes; i++) elems[i] = c;
  return LLVMConstVector(elems, e->lanes);
}

static V cf(const em *e, double v) {
  LLVMTypeRef et = e->lanes ? LLVMGetElementType(e->t) : e->t;
  return splat(e, LLVMConstReal(et, v));
}

static V ci(const em *e, long long v) {
  LLVMTypeRef et = e->lanes ? LLVMGetElementType(e->it) : e->it;
  return splat(e, LLVMConstInt(et, (unsigned long long)v, 1));
}

static V intrinsic(const em *e, const char *name, V *args, unsigned n) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMTypeRef ty = e->t;
  V fn = LLVMGetIntrinsicDeclaration(e->m, id, &ty, 1);
  LLVMTypeRef fty = LLVMIntrinsicGetType(e->ctx, id, &ty, 1);
  return LLVMBuildCall2(e->b, fty, fn, args, n, "");
}

static V add(const em *e, V a, V b) { return LLVMBuildFAdd(e->b, a, b, ""); }
static V sub(const em *e, V a, V b) { return LLVMBuildFSub(e->b, a, b, ""); }
static V mul(const em *e, V a, V b) { return LLVMBuildFMul(e->b, a, b, ""); }
static V fdiv(const em *e, V a, V b) { return LLVMBuildFDiv(e->b, a, b, ""); }
static V neg(const em *e, V a) { return LLVMBuildFNeg(e->b, a, ""); }
static V fma3(const em *e, V a, V b, V c) {
  V args[3] = {a, b, c};
  return intrinsic(e, "llvm.fma", args, 3);
}
static V fabs1(const em *e, V a) { return intrinsic(e, "llvm.fabs", &a, 1); }
static V copysign2(const em *e, V mag, V sign) {
  V args[2] = {mag, sign};
  return intrinsic(e, "llvm.copysign", args, 2);
}
static V sqrt1(const em *e, V a) { return intrinsic(e, "llvm.sqrt", &a, 1); }
static V fcmp(const em *e, LLVMRealPredicate p, V a, V b) { return LLVMBuildFCmp(e->b, p, a, b, ""); }
static V sel(const em *e, V c, V a, V b) { return LLVMBuildSelect(e->b, c, a, b, ""); }
static V and1(const em *e, V a, V b) { return LLVMBuildAnd(e->b, a, b, ""); }
static V or1(const em *e, V a, V b) { return LLVMBuildOr(e->b, a, b, ""); }
static V not1(const em *e, V a) { return LLVMBuildNot(e->b, a, ""); }

static V bits(const em *e, V x) { return LLVMBuildBitCast(e->b, x, e->it, ""); }
static V from_bits(const em *e, V i) { return LLVMBuildBitCast(e->b, i, e->t, ""); }
static V iadd(const em *e, V a, V b) { return LLVMBuildAdd(e->b, a, b, ""); }
static V isub(const em *e, V a, V b) { return LLVMBuildSub(e->b, a, b, ""); }
static V iand(const em *e, V a, V b) { return LLVMBuildAnd(e->b, a, b, ""); }
static V ishl(const em *e, V a, int n) { return LLVMBuildShl(e->b, a, ci(e, n), ""); }
static V iashr(const em *e, V a, int n) { return LLVMBuildAShr(e->b, a, ci(e, n), ""); }
static V icmp(const em *e, LLVMIntPredicate p, V a, V b) { return LLVMBuildICmp(e->b, p, a, b, ""); }
static V itof(const em *e, V i) { return LLVMBuildSIToFP(e->b, i, e->t, ""); }

static V nan_of(const em *e) { return cf(e, NAN); }
static V inf_of(const em *e) { return cf(e, INFINITY); }

/* Horner: c[0] + x (c[1] + x (c[2] + ...)), fused at every step. */
static V poly(const em *e, V x, const double *c, int n) {
  V p = cf(e, c[n - 1]);
  for (int j = n - 2; j >= 0; j--) p = fma3(e, p, x, cf(e, c[j]));
  return p;
}

/* Round to the nearest integer (ties to even) by adding and subtracting
 * 1.5 * 2^mant, for |v| < 2^(mant-1): plain arithmetic, no rounding
 * intrinsic (those become libm calls on hosts without SSE4.1). The integer
 * is returned too, read from the low bits of the biased sum. */
static V round_int(const em *e, V v, V *as_int) {
  double magic = e->f64 ? 0x1.8p52 : 0x1.8p23;
  V biased = add(e, v, cf(e, magic));
  if (as_int) *as_int = isub(e, bits(e, biased), bits(e, cf(e, magic)));
  return sub(e, biased, cf(e, magic));
}

/* 2^k as a float, for k in the normal exponent range. */
static V pow2i(const em *e, V k) { return from_bits(e, ishl(e, iadd(e, k, ci(e, e->bias)), e->mant)); }

/* ---- exp ---- */

/* e^(x + xlo) for x in [-746, 710] (f64) or [-104, 89] (f32), xlo tiny or
 * NULL: x = k ln2 + r, |r| <= ln2/2, e^r = 1 + r + r^2 Q(r), and the result
 * scaled by 2^k in two steps so subnormal results round once and 2^128
 * (2^1024) overflows as it should. */
static V exp_core(const em *e, V x, V xlo) {
  const double *q = e->f64 ? exp_f64 : exp_f32;
  int nq = e->f64 ? NCOEF(exp_f64) : NCOEF(exp_f32);
  V k;
  V kf = round_int(e, mul(e, x, cf(e, 1.0 / M_LN2)), &k);
  V r = fma3(e, kf, cf(e, e->f64 ? -LN2_HI_F64 : -LN2_HI_F32), x); /* exact */
  r = fma3(e, kf, cf(e, e->f64 ? -LN2_LO_F64 : -LN2_LO_F32), r);
  if (xlo) r = add(e, r, xlo);
  V t = fma3(e, mul(e, r, r), poly(e, r, q, nq), r); /* e^r - 1 */
  V k1 = iashr(e, k, 1);
  V s1 = pow2i(e, k1), s2 = pow2i(e, isub(e, k, k1));
  return mul(e, fma3(e, s1, t, s1), s2);
}

static double exp_lo(const em *e) { return e->f64 ? -746.0 : -104.0; }
static double exp_hi(const em *e) { return e->f64 ? 710.0 : 89.0; }

static V emit_exp(const em *e, V x) {
  V in = and1(e, fcmp(e, LLVMRealOGE, x, cf(e, exp_lo(e))), fcmp(e, LLVMRealOLE, x, cf(e, exp_hi(e))));
  V r = exp_core(e, sel(e, in, x, cf(e, 0)), NULL);
  V out = sel(e, fcmp(e, LLVMRealOGT, x, cf(e, 0)), inf_of(e), cf(e, 0)); /* NaN: 0, fixed below */
  out = sel(e, fcmp(e, LLVMRealUNO, x, x), x, out);
  return sel(e, in, r, out);
}

/* ---- log ---- */

/* x = 2^k z, z in [sqrt(1/2), sqrt(2)); returns f = z - 1 (exact) and k as
 * a float. Subnormals are scaled up first. For x <= 0, inf or NaN the
 * results are finite garbage the caller replaces. */
static V log_reduce(const em *e, V x, V *kf) {
  double scale = e->f64 ? 0x1p52 : 0x1p23;
  V sub_n = fcmp(e, LLVMRealOLT, x, cf(e, e->f64 ? DBL_MIN : FLT_MIN));
  V xs = sel(e, sub_n, mul(e, x, cf(e, scale)), x);
  V kadj = sel(e, sub_n, ci(e, e->f64 ? -52 : -23), ci(e, 0));
  /* the bits of sqrt(1/2), and the sign and exponent field (truncated to
   * the lane width by LLVMConstInt) */
  long long off = e->f64 ? 0x3fe6a09e667f3bcdLL : 0x3f3504f3LL;
  long long mask = e->f64 ? (long long)0xfff0000000000000ULL : 0xff800000LL;
  V ix = bits(e, xs);
  V t = isub(e, ix, ci(e, off));
  V k = iadd(e, iashr(e, t, e->mant), kadj);
  V z = from_bits(e, isub(e, ix, iand(e, t, ci(e, mask))));
  *kf = itof(e, k);
  return sub(e, z, cf(e, 1));
}

/* log x as hi + lo (f64): log1p f = 2s + s^3 R(s^2), s = f / (2 + f) kept
 * as s + slo, plus k ln2 in two parts: about 2^-60 relative, for pow. */
static V log_core_f64(const em *e, V x, V *lo) {
  V kf;
  V f = log_reduce(e, x, &kf);
  V two = cf(e, 2);
  V u = add(e, two, f);
  V ulo = add(e, sub(e, two, u), f);
  V inv = fdiv(e, cf(e, 1), u);
  V s = mul(e, f, inv);
  V rem = sub(e, fma3(e, neg(e, s), u, f), mul(e, s, ulo)); /* f - s (u + ulo) */
  V slo = mul(e, rem, inv);
  V w = mul(e, s, s);
  V tail = mul(e, mul(e, s, w), poly(e, w, log_f64, NCOEF(log_f64)));
  V a = mul(e, kf, cf(e, LN2_HI_F64)); /* exact */
  V s2 = add(e, s, s);
  V hi = add(e, a, s2);
  V err = add(e, sub(e, a, hi), s2); /* |a| >= |2s| unless k = 0, when a = 0 */
  V l = add(e, err, add(e, fma3(e, kf, cf(e, LN2_LO_F64), add(e, slo, slo)), tail));
  V r = add(e, hi, l); /* renormalised: |lo| <= ulp(hi) / 2 */
  *lo = sub(e, l, sub(e, r, hi));
  return r;
}

/* log x (f32): log1p f = f + f^2 P(f), k ln2 + f summed with its error. */
static V log_core_f32(const em *e, V x) {
  V kf;
  V f = log_reduce(e, x, &kf);
  V c = mul(e, mul(e, f, f), poly(e, f, log_f32, NCOEF(log_f32)));
  V a = mul(e, kf, cf(e, LN2_HI_F32)); /* exact */
  V hi = add(e, a, f);
  V err = add(e, sub(e, a, hi), f);
  V lo = add(e, fma3(e, kf, cf(e, LN2_LO_F32), c), err);
  return add(e, hi, lo);
}

static V emit_log(const em *e, V x) {
  V r;
  if (e->f64) {
    V lo;
    V hi = log_core_f64(e, x, &lo);
    r = add(e, hi, lo);
  } else {
    r = log_core_f32(e, x);
  }
  r = sel(e, fcmp(e, LLVMRealOEQ, x, inf_of(e)), x, r);
  r = sel(e, fcmp(e, LLVMRealULT, x, cf(e, 0)), nan_of(e), r); /* negative or NaN */
  return sel(e, fcmp(e, LLVMRealOEQ, x, cf(e, 0)), cf(e, -INFINITY), r);
}

/* ---- n / d for n = nh + nl, d = dh + dl, to about an ulp ---- */

static V div_dd(const em *e, V nh, V nl, V dh, V dl) {
  V inv = fdiv(e, cf(e, 1), dh);
  V q = mul(e, nh, inv);
  V rem = sub(e, fma3(e, neg(e, q), dh, nh), mul(e, q, dl));
  if (nl) rem = add(e, rem, nl);
  return fma3(e, rem, inv, q);
}

/* ---- tanh, sigmoid ---- */

/* tanh x = x + x^3 P(x^2) for |x| < a; otherwise (1 - e) / (1 + e) with
 * e = exp(-2|x|), both sums kept exact, and the sign of x. */
static V emit_tanh(const em *e, V x) {
  double small = e->f64 ? TANH_SMALL_F64 : TANH_SMALL_F32;
  double big = e->f64 ? 20.0 : 10.0; /* tanh rounds to 1 beyond */
  V ax = fabs1(e, x);
  V u = mul(e, x, x);
  V p = poly(e, u, e->f64 ? tanh_f64 : tanh_f32, e->f64 ? NCOEF(tanh_f64) : NCOEF(tanh_f32));
  V rs = copysign2(e, fma3(e, mul(e, x, u), p, x), x); /* tanh(-0) = -0 */
  V ac = sel(e, fcmp(e, LLVMRealOLT, ax, cf(e, big)), ax, cf(e, big)); /* NaN: big */
  V ex = exp_core(e, mul(e, ac, cf(e, -2)), NULL);
  V one = cf(e, 1);
  V nh = sub(e, one, ex), nl = sub(e, sub(e, one, nh), ex);
  V dh = add(e, one, ex), dl = add(e, sub(e, one, dh), ex);
  V rl = copysign2(e, div_dd(e, nh, nl, dh, dl), x);
  V r = sel(e, fcmp(e, LLVMRealOLT, ax, cf(e, small)), rs, rl);
  return sel(e, fcmp(e, LLVMRealUNO, x, x), x, r);
}

/* sigmoid x = 1 / (1 + e) for x >= 0, e / (1 + e) below, e = exp(-|x|). */
static V emit_sigmoid(const em *e, V x) {
  V ax = fabs1(e, x);
  double lo = -exp_lo(e);
  V ac = sel(e, fcmp(e, LLVMRealOLT, ax, cf(e, lo)), ax, cf(e, lo)); /* NaN: lo */
  V ex = exp_core(e, neg(e, ac), NULL);
  V one = cf(e, 1);
  V dh = add(e, one, ex), dl = add(e, sub(e, one, dh), ex);
  V n = sel(e, fcmp(e, LLVMRealOGE, x, cf(e, 0)), one, ex);
  V r = div_dd(e, n, NULL, dh, dl);
  return sel(e, fcmp(e, LLVMRealUNO, x, x), x, r);
}

/* ---- erf ---- */

/* erf x = x + x P(x^2) for |x| < 1; beyond, erf x = 1 - exp(-x^2 + G(x))
 * with G(x) = log erfc x + x^2 a polynomial in x - c, up to the point where
 * erf rounds to 1. */
static V emit_erf(const em *e, V x) {
  V ax = fabs1(e, x);
  V u = mul(e, x, x);
  V ps = e->f64 ? poly(e, u, erf_small_f64, NCOEF(erf_small_f64))
                : poly(e, u, erf_small_f32, NCOEF(erf_small_f32));
  V rs = fma3(e, x, ps, x);
  double top = e->f64 ? ERF_TOP_F64 : ERF_TOP_F32;
  V ac = sel(e, fcmp(e, LLVMRealOLT, ax, cf(e, top)), ax, cf(e, top)); /* NaN: top */
  V tc = sub(e, ac, cf(e, e->f64 ? ERF_MID_F64 : ERF_MID_F32));
  V g = e->f64 ? poly(e, tc, erf_large_f64, NCOEF(erf_large_f64))
               : poly(e, tc, erf_large_f32, NCOEF(erf_large_f32));
  V ec = exp_core(e, fma3(e, neg(e, ac), ac, g), NULL); /* erfc |x| */
  V rl = copysign2(e, sub(e, cf(e, 1), ec), x);
  V r = sel(e, fcmp(e, LLVMRealOLT, ax, cf(e, 1)), rs, rl);
  return sel(e, fcmp(e, LLVMRealUNO, x, x), x, r);
}

/* ---- sin, cos ---- */

/* v mod 4 in [-2, 2], exact, for |v| < 2^53 (f64 lanes). */
static V mod4(const em *e, V v) {
  V q = round_int(e, mul(e, v, cf(e, 0.25)), NULL);
  return fma3(e, q, cf(e, -4), v);
}

/* Payne-Hanek for an f32 value ax = M 2^E (M < 2^24, 27 <= E <= 104) held in
 * f64 lanes: ax 2/pi mod 4 from five 24-bit pieces of 2/pi, each product
 * exact, the pieces that only add multiples of 4 skipped. Returns r in
 * [-pi/4, pi/4] and the quadrant in *k. Other inputs give finite garbage. */
static V reduce_huge_f32(const em *e, V ax, V *k) {
  V ebits = iand(e, LLVMBuildLShr(e->b, bits(e, ax), ci(e, 52), ""), ci(e, 0x7ff));
  V ex = isub(e, ebits, ci(e, 1023 + 23));
  V ge[5]; /* ge[j]: E >= 24 j + 2, so piece j - 1 and below add multiples of 4 */
  for (int j = 2; j <= 4; j++) ge[j] = icmp(e, LLVMIntSGE, ex, ci(e, 24 * j + 2));
  V t[5];
  for (int i = 0; i < 5; i++) {
    V c = sel(e, ge[4], cf(e, two_over_pi_24[4 + i]), cf(e, two_over_pi_24[3 + i]));
    c = sel(e, ge[3], c, cf(e, two_over_pi_24[2 + i]));
    c = sel(e, ge[2], c, cf(e, two_over_pi_24[1 + i]));
    t[i] = mul(e, ax, c); /* exact: 24 x 24 bits */
  }
  V a = add(e, mod4(e, t[0]), mod4(e, t[1])); /* exact: multiples of 2^-46 below 4 */
  V ka, kb;
  a = sub(e, a, round_int(e, a, &ka));
  V b = mod4(e, t[2]);
  V hi = add(e, a, b); /* two-sum */
  V bb = sub(e, hi, a);
  V lo = add(e, add(e, sub(e, a, sub(e, hi, bb)), sub(e, b, bb)), add(e, t[3], t[4]));
  V f = sub(e, hi, round_int(e, hi, &kb)); /* exact */
  f = add(e, f, lo);
  *k = iadd(e, ka, kb);
  return fma3(e, f, cf(e, PIO2_1), mul(e, f, cf(e, PIO2_2)));
}

/* sin or cos in f64 lanes: x = k pi/2 + r with pi/2 in three parts, each
 * step one fma; |r| <= pi/4 (a hair more when x 2/pi rounds the other way).
 * Valid for |x| <= TRIG_MAX; beyond, f32 inputs (f32_in) take the
 * Payne-Hanek path and f64 inputs give NaN (docs/math.md). */
static V trig_f64(const em *e, V x, bool cosine, bool f32_in) {
  V ax = fabs1(e, x);
  V ok = fcmp(e, LLVMRealOLE, ax, cf(e, TRIG_MAX));
  V xs = sel(e, ok, x, cf(e, 0));
  V k;
  V kf = round_int(e, mul(e, xs, cf(e, 2 / M_PI)), &k);
  V nk = neg(e, kf);
  V r = fma3(e, nk, cf(e, PIO2_1), xs);
  r = fma3(e, nk, cf(e, PIO2_2), r);
  r = fma3(e, nk, cf(e, PIO2_3), r);
  V finite = fcmp(e, LLVMRealOLT, ax, inf_of(e));
  if (f32_in) {
    V huge = and1(e, not1(e, ok), finite);
    V kh;
    V rh = reduce_huge_f32(e, sel(e, huge, ax, cf(e, 0x1p60)), &kh);
    V negx = fcmp(e, LLVMRealOLT, x, cf(e, 0)); /* x 2/pi = -(ax 2/pi) */
    rh = sel(e, negx, neg(e, rh), rh);
    kh = sel(e, negx, isub(e, ci(e, 0), kh), kh);
    r = sel(e, huge, rh, r);
    k = sel(e, huge, kh, k);
    ok = finite;
  }
  V w = mul(e, r, r);
  V s = fma3(e, mul(e, r, w), poly(e, w, sin_f64, NCOEF(sin_f64)), r);
  V c = fma3(e, mul(e, w, w), poly(e, w, cos_f64, NCOEF(cos_f64)), fma3(e, w, cf(e, -0.5), cf(e, 1)));
  if (cosine) k = iadd(e, k, ci(e, 1));
  V odd = icmp(e, LLVMIntNE, iand(e, k, ci(e, 1)), ci(e, 0));
  V flip = icmp(e, LLVMIntNE, iand(e, k, ci(e, 2)), ci(e, 0));
  V v = sel(e, odd, c, s);
  v = sel(e, flip, neg(e, v), v);
  if (!cosine) v = sel(e, fcmp(e, LLVMRealOEQ, x, cf(e, 0)), x, v); /* sin(-0) = -0 */
  return sel(e, ok, v, nan_of(e));
}

static V emit_trig(const em *e, V x, bool cosine) {
  if (e->f64) return trig_f64(e, x, cosine, false);
  em w;
  em_widen(&w, e);
  V r = trig_f64(&w, LLVMBuildFPExt(e->b, x, w.t, ""), cosine, true);
  return LLVMBuildFPTrunc(e->b, r, e->t, "");
}

/* ---- pow ---- */

/* Whether y is an integer, and whether an odd one (f64 lanes). */
static void int_parity(const em *e, V y, V *is_int, V *is_odd) {
  V ay = fabs1(e, y);
  V big = fcmp(e, LLVMRealOGE, ay, cf(e, 0x1p52)); /* and inf */
  V s = add(e, ay, cf(e, 0x1p52));                  /* rounds to an integer */
  V whole = fcmp(e, LLVMRealOEQ, sub(e, s, cf(e, 0x1p52)), ay);
  V low = icmp(e, LLVMIntNE, iand(e, bits(e, s), ci(e, 1)), ci(e, 0));
  V big_low = icmp(e, LLVMIntNE, iand(e, bits(e, ay), ci(e, 1)), ci(e, 0));
  V big_odd = and1(e, fcmp(e, LLVMRealOLT, ay, cf(e, 0x1p53)), big_low);
  *is_int = or1(e, big, whole);
  *is_odd = sel(e, big, big_odd, and1(e, whole, low));
}

/* x^y = exp(y log|x|) with log|x| as a double-double and the product too,
 * then the sign and C99's special cases. f64 lanes. */
static V pow_f64(const em *e, V x, V y) {
  V ax = fabs1(e, x);
  V finite_pos = and1(e, fcmp(e, LLVMRealOGT, ax, cf(e, 0)), fcmp(e, LLVMRealOLT, ax, inf_of(e)));
  V axs = sel(e, finite_pos, ax, cf(e, 1));
  V llo;
  V lhi = log_core_f64(e, axs, &llo);
  V th = mul(e, y, lhi);
  V tl = fma3(e, y, llo, fma3(e, y, lhi, neg(e, th)));
  V in = and1(e, fcmp(e, LLVMRealOGE, th, cf(e, -746.0)), fcmp(e, LLVMRealOLE, th, cf(e, 710.0)));
  V m = exp_core(e, sel(e, in, th, cf(e, 0)), sel(e, in, tl, cf(e, 0)));
  V zero = cf(e, 0), inf = inf_of(e), one = cf(e, 1);
  m = sel(e, in, m, sel(e, fcmp(e, LLVMRealOGT, th, zero), inf, zero));
  V ylt0 = fcmp(e, LLVMRealOLT, y, zero);
  m = sel(e, fcmp(e, LLVMRealOEQ, ax, zero), sel(e, ylt0, inf, zero), m);
  m = sel(e, fcmp(e, LLVMRealOEQ, ax, inf), sel(e, ylt0, zero, inf), m);
  V is_int, is_odd;
  int_parity(e, y, &is_int, &is_odd);
  V xneg = icmp(e, LLVMIntSLT, bits(e, x), ci(e, 0)); /* sign bit, -0 too */
  m = sel(e, and1(e, xneg, is_odd), neg(e, m), m);
  V yfinite = fcmp(e, LLVMRealOLT, fabs1(e, y), inf);
  V bad = and1(e, and1(e, fcmp(e, LLVMRealOLT, x, zero), fcmp(e, LLVMRealOGT, x, cf(e, -INFINITY))),
               and1(e, yfinite, not1(e, is_int)));
  m = sel(e, bad, nan_of(e), m);
  m = sel(e, fcmp(e, LLVMRealUNO, x, y), nan_of(e), m);
  V ay_inf = fcmp(e, LLVMRealOEQ, fabs1(e, y), inf);
  V ones = or1(e, or1(e, fcmp(e, LLVMRealOEQ, x, one), fcmp(e, LLVMRealOEQ, y, zero)),
               and1(e, fcmp(e, LLVMRealOEQ, x, cf(e, -1)), ay_inf));
  return sel(e, ones, one, m);
}

static V emit_pow(const em *e, V x, V y) {
  if (e->f64) return pow_f64(e, x, y);
  em w;
  em_widen(&w, e);
  V r = pow_f64(&w, LLVMBuildFPExt(e->b, x, w.t, ""), LLVMBuildFPExt(e->b, y, w.t, ""));
  return LLVMBuildFPTrunc(e->b, r, e->t, "");
}

/* ---- rsqrt ---- */

/* 1 / sqrt(x), two correctly rounded steps: bitwise the interpreter's. */
static V emit_rsqrt(const em *e, V x) { return fdiv(e, cf(e, 1), sqrt1(e, x)); }

/* ---- the helper functions ---- */

static const char *const fn_names[GC_MATH_COUNT] = {
    [GC_MATH_EXP] = "exp",   [GC_MATH_LOG] = "log", [GC_MATH_TANH] = "tanh",
    [GC_MATH_SIGMOID] = "sigmoid", [GC_MATH_ERF] = "erf", [GC_MATH_SIN] = "sin",
    [GC_MATH_COS] = "cos",   [GC_MATH_POW] = "pow", [GC_MATH_RSQRT] = "rsqrt",
};

const char *gc_math_fn_name(gc_math_fn fn) {
  return (unsigned)fn < GC_MATH_COUNT ? fn_names[fn] : NULL;
}

int gc_math_fn_arity(gc_math_fn fn) { return fn == GC_MATH_POW ? 2 : 1; }

int gc_math_type_ok(LLVMTypeRef type) {
  if (!type) return 0;
  if (LLVMGetTypeKind(type) == LLVMVectorTypeKind) {
    if (LLVMGetVectorSize(type) < 1 || LLVMGetVectorSize(type) > 64) return 0;
    type = LLVMGetElementType(type);
  }
  LLVMTypeKind k = LLVMGetTypeKind(type);
  return k == LLVMFloatTypeKind || k == LLVMDoubleTypeKind;
}

static V emit_body(const em *e, gc_math_fn fn, V x, V y) {
  switch (fn) {
  case GC_MATH_EXP: return emit_exp(e, x);
  case GC_MATH_LOG: return emit_log(e, x);
  case GC_MATH_TANH: return emit_tanh(e, x);
  case GC_MATH_SIGMOID: return emit_sigmoid(e, x);
  case GC_MATH_ERF: return emit_erf(e, x);
  case GC_MATH_SIN: return emit_trig(e, x, false);
  case GC_MATH_COS: return emit_trig(e, x, true);
  case GC_MATH_POW: return emit_pow(e, x, y);
  case GC_MATH_RSQRT: return emit_rsqrt(e, x);
  default: return NULL;
  }
}

static void add_attr(LLVMContextRef ctx, V fn, const char *name, uint64_t value) {
  unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(ctx, kind, value));
}

LLVMValueRef gc_llvm_math_function(LLVMModuleRef m, gc_math_fn fn, LLVMTypeRef type) {
  if (!m || (unsigned)fn >= GC_MATH_COUNT || !gc_math_type_ok(type)) return NULL;
  bool vec = LLVMGetTypeKind(type) == LLVMVectorTypeKind;
  LLVMTypeRef et = vec ? LLVMGetElementType(type) : type;
  char name[64];
  const char *en = LLVMGetTypeKind(et) == LLVMDoubleTypeKind ? "f64" : "f32";
  if (vec)
    snprintf(name, sizeof name, "gc.math.%s.v%u%s", fn_names[fn], LLVMGetVectorSize(type), en);
  else
    snprintf(name, sizeof name, "gc.math.%s.%s", fn_names[fn], en);
  V f = LLVMGetNamedFunction(m, name);
  if (f) return f;

  LLVMContextRef ctx = LLVMGetModuleContext(m);
  LLVMTypeRef params[2] = {type, type};
  int arity = gc_math_fn_arity(fn);
  f = LLVMAddFunction(m, name, LLVMFunctionType(type, params, (unsigned)arity, 0));
  LLVMSetLinkage(f, LLVMInternalLinkage);
  add_attr(ctx, f, "alwaysinline", 0);
  add_attr(ctx, f, "nounwind", 0);
  add_attr(ctx, f, "willreturn", 0);
  add_attr(ctx, f, "nosync", 0);
  add_attr(ctx, f, "nofree", 0);
  add_attr(ctx, f, "memory", 0); /* memory(none) */

  LLVMBuilderRef b = LLVMCreateBuilderInContext(ctx);
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(ctx, f, "entry"));
  em e;
  em_init(&e, m, b, type);
  V x = LLVMGetParam(f, 0);
  V y = arity == 2 ? LLVMGetParam(f, 1) : NULL;
  LLVMSetValueName2(x, "x", 1);
  if (y) LLVMSetValueName2(y, "y", 1);
  LLVMBuildRet(b, emit_body(&e, fn, x, y));
  LLVMDisposeBuilder(b);
  return f;
}

LLVMValueRef gc_llvm_math(LLVMBuilderRef b, LLVMModuleRef m, gc_math_fn fn, LLVMValueRef x,
                          LLVMValueRef y) {
  if (!b || !x) return NULL;
  LLVMTypeRef type = LLVMTypeOf(x);
  int arity = gc_math_fn_arity(fn);
  if (arity == 2 && (!y || LLVMTypeOf(y) != type)) return NULL;
  V f = gc_llvm_math_function(m, fn, type);
  if (!f) return NULL;
  V args[2] = {x, y};
  return LLVMBuildCall2(b, LLVMGlobalGetValueType(f), f, args, (unsigned)arity, "");
}
