/* text/bpe_train.c — training a byte-level BPE vocabulary.
 *
 * The text is split into words (the pieces of GPT-2's pre-tokenizer regex,
 * gc_tokenizer_pieces) and unique words are
 * counted.  Each unique word is a sequence of token ids, weighted by its
 * count.  Pair counts live in a table; a max-heap orders the pairs by
 * (count, tie-break).  Merging the best pair (a, b) into c visits only the
 * words that contain it (each pair keeps the list of words it was seen in)
 * and updates the counts of the neighbouring pairs incrementally.  Heap
 * entries are lazy: an entry is valid only while its count equals the pair's
 * current count; a pair whose count changed gets a new entry.  A pair's
 * count never grows after the merge that created it, so stale entries always
 * sit above the valid one and are discarded when popped.
 */
#include "text/bpe_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  int32_t *sym;    /* the word's tokens (a slice of the trainer's pool) */
  int32_t len;
  int32_t stamp;   /* the last merge that visited the word */
  int64_t count;   /* occurrences of the word in the text */
} bpe_word;

typedef struct {
  int32_t left, right;
  int64_t count;     /* occurrences, weighted by word counts */
  int64_t pushed;    /* count of this pair's newest heap entry */
  int32_t *words;    /* words that may hold the pair (a superset) */
  int32_t n_words, cap_words;
  int32_t touched;   /* the last merge that changed the count */
} bpe_pair;

typedef struct {
  int64_t count;
  int32_t pair;
} heap_entry;

typedef struct {
  bpe_word *words;
  int32_t n_words;
  int32_t *pool;
  bpe_pair *pairs;
  int32_t n_pairs, cap_pairs;
  gc_u64map pair_index;      /* pair key -> index into pairs */
  heap_entry *heap;
  size_t heap_n, heap_cap;
  int32_t *touched;          /* pairs changed by the current merge */
  int32_t n_touched, cap_touched;
  int32_t merge_no;          /* 1 + merges done; stamps words and pairs */
  uint32_t *tok_off, *tok_len;   /* bytes of every token so far (tie-break) */
  uint8_t *tok_bytes;
  size_t bytes_n, bytes_cap;
  int32_t *merges;           /* 2 per merge */
  int32_t n_merges;
} bpe_trainer;

static void *grow(void *p, int64_t *cap, int64_t need, size_t elem) {
  if (need <= *cap) return p;
  int64_t c = *cap ? *cap : 64;
  while (c < need) c *= 2;
  void *q = realloc(p, (size_t)c * elem);
  if (q) *cap = c;
  return q;
}

#define GROW(ptr, cap, need)                                                \
  do {                                                                      \
    int64_t cap_ = (int64_t)(cap);                                          \
    void *p_ = grow((ptr), &cap_, (int64_t)(need), sizeof *(ptr));          \
    if (!p_) return -1;                                                     \
    (ptr) = p_;                                                             \
    (cap) = cap_;                                                           \
  } while (0)

/* ---- token bytes and the tie-break -------------------------------------- */

static int add_token_bytes(bpe_trainer *tr, int32_t id, int32_t a, int32_t b) {
  size_t la = id < 256 ? 1 : tr->tok_len[a], lb = id < 256 ? 0 : tr->tok_len[b];
  int64_t cap = (int64_t)tr->bytes_cap;
  GROW(tr->tok_bytes, cap, (int64_t)(tr->bytes_n + la + lb));
  tr->bytes_cap = (size_t)cap;
  uint8_t *dst = tr->tok_bytes + tr->bytes_n;
  if (id < 256) {
    dst[0] = (uint8_t)id;
  } else {
    memcpy(dst, tr->tok_bytes + tr->tok_off[a], la);
    memcpy(dst + la, tr->tok_bytes + tr->tok_off[b], lb);
  }
  tr->tok_off[id] = (uint32_t)tr->bytes_n;
  tr->tok_len[id] = (uint32_t)(la + lb);
  tr->bytes_n += la + lb;
  return 0;
}

