/* text/tokenizer.c — the tokenizer object: the builder every way of making
 * one goes through (training, tokenizer.json, vocab.json + merges.txt), gc's
 * training layout, accessors and decoding. */
#include "text/bpe_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- the builder ---------------------------------------------------------- */

gc_tokenizer *gc_tok_new(gc_diag *d) {
  gc_tokenizer *t = calloc(1, sizeof *t);
  if (!t) {
    gc_diag_set(d, "tokenizer: out of memory");
    return NULL;
  }
  for (int b = 0; b < 256; b++) t->byte_id[b] = -1;
  return t;
}

/* Makes ids 0..id exist (new ones are not tokens). */
static int reserve_ids(gc_tokenizer *t, int32_t id, gc_diag *d) {
  if (id < 0 || id >= (1 << 26)) return gc_diag_set(d, "tokenizer: token id %d out of range", (int)id);
  if (id < t->vocab_size) return 0;
  if (id >= t->cap_ids) {   /* ids come in any order: grow geometrically */
    int cap = t->cap_ids ? t->cap_ids : 1024;
    while (cap <= id) cap *= 2;
    uint32_t *off = realloc(t->tok_off, (size_t)cap * sizeof *off);
    if (off) t->tok_off = off;
    uint32_t *len = realloc(t->tok_len, (size_t)cap * sizeof *len);
    if (len) t->tok_len = len;
    uint8_t *model = realloc(t->is_model, (size_t)cap);
    if (model) t->is_model = model;
    if (!off || !len || !model) return gc_diag_set(d, "tokenizer: out of memory");
    t->cap_ids = cap;
  }
  for (int i = t->vocab_size; i <= id; i++) t->tok_off[i] = GC_NO_TOKEN, t->tok_len[i] = 0, t->is_model[i] = 0;
  t->vocab_size = id + 1;
  return 0;
}

static int store_bytes(gc_tokenizer *t, int32_t id, const uint8_t *p, size_t len, gc_diag *d) {
  if (t->n_bytes + len > UINT32_MAX - 1) return gc_diag_set(d, "tokenizer: vocabulary bytes exceed 4 GiB");
  if (t->n_bytes + len > t->cap_bytes) {
    size_t cap = t->cap_bytes ? t->cap_bytes : 4096;
    while (cap < t->n_bytes + len) cap *= 2;
    uint8_t *b = realloc(t->bytes, cap);
    if (!b) return gc_diag_set(d, "tokenizer: out of memory");
    t->bytes = b, t->cap_bytes = cap;
  }
  if (len) memcpy(t->bytes + t->n_bytes, p, len);
  t->tok_off[id] = (uint32_t)t->n_bytes;
  t->tok_len[id] = (uint32_t)len;
  t->n_bytes += len;
  return 0;
}

int gc_tok_add_token(gc_tokenizer *t, int32_t id, const uint8_t *bytes, size_t len, gc_diag *d) {
  if (reserve_ids(t, id, d)) return -1;
  if (t->tok_off[id] != GC_NO_TOKEN) return gc_diag_set(d, "tokenizer: token id %d given twice", (int)id);
  if (len == 0) return gc_diag_set(d, "tokenizer: token %d is empty", (int)id);
  if (store_bytes(t, id, bytes, len, d)) return -1;
  t->is_model[id] = 1;
  if (id + 1 > t->n_vocab) t->n_vocab = id + 1;
  return 0;
}

/* The vocabulary's bytes -> id map (keys point into t->bytes, so it is
 * rebuilt whenever bytes are added). */
static int index_vocab(gc_tokenizer *t, gc_diag *d) {
  gc_wordmap_free(&t->vocab);
  if (gc_wordmap_init(&t->vocab, (size_t)t->n_vocab) < 0) return gc_diag_set(d, "tokenizer: out of memory");
  for (int id = 0; id < t->n_vocab; id++) {
    if (!t->is_model[id]) continue;
    int added;
    const uint8_t *p = t->bytes + t->tok_off[id];
    if (gc_wordmap_intern(&t->vocab, p, t->tok_len[id], id, &added) < 0)
      return gc_diag_set(d, "tokenizer: out of memory");
    if (t->tok_len[id] == 1 && t->byte_id[p[0]] < 0) t->byte_id[p[0]] = id;
  }
  return 0;
}

