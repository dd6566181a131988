/* The byte-level BPE tokenizer: training (the seed notes' worked example),
 * byte round trips, determinism, vocabulary size, save/load, corrupt files. */
#include "tests/testutil.h"
#include "text/tokenizer.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------------- */

static uint8_t *read_corpus(size_t max, size_t *len) {
  FILE *f = fopen(GC_SOURCE_DIR "/data/tinyshakespeare.txt", "rb");
  assert_non_null(f);
  uint8_t *buf = malloc(max);
  assert_non_null(buf);
  *len = fread(buf, 1, max, f);
  fclose(f);
  assert_int_equal(*len, max);
  return buf;
}

static void temp_path(char *buf, size_t size, const char *tag) {
  snprintf(buf, size, "/tmp/gc_test_tokenizer_%d_%s.bpe", (int)getpid(), tag);
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
  fclose(f);
}

static void assert_token(const gc_tokenizer *t, int id, const char *want) {
  size_t n;
  const uint8_t *b = gc_tokenizer_token_bytes(t, id, &n);
  assert_non_null(b);
  if (n != strlen(want) || memcmp(b, want, n) != 0)
    fail_msg("token %d is \"%.*s\", expected \"%s\"", id, (int)n, (const char *)b, want);
}

static void assert_round_trip(const gc_tokenizer *t, const uint8_t *text, size_t len) {
  int32_t *ids;
  size_t n;
  assert_int_equal(gc_tokenizer_encode(t, text, len, &ids, &n), 0);
  assert_true(n <= len);
  for (size_t i = 0; i < n; i++) {
    assert_true(ids[i] >= 0 && ids[i] < gc_tokenizer_vocab_size(t));
    assert_int_equal(gc_tokenizer_special_id(t, "<|endoftext|>") == ids[i], 0);
  }
  uint8_t *back;
  size_t back_len;
  assert_int_equal(gc_tokenizer_decode(t, ids, n, &back, &back_len), 0);
  assert_int_equal(back_len, len);
  assert_memory_equal(back, text, len);
  assert_int_equal(back[len], 0);
  free(ids);
  free(back);
}

static void assert_same_merges(const gc_tokenizer *a, const gc_tokenizer *b) {
  assert_int_equal(gc_tokenizer_vocab_size(a), gc_tokenizer_vocab_size(b));
  assert_int_equal(gc_tokenizer_n_merges(a), gc_tokenizer_n_merges(b));
  for (int i = 0; i < gc_tokenizer_n_merges(a); i++) {
    int32_t la, ra, lb, rb;
    assert_int_equal(gc_tokenizer_merge(a, i, &la, &ra), 0);
    assert_int_equal(gc_tokenizer_merge(b, i, &lb, &rb), 0);
    assert_int_equal(la, lb);
    assert_int_equal(ra, rb);
  }
}

/* ---- the seed notes' worked example ------------------------------------------ */

/* The notes' corpus is the six words low, lower, lowest, new, newer, newest,
 * once each.  Separated by newlines, each is one word for the pre-splitter
 * (a newline is a word of its own and has no pairs), so training sees exactly
 * the notes' words.  The notes' step 3: the most frequent pair is "we" with 4
 * (lower, lowest, newer, newest).  Their later steps ("es", "st", and the
 * final list with "ow", "est") are only illustrative: once "we" is merged no
 * "e s" or "o w" pairs remain except "ow" once, so they cannot follow from
 * the counts.  Worked by hand with our tie-break (count, then the greatest
 * (left bytes, right bytes)):
 *   2. "lo" 3, "ne" 3: tie, "n" > "l"                       -> ne
 *   3. "lo" 3                                                -> lo
 *   4. count 2: (lo,we) (we,r) (we,s) (s,t) (ne,we): "we","s" -> wes
 *   5. count 2: (we,r) (wes,t): "wes" > "we"                 -> west
 *   6. (we,r) 2                                              -> wer
 *   7..12. all pairs count 1: ne+west, ne+wer, ne+w, lo+west, lo+wer, lo+w
 * Then every word is one token and no pair is left: 12 merges, so asking for
 * 20 gives a vocabulary of 256 + 12 (smaller than asked, by design). */
