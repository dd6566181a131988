/* text/tokenizer_json.c — reading Hugging Face's tokenizer.json (jansson).
 *
 * What gc reads (anything else is refused in one line naming it):
 *   model          BPE, without byte_fallback, dropout, a subword prefix or
 *                  an end-of-word suffix; merges as "a b" strings or
 *                  ["a", "b"] pairs; ignore_merges
 *   normalizer     null, NFC, or a Sequence of those
 *   pre_tokenizer  ByteLevel, or a Sequence of Split (a Regex or String
 *                  pattern, behavior Isolated, not inverted) ending in
 *                  ByteLevel
 *   post_processor null or ByteLevel (neither adds tokens)
 *   decoder        null or ByteLevel
 *   added_tokens   special or not, normalized or not; not lstrip, rstrip or
 *                  single_word */
#include "text/bpe_internal.h"
#include "io/file.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *path;
  gc_diag *d;
  gc_tokenizer *t;
} reader;

#define REFUSE(r, ...) gc_diag_set((r)->d, __VA_ARGS__)

static const char *type_of(const json_t *o) {
  const char *s = json_string_value(json_object_get(o, "type"));
  return s ? s : "(no type)";
}

static bool flag(const json_t *o, const char *key, bool dflt) {
  const json_t *v = json_object_get(o, key);
  return json_is_boolean(v) ? json_is_true(v) : dflt;
}

/* ---- model ---------------------------------------------------------------- */

static int read_vocab(reader *r, const json_t *vocab) {
  if (!json_is_object(vocab)) return REFUSE(r, "%s: model.vocab is not an object", r->path);
  const char *key;
  const json_t *val;
  uint8_t buf[1024];
  json_object_foreach((json_t *)vocab, key, val) {
    size_t klen = strlen(key), n;
    if (!json_is_integer(val)) return REFUSE(r, "%s: model.vocab[\"%.40s\"] is not an integer id", r->path, key);
    if (klen > sizeof buf || gc_byte_level_decode(key, klen, buf, &n))
      return REFUSE(r, "%s: vocabulary token \"%.40s\" is not in the byte-level alphabet (only byte-level BPE "
                       "is supported)", r->path, key);
    gc_diag sub = {0};
    if (gc_tok_add_token(r->t, (int32_t)json_integer_value(val), buf, n, &sub))
      return REFUSE(r, "%s: model.vocab: %s", r->path, sub.msg);
  }
  return 0;
}

/* The id of byte-level token text s[0..len), or -1. */
static int32_t token_id(const gc_tokenizer *t, const char *s, size_t len) {
  uint8_t buf[1024];
  size_t n;
  if (len > sizeof buf || gc_byte_level_decode(s, len, buf, &n)) return -1;
  return gc_wordmap_get(&t->vocab, buf, n);
}

static int read_merges(reader *r, const json_t *merges) {
  if (!json_is_array(merges)) return REFUSE(r, "%s: model.merges is not an array", r->path);
  size_t i;
  const json_t *m;
  json_array_foreach(merges, i, m) {
    const char *a, *b;
    size_t la, lb;
    if (json_is_string(m)) {   /* "a b" */
      a = json_string_value(m);
      const char *sp = strchr(a, ' ');
      if (!sp || strchr(sp + 1, ' ')) return REFUSE(r, "%s: merge %zu \"%.40s\" is not two tokens", r->path, i, a);
      la = (size_t)(sp - a), b = sp + 1, lb = strlen(b);
    } else if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
               json_is_string(json_array_get(m, 1))) {
      a = json_string_value(json_array_get(m, 0)), la = json_string_length(json_array_get(m, 0));
      b = json_string_value(json_array_get(m, 1)), lb = json_string_length(json_array_get(m, 1));
    } else {
      return REFUSE(r, "%s: merge %zu is neither \"a b\" nor [\"a\", \"b\"]", r->path, i);
    }
    int32_t left = token_id(r->t, a, la), right = token_id(r->t, b, lb);
    if (left < 0 || right < 0)
      return REFUSE(r, "%s: merge %zu uses \"%.*s\", which is not in the vocabulary", r->path, i,
                    left < 0 ? (int)(la > 40 ? 40 : la) : (int)(lb > 40 ? 40 : lb), left < 0 ? a : b);
    gc_diag sub = {0};
    if (gc_tok_add_merge(r->t, left, right, -1, &sub)) return REFUSE(r, "%s: %s", r->path, sub.msg);
  }
  return 0;
}

