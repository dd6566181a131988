/* gc-train on two ranks (mpirun -np 2, one thread each) against one process
 * with --grad-accum 2: bitwise the same weights and optimizer state, the
 * same params on both ranks after every step, over shared memory and over
 * TCP on the loopback interface only; within 1e-12 (f64) of one process
 * with the batch doubled; a 2-rank checkpoint resumed by one process
 * continues the same trajectory; bad settings refused with one line;
 * --zero 1 (the moments sharded) gives the same weights with half the
 * optimizer state per rank, its checkpoints resumable without it. */
#include "tests/tools/tool_fixture.h"
#include "io/safetensors.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RUN "--data corpus.txt --batch 2 --seq 16 --threads 1 --max-new 0 --eval-every 10 --save-every 10 "
#define QWEN "qwen2_tiny " RUN "--set num_hidden_layers=1"
#define BERT "bert_tiny " RUN "--set num_hidden_layers=1"

static const char *const shm = "--mca btl self,vader";
static const char *const tcp = "--mca btl self,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo";

/* mpirun -np 2 NET gc-train ARGS in the fixture's directory (-q: mpirun's
 * own notes on a failed rank left out, so stderr is gc-train's).  Leak
 * checks (sanitizer builds) stay with the one-process runs: Open MPI's own
 * allocations outlive MPI_Finalize. */
#define MPIRUN "ASAN_OPTIONS=detect_leaks=0 mpirun -q -x ASAN_OPTIONS --oversubscribe "
static int run_two(gc_fixture *f, const char *net, const char *args) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "cd '%s' && " MPIRUN "-np 2 %s '%s/gc-train' %s >stdout.txt 2>stderr.txt",
           f->dir, net, fixture_bin_dir(), args);
  int st = system(cmd);
  fixture_read(f, "stdout.txt", f->out, sizeof f->out);
  fixture_read(f, "stderr.txt", f->err, sizeof f->err);
  assert_true(WIFEXITED(st));
  return WEXITSTATUS(st);
}

static void run_ok(gc_fixture *f, const char *net, const char *model, const char *more) {
  char args[1024];
  snprintf(args, sizeof args, "%s %s", model, more);
  int rc = net ? run_two(f, net, args) : fixture_run(f, "gc-train", args);
  if (rc) fail_msg("gc-train %s: exit %d: %s", args, rc, f->err);
}

static void assert_same_file(const gc_fixture *f, const char *a, const char *b) {
  size_t na, nb;
  char *x = fixture_slurp(f, a, &na), *y = fixture_slurp(f, b, &nb);
  if (na != nb || memcmp(x, y, na) != 0) fail_msg("%s and %s differ", a, b);
  free(x), free(y);
}

/* OUT/params_hash.csv of a 2-rank run: both ranks' hashes equal on every
 * row, and (with `one`) equal to a 1-process run's row for row. */
static void assert_hashes(const gc_fixture *f, const char *two, const char *one, int rows) {
  char path[256], a[8192], b[8192];
  snprintf(path, sizeof path, "%s/params_hash.csv", two);
  fixture_read(f, path, a, sizeof a);
  if (one) snprintf(path, sizeof path, "%s/params_hash.csv", one), fixture_read(f, path, b, sizeof b);
  char *line = a, *other = b;
  for (int i = 0; i < rows; i++) {
    long step;
    char h0[17], h1[17], h[17];
    if (sscanf(line, "%ld,%16[0-9a-f],%16[0-9a-f]", &step, h0, h1) != 3) fail_msg("%s row %d: %.60s", two, i, line);
    assert_int_equal(step, i + 1);
    assert_string_equal(h0, h1);
    if (one) {
      assert_int_equal(sscanf(other, "%ld,%16[0-9a-f]", &step, h), 2);
      assert_string_equal(h0, h);
      other = strchr(other, '\n') + 1;
    }
    line = strchr(line, '\n') + 1;
  }
}

/* Every tensor of a/model.safetensors within `tol` relative of b's. */
static void assert_close_weights(const gc_fixture *f, const char *a, const char *b, double tol) {
  gc_tensor_map x, y;
  gc_diag d;
  char p[256];
  gc_tensor_map_init(&x), gc_tensor_map_init(&y);
  snprintf(p, sizeof p, "%s/%s/model.safetensors", f->dir, a);
  if (gc_safetensors_read(p, &x, &d)) fail_msg("%s", d.msg);
  snprintf(p, sizeof p, "%s/%s/model.safetensors", f->dir, b);
  if (gc_safetensors_read(p, &y, &d)) fail_msg("%s", d.msg);
  assert_int_equal(x.n, y.n);
  double worst = 0;
  int differ = 0;
  for (int i = 0; i < x.n; i++) {
    const gc_tensor *s = x.tensors[i], *t = gc_tensor_map_get(&y, x.names[i]);
    assert_non_null(t);
    for (int64_t k = 0; k < gc_tensor_numel(s); k++) {
      double u = gc_tensor_load(s, k), v = gc_tensor_load(t, k), m = fmax(1e-3, fmax(fabs(u), fabs(v)));
      worst = fmax(worst, fabs(u - v) / m);
      differ += u != v;
    }
  }
  if (worst > tol) fail_msg("%s and %s differ by %g relative (tol %g)", a, b, worst, tol);
  assert_true(differ > 0);   /* not the same run by accident: the sums differ in rounding */
  gc_tensor_map_clear(&x), gc_tensor_map_clear(&y);
}