static void test_notes_example(void **state) {
  (void)state;
  const char *text = "low\nlower\nlowest\nnew\nnewer\nnewest\n";
  gc_diag d = {0};
  gc_tokenizer *t = gc_bpe_train((const uint8_t *)text, strlen(text), 256 + 20, NULL, 0, &d);
  assert_non_null(t);
  const char *want[] = {"we",     "ne",    "lo",  "wes",    "west",  "wer",
                        "newest", "newer", "new", "lowest", "lower", "low"};
  assert_int_equal(gc_tokenizer_n_merges(t), 12);
  assert_int_equal(gc_tokenizer_vocab_size(t), 256 + 12);
  for (int i = 0; i < 12; i++) assert_token(t, 256 + i, want[i]);
  int32_t l, r;
  assert_int_equal(gc_tokenizer_merge(t, 0, &l, &r), 0);
  assert_int_equal(l, 'w');
  assert_int_equal(r, 'e');
  assert_int_equal(gc_tokenizer_merge(t, 3, &l, &r), 0);   /* wes = we + s */
  assert_int_equal(l, 256);
  assert_int_equal(r, 's');
  assert_int_equal(gc_tokenizer_merge(t, 12, &l, &r), -1);

  /* Encoding applies the merges in order: " newer" -> ' ' ne we r -> ' ' ne
   * wer -> ' ' newer; "lowest" is one token; "lowly" keeps "ly" as bytes. */
  const char *s = "lowest newer lowly";
  int32_t *ids;
  size_t n;
  assert_int_equal(gc_tokenizer_encode(t, (const uint8_t *)s, strlen(s), &ids, &n), 0);
  int32_t expect[] = {256 + 9, ' ', 256 + 7, ' ', 256 + 11, 'l', 'y'};
  assert_int_equal(n, 7);
  for (size_t i = 0; i < n; i++) assert_int_equal(ids[i], expect[i]);
  free(ids);
  gc_tokenizer_free(t);
}

/* The pre-splitter keeps a leading space with the word and a run of spaces
 * gives its last space to the next word: "a  b" is "a", " ", " b".  With a
 * tokenizer whose only merge is (' ', 'b'), encoding shows the split. */
static void test_word_split(void **state) {
  (void)state;
  int32_t merges[] = {' ', 'b'};
  gc_diag d = {0};
  gc_tokenizer *t = gc_tokenizer_from_merges(merges, 1, NULL, 0, &d);
  assert_non_null(t);
  const char *s = "a  b\n b1 b";
  int32_t *ids;
  size_t n;
  assert_int_equal(gc_tokenizer_encode(t, (const uint8_t *)s, strlen(s), &ids, &n), 0);
  int32_t expect[] = {'a', ' ', 256, '\n', 256, '1', 256};
  assert_int_equal(n, 7);
  for (size_t i = 0; i < n; i++) assert_int_equal(ids[i], expect[i]);
  free(ids);
  gc_tokenizer_free(t);
}

/* ---- round trips ------------------------------------------------------------- */

