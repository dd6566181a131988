/* Files that are not gc's, met by the tools: an output path that is a
 * symlink, a device or a FIFO is written through (the symlink stays a
 * symlink, its target updated; the device stays that device; a reader of
 * the FIFO gets the bytes); stdout that cannot be written is an error; a
 * kernel cache whose entries were replaced by junk with a sound checksum,
 * or by FIFOs, is recompiled from, not trusted or waited on. */
#include "tests/tools/tool_fixture.h"
#include "backends/llvm/cache.h"
#include "backends/runtime/bench.h"
#include "io/file.h"
#include "io/safetensors.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <xxhash.h>

static const char mlp[] =
    "graph @mlp {\n"
    "  %x  = input \"x\" : f32[4,8]\n"
    "  %w  = param \"w\" : f32[8,16]\n"
    "  %h  = dot %x, %w : f32[4,16]\n"
    "  %a  = tanh %h : f32[4,16]\n"
    "  %s  = reduce_sum %a {axes=[0,1]} : f32[]\n"
    "  output \"loss\" = %s\n"
    "}\n";

#define RUN_MLP "mlp.gcir --params p.safetensors --random-inputs 4 --grad loss "

/* mlp.gcir, and its param w (random, seed 3) in p.safetensors. */
static void write_mlp(const gc_fixture *f) {
  fixture_write_text(f, "mlp.gcir", mlp);
  gc_diag d = {0};
  gc_graph *g = gc_parse(mlp, strlen(mlp), &d);
  if (!g) fail_msg("%s", d.msg);
  gc_tensor_map params;
  gc_tensor_map_init(&params);
  assert_int_equal(gc_random_params(g, &params, 3, 0, &d), 0);
  char p[256];
  fixture_path(f, "p.safetensors", p, sizeof p);
  if (gc_safetensors_write(p, &params, &d)) fail_msg("%s", d.msg);
  gc_tensor_map_clear(&params);
  gc_graph_free(g);
}

static void make_dir(const gc_fixture *f, const char *name) {
  char p[256];
  fixture_path(f, name, p, sizeof p);
  assert_int_equal(mkdir(p, 0755), 0);
}

static mode_t kind_of(const gc_fixture *f, const char *name) {
  char p[256];
  struct stat st;
  fixture_path(f, name, p, sizeof p);
  assert_int_equal(lstat(p, &st), 0);
  return st.st_mode & S_IFMT;
}

/* The bytes of fixture file `name` (malloc'd). */
static char *bytes_of(const gc_fixture *f, const char *name, size_t *len) {
  char p[256];
  fixture_path(f, name, p, sizeof p);
  char *data = gc_read_file(p, len, NULL);
  if (!data) fail_msg("cannot read %s", p);
  return data;
}

static void assert_same_bytes(const gc_fixture *f, const char *a, const char *b) {
  size_t na, nb;
  char *x = bytes_of(f, a, &na), *y = bytes_of(f, b, &nb);
  assert_int_equal(na, nb);
  assert_memory_equal(x, y, na);
  free(x);
  free(y);
}

static void run_ok(gc_fixture *f, const char *tool, const char *args) {
  int rc = fixture_run(f, tool, args);
  if (rc) fail_msg("%s %s: exit %d\n%s", tool, args, rc, f->err);
}

/* ---- outputs -------------------------------------------------------------- */

/* gc-run -o, gc-opt -o and --emit-dot through a relative symlink into
 * another directory: the link stays, the target holds what a plain path
 * gets, and no temp file is left beside either. */
