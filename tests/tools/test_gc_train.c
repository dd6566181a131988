/* gc-train end to end, on a small generated corpus with one-layer models:
 * --help, --list-models (published parameter counts), every bad input (exit
 * 2, a message naming it, nothing overwritten), loss.csv (header, rows, the
 * schedule's lr worked out by hand), resume bitwise equal to an uninterrupted
 * run, sampling, and each model family training a few steps. */
#include "tests/tools/tool_fixture.h"
#include "train/runlog.h"
#include "io/file.h"
#include "io/safetensors.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TINY "--data corpus.txt --batch 2 --seq 16 --max-new 8 "
#define QWEN "qwen2_tiny " TINY "--set num_hidden_layers=1 "
#define GPT2 "gpt2_tiny " TINY "--set n_layer=1,decay_steps=6 "

/* ---- help and the model list --------------------------------------------- */

static void test_help(void **state) {
  gc_fixture *f = *state;
  assert_int_equal(fixture_run(f, "gc-train", "--help"), 0);
  assert_non_null(strstr(f->out, "usage: gc-train MODEL"));
  assert_non_null(strstr(f->out, "--resume"));
  assert_non_null(strstr(f->out, "--list-models"));
}

/* The count printed on the line of `name`, commas removed. */
static long long listed_count(const char *text, const char *name) {
  char key[64];
  snprintf(key, sizeof key, "\n%s ", name);
  const char *p = strncmp(text, key + 1, strlen(key + 1)) == 0 ? text : strstr(text, key);
  assert_non_null(p);
  p += strlen(name) + (p == text ? 1 : 2);
  long long v = 0;
  while (*p == ' ') p++;
  for (; (*p >= '0' && *p <= '9') || *p == ','; p++)
    if (*p != ',') v = v * 10 + (*p - '0');
  return v;
}

static void test_list_models(void **state) {
  gc_fixture *f = *state;
  assert_int_equal(fixture_run(f, "gc-train", "--list-models"), 0);
  assert_int_equal(listed_count(f->out, "qwen2_0.5b"), 494032768LL);
  assert_int_equal(listed_count(f->out, "gpt2"), 124439808LL);
  assert_non_null(strstr(f->out, "494,032,768"));
  const char *names[] = {"qwen2_tiny", "gpt2_tiny", "bert_tiny", "t5_tiny", "bert_base", "t5_small"};
  for (int i = 0; i < 6; i++) assert_true(listed_count(f->out, names[i]) > 100000);
}

/* ---- bad input ------------------------------------------------------------ */

static void expect_usage(gc_fixture *f, const char *args, const char *message) {
  int rc = fixture_run(f, "gc-train", args);
  if (rc != 2 || !strstr(f->err, message))
    fail_msg("gc-train %s: exit %d, stderr:\n%s\n(wanted exit 2 and \"%s\")", args, rc, f->err, message);
  /* One line says it all (usage errors add the --help hint below it). */
  assert_true(strstr(f->err, message) < strchr(f->err, '\n'));
}

