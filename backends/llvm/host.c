/* The host the JIT targets (see host.h): LLVM's view of the CPU, cpuid's
 * view of the caches, and a target machine for them. */
#include "backends/llvm/host.h"
#include "backends/llvm/llvm_error.h"

#include <llvm-c/Core.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define GC_HAVE_CPUID 1
#endif

/* ---- one-time LLVM initialisation ------------------------------------- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_failed;

static void init_native(void) {
  init_failed = LLVMInitializeNativeTarget() || LLVMInitializeNativeAsmPrinter() ||
                LLVMInitializeNativeAsmParser();
}

int gc_llvm_init(gc_diag *d) {
  pthread_once(&init_once, init_native);
  if (init_failed) return gc_diag_set(d, "LLVM: no native target for this host");
  return 0;
}

/* ---- feature strings --------------------------------------------------- */

/* The sign ('+' or '-') the comma-separated list gives `feature`, or 0. */
static char feature_sign(const char *features, const char *feature) {
  size_t n = strlen(feature);
  char sign = 0;
  for (const char *p = features; p && *p;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == n + 1 && (p[0] == '+' || p[0] == '-') && memcmp(p + 1, feature, n) == 0)
      sign = p[0];                          /* the last mention wins, as in LLVM */
    p = end ? end + 1 : NULL;
  }
  return sign;
}

bool gc_features_have(const char *features, const char *feature) {
  return feature_sign(features, feature) == '+';
}

int gc_vector_bits_for_features(const char *features) {
  if (gc_features_have(features, "avx512f") && feature_sign(features, "evex512") != '-')
    return 512;
  if (gc_features_have(features, "avx2") || gc_features_have(features, "avx")) return 256;
  return 128;
}

/* ---- caches from cpuid ------------------------------------------------- */

enum { DEFAULT_L1D = 32 << 10, DEFAULT_L2 = 512 << 10, DEFAULT_L3 = 2 << 20 };

#ifdef GC_HAVE_CPUID
/* One cpuid leaf's cache descriptor (AMD 0x8000001D and Intel 4 share the
 * layout): 0 for "no more caches". */
typedef struct {
  int type, level, sharing;   /* type 1 data, 3 unified; sharing: logical CPUs */
  int64_t bytes;
  int line;
} cache_desc;

static cache_desc read_cache_desc(unsigned leaf, unsigned index) {
  unsigned a, b, c, d;
  __cpuid_count(leaf, index, a, b, c, d);
  cache_desc k = {0};
  k.type = (int)(a & 31);
  k.level = (int)((a >> 5) & 7);
  k.sharing = (int)((a >> 14) & 0xfff) + 1;
  k.line = (int)(b & 0xfff) + 1;
  int64_t partitions = ((b >> 12) & 0x3ff) + 1, ways = ((b >> 22) & 0x3ff) + 1;
  k.bytes = ways * partitions * k.line * ((int64_t)c + 1);
  return k;
}

/* Walks a deterministic cache-parameters leaf; per-core sizes into h.
 * false when the leaf describes nothing. */
static bool caches_from_leaf(gc_host *h, unsigned leaf, int threads_per_core) {
  bool any = false;
  for (unsigned i = 0; i < 16; i++) {
    cache_desc k = read_cache_desc(leaf, i);
    if (k.type == 0) break;
    if (k.type != 1 && k.type != 3) continue;        /* instruction caches */
    int cores = k.sharing / (threads_per_core > 0 ? threads_per_core : 1);
    int64_t per_core = k.bytes / (cores > 0 ? cores : 1);
    if (k.level == 1) h->l1d_bytes = per_core, h->cache_line_bytes = k.line;
    if (k.level == 2) h->l2_bytes = per_core;
    if (k.level == 3) h->l3_bytes = per_core;
    any = true;
  }
  return any;
}

static void detect_caches(gc_host *h) {
  unsigned a, b, c, d;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return;
  unsigned max_leaf = a;
  bool amd = b == 0x68747541 || b == 0x6f677948;    /* "Auth"enticAMD, "Hygo"nGenuine */
  unsigned max_ext = __get_cpuid_max(0x80000000, NULL);

  if (amd && max_ext >= 0x8000001e) {
    __cpuid(0x80000001, a, b, c, d);
    if (c & (1u << 22)) {                            /* TOPOEXT */
      __cpuid(0x8000001e, a, b, c, d);
      if (caches_from_leaf(h, 0x8000001d, (int)((b >> 8) & 0xff) + 1)) {
        h->cache_source = "cpuid 0x8000001d";
        return;
      }
    }
  }
  if (!amd && max_leaf >= 4) {
    int smt = 1;
    if (max_leaf >= 0xb) {
      __cpuid_count(0xb, 0, a, b, c, d);
      if (((c >> 8) & 0xff) == 1 && (b & 0xffff)) smt = (int)(b & 0xffff);  /* SMT level */
    }
    if (caches_from_leaf(h, 4, smt)) {
      h->cache_source = "cpuid 4";
      return;
    }
  }
  if (amd && max_ext >= 0x80000006) {
    /* Legacy leaves: L1d and L2 per core; L3 for the package, shared by the
     * logical processors leaf 1 counts (hypervisors often hide the rest). */
    __cpuid(0x80000005, a, b, c, d);
    h->l1d_bytes = (int64_t)(c >> 24) << 10;
    if (c & 0xff) h->cache_line_bytes = (int)(c & 0xff);
    __cpuid(0x80000006, a, b, c, d);
    h->l2_bytes = (int64_t)(c >> 16) << 10;
    int64_t l3 = (int64_t)(d >> 18) * (512 << 10);
    __cpuid(1, a, b, c, d);
    int logical = (d & (1u << 28)) ? (int)((b >> 16) & 0xff) : 1;
    h->l3_bytes = l3 / (logical > 0 ? logical : 1);
    h->cache_source = "cpuid 0x80000005/6";
  }
}
#else
static void detect_caches(gc_host *h) { (void)h; }
#endif

