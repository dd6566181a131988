/* text/bpe_encode.c — encoding, as Hugging Face's tokenizers does it:
 * added tokens split out first (those matched on the raw text, then, after
 * normalizing the stretches between, those matched on normalized text);
 * each stretch NFC-normalised when the tokenizer says so, cut by the
 * pre-tokenizer regexes in turn, and each piece BPE-encoded: the
 * lowest-ranked merge present, the leftmost of equals, until none applies.
 * Pieces are cached per call (text -> ids), so a repeated word costs one
 * hash lookup.  Invalid UTF-8 (which Hugging Face never sees) is encoded a
 * byte at a time, so every byte string round-trips. */
#include "text/bpe_internal.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

typedef struct {
  uint64_t hash;
  uint32_t key_off, key_len;   /* in keys */
  uint32_t ids_off, n_ids;     /* in pool */
  int used;
} cache_slot;

typedef struct {
  const gc_tokenizer *t;
  void *region;
  int32_t *ids;
  size_t n, cap;
  cache_slot *slots;
  size_t cap_slots, n_slots;
  uint8_t *keys;
  size_t n_keys, cap_keys;
  int32_t *pool;
  size_t n_pool, cap_pool;
  int32_t *sym, *rank;         /* scratch of one piece's merging */
  size_t cap_sym, cap_rank;
  gc_piece_fn on_piece;        /* set: hand pieces to it instead of encoding */
  void *piece_ctx;
} encoder;

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return 0;
  size_t c = *cap ? *cap : 256;
  while (c < need) c *= 2;
  void *q = realloc(*p, c * elem);
  if (!q) return -1;
  *p = q;
  *cap = c;
  return 0;
}

static int emit(encoder *e, const int32_t *ids, size_t n) {
  if (e->on_piece) return 0;
  if (grow((void **)&e->ids, &e->cap, e->n + n, sizeof *e->ids)) return -1;
  memcpy(e->ids + e->n, ids, n * sizeof *ids);
  e->n += n;
  return 0;
}

static int emit_byte(encoder *e, uint8_t b) {
  int32_t id = e->t->byte_id[b];
  return id < 0 ? 0 : emit(e, &id, 1);   /* Hugging Face drops a byte without a token */
}

/* ---- BPE of one piece ------------------------------------------------------ */

#define NO_RANK INT32_MAX

static int32_t pair_rank(const gc_tokenizer *t, int32_t a, int32_t b) {
  int32_t r = gc_u64map_get(&t->merge_rank, gc_bpe_pair_key(a, b));
  return r < 0 ? NO_RANK : r;
}

/* ---- a long piece: a heap of (rank, position), as Hugging Face's
 * Word::merge_all, so a piece of n bytes costs O(n log n), not O(n^2) ---- */

typedef struct {
  uint64_t *v;   /* rank << 32 | left position: the smallest is the next merge */
  size_t n;
} pair_heap;

static void heap_push(pair_heap *h, uint64_t x) {
  size_t i = h->n++;
  while (i > 0 && h->v[(i - 1) / 2] > x) h->v[i] = h->v[(i - 1) / 2], i = (i - 1) / 2;
  h->v[i] = x;
}

static uint64_t heap_pop(pair_heap *h) {
  uint64_t top = h->v[0], last = h->v[--h->n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= h->n) break;
    if (c + 1 < h->n && h->v[c + 1] < h->v[c]) c++;
    if (h->v[c] >= last) break;
    h->v[i] = h->v[c], i = c;
  }
  if (h->n) h->v[i] = last;
  return top;
}

static void push_pair(const gc_tokenizer *t, pair_heap *h, const int32_t *sym, int32_t left, int32_t right) {
  int32_t r = pair_rank(t, sym[left], sym[right]);
  if (r != NO_RANK) heap_push(h, (uint64_t)r << 32 | (uint32_t)left);
}

/* Merges sym[0..n) in place (removed symbols become -1), then compacts;
 * returns the new count or -1 (out of memory). */
