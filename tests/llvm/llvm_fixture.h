/* Shared by the tests of backends/llvm (header only): small kernel modules
 * written as LLVM IR text, and a one-call "compile this module for the
 * host" helper. */
#ifndef GC_TEST_LLVM_FIXTURE_H
#define GC_TEST_LLVM_FIXTURE_H

#include "tests/testutil.h"
#include "backends/llvm/machine.h"
#include "backends/llvm/jobs.h"
#include "backends/llvm/host.h"
#include "backends/llvm/jit.h"

#include <llvm-c/Core.h>
#include <llvm-c/IRReader.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* y[i] = a * x[i] + y[i] + bias for i < n, as a function `name`: the loop
 * every vectoriser knows.  The text goes to buf (SAXPY_IR_MAX bytes). */
#define SAXPY_IR_MAX 1200
static inline const char *saxpy_ir(char *buf, const char *name, int bias) {
  snprintf(buf, SAXPY_IR_MAX,
           "define void @%s(ptr noalias %%y, ptr noalias readonly %%x, float %%a, i64 %%n) {\n"
           "entry:\n"
           "  %%empty = icmp sle i64 %%n, 0\n"
           "  br i1 %%empty, label %%done, label %%loop\n"
           "loop:\n"
           "  %%i = phi i64 [ 0, %%entry ], [ %%next, %%loop ]\n"
           "  %%px = getelementptr inbounds float, ptr %%x, i64 %%i\n"
           "  %%py = getelementptr inbounds float, ptr %%y, i64 %%i\n"
           "  %%xv = load float, ptr %%px, align 4\n"
           "  %%yv = load float, ptr %%py, align 4\n"
           "  %%m = fmul float %%a, %%xv\n"
           "  %%s = fadd float %%m, %%yv\n"
           "  %%t = fadd float %%s, %d.0\n"
           "  store float %%t, ptr %%py, align 4\n"
           "  %%next = add nuw nsw i64 %%i, 1\n"
           "  %%more = icmp slt i64 %%next, %%n\n"
           "  br i1 %%more, label %%loop, label %%done\n"
           "done:\n"
           "  ret void\n"
           "}\n",
           name, bias);
  return buf;
}

typedef void (*saxpy_fn)(float *y, const float *x, float a, int64_t n);

/* `text` parsed into a module named `name` in ctx; NULL with the parser's
 * message in d. */
static inline LLVMModuleRef parse_ir(LLVMContextRef ctx, const char *name, const char *text,
                                     gc_diag *d) {
  LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRangeCopy(text, strlen(text), name);
  LLVMModuleRef m = NULL;
  char *msg = NULL;
  if (LLVMParseIRInContext(ctx, buf, &m, &msg)) {      /* takes buf */
    gc_diag_set(d, "cannot parse %s: %s", name, msg ? msg : "?");
    LLVMDisposeMessage(msg);
    return NULL;
  }
  LLVMSetModuleIdentifier(m, name, strlen(name));
  LLVMSetSourceFileName(m, name, strlen(name));
  return m;
}

/* A gc_build_module_fn: arg is the IR text; the module is named after the
 * first function it defines. */
static inline LLVMModuleRef build_from_text(LLVMContextRef ctx, void *arg, gc_diag *d) {
  const char *text = arg;
  char name[64] = "module";
  const char *at = strstr(text, "define ");
  if (at && (at = strchr(at, '@'))) {
    size_t n = strcspn(at + 1, "(");
    if (n < sizeof name) memcpy(name, at + 1, n), name[n] = 0;
  }
  return parse_ir(ctx, name, text, d);
}

/* A function whose block has no terminator. */
static inline LLVMModuleRef broken_module(LLVMContextRef ctx) {
  LLVMModuleRef m = LLVMModuleCreateWithNameInContext("broken", ctx);
  LLVMTypeRef i32 = LLVMInt32TypeInContext(ctx);
  LLVMTypeRef fn_type = LLVMFunctionType(i32, &i32, 1, 0);
  LLVMValueRef fn = LLVMAddFunction(m, "broken_fn", fn_type);
  LLVMBuilderRef b = LLVMCreateBuilderInContext(ctx);
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(ctx, fn, "entry"));
  LLVMBuildAdd(b, LLVMGetParam(fn, 0), LLVMConstInt(i32, 1, 0), "sum");
  LLVMDisposeBuilder(b);
  return m;
}

static inline gc_host test_host(void) {
  gc_host h;
  gc_diag d = {0};
  if (gc_host_detect(&h, &d)) fail_msg("gc_host_detect: %s", d.msg);
  return h;
}

/* `text` compiled for h (verify, prepare, O3, emit); fails the test on error. */
static inline gc_machine_output compile_text(const gc_host *h, const char *text, bool want_ir,
                                             bool want_asm) {
  gc_diag d = {0};
  LLVMTargetMachineRef tm = gc_host_target_machine(h, &d);
  if (!tm) fail_msg("target machine: %s", d.msg);
  LLVMContextRef ctx = LLVMContextCreate();
  LLVMModuleRef m = build_from_text(ctx, (void *)text, &d);
  if (!m) fail_msg("%s", d.msg);
  gc_machine_options o = {.want_ir = want_ir, .want_asm = want_asm};
  gc_machine_output out;
  int rc = gc_machine_module(m, tm, &o, &out, &d);
  LLVMDisposeModule(m);
  LLVMContextDispose(ctx);
  LLVMDisposeTargetMachine(tm);
  if (rc) fail_msg("gc_machine_module: %s", d.msg);
  return out;
}

/* Runs a saxpy kernel over n floats (x[i] = i/2, y[i] = i/4, a = 2: every
 * product and sum exact for small n) and checks y[i] == 1.25 i + bias. */
static inline void check_saxpy(saxpy_fn fn, int64_t n, int bias) {
  float *x = malloc(sizeof *x * (size_t)(n + 1)), *y = malloc(sizeof *y * (size_t)(n + 1));
  assert_non_null(x);
  assert_non_null(y);
  for (int64_t i = 0; i <= n; i++) x[i] = (float)i * 0.5f, y[i] = (float)i * 0.25f;
  fn(y, x, 2.0f, n);
  for (int64_t i = 0; i < n; i++)
    if (y[i] != (float)i * 1.25f + (float)bias)
      fail_msg("y[%lld] = %g, expected %g", (long long)i, y[i], (float)i * 1.25f + (float)bias);
  assert_true(y[n] == (float)n * 0.25f);       /* one past the end: untouched */
  free(x);
  free(y);
}

#endif
