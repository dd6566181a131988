/* text/tokenizer.c — the BPE tokenizer object: building it from a merge
 * list, encoding (cached per unique word), decoding, accessors. */
#include "text/bpe_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- construction ------------------------------------------------------- */

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

/* Fills tok_off/tok_len/bytes for all ids.  Token bytes of merge i are the
 * concatenation of its parts, so a token's length stays below 2^24 * 2^k;
 * the total is checked against uint32 range. */
static int build_token_bytes(gc_tokenizer *t, gc_diag *d) {
  int v = t->vocab_size;
  uint64_t total = 256;
  t->tok_off = malloc((size_t)v * sizeof *t->tok_off);
  t->tok_len = malloc((size_t)v * sizeof *t->tok_len);
  if (!t->tok_off || !t->tok_len) return gc_diag_set(d, "tokenizer: out of memory");
  for (int i = 0; i < 256; i++) t->tok_len[i] = 1;
  for (int i = 0; i < t->n_merges; i++) {
    uint64_t n = (uint64_t)t->tok_len[t->merges[2 * i]] + t->tok_len[t->merges[2 * i + 1]];
    if (n > UINT32_MAX / 2) return gc_diag_set(d, "tokenizer: merge %d makes a token too long", i);
    t->tok_len[256 + i] = (uint32_t)n;
    total += n;
  }
  for (int k = 0; k < t->n_specials; k++) {
    t->tok_len[256 + t->n_merges + k] = (uint32_t)strlen(t->specials[k]);
    total += t->tok_len[256 + t->n_merges + k];
  }
  if (total > UINT32_MAX) return gc_diag_set(d, "tokenizer: vocabulary bytes exceed 4 GiB");
  t->bytes = malloc((size_t)total);
  if (!t->bytes) return gc_diag_set(d, "tokenizer: out of memory");
  uint32_t off = 0;
  for (int i = 0; i < v; i++) {
    t->tok_off[i] = off;
    if (i < 256) {
      t->bytes[off] = (uint8_t)i;
    } else if (i < 256 + t->n_merges) {
      int32_t l = t->merges[2 * (i - 256)], r = t->merges[2 * (i - 256) + 1];
      memcpy(t->bytes + off, t->bytes + t->tok_off[l], t->tok_len[l]);
      memcpy(t->bytes + off + t->tok_len[l], t->bytes + t->tok_off[r], t->tok_len[r]);
    } else {
      memcpy(t->bytes + off, t->specials[i - 256 - t->n_merges], t->tok_len[i]);
    }
    off += t->tok_len[i];
  }
  return 0;
}

static int build_merge_map(gc_tokenizer *t, gc_diag *d) {
  if (gc_u64map_init(&t->merge_id, (size_t)t->n_merges) < 0)
    return gc_diag_set(d, "tokenizer: out of memory");
  for (int i = 0; i < t->n_merges; i++) {
    uint64_t key = gc_bpe_pair_key(t->merges[2 * i], t->merges[2 * i + 1]);
    if (gc_u64map_get(&t->merge_id, key) >= 0)
      return gc_diag_set(d, "tokenizer: merge %d (%d %d) repeats an earlier merge", i,
                         (int)t->merges[2 * i], (int)t->merges[2 * i + 1]);
    if (gc_u64map_put(&t->merge_id, key, 256 + i) < 0)
      return gc_diag_set(d, "tokenizer: out of memory");
  }
  return 0;
}

static int copy_specials(gc_tokenizer *t, const char *const *specials, int n, gc_diag *d) {
  t->specials = calloc((size_t)n + 1, sizeof *t->specials);
  if (!t->specials) return gc_diag_set(d, "tokenizer: out of memory");
  for (int k = 0; k < n; k++) {
    t->specials[k] = strdup(specials[k]);
    if (!t->specials[k]) return gc_diag_set(d, "tokenizer: out of memory");
    t->n_specials = k + 1;
  }
  return 0;
}

gc_tokenizer *gc_tokenizer_from_merges(const int32_t *merges, int n_merges,
                                       const char *const *specials, int n_specials,
                                       gc_diag *d) {
  if (check_merges(merges, n_merges, d) < 0 || gc_bpe_check_specials(specials, n_specials, d) < 0)
    return NULL;
  gc_tokenizer *t = calloc(1, sizeof *t);
  if (!t) {
    gc_diag_set(d, "tokenizer: out of memory");
    return NULL;
  }
  t->n_merges = n_merges;
  t->merges = malloc(((size_t)n_merges * 2 + 1) * sizeof *t->merges);
  if (!t->merges) {
    gc_diag_set(d, "tokenizer: out of memory");
    gc_tokenizer_free(t);
    return NULL;
  }
  if (n_merges > 0) memcpy(t->merges, merges, (size_t)n_merges * 2 * sizeof *merges);
  if (copy_specials(t, specials, n_specials, d) < 0) {
    gc_tokenizer_free(t);
    return NULL;
  }
  t->vocab_size = 256 + n_merges + n_specials;
  if (build_token_bytes(t, d) < 0 || build_merge_map(t, d) < 0) {
    gc_tokenizer_free(t);
    return NULL;
  }
  return t;
}

