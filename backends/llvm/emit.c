/* Loop IR to LLVM IR (see emit.h).  Instructions map one to one: loops to
 * header/body/latch blocks with phis for the induction variable and the
 * iter values, elementwise ops to LLVM instructions or intrinsics (the
 * transcendental ones to backends/llvm/math.c's vectorizable versions),
 * loads and stores to GEPs into the buffers.  Reductions carry `reassoc`
 * on their accumulation only, so they vectorize; nothing else has
 * fast-math flags. */
#include "backends/llvm/emit.h"
#include "backends/llvm/emit_call.h"
#include "backends/llvm/math.h"

#include <llvm-c/DebugInfo.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const gc_loop_fn *f;
  const gc_host *host;
  LLVMContextRef ctx;
  LLVMModuleRef m;
  LLVMBuilderRef b;
  LLVMValueRef fn;
  LLVMValueRef *val;        /* per instruction */
  LLVMValueRef *bufptr;     /* per buffer */
  LLVMValueRef *callptr;    /* per callee: the function's address */
  LLVMValueRef err;
  LLVMTypeRef i1, i8, i32, i64, f32, f64, ptr, vd;
  gc_diag *d;
  bool failed;
} llvm_writer;

static int fail(llvm_writer *e, const char *msg) {
  if (!e->failed) gc_diag_set(e->d, "emit %s: %s", e->f->name, msg);
  e->failed = true;
  return -1;
}

static LLVMTypeRef type_of(llvm_writer *e, gc_dtype dt) {
  switch (dt) {
  case GC_F32: return e->f32;
  case GC_F64: return e->f64;
  case GC_I32: return e->i32;
  case GC_I64: return e->i64;
  case GC_BOOL: return e->i1;
  default: return e->i64;
  }
}

static LLVMTypeRef mem_type(llvm_writer *e, gc_dtype dt) { return dt == GC_BOOL ? e->i8 : type_of(e, dt); }

static LLVMValueRef call_intrinsic(llvm_writer *e, const char *name, LLVMTypeRef *tys, int n_tys, LLVMValueRef *args,
                                   int n_args) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMValueRef fn = LLVMGetIntrinsicDeclaration(e->m, id, tys, (size_t)n_tys);
  LLVMTypeRef ft = LLVMIntrinsicGetType(e->ctx, id, tys, (size_t)n_tys);
  return LLVMBuildCall2(e->b, ft, fn, args, (unsigned)n_args, "");
}

static LLVMValueRef value(llvm_writer *e, int id) {
  const gc_loop_inst *in = &e->f->insts[id];
  if (in->op == GC_L_CONST) {
    LLVMTypeRef t = type_of(e, in->dtype);
    if (gc_dtype_is_float(in->dtype)) return LLVMConstReal(t, in->value);
    return LLVMConstInt(t, (unsigned long long)in->ivalue, 1);
  }
  if (!e->val[id]) {
    fail(e, "an instruction is used before it is defined");
    return LLVMConstInt(e->i64, 0, 0);
  }
  return e->val[id];
}

static gc_dtype dtype(const llvm_writer *e, int id) { return e->f->insts[id].dtype; }

/* ---- elementwise ops ----------------------------------------------------- */

static LLVMValueRef math(llvm_writer *e, gc_math_fn fn, LLVMValueRef x, LLVMValueRef y) {
  return gc_llvm_math(e->b, e->m, fn, x, y);
}

static LLVMValueRef int_div(llvm_writer *e, LLVMValueRef a, LLVMValueRef b, LLVMTypeRef t, gc_dtype dt) {
  LLVMValueRef zero = LLVMConstInt(t, 0, 0), one = LLVMConstInt(t, 1, 0);
  LLVMValueRef minv = LLVMConstInt(t, dt == GC_I32 ? (unsigned long long)INT32_MIN : (unsigned long long)INT64_MIN, 1);
  LLVMValueRef by0 = LLVMBuildICmp(e->b, LLVMIntEQ, b, zero, "");
  LLVMValueRef ovf = LLVMBuildAnd(e->b, LLVMBuildICmp(e->b, LLVMIntEQ, a, minv, ""),
                                  LLVMBuildICmp(e->b, LLVMIntEQ, b, LLVMConstInt(t, (unsigned long long)-1, 1), ""), "");
  LLVMValueRef safe = LLVMBuildSelect(e->b, LLVMBuildOr(e->b, by0, ovf, ""), one, b, "");
  LLVMValueRef q = LLVMBuildSDiv(e->b, a, safe, "");
  q = LLVMBuildSelect(e->b, ovf, minv, q, "");
  return LLVMBuildSelect(e->b, by0, zero, q, "");
}

static LLVMValueRef cast(llvm_writer *e, LLVMValueRef x, gc_dtype from, gc_dtype to) {
  LLVMTypeRef t = type_of(e, to);
  if (from == to) return x;
  if (to == GC_BOOL) {
    if (gc_dtype_is_float(from)) return LLVMBuildFCmp(e->b, LLVMRealUNE, x, LLVMConstReal(type_of(e, from), 0), "");
    return LLVMBuildICmp(e->b, LLVMIntNE, x, LLVMConstInt(type_of(e, from), 0, 0), "");
  }
  if (from == GC_BOOL) return gc_dtype_is_float(to) ? LLVMBuildUIToFP(e->b, x, t, "") : LLVMBuildZExt(e->b, x, t, "");
  if (gc_dtype_is_float(from) && gc_dtype_is_float(to))
    return to == GC_F64 ? LLVMBuildFPExt(e->b, x, t, "") : LLVMBuildFPTrunc(e->b, x, t, "");
  if (gc_dtype_is_float(from)) {   /* toward zero, saturating, NaN -> 0 */
    LLVMTypeRef tys[2] = {t, type_of(e, from)};
    return call_intrinsic(e, "llvm.fptosi.sat", tys, 2, &x, 1);
  }
  if (gc_dtype_is_float(to)) return LLVMBuildSIToFP(e->b, x, t, "");
  return to == GC_I64 ? LLVMBuildSExt(e->b, x, t, "") : LLVMBuildTrunc(e->b, x, t, "");
}