/* One model and dtype: 2 ranks (over `net`) against --grad-accum 2, 20 steps. */
static void check_model(gc_fixture *f, const char *model, const char *dtype, const char *net) {
  char m[512];
  snprintf(m, sizeof m, "%s,dtype=%s", model, dtype);
  run_ok(f, NULL, m, "--steps 20 --grad-accum 2 --out accum");
  run_ok(f, net, m, "--steps 20 --out ranks");
  assert_same_file(f, "accum/model.safetensors", "ranks/model.safetensors");
  assert_same_file(f, "accum/state.safetensors", "ranks/state.safetensors");
  assert_hashes(f, "ranks", "accum", 20);
  if (strcmp(dtype, "f64") == 0) {   /* the same global batch in one micro-batch */
    run_ok(f, NULL, m, "--steps 20 --batch 4 --out double");
    assert_close_weights(f, "accum", "double", 1e-12);
  }
}

static void test_qwen2_f32_shm(void **state) { check_model(*state, QWEN, "f32", shm); }
static void test_qwen2_f64_tcp(void **state) { check_model(*state, QWEN, "f64", tcp); }
static void test_bert_f32_tcp(void **state) { check_model(*state, BERT, "f32", tcp); }
/* Dropout draws its masks per micro-batch (the same counter for each), so
 * only without it is one micro-batch of 4 rows the same sums as two of 2. */
static void test_bert_f64_shm(void **state) {
  check_model(*state, BERT ",hidden_dropout_prob=0,attention_probs_dropout_prob=0", "f64", shm);
}

/* A 2-rank checkpoint at step 10 resumed by one process (the same split
 * into micro-batches: --grad-accum 2) ends where the 2-rank run does. */
static void test_resume_on_one_rank(void **state) {
  gc_fixture *f = *state;
  run_ok(f, shm, QWEN, "--steps 20 --out whole");
  run_ok(f, shm, QWEN, "--steps 10 --out part");
  run_ok(f, NULL, QWEN, "--steps 20 --grad-accum 2 --out part --resume");
  assert_same_file(f, "whole/model.safetensors", "part/model.safetensors");
  assert_same_file(f, "whole/state.safetensors", "part/state.safetensors");
}

/* N in the line "optimizer state: N bytes per rank" of f->out. */
static long long optimizer_bytes(const gc_fixture *f) {
  const char *at = strstr(f->out, "optimizer state: ");
  if (!at) fail_msg("no optimizer state line in: %.300s", f->out);
  return atoll(at + strlen("optimizer state: "));
}

/* --zero 1 on 2 ranks (f64, TCP) against one process with --grad-accum 2:
 * bitwise the same weights and (gathered) moments, and each rank's
 * optimizer state is half of it (but the 8 bytes of opt.step; every param
 * here has an even number of elements, so no padding). */
static void test_zero_f64_tcp(void **state) {
  gc_fixture *f = *state;
  run_ok(f, NULL, QWEN ",dtype=f64", "--steps 4 --grad-accum 2 --out accum");
  long long whole = optimizer_bytes(f);
  run_ok(f, tcp, QWEN ",dtype=f64", "--steps 4 --zero 1 --bucket-mb 1 --out zero");
  assert_int_equal(2 * (optimizer_bytes(f) - 8), whole - 8);
  assert_same_file(f, "accum/model.safetensors", "zero/model.safetensors");
  assert_same_file(f, "accum/state.safetensors", "zero/state.safetensors");
  assert_hashes(f, "zero", "accum", 4);
}

/* f32 over shared memory: a --zero 1 run's checkpoint (moments gathered)
 * is byte for byte one process's, so one process resumes it; and one
 * process's checkpoint resumed with --zero 1 (a block cut on load) ends
 * where one process does. */
