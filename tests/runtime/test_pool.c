/* The thread pool: every task runs once, whatever the thread count, and a
 * job's context (on the caller's stack, as kernels keep it) is never touched
 * after gc_pool_run returns -- many short jobs in a row, each with a fresh
 * stack context, are the pattern that once let a late worker run a task of
 * a job whose frame had gone (found by AddressSanitizer in a model test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "backends/runtime/pool.h"

typedef struct {
  int64_t n;
  int64_t *hits; /* hits[i]: times task i ran */
  int64_t tag;   /* the job's number: a stale context shows up as a wrong tag */
  int64_t *seen_tags;
} job_ctx;

static void count(void *ctx, int64_t i, int worker) {
  job_ctx *j = ctx;
  (void)worker;
  __atomic_fetch_add(&j->hits[i], 1, __ATOMIC_RELAXED);
  j->seen_tags[i] = j->tag;
}

/* One job on a fresh stack frame: its context dies when this returns. */
static __attribute__((noinline)) void one_job(gc_pool *p, int64_t n, int64_t tag, int64_t *hits, int64_t *tags) {
  job_ctx j = {n, hits, tag, tags};
  memset(hits, 0, (size_t)n * sizeof *hits);
  gc_pool_run(p, n, count, &j);
  for (int64_t i = 0; i < n; i++) {
    assert_int_equal(hits[i], 1);
    assert_int_equal(tags[i], tag);
  }
}

static void run_many(int threads) {
  gc_pool *p = gc_pool_new(threads);
  assert_non_null(p);
  assert_true(gc_pool_threads(p) >= 1);
  int64_t hits[17], tags[17];
  for (int64_t k = 0; k < 20000; k++) one_job(p, 1 + k % 17, k, hits, tags);
  gc_pool_run(p, 0, count, NULL); /* nothing to do: returns at once */
  gc_pool_free(p);
}

static void test_one_thread(void **state) {
  (void)state;
  run_many(1);
}

static void test_two_threads(void **state) {
  (void)state;
  run_many(2);
}

static void test_more_threads_than_cores(void **state) {
  (void)state;
  run_many(5);
}

static void test_default_threads(void **state) {
  (void)state;
  assert_true(gc_available_cores() >= 1);
  gc_pool *p = gc_pool_new(0);
  assert_non_null(p);
  assert_int_equal(gc_pool_threads(p), gc_available_cores());
  gc_pool_free(p);
  gc_pool_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_one_thread),
      cmocka_unit_test(test_two_threads),
      cmocka_unit_test(test_more_threads_than_cores),
      cmocka_unit_test(test_default_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