static void test_bad_input(void **state) {
  gc_fixture *f = *state;
  fixture_write(f, "empty.txt", "", 0);
  fixture_write(f, "short.txt", "Too short.\n", 11);
  expect_usage(f, "nosuch " TINY, "unknown model \"nosuch\"; the models are: qwen2_tiny");
  expect_usage(f, QWEN "--steps x", "--steps takes a positive integer, not 'x'");
  expect_usage(f, QWEN "--lr -1", "--lr takes a positive number, not '-1'");
  expect_usage(f, QWEN "--top-p 1.5", "--top-p takes a number in (0, 1], not '1.5'");
  expect_usage(f, QWEN "--set no_such_key=1", "no_such_key");
  expect_usage(f, QWEN "--set clip=x", "clip");
  expect_usage(f, QWEN "--data missing.txt", "cannot read data file missing.txt");
  expect_usage(f, QWEN "--data empty.txt", "data file empty.txt is empty");
  expect_usage(f, QWEN "--data short.txt", "data too short");
  expect_usage(f, QWEN "--out corpus.txt/run", "cannot create output directory corpus.txt/run");
  expect_usage(f, QWEN "--out nowhere --resume", "no checkpoint");
  /* flags: one table, both spellings, one line each */
  expect_usage(f, QWEN "--steps=0", "--steps takes a positive integer, not '0'");
  expect_usage(f, QWEN "--bogus 1", "unknown option '--bogus'");
  expect_usage(f, QWEN "-x", "unknown option '-x'");
  expect_usage(f, QWEN "--resume=yes", "--resume takes no value");
  expect_usage(f, QWEN "--backend tpu", "unknown backend 'tpu' (known: interp");
  expect_usage(f, QWEN "--threads=-2", "--threads takes an integer >= 0, not '-2'");
  expect_usage(f, QWEN "--seed -5", "--seed takes an integer seed, not '-5'");
  expect_usage(f, QWEN "--temperature=nan", "--temperature takes a number >= 0, not 'nan'");
  expect_usage(f, QWEN "-o", "-o needs a file name");
  expect_usage(f, QWEN "--se 1", "option '--se' is ambiguous");
  expect_usage(f, QWEN "gpt2_tiny", "unexpected argument 'gpt2_tiny' (the model is 'qwen2_tiny')");
  expect_usage(f, "--steps 2", "no model given");
}

static bool exists(const gc_fixture *f, const char *name) {
  char p[256];
  fixture_path(f, name, p, sizeof p);
  return access(p, F_OK) == 0;
}

static void make_subdir(const gc_fixture *f, const char *name) {
  char p[256];
  fixture_path(f, name, p, sizeof p);
  assert_int_equal(mkdir(p, 0755), 0);
}

/* A run refused for its data or flags creates nothing: no --out directory,
 * not even the default runs/MODEL. */
static void test_refused_creates_nothing(void **state) {
  gc_fixture *f = *state;
  fixture_write(f, "one.txt", "x", 1);
  expect_usage(f, QWEN "--seq 100000 --out fresh1", "data too short");
  expect_usage(f, QWEN "--data one.txt --out fresh2", "data too short");
  expect_usage(f, QWEN "--set no_such_key=1 -o fresh3", "no_such_key");
  expect_usage(f, QWEN "--data missing.txt --out fresh4/deeper", "cannot read data file");
  expect_usage(f, QWEN "--out fresh5 --resume", "no checkpoint");
  expect_usage(f, QWEN "--seq 100000", "data too short");
  const char *dirs[] = {"fresh1", "fresh2", "fresh3", "fresh4", "fresh5", "runs"};
  for (int i = 0; i < 6; i++)
    if (exists(f, dirs[i])) fail_msg("a refused run created %s", dirs[i]);
}

static void test_bad_checkpoint(void **state) {
  gc_fixture *f = *state;
  char buf[64];
  assert_int_equal(fixture_run(f, "gc-train", QWEN "--steps 1 --out ck"), 0);
  /* A different width does not fit the checkpoint. */
  expect_usage(f, QWEN "--steps 2 --out ck --resume --set num_hidden_layers=1,hidden_size=64", "does not match");
  /* A corrupt weights file is named, and left as it was. */
  fixture_write(f, "ck/model.safetensors", "garbage!", 8);
  expect_usage(f, QWEN "--steps 2 --out ck --resume", "ck/model.safetensors");
  assert_int_equal(fixture_read(f, "ck/model.safetensors", buf, sizeof buf), 8);
  assert_string_equal(buf, "garbage!");
  expect_usage(f, QWEN "--out ck --generate", "ck/model.safetensors");
}

/* ---- the log -------------------------------------------------------------- */

static void read_rows(const gc_fixture *f, const char *run, gc_runlog_row **rows, size_t *n) {
  char p[128];
  gc_diag d;
  snprintf(p, sizeof p, "%s/%s/loss.csv", f->dir, run);
  if (gc_runlog_read_csv(p, rows, n, &d)) fail_msg("%s", d.msg);
}

