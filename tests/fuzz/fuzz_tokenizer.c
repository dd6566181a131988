/* tests/fuzz/fuzz_tokenizer.c — the libFuzzer harness of the tokenizer.json
 * reader (gc_tokenizer_open, text/; docs/fuzzing.md).
 *
 * The bytes are written as a tokenizer.json.  gc_tokenizer_open either
 * refuses it with a one-line message, or gives a tokenizer that, on a few
 * texts (ASCII, UTF-8 to normalise, bytes that are not UTF-8, the start of
 * the file itself):
 *   - encodes to ids that are tokens (each below the vocabulary size), and
 *     decodes them;
 *   - saved with gc_tokenizer_save_json and opened again, encodes them to
 *     the same ids.
 * The files go to a temporary directory under $TMPDIR, removed at exit. */
#include "text/tokenizer.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[4096], input[4200], saved[4200];

static void fail(const char *what, const char *detail) {
  fprintf(stderr, "fuzz_tokenizer: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  abort();
}

static void remove_dir(void) {
  unlink(input);
  unlink(saved);
  rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/gc-fuzz-tokenizer.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) fail("cannot make a temporary directory", dir);
  snprintf(input, sizeof input, "%s/tokenizer.json", dir);
  snprintf(saved, sizeof saved, "%s/saved.json", dir);
  atexit(remove_dir);
  return 0;
}

static void write_input(const uint8_t *data, size_t size) {
  FILE *f = fopen(input, "wb");
  if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) fail("cannot write", input);
}

/* Encodes text with t and with u (t saved and opened again); the ids must
 * be tokens, decode, and be the same for both. */
static void check_text(const gc_tokenizer *t, const gc_tokenizer *u, const uint8_t *text, size_t len) {
  int32_t *ids = NULL, *again = NULL;
  size_t n = 0, n_again = 0;
  if (gc_tokenizer_encode(t, text, len, &ids, &n) != 0) return; /* a regex failure is an error, not a bug */
  int vocab = gc_tokenizer_vocab_size(t);
  for (size_t i = 0; i < n; i++)
    if (ids[i] < 0 || ids[i] >= vocab) fail("an id outside the vocabulary", NULL);
  uint8_t *out = NULL;
  size_t out_len = 0;
  if (gc_tokenizer_decode(t, ids, n, &out, &out_len) != 0) fail("the ids it encoded do not decode", NULL);
  if (gc_tokenizer_encode(u, text, len, &again, &n_again) != 0 || n_again != n ||
      (n && memcmp(ids, again, n * sizeof *ids) != 0))
    fail("saved and opened again, it encodes differently", NULL);
  free(out);
  free(ids);
  free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  write_input(data, size);
  gc_diag d = {0};
  gc_tokenizer *t = gc_tokenizer_open(input, &d);
  if (!t) {
    if (!d.msg[0] || strchr(d.msg, '\n')) fail("refused without a one-line message", d.msg);
    return 0;
  }
  if (gc_tokenizer_save_json(t, saved, &d) != 0) fail("cannot save what it opened", d.msg);
  gc_tokenizer *u = gc_tokenizer_open(saved, &d);
  if (!u) fail("what it saved does not open", d.msg);
  static const char *const texts[] = {
      "", "ab<s>ba ab", "Hello, world!  It's 2026.\n\tx", "e\xcc\x81t\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac",
      "\xff\xfe a\x80\x62\xc3",
  };
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
    check_text(t, u, (const uint8_t *)texts[i], strlen(texts[i]));
  check_text(t, u, data, size < 64 ? size : 64);
  gc_tokenizer_free(u);
  gc_tokenizer_free(t);
  return 0;
}