static long merge_long(const gc_tokenizer *t, int32_t *sym, size_t n) {
  int32_t *next = malloc(2 * n * sizeof *next), *prev = next + n;
  pair_heap h = {malloc(n * sizeof *h.v), 0};   /* at most one live entry per position, plus stale ones */
  size_t cap = n;
  if (!next || !h.v) {
    free(next);
    free(h.v);
    return -1;
  }
  for (size_t i = 0; i < n; i++) next[i] = i + 1 < n ? (int32_t)(i + 1) : -1, prev[i] = (int32_t)i - 1;
  for (size_t i = 0; i + 1 < n; i++) push_pair(t, &h, sym, (int32_t)i, (int32_t)i + 1);
  while (h.n) {
    uint64_t top = heap_pop(&h);
    int32_t r = (int32_t)(top >> 32), pos = (int32_t)(uint32_t)top, right = next[pos];
    if (sym[pos] < 0 || right < 0 || pair_rank(t, sym[pos], sym[right]) != r) continue;   /* stale */
    sym[pos] = t->merge_out[r];
    sym[right] = -1;
    next[pos] = next[right];
    if (next[pos] >= 0) prev[next[pos]] = pos;
    if (h.n + 2 > cap) {
      uint64_t *v = realloc(h.v, 2 * cap * sizeof *v);
      if (!v) {
        free(next);
        free(h.v);
        return -1;
      }
      h.v = v, cap *= 2;
    }
    if (prev[pos] >= 0) push_pair(t, &h, sym, prev[pos], pos);
    if (next[pos] >= 0) push_pair(t, &h, sym, pos, next[pos]);
  }
  free(next);
  free(h.v);
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (sym[i] >= 0) sym[m++] = sym[i];
  return (long)m;
}

/* Pieces longer than this are merged with the heap. */
#define LONG_PIECE 128

/* The piece's ids into e->sym[0..*n). */
static int merge_piece(encoder *e, const uint8_t *p, size_t len, size_t *n_out) {
  const gc_tokenizer *t = e->t;
  if (grow((void **)&e->sym, &e->cap_sym, len, sizeof *e->sym) ||
      grow((void **)&e->rank, &e->cap_rank, len, sizeof *e->rank))
    return -1;
  int32_t *sym = e->sym, *rank = e->rank;
  if (t->ignore_merges) {
    int32_t id = gc_wordmap_get(&t->vocab, p, len);
    if (id >= 0) {
      sym[0] = id;
      *n_out = 1;
      return 0;
    }
  }
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    if (t->byte_id[p[i]] >= 0) sym[n++] = t->byte_id[p[i]];
  if (n > LONG_PIECE) {
    long m = merge_long(t, sym, n);
    if (m < 0) return -1;
    *n_out = (size_t)m;
    return 0;
  }
  for (size_t i = 0; i + 1 < n; i++) rank[i] = pair_rank(t, sym[i], sym[i + 1]);
  while (n > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < n; i++)
      if (rank[i] < rank[best]) best = i;
    if (rank[best] == NO_RANK) break;
    sym[best] = t->merge_out[rank[best]];
    memmove(sym + best + 1, sym + best + 2, (n - best - 2) * sizeof *sym);
    if (best + 2 < n) memmove(rank + best + 1, rank + best + 2, (n - best - 2) * sizeof *rank);
    n--;
    if (best > 0) rank[best - 1] = pair_rank(t, sym[best - 1], sym[best]);
    if (best + 1 < n) rank[best] = pair_rank(t, sym[best], sym[best + 1]);
  }
  *n_out = n;
  return 0;
}

static cache_slot *cache_find(encoder *e, const uint8_t *p, size_t len, uint64_t h) {
  size_t mask = e->cap_slots - 1, i = (size_t)h & mask;
  for (;;) {
    cache_slot *s = &e->slots[i];
    if (!s->used || (s->hash == h && s->key_len == len && memcmp(e->keys + s->key_off, p, len) == 0)) return s;
    i = (i + 1) & mask;
  }
}