static void test_zero_f32_resume(void **state) {
  gc_fixture *f = *state;
  char cmd[512];
  run_ok(f, NULL, QWEN, "--steps 2 --grad-accum 2 --out one");
  snprintf(cmd, sizeof cmd, "cd '%s' && cp -r one zero_resumed", f->dir);
  assert_int_equal(system(cmd), 0);
  run_ok(f, shm, QWEN, "--steps 2 --zero 1 --out zero");
  assert_same_file(f, "one/model.safetensors", "zero/model.safetensors");
  assert_same_file(f, "one/state.safetensors", "zero/state.safetensors");
  run_ok(f, NULL, QWEN, "--steps 4 --grad-accum 2 --out one --resume");
  run_ok(f, shm, QWEN, "--steps 4 --zero 1 --out zero_resumed --resume");
  assert_same_file(f, "one/model.safetensors", "zero_resumed/model.safetensors");
  assert_same_file(f, "one/state.safetensors", "zero_resumed/state.safetensors");
}

static int lines(const char *text) {
  int n = 0;
  for (; *text; text++) n += *text == '\n';
  return n;
}

/* A global batch larger than the data, and ranks started with different
 * settings: refused at start with one line, exit 2, nothing trained. */
static void test_refusals(void **state) {
  gc_fixture *f = *state;
  assert_int_equal(run_two(f, shm, QWEN " --steps 2 --batch 400 --out big"), 2);
  assert_non_null(strstr(f->err, "gc-train: error: --batch 400 x --grad-accum 1 x 2 ranks = 800 windows"));
  assert_int_equal(lines(f->err), 1);
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "cd '%s' && " MPIRUN "%s -np 1 '%s/gc-train' %s --steps 2 --seed 1 --out mixed : -np 1 "
           "'%s/gc-train' %s --steps 2 --seed 2 --out mixed >stdout.txt 2>stderr.txt",
           f->dir, shm, fixture_bin_dir(), QWEN, fixture_bin_dir(), QWEN);
  int st = system(cmd);
  fixture_read(f, "stderr.txt", f->err, sizeof f->err);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 2);
  assert_non_null(strstr(f->err, "gc-train: error: rank 1's settings"));
  assert_int_equal(lines(f->err), 1);
}

/* Lines in a file of the fixture (0 when missing). */
static int file_lines(const gc_fixture *f, const char *name) {
  static char text[1 << 16];
  fixture_read(f, name, text, sizeof text);
  return lines(text);
}

/* Rank 1 killed mid-run: the job ends within 30 s with one line of
 * gc-train's naming the rank (mpirun's own notes left out: -q; rank 1's
 * compile statistics may come first), and the
 * last checkpoint resumes on one process. */
static void test_killed_rank(void **state) {
  gc_fixture *f = *state;
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "cd '%s' && (" MPIRUN "%s -np 2 '%s/gc-train' %s "
           "--steps 100000 --out killed >stdout.txt 2>stderr.txt; echo $? >rc.txt) &",
           f->dir, shm, fixture_bin_dir(), QWEN);
  assert_int_equal(system(cmd), 0);
  for (int i = 0; i < 1200 && file_lines(f, "killed/params_hash.csv") < 15; i++) usleep(100000);
  assert_true(file_lines(f, "killed/params_hash.csv") >= 15);   /* a checkpoint at step 10 */
  /* rank 1: the gc-train working here whose environment says so */
  snprintf(cmd, sizeof cmd,
           "for p in $(pgrep -x gc-train); do [ \"$(readlink /proc/$p/cwd)\" = '%s' ] && "
           "tr '\\0' '\\n' </proc/$p/environ | grep -qx OMPI_COMM_WORLD_RANK=1 && kill -9 $p; done; true",
           f->dir);
  assert_int_equal(system(cmd), 0);
  int waited = 0;
  while (waited < 300 && file_lines(f, "rc.txt") == 0) usleep(100000), waited++;
  assert_true(waited < 300);   /* within 30 s */
  fixture_read(f, "stderr.txt", f->err, sizeof f->err);
  const char *line = strstr(f->err, "gc-train: error: rank 1 (pid ");   /* the one line of gc-train's */
  if (!line || strstr(f->err, "gc-train:") != line || strstr(line + 1, "gc-train:")) fail_msg("stderr: %s", f->err);
  /* past the last checkpoint, wherever the kill caught the run: a row per step taken */
  char more[128];
  snprintf(more, sizeof more, "--steps %d --grad-accum 2 --out killed --resume",
           file_lines(f, "killed/params_hash.csv") + 10);
  run_ok(f, NULL, QWEN, more);
}

int main(void) {
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_qwen2_f32_shm, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_qwen2_f64_tcp, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_bert_f32_tcp, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_bert_f64_shm, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_resume_on_one_rank, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_zero_f64_tcp, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_zero_f32_resume, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_refusals, fixture_setup_with_corpus, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_killed_rank, fixture_setup_with_corpus, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
