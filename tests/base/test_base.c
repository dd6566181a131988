/* base/: the string builder grows past its first block and keeps every
 * character, gives "" (not NULL) for nothing written; a name list is
 * separated and cut short; the clock does not go back. */
#include "tests/testutil.h"
#include "base/clock.h"
#include "base/namelist.h"
#include "base/strbuf.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static void test_strbuf_grows(void **state) {
  (void)state;
  gc_strbuf b = {0};
  for (int i = 0; i < 1000; i++) gc_strbuf_printf(&b, "%03d,", i);
  gc_strbuf_putc(&b, '!');
  size_t len = b.len;
  char *s = gc_strbuf_take(&b);
  assert_non_null(s);
  assert_int_equal(len, 4001);
  assert_int_equal(strlen(s), 4001);
  assert_memory_equal(s, "000,001,002,", 12);
  assert_string_equal(s + 3992, "998,999,!");
  assert_null(b.s);   /* taken: the builder is empty again */
  free(s);
}

static void test_strbuf_empty(void **state) {
  (void)state;
  gc_strbuf b = {0};
  char *s = gc_strbuf_take(&b);
  assert_non_null(s);
  assert_string_equal(s, "");
  free(s);
  gc_strbuf f = {.failed = true};
  gc_strbuf_printf(&f, "lost");
  assert_int_equal(f.len, 0);
  assert_null(gc_strbuf_take(&f));
}

static void test_namelist(void **state) {
  (void)state;
  char known[16] = "";
  gc_namelist_add(known, sizeof known, ", ", "interp");
  assert_string_equal(known, "interp");
  gc_namelist_add(known, sizeof known, ", ", "llvm");
  assert_string_equal(known, "interp, llvm");
  gc_namelist_add(known, sizeof known, ", ", "other");   /* cut short at 15 */
  assert_string_equal(known, "interp, llvm, o");
  gc_namelist_add(known, sizeof known, ", ", "more");    /* full: unchanged */
  assert_string_equal(known, "interp, llvm, o");
  char models[32] = "";
  gc_namelist_add(models, sizeof models, " ", "gpt2");
  gc_namelist_add(models, sizeof models, " ", "t5");
  assert_string_equal(models, "gpt2 t5");
}

static void test_clock(void **state) {
  (void)state;
  double t0 = gc_now_seconds();
  struct timespec nap = {0, 2000000};   /* 2 ms */
  nanosleep(&nap, NULL);
  double t1 = gc_now_seconds(), ms = gc_now_ms();
  assert_true(t1 - t0 >= 0.0019 && t1 - t0 < 5);
  assert_true(ms >= 1e3 * t1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_strbuf_grows),
      cmocka_unit_test(test_strbuf_empty),
      cmocka_unit_test(test_namelist),
      cmocka_unit_test(test_clock),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