static void test_loss_csv(void **state) {
  gc_fixture *f = *state;
  assert_int_equal(fixture_run(f, "gc-train", QWEN "--steps 4 --eval-every 2 --lr 0.01 --warmup 2 --out log"), 0);
  char text[4096];
  fixture_read(f, "log/loss.csv", text, sizeof text);
  assert_int_equal(strncmp(text, GC_RUNLOG_HEADER "\n", strlen(GC_RUNLOG_HEADER) + 1), 0);
  gc_runlog_row *rows;
  size_t n;
  read_rows(f, "log", &rows, &n);
  assert_int_equal(n, 4);
  /* warmup: 0.01 * s / 2; then cosine from 0.01 to min_lr = 0.001 over
   * steps 2..4: p = (s - 2) / 2. */
  const double lr[] = {0.005, 0.01, 0.001 + 0.009 * 0.5 * (1 + cos(M_PI * 0.5)), 0.001};
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(rows[i].step, (long)i + 1);
    assert_true(fabs(rows[i].lr - lr[i]) < 1e-6 * lr[i] + 1e-9);
    assert_true(isfinite(rows[i].train_loss) && rows[i].tokens_per_s > 0);
    assert_true(i % 2 == 1 ? isfinite(rows[i].val_loss) : isnan(rows[i].val_loss));
  }
  /* At initialisation the model guesses about uniformly over the vocabulary. */
  assert_true(fabs(rows[0].train_loss - log(512)) < 0.3);
  free(rows);
  /* The validation line, the svg, the checkpoint and a sample. */
  assert_non_null(strstr(f->out, "val  step 2  loss "));
  assert_non_null(strstr(f->out, "ppl "));
  assert_non_null(strstr(f->out, "bpb "));
  assert_non_null(strstr(f->out, "\nROMEO:"));
  fixture_read(f, "log/loss.svg", text, sizeof text);
  assert_non_null(strstr(text, "<svg"));
}

/* ---- resume --------------------------------------------------------------- */

static void file_bytes(const gc_fixture *f, const char *name, char **data, size_t *len) {
  char p[128];
  fixture_path(f, name, p, sizeof p);
  FILE *fp = fopen(p, "rb");
  assert_non_null(fp);
  fseek(fp, 0, SEEK_END);
  *len = (size_t)ftell(fp);
  rewind(fp);
  *data = malloc(*len);
  assert_int_equal(fread(*data, 1, *len, fp), *len);
  fclose(fp);
}

static void assert_same_file(const gc_fixture *f, const char *a, const char *b) {
  char *x, *y;
  size_t nx, ny;
  file_bytes(f, a, &x, &nx);
  file_bytes(f, b, &y, &ny);
  assert_int_equal(nx, ny);
  assert_memory_equal(x, y, nx);
  free(x);
  free(y);
}

static void test_resume_bitwise(void **state) {
  gc_fixture *f = *state;
  /* Both runs decay over 6 steps, so stopping at 3 changes nothing. */
  assert_int_equal(fixture_run(f, "gc-train", GPT2 "--steps 6 --warmup 2 --out whole"), 0);
  assert_int_equal(fixture_run(f, "gc-train", GPT2 "--steps 3 --warmup 2 --out part"), 0);
  assert_int_equal(fixture_run(f, "gc-train", GPT2 "--steps 6 --warmup 2 --out part --resume"),
                   0);
  assert_same_file(f, "whole/model.safetensors", "part/model.safetensors");
  assert_same_file(f, "whole/state.safetensors", "part/state.safetensors");
  assert_same_file(f, "whole/tokenizer.json", "part/tokenizer.json");
  gc_runlog_row *a, *b;
  size_t na, nb;
  read_rows(f, "whole", &a, &na);
  read_rows(f, "part", &b, &nb);
  assert_int_equal(na, 6);
  assert_int_equal(nb, 6);
  for (size_t i = 0; i < na; i++) assert_true(a[i].train_loss == b[i].train_loss && a[i].lr == b[i].lr);
  free(a);
  free(b);
  /* The state file holds the step and the optimizer's moments. */
  gc_tensor_map m;
  gc_diag d;
  char p[128];
  gc_tensor_map_init(&m);
  fixture_path(f, "part/state.safetensors", p, sizeof p);
  if (gc_safetensors_read(p, &m, &d)) fail_msg("%s", d.msg);
  assert_int_equal((int64_t)gc_tensor_load(gc_tensor_map_get(&m, "train.step"), 0), 6);
  assert_int_equal((int64_t)gc_tensor_load(gc_tensor_map_get(&m, "opt.step"), 0), 6);
  assert_non_null(gc_tensor_map_get(&m, "opt.m.transformer.wte.weight"));
  assert_non_null(gc_tensor_map_get(&m, "opt.v.transformer.wte.weight"));
  gc_tensor_map_clear(&m);
}

