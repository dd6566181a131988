/* backends/llvm cache: a compiled kernel is stored under $GC_CACHE_DIR and
 * loaded instead of compiled next time, byte for byte the cold compile; a
 * corrupt, truncated or misfiled entry is never loaded but rebuilt; the
 * cache can be turned off, and turns itself off when it has no directory. */
#include "tests/llvm/llvm_fixture.h"
#include "io/file.h"
#include "base/clock.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static gc_host host;
static char tmp[64];
static char ir[SAXPY_IR_MAX];

static int setup(void **state) {
  (void)state;
  host = test_host();
  strcpy(tmp, "/tmp/gc_llvm_cache.XXXXXX");
  saxpy_ir(ir, "saxpy", 5);
  return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  return system(cmd) == 0 ? 0 : -1;
}

/* A fresh cache directory tmp/name, given to the cache by $GC_CACHE_DIR. */
static gc_objcache cache_in(const char *name) {
  char dir[128];
  snprintf(dir, sizeof dir, "%s/%s", tmp, name);
  setenv("GC_CACHE_DIR", dir, 1);
  gc_objcache c;
  gc_objcache_open(&c, &host, false);
  unsetenv("GC_CACHE_DIR");
  return c;
}

static int count_entries(const char *dir) {
  DIR *dp = opendir(dir);
  if (!dp) return -1;
  int n = 0;
  for (struct dirent *e; (e = readdir(dp));) n += e->d_name[0] != '.';
  closedir(dp);
  return n;
}

/* The saxpy job, keyed by its IR text, compiled through cache c. */
static gc_compiled compile_saxpy(const gc_objcache *c, gc_compile_stats *stats) {
  gc_compile_job job = {.name = "saxpy", .key = ir, .key_len = strlen(ir),
                        .build = build_from_text, .arg = ir};
  gc_jobs_options o = {.host = &host, .threads = 1, .cache = c};
  gc_compiled out;
  gc_diag d = {0};
  if (gc_compile_jobs(&job, 1, &o, &out, stats, &d)) fail_msg("gc_compile_jobs: %s", d.msg);
  return out;
}

static void assert_same_object(const gc_compiled *a, const gc_compiled *b) {
  assert_int_equal(a->object_len, b->object_len);
  assert_memory_equal(a->object, b->object, a->object_len);
}

static void run_it(const gc_compiled *c) {
  gc_diag d = {0};
  gc_jit *j = gc_jit_new(&d);
  assert_non_null(j);
  assert_int_equal(gc_jit_add_object(j, c->object, c->object_len, "saxpy", &d), 0);
  saxpy_fn fn = (saxpy_fn)gc_jit_lookup(j, "saxpy", &d);
  if (!fn) fail_msg("%s", d.msg);
  check_saxpy(fn, 333, 5);
  gc_jit_free(j);
}

static void a_hit_is_the_cold_compile(void **state) {
  (void)state;
  gc_objcache c = cache_in("hit/nested");         /* created, parents too */
  assert_true(c.enabled);
  assert_int_equal(strncmp(c.dir, tmp, strlen(tmp)), 0);
  assert_int_equal(count_entries(c.dir), 0);
  gc_compile_stats stats;
  double t0 = gc_now_seconds();
  gc_compiled cold = compile_saxpy(&c, &stats);
  double t1 = gc_now_seconds();
  assert_int_equal(stats.compiled, 1);
  assert_int_equal(stats.from_cache, 0);
  assert_false(cold.from_cache);
  assert_int_equal(count_entries(c.dir), 1);        /* one entry, in $GC_CACHE_DIR */
  gc_compiled warm = compile_saxpy(&c, &stats);
  double t2 = gc_now_seconds();
  assert_int_equal(stats.compiled, 0);
  assert_int_equal(stats.from_cache, 1);
  assert_true(warm.from_cache);
  assert_same_object(&cold, &warm);
  print_message("small module: cold %.2f ms, from the cache %.3f ms\n", 1e3 * (t1 - t0), 1e3 * (t2 - t1));
  gc_compiled again = compile_saxpy(&c, &stats);    /* and again */
  assert_int_equal(stats.from_cache, 1);
  assert_same_object(&cold, &again);
  run_it(&warm);

  /* the entry's file: header, then exactly the object */
  char path[4300];
  gc_objcache_key key = gc_objcache_key_of(&c, ir, strlen(ir));
  gc_objcache_path(&c, key, path, sizeof path);
  size_t len;
  char *raw = gc_read_file(path, &len, NULL);
  assert_non_null(raw);
  assert_int_equal(len, GC_OBJCACHE_HEADER + cold.object_len);
  assert_memory_equal(raw, "gcobj", 5);
  assert_memory_equal(raw + GC_OBJCACHE_HEADER, cold.object, cold.object_len);
  free(raw);

  /* another text, another key; another target, another key */
  assert_false(gc_objcache_key_of(&c, ir, strlen(ir) - 1).lo == key.lo);
  gc_host other = host;
  strcpy(other.features, "+avx2");
  gc_objcache c2;
  gc_objcache_open_dir(&c2, &other, c.dir, false);
  gc_objcache_key key2 = gc_objcache_key_of(&c2, ir, strlen(ir));
  assert_false(key2.hi == key.hi && key2.lo == key.lo);
  void *obj;
  assert_false(gc_objcache_load(&c2, key2, &obj, &len));

  gc_compiled_free(&cold, 1);
  gc_compiled_free(&warm, 1);
  gc_compiled_free(&again, 1);
}