static int cache_grow(encoder *e) {
  size_t cap = e->cap_slots ? 2 * e->cap_slots : 256;
  cache_slot *old = e->slots;
  size_t old_cap = e->cap_slots;
  e->slots = calloc(cap, sizeof *e->slots);
  if (!e->slots) {
    e->slots = old;
    return -1;
  }
  e->cap_slots = cap;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].used) *cache_find(e, e->keys + old[i].key_off, old[i].key_len, old[i].hash) = old[i];
  free(old);
  return 0;
}

static int bpe_piece(encoder *e, const uint8_t *p, size_t len) {
  if (e->on_piece) return e->on_piece(e->piece_ctx, p, p + len);
  if (len == 1) return emit_byte(e, p[0]);
  if ((e->n_slots + 1) * 2 > e->cap_slots && cache_grow(e)) return -1;
  uint64_t h = XXH3_64bits(p, len);
  cache_slot *s = cache_find(e, p, len, h);
  if (!s->used) {
    size_t n;
    if (merge_piece(e, p, len, &n) || grow((void **)&e->keys, &e->cap_keys, e->n_keys + len, 1) ||
        grow((void **)&e->pool, &e->cap_pool, e->n_pool + n, sizeof *e->pool))
      return -1;
    memcpy(e->keys + e->n_keys, p, len);
    memcpy(e->pool + e->n_pool, e->sym, n * sizeof *e->pool);
    *s = (cache_slot){h, (uint32_t)e->n_keys, (uint32_t)len, (uint32_t)e->n_pool, (uint32_t)n, 1};
    e->n_keys += len;
    e->n_pool += n;
    e->n_slots++;
  }
  return emit(e, e->pool + s->ids_off, s->n_ids);
}

/* ---- the pre-tokenizer ------------------------------------------------------ */

typedef struct {
  encoder *e;
  int step;
} split_ctx;

static int pretokenize(encoder *e, const uint8_t *p, size_t len, int step);

static int on_piece(void *ctx, const uint8_t *start, const uint8_t *end) {
  split_ctx *c = ctx;
  return pretokenize(c->e, start, (size_t)(end - start), c->step + 1);
}

/* Pieces of p[0..len) from split `step` on; the ByteLevel step (the last
 * split when it is ByteLevel's own regex, else after all splits) first
 * prepends a space when add_prefix_space says so. */
static int pretokenize(encoder *e, const uint8_t *p, size_t len, int step) {
  const gc_tokenizer *t = e->t;
  if (len == 0) return 0;
  int byte_level_step = t->n_splits - (t->byte_level_regex ? 1 : 0);
  if (step == byte_level_step && t->add_prefix_space && p[0] != ' ') {
    uint8_t *buf = malloc(len + 1);
    if (!buf) return -1;
    buf[0] = ' ';
    memcpy(buf + 1, p, len);
    int rc = step == t->n_splits ? bpe_piece(e, buf, len + 1)
                                 : gc_split_pieces(&t->splits[step], e->region, buf, len + 1, on_piece,
                                                   &(split_ctx){e, step});
    free(buf);
    return rc;
  }
  if (step == t->n_splits) return bpe_piece(e, p, len);
  return gc_split_pieces(&t->splits[step], e->region, p, len, on_piece, &(split_ctx){e, step});
}

/* ---- added tokens and the normalizer ------------------------------------------ */

/* The longest added token (of the kind `normalized`) at p[0..len), or NULL. */
static const gc_added_token *added_at(const gc_tokenizer *t, const uint8_t *p, size_t len, bool normalized) {
  const gc_added_token *best = NULL;
  for (int k = 0; k < t->n_added; k++) {
    const gc_added_token *a = &t->added[k];
    if (a->normalized == normalized && a->len <= len && (!best || a->len > best->len) &&
        memcmp(a->text, p, a->len) == 0)
      best = a;
  }
  return best;
}