void gc_tokenizer_free(gc_tokenizer *t) {
  if (!t) return;
  for (int k = 0; k < t->n_specials; k++) free(t->specials[k]);
  free(t->specials);
  free(t->merges);
  free(t->tok_off);
  free(t->tok_len);
  free(t->bytes);
  gc_u64map_free(&t->merge_id);
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
  for (int k = 0; k < t->n_specials; k++)
    if (strcmp(t->specials[k], special) == 0) return 256 + t->n_merges + k;
  return -1;
}

const uint8_t *gc_tokenizer_token_bytes(const gc_tokenizer *t, int id, size_t *len) {
  if (id < 0 || id >= t->vocab_size) {
    if (len) *len = 0;
    return NULL;
  }
  if (len) *len = t->tok_len[id];
  return t->bytes + t->tok_off[id];
}

/* ---- encoding ----------------------------------------------------------- */

typedef struct {
  int32_t *v;
  size_t n, cap;
} id_vec;

static int id_vec_reserve(id_vec *x, size_t extra) {
  if (x->n + extra <= x->cap) return 0;
  size_t cap = x->cap ? x->cap : 256;
  while (cap < x->n + extra) cap *= 2;
  int32_t *v = realloc(x->v, cap * sizeof *v);
  if (!v) return -1;
  x->v = v;
  x->cap = cap;
  return 0;
}

/* Encodes one word into sym[0..*n) (sym has room for len ids): start from
 * bytes, then repeatedly apply the earliest-learned merge present, at every
 * place it occurs, left to right.  Equivalent to applying all merges in
 * training order. */
static size_t encode_word(const gc_tokenizer *t, const uint8_t *w, size_t len, int32_t *sym) {
  size_t n = len;
  for (size_t i = 0; i < n; i++) sym[i] = w[i];
  while (n > 1) {
    int32_t best = -1, best_left = 0, best_right = 0;
    for (size_t i = 0; i + 1 < n; i++) {
      int32_t id = gc_u64map_get(&t->merge_id, gc_bpe_pair_key(sym[i], sym[i + 1]));
      if (id >= 0 && (best < 0 || id < best)) {
        best = id;
        best_left = sym[i];
        best_right = sym[i + 1];
      }
    }
    if (best < 0) break;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
      if (i + 1 < n && sym[i] == best_left && sym[i + 1] == best_right) {
        sym[j++] = best;
        i++;
      } else {
        sym[j++] = sym[i];
      }
    }
    n = j;
  }
  return n;
}

/* Cached encoding of one unique word: ids pool[off..off+n). */
typedef struct {
  size_t off, n;
} cached_word;

typedef struct {
  gc_wordmap map;
  cached_word *words;
  size_t n_words, cap_words;
  id_vec pool;
} word_cache;

static void word_cache_free(word_cache *c) {
  gc_wordmap_free(&c->map);
  free(c->words);
  free(c->pool.v);
}

/* Appends the ids of word w to out, encoding it on a cache miss. */
static int encode_cached(const gc_tokenizer *t, word_cache *c, const uint8_t *w, size_t len,
                         id_vec *out) {
  if (c->n_words == c->cap_words) {
    size_t cap = c->cap_words ? 2 * c->cap_words : 1024;
    cached_word *words = realloc(c->words, cap * sizeof *words);
    if (!words) return -1;
    c->words = words;
    c->cap_words = cap;
  }
  int added;
  int32_t idx = gc_wordmap_intern(&c->map, w, len, (int32_t)c->n_words, &added);
  if (idx < 0) return -1;
  if (added) {
    if (id_vec_reserve(&c->pool, len) < 0) return -1;
    size_t n = encode_word(t, w, len, c->pool.v + c->pool.n);
    c->words[c->n_words++] = (cached_word){c->pool.n, n};
    c->pool.n += n;
  }
  cached_word cw = c->words[idx];
  if (id_vec_reserve(out, cw.n) < 0) return -1;
  memcpy(out->v + out->n, c->pool.v + cw.off, cw.n * sizeof *out->v);
  out->n += cw.n;
  return 0;
}

int gc_tokenizer_encode(const gc_tokenizer *t, const uint8_t *text, size_t len,
                        int32_t **ids, size_t *n) {
  *ids = NULL;
  *n = 0;
  if (len == 0) return 0;
  if (len > (size_t)INT32_MAX) return -1;   /* the word cache indexes with int32 */
  word_cache c = {0};
  id_vec out = {0};
  int rc = gc_wordmap_init(&c.map, 1024);
  for (size_t i = 0; rc == 0 && i < len;) {
    size_t end = gc_bpe_word_end(text, len, i);
    rc = encode_cached(t, &c, text + i, end - i, &out);
    i = end;
  }
  word_cache_free(&c);
  if (rc < 0) {
    free(out.v);
    return -1;
  }
  *ids = out.v;
  *n = out.n;
  return 0;
}

/* ---- decoding ----------------------------------------------------------- */

int gc_tokenizer_decode(const gc_tokenizer *t, const int32_t *ids, size_t n,
                        uint8_t **out, size_t *len) {
  *out = NULL;
  *len = 0;
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    if (ids[i] < 0 || ids[i] >= t->vocab_size) return -1;
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