static int read_model(reader *r, const json_t *model) {
  if (!json_is_object(model)) return REFUSE(r, "%s: no \"model\" object", r->path);
  const char *type = json_string_value(json_object_get(model, "type"));
  if (type && strcmp(type, "BPE") != 0)
    return REFUSE(r, "%s: model %s is not supported (gc reads byte-level BPE tokenizers only)", r->path, type);
  if (flag(model, "byte_fallback", false)) return REFUSE(r, "%s: BPE byte_fallback is not supported", r->path);
  const json_t *dropout = json_object_get(model, "dropout");
  if (json_is_number(dropout) && json_number_value(dropout) != 0)
    return REFUSE(r, "%s: BPE dropout is not supported", r->path);
  const char *keys[] = {"continuing_subword_prefix", "end_of_word_suffix"};
  for (int k = 0; k < 2; k++) {
    const char *s = json_string_value(json_object_get(model, keys[k]));
    if (s && *s) return REFUSE(r, "%s: BPE %s \"%s\" is not supported", r->path, keys[k], s);
  }
  r->t->ignore_merges = flag(model, "ignore_merges", false);
  gc_diag sub = {0};
  if (read_vocab(r, json_object_get(model, "vocab"))) return -1;
  if (gc_tok_index_vocab(r->t, &sub)) return REFUSE(r, "%s: %s", r->path, sub.msg);
  return read_merges(r, json_object_get(model, "merges"));
}

/* ---- the pipeline ------------------------------------------------------------ */

static int read_normalizer(reader *r, const json_t *n) {
  if (!n || json_is_null(n)) return 0;
  const char *type = type_of(n);
  if (strcmp(type, "NFC") == 0) {
    r->t->nfc = true;
    return 0;
  }
  if (strcmp(type, "Sequence") == 0) {
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(n, "normalizers"), i, e) if (read_normalizer(r, e)) return -1;
    return 0;
  }
  return REFUSE(r, "%s: normalizer %s is not supported (only NFC)", r->path, type);
}

static int add_split(reader *r, const char *pattern, bool literal) {
  gc_diag sub = {0};
  return gc_tok_add_split(r->t, pattern, literal, &sub) ? REFUSE(r, "%s: %s", r->path, sub.msg) : 0;
}

static int read_byte_level(reader *r, const json_t *p) {
  r->t->add_prefix_space = flag(p, "add_prefix_space", true);
  r->t->byte_level_regex = flag(p, "use_regex", true);
  return r->t->byte_level_regex ? add_split(r, gc_gpt2_pattern, false) : 0;
}

static int read_split(reader *r, const json_t *p) {
  const char *behavior = json_string_value(json_object_get(p, "behavior"));
  if (!behavior || strcmp(behavior, "Isolated") != 0)
    return REFUSE(r, "%s: Split pre-tokenizer behavior %s is not supported (only Isolated)", r->path,
                  behavior ? behavior : "(none)");
  if (flag(p, "invert", false)) return REFUSE(r, "%s: inverted Split pre-tokenizer is not supported", r->path);
  const json_t *pat = json_object_get(p, "pattern");
  const char *re = json_string_value(json_object_get(pat, "Regex"));
  const char *lit = json_string_value(json_object_get(pat, "String"));
  if (!re && !lit) return REFUSE(r, "%s: Split pre-tokenizer without a Regex or String pattern", r->path);
  return add_split(r, re ? re : lit, !re);
}

