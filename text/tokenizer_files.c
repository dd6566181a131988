/* text/tokenizer_files.c — opening a tokenizer from any of the forms
 * Hugging Face's byte-level BPE tokenizers ship in: tokenizer.json, or
 * vocab.json + merges.txt (OpenAI's encoder.json + vocab.bpe are the same
 * two files), alone or in a directory. */
#include "text/bpe_internal.h"
#include "io/file.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  const char *path;
  gc_diag *d;
  gc_tokenizer *t;
} reader;

static int read_vocab_json(reader *r) {
  json_error_t err;
  json_t *root = json_load_file(r->path, 0, &err);
  if (!root) return gc_tok_json_error(r->d, r->path, &err);
  int rc = json_is_object(root) ? 0 : gc_diag_set(r->d, "%s: not a JSON object of token -> id", r->path);
  const char *key;
  json_t *val;
  uint8_t buf[1024];
  json_object_foreach(root, key, val) {
    if (rc) break;
    size_t n, klen = strlen(key);
    gc_diag sub = {0};
    if (!json_is_integer(val)) rc = gc_diag_set(r->d, "%s: \"%.40s\" has no integer id", r->path, key);
    else if (klen > sizeof buf || gc_byte_level_decode(key, klen, buf, &n))
      rc = gc_diag_set(r->d, "%s: token \"%.40s\" is not in the byte-level alphabet (only byte-level BPE is "
                             "supported)", r->path, key);
    else if (gc_tok_add_token(r->t, (int32_t)json_integer_value(val), buf, n, &sub))
      rc = gc_diag_set(r->d, "%s: %s", r->path, sub.msg);
  }
  json_decref(root);
  return rc;
}

static int32_t token_id(const gc_tokenizer *t, const char *s, size_t len) {
  uint8_t buf[1024];
  size_t n;
  if (len > sizeof buf || gc_byte_level_decode(s, len, buf, &n)) return -1;
  return gc_wordmap_get(&t->vocab, buf, n);
}

/* merges.txt: an optional "#version" first line, then "a b" per line. */
static int read_merges_txt(reader *r) {
  size_t len;
  char *text = gc_read_file_max(r->path, (size_t)1 << 30, &len, r->d);
  if (!text) return -1;
  int rc = 0, line_no = 0;
  for (char *p = text, *nl; rc == 0 && p < text + len; p = nl + 1) {
    nl = memchr(p, '\n', (size_t)(text + len - p));
    if (!nl) nl = text + len;
    *nl = 0;
    line_no++;
    size_t n = (size_t)(nl - p);
    if (n && p[n - 1] == '\r') p[--n] = 0;
    if ((line_no == 1 && strncmp(p, "#version", 8) == 0) || n == 0) continue;
    char *sp = strchr(p, ' ');
    int32_t a = -1, b = -1;
    if (sp && !strchr(sp + 1, ' ')) a = token_id(r->t, p, (size_t)(sp - p)), b = token_id(r->t, sp + 1, strlen(sp + 1));
    gc_diag sub = {0};
    if (a < 0 || b < 0)
      rc = gc_diag_set(r->d, "%s:%d: \"%.60s\" is not two tokens of the vocabulary", r->path, line_no, p);
    else if (gc_tok_add_merge(r->t, a, b, -1, &sub))
      rc = gc_diag_set(r->d, "%s:%d: %s", r->path, line_no, sub.msg);
  }
  free(text);
  return rc;
}

gc_tokenizer *gc_tokenizer_read_vocab_merges(const char *vocab_path, const char *merges_path, gc_diag *d) {
  reader r = {vocab_path, d, gc_tok_new(d)};
  gc_diag sub = {0};
  int rc = !r.t || read_vocab_json(&r);
  if (!rc && gc_tok_index_vocab(r.t, &sub)) rc = gc_diag_set(d, "%s: %s", vocab_path, sub.msg);
  r.path = merges_path;
  if (!rc) rc = read_merges_txt(&r);
  /* As GPT-2's own tokenizer files: ByteLevel with its regex, no prefix
   * space, <|endoftext|> a special token when the vocabulary has it. */
  if (!rc) {
    r.t->byte_level_regex = true;
    rc = gc_tok_add_split(r.t, gc_gpt2_pattern, false, d);
  }
  int32_t eot = rc ? -1 : gc_wordmap_get(&r.t->vocab, (const uint8_t *)"<|endoftext|>", 13);
  if (!rc && eot >= 0) rc = gc_tok_add_added(r.t, eot, "<|endoftext|>", true, false, d);
  if (!rc) rc = gc_tok_finish(r.t, d);
  if (rc) {
    gc_tokenizer_free(r.t);
    return NULL;
  }
  return r.t;
}

static bool exists(const char *dir, const char *name, char *out, size_t size) {
  snprintf(out, size, "%s/%s", dir, name);
  return access(out, F_OK) == 0;
}

gc_tokenizer *gc_tokenizer_open(const char *path, gc_diag *d) {
  struct stat st;
  if (!path || stat(path, &st) != 0) {
    gc_diag_set(d, "%s: no such file or directory", path ? path : "(null)");
    return NULL;
  }
  if (!S_ISDIR(st.st_mode)) {
    size_t n = strlen(path);
    if (n >= 5 && strcmp(path + n - 5, ".json") == 0 && !strstr(path, "vocab.json") && !strstr(path, "encoder.json"))
      return gc_tokenizer_read_json(path, d);
    gc_diag_set(d, "%s: give a tokenizer.json or a directory holding tokenizer.json, vocab.json + merges.txt or "
                   "encoder.json + vocab.bpe", path);
    return NULL;
  }
  char a[4200], b[4200];
  if (exists(path, "tokenizer.json", a, sizeof a)) return gc_tokenizer_read_json(a, d);
  if (exists(path, "vocab.json", a, sizeof a) && exists(path, "merges.txt", b, sizeof b))
    return gc_tokenizer_read_vocab_merges(a, b, d);
  if (exists(path, "encoder.json", a, sizeof a) && exists(path, "vocab.bpe", b, sizeof b))
    return gc_tokenizer_read_vocab_merges(a, b, d);
  gc_diag_set(d, "%s: no tokenizer.json, vocab.json + merges.txt or encoder.json + vocab.bpe in this directory", path);
  return NULL;
}
