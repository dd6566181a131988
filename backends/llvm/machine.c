/* One LLVM module in, machine code out (see machine.h). */
#include "backends/llvm/machine.h"
#include "backends/llvm/llvm_error.h"
#include "backends/llvm/mkdirs.h"
#include "io/file.h"

#include <llvm-c/Analysis.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *module_name(LLVMModuleRef m) {
  size_t len;
  const char *name = LLVMGetModuleIdentifier(m, &len);
  return name && *name ? name : "(unnamed)";
}

int gc_machine_verify(LLVMModuleRef m, gc_diag *d) {
  char *msg = NULL;
  if (!LLVMVerifyModule(m, LLVMReturnStatusAction, &msg)) {
    LLVMDisposeMessage(msg);
    return 0;
  }
  char what[256];
  snprintf(what, sizeof what, "LLVM module %s is invalid", module_name(m));
  return gc_llvm_message(d, msg, what);
}

void gc_machine_prepare(LLVMModuleRef m, LLVMTargetMachineRef tm) {
  char *triple = LLVMGetTargetMachineTriple(tm);
  LLVMSetTarget(m, triple);
  LLVMDisposeMessage(triple);
  LLVMTargetDataRef layout = LLVMCreateTargetDataLayout(tm);
  LLVMSetModuleDataLayout(m, layout);
  LLVMDisposeTargetData(layout);

  char *cpu = LLVMGetTargetMachineCPU(tm), *features = LLVMGetTargetMachineFeatureString(tm);
  LLVMContextRef ctx = LLVMGetModuleContext(m);
  LLVMAttributeRef cpu_attr = LLVMCreateStringAttribute(ctx, "target-cpu", 10, cpu, (unsigned)strlen(cpu));
  LLVMAttributeRef features_attr = LLVMCreateStringAttribute(ctx, "target-features", 15, features,
                                                             (unsigned)strlen(features));
  /* no-builtins: loops stay loops, never calls to memcpy or memset (a
   * call per row of a GEMM tile costs more than the copy) */
  LLVMAttributeRef no_builtins = LLVMCreateStringAttribute(ctx, "no-builtins", 11, "", 0);
  for (LLVMValueRef fn = LLVMGetFirstFunction(m); fn; fn = LLVMGetNextFunction(fn)) {
    if (LLVMIsDeclaration(fn)) continue;
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, cpu_attr);
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, features_attr);
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, no_builtins);
  }
  LLVMDisposeMessage(cpu);
  LLVMDisposeMessage(features);
}

int gc_machine_optimize(LLVMModuleRef m, LLVMTargetMachineRef tm, gc_diag *d) {
  LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
  LLVMPassBuilderOptionsSetLoopVectorization(opts, 1);
  LLVMPassBuilderOptionsSetSLPVectorization(opts, 1);
  LLVMPassBuilderOptionsSetLoopInterleaving(opts, 1);
  LLVMPassBuilderOptionsSetLoopUnrolling(opts, 1);
  LLVMErrorRef err = LLVMRunPasses(m, "default<O3>", tm, opts);
  LLVMDisposePassBuilderOptions(opts);
  if (!err) return 0;
  char what[256];
  snprintf(what, sizeof what, "LLVM cannot optimise module %s", module_name(m));
  return gc_llvm_error(d, err, what);
}

/* A copy of the buffer's bytes with a NUL after them. */
static char *copy_buffer(LLVMMemoryBufferRef buf, size_t *len) {
  *len = LLVMGetBufferSize(buf);
  char *out = malloc(*len + 1);
  if (out) {
    memcpy(out, LLVMGetBufferStart(buf), *len);
    out[*len] = 0;
  }
  return out;
}

int gc_machine_emit(LLVMModuleRef m, LLVMTargetMachineRef tm, LLVMCodeGenFileType kind,
                    char **out, size_t *len, gc_diag *d) {
  *out = NULL;
  *len = 0;
  char *msg = NULL;
  LLVMMemoryBufferRef buf = NULL;
  if (LLVMTargetMachineEmitToMemoryBuffer(tm, m, kind, &msg, &buf)) {
    char what[256];
    snprintf(what, sizeof what, "LLVM cannot emit %s for module %s",
             kind == LLVMObjectFile ? "an object" : "assembly", module_name(m));
    return gc_llvm_message(d, msg, what);
  }
  LLVMDisposeMessage(msg);
  *out = copy_buffer(buf, len);
  LLVMDisposeMemoryBuffer(buf);
  if (!*out) return gc_diag_set(d, "LLVM module %s: out of memory", module_name(m));
  return 0;
}