static void test_random_bytes_round_trip(void **state) {
  (void)state;
  size_t len;
  uint8_t *corpus = read_corpus(16384, &len);
  const char *specials[] = {"<|endoftext|>"};
  gc_diag d = {0};
  gc_tokenizer *t = gc_bpe_train(corpus, len, 400, specials, 1, &d);
  assert_non_null(t);

  uint64_t x = 0x9e3779b97f4a7c15u;
  size_t n = 1 << 16;
  uint8_t *data = malloc(n);
  for (size_t i = 0; i < n; i++) {   /* xorshift: NULs, 0x80..0xff, invalid UTF-8 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    data[i] = (uint8_t)x;
  }
  data[0] = 0;
  data[1] = 0xc3;   /* truncated two-byte sequence */
  data[n - 1] = 0xff;
  assert_round_trip(t, data, n);
  assert_round_trip(t, corpus, len);
  static const char with_special[] = "the end<|endoftext|>\0\xff\xfe tail";
  assert_round_trip(t, (const uint8_t *)with_special, sizeof with_special - 1);
  assert_round_trip(t, (const uint8_t *)"", 0);

  /* Trained on random bytes itself (long words, every byte value). */
  gc_tokenizer *r = gc_bpe_train(data, n, 600, NULL, 0, &d);
  assert_non_null(r);
  assert_round_trip(r, data, n);
  assert_round_trip(r, corpus, len);
  gc_tokenizer_free(r);
  free(data);
  free(corpus);
  gc_tokenizer_free(t);
}

static void test_decode_specials_and_bad_ids(void **state) {
  (void)state;
  const char *specials[] = {"<|endoftext|>", "<pad>"};
  gc_diag d = {0};
  gc_tokenizer *t = gc_bpe_train((const uint8_t *)"aaaa", 4, 256 + 1 + 2, specials, 2, &d);
  assert_non_null(t);
  assert_int_equal(gc_tokenizer_vocab_size(t), 259);    /* merge "aa", then 2 specials */
  assert_token(t, 256, "aa");
  assert_int_equal(gc_tokenizer_special_id(t, "<|endoftext|>"), 257);
  assert_int_equal(gc_tokenizer_special_id(t, "<pad>"), 258);
  assert_int_equal(gc_tokenizer_special_id(t, "<unk>"), -1);
  int32_t ids[] = {'h', 'i', 257, 256, 258};
  uint8_t *out;
  size_t len;
  assert_int_equal(gc_tokenizer_decode(t, ids, 5, &out, &len), 0);
  assert_int_equal(len, 2 + 13 + 2 + 5);
  assert_memory_equal(out, "hi<|endoftext|>aa<pad>", len);
  free(out);
  int32_t bad[] = {'a', 259};
  assert_int_equal(gc_tokenizer_decode(t, bad, 2, &out, &len), -1);
  assert_null(out);
  int32_t neg[] = {-1};
  assert_int_equal(gc_tokenizer_decode(t, neg, 1, &out, &len), -1);
  assert_null(gc_tokenizer_token_bytes(t, 259, &len));
  gc_tokenizer_free(t);
}

/* ---- training ---------------------------------------------------------------- */

static void test_determinism(void **state) {
  (void)state;
  size_t len;
  uint8_t *corpus = read_corpus(32768, &len);
  gc_diag d = {0};
  gc_tokenizer *a = gc_bpe_train(corpus, len, 500, NULL, 0, &d);
  gc_tokenizer *b = gc_bpe_train(corpus, len, 500, NULL, 0, &d);
  assert_non_null(a);
  assert_non_null(b);
  assert_same_merges(a, b);
  /* A smaller vocabulary is a prefix of the larger one's merges. */
  gc_tokenizer *c = gc_bpe_train(corpus, len, 300, NULL, 0, &d);
  assert_non_null(c);
  for (int i = 0; i < gc_tokenizer_n_merges(c); i++) {
    int32_t l1, r1, l2, r2;
    gc_tokenizer_merge(a, i, &l1, &r1);
    gc_tokenizer_merge(c, i, &l2, &r2);
    assert_int_equal(l1, l2);
    assert_int_equal(r1, r2);
  }
  gc_tokenizer_free(a);
  gc_tokenizer_free(b);
  gc_tokenizer_free(c);
  free(corpus);
}

static void test_vocab_size_exact(void **state) {
  (void)state;
  size_t len;
  uint8_t *corpus = read_corpus(8192, &len);
  const char *specials[] = {"<|endoftext|>", "<|pad|>"};
  gc_diag d = {0};
  gc_tokenizer *t = gc_bpe_train(corpus, len, 384, specials, 2, &d);
  assert_non_null(t);
  assert_int_equal(gc_tokenizer_vocab_size(t), 384);
  assert_int_equal(gc_tokenizer_n_merges(t), 384 - 256 - 2);
  assert_int_equal(gc_tokenizer_special_id(t, "<|endoftext|>"), 382);
  assert_int_equal(gc_tokenizer_special_id(t, "<|pad|>"), 383);
  /* The first merge is the most frequent pair of the text: in Shakespeare's
   * plays that is " t" (as in " the", " to", " thou"), counted here
   * independently within words as the pre-splitter forms them. */
  size_t n;
  const uint8_t *b = gc_tokenizer_token_bytes(t, 256, &n);
  assert_int_equal(n, 2);
  long count_best = 0, count_first = 0;
  int best_a = 0, best_b = 0;
  static long counts[256][256];
  memset(counts, 0, sizeof counts);
  /* Only pairs inside letter words with an optional leading space matter for
   * this corpus's top pair; count pairs not crossing a word boundary. */
  for (size_t i = 0; i + 1 < len; i++) {
    uint8_t p = corpus[i], q = corpus[i + 1];
    int pl = (p | 32) >= 'a' && (p | 32) <= 'z', ql = (q | 32) >= 'a' && (q | 32) <= 'z';
    if ((pl && ql) || (p == ' ' && ql)) counts[p][q]++;
  }
  for (int p = 0; p < 256; p++)
    for (int q = 0; q < 256; q++)
      if (counts[p][q] > 0 && counts[p][q] >= count_best) {   /* ties: greatest pair */
        count_best = counts[p][q];
        best_a = p;
        best_b = q;
      }
  count_first = counts[b[0]][b[1]];
  assert_int_equal(b[0], best_a);
  assert_int_equal(b[1], best_b);
  assert_int_equal(count_first, count_best);
  /* Plain text holding a special's spelling never yields the special id. */
  assert_round_trip(t, (const uint8_t *)"<|endoftext|><|pad|>", 20);
  gc_tokenizer_free(t);
  free(corpus);
}

static void test_bad_arguments(void **state) {
  (void)state;
  gc_diag d = {0};
  const uint8_t *text = (const uint8_t *)"hello";
  const char *one[] = {"<|endoftext|>"};
  assert_null(gc_bpe_train(text, 5, 256, one, 1, &d));
  assert_non_null(strstr(d.msg, "vocab_size 256"));
  const char *dup[] = {"<a>", "<a>"};
  assert_null(gc_bpe_train(text, 5, 300, dup, 2, &d));
  assert_non_null(strstr(d.msg, "given twice"));
  const char *spaced[] = {"<a b>"};
  assert_null(gc_bpe_train(text, 5, 300, spaced, 1, &d));
  assert_non_null(strstr(d.msg, "space or control"));
  const char *empty[] = {""};
  assert_null(gc_bpe_train(text, 5, 300, empty, 1, &d));
  assert_non_null(strstr(d.msg, "empty"));
  int32_t fwd[] = {'a', 257};
  assert_null(gc_tokenizer_from_merges(fwd, 1, NULL, 0, &d));
  assert_non_null(strstr(d.msg, "not defined before"));
  /* Empty text: no pairs, only bytes and specials. */
  gc_tokenizer *t = gc_bpe_train(NULL, 0, 300, one, 1, &d);
  assert_non_null(t);
  assert_int_equal(gc_tokenizer_vocab_size(t), 257);
  assert_int_equal(gc_tokenizer_special_id(t, "<|endoftext|>"), 256);
  gc_tokenizer_free(t);
}

/* ---- save and load ------------------------------------------------------------ */

static void test_save_load(void **state) {
  (void)state;
  size_t len;
  uint8_t *corpus = read_corpus(8192, &len);
  const char *specials[] = {"<|endoftext|>"};
  gc_diag d = {0};
  gc_tokenizer *t = gc_bpe_train(corpus, len, 320, specials, 1, &d);
  assert_non_null(t);
  char path[256], tmp[300];
  temp_path(path, sizeof path, "saved");
  assert_int_equal(gc_tokenizer_save(t, path, &d), 0);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  assert_int_equal(access(tmp, F_OK), -1);   /* renamed away */

  /* The file is the documented text format. */
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  char line[128];
  const char *head[] = {"gc-bpe 1\n", "vocab_size 320\n", "specials 1\n", "<|endoftext|>\n",
                        "merges 63\n"};
  for (int i = 0; i < 5; i++) {
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, head[i]);
  }
  int32_t l, r;
  gc_tokenizer_merge(t, 0, &l, &r);
  char first[64];
  snprintf(first, sizeof first, "%d %d\n", (int)l, (int)r);
  assert_non_null(fgets(line, sizeof line, f));
  assert_string_equal(line, first);
  fclose(f);

  gc_tokenizer *u = gc_tokenizer_load(path, &d);
  assert_non_null(u);
  assert_same_merges(t, u);
  assert_int_equal(gc_tokenizer_special_id(u, "<|endoftext|>"), 319);
  int32_t *a, *b;
  size_t na, nb;
  assert_int_equal(gc_tokenizer_encode(t, corpus, len, &a, &na), 0);
  assert_int_equal(gc_tokenizer_encode(u, corpus, len, &b, &nb), 0);
  assert_int_equal(na, nb);
  assert_memory_equal(a, b, na * sizeof *a);
  free(a);
  free(b);

  /* Saving over an existing file replaces it. */
  assert_int_equal(gc_tokenizer_save(u, path, &d), 0);
  gc_tokenizer *w = gc_tokenizer_load(path, &d);
  assert_non_null(w);
  assert_same_merges(t, w);
  gc_tokenizer_free(w);
  gc_tokenizer_free(u);
  gc_tokenizer_free(t);
  unlink(path);
  free(corpus);
}