/* One function per elementwise op, ew_<name>, found through the op table:
 * a new elementwise line in ir/ops.def fails the build here until its
 * function exists.  Each gets the operands read and their dtype. */
typedef struct {
  llvm_writer *e;
  const gc_loop_inst *in;
  LLVMBuilderRef bld;
  LLVMValueRef a, b;   /* operands 0 and 1 (NULL if absent) */
  gc_dtype adt;        /* operand 0's dtype */
  LLVMTypeRef t;       /* its LLVM type */
  bool fl;             /* it is a float */
} ew;

static LLVMValueRef intrinsic(const ew *x, const char *name, int n_args) {
  LLVMTypeRef tys[1] = {x->t};
  LLVMValueRef args[2] = {x->a, x->b};
  return call_intrinsic(x->e, name, tys, 1, args, n_args);
}

#define EW(name) static LLVMValueRef ew_##name(const ew *x)
#define EW_MATH(name, FN, y) EW(name) { return math(x->e, GC_MATH_##FN, x->a, y); }
#define EW_FI(name, F, I) \
  EW(name) { return x->fl ? LLVMBuild##F(x->bld, x->a, x->b, "") : LLVMBuild##I(x->bld, x->a, x->b, ""); }
#define EW_CMP(name, F, I)                                                 \
  EW(name) {                                                               \
    return x->fl ? LLVMBuildFCmp(x->bld, LLVMReal##F, x->a, x->b, "")      \
                 : LLVMBuildICmp(x->bld, LLVMInt##I, x->a, x->b, "");      \
  }

EW(neg) { return x->fl ? LLVMBuildFNeg(x->bld, x->a, "") : LLVMBuildNeg(x->bld, x->a, ""); }
EW(abs) {
  if (x->fl) return intrinsic(x, "llvm.fabs", 1);
  ew y = *x;
  y.b = LLVMConstInt(x->e->i1, 0, 0);
  return intrinsic(&y, "llvm.abs", 2);
}
EW_MATH(exp, EXP, NULL)
EW_MATH(log, LOG, NULL)
EW(sqrt) { return intrinsic(x, "llvm.sqrt", 1); }
EW_MATH(rsqrt, RSQRT, NULL)
EW(recip) { return LLVMBuildFDiv(x->bld, LLVMConstReal(x->t, 1.0), x->a, ""); }
EW_MATH(tanh, TANH, NULL)
EW_MATH(sigmoid, SIGMOID, NULL)
EW_MATH(erf, ERF, NULL)
EW_MATH(sin, SIN, NULL)
EW_MATH(cos, COS, NULL)
EW_MATH(pow, POW, x->b)
EW(cast) { return cast(x->e, x->a, x->adt, x->in->dtype); }
EW(stop_gradient) { return x->a; }
EW_FI(add, FAdd, Add)
EW_FI(sub, FSub, Sub)
EW_FI(mul, FMul, Mul)
EW(div) { return x->fl ? LLVMBuildFDiv(x->bld, x->a, x->b, "") : int_div(x->e, x->a, x->b, x->t, x->adt); }
EW(max) { return intrinsic(x, x->fl ? "llvm.maximum" : "llvm.smax", 2); }
EW(min) { return intrinsic(x, x->fl ? "llvm.minimum" : "llvm.smin", 2); }
EW_CMP(lt, OLT, SLT)
EW_CMP(le, OLE, SLE)
EW_CMP(eq, OEQ, EQ)
EW_CMP(ne, UNE, NE)
EW(where) { return LLVMBuildSelect(x->bld, x->a, x->b, value(x->e, x->in->in[2]), ""); }

/* ew_<name> for the elementwise ops of ops.def, NULL for the others. */
#define EW_OF_elementwise(name) ew_##name
#define EW_OF_source(name) NULL
#define EW_OF_layout(name) NULL
#define EW_OF_reduce(name) NULL
#define EW_OF_contract(name) NULL
#define EW_OF_index(name) NULL
#define EW_OF_collective(name) NULL
#define EW_OF_call(name) NULL
static LLVMValueRef (*const ew_of[GC_OP_COUNT])(const ew *) = {
#define GC_OPDEF(ID, name, arity, attrs, rule, kind, type, cost, view) [GC_OP_##ID] = EW_OF_##kind(name),
#include "ir/ops.def"
#undef GC_OPDEF
};

static LLVMValueRef elementwise(llvm_writer *e, const gc_loop_inst *in) {
  if ((unsigned)in->gop >= GC_OP_COUNT || !ew_of[in->gop]) {
    fail(e, "an op that is not elementwise");
    return LLVMConstInt(e->i64, 0, 0);
  }
  gc_dtype adt = in->n_in > 0 ? dtype(e, in->in[0]) : in->dtype;
  ew x = {e, in, e->b, in->n_in > 0 ? value(e, in->in[0]) : NULL, in->n_in > 1 ? value(e, in->in[1]) : NULL, adt,
          type_of(e, adt), gc_dtype_is_float(adt)};
  return ew_of[in->gop](&x);
}

/* ---- rand_uniform: Philox4x32-10, as backends/interp/random.c --------- */

static LLVMValueRef philox(llvm_writer *e, LLVMValueRef ctr, LLVMValueRef index, int64_t seed, gc_dtype dt) {
  LLVMBuilderRef b = e->b;
  LLVMValueRef x[4], k0 = LLVMConstInt(e->i32, (uint32_t)seed, 0), k1 = LLVMConstInt(e->i32, (uint32_t)((uint64_t)seed >> 32), 0);
  LLVMValueRef c32 = LLVMConstInt(e->i64, 32, 0);
  x[0] = LLVMBuildTrunc(b, index, e->i32, "");
  x[1] = LLVMBuildTrunc(b, LLVMBuildLShr(b, index, c32, ""), e->i32, "");
  x[2] = LLVMBuildTrunc(b, ctr, e->i32, "");
  x[3] = LLVMBuildTrunc(b, LLVMBuildLShr(b, ctr, c32, ""), e->i32, "");
  LLVMValueRef m0 = LLVMConstInt(e->i64, 0xD2511F53u, 0), m1 = LLVMConstInt(e->i64, 0xCD9E8D57u, 0);
  for (int round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = LLVMBuildAdd(b, k0, LLVMConstInt(e->i32, 0x9E3779B9u, 0), "");
      k1 = LLVMBuildAdd(b, k1, LLVMConstInt(e->i32, 0xBB67AE85u, 0), "");
    }
    LLVMValueRef p0 = LLVMBuildMul(b, m0, LLVMBuildZExt(b, x[0], e->i64, ""), "");
    LLVMValueRef p1 = LLVMBuildMul(b, m1, LLVMBuildZExt(b, x[2], e->i64, ""), "");
    LLVMValueRef hi0 = LLVMBuildTrunc(b, LLVMBuildLShr(b, p0, c32, ""), e->i32, ""), lo0 = LLVMBuildTrunc(b, p0, e->i32, "");
    LLVMValueRef hi1 = LLVMBuildTrunc(b, LLVMBuildLShr(b, p1, c32, ""), e->i32, ""), lo1 = LLVMBuildTrunc(b, p1, e->i32, "");
    LLVMValueRef n0 = LLVMBuildXor(b, LLVMBuildXor(b, hi1, x[1], ""), k0, "");
    LLVMValueRef n2 = LLVMBuildXor(b, LLVMBuildXor(b, hi0, x[3], ""), k1, "");
    x[0] = n0, x[1] = lo1, x[2] = n2, x[3] = lo0;
  }
  if (dt == GC_F32) {
    LLVMValueRef top = LLVMBuildLShr(b, x[0], LLVMConstInt(e->i32, 8, 0), "");
    return LLVMBuildFMul(b, LLVMBuildUIToFP(b, top, e->f32, ""), LLVMConstReal(e->f32, 0x1p-24), "");
  }
  LLVMValueRef w = LLVMBuildOr(b, LLVMBuildShl(b, LLVMBuildZExt(b, x[0], e->i64, ""), c32, ""),
                               LLVMBuildZExt(b, x[1], e->i64, ""), "");
  LLVMValueRef top = LLVMBuildLShr(b, w, LLVMConstInt(e->i64, 11, 0), "");
  return LLVMBuildFMul(b, LLVMBuildUIToFP(b, top, e->f64, ""), LLVMConstReal(e->f64, 0x1p-53), "");
}

/* ---- memory ---------------------------------------------------------------- */

static LLVMValueRef address(llvm_writer *e, int buffer, LLVMValueRef index) {
  LLVMTypeRef t = mem_type(e, e->f->buffers[buffer].dtype);
  return LLVMBuildGEP2(e->b, t, e->bufptr[buffer], &index, 1, "");
}

static LLVMValueRef load(llvm_writer *e, const gc_loop_inst *in) {
  gc_dtype dt = e->f->buffers[in->buffer].dtype;
  LLVMValueRef v = LLVMBuildLoad2(e->b, mem_type(e, dt), address(e, in->buffer, value(e, in->in[0])), "");
  return dt == GC_BOOL ? LLVMBuildICmp(e->b, LLVMIntNE, v, LLVMConstInt(e->i8, 0, 0), "") : v;
}

static void store(llvm_writer *e, const gc_loop_inst *in) {
  gc_dtype dt = e->f->buffers[in->buffer].dtype;
  LLVMValueRef v = value(e, in->in[1]);
  if (dt == GC_BOOL) v = LLVMBuildZExt(e->b, v, e->i8, "");
  LLVMBuildStore(e->b, v, address(e, in->buffer, value(e, in->in[0])));
}

/* ---- blocks and loops ----------------------------------------------------- */

static void emit_block(llvm_writer *e, const gc_loop_block *blk, int from);

static LLVMBasicBlockRef new_bb(llvm_writer *e, const char *name) { return LLVMAppendBasicBlockInContext(e->ctx, e->fn, name); }

/* Mark the accumulation of each iter value as reassociable. */
static void mark_reassoc(llvm_writer *e, int loop) {
  const gc_loop_inst *l = &e->f->insts[loop];
  const gc_loop_block *body = &l->body;
  int yield = body->insts[body->n - 1];
  const gc_loop_inst *y = &e->f->insts[yield];
  if (y->op != GC_L_YIELD) return;
  for (int k = 0; k < y->n_in; k++) {
    LLVMValueRef v = e->val[y->more[k]];
    if (v && LLVMIsAInstruction(v) && LLVMCanValueUseFastMathFlags(v)) LLVMSetFastMathFlags(v, LLVMFastMathAllowReassoc);
  }
}

/* A loop with a vector width hint (the pieces codegen/split.c cuts, often
 * of 16 or 32 iterations): vectorized at that width, not interleaved and
 * not unrolled first -- fully unrolled, such a loop is vectorized across
 * the loop around it instead, with strided accesses. */
static void loop_hints(llvm_writer *e, LLVMValueRef latch, int width) {
  LLVMContextRef c = e->ctx;
  LLVMMetadataRef i32w = LLVMValueAsMetadata(LLVMConstInt(LLVMInt32TypeInContext(c), (unsigned long long)width, 0));
  LLVMMetadataRef one = LLVMValueAsMetadata(LLVMConstInt(LLVMInt32TypeInContext(c), 1, 0));
  LLVMMetadataRef yes = LLVMValueAsMetadata(LLVMConstInt(LLVMInt1TypeInContext(c), 1, 0));
  LLVMMetadataRef w[] = {LLVMMDStringInContext2(c, "llvm.loop.vectorize.width", 25), i32w};
  LLVMMetadataRef en[] = {LLVMMDStringInContext2(c, "llvm.loop.vectorize.enable", 26), yes};
  LLVMMetadataRef ic[] = {LLVMMDStringInContext2(c, "llvm.loop.interleave.count", 26), one};
  LLVMMetadataRef un[] = {LLVMMDStringInContext2(c, "llvm.loop.unroll.disable", 24)};
  LLVMMetadataRef self = LLVMTemporaryMDNode(c, NULL, 0);
  LLVMMetadataRef ops[] = {self, LLVMMDNodeInContext2(c, w, 2), LLVMMDNodeInContext2(c, en, 2),
                           LLVMMDNodeInContext2(c, ic, 2), LLVMMDNodeInContext2(c, un, 1)};
  LLVMMetadataRef loop = LLVMMDNodeInContext2(c, ops, 5);
  LLVMMetadataReplaceAllUsesWith(self, loop);
  LLVMSetMetadata(latch, LLVMGetMDKindIDInContext(c, "llvm.loop", 9), LLVMMetadataAsValue(c, loop));
}

static void emit_for(llvm_writer *e, int id) {
  const gc_loop_inst *l = &e->f->insts[id];
  LLVMValueRef lo = value(e, l->in[0]), hi = value(e, l->in[1]);
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(e->b), head = new_bb(e, "head"), body = new_bb(e, "body"),
                    exit = new_bb(e, "exit");
  LLVMBuildBr(e->b, head);
  LLVMPositionBuilderAtEnd(e->b, head);
  int iv = l->body.insts[0];
  LLVMValueRef phi_iv = LLVMBuildPhi(e->b, e->i64, "i");
  LLVMValueRef *phis = calloc((size_t)l->n_iter + 1, sizeof *phis);
  for (int k = 0; k < l->n_iter; k++) {
    int it = l->body.insts[1 + k];
    phis[k] = LLVMBuildPhi(e->b, type_of(e, e->f->insts[it].dtype), "acc");
    e->val[it] = phis[k];
  }
  e->val[iv] = phi_iv;
  LLVMValueRef cond = LLVMBuildICmp(e->b, LLVMIntSLT, phi_iv, hi, "");
  LLVMBuildCondBr(e->b, cond, body, exit);
  LLVMPositionBuilderAtEnd(e->b, body);
  emit_block(e, &l->body, 1 + l->n_iter);
  /* the latch: the yield's values flow back */
  LLVMValueRef next = LLVMBuildAdd(e->b, phi_iv, LLVMConstInt(e->i64, (unsigned long long)l->ivalue, 0), "");
  LLVMBasicBlockRef latch = LLVMGetInsertBlock(e->b);
  LLVMValueRef back_edge = LLVMBuildBr(e->b, head);
  if (l->vector > 1) loop_hints(e, back_edge, l->vector);
  LLVMAddIncoming(phi_iv, &lo, &pre, 1);
  LLVMAddIncoming(phi_iv, &next, &latch, 1);
  const gc_loop_inst *y = l->n_iter ? &e->f->insts[l->body.insts[l->body.n - 1]] : NULL;
  for (int k = 0; k < l->n_iter; k++) {
    LLVMValueRef init = value(e, l->more[k]), back = value(e, y->more[k]);
    LLVMAddIncoming(phis[k], &init, &pre, 1);
    LLVMAddIncoming(phis[k], &back, &latch, 1);
  }
  if (l->reassoc) mark_reassoc(e, id);
  LLVMPositionBuilderAtEnd(e->b, exit);
  free(phis);
}

static void emit_check(llvm_writer *e, const gc_loop_inst *in) {
  LLVMValueRef idx = value(e, in->in[0]), bound = value(e, in->in[1]);
  LLVMValueRef ok = LLVMBuildAnd(e->b, LLVMBuildICmp(e->b, LLVMIntSGE, idx, LLVMConstInt(e->i64, 0, 0), ""),
                                 LLVMBuildICmp(e->b, LLVMIntSLT, idx, bound, ""), "");
  LLVMBasicBlockRef bad = new_bb(e, "bad"), good = new_bb(e, "good");
  LLVMBuildCondBr(e->b, ok, good, bad);
  LLVMPositionBuilderAtEnd(e->b, bad);
  LLVMValueRef slot1 = LLVMBuildGEP2(e->b, e->i64, e->err, (LLVMValueRef[]){LLVMConstInt(e->i64, 1, 0)}, 1, "");
  LLVMBuildStore(e->b, LLVMConstInt(e->i64, (unsigned long long)in->ivalue + 1, 0), e->err);
  LLVMBuildStore(e->b, value(e, in->in[2]), slot1);
  LLVMBuildRetVoid(e->b);
  LLVMPositionBuilderAtEnd(e->b, good);
}

/* The user's scalar function on the operands (emit_call.c). */
static LLVMValueRef emit_call(llvm_writer *e, const gc_loop_inst *in) {
  LLVMValueRef ops[GC_LOOP_MAX_CALL_ARGS];
  gc_dtype dts[GC_LOOP_MAX_CALL_ARGS];
  if (in->ivalue < 0 || in->ivalue >= e->f->n_callees || in->n_in > GC_LOOP_MAX_CALL_ARGS) {
    fail(e, "a call of no callee");
    return LLVMConstInt(e->i64, 0, 0);
  }
  const gc_loop_callee *c = &e->f->callees[in->ivalue];
  if (c->buffer) {   /* rc = self->entry(self, bufs); non-zero: error */
    LLVMValueRef self = e->callptr[in->ivalue];
    LLVMValueRef entry = LLVMBuildLoad2(e->b, e->ptr, self, "entry");
    LLVMTypeRef ft = LLVMFunctionType(e->i32, (LLVMTypeRef[]){e->ptr, e->ptr}, 2, 0);
    LLVMValueRef rc = LLVMBuildCall2(e->b, ft, entry, (LLVMValueRef[]){self, LLVMGetParam(e->fn, 0)}, 2, "rc");
    LLVMBasicBlockRef bad = new_bb(e, "failed"), good = new_bb(e, "done");
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntEQ, rc, LLVMConstInt(e->i32, 0, 0), ""), good, bad);
    LLVMPositionBuilderAtEnd(e->b, bad);
    LLVMValueRef slot1 = LLVMBuildGEP2(e->b, e->i64, e->err, (LLVMValueRef[]){LLVMConstInt(e->i64, 1, 0)}, 1, "");
    LLVMBuildStore(e->b, LLVMConstInt(e->i64, (unsigned long long)c->error + 1, 0), e->err);
    LLVMBuildStore(e->b, LLVMBuildSExt(e->b, rc, e->i64, ""), slot1);
    LLVMBuildRetVoid(e->b);
    LLVMPositionBuilderAtEnd(e->b, good);
    return rc;
  }
  for (int k = 0; k < in->n_in; k++) ops[k] = value(e, in->more[k]), dts[k] = dtype(e, in->more[k]);
  return gc_llvm_emit_call(e->b, e->callptr[in->ivalue], &e->f->callees[in->ivalue], ops, dts, in->n_in, in->dtype);
}