static int bytes_cmp(const bpe_trainer *tr, int32_t x, int32_t y) {
  uint32_t lx = tr->tok_len[x], ly = tr->tok_len[y];
  int c = memcmp(tr->tok_bytes + tr->tok_off[x], tr->tok_bytes + tr->tok_off[y], lx < ly ? lx : ly);
  if (c != 0) return c;
  return (lx > ly) - (lx < ly);
}

/* True if entry e should be merged before f: higher count; then the greater
 * (left bytes, right bytes); then the smaller (left id, right id). */
static int entry_before(const bpe_trainer *tr, heap_entry e, heap_entry f) {
  if (e.count != f.count) return e.count > f.count;
  const bpe_pair *p = &tr->pairs[e.pair], *q = &tr->pairs[f.pair];
  int c = bytes_cmp(tr, p->left, q->left);
  if (c == 0) c = bytes_cmp(tr, p->right, q->right);
  if (c != 0) return c > 0;
  if (p->left != q->left) return p->left < q->left;
  return p->right < q->right;
}

/* ---- the heap ------------------------------------------------------------ */

static int heap_push(bpe_trainer *tr, heap_entry e) {
  GROW(tr->heap, tr->heap_cap, tr->heap_n + 1);
  size_t i = tr->heap_n++;
  while (i > 0 && entry_before(tr, e, tr->heap[(i - 1) / 2])) {
    tr->heap[i] = tr->heap[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  tr->heap[i] = e;
  return 0;
}

static heap_entry heap_pop(bpe_trainer *tr) {
  heap_entry top = tr->heap[0], last = tr->heap[--tr->heap_n];
  size_t i = 0, n = tr->heap_n;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && entry_before(tr, tr->heap[c + 1], tr->heap[c])) c++;
    if (!entry_before(tr, tr->heap[c], last)) break;
    tr->heap[i] = tr->heap[c];
    i = c;
  }
  if (n > 0) tr->heap[i] = last;
  return top;
}

/* The valid entry with the best pair, or -1 when no pair is left. */
static int32_t pop_best(bpe_trainer *tr) {
  while (tr->heap_n > 0) {
    heap_entry e = heap_pop(tr);
    const bpe_pair *p = &tr->pairs[e.pair];
    if (p->count > 0 && e.count == p->count) return e.pair;
  }
  return -1;
}

/* Gives every pair changed since the last flush a heap entry for its count. */
static int flush_touched(bpe_trainer *tr) {
  for (int32_t k = 0; k < tr->n_touched; k++) {
    bpe_pair *p = &tr->pairs[tr->touched[k]];
    if (p->count > 0 && p->count != p->pushed) {
      p->pushed = p->count;
      if (heap_push(tr, (heap_entry){p->count, tr->touched[k]}) < 0) return -1;
    }
  }
  tr->n_touched = 0;
  return 0;
}

/* ---- pair counts ---------------------------------------------------------- */

static int32_t new_pair(bpe_trainer *tr, int32_t x, int32_t y) {
  GROW(tr->pairs, tr->cap_pairs, tr->n_pairs + 1);
  int32_t pi = tr->n_pairs;
  if (gc_u64map_put(&tr->pair_index, gc_bpe_pair_key(x, y), pi) < 0) return -1;
  tr->pairs[pi] = (bpe_pair){.left = x, .right = y, .touched = -1};
  tr->n_pairs++;
  return pi;
}

static int note_word(bpe_pair *p, int32_t w) {
  if (p->n_words > 0 && p->words[p->n_words - 1] == w) return 0;
  GROW(p->words, p->cap_words, p->n_words + 1);
  p->words[p->n_words++] = w;
  return 0;
}

/* Adds delta to the count of pair (x, y); a gain also records word w. */
static int change_pair(bpe_trainer *tr, int32_t x, int32_t y, int64_t delta, int32_t w) {
  int32_t pi = gc_u64map_get(&tr->pair_index, gc_bpe_pair_key(x, y));
  if (pi < 0) {
    if (delta < 0) return 0;   /* cannot happen: a present pair was counted */
    pi = new_pair(tr, x, y);
    if (pi < 0) return -1;
  }
  bpe_pair *p = &tr->pairs[pi];
  p->count += delta;
  if (delta > 0 && note_word(p, w) < 0) return -1;
  if (p->touched != tr->merge_no) {
    p->touched = tr->merge_no;
    GROW(tr->touched, tr->cap_touched, tr->n_touched + 1);
    tr->touched[tr->n_touched++] = pi;
  }
  return 0;
}