int gc_tok_index_vocab(gc_tokenizer *t, gc_diag *d) {
  if (index_vocab(t, d)) return -1;
  return gc_u64map_init(&t->merge_rank, (size_t)t->n_vocab) < 0 ? gc_diag_set(d, "tokenizer: out of memory") : 0;
}

static bool is_model_token(const gc_tokenizer *t, int32_t id) {
  return id >= 0 && id < t->n_vocab && t->is_model[id];
}

int gc_tok_add_merge(gc_tokenizer *t, int32_t left, int32_t right, int32_t out, gc_diag *d) {
  if (!is_model_token(t, left) || !is_model_token(t, right))
    return gc_diag_set(d, "tokenizer: merge %d uses a token id that is not in the vocabulary", t->n_merges);
  uint32_t ll = t->tok_len[left], lr = t->tok_len[right];
  if (out < 0) {
    uint8_t small[256], *both = (size_t)ll + lr <= sizeof small ? small : malloc((size_t)ll + lr);
    if (!both) return gc_diag_set(d, "tokenizer: out of memory");
    memcpy(both, t->bytes + t->tok_off[left], ll);
    memcpy(both + ll, t->bytes + t->tok_off[right], lr);
    out = gc_wordmap_get(&t->vocab, both, (size_t)ll + lr);
    if (both != small) free(both);
    if (out < 0)
      return gc_diag_set(d, "tokenizer: merge %d (tokens %d %d) makes a token that is not in the vocabulary",
                         t->n_merges, (int)left, (int)right);
  }
  if (!is_model_token(t, out) || t->tok_len[out] != ll + lr)
    return gc_diag_set(d, "tokenizer: merge %d makes token %d, which is not its two parts joined", t->n_merges,
                       (int)out);
  if (t->n_merges == t->cap_merges) {
    int cap = t->cap_merges ? 2 * t->cap_merges : 1024;
    int32_t *m = realloc(t->merges, (size_t)cap * 2 * sizeof *m);
    if (m) t->merges = m;
    int32_t *o = realloc(t->merge_out, (size_t)cap * sizeof *o);
    if (o) t->merge_out = o;
    if (!m || !o) return gc_diag_set(d, "tokenizer: out of memory");
    t->cap_merges = cap;
  }
  int r = t->n_merges++;
  t->merges[2 * r] = left, t->merges[2 * r + 1] = right, t->merge_out[r] = out;
  /* As Hugging Face's map: a repeated pair takes its last rank. */
  return gc_u64map_put(&t->merge_rank, gc_bpe_pair_key(left, right), r) < 0
             ? gc_diag_set(d, "tokenizer: out of memory")
             : 0;
}

int gc_tok_add_added(gc_tokenizer *t, int32_t id, const char *text, bool special, bool normalized,
                     gc_diag *d) {
  size_t len = strlen(text);
  if (len == 0) return gc_diag_set(d, "tokenizer: added token %d is empty", (int)id);
  if (reserve_ids(t, id, d)) return -1;
  for (int k = 0; k < t->n_added; k++)
    if (t->added[k].id == id) return gc_diag_set(d, "tokenizer: added token id %d given twice", (int)id);
  gc_added_token *a = realloc(t->added, ((size_t)t->n_added + 1) * sizeof *a);
  if (!a) return gc_diag_set(d, "tokenizer: out of memory");
  t->added = a;
  char *copy = strdup(text);
  if (!copy) return gc_diag_set(d, "tokenizer: out of memory");
  t->added[t->n_added++] = (gc_added_token){id, copy, (uint32_t)len, special, normalized};
  return 0;
}

int gc_tok_add_split(gc_tokenizer *t, const char *pattern, bool literal, gc_diag *d) {
  gc_split *s = realloc(t->splits, ((size_t)t->n_splits + 1) * sizeof *s);
  if (!s) return gc_diag_set(d, "tokenizer: out of memory");
  t->splits = s;
  if (gc_split_init(&t->splits[t->n_splits], pattern, literal, d)) return -1;
  t->n_splits++;
  return 0;
}

