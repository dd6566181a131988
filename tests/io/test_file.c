/* io/file.c: reading whole files (with and without a size limit), mapping
 * them, and replacing them atomically; every failure names the file and
 * says why, and a failed write leaves nothing behind. */
#include "tests/testutil.h"
#include "io/file.h"

#include <dirent.h>
#include <errno.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
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

/* ---- what writing a path reaches: temp names, links, devices, FIFOs ------------ */

/* The writer's temp file is named by gc_temp_name: the one it could not
 * create names this process, and parses back to the path it stands for. */
static void test_writer_temp_name(void **state) {
  (void)state;
  char path[160];
  snprintf(path, sizeof path, "%s/no/such/dir/out.txt", dir);
  gc_diag d = {0};
  assert_int_equal(gc_write_file_atomic(path, "x", 1, &d), -1);
  const char *tmp = strstr(d.msg, "cannot create ");
  assert_non_null(tmp);
  tmp += strlen("cannot create ");
  char name[256];
  snprintf(name, sizeof name, "%.*s", (int)strcspn(tmp, ":"), tmp);
  const char *base = strrchr(name, '/') + 1;
  size_t base_len = 0;
  assert_int_equal(gc_temp_name_parse(base, &base_len), (long)getpid());
  assert_int_equal(base_len, strlen("out.txt"));
  assert_memory_equal(base, "out.txt", base_len);
  /* and the format round-trips */
  char made[64];
  assert_int_equal(gc_temp_name("a.tmp.1", 42, 7, made, sizeof made), 0);
  assert_int_equal(gc_temp_name_parse(made, &base_len), 42);
  assert_int_equal(base_len, strlen("a.tmp.1"));
  assert_int_equal(gc_temp_name("long/path", 42, 7, made, 8), -1);   /* too small */
  /* (a PID beyond any pid_t is no process's: kill() would take it for another) */
  const char *not_temp[] = {"a.tmp.1",   "a.tmp.x.1", "a.tmp..1", ".tmp.1.2",
                            "a.tmp.0.1", "a.1.2",     "a.tmp.1.", "a.tmp.4294967297.0"};
  for (int i = 0; i < 8; i++) assert_int_equal(gc_temp_name_parse(not_temp[i], &base_len), 0);
}

/* A symlink stays a symlink: its target (in another directory, through a
 * relative link and a chain of two) is replaced there, atomically, and no
 * temp file is left in either directory. */