char *gc_machine_ir_text(LLVMModuleRef m) {
  char *text = LLVMPrintModuleToString(m);
  char *out = strdup(text);
  LLVMDisposeMessage(text);
  return out;
}

void gc_machine_output_free(gc_machine_output *out) {
  free(out->object);
  free(out->ir_text);
  free(out->asm_text);
  memset(out, 0, sizeof *out);
}

/* The assembly of m, emitted from a clone so that m itself still goes to
 * the object emitter untouched (code generation rewrites IR). */
static int emit_asm(LLVMModuleRef m, LLVMTargetMachineRef tm, char **text, gc_diag *d) {
  LLVMModuleRef clone = LLVMCloneModule(m);
  size_t len;
  int rc = gc_machine_emit(clone, tm, LLVMAssemblyFile, text, &len, d);
  LLVMDisposeModule(clone);
  return rc;
}

/* LLVM reports some failures (and remarks) as diagnostics through its
 * context; with no handler installed it prints them and exits on an error.
 * While gc_machine_module runs, they are caught here instead: the first
 * error is kept, the rest dropped. */
typedef struct {
  bool error;
  char msg[512];
} caught_diagnostics;

static void catch_diagnostic(LLVMDiagnosticInfoRef info, void *ctx) {
  caught_diagnostics *c = ctx;
  if (LLVMGetDiagInfoSeverity(info) != LLVMDSError || c->error) return;
  char *desc = LLVMGetDiagInfoDescription(info);
  snprintf(c->msg, sizeof c->msg, "%s", desc ? desc : "unknown error");
  LLVMDisposeMessage(desc);
  c->error = true;
}

static int compile_steps(LLVMModuleRef m, LLVMTargetMachineRef tm, const gc_machine_options *o,
                         gc_machine_output *out, const caught_diagnostics *caught, gc_diag *d) {
  if (gc_machine_verify(m, d)) return -1;
  gc_machine_prepare(m, tm);
  if (gc_machine_optimize(m, tm, d)) return -1;
  if (o && o->want_ir && !(out->ir_text = gc_machine_ir_text(m)))
    return gc_diag_set(d, "LLVM module %s: out of memory", module_name(m));
  if (o && o->want_asm && emit_asm(m, tm, &out->asm_text, d)) return -1;
  if (gc_machine_emit(m, tm, LLVMObjectFile, &out->object, &out->object_len, d)) return -1;
  if (caught->error)
    return gc_diag_set(d, "LLVM cannot compile module %s: %s", module_name(m), caught->msg);
  return 0;
}

int gc_machine_module(LLVMModuleRef m, LLVMTargetMachineRef tm, const gc_machine_options *o,
                      gc_machine_output *out, gc_diag *d) {
  memset(out, 0, sizeof *out);
  LLVMContextRef ctx = LLVMGetModuleContext(m);
  LLVMDiagnosticHandler old_handler = LLVMContextGetDiagnosticHandler(ctx);
  void *old_ctx = LLVMContextGetDiagnosticContext(ctx);
  caught_diagnostics caught = {0};
  LLVMContextSetDiagnosticHandler(ctx, catch_diagnostic, &caught);
  int rc = compile_steps(m, tm, o, out, &caught, d);
  LLVMContextSetDiagnosticHandler(ctx, old_handler, old_ctx);
  if (rc) gc_machine_output_free(out);
  return rc;
}

int gc_machine_write_text(const char *dir, const char *name, const char *suffix,
                          const char *text, gc_diag *d) {
  if (gc_mkdirs(dir, d)) return -1;
  size_t size = strlen(dir) + strlen(name) + strlen(suffix) + 4;   /* '/', '_' for "", '.', NUL */
  char *path = malloc(size);
  if (!path) return gc_diag_set(d, "cannot write %s/%s.%s: out of memory", dir, name, suffix);
  int n = snprintf(path, size, "%s/", dir);
  for (const char *c = name; *c; c++) {
    int ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
             *c == '_' || *c == '-' || *c == '.';
    path[n++] = ok ? *c : '_';
  }
  if (!*name) path[n++] = '_';
  snprintf(path + n, size - (size_t)n, ".%s", suffix);
  int rc = gc_write_file_atomic(path, text, strlen(text), d);
  free(path);
  return rc;
}