static void emit_inst(llvm_writer *e, int id) {
  const gc_loop_inst *in = &e->f->insts[id];
  switch (in->op) {
  case GC_L_CONST: case GC_L_IV: case GC_L_ITER: case GC_L_YIELD: return;
  case GC_L_OP: e->val[id] = elementwise(e, in); return;
  case GC_L_IDIV: e->val[id] = LLVMBuildUDiv(e->b, value(e, in->in[0]), LLVMConstInt(e->i64, (unsigned long long)in->ivalue, 0), ""); return;
  case GC_L_IMOD: e->val[id] = LLVMBuildURem(e->b, value(e, in->in[0]), LLVMConstInt(e->i64, (unsigned long long)in->ivalue, 0), ""); return;
  case GC_L_LOAD: e->val[id] = load(e, in); return;
  case GC_L_STORE: store(e, in); return;
  case GC_L_RAND: e->val[id] = philox(e, value(e, in->in[0]), value(e, in->in[1]), in->seed, in->dtype); return;
  case GC_L_CHECK: emit_check(e, in); return;
  case GC_L_CALL: e->val[id] = emit_call(e, in); return;
  case GC_L_FOR: emit_for(e, id); return;
  case GC_L_RESULT: {
    const gc_loop_inst *l = &e->f->insts[in->loop];
    e->val[id] = e->val[l->body.insts[1 + in->ivalue]];   /* the header phi, seen from the exit */
    return;
  }
  default: fail(e, "an instruction this llvm_writer does not know"); return;
  }
}