static void test_output_through_symlink(void **state) {
  gc_fixture *f = *state;
  write_mlp(f);
  make_dir(f, "real");
  fixture_write_text(f, "real/o.safetensors", "an old result");
  fixture_write_text(f, "real/g.gcir", "an old graph");
  fixture_write_text(f, "real/g.dot", "an old drawing");
  char target[256], link[256];
  const char *names[][2] = {{"real/o.safetensors", "o_link"}, {"real/g.gcir", "g_link"}, {"real/g.dot", "dot_link"}};
  for (int i = 0; i < 3; i++) {
    snprintf(target, sizeof target, "%s", names[i][0]);
    fixture_path(f, names[i][1], link, sizeof link);
    assert_int_equal(symlink(target, link), 0);
  }
  run_ok(f, "gc-run", RUN_MLP "-o o_link --emit-dot dot_link");
  run_ok(f, "gc-run", RUN_MLP "-o plain.safetensors --emit-dot plain.dot");
  run_ok(f, "gc-opt", "mlp.gcir -o g_link");
  run_ok(f, "gc-opt", "mlp.gcir -o plain.gcir");
  for (int i = 0; i < 3; i++) assert_int_equal(kind_of(f, names[i][1]), S_IFLNK);
  assert_same_bytes(f, "real/o.safetensors", "plain.safetensors");
  assert_same_bytes(f, "real/g.gcir", "plain.gcir");
  assert_same_bytes(f, "real/g.dot", "plain.dot");
  char p[256];
  fixture_path(f, "real", p, sizeof p);
  DIR *dp = opendir(p);
  int n = 0;
  for (struct dirent *e; (e = readdir(dp));) n += e->d_name[0] != '.';
  closedir(dp);
  assert_int_equal(n, 3);   /* no temp file */
}

/* A character device (made here: /dev/null's and /dev/full's numbers) as
 * -o stays that device; writing into the full one fails, saying so. */
static void test_output_to_device(void **state) {
  gc_fixture *f = *state;
  write_mlp(f);
  char null_dev[256], full_dev[256];
  fixture_path(f, "null", null_dev, sizeof null_dev);
  fixture_path(f, "full", full_dev, sizeof full_dev);
  if (mknod(null_dev, S_IFCHR | 0666, makedev(1, 3)) || mknod(full_dev, S_IFCHR | 0666, makedev(1, 7))) {
    print_message("cannot make device nodes here (%s): not root?\n", strerror(errno));
    skip();
  }
  run_ok(f, "gc-run", RUN_MLP "-o null --emit-dot null");
  run_ok(f, "gc-opt", "mlp.gcir -o null");
  assert_int_equal(fixture_run(f, "gc-run", RUN_MLP "-o full"), 1);
  assert_non_null(strstr(f->err, "full: No space left on device"));
  struct stat st;
  assert_int_equal(lstat(null_dev, &st), 0);
  assert_true(S_ISCHR(st.st_mode));
  assert_int_equal(st.st_rdev, makedev(1, 3));
  assert_int_equal(lstat(full_dev, &st), 0);
  assert_true(S_ISCHR(st.st_mode));
  assert_int_equal(st.st_rdev, makedev(1, 7));
}

/* gc-run -o into a FIFO: a reader gets the safetensors file, and the FIFO
 * is still one. */
static void test_output_into_fifo(void **state) {
  gc_fixture *f = *state;
  write_mlp(f);
  char fifo[256], got[256];
  fixture_path(f, "pipe", fifo, sizeof fifo);
  fixture_path(f, "got.safetensors", got, sizeof got);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  pid_t reader = fork();
  assert_true(reader >= 0);
  if (reader == 0) {
    alarm(60);   /* a writer that never comes fails the test */
    size_t len;
    char *data = gc_read_file(fifo, &len, NULL);
    _exit(data && gc_write_file_atomic(got, data, len, NULL) == 0 ? 0 : 1);
  }
  int rc = fixture_run(f, "gc-run", RUN_MLP "-o pipe");
  if (rc) kill(reader, SIGKILL);
  int status;
  assert_int_equal(waitpid(reader, &status, 0), reader);
  if (rc) fail_msg("gc-run -o pipe: exit %d\n%s", rc, f->err);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_int_equal(kind_of(f, "pipe"), S_IFIFO);
  run_ok(f, "gc-run", RUN_MLP "-o plain.safetensors");
  assert_same_bytes(f, "got.safetensors", "plain.safetensors");
}

/* stdout on a full device: exit 1 with one line, not a silent 0. */
static void test_stdout_full(void **state) {
  gc_fixture *f = *state;
  write_mlp(f);
  const char *runs[][2] = {{"gc-run", RUN_MLP "--bench 1 --backend interp"}, {"gc-opt", "mlp.gcir"}};
  for (int i = 0; i < 2; i++) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s/%s' %s >/dev/full 2>stderr.txt", f->dir, fixture_bin_dir(), runs[i][0],
             runs[i][1]);
    int st = system(cmd);
    fixture_read(f, "stderr.txt", f->err, sizeof f->err);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) != 1) fail_msg("%s > /dev/full: exit %d, stderr:\n%s", runs[i][0], WEXITSTATUS(st), f->err);
    char want[128];
    snprintf(want, sizeof want, "%s: error: cannot write <stdout>: No space left on device\n", runs[i][0]);
    assert_string_equal(f->err, want);
  }
}