/* ---- counting words -------------------------------------------------------- */

typedef struct {
  size_t start;
  int32_t len;
  int64_t count;
} word_span;

typedef struct {
  const uint8_t *text;
  gc_wordmap map;
  word_span *spans;
  int64_t cap, n, total;
} word_counter;

static int count_piece(void *ctx, const uint8_t *start, const uint8_t *end) {
  word_counter *c = ctx;
  int added;
  int32_t idx = gc_wordmap_intern(&c->map, start, (size_t)(end - start), (int32_t)c->n, &added);
  word_span *s = idx < 0 ? NULL : grow(c->spans, &c->cap, c->n + 1, sizeof *c->spans);
  if (!s) return -1;
  c->spans = s;
  if (added) {
    c->spans[c->n++] = (word_span){(size_t)(start - c->text), (int32_t)(end - start), 0};
    c->total += (int64_t)(end - start);
  }
  c->spans[idx].count++;
  return 0;
}

/* The words are the pieces the trained tokenizer's own pre-tokenizer cuts
 * (`bare`: no merges yet, the specials, GPT-2's regex), so training and
 * encoding see the same words. */
static int count_words(bpe_trainer *tr, const gc_tokenizer *bare, const uint8_t *text, size_t len) {
  word_counter c = {.text = text};
  int rc = gc_wordmap_init(&c.map, 4096);
  if (rc == 0) rc = gc_tokenizer_pieces(bare, text, len, count_piece, &c);
  word_span *spans = c.spans;
  int64_t n = c.n, total = c.total;
  gc_wordmap_free(&c.map);
  tr->words = rc == 0 ? calloc((size_t)n + 1, sizeof *tr->words) : NULL;
  tr->pool = rc == 0 ? malloc((size_t)total * sizeof *tr->pool + 1) : NULL;
  if (!tr->words || !tr->pool) {
    free(spans);
    return -1;
  }
  int32_t *sym = tr->pool;
  for (int64_t w = 0; w < n; w++) {
    for (int32_t k = 0; k < spans[w].len; k++) sym[k] = text[spans[w].start + k];
    tr->words[w] = (bpe_word){.sym = sym, .len = spans[w].len, .stamp = -1, .count = spans[w].count};
    sym += spans[w].len;
  }
  tr->n_words = (int32_t)n;
  free(spans);
  return 0;
}

static int count_pairs(bpe_trainer *tr) {
  if (gc_u64map_init(&tr->pair_index, 4096) < 0) return -1;
  for (int32_t w = 0; w < tr->n_words; w++) {
    const bpe_word *wd = &tr->words[w];
    for (int32_t i = 0; i + 1 < wd->len; i++)
      if (change_pair(tr, wd->sym[i], wd->sym[i + 1], wd->count, w) < 0) return -1;
  }
  return flush_touched(tr);
}

/* ---- merging --------------------------------------------------------------- */

/* Replaces every (a, b) in word w by c, left to right, and moves the counts of
 * the neighbouring pairs: (x, a) becomes (x, c) and (b, y) becomes (c, y). */
static int merge_in_word(bpe_trainer *tr, int32_t w, int32_t a, int32_t b, int32_t c) {
  bpe_word *wd = &tr->words[w];
  int32_t *s = wd->sym, n = wd->len, j = 0;
  int64_t wc = wd->count;
  for (int32_t i = 0; i < n;) {
    if (i + 1 < n && s[i] == a && s[i + 1] == b) {
      if (j > 0 && (change_pair(tr, s[j - 1], a, -wc, w) < 0 ||
                    change_pair(tr, s[j - 1], c, wc, w) < 0))
        return -1;
      if (i + 2 < n && (change_pair(tr, b, s[i + 2], -wc, w) < 0 ||
                        change_pair(tr, c, s[i + 2], wc, w) < 0))
        return -1;
      s[j++] = c;
      i += 2;
    } else {
      s[j++] = s[i++];
    }
  }
  wd->len = j;
  return 0;
}