static void fill_caches(gc_host *h) {
  h->l1d_bytes = h->l2_bytes = h->l3_bytes = 0;
  h->cache_line_bytes = 64;
  h->cache_source = "defaults";
  detect_caches(h);
  if (h->l1d_bytes < 4096) h->l1d_bytes = DEFAULT_L1D;
  if (h->l2_bytes < h->l1d_bytes) h->l2_bytes = h->l1d_bytes > DEFAULT_L2 ? h->l1d_bytes : DEFAULT_L2;
  if (h->l3_bytes <= 0) h->l3_bytes = DEFAULT_L3;
  if (h->cache_line_bytes < 16 || h->cache_line_bytes > 1024) h->cache_line_bytes = 64;
}

/* ---- the host ---------------------------------------------------------- */

static int copy_str(char *dst, size_t size, const char *src, const char *what, gc_diag *d) {
  if (strlen(src) >= size) return gc_diag_set(d, "LLVM: host %s longer than %zu bytes", what, size - 1);
  memcpy(dst, src, strlen(src) + 1);
  return 0;
}

/* The process's triple, as ORC detects it. */
static int detect_triple(gc_host *h, gc_diag *d) {
  LLVMOrcJITTargetMachineBuilderRef jtmb;
  LLVMErrorRef err = LLVMOrcJITTargetMachineBuilderDetectHost(&jtmb);
  if (err) return gc_llvm_error(d, err, "LLVM: cannot detect the host");
  char *triple = LLVMOrcJITTargetMachineBuilderGetTargetTriple(jtmb);
  int rc = copy_str(h->triple, sizeof h->triple, triple, "triple", d);
  LLVMDisposeMessage(triple);
  LLVMOrcDisposeJITTargetMachineBuilder(jtmb);
  return rc;
}

int gc_host_for_cpu(gc_host *h, const char *cpu, const char *features, gc_diag *d) {
  memset(h, 0, sizeof *h);
  if (gc_llvm_init(d) || detect_triple(h, d)) return -1;
  if (copy_str(h->cpu, sizeof h->cpu, cpu, "CPU name", d) ||
      copy_str(h->features, sizeof h->features, features, "feature string", d))
    return -1;
  h->vector_bits = gc_vector_bits_for_features(h->features);
  fill_caches(h);
  return 0;
}

int gc_host_detect(gc_host *h, gc_diag *d) {
  if (gc_llvm_init(d)) return -1;
  const char *env_cpu = getenv("GC_CPU"), *env_features = getenv("GC_FEATURES");
  if (env_cpu && !*env_cpu) env_cpu = NULL;
  char *cpu = LLVMGetHostCPUName(), *features = LLVMGetHostCPUFeatures();
  int rc = gc_host_for_cpu(h, env_cpu ? env_cpu : cpu,
                           env_features ? env_features : env_cpu ? "" : features, d);
  LLVMDisposeMessage(cpu);
  LLVMDisposeMessage(features);
  if (rc == 0) h->overridden = env_cpu || env_features;
  return rc;
}

LLVMTargetMachineRef gc_host_target_machine(const gc_host *h, gc_diag *d) {
  if (gc_llvm_init(d)) return NULL;
  LLVMTargetRef target;
  char *msg = NULL;
  if (LLVMGetTargetFromTriple(h->triple, &target, &msg)) {
    gc_diag_set(d, "LLVM: no target for %s: %s", h->triple, msg ? msg : "unknown");
    LLVMDisposeMessage(msg);
    return NULL;
  }
  LLVMTargetMachineRef tm = LLVMCreateTargetMachine(target, h->triple, h->cpu, h->features,
                                                    LLVMCodeGenLevelAggressive, LLVMRelocPIC,
                                                    LLVMCodeModelDefault);
  if (!tm) gc_diag_set(d, "LLVM: cannot create a target machine for %s (cpu %s)", h->triple, h->cpu);
  return tm;
}
