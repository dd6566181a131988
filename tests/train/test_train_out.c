/* gc-train's output directory (train/train_out.c): checked before anything
 * is created, made, cleared of temp files a crash left; settings.txt;
 * loss.csv checked on resume. */
#include "tests/testutil.h"
#include "train/train.h"
#include "io/file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  char dir[64];
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/gc_train_out_XXXXXX");
  if (!mkdtemp(f->dir)) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
  int rc = system(cmd);
  free(f);
  return rc == 0 ? 0 : -1;
}

static void path_in(const fixture *f, const char *name, char *out, size_t size) {
  snprintf(out, size, "%s/%s", f->dir, name);
}

static void write_text(const fixture *f, const char *name, const char *text) {
  char p[256];
  path_in(f, name, p, sizeof p);
  FILE *fp = fopen(p, "w");
  assert_non_null(fp);
  fputs(text, fp);
  fclose(fp);
}

static bool exists(const fixture *f, const char *name) {
  char p[256];
  path_in(f, name, p, sizeof p);
  return access(p, F_OK) == 0;
}

static void test_check_out_creates_nothing(void **state) {
  fixture *f = *state;
  char p[256];
  gc_diag d = {0};
  assert_int_equal(gc_train_check_out(f->dir, &d), 0);
  path_in(f, "a/b/c", p, sizeof p);
  assert_int_equal(gc_train_check_out(p, &d), 0);
  assert_false(exists(f, "a"));
  /* under a file: cannot be made */
  write_text(f, "file", "x");
  path_in(f, "file/run", p, sizeof p);
  assert_int_equal(gc_train_check_out(p, &d), -1);
  assert_non_null(strstr(d.msg, "cannot create output directory"));
  path_in(f, "file/run/deeper", p, sizeof p);
  assert_int_equal(gc_train_check_out(p, &d), -1);
  /* a file where the directory should be */
  path_in(f, "file", p, sizeof p);
  assert_int_equal(gc_train_check_out(p, &d), -1);
  assert_non_null(strstr(d.msg, "is not a directory"));
  assert_int_equal(gc_train_check_out("", &d), -1);
  /* made, then usable */
  path_in(f, "a/b/c", p, sizeof p);
  assert_int_equal(gc_train_make_out(p, &d), 0);
  assert_true(exists(f, "a/b/c"));
  assert_int_equal(gc_train_check_out(p, &d), 0);
}

/* dir/NAME's temp file name as the writer makes it (gc_temp_name), for
 * process `pid`, into out. */
static const char *temp_of(const fixture *f, const char *name, long pid, unsigned serial, char *out, size_t size) {
  char p[256];
  path_in(f, name, p, sizeof p);
  assert_int_equal(gc_temp_name(p, pid, serial, out, size), 0);
  return strrchr(out, '/') + 1;
}

static void test_remove_temps(void **state) {
  fixture *f = *state;
  char gone[4][256], kept[3][256];
  /* processes that are gone (PIDs above any pid_max), with the serials a
   * writer's later calls get */
  const char *gone_of[] = {"model.next.safetensors", "loss.csv", "tokenizer.json", "settings.txt"};
  for (int i = 0; i < 4; i++) temp_of(f, gone_of[i], 2147483647 - i, (unsigned)i * 7, gone[i], 256);
  /* alive: this process and its parent may still rename theirs; not ours:
   * another file's temp file */
  temp_of(f, "state.safetensors", (long)getpid(), 0, kept[0], 256);
  temp_of(f, "model.safetensors", (long)getppid(), 3, kept[1], 256);
  temp_of(f, "notes.txt", 2147483647, 0, kept[2], 256);
  for (int i = 0; i < 4; i++) write_text(f, strrchr(gone[i], '/') + 1, "half");
  for (int i = 0; i < 3; i++) write_text(f, strrchr(kept[i], '/') + 1, "keep");
  /* names the writer never makes */
  const char *odd[] = {"loss.csv.tmp.", "loss.csv.tmp.2147483647", "loss.csv.tmp.12x.0", "loss.csv.tmp..1",
                       "loss.csv"};
  for (int i = 0; i < 5; i++) write_text(f, odd[i], "keep");
  assert_int_equal(gc_train_remove_temps(f->dir), 4);
  for (int i = 0; i < 4; i++) assert_int_equal(access(gone[i], F_OK), -1);
  for (int i = 0; i < 3; i++) assert_int_equal(access(kept[i], F_OK), 0);
  for (int i = 0; i < 5; i++) assert_true(exists(f, odd[i]));
  assert_int_equal(gc_train_remove_temps(f->dir), 0);
}

static void test_settings(void **state) {
  fixture *f = *state;
  gc_train_opts o;
  gc_train_opts_defaults(&o);
  o.model = "qwen2_tiny";
  o.out = f->dir;
  o.set = "num_hidden_layers=1,lr=0.01";
  gc_train_run r = {.opts = &o};
  snprintf(r.out, sizeof r.out, "%s", f->dir);
  assert_null(gc_train_saved_settings(&o));
  gc_diag d = {0};
  assert_int_equal(gc_train_save_settings(&r, &d), 0);
  char *saved = gc_train_saved_settings(&o);
  assert_non_null(saved);
  assert_string_equal(saved, o.set);
  free(saved);
  /* an editor's newline at the end (and a CR) is not part of the last value */
  write_text(f, "settings.txt", "num_hidden_layers=1,lr=0.01\r\n\n");
  saved = gc_train_saved_settings(&o);
  assert_non_null(saved);
  assert_string_equal(saved, "num_hidden_layers=1,lr=0.01");
  free(saved);
}

static void test_check_log(void **state) {
  fixture *f = *state;
  gc_train_opts o;
  gc_train_opts_defaults(&o);
  gc_train_run r = {.opts = &o};
  snprintf(r.out, sizeof r.out, "%s", f->dir);
  gc_diag d = {0};
  assert_int_equal(gc_train_check_log(&r, &d), 0);   /* none yet */
  write_text(f, "loss.csv", "step,train_loss,val_loss,lr,tokens_per_s\n1,6.2,,0.001,100.0\n");
  assert_int_equal(gc_train_check_log(&r, &d), 0);
  write_text(f, "loss.csv", "garbage\n1,2,3\n");
  assert_int_equal(gc_train_check_log(&r, &d), -1);
  assert_non_null(strstr(d.msg, "loss.csv"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_check_out_creates_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_remove_temps, setup, teardown),
      cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
      cmocka_unit_test_setup_teardown(test_check_log, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
