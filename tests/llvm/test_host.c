/* backends/llvm host: LLVM's triple, CPU and features for this machine, the
 * vector width they imply, cache sizes from cpuid, and the GC_CPU /
 * GC_FEATURES overrides. */
#include "tests/llvm/llvm_fixture.h"

#include <pthread.h>

static void vector_width_follows_the_features(void **state) {
  (void)state;
  assert_int_equal(gc_vector_bits_for_features("+sse2,+avx512f,+avx2"), 512);
  assert_int_equal(gc_vector_bits_for_features("+avx512f,+avx2,-evex512"), 256);  /* AVX10/256 */
  assert_int_equal(gc_vector_bits_for_features("+avx2,+fma"), 256);
  assert_int_equal(gc_vector_bits_for_features("+avx"), 256);
  assert_int_equal(gc_vector_bits_for_features("+sse4.2,-avx,-avx2"), 128);
  assert_int_equal(gc_vector_bits_for_features("-avx512f,+avx2"), 256);
  assert_int_equal(gc_vector_bits_for_features("+avx512f,-avx512f"), 128);       /* last wins */
  assert_int_equal(gc_vector_bits_for_features("+avx512fp16,+avx512vl"), 128);   /* not avx512f */
  assert_int_equal(gc_vector_bits_for_features(""), 128);
  assert_true(gc_features_have("+a,+bb,-c", "bb"));
  assert_false(gc_features_have("+a,+bb,-c", "b"));
  assert_false(gc_features_have("+a,+bb,-c", "c"));
}

static void the_host_is_described(void **state) {
  (void)state;
  unsetenv("GC_CPU");
  unsetenv("GC_FEATURES");
  gc_host h = test_host();
  assert_false(h.overridden);
  assert_true(strlen(h.triple) > 0 && strlen(h.cpu) > 0);
  char *cpu = LLVMGetHostCPUName(), *features = LLVMGetHostCPUFeatures();
  assert_string_equal(h.cpu, cpu);
  assert_string_equal(h.features, features);
  LLVMDisposeMessage(cpu);
  LLVMDisposeMessage(features);
#if defined(__x86_64__)
  assert_int_equal(strncmp(h.triple, "x86_64", 6), 0);
  assert_true(gc_features_have(h.features, "sse2"));
  assert_int_equal(h.vector_bits, __builtin_cpu_supports("avx512f") ? 512
                                  : __builtin_cpu_supports("avx")   ? 256
                                                                    : 128);
#endif
  assert_int_equal(h.vector_bits, gc_vector_bits_for_features(h.features));
  /* caches: plausible per-core sizes, whatever the source */
  assert_true(h.l1d_bytes >= 4096 && h.l1d_bytes <= (4 << 20));
  assert_true(h.l2_bytes >= h.l1d_bytes && h.l2_bytes <= (64 << 20));
  assert_true(h.l3_bytes > 0 && h.l3_bytes <= ((int64_t)1 << 32));
  assert_true(h.cache_line_bytes >= 16 && h.cache_line_bytes <= 1024);
  assert_non_null(h.cache_source);
  print_message("host: %s %s, %d-bit vectors; L1d %lld KiB, L2 %lld KiB, L3 %lld KiB per core (%s)\n",
                h.triple, h.cpu, h.vector_bits, (long long)h.l1d_bytes >> 10,
                (long long)h.l2_bytes >> 10, (long long)h.l3_bytes >> 10, h.cache_source);
}

static void the_environment_overrides_the_target(void **state) {
  (void)state;
  gc_host real = test_host();
  setenv("GC_CPU", "haswell", 1);
  setenv("GC_FEATURES", "+avx,+avx2,+fma", 1);
  gc_host h = test_host();
  assert_true(h.overridden);
  assert_string_equal(h.cpu, "haswell");
  assert_string_equal(h.features, "+avx,+avx2,+fma");
  assert_int_equal(h.vector_bits, 256);
  assert_string_equal(h.triple, real.triple);
  assert_int_equal(h.l1d_bytes, real.l1d_bytes);

  unsetenv("GC_FEATURES");                 /* a CPU alone: its own features */
  h = test_host();
  assert_string_equal(h.cpu, "haswell");
  assert_string_equal(h.features, "");
  assert_int_equal(h.vector_bits, 128);

  unsetenv("GC_CPU");                      /* features alone: the host's CPU */
  setenv("GC_FEATURES", "-avx512f,+avx2", 1);
  h = test_host();
  assert_string_equal(h.cpu, real.cpu);
  assert_int_equal(h.vector_bits, 256);
  unsetenv("GC_FEATURES");
  h = test_host();
  assert_false(h.overridden);
  assert_string_equal(h.features, real.features);
}

static void the_target_machine_is_the_hosts(void **state) {
  (void)state;
  gc_host h = test_host();
  gc_diag d = {0};
  LLVMTargetMachineRef tm = gc_host_target_machine(&h, &d);
  if (!tm) fail_msg("%s", d.msg);
  char *cpu = LLVMGetTargetMachineCPU(tm), *features = LLVMGetTargetMachineFeatureString(tm),
       *triple = LLVMGetTargetMachineTriple(tm);
  assert_string_equal(cpu, h.cpu);
  assert_string_equal(features, h.features);
  assert_string_equal(triple, h.triple);
  LLVMDisposeMessage(cpu);
  LLVMDisposeMessage(features);
  LLVMDisposeMessage(triple);
  LLVMDisposeTargetMachine(tm);

  strcpy(h.triple, "no-such-arch-unknown-none");
  assert_null(gc_host_target_machine(&h, &d));
  assert_non_null(strstr(d.msg, "no-such-arch"));
}

static void *init_in_thread(void *arg) {
  (void)arg;
  return (void *)(intptr_t)gc_llvm_init(NULL);
}

static void init_is_once_and_thread_safe(void **state) {
  (void)state;
  pthread_t t[4];
  for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&t[i], NULL, init_in_thread, NULL), 0);
  for (int i = 0; i < 4; i++) {
    void *rc;
    pthread_join(t[i], &rc);
    assert_int_equal((intptr_t)rc, 0);
  }
  assert_int_equal(gc_llvm_init(NULL), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(init_is_once_and_thread_safe),
      cmocka_unit_test(vector_width_follows_the_features),
      cmocka_unit_test(the_host_is_described),
      cmocka_unit_test(the_environment_overrides_the_target),
      cmocka_unit_test(the_target_machine_is_the_hosts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