/* A save interrupted between the state and the model's rename is finished on
 * resume; a model that is not the state's is refused, nothing overwritten. */
static void test_checkpoint_pair(void **state) {
  gc_fixture *f = *state;
  char a[256], b[256];
  assert_int_equal(fixture_run(f, "gc-train", GPT2 "--steps 4 --warmup 2 --out whole"), 0);
  assert_int_equal(fixture_run(f, "gc-train", GPT2 "--steps 2 --warmup 2 --out part"), 0);
  assert_int_equal(fixture_run(f, "gc-train", GPT2 "--steps 3 --warmup 2 --out early"), 0);
  /* part's model as if the rename had not happened yet */
  fixture_path(f, "part/model.safetensors", a, sizeof a);
  fixture_path(f, "part/model.next.safetensors", b, sizeof b);
  assert_int_equal(rename(a, b), 0);
  char *data;
  size_t len;
  file_bytes(f, "early/model.safetensors", &data, &len);
  fixture_write(f, "part/model.safetensors", data, len); /* an older model in place */
  free(data);
  assert_int_equal(fixture_run(f, "gc-train", GPT2 "--steps 4 --warmup 2 --out part --resume"), 0);
  assert_same_file(f, "whole/model.safetensors", "part/model.safetensors");
  /* a model swapped for another run's */
  file_bytes(f, "early/model.safetensors", &data, &len);
  fixture_write(f, "part/model.safetensors", data, len);
  free(data);
  assert_int_equal(fixture_run(f, "gc-train", GPT2 "--steps 6 --warmup 2 --out part --resume"), 2);
  assert_non_null(strstr(f->err, "mismatched checkpoint"));
  assert_same_file(f, "early/model.safetensors", "part/model.safetensors");
}

static size_t csv_rows(const gc_fixture *f, const char *run);

/* A checkpoint whose files are symlinks into another directory stays so:
 * each save replaces the targets, and the run equals one without links. */
static void test_checkpoint_through_symlinks(void **state) {
  gc_fixture *f = *state;
  assert_int_equal(fixture_run(f, "gc-train", GPT2 "--steps 4 --warmup 2 --max-new 0 --out whole"), 0);
  assert_int_equal(fixture_run(f, "gc-train", GPT2 "--steps 2 --warmup 2 --max-new 0 --out ln"), 0);
  make_subdir(f, "store");
  const char *files[] = {"model.safetensors", "state.safetensors", "loss.csv"};
  char from[256], to[256], target[128];
  for (int i = 0; i < 3; i++) {
    snprintf(target, sizeof target, "store/%s", files[i]);
    fixture_path(f, target, to, sizeof to);
    snprintf(from, sizeof from, "%s/ln/%s", f->dir, files[i]);
    assert_int_equal(rename(from, to), 0);
    snprintf(target, sizeof target, "../store/%s", files[i]);
    assert_int_equal(symlink(target, from), 0);
  }
  assert_int_equal(fixture_run(f, "gc-train", GPT2 "--steps 4 --warmup 2 --max-new 0 --out ln --resume"), 0);
  struct stat st;
  for (int i = 0; i < 3; i++) {
    snprintf(from, sizeof from, "%s/ln/%s", f->dir, files[i]);
    assert_int_equal(lstat(from, &st), 0);
    if (!S_ISLNK(st.st_mode)) fail_msg("ln/%s is no longer a symlink", files[i]);
  }
  assert_same_file(f, "whole/model.safetensors", "store/model.safetensors");
  assert_same_file(f, "whole/state.safetensors", "store/state.safetensors");
  assert_false(exists(f, "ln/model.next.safetensors"));
}