static void test_atomic_write_through_symlink(void **state) {
  (void)state;
  char links[128], data[128], target[192], link1[192], link2[192], only[256];
  new_subdir(links, sizeof links, "links");
  new_subdir(data, sizeof data, "data");
  snprintf(target, sizeof target, "%s/real.txt", data);
  snprintf(link1, sizeof link1, "%s/one", links);
  snprintf(link2, sizeof link2, "%s/two", links);
  write_text(target, "old contents\n");
  assert_int_equal(symlink("../data/real.txt", link1), 0);   /* relative to its directory */
  assert_int_equal(symlink(link1, link2), 0);
  gc_diag d = {0};
  assert_int_equal(gc_write_file_atomic(link2, "new\n", 4, &d), 0);
  struct stat st;
  assert_int_equal(lstat(link1, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  assert_int_equal(lstat(link2, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  expect_content(target, "new\n");
  assert_int_equal(entries(data, only, sizeof only), 1);
  assert_string_equal(only, "real.txt");
  assert_int_equal(entries(links, NULL, 0), 2);
  /* a dangling link: its target is created */
  unlink(target);
  assert_int_equal(gc_write_file_atomic(link1, "made\n", 5, &d), 0);
  assert_int_equal(lstat(link1, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  expect_content(target, "made\n");
  /* a loop of links is an error, not a hang */
  char loop[192];
  snprintf(loop, sizeof loop, "%s/loop", links);
  assert_int_equal(symlink("loop", loop), 0);
  assert_int_equal(gc_write_file_atomic(loop, "x", 1, &d), -1);
  assert_non_null(strstr(d.msg, "Too many levels of symbolic links"));
}

/* A character device (made here, as /dev/null and /dev/full are) is written
 * to, not replaced: it is still that device afterwards. */
static void test_atomic_write_to_device(void **state) {
  (void)state;
  char sub[128], null_dev[192], full_dev[192], link[192];
  new_subdir(sub, sizeof sub, "dev");
  snprintf(null_dev, sizeof null_dev, "%s/null", sub);
  snprintf(full_dev, sizeof full_dev, "%s/full", sub);
  if (mknod(null_dev, S_IFCHR | 0666, makedev(1, 3)) != 0 || mknod(full_dev, S_IFCHR | 0666, makedev(1, 7)) != 0) {
    print_message("cannot make device nodes here (%s): not root?\n", strerror(errno));
    skip();
  }
  gc_diag d = {0};
  assert_int_equal(gc_write_file_atomic(null_dev, "into the void", 13, &d), 0);
  struct stat st;
  assert_int_equal(lstat(null_dev, &st), 0);
  assert_true(S_ISCHR(st.st_mode));
  assert_int_equal(st.st_rdev, makedev(1, 3));
  /* through a symlink too */
  snprintf(link, sizeof link, "%s/to_null", sub);
  assert_int_equal(symlink("null", link), 0);
  assert_int_equal(gc_write_file_atomic(link, "x", 1, &d), 0);
  assert_int_equal(lstat(null_dev, &st), 0);
  assert_true(S_ISCHR(st.st_mode));
  /* a full device: the write fails, saying why, and the device stays */
  assert_int_equal(gc_write_file_atomic(full_dev, "x", 1, &d), -1);
  char want[512];
  snprintf(want, sizeof want, "cannot write %s: No space left on device", full_dev);
  assert_string_equal(d.msg, want);
  assert_int_equal(lstat(full_dev, &st), 0);
  assert_true(S_ISCHR(st.st_mode));
  assert_int_equal(st.st_rdev, makedev(1, 7));
  assert_int_equal(entries(sub, NULL, 0), 3);   /* no temp file */
}

/* A FIFO is written into (a reader gets the bytes) and stays a FIFO. */
static void test_atomic_write_to_fifo(void **state) {
  (void)state;
  char sub[128], fifo[192];
  new_subdir(sub, sizeof sub, "fifo");
  snprintf(fifo, sizeof fifo, "%s/pipe", sub);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    gc_file_part parts[] = {{"through ", 8}, {"a fifo\n", 7}};
    _exit(gc_write_file_parts_atomic(fifo, parts, 2, NULL) == 0 ? 0 : 1);
  }
  FILE *f = fopen(fifo, "rb");   /* waits for the writer */
  assert_non_null(f);
  char got[64] = {0};
  size_t n = fread(got, 1, sizeof got - 1, f);
  fclose(f);
  int status;
  assert_int_equal(waitpid(child, &status, 0), child);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  assert_int_equal(n, 15);
  assert_string_equal(got, "through a fifo\n");
  struct stat st;
  assert_int_equal(lstat(fifo, &st), 0);
  assert_true(S_ISFIFO(st.st_mode));
  assert_int_equal(entries(sub, NULL, 0), 1);
}

/* Reading a regular file only: a symlink, a FIFO (without waiting for a
 * writer), a device and a file above the limit are refused. */
static void test_read_regular_file(void **state) {
  (void)state;
  char sub[128], file[192], link[192], fifo[192];
  new_subdir(sub, sizeof sub, "regular");
  snprintf(file, sizeof file, "%s/file", sub);
  snprintf(link, sizeof link, "%s/link", sub);
  snprintf(fifo, sizeof fifo, "%s/fifo", sub);
  write_text(file, "0123456789");
  size_t len = 0;
  gc_diag d = {0};
  char *got = gc_read_regular_file(file, 10, &len, &d);
  assert_non_null(got);
  assert_int_equal(len, 10);
  assert_string_equal(got, "0123456789");
  free(got);
  assert_null(gc_read_regular_file(file, 9, &len, &d));
  assert_non_null(strstr(d.msg, "larger than 9 bytes"));
  assert_int_equal(symlink("file", link), 0);
  assert_null(gc_read_regular_file(link, 100, &len, &d));
  assert_non_null(strstr(d.msg, "a symlink, not a regular file"));
  assert_int_equal(mkfifo(fifo, 0600), 0);
  assert_null(gc_read_regular_file(fifo, 100, &len, &d));   /* returns at once */
  assert_non_null(strstr(d.msg, "not a regular file"));
  assert_null(gc_read_regular_file("/dev/zero", 100, &len, &d));
  assert_non_null(strstr(d.msg, "not a regular file"));
  assert_null(gc_read_regular_file(sub, 100, &len, &d));
  assert_non_null(strstr(d.msg, "not a regular file"));
}

/* Temp files of processes that are gone are removed, of live ones kept, and
 * only those of the bases the caller names. */
static bool base_is_out_txt(const char *base, size_t len, void *arg) {
  (void)arg;
  return len == 7 && memcmp(base, "out.txt", 7) == 0;
}

static void test_remove_dead_temps(void **state) {
  (void)state;
  char sub[128], path[192], dead[256], mine[256], other[256];
  new_subdir(sub, sizeof sub, "temps");
  snprintf(path, sizeof path, "%s/out.txt", sub);
  write_text(path, "the real file");
  assert_int_equal(gc_temp_name(path, 2147483647, 3, dead, sizeof dead), 0);
  assert_int_equal(gc_temp_name(path, (long)getpid(), 0, mine, sizeof mine), 0);
  snprintf(path, sizeof path, "%s/notes.txt", sub);
  assert_int_equal(gc_temp_name(path, 2147483647, 3, other, sizeof other), 0);
  write_text(dead, "half");
  write_text(mine, "half");
  write_text(other, "half");
  assert_int_equal(gc_remove_dead_temps(sub, base_is_out_txt, NULL), 1);
  assert_int_equal(access(dead, F_OK), -1);
  assert_int_equal(access(mine, F_OK), 0);
  assert_int_equal(access(other, F_OK), 0);
  assert_int_equal(entries(sub, NULL, 0), 3);
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
      cmocka_unit_test(test_writer_temp_name),
      cmocka_unit_test(test_atomic_write_through_symlink),
      cmocka_unit_test(test_atomic_write_to_device),
      cmocka_unit_test(test_atomic_write_to_fifo),
      cmocka_unit_test(test_read_regular_file),
      cmocka_unit_test(test_remove_dead_temps),
  };
  return cmocka_run_group_tests(tests, make_dir, remove_tree);
}
