/* text/bpe_internal.h — pieces shared by the BPE tokenizer's files
 * (tokenizer.c, bpe_train.c, tokenizer_io.c, bpe_util.c).  Not public. */
#ifndef GC_BPE_INTERNAL_H
#define GC_BPE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "text/tokenizer.h"

/* ---- uint64 key -> int32 value, open addressing ------------------------ */

typedef struct {
  uint64_t *keys;
  int32_t *vals;   /* -1 marks an empty slot; stored values are >= 0 */
  size_t cap;      /* power of two */
  size_t n;
} gc_u64map;

int gc_u64map_init(gc_u64map *m, size_t expected);   /* 0 or -1 (OOM) */
void gc_u64map_free(gc_u64map *m);
int32_t gc_u64map_get(const gc_u64map *m, uint64_t key);   /* -1 if absent */
int gc_u64map_put(gc_u64map *m, uint64_t key, int32_t val); /* 0 or -1 (OOM) */

static inline uint64_t gc_bpe_pair_key(int32_t a, int32_t b) {
  return ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
}

/* ---- byte string -> int32 value (keys point into the caller's text) ---- */

typedef struct {
  const uint8_t *ptr;
  uint64_t hash;
  uint32_t len;
  int32_t val;     /* -1: empty */
} gc_wordmap_slot;

typedef struct {
  gc_wordmap_slot *slots;
  size_t cap, n;
} gc_wordmap;

int gc_wordmap_init(gc_wordmap *m, size_t expected);
void gc_wordmap_free(gc_wordmap *m);
/* Finds the word; if absent, adds it with value new_val.  Returns the slot's
 * value (new_val when added; *added says which) or -1 on OOM.  The bytes
 * must stay alive as long as the map. */
int32_t gc_wordmap_intern(gc_wordmap *m, const uint8_t *p, size_t len, int32_t new_val,
                          int *added);

/* ---- the pre-splitter --------------------------------------------------- */

/* End (exclusive) of the word starting at text[i], i < len. */
size_t gc_bpe_word_end(const uint8_t *text, size_t len, size_t i);

/* ---- the tokenizer ------------------------------------------------------ */

struct gc_tokenizer {
  int vocab_size;      /* 256 + n_merges + n_specials */
  int n_merges;
  int32_t *merges;     /* 2 * n_merges: left, right of merge i -> id 256+i */
  int n_specials;
  char **specials;     /* special k has id 256 + n_merges + k */
  uint32_t *tok_off;   /* per id: bytes of the token are bytes[off..off+len) */
  uint32_t *tok_len;
  uint8_t *bytes;
  gc_u64map merge_id;  /* pair key -> id it merges into */
};

/* Checks special tokens (rules in tokenizer.h, no duplicates); 0 or -1. */
int gc_bpe_check_specials(const char *const *specials, int n_specials, gc_diag *d);

#endif