/* ---- part 6: nothing lost to a bad file or a bad step ----------------------- */

/* Copies fixture file `from` to `to`. */
static void copy_file(const gc_fixture *f, const char *from, const char *to) {
  char *data;
  size_t len;
  file_bytes(f, from, &data, &len);
  fixture_write(f, to, data, len);
  free(data);
}

/* Keeps a copy of every file of the run in `dir` ("keep.NAME"). */
static const char *const run_files[] = {"model.safetensors", "state.safetensors", "tokenizer.json", "loss.csv",
                                        "settings.txt"};
static void keep_run(const gc_fixture *f, const char *dir) {
  char from[128], to[128];
  for (int i = 0; i < 5; i++) {
    snprintf(from, sizeof from, "%s/%s", dir, run_files[i]);
    snprintf(to, sizeof to, "keep.%s", run_files[i]);
    copy_file(f, from, to);
  }
}

/* Every file of the run in `dir` is as keep_run found it. */
static void assert_run_kept(const gc_fixture *f, const char *dir) {
  char a[128], b[128];
  for (int i = 0; i < 5; i++) {
    snprintf(a, sizeof a, "%s/%s", dir, run_files[i]);
    snprintf(b, sizeof b, "keep.%s", run_files[i]);
    assert_same_file(f, a, b);
  }
}

/* Flips `n` bytes of the data of the first tensor whose name starts with
 * `prefix` in safetensors file `name`. */
static void flip_tensor_bytes(const gc_fixture *f, const char *name, const char *prefix, int n) {
  char *data, key[128];
  size_t len;
  uint64_t header;
  file_bytes(f, name, &data, &len);
  memcpy(&header, data, 8);
  assert_true(header < len);
  char *text = strndup(data + 8, header);
  snprintf(key, sizeof key, "\"%s", prefix);
  char *p = strstr(text, key);
  assert_non_null(p);
  p = strstr(p, "data_offsets");
  assert_non_null(p);
  while (*p && (*p < '0' || *p > '9')) p++;
  unsigned long long begin = strtoull(p, NULL, 10);
  assert_true(8 + header + begin + (uint64_t)n <= len);
  for (int i = 0; i < n; i++) data[8 + header + begin + (uint64_t)i] ^= (char)0x5a;
  fixture_write(f, name, data, len);
  free(text);
  free(data);
}

/* A flipped byte in the state file is refused (exit 2, naming the file),
 * and nothing is overwritten. */
static void test_corrupt_state(void **state) {
  gc_fixture *f = *state;
  assert_int_equal(fixture_run(f, "gc-train", QWEN "--steps 2 --max-new 0 --out ck"), 0);
  flip_tensor_bytes(f, "ck/state.safetensors", "opt.v.", 4);
  keep_run(f, "ck");
  expect_usage(f, QWEN "--steps 4 --out ck --resume", "ck/state.safetensors: corrupt checkpoint");
  assert_non_null(strstr(f->err, "checksum"));
  assert_run_kept(f, "ck");
  /* the same for the bookkeeping tensors (the step) */
  assert_int_equal(fixture_run(f, "gc-train", QWEN "--steps 2 --max-new 0 --out ck2"), 0);
  flip_tensor_bytes(f, "ck2/state.safetensors", "train.step", 1);
  keep_run(f, "ck2");
  expect_usage(f, QWEN "--steps 4 --out ck2 --resume", "checksum");
  assert_run_kept(f, "ck2");
}

/* A loss that is not finite stops the run with exit 2 naming the step,
 * saving nothing: the checkpoint it resumed from stays byte for byte, and
 * resuming it again gives the run that never went wrong. */
