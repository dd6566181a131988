/* backends/llvm/host.h — the machine the JIT targets: the one it runs on.
 *
 * gc_host_detect asks LLVM for the host's triple, CPU name and feature string
 * and cpuid for the data cache sizes; code is generated for exactly that CPU
 * (DESIGN.md, "The JIT targets the host it runs on").  For testing other
 * targets the environment may override the CPU and features:
 *
 *   GC_CPU=NAME       an LLVM CPU name (x86-64-v3, skylake-avx512, znver4, ...);
 *                     the features are then GC_FEATURES, or "" (the CPU's own)
 *   GC_FEATURES=LIST  an LLVM feature string ("+avx2,+fma,-avx512f")
 *
 * Code generated for features the host lacks must not be run on it.
 *
 * Ownership: a gc_host is a plain value (no pointers); copy it freely and
 * share it between threads read-only.  A target machine from
 * gc_host_target_machine belongs to the caller (LLVMDisposeTargetMachine) and
 * to one thread at a time: LLVM target machines are not thread-safe. */
#ifndef GC_LLVM_HOST_H
#define GC_LLVM_HOST_H

#include "ir/ir.h"

#include <llvm-c/TargetMachine.h>

#include <stdbool.h>
#include <stdint.h>

typedef struct {
  char triple[128];         /* "x86_64-pc-linux-gnu" */
  char cpu[64];             /* "znver5" */
  char features[4096];      /* "+avx,+avx2,-amx-tile,...", as LLVM spells them */
  bool overridden;          /* cpu or features came from GC_CPU / GC_FEATURES */
  int vector_bits;          /* widest float vector worth using: 512, 256 or 128 */
  /* Data caches, bytes per core: L1d and L2 as one core has them, L3 the
   * shared cache's size divided by the cores sharing it. */
  int64_t l1d_bytes, l2_bytes, l3_bytes;
  int cache_line_bytes;
  const char *cache_source; /* static string: "cpuid 0x8000001d", "cpuid 4",
                               "cpuid 0x80000005/6" or "defaults" */
} gc_host;

/* Initialises LLVM's native target, asm printer and parser, once per process
 * (thread-safe; later calls return the first call's result).  0, or -1 with
 * a message when LLVM has no native target.  Every function of this layer
 * that needs it calls it; callers need not. */
int gc_llvm_init(gc_diag *d);

/* The host, with the GC_CPU / GC_FEATURES overrides applied.  0, or -1 with
 * a message (no native target). */
int gc_host_detect(gc_host *h, gc_diag *d);

/* The host's triple and caches, but the given CPU and features (both
 * required; "" features: the CPU's own).  Ignores the environment. */
int gc_host_for_cpu(gc_host *h, const char *cpu, const char *features, gc_diag *d);

/* Vector width implied by an LLVM feature string: 512 with +avx512f (unless
 * -evex512), 256 with +avx2 or +avx, else 128. */
int gc_vector_bits_for_features(const char *features);

/* Whether the feature string enables `feature` ("avx512f": "+avx512f" is in
 * the list). */
bool gc_features_have(const char *features, const char *feature);

/* A new target machine for h: its triple, CPU and features, CodeGenOpt
 * Aggressive, position-independent code (the JIT links objects anywhere in
 * the address space).  NULL with a message on failure. */
LLVMTargetMachineRef gc_host_target_machine(const gc_host *h, gc_diag *d);

#endif
