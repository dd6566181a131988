/* The byte-level BPE tokenizer: training (the seed notes' worked example),
 * byte round trips, determinism, vocabulary size, tokenizer.json written and
 * read back, what is refused.  (Equality with Hugging Face on real files is
 * tests/tools/test_gc_tokenize.c.) */
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
  snprintf(buf, size, "/tmp/gc_test_tokenizer_%d_%s", (int)getpid(), tag);
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
  for (size_t i = 0; i < n; i++) assert_true(ids[i] >= 0 && ids[i] < gc_tokenizer_vocab_size(t));
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

/* GPT-2's pre-tokenizer regex keeps a leading space with the word and a run
 * of spaces gives its last space to the next word: "a  b" is "a", " ", " b".  With a
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
  /* Specials are split out of the text first, as Hugging Face does. */
  int32_t *ids;
  assert_int_equal(gc_tokenizer_encode(t, (const uint8_t *)"a<|endoftext|><|pad|>", 21, &ids, &n), 0);
  assert_int_equal(n, 3);
  assert_int_equal(ids[0], 'a');
  assert_int_equal(ids[1], 382);
  assert_int_equal(ids[2], 383);
  free(ids);
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

/* ---- tokenizer.json --------------------------------------------------------- */

static void assert_same_ids(const gc_tokenizer *a, const gc_tokenizer *b, const uint8_t *text, size_t len) {
  int32_t *x, *y;
  size_t nx, ny;
  assert_int_equal(gc_tokenizer_encode(a, text, len, &x, &nx), 0);
  assert_int_equal(gc_tokenizer_encode(b, text, len, &y, &ny), 0);
  assert_int_equal(nx, ny);
  if (nx) assert_memory_equal(x, y, nx * sizeof *x);
  free(x);
  free(y);
}

static void test_save_json(void **state) {
  (void)state;
  size_t len;
  uint8_t *corpus = read_corpus(8192, &len);
  const char *specials[] = {"<|endoftext|>"};
  gc_diag d = {0};
  gc_tokenizer *t = gc_bpe_train(corpus, len, 320, specials, 1, &d);
  assert_non_null(t);
  char path[256];
  temp_path(path, sizeof path, "tokenizer.json");
  assert_int_equal(gc_tokenizer_save_json(t, path, &d), 0);

  /* Hugging Face's layout: a BPE model, bytes in the byte-level alphabet
   * (' ' is "Ġ"), merges as "a b", the special an added token. */
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  char *text = calloc(1, 1 << 20);
  assert_true(fread(text, 1, (1 << 20) - 1, f) > 0);
  fclose(f);
  assert_non_null(strstr(text, "\"type\": \"BPE\""));
  assert_non_null(strstr(text, "\"content\": \"<|endoftext|>\""));
  assert_non_null(strstr(text, "\"Ġ\": 32"));
  assert_non_null(strstr(text, "\"use_regex\": true"));
  free(text);

  gc_tokenizer *u = gc_tokenizer_open(path, &d);
  assert_non_null(u);
  assert_same_merges(t, u);
  assert_int_equal(gc_tokenizer_special_id(u, "<|endoftext|>"), 319);
  assert_same_ids(t, u, corpus, len);
  static const char mixed[] = "x<|endoftext|>y \xff\xfe\0 caf\xc3\xa9  \r\n 12345";
  assert_same_ids(t, u, (const uint8_t *)mixed, sizeof mixed - 1);
  assert_round_trip(u, (const uint8_t *)mixed, sizeof mixed - 1);

  /* Saving over an existing file replaces it. */
  assert_int_equal(gc_tokenizer_save_json(u, path, &d), 0);
  gc_tokenizer *w = gc_tokenizer_open(path, &d);
  assert_non_null(w);
  assert_same_merges(t, w);
  gc_tokenizer_free(w);
  gc_tokenizer_free(u);
  gc_tokenizer_free(t);
  unlink(path);
  free(corpus);
}

/* A small tokenizer.json: bytes 'a' 'b' ' ' and "ab", one merge, NFC, one
 * added token; `model_extra`, `normalizer`, `pre`, `added_extra` replace parts. */
static char *small_json(const char *model_type, const char *model_extra, const char *normalizer, const char *pre,
                        const char *added_extra) {
  static char buf[4096];
  snprintf(buf, sizeof buf,
           "{\"version\": \"1.0\", \"added_tokens\": [{\"id\": 4, \"content\": \"<s>\", \"special\": true, "
           "\"normalized\": false%s}], \"normalizer\": %s, \"pre_tokenizer\": %s, \"post_processor\": null, "
           "\"decoder\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"%s\", \"vocab\": {\"a\": 0, \"b\": 1, "
           "\"\\u0120\": 2, \"ab\": 3}, \"merges\": [[\"a\", \"b\"]]%s}}",
           added_extra, normalizer, pre, model_type, model_extra);
  return buf;
}

static const char *const byte_level = "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}";

static void expect_refused(const char *json, const char *want) {
  char path[256];
  temp_path(path, sizeof path, "refused.json");
  write_text(path, json);
  gc_diag d = {0};
  gc_tokenizer *t = gc_tokenizer_open(path, &d);
  unlink(path);
  if (t) fail_msg("opened an unsupported tokenizer:\n%s", json);
  if (!strstr(d.msg, want)) fail_msg("error \"%s\" does not mention \"%s\"", d.msg, want);
  assert_non_null(strstr(d.msg, path));
  assert_null(strchr(d.msg, '\n'));
}