static void test_nonfinite_loss(void **state) {
  gc_fixture *f = *state;
  assert_int_equal(fixture_run(f, "gc-train", GPT2 "--steps 4 --warmup 2 --max-new 0 --out whole"), 0);
  assert_int_equal(fixture_run(f, "gc-train", GPT2 "--steps 2 --warmup 2 --max-new 0 --out ck"), 0);
  keep_run(f, "ck");
  /* AdamW moves every weight by about lr: 1e30 overflows the next forward */
  int rc = fixture_run(f, "gc-train", GPT2 "--steps 6 --warmup 2 --lr 1e30 --out ck --resume --max-new 0");
  if (rc != 2) fail_msg("exit %d, stderr:\n%s", rc, f->err);
  assert_non_null(strstr(f->err, "gc-train: error: step 4: the training loss is "));
  assert_non_null(strstr(f->err, "the checkpoint in ck stays at step 2"));
  assert_null(strstr(f->out, "saved "));
  const char *kept[] = {"model.safetensors", "state.safetensors", "tokenizer.json", "settings.txt"};
  char a[128], b[128];
  for (int i = 0; i < 4; i++) {
    snprintf(a, sizeof a, "ck/%s", kept[i]);
    snprintf(b, sizeof b, "keep.%s", kept[i]);
    assert_same_file(f, a, b);
  }
  assert_int_equal(fixture_run(f, "gc-train", GPT2 "--steps 4 --warmup 2 --max-new 0 --out ck --resume"), 0);
  assert_same_file(f, "whole/model.safetensors", "ck/model.safetensors");
  assert_same_file(f, "whole/state.safetensors", "ck/state.safetensors");
}

/* A corrupt loss.csv on --resume is bad input (2), and nothing is written. */
static void test_corrupt_log(void **state) {
  gc_fixture *f = *state;
  assert_int_equal(fixture_run(f, "gc-train", QWEN "--steps 1 --max-new 0 --out ck"), 0);
  fixture_write_text(f, "ck/loss.csv", "\x01\x02 not a log\n");
  keep_run(f, "ck");
  expect_usage(f, QWEN "--steps 2 --out ck --resume", "ck/loss.csv");
  assert_run_kept(f, "ck");
}

/* OUT/NAME's temp file name as the writer makes it (gc_temp_name) for a
 * process that is gone, relative to the fixture's directory, into out. */
static const char *dead_temp(const char *name, char *out, size_t size) {
  assert_int_equal(gc_temp_name(name, 2147483647, 0, out, size), 0);
  return out;
}

/* Temp files a crash left in OUT (named as the writer names them, of a
 * process that is gone) are removed by the next run, fresh or resumed;
 * other files stay. */
static void test_stale_temps(void **state) {
  gc_fixture *f = *state;
  assert_int_equal(fixture_run(f, "gc-train", QWEN "--steps 1 --max-new 0 --out ck"), 0);
  char stale[3][128], notes[128];
  dead_temp("ck/model.next.safetensors", stale[0], 128);
  dead_temp("ck/state.safetensors", stale[1], 128);
  dead_temp("ck/loss.svg", stale[2], 128);
  dead_temp("ck/notes.txt", notes, sizeof notes);
  for (int i = 0; i < 3; i++) fixture_write_text(f, stale[i], "half a save");
  fixture_write_text(f, notes, "the user's");
  assert_int_equal(fixture_run(f, "gc-train", QWEN "--steps 2 --max-new 0 --out ck --resume"), 0);
  for (int i = 0; i < 3; i++)
    if (exists(f, stale[i])) fail_msg("%s is still there", stale[i]);
  assert_true(exists(f, notes));
  /* a fresh run into the same directory */
  fixture_write_text(f, stale[0], "half a save");
  assert_int_equal(fixture_run(f, "gc-train", QWEN "--steps 1 --max-new 0 --out ck --force"), 0);
  assert_false(exists(f, stale[0]));
  /* a refused run removes nothing */
  fixture_write_text(f, stale[0], "half a save");
  expect_usage(f, QWEN "--steps 2 --seq 100000 --out ck --force", "data too short");
  assert_true(exists(f, stale[0]));
}

/* A second run into a run's directory is refused (one line naming --resume
 * and --force), the run kept byte for byte; --force starts it over. */