static void emit_block(llvm_writer *e, const gc_loop_block *blk, int from) {
  for (int i = from; i < blk->n && !e->failed; i++) emit_inst(e, blk->insts[i]);
}

/* ---- functions --------------------------------------------------------------- */

/* void NAME(ptr bufs, i64 lo, i64 hi, ptr err): loads the buffers' addresses
 * and allocates the local ones; the builder is left in the body. */
static LLVMValueRef begin_fn(llvm_writer *e, const char *name, LLVMTypeRef *params, int n_params) {
  LLVMTypeRef ft = LLVMFunctionType(LLVMVoidTypeInContext(e->ctx), params, (unsigned)n_params, 0);
  e->fn = LLVMAddFunction(e->m, name, ft);
  LLVMPositionBuilderAtEnd(e->b, new_bb(e, "entry"));
  memset(e->val, 0, sizeof *e->val * (size_t)e->f->n_insts);
  LLVMValueRef bufs = LLVMGetParam(e->fn, 0);
  for (int i = 0; i < e->f->n_buffers; i++) {
    const gc_loop_buffer *b = &e->f->buffers[i];
    if (b->local) {
      LLVMTypeRef at = LLVMArrayType2(mem_type(e, b->dtype), (uint64_t)b->elements);
      e->bufptr[i] = LLVMBuildAlloca(e->b, at, "local");
      continue;
    }
    LLVMValueRef slot = LLVMBuildGEP2(e->b, e->ptr, bufs, (LLVMValueRef[]){LLVMConstInt(e->i64, (unsigned long long)i, 0)}, 1, "");
    e->bufptr[i] = LLVMBuildLoad2(e->b, e->ptr, slot, b->name);
  }
  for (int c = 0; c < e->f->n_callees; c++) {   /* the table after the buffers */
    LLVMValueRef at = LLVMConstInt(e->i64, (unsigned long long)(e->f->n_buffers + c), 0);
    e->callptr[c] = LLVMBuildLoad2(e->b, e->ptr, LLVMBuildGEP2(e->b, e->ptr, bufs, &at, 1, ""), "callee");
  }
  /* a buffer stored over one the kernel reads at the same elements: one
   * pointer, so LLVM sees their accesses a distance 0 apart instead of
   * checking at run time for an overlap it would find (and run scalar) */
  for (int i = 0; i < e->f->n_buffers; i++)
    if (e->f->buffers[i].shares >= 0) e->bufptr[i] = e->bufptr[e->f->buffers[i].shares];
  return e->fn;
}