/* Two Split pre-tokenizers that leave stretches between their matches (a
 * regex, then a literal string), then ByteLevel, with and without its
 * prefix space: the pieces are the matches and the stretches between. */
static gc_tokenizer *split_tokenizer(bool prefix_space) {
  char json[2048], path[256];
  snprintf(json, sizeof json,
           "{\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": ["
           "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"[0-9]+\"}, \"behavior\": \"Isolated\", \"invert\": false},"
           "{\"type\": \"Split\", \"pattern\": {\"String\": \".\"}, \"behavior\": \"Isolated\", \"invert\": false},"
           "{\"type\": \"ByteLevel\", \"add_prefix_space\": %s, \"use_regex\": false}]},"
           "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"\\u0120\": 2, \"1\": 3, \"2\": 4, \"12\": 5,"
           "\".\": 6}, \"merges\": [\"1 2\"]}}",
           prefix_space ? "true" : "false");
  temp_path(path, sizeof path, "split.json");
  write_text(path, json);
  gc_diag d = {0};
  gc_tokenizer *t = gc_tokenizer_open(path, &d);
  unlink(path);
  if (!t) fail_msg("%s", d.msg);
  return t;
}

static void assert_encodes(const gc_tokenizer *t, const char *text, const int32_t *want, size_t n_want) {
  int32_t *ids;
  size_t n;
  assert_int_equal(gc_tokenizer_encode(t, (const uint8_t *)text, strlen(text), &ids, &n), 0);
  if (n != n_want || memcmp(ids, want, n * sizeof *ids) != 0) {
    char got[512] = "";
    for (size_t i = 0; i < n && strlen(got) < 400; i++) snprintf(got + strlen(got), 16, " %d", (int)ids[i]);
    fail_msg("\"%s\" encodes as%s", text, got);
  }
  free(ids);
}

static void test_split_pieces(void **state) {
  (void)state;
  gc_tokenizer *t = split_tokenizer(false);
  /* "ab." "12" "a.b " "1" -> "ab" "." | "12" | "a" "." "b " | "1"; the '.' is literal */
  int32_t want[] = {0, 1, 6, 5, 0, 6, 1, 2, 3};
  assert_encodes(t, "ab.12a.b 1", want, sizeof want / sizeof *want);
  int32_t dots[] = {6, 6, 0};   /* "." matches only a dot, not any character */
  assert_encodes(t, "..a", dots, 3);
  gc_tokenizer_free(t);
  t = split_tokenizer(true);
  /* each piece reaching ByteLevel gets a space in front unless it has one */
  int32_t spaced[] = {2, 0, 1, 2, 6, 2, 5, 2, 0, 2, 6, 2, 1, 2, 2, 3};
  assert_encodes(t, "ab.12a.b 1", spaced, sizeof spaced / sizeof *spaced);
  gc_tokenizer_free(t);
}

static void test_small_json_and_refusals(void **state) {
  (void)state;
  char path[256];
  temp_path(path, sizeof path, "small.json");
  write_text(path, small_json("BPE", "", "{\"type\": \"NFC\"}", byte_level, ""));
  gc_diag d = {0};
  gc_tokenizer *t = gc_tokenizer_open(path, &d);
  unlink(path);
  if (!t) fail_msg("%s", d.msg);
  assert_int_equal(gc_tokenizer_vocab_size(t), 5);
  assert_int_equal(gc_tokenizer_special_id(t, "<s>"), 4);
  assert_token(t, 3, "ab");
  assert_token(t, 2, " ");
  int32_t *ids;
  size_t n;
  assert_int_equal(gc_tokenizer_encode(t, (const uint8_t *)"ab<s>ba ab", 10, &ids, &n), 0);
  int32_t want[] = {3, 4, 1, 0, 2, 3};   /* " ab" is one piece: ' ' then the merge */
  assert_int_equal(n, 6);
  assert_memory_equal(ids, want, sizeof want);
  free(ids);
  gc_tokenizer_free(t);

  expect_refused(small_json("WordPiece", "", "null", byte_level, ""), "model WordPiece is not supported");
  expect_refused(small_json("Unigram", "", "null", byte_level, ""), "model Unigram is not supported");
  expect_refused(small_json("BPE", ", \"byte_fallback\": true", "null", byte_level, ""), "byte_fallback");
  expect_refused(small_json("BPE", "", "{\"type\": \"NFKC\"}", byte_level, ""), "normalizer NFKC is not supported");
  expect_refused(small_json("BPE", "", "{\"type\": \"Lowercase\"}", byte_level, ""), "normalizer Lowercase");
  expect_refused(small_json("BPE", "", "null", "{\"type\": \"Metaspace\"}", ""), "pre-tokenizer Metaspace");
  expect_refused(small_json("BPE", "", "null", byte_level, ", \"lstrip\": true"), "uses lstrip");
  expect_refused(small_json("BPE", ", \"continuing_subword_prefix\": \"##\"", "null", byte_level, ""),
                 "continuing_subword_prefix");
  expect_refused("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a b\": 0}, \"merges\": []}}", "byte-level");
  expect_refused("{\"model\": ", "");

  gc_diag m = {0};
  assert_null(gc_tokenizer_open("/nonexistent/dir/tokenizer.json", &m));
  assert_non_null(strstr(m.msg, "no such file"));
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
      cmocka_unit_test(test_save_json),
      cmocka_unit_test(test_split_pieces),
      cmocka_unit_test(test_small_json_and_refusals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