static void test_second_run_refused(void **state) {
  gc_fixture *f = *state;
  assert_int_equal(fixture_run(f, "gc-train", QWEN "--steps 2 --max-new 0 --out ck"), 0);
  keep_run(f, "ck");
  expect_usage(f, QWEN "--steps 1 --max-new 0 --out ck --seed 9", "ck already holds a run (");
  assert_non_null(strstr(f->err, "--resume continues it, --force starts it over"));
  assert_run_kept(f, "ck");
  expect_usage(f, QWEN "--out ck --resume --force", "--force starts a run over; it does not go with --resume");
  assert_run_kept(f, "ck");
  /* --force: a new run, its own log */
  assert_int_equal(fixture_run(f, "gc-train", QWEN "--steps 1 --max-new 0 --out ck --force --seed 9"), 0);
  assert_int_equal(csv_rows(f, "ck"), 1);
  /* an empty directory, or one with other files, is no run */
  make_subdir(f, "mine");
  fixture_write_text(f, "mine/notes.txt", "");
  assert_int_equal(fixture_run(f, "gc-train", QWEN "--steps 1 --max-new 0 --out mine"), 0);
}

/* --resume where nothing was saved yet, or past the steps asked for, says
 * so and what to do (exit 2), changing nothing; a settings.txt an editor
 * ended with a newline still resumes. */
static void test_resume_mistakes(void **state) {
  gc_fixture *f = *state;
  assert_int_equal(fixture_run(f, "gc-train", QWEN "--steps 3 --max-new 0 --out ck"), 0);
  keep_run(f, "ck");
  expect_usage(f, QWEN "--steps 2 --out ck --resume", "the checkpoint in ck is at step 3, already past --steps 2");
  assert_non_null(strstr(f->err, "a larger --steps continues it"));
  expect_usage(f, QWEN "--steps 3 --out ck --resume", "at step 3, already at --steps 3");
  assert_run_kept(f, "ck");
  /* a crash before the first save: the tokenizer and settings, no checkpoint */
  make_subdir(f, "early");
  copy_file(f, "ck/tokenizer.json", "early/tokenizer.json");
  copy_file(f, "ck/settings.txt", "early/settings.txt");
  expect_usage(f, QWEN "--steps 4 --out early --resume", "no checkpoint in early yet: the run stopped before its first save");
  assert_non_null(strstr(f->err, "start it over with --force instead of --resume"));
  /* settings.txt with a newline at its end */
  fixture_write_text(f, "ck/settings.txt", "num_hidden_layers=1,lr=0.003\n");
  int rc = fixture_run(f, "gc-train", "qwen2_tiny " TINY "--steps 4 --max-new 0 --out ck --resume");
  if (rc) fail_msg("exit %d: %s", rc, f->err);
  assert_int_equal(csv_rows(f, "ck"), 4);
}

/* ---- sampling ------------------------------------------------------------- */

static void test_generate(void **state) {
  gc_fixture *f = *state;
  char first[16384];
  assert_int_equal(fixture_run(f, "gc-train", QWEN "--steps 2 --out gen --max-new 0"), 0);
  assert_int_equal(fixture_run(f, "gc-train", QWEN "--out gen --generate --prompt JULIET: --seed 7"), 0);
  assert_int_equal(strncmp(f->out, "JULIET:", 7), 0);
  assert_true(strlen(f->out) > 8);
  /* It ends with how fast the prompt was read and the tokens were made. */
  const char *speed = strstr(f->err, "generate: prompt_tokens=");
  assert_non_null(speed);
  long long prompt = 0, made = 0;
  double prefill = 0, decode = 0;
  assert_int_equal(sscanf(speed, "generate: prompt_tokens=%lld prefill_tok_s=%lf new_tokens=%lld decode_tok_s=%lf",
                          &prompt, &prefill, &made, &decode), 4);
  assert_true(prompt >= 2 && prompt <= 7);   /* "JULIET:" in the run's own tokens */
  assert_true(made >= 2 && prefill > 0 && decode > 0);
  memcpy(first, f->out, sizeof first);
  /* Seeded: the same command samples the same text. */
  assert_int_equal(fixture_run(f, "gc-train", QWEN "--out gen --generate --prompt JULIET: --seed 7"), 0);
  assert_string_equal(first, f->out);
  /* The run's --set is remembered: one layer again without saying so. */
  assert_int_equal(fixture_run(f, "gc-train", "qwen2_tiny " TINY "--out gen --generate --prompt JULIET: --seed 7"), 0);
  assert_string_equal(first, f->out);
  expect_usage(f, "bert_tiny " TINY "--out gen --generate", "not a causal language model");
}