static void step_fn(llvm_writer *e, const char *name, const gc_loop_block *top, int from, int to, int parallel_loop) {
  LLVMTypeRef params[4] = {e->ptr, e->i64, e->i64, e->ptr};
  begin_fn(e, name, params, 4);
  e->err = LLVMGetParam(e->fn, 3);
  if (parallel_loop >= 0) {   /* the preamble, then the loop's own body over [lo, hi) */
    for (int i = from; i < to && top->insts[i] != parallel_loop && !e->failed; i++) emit_inst(e, top->insts[i]);
    const gc_loop_inst *l = &e->f->insts[parallel_loop];
    gc_loop_inst copy = *l;
    gc_loop_inst *w = &((gc_loop_fn *)e->f)->insts[parallel_loop];
    (void)copy;
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(e->b), head = new_bb(e, "head"), body = new_bb(e, "body"),
                      exit = new_bb(e, "exit");
    LLVMValueRef lo = LLVMGetParam(e->fn, 1), hi = LLVMGetParam(e->fn, 2);
    LLVMBuildBr(e->b, head);
    LLVMPositionBuilderAtEnd(e->b, head);
    LLVMValueRef iv = LLVMBuildPhi(e->b, e->i64, "i");
    e->val[w->body.insts[0]] = iv;
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, iv, hi, ""), body, exit);
    LLVMPositionBuilderAtEnd(e->b, body);
    emit_block(e, &l->body, 1);
    LLVMValueRef next = LLVMBuildAdd(e->b, iv, LLVMConstInt(e->i64, 1, 0), "");
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(e->b);
    LLVMBuildBr(e->b, head);
    LLVMAddIncoming(iv, &lo, &pre, 1);
    LLVMAddIncoming(iv, &next, &latch, 1);
    LLVMPositionBuilderAtEnd(e->b, exit);
  } else {
    for (int i = from; i < to && !e->failed; i++) emit_inst(e, top->insts[i]);
  }
  LLVMBuildRetVoid(e->b);
}