static int read_pre_tokenizer(reader *r, const json_t *p) {
  if (!p || json_is_null(p))
    return REFUSE(r, "%s: no pre_tokenizer (gc reads byte-level BPE: a ByteLevel pre-tokenizer is needed)", r->path);
  const char *type = type_of(p);
  if (strcmp(type, "ByteLevel") == 0) return read_byte_level(r, p);
  if (strcmp(type, "Split") == 0)
    return REFUSE(r, "%s: a Split pre-tokenizer without ByteLevel is not supported (not byte-level BPE)", r->path);
  if (strcmp(type, "Sequence") != 0) return REFUSE(r, "%s: pre-tokenizer %s is not supported", r->path, type);
  const json_t *list = json_object_get(p, "pretokenizers");
  size_t n = json_array_size(list), i;
  const json_t *e;
  json_array_foreach(list, i, e) {
    const char *ty = type_of(e);
    if (strcmp(ty, "Split") == 0) {
      if (read_split(r, e)) return -1;
    } else if (strcmp(ty, "ByteLevel") == 0) {
      if (i + 1 != n) return REFUSE(r, "%s: a pre-tokenizer after ByteLevel is not supported", r->path);
      return read_byte_level(r, e);
    } else {
      return REFUSE(r, "%s: pre-tokenizer %s is not supported", r->path, ty);
    }
  }
  return REFUSE(r, "%s: pre-tokenizer Sequence without ByteLevel is not supported (not byte-level BPE)", r->path);
}

static int read_processor(reader *r, const json_t *p, const char *what) {
  if (!p || json_is_null(p) || strcmp(type_of(p), "ByteLevel") == 0) return 0;
  if (strcmp(what, "post_processor") == 0 && strcmp(type_of(p), "Sequence") == 0) {
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(p, "processors"), i, e) if (read_processor(r, e, what)) return -1;
    return 0;
  }
  return REFUSE(r, "%s: %s %s is not supported (only ByteLevel)", r->path, what, type_of(p));
}

static int read_added(reader *r, const json_t *list) {
  size_t i;
  const json_t *a;
  json_array_foreach(list, i, a) {
    const char *text = json_string_value(json_object_get(a, "content"));
    const json_t *id = json_object_get(a, "id");
    if (!text || !json_is_integer(id)) return REFUSE(r, "%s: added_tokens[%zu] lacks an id or content", r->path, i);
    const char *opts[] = {"lstrip", "rstrip", "single_word"};
    for (int k = 0; k < 3; k++)
      if (flag(a, opts[k], false))
        return REFUSE(r, "%s: added token \"%.40s\" uses %s, which is not supported", r->path, text, opts[k]);
    gc_diag sub = {0};
    if (gc_tok_add_added(r->t, (int32_t)json_integer_value(id), text, flag(a, "special", false),
                         flag(a, "normalized", !flag(a, "special", false)), &sub))
      return REFUSE(r, "%s: %s", r->path, sub.msg);
  }
  return 0;
}

int gc_tok_json_error(gc_diag *d, const char *path, const json_error_t *err) {
  /* jansson quotes the text near the error, which may hold any byte: the
   * message stays one printable line. */
  char text[JSON_ERROR_TEXT_LENGTH];
  size_t n = 0;
  for (const unsigned char *c = (const unsigned char *)err->text; *c && n + 1 < sizeof text; c++)
    text[n++] = *c < 0x20 || *c == 0x7f ? '?' : (char)*c;
  text[n] = 0;
  return gc_diag_set(d, "%s:%d:%d: %s", path, err->line, err->column, text);
}

gc_tokenizer *gc_tokenizer_read_json(const char *path, gc_diag *d) {
  size_t len;
  char *text = gc_read_file_max(path, (size_t)1 << 30, &len, d);
  if (!text) return NULL;
  json_error_t err;
  json_t *root = json_loadb(text, len, 0, &err);
  free(text);
  if (!root || !json_is_object(root)) {
    if (root) gc_diag_set(d, "%s: not a JSON object", path);
    else gc_tok_json_error(d, path, &err);
    json_decref(root);
    return NULL;
  }
  reader r = {path, d, gc_tok_new(d)};
  gc_diag sub = {0};
  int rc = !r.t || read_model(&r, json_object_get(root, "model")) ||
           read_normalizer(&r, json_object_get(root, "normalizer")) ||
           read_pre_tokenizer(&r, json_object_get(root, "pre_tokenizer")) ||
           read_processor(&r, json_object_get(root, "post_processor"), "post_processor") ||
           read_processor(&r, json_object_get(root, "decoder"), "decoder") ||
           read_added(&r, json_object_get(root, "added_tokens"));
  if (!rc && gc_tok_finish(r.t, &sub)) rc = REFUSE(&r, "%s: %s", path, sub.msg);
  json_decref(root);
  if (rc) {
    gc_tokenizer_free(r.t);
    return NULL;
  }
  return r.t;
}
