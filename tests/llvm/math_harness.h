/* A small JIT harness for tests/llvm/test_math.c: one module for the host
 * (target triple, data layout, and target-cpu / target-features on every
 * function), optimised with the new pass manager at O3, run with ORC LLJIT.
 *
 * It stands in for the backend's own JIT plumbing (target machine, pipeline,
 * LLJIT) until that lands; then the test switches to it and this file goes.
 *
 *   mh h;  mh_init(&h, "name");            // h.ctx, h.mod to build into
 *   LLVMValueRef f = mh_function(&h, "k", fty);
 *   ... build ...
 *   mh_optimize(&h);                       // verify + default<O3>
 *   char *ir = mh_ir(&h), *s = mh_asm(&h); // free() both
 *   mh_jit(&h);  void *p = mh_lookup(&h, "k");
 *   mh_dispose(&h);
 *
 * Every function returns 0 (or non-NULL) on success; on failure it prints the
 * LLVM message to stderr. */
#ifndef GC_TESTS_LLVM_MATH_HARNESS_H
#define GC_TESTS_LLVM_MATH_HARNESS_H

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  LLVMOrcThreadSafeContextRef tsc;
  LLVMContextRef ctx;
  LLVMModuleRef mod; /* NULL once handed to the JIT */
  LLVMTargetMachineRef tm;
  char *triple, *cpu, *features;
  LLVMOrcLLJITRef jit;
} mh;

static inline int mh_error(const char *what, LLVMErrorRef err) {
  char *msg = LLVMGetErrorMessage(err);
  fprintf(stderr, "math_harness: %s: %s\n", what, msg);
  LLVMDisposeErrorMessage(msg);
  return -1;
}

static inline int mh_init(mh *h, const char *name) {
  memset(h, 0, sizeof *h);
  if (LLVMInitializeNativeTarget() || LLVMInitializeNativeAsmPrinter()) {
    fprintf(stderr, "math_harness: no native target\n");
    return -1;
  }
  h->triple = LLVMGetDefaultTargetTriple();
  h->cpu = LLVMGetHostCPUName();
  h->features = LLVMGetHostCPUFeatures();
  LLVMTargetRef target;
  char *msg = NULL;
  if (LLVMGetTargetFromTriple(h->triple, &target, &msg)) {
    fprintf(stderr, "math_harness: %s\n", msg);
    LLVMDisposeMessage(msg);
    return -1;
  }
  h->tm = LLVMCreateTargetMachine(target, h->triple, h->cpu, h->features, LLVMCodeGenLevelAggressive,
                                  LLVMRelocDefault, LLVMCodeModelJITDefault);
  h->tsc = LLVMOrcCreateNewThreadSafeContext();
  h->ctx = LLVMOrcThreadSafeContextGetContext(h->tsc);
  h->mod = LLVMModuleCreateWithNameInContext(name, h->ctx);
  LLVMSetTarget(h->mod, h->triple);
  LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(h->tm);
  LLVMSetModuleDataLayout(h->mod, dl);
  LLVMDisposeTargetData(dl);
  return 0;
}

/* Whether the host has AVX-512 (its features list "+avx512f"). */
static inline int mh_has_avx512(const mh *h) { return h->features && strstr(h->features, "+avx512f") != NULL; }

static inline void mh_target_attrs(mh *h, LLVMValueRef fn) {
  LLVMAttributeRef cpu = LLVMCreateStringAttribute(h->ctx, "target-cpu", 10, h->cpu, (unsigned)strlen(h->cpu));
  LLVMAttributeRef feat = LLVMCreateStringAttribute(h->ctx, "target-features", 15, h->features,
                                                    (unsigned)strlen(h->features));
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, cpu);
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, feat);
}

/* An externally visible function with the host's target attributes. */
static inline LLVMValueRef mh_function(mh *h, const char *name, LLVMTypeRef fty) {
  LLVMValueRef fn = LLVMAddFunction(h->mod, name, fty);
  mh_target_attrs(h, fn);
  return fn;
}

static inline int mh_optimize(mh *h) {
  char *msg = NULL;
  if (LLVMVerifyModule(h->mod, LLVMReturnStatusAction, &msg)) {
    fprintf(stderr, "math_harness: invalid module: %s\n", msg);
    LLVMDisposeMessage(msg);
    return -1;
  }
  LLVMDisposeMessage(msg);
  LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
  LLVMErrorRef err = LLVMRunPasses(h->mod, "default<O3>", h->tm, opts);
  LLVMDisposePassBuilderOptions(opts);
  return err ? mh_error("O3", err) : 0;
}

/* The module's IR / assembly as malloc'd strings (before mh_jit). */
static inline char *mh_ir(mh *h) {
  char *s = LLVMPrintModuleToString(h->mod);
  char *copy = strdup(s);
  LLVMDisposeMessage(s);
  return copy;
}

static inline char *mh_asm(mh *h) {
  LLVMMemoryBufferRef buf = NULL;
  char *msg = NULL;
  if (LLVMTargetMachineEmitToMemoryBuffer(h->tm, h->mod, LLVMAssemblyFile, &msg, &buf)) {
    fprintf(stderr, "math_harness: codegen: %s\n", msg);
    LLVMDisposeMessage(msg);
    return NULL;
  }
  size_t n = LLVMGetBufferSize(buf);
  char *s = malloc(n + 1);
  memcpy(s, LLVMGetBufferStart(buf), n);
  s[n] = 0;
  LLVMDisposeMemoryBuffer(buf);
  return s;
}

/* Hands the module to a new LLJIT for the host. */
static inline int mh_jit(mh *h) {
  LLVMOrcJITTargetMachineBuilderRef jtmb;
  LLVMErrorRef err = LLVMOrcJITTargetMachineBuilderDetectHost(&jtmb);
  if (err) return mh_error("host", err);
  LLVMOrcLLJITBuilderRef builder = LLVMOrcCreateLLJITBuilder();
  LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(builder, jtmb);
  if ((err = LLVMOrcCreateLLJIT(&h->jit, builder))) return mh_error("LLJIT", err);
  LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(h->mod, h->tsc);
  h->mod = NULL;
  if ((err = LLVMOrcLLJITAddLLVMIRModule(h->jit, LLVMOrcLLJITGetMainJITDylib(h->jit), tsm))) {
    LLVMOrcDisposeThreadSafeModule(tsm);
    return mh_error("add module", err);
  }
  return 0;
}

static inline void *mh_lookup(mh *h, const char *name) {
  LLVMOrcJITTargetAddress addr = 0;
  LLVMErrorRef err = LLVMOrcLLJITLookup(h->jit, &addr, name);
  if (err) {
    mh_error(name, err);
    return NULL;
  }
  return (void *)(uintptr_t)addr;
}

static inline void mh_dispose(mh *h) {
  if (h->jit) {
    LLVMErrorRef err = LLVMOrcDisposeLLJIT(h->jit);
    if (err) mh_error("dispose", err);
  }
  if (h->mod) LLVMDisposeModule(h->mod);
  if (h->tsc) LLVMOrcDisposeThreadSafeContext(h->tsc);
  if (h->tm) LLVMDisposeTargetMachine(h->tm);
  LLVMDisposeMessage(h->triple);
  LLVMDisposeMessage(h->cpu);
  LLVMDisposeMessage(h->features);
  memset(h, 0, sizeof *h);
}

#endif