/* The micro-kernel (gc_ukr_fn): an MR x NR tile of accumulators, NR/VW
 * vectors per row, over kc steps; A's elements broadcast from a[k*a_k +
 * r*a_r] (packed, or read in place), B's row k loaded as NR/VW vectors
 * from b + k*b_k. */
static void micro_kernel(llvm_writer *e, const char *name, const gc_loop_gemm *g, int vw) {
  LLVMTypeRef T = type_of(e, g->dtype), V = LLVMVectorType(T, (unsigned)vw);
  int mr = g->mr, nv = g->nr / vw;
  LLVMTypeRef params[9] = {e->ptr, e->i64, e->i64, e->ptr, e->i64, e->i64, e->ptr, e->i64, e->i64};
  begin_fn(e, name, params, 9);
  LLVMValueRef A = LLVMGetParam(e->fn, 0), a_k = LLVMGetParam(e->fn, 1), a_r = LLVMGetParam(e->fn, 2);
  LLVMValueRef B = LLVMGetParam(e->fn, 3), b_k = LLVMGetParam(e->fn, 4), kc = LLVMGetParam(e->fn, 5);
  LLVMValueRef C = LLVMGetParam(e->fn, 6), ldc = LLVMGetParam(e->fn, 7), accumulate = LLVMGetParam(e->fn, 8);
  unsigned noalias = LLVMGetEnumAttributeKindForName("noalias", 7);
  LLVMAddAttributeAtIndex(e->fn, 7, LLVMCreateEnumAttribute(e->ctx, noalias, 0));   /* C */
  int n_acc = mr * nv;
  LLVMValueRef *acc = calloc((size_t)n_acc, sizeof *acc), *phis = calloc((size_t)n_acc, sizeof *phis);
  /* the rows' offsets r*a_r, computed once */
  LLVMValueRef roff[16];
  for (int i = 0; i < mr && i < 16; i++) roff[i] = LLVMBuildMul(e->b, a_r, LLVMConstInt(e->i64, (unsigned long long)i, 0), "");
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(e->b), head = new_bb(e, "k"), body = new_bb(e, "fma"), exit = new_bb(e, "store");
  LLVMBuildBr(e->b, head);
  LLVMPositionBuilderAtEnd(e->b, head);
  LLVMValueRef k = LLVMBuildPhi(e->b, e->i64, "k");
  for (int i = 0; i < n_acc; i++) phis[i] = LLVMBuildPhi(e->b, V, "c");
  LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, k, kc, ""), body, exit);
  LLVMPositionBuilderAtEnd(e->b, body);
  LLVMValueRef brow = LLVMBuildMul(e->b, k, b_k, "");
  LLVMValueRef arow = LLVMBuildMul(e->b, k, a_k, "");
  LLVMValueRef bv[16];
  for (int v = 0; v < nv && v < 16; v++) {
    LLVMValueRef at = LLVMBuildAdd(e->b, brow, LLVMConstInt(e->i64, (unsigned long long)(v * vw), 0), "");
    LLVMValueRef load = LLVMBuildLoad2(e->b, V, LLVMBuildGEP2(e->b, T, B, &at, 1, ""), "b");
    LLVMSetAlignment(load, (unsigned)(gc_dtype_size(g->dtype)));
    bv[v] = load;
  }
  LLVMTypeRef tys[1] = {V};
  for (int i = 0; i < mr; i++) {
    LLVMValueRef at = LLVMBuildAdd(e->b, arow, roff[i], "");
    LLVMValueRef a = LLVMBuildLoad2(e->b, T, LLVMBuildGEP2(e->b, T, A, &at, 1, ""), "a");
    LLVMValueRef one = LLVMBuildInsertElement(e->b, LLVMGetUndef(V), a, LLVMConstInt(e->i32, 0, 0), "");
    LLVMValueRef splat = LLVMBuildShuffleVector(e->b, one, LLVMGetUndef(V),
                                                LLVMConstNull(LLVMVectorType(e->i32, (unsigned)vw)), "");
    for (int v = 0; v < nv; v++) {
      LLVMValueRef args[3] = {splat, bv[v], phis[i * nv + v]};
      acc[i * nv + v] = call_intrinsic(e, "llvm.fma", tys, 1, args, 3);
    }
  }
  LLVMValueRef knext = LLVMBuildAdd(e->b, k, LLVMConstInt(e->i64, 1, 0), "");
  LLVMBasicBlockRef latch = LLVMGetInsertBlock(e->b);
  LLVMBuildBr(e->b, head);
  LLVMValueRef zero64 = LLVMConstInt(e->i64, 0, 0), zero = LLVMConstNull(V);
  LLVMAddIncoming(k, &zero64, &pre, 1);
  LLVMAddIncoming(k, &knext, &latch, 1);
  for (int i = 0; i < n_acc; i++) {
    LLVMAddIncoming(phis[i], &zero, &pre, 1);
    LLVMAddIncoming(phis[i], &acc[i], &latch, 1);
  }
  LLVMPositionBuilderAtEnd(e->b, exit);
  /* store the tile: added to C's old values on later passes over k, or
   * straight over them on the first (no loads) */
  LLVMBasicBlockRef add_bb = new_bb(e, "add"), put_bb = new_bb(e, "put"), done_bb = new_bb(e, "done");
  LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntNE, accumulate, zero64, ""), add_bb, put_bb);
  for (int pass = 0; pass < 2; pass++) {
    LLVMPositionBuilderAtEnd(e->b, pass ? put_bb : add_bb);
    for (int i = 0; i < mr; i++)
      for (int v = 0; v < nv; v++) {
        LLVMValueRef at = LLVMBuildAdd(e->b, LLVMBuildMul(e->b, LLVMConstInt(e->i64, (unsigned long long)i, 0), ldc, ""),
                                       LLVMConstInt(e->i64, (unsigned long long)(v * vw), 0), "");
        LLVMValueRef p = LLVMBuildGEP2(e->b, T, C, &at, 1, "");
        LLVMValueRef val = phis[i * nv + v];
        if (!pass) {
          LLVMValueRef old = LLVMBuildLoad2(e->b, V, p, "");
          LLVMSetAlignment(old, (unsigned)gc_dtype_size(g->dtype));
          val = LLVMBuildFAdd(e->b, old, val, "");
        }
        LLVMValueRef st = LLVMBuildStore(e->b, val, p);
        LLVMSetAlignment(st, (unsigned)gc_dtype_size(g->dtype));
      }
    LLVMBuildBr(e->b, done_bb);
  }
  LLVMPositionBuilderAtEnd(e->b, done_bb);
  LLVMBuildRetVoid(e->b);
  free(acc);
  free(phis);
}