/* Damages the saxpy entry of c with `damage`, then checks the next compile
 * misses, compiles the same bytes as `cold`, and leaves a sound entry. */
static void check_rebuilt(const gc_objcache *c, const gc_compiled *cold,
                          void (*damage)(const char *path)) {
  char path[4300];
  gc_objcache_key key = gc_objcache_key_of(c, ir, strlen(ir));
  gc_objcache_path(c, key, path, sizeof path);
  damage(path);
  void *obj;
  size_t len;
  assert_false(gc_objcache_load(c, key, &obj, &len));
  assert_null(obj);
  gc_compile_stats stats;
  gc_compiled rebuilt = compile_saxpy(c, &stats);
  assert_int_equal(stats.compiled, 1);
  assert_int_equal(stats.from_cache, 0);
  assert_same_object(cold, &rebuilt);
  assert_true(gc_objcache_load(c, key, &obj, &len));   /* overwritten: sound again */
  assert_int_equal(len, cold->object_len);
  assert_memory_equal(obj, cold->object, len);
  free(obj);
  gc_compiled_free(&rebuilt, 1);
}

static void flip_byte_at(const char *path, size_t at) {
  size_t len;
  char *raw = gc_read_file(path, &len, NULL);
  assert_non_null(raw);
  assert_true(at < len);
  raw[at] ^= 0x20;
  assert_int_equal(gc_write_file_atomic(path, raw, len, NULL), 0);
  free(raw);
}

static void truncate_to(const char *path, size_t keep) {
  size_t len;
  char *raw = gc_read_file(path, &len, NULL);
  assert_non_null(raw);
  assert_true(keep < len);
  assert_int_equal(gc_write_file_atomic(path, raw, keep, NULL), 0);
  free(raw);
}

static void flip_in_payload(const char *path) { flip_byte_at(path, GC_OBJCACHE_HEADER + 100); }
static void flip_in_magic(const char *path) { flip_byte_at(path, 1); }
static void flip_in_length(const char *path) { flip_byte_at(path, 16); }
static void flip_in_key(const char *path) { flip_byte_at(path, 40); }
static void flip_in_version(const char *path) { flip_byte_at(path, 8); }
static void cut_in_half(const char *path) {
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  truncate_to(path, (size_t)st.st_size / 2);
}
static void cut_in_header(const char *path) { truncate_to(path, 20); }
static void cut_to_nothing(const char *path) { truncate_to(path, 0); }
static void cut_last_byte(const char *path) {
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  truncate_to(path, (size_t)st.st_size - 1);
}
static void remove_it(const char *path) { assert_int_equal(unlink(path), 0); }