static int merge_pair(bpe_trainer *tr, int32_t pi) {
  int32_t a = tr->pairs[pi].left, b = tr->pairs[pi].right, c = 256 + tr->n_merges;
  if (add_token_bytes(tr, c, a, b) < 0) return -1;
  tr->merges[2 * tr->n_merges] = a;
  tr->merges[2 * tr->n_merges + 1] = b;
  tr->n_merges++;
  tr->merge_no++;
  /* Detach the pair's word list: changes below never touch pair (a, b)
   * itself except through (x, a)/(b, y) when a or b repeats, which must be
   * ignored because all of its occurrences go away. */
  int32_t *list = tr->pairs[pi].words, n = tr->pairs[pi].n_words;
  tr->pairs[pi].words = NULL;
  tr->pairs[pi].n_words = tr->pairs[pi].cap_words = 0;
  int rc = 0;
  for (int32_t k = 0; rc == 0 && k < n; k++) {
    bpe_word *wd = &tr->words[list[k]];
    if (wd->stamp == tr->merge_no) continue;
    wd->stamp = tr->merge_no;
    rc = merge_in_word(tr, list[k], a, b, c);
  }
  free(list);
  tr->pairs[pi].count = 0;
  return rc < 0 ? -1 : flush_touched(tr);
}

/* ---- driver ------------------------------------------------------------------ */

static void trainer_free(bpe_trainer *tr) {
  free(tr->words);
  free(tr->pool);
  for (int32_t i = 0; i < tr->n_pairs; i++) free(tr->pairs[i].words);
  free(tr->pairs);
  gc_u64map_free(&tr->pair_index);
  free(tr->heap);
  free(tr->touched);
  free(tr->tok_off);
  free(tr->tok_len);
  free(tr->tok_bytes);
  free(tr->merges);
}

static int run_training(bpe_trainer *tr, const gc_tokenizer *bare, const uint8_t *text, size_t len, int target) {
  size_t n_tok = 256 + (size_t)target;
  tr->tok_off = malloc(n_tok * sizeof *tr->tok_off);
  tr->tok_len = malloc(n_tok * sizeof *tr->tok_len);
  tr->merges = malloc((2 * (size_t)target + 1) * sizeof *tr->merges);
  if (!tr->tok_off || !tr->tok_len || !tr->merges) return -1;
  for (int32_t i = 0; i < 256; i++)
    if (add_token_bytes(tr, i, 0, 0) < 0) return -1;
  if (count_words(tr, bare, text, len) < 0 || count_pairs(tr) < 0) return -1;
  while (tr->n_merges < target) {
    int32_t pi = pop_best(tr);
    if (pi < 0) break;   /* no pair left: the vocabulary ends up smaller */
    if (merge_pair(tr, pi) < 0) return -1;
  }
  return 0;
}

gc_tokenizer *gc_bpe_train(const uint8_t *text, size_t len, int vocab_size,
                           const char *const *specials, int n_specials, gc_diag *d) {
  if (!text && len > 0) {
    gc_diag_set(d, "bpe train: text is NULL");
    return NULL;
  }
  if (len > (size_t)INT32_MAX) {
    gc_diag_set(d, "bpe train: text of %zu bytes is too large (at most 2 GiB)", len);
    return NULL;
  }
  if (gc_bpe_check_specials(specials, n_specials, d) < 0) return NULL;
  if (vocab_size < 256 + n_specials || vocab_size > 256 + (1 << 24)) {
    gc_diag_set(d, "bpe train: vocab_size %d must be in %d..%d (256 bytes + %d special tokens + merges)",
                vocab_size, 256 + n_specials, 256 + (1 << 24), n_specials);
    return NULL;
  }
  gc_tokenizer *bare = gc_tokenizer_from_merges(NULL, 0, specials, n_specials, d);
  if (!bare) return NULL;
  bpe_trainer tr = {0};
  gc_tokenizer *t = NULL;
  if (run_training(&tr, bare, text, len, vocab_size - 256 - n_specials) < 0)
    gc_diag_set(d, "bpe train: out of memory");
  else
    t = gc_tokenizer_from_merges(tr.merges, tr.n_merges, specials, n_specials, d);
  trainer_free(&tr);
  gc_tokenizer_free(bare);
  return t;
}