/* The epilogue over a finished block: for i < mlen, j < nlen, the epilogue
 * instructions with batch, m = m0 + i, n = n0 + j and acc = block[i*ldb + j]. */
static void epilogue(llvm_writer *e, const char *name, int gemm_id) {
  const gc_loop_gemm *g = e->f->insts[gemm_id].gemm;
  LLVMTypeRef T = type_of(e, g->dtype);
  LLVMTypeRef params[9] = {e->ptr, e->ptr, e->i64, e->i64, e->i64, e->i64, e->i64, e->i64, e->ptr};
  begin_fn(e, name, params, 9);
  e->err = LLVMGetParam(e->fn, 8);
  LLVMValueRef blk = LLVMGetParam(e->fn, 1), ldb = LLVMGetParam(e->fn, 2);
  LLVMValueRef m0 = LLVMGetParam(e->fn, 4), n0 = LLVMGetParam(e->fn, 5);
  const int *ins = g->epilogue.insts;
  e->val[ins[0]] = LLVMGetParam(e->fn, 3);
  LLVMValueRef lim[2] = {LLVMGetParam(e->fn, 6), LLVMGetParam(e->fn, 7)}, ivs[2];
  LLVMBasicBlockRef exits[2], heads[2], pres[2];
  LLVMValueRef phis[2];
  for (int d = 0; d < 2; d++) {
    pres[d] = LLVMGetInsertBlock(e->b);
    heads[d] = new_bb(e, d ? "j" : "i");
    LLVMBasicBlockRef body = new_bb(e, "body");
    exits[d] = new_bb(e, "exit");
    LLVMBuildBr(e->b, heads[d]);
    LLVMPositionBuilderAtEnd(e->b, heads[d]);
    phis[d] = LLVMBuildPhi(e->b, e->i64, "");
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, phis[d], lim[d], ""), body, exits[d]);
    LLVMPositionBuilderAtEnd(e->b, body);
    ivs[d] = phis[d];
  }
  e->val[ins[1]] = LLVMBuildAdd(e->b, m0, ivs[0], "m");
  e->val[ins[2]] = LLVMBuildAdd(e->b, n0, ivs[1], "n");
  LLVMValueRef at = LLVMBuildAdd(e->b, LLVMBuildMul(e->b, ivs[0], ldb, ""), ivs[1], "");
  e->val[ins[3]] = LLVMBuildLoad2(e->b, T, LLVMBuildGEP2(e->b, T, blk, &at, 1, ""), "acc");
  emit_block(e, &g->epilogue, 4);
  for (int d = 1; d >= 0; d--) {
    LLVMValueRef next = LLVMBuildAdd(e->b, phis[d], LLVMConstInt(e->i64, 1, 0), "");
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(e->b);
    LLVMBuildBr(e->b, heads[d]);
    LLVMValueRef zero = LLVMConstInt(e->i64, 0, 0);
    LLVMAddIncoming(phis[d], &zero, &pres[d], 1);
    LLVMAddIncoming(phis[d], &next, &latch, 1);
    LLVMPositionBuilderAtEnd(e->b, exits[d]);
  }
  LLVMBuildRetVoid(e->b);
}