int gc_tok_finish(gc_tokenizer *t, gc_diag *d) {
  if (!t->vocab.slots) return gc_diag_set(d, "tokenizer: no vocabulary");
  /* An added token's id decodes to its text (also when the vocabulary has the
   * id: GPT-2's <|endoftext|> is both). */
  size_t cap_before = t->cap_bytes;
  for (int k = 0; k < t->n_added; k++) {
    const gc_added_token *a = &t->added[k];
    if (t->tok_off[a->id] == GC_NO_TOKEN || t->tok_len[a->id] != a->len ||
        memcmp(t->bytes + t->tok_off[a->id], a->text, a->len) != 0)
      if (store_bytes(t, a->id, (const uint8_t *)a->text, a->len, d)) return -1;
  }
  if (t->cap_bytes != cap_before && index_vocab(t, d)) return -1;   /* bytes moved: so did the map's keys */
  memset(t->added_first, 0, sizeof t->added_first);
  for (int k = 0; k < t->n_added; k++) t->added_first[(uint8_t)t->added[k].text[0]] = true;
  return 0;
}

/* ---- gc's training layout ------------------------------------------------- */

static int check_special(const char *s, gc_diag *d) {
  if (!s) return gc_diag_set(d, "tokenizer: special token is NULL");
  size_t n = strlen(s);
  if (n == 0) return gc_diag_set(d, "tokenizer: special token is empty");
  if (n > GC_BPE_MAX_SPECIAL)
    return gc_diag_set(d, "tokenizer: special token longer than %d bytes", GC_BPE_MAX_SPECIAL);
  for (size_t i = 0; i < n; i++) {
    uint8_t c = (uint8_t)s[i];
    if (c <= 0x20 || c == 0x7f)
      return gc_diag_set(d, "tokenizer: special token \"%s\" contains a space or control byte 0x%02x",
                         s, c);
  }
  return 0;
}

int gc_bpe_check_specials(const char *const *specials, int n_specials, gc_diag *d) {
  if (n_specials < 0) return gc_diag_set(d, "tokenizer: negative number of special tokens");
  if (n_specials > 0 && !specials) return gc_diag_set(d, "tokenizer: special tokens array is NULL");
  for (int k = 0; k < n_specials; k++) {
    if (check_special(specials[k], d) < 0) return -1;
    for (int j = 0; j < k; j++)
      if (strcmp(specials[j], specials[k]) == 0)
        return gc_diag_set(d, "tokenizer: special token \"%s\" given twice", specials[k]);
  }
  return 0;
}

static int check_merges(const int32_t *merges, int n_merges, gc_diag *d) {
  if (n_merges < 0) return gc_diag_set(d, "tokenizer: negative number of merges");
  if (n_merges > 0 && !merges) return gc_diag_set(d, "tokenizer: merges array is NULL");
  if (n_merges > (1 << 24)) return gc_diag_set(d, "tokenizer: too many merges (%d)", n_merges);
  for (int i = 0; i < n_merges; i++)
    for (int s = 0; s < 2; s++) {
      int32_t id = merges[2 * i + s];
      if (id < 0 || id >= 256 + i)
        return gc_diag_set(d, "tokenizer: merge %d uses token %d, which is not defined before it "
                              "(must be in 0..%d)", i, (int)id, 256 + i - 1);
    }
  return 0;
}

static int build_layout(gc_tokenizer *t, const int32_t *merges, int n_merges, const char *const *specials,
                        int n_specials, gc_diag *d) {
  for (int b = 0; b < 256; b++) {
    uint8_t byte = (uint8_t)b;
    if (gc_tok_add_token(t, b, &byte, 1, d)) return -1;
  }
  uint8_t *buf = NULL;
  for (int i = 0; i < n_merges; i++) {
    int32_t l = merges[2 * i], r = merges[2 * i + 1];
    size_t ll = t->tok_len[l], lr = t->tok_len[r];
    uint8_t *nb = realloc(buf, ll + lr);
    if (!nb) {
      free(buf);
      return gc_diag_set(d, "tokenizer: out of memory");
    }
    buf = nb;
    memcpy(buf, t->bytes + t->tok_off[l], ll);   /* copy first: add_token may move bytes */
    memcpy(buf + ll, t->bytes + t->tok_off[r], lr);
    if (gc_tok_add_token(t, 256 + i, buf, ll + lr, d)) {
      free(buf);
      return -1;
    }
  }
  free(buf);
  if (gc_tok_index_vocab(t, d)) return -1;
  for (int i = 0; i < n_merges; i++) {
    if (gc_u64map_get(&t->merge_rank, gc_bpe_pair_key(merges[2 * i], merges[2 * i + 1])) >= 0)
      return gc_diag_set(d, "tokenizer: merge %d (%d %d) repeats an earlier merge", i, (int)merges[2 * i],
                         (int)merges[2 * i + 1]);
    if (gc_tok_add_merge(t, merges[2 * i], merges[2 * i + 1], 256 + i, d)) return -1;
  }
  for (int k = 0; k < n_specials; k++)
    if (gc_tok_add_added(t, 256 + n_merges + k, specials[k], true, false, d)) return -1;
  t->byte_level_regex = true;
  if (gc_tok_add_split(t, gc_gpt2_pattern, false, d)) return -1;
  return gc_tok_finish(t, d);
}