/* ---- Ctrl-C ----------------------------------------------------------------- */

static size_t csv_rows(const gc_fixture *f, const char *run) {
  char p[128];
  snprintf(p, sizeof p, "%s/%s/loss.csv", f->dir, run);
  gc_runlog_row *rows = NULL;
  size_t n = 0;
  gc_diag d;
  if (gc_runlog_read_csv(p, &rows, &n, &d)) n = 0;
  free(rows);
  return n;
}

/* A signal during training: a save at the end of the step, exit 128 + sig,
 * and --resume takes it on. */
static void interrupt_with(gc_fixture *f, int sig, const char *run) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "cd '%s' && exec '%s/gc-train' " QWEN "--steps 100000 --out %s >%s.out 2>%s.err", f->dir,
           fixture_bin_dir(), run, run, run);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 600 && csv_rows(f, run) < 2; i++) usleep(50000);
  assert_true(csv_rows(f, run) >= 2);
  kill(pid, sig);
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 128 + sig);
  /* The checkpoint holds every step the log shows. */
  size_t done = csv_rows(f, run);
  gc_tensor_map m;
  gc_diag d;
  char p[128];
  gc_tensor_map_init(&m);
  snprintf(cmd, sizeof cmd, "%s/state.safetensors", run);
  fixture_path(f, cmd, p, sizeof p);
  if (gc_safetensors_read(p, &m, &d)) fail_msg("%s", d.msg);
  assert_int_equal((int64_t)gc_tensor_load(gc_tensor_map_get(&m, "train.step"), 0), (int64_t)done);
  gc_tensor_map_clear(&m);
  /* And --resume takes it on for one more step. */
  snprintf(cmd, sizeof cmd, "qwen2_tiny " TINY "--steps %zu --out %s --resume --max-new 0", done + 1, run);
  assert_int_equal(fixture_run(f, "gc-train", cmd), 0);
  assert_int_equal(csv_rows(f, run), done + 1);
}

static void test_interrupt(void **state) { interrupt_with(*state, SIGINT, "int"); }

static void test_sigterm(void **state) { interrupt_with(*state, SIGTERM, "term"); }

/* ---- every family --------------------------------------------------------- */

static void run_family(gc_fixture *f, const char *model, const char *set) {
  char args[512];
  snprintf(args, sizeof args, "%s --data corpus.txt --batch 2 --seq 16 --steps 3 --eval-every 3 --set %s --out %s",
           model, set, model);
  int rc = fixture_run(f, "gc-train", args);
  if (rc) fail_msg("gc-train %s: exit %d\n%s", args, rc, f->err);
  gc_runlog_row *rows;
  size_t n;
  read_rows(f, model, &rows, &n);
  assert_int_equal(n, 3);
  for (size_t i = 0; i < n; i++) assert_true(rows[i].train_loss > 3 && rows[i].train_loss < 9);
  assert_true(isfinite(rows[2].val_loss));
  free(rows);
}

static void test_families(void **state) {
  gc_fixture *f = *state;
  run_family(f, "gpt2_tiny", "n_layer=1");
  run_family(f, "bert_tiny", "num_hidden_layers=1");
  run_family(f, "t5_tiny", "num_layers=1,num_decoder_layers=1");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_help, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_list_models, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_bad_input, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_refused_creates_nothing, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_bad_checkpoint, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_corrupt_state, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_nonfinite_loss, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_corrupt_log, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stale_temps, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_second_run_refused, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_resume_mistakes, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_loss_csv, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_resume_bitwise, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_checkpoint_pair, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_checkpoint_through_symlinks, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_generate, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_interrupt, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_sigterm, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_families, fixture_setup_with_corpus, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
