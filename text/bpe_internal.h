/* text/bpe_internal.h — pieces shared by the tokenizer's files: the
 * tokenizer's fields, the builder every way of making one goes through
 * (tokenizer.c), the hash maps (bpe_util.c), the byte-level alphabet and the
 * regex pre-tokenizer (pretokenize.c).  Not public. */
#ifndef GC_BPE_INTERNAL_H
#define GC_BPE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "text/tokenizer.h"

#include <jansson.h>

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

/* ---- byte string -> int32 value (keys point into memory the caller keeps) */

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
/* The word's value, -1 if absent. */
int32_t gc_wordmap_get(const gc_wordmap *m, const uint8_t *p, size_t len);

/* ---- the byte-level alphabet (GPT-2's bytes_to_unicode) ----------------- */

/* The code point byte b is written as in vocab and merges files. */
uint32_t gc_byte_level_char(uint8_t b);
/* Decodes a byte-level string (UTF-8 of such code points) into raw bytes
 * out[0..*n) (out has room for len bytes).  -1 if a character is not one
 * of the 256. */
int gc_byte_level_decode(const char *s, size_t len, uint8_t *out, size_t *n);
/* Appends the byte-level UTF-8 spelling of p[0..n) to out (room 2*n). */
size_t gc_byte_level_encode(const uint8_t *p, size_t n, char *out);

/* ---- the pre-tokenizer --------------------------------------------------- */

/* GPT-2's pattern, the one ByteLevel(use_regex) applies. */
extern const char gc_gpt2_pattern[];

typedef struct {
  void *regex;     /* an Oniguruma regex_t */
  void *batch;     /* the same, matching many pieces per call (pretokenize.c) */
  char *pattern;   /* as the file gave it (a regex, or a literal string) */
  bool literal;    /* Split's {"String": ...} */
} gc_split;

/* Compiles a Split pattern; 0 or -1 with d. */
int gc_split_init(gc_split *s, const char *pattern, bool literal, gc_diag *d);
void gc_split_free(gc_split *s);

/* Calls piece(ctx, start, end) for every piece of text[0..len) the pattern
 * cuts it into ("Isolated": every match, and every stretch between
 * matches), in order, none empty.  Returns 0, the first non-zero value a
 * callback returned, or -1 on a regex failure. */
typedef int (*gc_piece_fn)(void *ctx, const uint8_t *start, const uint8_t *end);
int gc_split_pieces(const gc_split *s, void *region, const uint8_t *text, size_t len,
                    gc_piece_fn piece, void *ctx);
void *gc_split_region_new(void);   /* scratch per caller (thread): region, match param */
void gc_split_region_free(void *region);

/* NFC of the valid UTF-8 text[0..len) into *out (malloc'ed), or -1. */
int gc_nfc(const uint8_t *text, size_t len, uint8_t **out, size_t *out_len);

/* ---- the tokenizer ------------------------------------------------------ */

typedef struct {
  int32_t id;
  char *text;      /* NUL-terminated; len bytes */
  uint32_t len;
  bool special;
  bool normalized; /* matched after normalization (else on the raw text) */
} gc_added_token;

#define GC_NO_TOKEN UINT32_MAX   /* tok_off of an id that is not a token */

struct gc_tokenizer {
  int vocab_size;      /* 1 + the largest id */
  int cap_ids;         /* room in the per-id arrays */
  int n_vocab;         /* ids < n_vocab may be model tokens */
  uint32_t *tok_off;   /* per id: bytes[off..off+len), or off == GC_NO_TOKEN */
  uint32_t *tok_len;
  uint8_t *is_model;   /* per id: a token of the BPE model's vocabulary */
  uint8_t *bytes;
  size_t n_bytes, cap_bytes;
  gc_wordmap vocab;    /* model token bytes -> id */
  int32_t byte_id[256];/* the token of each single byte, -1 if none */

  int n_merges, cap_merges;
  int32_t *merges;     /* 2 * n_merges: left, right of the merge of rank r */
  int32_t *merge_out;  /* the token merge r makes */
  gc_u64map merge_rank;/* pair key -> rank */

  int n_added;
  gc_added_token *added;
  bool added_first[256];   /* bytes an added token starts with */

  /* the pipeline */
  bool nfc;                /* normalizer NFC (else none) */
  int n_splits;
  gc_split *splits;        /* regexes, applied in turn */
  bool byte_level_regex;   /* the last split is ByteLevel's own (use_regex) */
  bool add_prefix_space;   /* ByteLevel prepends ' ' to a piece without one */
  bool ignore_merges;      /* a piece that is a vocab token is that token */
};

/* The builder: a new empty tokenizer, then tokens, merges, added tokens and
 * splits, then gc_tok_finish.  Each returns 0 or -1 with d filled. */
gc_tokenizer *gc_tok_new(gc_diag *d);
int gc_tok_add_token(gc_tokenizer *t, int32_t id, const uint8_t *bytes, size_t len, gc_diag *d);
int gc_tok_index_vocab(gc_tokenizer *t, gc_diag *d);   /* after the tokens, before merges */
/* The merge of the next rank; out < 0: the token of the two's bytes. */
int gc_tok_add_merge(gc_tokenizer *t, int32_t left, int32_t right, int32_t out, gc_diag *d);
int gc_tok_add_added(gc_tokenizer *t, int32_t id, const char *text, bool special, bool normalized,
                     gc_diag *d);
int gc_tok_add_split(gc_tokenizer *t, const char *pattern, bool literal, gc_diag *d);
int gc_tok_finish(gc_tokenizer *t, gc_diag *d);

/* Checks special tokens (rules in tokenizer.h, no duplicates); 0 or -1. */
int gc_bpe_check_specials(const char *const *specials, int n_specials, gc_diag *d);

/* Walks text as gc_tokenizer_encode does, handing every piece that BPE
 * would encode to `piece` (added tokens are skipped).  Pieces point into
 * text unless the tokenizer normalizes or prepends a space. */
int gc_tokenizer_pieces(const gc_tokenizer *t, const uint8_t *text, size_t len, gc_piece_fn piece, void *ctx);

/* Readers of each file form (tokenizer_json.c, tokenizer_files.c). */
gc_tokenizer *gc_tokenizer_read_json(const char *path, gc_diag *d);
gc_tokenizer *gc_tokenizer_read_vocab_merges(const char *vocab_path, const char *merges_path,
                                             gc_diag *d);

/* "PATH:LINE:COL: what jansson said", its quoted text made one printable
 * line (control bytes as '?').  Returns -1. */
int gc_tok_json_error(gc_diag *d, const char *path, const json_error_t *err);

#endif