gc_tokenizer *gc_tokenizer_from_merges(const int32_t *merges, int n_merges,
                                       const char *const *specials, int n_specials,
                                       gc_diag *d) {
  if (check_merges(merges, n_merges, d) < 0 || gc_bpe_check_specials(specials, n_specials, d) < 0)
    return NULL;
  gc_tokenizer *t = gc_tok_new(d);
  if (t && build_layout(t, merges, n_merges, specials, n_specials, d)) {
    gc_tokenizer_free(t);
    return NULL;
  }
  return t;
}

void gc_tokenizer_free(gc_tokenizer *t) {
  if (!t) return;
  for (int k = 0; k < t->n_added; k++) free(t->added[k].text);
  free(t->added);
  for (int k = 0; k < t->n_splits; k++) gc_split_free(&t->splits[k]);
  free(t->splits);
  free(t->merges);
  free(t->merge_out);
  free(t->tok_off);
  free(t->tok_len);
  free(t->is_model);
  free(t->bytes);
  gc_wordmap_free(&t->vocab);
  gc_u64map_free(&t->merge_rank);
  free(t);
}

/* ---- accessors ---------------------------------------------------------- */

int gc_tokenizer_vocab_size(const gc_tokenizer *t) { return t->vocab_size; }
int gc_tokenizer_n_merges(const gc_tokenizer *t) { return t->n_merges; }

int gc_tokenizer_merge(const gc_tokenizer *t, int i, int32_t *left, int32_t *right) {
  if (i < 0 || i >= t->n_merges) return -1;
  *left = t->merges[2 * i];
  *right = t->merges[2 * i + 1];
  return 0;
}

int gc_tokenizer_special_id(const gc_tokenizer *t, const char *special) {
  if (!special) return -1;
  for (int k = 0; k < t->n_added; k++)
    if (strcmp(t->added[k].text, special) == 0) return t->added[k].id;
  return gc_wordmap_get(&t->vocab, (const uint8_t *)special, strlen(special));
}

const uint8_t *gc_tokenizer_token_bytes(const gc_tokenizer *t, int id, size_t *len) {
  if (id < 0 || id >= t->vocab_size || t->tok_off[id] == GC_NO_TOKEN) {
    if (len) *len = 0;
    return NULL;
  }
  if (len) *len = t->tok_len[id];
  return t->bytes + t->tok_off[id];
}

/* ---- decoding ----------------------------------------------------------- */

int gc_tokenizer_decode(const gc_tokenizer *t, const int32_t *ids, size_t n,
                        uint8_t **out, size_t *len) {
  *out = NULL;
  *len = 0;
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    if (ids[i] < 0 || ids[i] >= t->vocab_size || t->tok_off[ids[i]] == GC_NO_TOKEN) return -1;
    if (total > SIZE_MAX - 1 - t->tok_len[ids[i]]) return -1;
    total += t->tok_len[ids[i]];
  }
  uint8_t *buf = malloc(total + 1);
  if (!buf) return -1;
  size_t off = 0;
  for (size_t i = 0; i < n; i++) {
    memcpy(buf + off, t->bytes + t->tok_off[ids[i]], t->tok_len[ids[i]]);
    off += t->tok_len[ids[i]];
  }
  buf[total] = 0;
  *out = buf;
  *len = total;
  return 0;
}
