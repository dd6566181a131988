/* io/file.c: reading whole files (with and without a size limit), mapping
 * them, and replacing them atomically; every failure names the file and
 * says why, and a failed write leaves nothing behind. */
#include "tests/testutil.h"
#include "io/file.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static int make_dir(void **state) {
  (void)state;
  strcpy(dir, "/tmp/gc_file_test.XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int remove_tree(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* dir/name in `out`. */
static const char *in_dir(char *out, size_t size, const char *name) {
  snprintf(out, size, "%s/%s", dir, name);
  return out;
}

/* A fresh directory dir/name, its path in `out`. */
static const char *new_subdir(char *out, size_t size, const char *name) {
  in_dir(out, size, name);
  assert_int_equal(mkdir(out, 0755), 0);
  return out;
}

/* How many entries `path` (a directory) holds, "." and ".." not counted;
 * the one there is, if any, in `only`. */
static int entries(const char *path, char *only, size_t size) {
  DIR *dp = opendir(path);
  assert_non_null(dp);
  int n = 0;
  for (struct dirent *e; (e = readdir(dp));)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
      if (only) snprintf(only, size, "%s", e->d_name);
      n++;
    }
  closedir(dp);
  return n;
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
}

static void expect_content(const char *path, const char *want) {
  size_t len = 12345;
  char *got = gc_read_file(path, &len, NULL);
  assert_non_null(got);
  assert_int_equal(len, strlen(want));
  assert_string_equal(got, want); /* NUL-terminated */
  free(got);
}

/* ---- reading ------------------------------------------------------------------ */

static void test_read_missing_file(void **state) {
  (void)state;
  char path[128], msg[256];
  in_dir(path, sizeof path, "missing.txt");
  gc_diag d = {0};
  size_t len = 7;
  assert_null(gc_read_file(path, &len, &d));
  snprintf(msg, sizeof msg, "%s: cannot open: No such file or directory", path);
  assert_string_equal(d.msg, msg);
  assert_null(gc_read_file(path, &len, NULL)); /* no diag wanted: still fails cleanly */
  assert_int_equal(len, 7);
}

static void test_read_whole_file(void **state) {
  (void)state;
  char path[128];
  in_dir(path, sizeof path, "small.txt");
  write_text(path, "hello\nworld\n");
  expect_content(path, "hello\nworld\n");
  /* an empty file, and one larger than the first read buffer (64 KiB), with
   * a NUL byte inside */
  write_text(path, "");
  expect_content(path, "");
  size_t big = 200001;
  char *data = malloc(big);
  for (size_t i = 0; i < big; i++) data[i] = (char)('a' + i % 26);
  data[1000] = 0;
  FILE *f = fopen(path, "wb");
  assert_int_equal(fwrite(data, 1, big, f), big);
  fclose(f);
  size_t len;
  char *got = gc_read_file(path, &len, NULL);
  assert_non_null(got);
  assert_int_equal(len, big);
  assert_memory_equal(got, data, big);
  assert_int_equal(got[big], 0);
  free(got);
  free(data);
  unlink(path);
}

static void test_read_directory(void **state) {
  (void)state;
  gc_diag d = {0};
  size_t len;
  assert_null(gc_read_file(dir, &len, &d));
  assert_non_null(strstr(d.msg, dir));
  assert_non_null(strstr(d.msg, "Is a directory"));
}

static void test_read_max(void **state) {
  (void)state;
  char path[128];
  in_dir(path, sizeof path, "ten.txt");
  write_text(path, "0123456789");
  size_t len;
  gc_diag d = {0};
  char *got = gc_read_file_max(path, 10, &len, &d); /* exactly the limit */
  assert_non_null(got);
  assert_int_equal(len, 10);
  free(got);
  assert_null(gc_read_file_max(path, 9, &len, &d));
  char want[512];
  snprintf(want, sizeof want, "%s: larger than 9 bytes", path);
  assert_non_null(strstr(d.msg, want));
  assert_null(gc_read_file_max(path, 0, &len, &d));
  assert_non_null(strstr(d.msg, "larger than 0 bytes"));
  unlink(path);
}