typedef int (*stretch_fn)(encoder *e, const uint8_t *p, size_t len);

/* Emits the added tokens of the kind `normalized` found in p[0..len)
 * (leftmost, longest) and passes the stretches between them to `rest`. */
static int split_added(encoder *e, const uint8_t *p, size_t len, bool normalized, stretch_fn rest) {
  const gc_tokenizer *t = e->t;
  size_t start = 0;
  for (size_t i = 0; i < len; i++) {
    if (!t->added_first[p[i]]) continue;
    const gc_added_token *a = added_at(t, p + i, len - i, normalized);
    if (!a) continue;
    if (i > start && rest(e, p + start, i - start)) return -1;
    if (emit(e, &a->id, 1)) return -1;
    i += a->len - 1;
    start = i + 1;
  }
  return start < len ? rest(e, p + start, len - start) : 0;
}

static int after_normalized_added(encoder *e, const uint8_t *p, size_t len) { return pretokenize(e, p, len, 0); }

static int normalize_stretch(encoder *e, const uint8_t *p, size_t len) {
  bool ascii = true;
  for (size_t i = 0; i < len && ascii; i++) ascii = p[i] < 0x80;
  if (!e->t->nfc || ascii) return split_added(e, p, len, true, after_normalized_added);
  uint8_t *nfc;
  size_t n;
  if (gc_nfc(p, len, &nfc, &n)) return -1;
  int rc = split_added(e, nfc, n, true, after_normalized_added);
  free(nfc);
  return rc;
}

/* ---- valid UTF-8 ----------------------------------------------------------- */

/* Length of the valid UTF-8 character at p[0..n) (no overlong forms, no
 * surrogates, at most U+10FFFF), or 0. */
static size_t utf8_char(const uint8_t *p, size_t n) {
  uint8_t c = p[0];
  if (c < 0x80) return 1;
  size_t k = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (k == 0 || k > n) return 0;
  for (size_t i = 1; i < k; i++)
    if ((p[i] & 0xc0) != 0x80) return 0;
  if (c == 0xe0 && p[1] < 0xa0) return 0;   /* overlong */
  if (c == 0xed && p[1] >= 0xa0) return 0;  /* surrogate */
  if (c == 0xf0 && p[1] < 0x90) return 0;   /* overlong */
  if (c == 0xf4 && p[1] >= 0x90) return 0;  /* above U+10FFFF */
  return k;
}

static int run(encoder *e, const uint8_t *text, size_t len) {
  e->region = gc_split_region_new();
  int rc = e->region ? 0 : -1;
  for (size_t i = 0; rc == 0 && i < len;) {
    size_t j = i, k;
    while (j < len && (k = utf8_char(text + j, len - j)) > 0) j += k;
    if (j > i) rc = split_added(e, text + i, j - i, false, normalize_stretch);
    if (rc == 0 && j < len) rc = e->on_piece ? e->on_piece(e->piece_ctx, text + j, text + j + 1) : emit_byte(e, text[j]);
    i = j + (j < len);
  }
  gc_split_region_free(e->region);
  free(e->slots);
  free(e->keys);
  free(e->pool);
  free(e->sym);
  free(e->rank);
  return rc;
}

int gc_tokenizer_pieces(const gc_tokenizer *t, const uint8_t *text, size_t len, gc_piece_fn piece, void *ctx) {
  encoder e = {.t = t, .on_piece = piece, .piece_ctx = ctx};
  return run(&e, text, len);
}

int gc_tokenizer_encode(const gc_tokenizer *t, const uint8_t *text, size_t len,
                        int32_t **ids, size_t *n) {
  *ids = NULL;
  *n = 0;
  if (len == 0) return 0;
  if (len > (size_t)INT32_MAX) return -1;
  encoder e = {.t = t};
  if (run(&e, text, len)) {
    free(e.ids);
    return -1;
  }
  *ids = e.ids;
  *n = e.n;
  return 0;
}