static bool pure_top(const gc_loop_fn *f, int id) {
  gc_lop op = f->insts[id].op;
  return op != GC_L_FOR && op != GC_L_GEMM && op != GC_L_STORE && op != GC_L_CHECK &&
         !(op == GC_L_CALL && f->callees[f->insts[id].ivalue].buffer);
}

/* The index of the first top-level instruction from i on that is not pure. */
static int skip_pure(const gc_loop_fn *f, int i) {
  while (i < f->body.n && pure_top(f, f->body.insts[i])) i++;
  return i;
}

static bool boundary(const gc_loop_fn *f, int i) {
  if (i >= f->body.n) return false;
  const gc_loop_inst *x = &f->insts[f->body.insts[i]];
  return (x->op == GC_L_FOR && x->parallel) || x->op == GC_L_GEMM;
}

int gc_kernel_steps(const gc_loop_fn *f, gc_kernel_step *steps, int max) {
  int n = 0, count = f->body.n;
  for (int i = 0; i < count;) {
    if (n == max) return -1;
    gc_kernel_step *s = &steps[n];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s.s%d", f->name, n);
    s->from = i;
    int j = skip_pure(f, i);
    const gc_loop_inst *x = j < count ? &f->insts[f->body.insts[j]] : NULL;
    if (x && x->op == GC_L_FOR && x->parallel) {   /* pure code before it: its preamble */
      int64_t hi = 0;
      gc_loop_is_index_const(f, x->in[1], &hi);
      s->kind = GC_STEP_PARALLEL;
      s->extent = hi;
      i = j + 1;
    } else if (x && x->op == GC_L_GEMM && j == i) {
      s->kind = GC_STEP_GEMM;
      s->gemm = x->gemm;
      i++;
    } else {   /* serial code up to the next parallel loop (with its preamble) or GEMM */
      s->kind = GC_STEP_SERIAL;
      do {
        j = skip_pure(f, i);
        if (boundary(f, j)) {
          if (j == i || f->insts[f->body.insts[j]].op == GC_L_GEMM) i = j;
          break;
        }
        i = j < count ? j + 1 : j;
      } while (i < count);
    }
    s->to = i;
    n++;
  }
  return n;
}

LLVMModuleRef gc_emit_loop_fn(LLVMContextRef ctx, const gc_loop_fn *f, const gc_host *h, gc_diag *d) {
  llvm_writer e = {.f = f, .host = h, .ctx = ctx, .d = d};
  e.m = LLVMModuleCreateWithNameInContext(f->name, ctx);
  e.b = LLVMCreateBuilderInContext(ctx);
  e.i1 = LLVMInt1TypeInContext(ctx), e.i8 = LLVMInt8TypeInContext(ctx), e.i32 = LLVMInt32TypeInContext(ctx);
  e.i64 = LLVMInt64TypeInContext(ctx), e.f32 = LLVMFloatTypeInContext(ctx), e.f64 = LLVMDoubleTypeInContext(ctx);
  e.ptr = LLVMPointerTypeInContext(ctx, 0);
  e.val = calloc((size_t)f->n_insts + 1, sizeof *e.val);
  e.bufptr = calloc((size_t)f->n_buffers + 1, sizeof *e.bufptr);
  e.callptr = calloc((size_t)f->n_callees + 1, sizeof *e.callptr);
  gc_kernel_step steps[64];
  int n = gc_kernel_steps(f, steps, 64);
  if (!e.val || !e.bufptr || !e.callptr || n < 0) fail(&e, n < 0 ? "more than 64 steps" : "out of memory");
  const gc_loop_block *top = &f->body;
  for (int s = 0; s < n && !e.failed; s++) {
    const gc_kernel_step *st = &steps[s];
    if (st->kind == GC_STEP_PARALLEL) {
      step_fn(&e, st->name, top, st->from, st->to, top->insts[st->to - 1]);
    } else if (st->kind == GC_STEP_GEMM) {
      const gc_loop_gemm *g = st->gemm;
      int vw = h->vector_bits / (8 * (int)gc_dtype_size(g->dtype));
      if (vw < 1) vw = 1;
      if (!g->mr || g->nr % vw) {
        fail(&e, "the gemm is not tiled for this vector width");
        break;
      }
      char name[128];
      snprintf(name, sizeof name, "%s.ukr", st->name);
      micro_kernel(&e, name, g, vw);
      snprintf(name, sizeof name, "%s.epi", st->name);
      epilogue(&e, name, top->insts[st->from]);
    } else {
      step_fn(&e, st->name, top, st->from, st->to, -1);
    }
  }
  LLVMDisposeBuilder(e.b);
  free(e.val);
  free(e.bufptr);
  free(e.callptr);
  if (e.failed) {
    LLVMDisposeModule(e.m);
    return NULL;
  }
  return e.m;
}