static void test_map_file(void **state) {
  (void)state;
  char path[128];
  in_dir(path, sizeof path, "mapped.bin");
  write_text(path, "mapped bytes");
  size_t len = 0;
  gc_diag d = {0};
  const char *p = gc_map_file(path, &len, &d);
  assert_non_null(p);
  assert_int_equal(len, 12);
  assert_memory_equal(p, "mapped bytes", 12);
  gc_unmap_file(p, len);
  write_text(path, ""); /* empty: a valid pointer, no bytes */
  p = gc_map_file(path, &len, &d);
  assert_non_null(p);
  assert_int_equal(len, 0);
  gc_unmap_file(p, len);
  unlink(path);
  assert_null(gc_map_file(path, &len, &d));
  assert_non_null(strstr(d.msg, path));
  assert_non_null(strstr(d.msg, "No such file or directory"));
  assert_null(gc_map_file(dir, &len, &d));
  assert_non_null(strstr(d.msg, dir));
  assert_non_null(strstr(d.msg, "not a regular file"));
}

/* ---- atomic writing ----------------------------------------------------------- */

static void test_atomic_write_replaces(void **state) {
  (void)state;
  char sub[128], path[160], only[256];
  new_subdir(sub, sizeof sub, "replace");
  snprintf(path, sizeof path, "%s/out.txt", sub);
  gc_diag d = {0};
  assert_int_equal(gc_write_file_atomic(path, "a longer first version\n", 23, &d), 0);
  expect_content(path, "a longer first version\n");
  /* a shorter file replaces it entirely: nothing of the old one is left */
  assert_int_equal(gc_write_file_atomic(path, "second\n", 7, &d), 0);
  expect_content(path, "second\n");
  assert_int_equal(entries(sub, only, sizeof only), 1); /* no temp file left */
  assert_string_equal(only, "out.txt");
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0600, 0600);
  /* an empty file */
  assert_int_equal(gc_write_file_atomic(path, NULL, 0, &d), 0);
  expect_content(path, "");
  assert_int_equal(entries(sub, NULL, 0), 1);
}

static void test_atomic_write_parts(void **state) {
  (void)state;
  char path[128];
  in_dir(path, sizeof path, "parts.txt");
  gc_file_part parts[] = {{"head|", 5}, {NULL, 0}, {"body|", 5}, {"tail", 4}};
  gc_diag d = {0};
  assert_int_equal(gc_write_file_parts_atomic(path, parts, 4, &d), 0);
  expect_content(path, "head|body|tail");
  assert_int_equal(gc_write_file_parts_atomic(path, parts, 0, &d), 0);
  expect_content(path, "");
  unlink(path);
}

static void test_atomic_write_into_missing_dir(void **state) {
  (void)state;
  char path[160], want[512];
  snprintf(path, sizeof path, "%s/no/such/dir/out.txt", dir);
  int before = entries(dir, NULL, 0);
  gc_diag d = {0};
  assert_int_equal(gc_write_file_atomic(path, "x", 1, &d), -1);
  snprintf(want, sizeof want, "cannot write %s: cannot create %s.tmp.", path, path);
  assert_non_null(strstr(d.msg, want));
  assert_non_null(strstr(d.msg, "No such file or directory"));
  assert_int_equal(entries(dir, NULL, 0), before); /* nothing made */
  assert_int_equal(access(path, F_OK), -1);
}

/* The rename fails (the target is a directory): the temp file is removed
 * and the target is untouched. */
static void test_atomic_write_failing_rename(void **state) {
  (void)state;
  char sub[128], target[160], only[256];
  new_subdir(sub, sizeof sub, "rename");
  snprintf(target, sizeof target, "%s/target", sub);
  assert_int_equal(mkdir(target, 0755), 0);
  gc_diag d = {0};
  assert_int_equal(gc_write_file_atomic(target, "x", 1, &d), -1);
  char want[512];
  snprintf(want, sizeof want, "cannot write %s: Is a directory", target);
  assert_string_equal(d.msg, want);
  assert_int_equal(entries(sub, only, sizeof only), 1);
  assert_string_equal(only, "target");
  assert_int_equal(entries(target, NULL, 0), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_read_missing_file),
      cmocka_unit_test(test_read_whole_file),
      cmocka_unit_test(test_read_directory),
      cmocka_unit_test(test_read_max),
      cmocka_unit_test(test_map_file),
      cmocka_unit_test(test_atomic_write_replaces),
      cmocka_unit_test(test_atomic_write_parts),
      cmocka_unit_test(test_atomic_write_into_missing_dir),
      cmocka_unit_test(test_atomic_write_failing_rename),
  };
  return cmocka_run_group_tests(tests, make_dir, remove_tree);
}
