/* Seeded fills: the same values on any number of threads, normals that are
 * normal, integers that are the documented function of their index. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "backends/runtime/random_fill.h"
#include "base/splitmix64.h"

static gc_tensor *vector(gc_dtype dt, int64_t n) {
  gc_type t = {.dtype = dt, .rank = 1, .dims = {n}};
  gc_tensor *x = gc_tensor_new(&t);
  assert_non_null(x);
  return x;
}

/* Each chunk of 65536 elements draws from its own stream, so a prefix is the
 * same whether the tensor is filled on one thread or on a pool. */
static void test_normal_same_on_any_thread_count(void **state) {
  (void)state;
  int64_t big = (1 << 20) + 12345, small = 70000;   /* a pool; and one thread, two chunks */
  gc_tensor *a = vector(GC_F64, big), *b = vector(GC_F64, small), *c = vector(GC_F64, small);
  gc_fill_normal(a, 42, 0, 1);
  gc_fill_normal(b, 42, 0, 1);
  gc_fill_normal(c, 43, 0, 1);
  assert_memory_equal(a->data, b->data, (size_t)small * sizeof(double));
  assert_true(memcmp(b->data, c->data, (size_t)small * sizeof(double)) != 0);   /* the seed matters */
  gc_tensor *f = vector(GC_F32, small);
  gc_fill_normal(f, 42, 0.5, 0.02);   /* f32: mean + std * the same normal, rounded */
  for (int64_t i = 0; i < small; i++) assert_true(((float *)f->data)[i] == (float)(0.5 + 0.02 * ((double *)b->data)[i]));
  gc_tensor_free(a);
  gc_tensor_free(b);
  gc_tensor_free(c);
  gc_tensor_free(f);
}

/* The ziggurat's tables are right: moments, the tail past its base strip
 * (R = 3.654) and the CDF at several points match N(0, 1) on 2^21 draws. */
static void test_normal_distribution(void **state) {
  (void)state;
  int64_t n = 1 << 21;
  gc_tensor *t = vector(GC_F64, n);
  gc_fill_normal(t, 7, 0, 1);
  const double *x = t->data;
  double m1 = 0, m2 = 0, m4 = 0;
  int64_t tail = 0, below[7] = {0};
  static const double at[7] = {-2.5, -1.5, -0.5, 0, 0.7, 1.9, 3};
  for (int64_t i = 0; i < n; i++) {
    m1 += x[i], m2 += x[i] * x[i], m4 += x[i] * x[i] * x[i] * x[i];
    tail += fabs(x[i]) > 3.6541528853610088;
    for (int k = 0; k < 7; k++) below[k] += x[i] < at[k];
  }
  m1 /= (double)n, m2 /= (double)n, m4 /= (double)n;
  assert_true(fabs(m1) < 3e-3);
  assert_true(fabs(m2 - 1) < 5e-3);
  assert_true(fabs(m4 - 3) < 3e-2);
  double expect_tail = erfc(3.6541528853610088 / sqrt(2.0)) * (double)n;   /* about 541 */
  assert_true(fabs((double)tail - expect_tail) < 5 * sqrt(expect_tail));
  for (int k = 0; k < 7; k++) assert_true(fabs((double)below[k] / (double)n - 0.5 * erfc(-at[k] / sqrt(2.0))) < 2e-3);
  gc_tensor_free(t);
}

static void test_integers_and_values(void **state) {
  (void)state;
  int64_t n = (1 << 20) + 99;
  gc_tensor *t = vector(GC_I64, n), *b = vector(GC_BOOL, n), *c = vector(GC_F32, n);
  gc_fill_integers(t, 3, 1000);
  gc_fill_integers(b, 3, 0);
  gc_fill_value(c, -1.5);
  uint64_t s = 3;
  for (int64_t i = 0; i < n; i++) {
    uint64_t r = gc_splitmix64(&s);
    assert_int_equal(((int64_t *)t->data)[i], (int64_t)(r % 1000));
    assert_int_equal(((uint8_t *)b->data)[i], (uint8_t)(r & 1));
    assert_true(((float *)c->data)[i] == -1.5f);
  }
  gc_fill_value(c, 0);
  for (int64_t i = 0; i < n; i++) assert_true(((float *)c->data)[i] == 0.0f);
  gc_tensor_free(t);
  gc_tensor_free(b);
  gc_tensor_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_normal_same_on_any_thread_count),
      cmocka_unit_test(test_normal_distribution),
      cmocka_unit_test(test_integers_and_values),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