/* ---- the kernel cache ------------------------------------------------------ */

/* Calls `change` on every entry (KEYHEX.o) of cache directory `dir`;
 * returns how many there were. */
static int each_entry(const char *dir, void (*change)(const char *path)) {
  DIR *dp = opendir(dir);
  assert_non_null(dp);
  int n = 0;
  for (struct dirent *e; (e = readdir(dp));) {
    size_t len = strlen(e->d_name);
    if (len != 34 || strcmp(e->d_name + 32, ".o") != 0) continue;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    change(path);
    n++;
  }
  closedir(dp);
  return n;
}

/* The entry's payload replaced by bytes that are no object file, with the
 * header's length and checksum made to match them (cache.h's format). */
static void junk_with_sound_checksum(const char *path) {
  size_t len;
  unsigned char *raw = (unsigned char *)gc_read_file(path, &len, NULL);
  assert_non_null(raw);
  assert_true(len > GC_OBJCACHE_HEADER);
  static const char junk[] = "not an object file, but its checksum is right";
  uint64_t n = sizeof junk, sum = XXH3_64bits(junk, sizeof junk);
  for (int i = 0; i < 8; i++) raw[16 + i] = (unsigned char)(n >> (8 * i)), raw[24 + i] = (unsigned char)(sum >> (8 * i));
  gc_file_part parts[] = {{raw, GC_OBJCACHE_HEADER}, {junk, sizeof junk}};
  assert_int_equal(gc_write_file_parts_atomic(path, parts, 2, NULL), 0);
  free(raw);
}

static void fifo_instead(const char *path) {
  assert_int_equal(unlink(path), 0);
  assert_int_equal(mkfifo(path, 0600), 0);
}

/* A warm run whose every entry the JIT refuses recompiles them, naming each
 * file, and gives the cold run's bytes; so does one whose entries are
 * FIFOs (without waiting on them). */
static void test_cache_entries_planted(void **state) {
  gc_fixture *f = *state;
  write_mlp(f);
  char cache[256];
  fixture_path(f, "cache", cache, sizeof cache);
  char *old_cache = getenv("GC_CACHE_DIR") ? strdup(getenv("GC_CACHE_DIR")) : NULL;
  setenv("GC_CACHE_DIR", cache, 1);
  run_ok(f, "gc-run", RUN_MLP "--backend llvm -o cold.safetensors");
  int n = each_entry(cache, junk_with_sound_checksum);
  assert_true(n >= 1);
  run_ok(f, "gc-run", RUN_MLP "--backend llvm -o warm.safetensors");
  assert_same_bytes(f, "cold.safetensors", "warm.safetensors");
  int notes = 0;
  for (const char *p = f->err; (p = strstr(p, "gc: kernel cache entry ")); p++) notes++;
  if (notes != n || !strstr(f->err, cache) || !strstr(f->err, "refused by the JIT"))
    fail_msg("%d entries, stderr:\n%s", n, f->err);
  run_ok(f, "gc-run", RUN_MLP "--backend llvm -o again.safetensors");   /* sound again: no note */
  assert_null(strstr(f->err, "gc: kernel cache entry"));
  assert_int_equal(each_entry(cache, fifo_instead), n);
  /* a run that waits on a FIFO is stopped after a minute, failing */
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "cd '%s' && timeout 60 '%s/gc-run' " RUN_MLP "--backend llvm -o fifo.safetensors 2>stderr.txt",
           f->dir, fixture_bin_dir());
  int st = system(cmd);
  fixture_read(f, "stderr.txt", f->err, sizeof f->err);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fail_msg("with FIFO entries: exit %d\n%s", WEXITSTATUS(st), f->err);
  if (old_cache) setenv("GC_CACHE_DIR", old_cache, 1), free(old_cache);
  else unsetenv("GC_CACHE_DIR");
  assert_same_bytes(f, "cold.safetensors", "fifo.safetensors");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_output_through_symlink, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_output_to_device, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_output_into_fifo, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stdout_full, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_cache_entries_planted, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