static void bad_entries_are_rebuilt(void **state) {
  (void)state;
  gc_objcache c = cache_in("bad");
  assert_true(c.enabled);
  gc_compiled cold = compile_saxpy(&c, NULL);
  check_rebuilt(&c, &cold, flip_in_payload);
  check_rebuilt(&c, &cold, flip_in_magic);
  check_rebuilt(&c, &cold, flip_in_version);
  check_rebuilt(&c, &cold, flip_in_length);
  check_rebuilt(&c, &cold, flip_in_key);
  check_rebuilt(&c, &cold, cut_in_half);
  check_rebuilt(&c, &cold, cut_in_header);
  check_rebuilt(&c, &cold, cut_to_nothing);
  check_rebuilt(&c, &cold, cut_last_byte);
  check_rebuilt(&c, &cold, remove_it);
  gc_compiled_free(&cold, 1);
}

/* A sound entry filed under another key's name is not that key's object. */
static void a_misfiled_entry_is_not_loaded(void **state) {
  (void)state;
  gc_objcache c = cache_in("misfiled");
  gc_objcache_key a = gc_objcache_key_of(&c, "a", 1), b = gc_objcache_key_of(&c, "b", 1);
  gc_diag d = {0};
  assert_int_equal(gc_objcache_store(&c, a, "object a", 8, &d), 0);
  void *obj;
  size_t len;
  assert_true(gc_objcache_load(&c, a, &obj, &len));
  assert_int_equal(len, 8);
  assert_memory_equal(obj, "object a", 8);
  free(obj);
  char pa[4300], pb[4300];
  gc_objcache_path(&c, a, pa, sizeof pa);
  gc_objcache_path(&c, b, pb, sizeof pb);
  assert_int_equal(rename(pa, pb), 0);
  assert_false(gc_objcache_load(&c, b, &obj, &len));
  assert_false(gc_objcache_load(&c, a, &obj, &len));
  /* an empty object is a valid entry */
  assert_int_equal(gc_objcache_store(&c, b, "", 0, &d), 0);
  assert_true(gc_objcache_load(&c, b, &obj, &len));
  assert_int_equal(len, 0);
  free(obj);
}

static void the_cache_can_be_off(void **state) {
  (void)state;
  char dir[128];
  snprintf(dir, sizeof dir, "%s/off", tmp);
  setenv("GC_CACHE_DIR", dir, 1);
  gc_objcache c;
  gc_objcache_open(&c, &host, true);                /* --no-cache */
  assert_false(c.enabled);
  gc_compile_stats stats;
  gc_compiled a = compile_saxpy(&c, &stats), b = compile_saxpy(&c, &stats);
  assert_int_equal(stats.compiled, 1);
  assert_int_equal(stats.from_cache, 0);
  assert_same_object(&a, &b);
  struct stat st;
  assert_int_equal(stat(dir, &st), -1);             /* nothing created */
  gc_compiled_free(&a, 1);
  gc_compiled_free(&b, 1);

  /* a directory that cannot be made: off, silently, and compiling works */
  char file[128];
  snprintf(file, sizeof file, "%s/plain_file", tmp);
  assert_int_equal(gc_write_file_atomic(file, "x", 1, NULL), 0);
  snprintf(dir, sizeof dir, "%s/plain_file/cache", tmp);
  setenv("GC_CACHE_DIR", dir, 1);
  gc_objcache_open(&c, &host, false);
  assert_false(c.enabled);
  a = compile_saxpy(&c, &stats);
  assert_int_equal(stats.compiled, 1);
  run_it(&a);
  gc_compiled_free(&a, 1);

  /* a job without a key is never cached */
  unsetenv("GC_CACHE_DIR");
  gc_objcache on = cache_in("keyless");
  gc_compile_job job = {.name = "saxpy", .build = build_from_text, .arg = ir};
  gc_jobs_options o = {.host = &host, .threads = 1, .cache = &on};
  gc_diag d = {0};
  assert_int_equal(gc_compile_jobs(&job, 1, &o, &a, &stats, &d), 0);
  assert_int_equal(count_entries(on.dir), 0);
  gc_compiled_free(&a, 1);
  /* asking for text compiles even on a hit */
  job.key = ir, job.key_len = strlen(ir);
  assert_int_equal(gc_compile_jobs(&job, 1, &o, &a, &stats, &d), 0);
  assert_int_equal(count_entries(on.dir), 1);
  o.want_asm = true;
  assert_int_equal(gc_compile_jobs(&job, 1, &o, &b, &stats, &d), 0);
  assert_int_equal(stats.compiled, 1);
  assert_non_null(b.asm_text);
  assert_same_object(&a, &b);
  gc_compiled_free(&a, 1);
  gc_compiled_free(&b, 1);
}

