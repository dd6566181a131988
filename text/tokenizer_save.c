/* text/tokenizer_save.c — writing a tokenizer as Hugging Face's
 * tokenizer.json: the BPE model (vocabulary and merges in the byte-level
 * alphabet, merges as "a b" strings, which every version reads), the added
 * tokens, the NFC normalizer if any, the pre-tokenizer regexes and
 * ByteLevel, ByteLevel post-processor and decoder. */
#include "text/bpe_internal.h"
#include "io/file.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static json_t *byte_level(bool add_prefix_space, bool trim_offsets, bool use_regex) {
  return json_pack("{s:s, s:b, s:b, s:b}", "type", "ByteLevel", "add_prefix_space", add_prefix_space,
                   "trim_offsets", trim_offsets, "use_regex", use_regex);
}

static json_t *pre_tokenizer(const gc_tokenizer *t) {
  if (t->n_splits == 1 && t->byte_level_regex) return byte_level(t->add_prefix_space, true, true);
  json_t *list = json_array();
  int own = t->n_splits - (t->byte_level_regex ? 1 : 0);
  for (int k = 0; k < own; k++)
    json_array_append_new(list, json_pack("{s:s, s:{s:s}, s:s, s:b}", "type", "Split", "pattern",
                                          t->splits[k].literal ? "String" : "Regex", t->splits[k].pattern,
                                          "behavior", "Isolated", "invert", 0));
  json_array_append_new(list, byte_level(t->add_prefix_space, false, t->byte_level_regex));
  return json_pack("{s:s, s:o}", "type", "Sequence", "pretokenizers", list);
}

static json_t *spelled(const gc_tokenizer *t, int32_t id, char *buf) {
  size_t n = gc_byte_level_encode(t->bytes + t->tok_off[id], t->tok_len[id], buf);
  return json_stringn(buf, n);
}

static json_t *model(const gc_tokenizer *t, gc_diag *d) {
  uint32_t longest = 1;
  for (int id = 0; id < t->n_vocab; id++)
    if (t->is_model[id] && t->tok_len[id] > longest) longest = t->tok_len[id];
  char *buf = malloc(4 * (size_t)longest + 2);
  json_t *vocab = json_object(), *merges = json_array();
  int rc = buf && vocab && merges ? 0 : gc_diag_set(d, "tokenizer: out of memory");
  for (int id = 0; rc == 0 && id < t->n_vocab; id++) {
    if (!t->is_model[id]) continue;
    size_t n = gc_byte_level_encode(t->bytes + t->tok_off[id], t->tok_len[id], buf);
    buf[n] = 0;
    if (json_object_get(vocab, buf))
      rc = gc_diag_set(d, "tokenizer: tokens %d and %d have the same bytes; tokenizer.json cannot hold both",
                       (int)json_integer_value(json_object_get(vocab, buf)), id);
    else
      json_object_set_new(vocab, buf, json_integer(id));
  }
  for (int r = 0; rc == 0 && r < t->n_merges; r++) {
    json_t *a = spelled(t, t->merges[2 * r], buf), *b = spelled(t, t->merges[2 * r + 1], buf + 2 * longest + 1);
    char *line = malloc(json_string_length(a) + json_string_length(b) + 2);
    if (line) {
      sprintf(line, "%s %s", json_string_value(a), json_string_value(b));
      json_array_append_new(merges, json_string(line));
    }
    free(line);
    json_decref(a);
    json_decref(b);
  }
  free(buf);
  if (rc) {
    json_decref(vocab);
    json_decref(merges);
    return NULL;
  }
  return json_pack("{s:s, s:n, s:n, s:n, s:n, s:b, s:b, s:b, s:o, s:o}", "type", "BPE", "dropout", "unk_token",
                   "continuing_subword_prefix", "end_of_word_suffix", "fuse_unk", 0, "byte_fallback", 0,
                   "ignore_merges", t->ignore_merges, "vocab", vocab, "merges", merges);
}

int gc_tokenizer_save_json(const gc_tokenizer *t, const char *path, gc_diag *d) {
  json_t *m = model(t, d);
  if (!m) return -1;
  json_t *added = json_array();
  for (int k = 0; k < t->n_added; k++) {
    const gc_added_token *a = &t->added[k];
    json_array_append_new(added, json_pack("{s:i, s:s%, s:b, s:b, s:b, s:b, s:b}", "id", (int)a->id, "content",
                                           a->text, (size_t)a->len, "single_word", 0, "lstrip", 0, "rstrip", 0,
                                           "normalized", a->normalized, "special", a->special));
  }
  json_t *root = json_pack("{s:s, s:n, s:n, s:o, s:o, s:o, s:o, s:o, s:o}", "version", "1.0", "truncation", "padding",
                           "added_tokens", added, "normalizer",
                           t->nfc ? json_pack("{s:s}", "type", "NFC") : json_null(), "pre_tokenizer",
                           pre_tokenizer(t), "post_processor", byte_level(false, false, false), "decoder",
                           byte_level(true, true, true), "model", m);
  char *text = root ? json_dumps(root, JSON_INDENT(1)) : NULL;
  json_decref(root);
  if (!text) return gc_diag_set(d, "cannot write %s: out of memory", path);
  gc_file_part parts[2] = {{text, strlen(text)}, {"\n", 1}};
  int rc = gc_write_file_parts_atomic(path, parts, 2, d);
  free(text);
  return rc;
}