static void expect_load_error(const char *text, const char *want) {
  char path[256];
  temp_path(path, sizeof path, "corrupt");
  write_text(path, text);
  gc_diag d = {0};
  gc_tokenizer *t = gc_tokenizer_load(path, &d);
  unlink(path);
  if (t) fail_msg("loaded a corrupt file:\n%s", text);
  if (!strstr(d.msg, want)) fail_msg("error \"%s\" does not mention \"%s\"", d.msg, want);
  assert_non_null(strstr(d.msg, path));
}

static void test_corrupt_files(void **state) {
  (void)state;
  const char *good = "gc-bpe 1\nvocab_size 259\nspecials 1\n<s>\nmerges 2\n97 98\n256 99\nend\n";
  char path[256];
  temp_path(path, sizeof path, "good");
  write_text(path, good);
  gc_diag d = {0};
  gc_tokenizer *t = gc_tokenizer_load(path, &d);
  unlink(path);
  assert_non_null(t);
  assert_token(t, 257, "abc");
  assert_int_equal(gc_tokenizer_special_id(t, "<s>"), 258);
  gc_tokenizer_free(t);

  expect_load_error("gc-bpe 2\nvocab_size 256\n", ":1: not a gc tokenizer file");
  expect_load_error("", "file ends early");
  expect_load_error("gc-bpe 1\nvocab_size 259\nspecials 1\n<s>\nmerges 2\n97 98\n",
                    ":7: file ends early");
  expect_load_error("gc-bpe 1\nvocab_size 259\nspecials 1\n<s>\nmerges 2\n97 98\n256 99",
                    ":7: line does not end with a newline");
  expect_load_error("gc-bpe 1\nvocab_size 259\nspecials 1\n<s>\nmerges 2\n97 98\n257 99\nend\n",
                    ":7: merge 1 must be two token ids in 0..256");
  expect_load_error("gc-bpe 1\nvocab_size 259\nspecials 1\n<s>\nmerges 1\n97 98\nend\n",
                    ":5: expected \"merges N\"");
  expect_load_error("gc-bpe 1\nvocab_size 259\nspecials 1\n<s>\nmerges 2\n97 x\n256 99\nend\n",
                    ":6: merge 0");
  expect_load_error("gc-bpe 1\nvocab_size 259\nspecials 1\n<s>\nmerges 2\n97 98\n256 99\nend\nx\n",
                    ":8: expected the last line \"end\"");
  expect_load_error("gc-bpe 1\nvocab_size -3\n", ":2: expected \"vocab_size N\"");
  expect_load_error("gc-bpe 1\nvocab_size 258\nspecials 0\nmerges 2\n97 98\n97 98\nend\n",
                    "repeats an earlier merge");
  expect_load_error("gc-bpe 1\nvocab_size 258\nspecials 2\n<s>\n<s>\nmerges 0\nend\n",
                    "given twice");
  expect_load_error("gc-bpe 1\nvocab_size 257\nspecials 1\n\nmerges 0\nend\n", "empty");

  gc_diag m = {0};
  assert_null(gc_tokenizer_load("/nonexistent/dir/tok.bpe", &m));
  assert_non_null(strstr(m.msg, "cannot open"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_notes_example),
      cmocka_unit_test(test_word_split),
      cmocka_unit_test(test_random_bytes_round_trip),
      cmocka_unit_test(test_decode_specials_and_bad_ids),
      cmocka_unit_test(test_determinism),
      cmocka_unit_test(test_vocab_size_exact),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_save_load),
      cmocka_unit_test(test_corrupt_files),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