static void the_default_is_under_home(void **state) {
  (void)state;
  char home[128], want[160];
  snprintf(home, sizeof home, "%s/home", tmp);
  const char *old_home = getenv("HOME");
  char *saved = old_home ? strdup(old_home) : NULL;
  setenv("HOME", home, 1);
  unsetenv("GC_CACHE_DIR");
  gc_objcache c;
  gc_objcache_open(&c, &host, false);
  snprintf(want, sizeof want, "%s/.cache/gc", home);
  assert_true(c.enabled);
  assert_string_equal(c.dir, want);
  struct stat st;
  assert_int_equal(stat(want, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  setenv("GC_CACHE_DIR", "", 1);                   /* empty: the default too */
  gc_objcache_open(&c, &host, false);
  assert_string_equal(c.dir, want);
  unsetenv("GC_CACHE_DIR");
  if (saved) setenv("HOME", saved, 1), free(saved);
  else unsetenv("HOME");
}

/* Parallel jobs through one cache: the second batch is all hits and equal
 * to the first, on any thread count. */
static void parallel_jobs_share_the_cache(void **state) {
  (void)state;
  gc_objcache c = cache_in("parallel");
  enum { N = 6 };
  static char texts[N][SAXPY_IR_MAX], names[N][8];
  gc_compile_job jobs[N];
  for (int i = 0; i < N; i++) {
    snprintf(names[i], sizeof names[i], "p%d", i);
    saxpy_ir(texts[i], names[i], i);
    jobs[i] = (gc_compile_job){.name = names[i], .key = texts[i], .key_len = strlen(texts[i]),
                               .build = build_from_text, .arg = texts[i]};
  }
  gc_compiled cold[N], warm[N];
  gc_compile_stats stats;
  gc_jobs_options o = {.host = &host, .threads = 2, .cache = &c};
  gc_diag d = {0};
  assert_int_equal(gc_compile_jobs(jobs, N, &o, cold, &stats, &d), 0);
  assert_int_equal(stats.compiled, N);
  o.threads = 1;
  assert_int_equal(gc_compile_jobs(jobs, N, &o, warm, &stats, &d), 0);
  assert_int_equal(stats.compiled, 0);
  assert_int_equal(stats.from_cache, N);
  for (int i = 0; i < N; i++) assert_same_object(&cold[i], &warm[i]);
  assert_int_equal(count_entries(c.dir), N);
  gc_compiled_free(cold, N);
  gc_compiled_free(warm, N);
}

/* ---- entries a hostile user planted --------------------------------------- */

/* key's entry path for the saxpy job in c. */
static void saxpy_entry(const gc_objcache *c, char *path, size_t size) {
  gc_objcache_path(c, gc_objcache_key_of(c, ir, strlen(ir)), path, size);
}

/* The next compile through c misses, compiles, and leaves a regular file
 * holding the cold object. */
static void check_replaced(const gc_objcache *c, const gc_compiled *cold) {
  char path[4300];
  saxpy_entry(c, path, sizeof path);
  void *obj;
  size_t len;
  assert_false(gc_objcache_load(c, gc_objcache_key_of(c, ir, strlen(ir)), &obj, &len));
  gc_compile_stats stats;
  gc_compiled again = compile_saxpy(c, &stats);
  assert_int_equal(stats.compiled, 1);
  assert_same_object(cold, &again);
  struct stat st;
  assert_int_equal(lstat(path, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_true(gc_objcache_load(c, gc_objcache_key_of(c, ir, strlen(ir)), &obj, &len));
  assert_int_equal(len, cold->object_len);
  free(obj);
  gc_compiled_free(&again, 1);
}

/* A FIFO, a symlink to /dev/zero and a symlink to a sound entry elsewhere
 * are not read (a FIFO would hang the lookup, /dev/zero feed it without
 * end), and the store replaces them with a regular file without writing
 * through them. */
static void special_entries_are_not_read(void **state) {
  (void)state;
  gc_objcache c = cache_in("special");
  gc_compiled cold = compile_saxpy(&c, NULL);
  char path[4300], elsewhere[4400];
  saxpy_entry(&c, path, sizeof path);
  snprintf(elsewhere, sizeof elsewhere, "%s/sound_copy.o", tmp);
  assert_int_equal(rename(path, elsewhere), 0);
  alarm(60);   /* a lookup that waits on the FIFO fails the test instead of hanging it */
  assert_int_equal(mkfifo(path, 0600), 0);
  check_replaced(&c, &cold);
  assert_int_equal(unlink(path), 0);
  assert_int_equal(symlink("/dev/zero", path), 0);
  check_replaced(&c, &cold);
  assert_int_equal(unlink(path), 0);
  assert_int_equal(symlink(elsewhere, path), 0);
  char *before = NULL;
  size_t before_len;
  assert_non_null(before = gc_read_file(elsewhere, &before_len, NULL));
  check_replaced(&c, &cold);
  size_t after_len;
  char *after = gc_read_file(elsewhere, &after_len, NULL);   /* the link's target untouched */
  assert_non_null(after);
  assert_int_equal(after_len, before_len);
  assert_memory_equal(after, before, before_len);
  alarm(0);
  free(before);
  free(after);
  gc_compiled_free(&cold, 1);
}

/* Temp files of a store killed midway (KEY.o.tmp.PID.N, named by
 * gc_temp_name) are removed when a process opens the cache; a live
 * process's are kept, and so are files that are not the cache's. */
static void dead_stores_are_cleaned(void **state) {
  (void)state;
  gc_objcache c = cache_in("temps");
  gc_compiled cold = compile_saxpy(&c, NULL);
  char path[4300], dead[4400], live[4400], other[4400], mine[4400];
  saxpy_entry(&c, path, sizeof path);
  assert_int_equal(gc_temp_name(path, 2147483647, 0, dead, sizeof dead), 0);
  assert_int_equal(gc_temp_name(path, (long)getppid(), 1, live, sizeof live), 0);
  assert_int_equal(gc_temp_name(path, (long)getpid(), 2, mine, sizeof mine), 0);
  snprintf(other, sizeof other, "%s/notes.txt", c.dir);
  char other_tmp[4500];
  assert_int_equal(gc_temp_name(other, 2147483647, 0, other_tmp, sizeof other_tmp), 0);
  const char *planted[] = {dead, live, mine, other_tmp};
  for (int i = 0; i < 4; i++) assert_int_equal(gc_write_file_atomic(planted[i], "half", 4, NULL), 0);
  assert_int_equal(count_entries(c.dir), 5);
  gc_objcache again;
  gc_objcache_open_dir(&again, &host, c.dir, false);
  assert_true(again.enabled);
  assert_int_equal(access(dead, F_OK), -1);
  assert_int_equal(access(live, F_OK), 0);
  assert_int_equal(access(mine, F_OK), 0);
  assert_int_equal(access(other_tmp, F_OK), 0);
  assert_int_equal(access(path, F_OK), 0);
  gc_compiled_free(&cold, 1);
}

/* saxpy's code calling a function no one defines: an object that loads
 * but cannot link. */
static const char unlinkable_ir[] =
    "declare void @gc_test_no_such_function()\n"
    "define void @saxpy(ptr %y, ptr %x, float %a, i64 %n) {\n"
    "  call void @gc_test_no_such_function()\n"
    "  ret void\n"
    "}\n";

/* Stores `len` bytes as the saxpy entry (a sound header and checksum), then
 * compiles saxpy with a JIT: the entry is refused, named in a note, dropped
 * and compiled again; the kernel runs and the entry is sound again. */
static void check_refused(const gc_objcache *c, const gc_compiled *cold, const void *payload, size_t len,
                          const char *why) {
  gc_objcache_key key = gc_objcache_key_of(c, ir, strlen(ir));
  char path[4300];
  saxpy_entry(c, path, sizeof path);
  assert_int_equal(gc_objcache_store(c, key, payload, len, NULL), 0);
  void *obj;
  size_t got;
  assert_true(gc_objcache_load(c, key, &obj, &got));   /* its checksum is sound */
  free(obj);
  gc_diag d = {0};
  gc_jit *j = gc_jit_new(&d);
  assert_non_null(j);
  FILE *notes = tmpfile();
  assert_non_null(notes);
  gc_compile_job job = {.name = "saxpy", .key = ir, .key_len = strlen(ir), .build = build_from_text, .arg = ir};
  gc_jobs_options o = {.host = &host, .threads = 1, .cache = c, .jit = j, .notes = notes};
  gc_compiled out;
  gc_compile_stats stats;
  if (gc_compile_jobs(&job, 1, &o, &out, &stats, &d)) fail_msg("gc_compile_jobs: %s", d.msg);
  assert_int_equal(stats.compiled, 1);
  assert_int_equal(stats.from_cache, 0);
  assert_int_equal(stats.cache_refused, 1);
  assert_false(out.from_cache);
  assert_same_object(cold, &out);
  char text[8192] = {0};
  rewind(notes);
  assert_true(fread(text, 1, sizeof text - 1, notes) > 0);
  fclose(notes);
  char want[4400];
  snprintf(want, sizeof want, "gc: kernel cache entry %s: refused by the JIT (", path);
  if (!strstr(text, want) || !strstr(text, why) || !strstr(text, "compiling kernel saxpy again"))
    fail_msg("notes:\n%s\nwanted \"%s\" and \"%s\"", text, want, why);
  saxpy_fn fn = (saxpy_fn)gc_jit_lookup(j, "saxpy", &d);
  if (!fn) fail_msg("%s", d.msg);
  check_saxpy(fn, 333, 5);
  gc_jit_free(j);
  assert_true(gc_objcache_load(c, key, &obj, &got));   /* sound again */
  assert_int_equal(got, cold->object_len);
  assert_memory_equal(obj, cold->object, got);
  free(obj);
  gc_compiled_free(&out, 1);
  /* and the next compile loads it, linked, with no note */
  j = gc_jit_new(&d);
  notes = tmpfile();
  o.jit = j, o.notes = notes;
  assert_int_equal(gc_compile_jobs(&job, 1, &o, &out, &stats, &d), 0);
  assert_int_equal(stats.from_cache, 1);
  assert_int_equal(stats.cache_refused, 0);
  assert_int_equal(ftell(notes), 0);
  fclose(notes);
  assert_non_null(gc_jit_lookup(j, "saxpy", &d));
  gc_jit_free(j);
  gc_compiled_free(&out, 1);
}

static void entries_the_jit_refuses_are_rebuilt(void **state) {
  (void)state;
  gc_objcache c = cache_in("refused");
  gc_compiled cold = compile_saxpy(&c, NULL);
  /* not an object file at all */
  static const char junk[] = "\177ELF but not really an object file, only its first four bytes";
  check_refused(&c, &cold, junk, sizeof junk, "cannot add object saxpy");
  /* another kernel's sound object: it defines no saxpy */
  char other_ir[SAXPY_IR_MAX];
  gc_machine_output other = compile_text(&host, saxpy_ir(other_ir, "other", 1), false, false);
  check_refused(&c, &cold, other.object, other.object_len, "defines no symbol saxpy");
  gc_machine_output_free(&other);
  /* an object that loads but does not link */
  gc_machine_output unlinkable = compile_text(&host, unlinkable_ir, false, false);
  check_refused(&c, &cold, unlinkable.object, unlinkable.object_len, "gc_test_no_such_function");
  gc_machine_output_free(&unlinkable);
  gc_compiled_free(&cold, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_hit_is_the_cold_compile),
      cmocka_unit_test(bad_entries_are_rebuilt),
      cmocka_unit_test(a_misfiled_entry_is_not_loaded),
      cmocka_unit_test(the_cache_can_be_off),
      cmocka_unit_test(the_default_is_under_home),
      cmocka_unit_test(parallel_jobs_share_the_cache),
      cmocka_unit_test(special_entries_are_not_read),
      cmocka_unit_test(dead_stores_are_cleaned),
      cmocka_unit_test(entries_the_jit_refuses_are_rebuilt),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
