/* text/tokenizer.h — a byte-level BPE tokenizer: training, encoding,
 * decoding, and a text file format saved beside a checkpoint.
 *
 * Vocabulary layout (V = gc_tokenizer_vocab_size):
 *   ids 0..255              the 256 single bytes (so any byte string encodes)
 *   ids 256..256+M-1        merge i creates id 256+i from two earlier ids
 *   ids 256+M..V-1          the special tokens, in the order given to training
 *
 * Training (see docs/tokenizer.md): the text is split into words (a run of
 * letters, digits or other symbols with an optional leading space, or a run
 * of whitespace); unique words are counted; then repeatedly the most frequent
 * adjacent pair of tokens inside words is merged.  Ties in frequency go to
 * the pair whose (left bytes, right bytes) is lexicographically greatest
 * (then to the smaller ids).  Training stops when V reaches vocab_size or no
 * pair is left; in the latter case the vocabulary is smaller than asked and
 * gc_tokenizer_vocab_size() says so (this is not an error).
 *
 * Encoding plain text never produces a special token: `<|endoftext|>` in the
 * text is encoded as ordinary bytes.  Callers insert special ids themselves
 * (gc_tokenizer_special_id).  Decoding a special id gives its text.
 *
 * Ownership: a gc_tokenizer is owned by the caller and released with
 * gc_tokenizer_free().  Arrays returned through out-parameters (encode's
 * *ids, decode's *out) are malloc'ed and owned by the caller (free()).
 * Functions never keep pointers to their inputs.  No global state: distinct
 * tokenizers may be used from distinct threads, and one tokenizer may be used
 * by many threads at once for the const functions.
 */
#ifndef GC_TOKENIZER_H
#define GC_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "ir/ir.h"

typedef struct gc_tokenizer gc_tokenizer;

/* Longest word the pre-splitter yields; longer runs are cut into pieces of
 * this many bytes (keeps training and encoding fast on pathological input). */
#define GC_BPE_MAX_WORD 256
/* Longest special token, in bytes. */
#define GC_BPE_MAX_SPECIAL 256

/* Trains on text[0..len).  vocab_size counts the 256 bytes, the merges and
 * the specials; it must be >= 256 + n_specials.  Specials are non-empty,
 * distinct, at most GC_BPE_MAX_SPECIAL bytes, and contain no byte <= 0x20
 * (space, control) or 0x7f.  Returns NULL and fills d on error. */
gc_tokenizer *gc_bpe_train(const uint8_t *text, size_t len, int vocab_size,
                           const char *const *specials, int n_specials, gc_diag *d);

/* Encodes text into *ids (malloc'ed, caller frees; NULL when *n == 0).
 * Returns 0, or -1 on allocation failure or text over 2 GiB (then *ids =
 * NULL, *n = 0). */
int gc_tokenizer_encode(const gc_tokenizer *t, const uint8_t *text, size_t len,
                        int32_t **ids, size_t *n);

/* Decodes ids into *out (malloc'ed, caller frees, NUL-terminated for
 * convenience: (*out)[*len] == 0).  Returns 0, or -1 when an id is out of
 * range or allocation fails (then *out = NULL, *len = 0). */
int gc_tokenizer_decode(const gc_tokenizer *t, const int32_t *ids, size_t n,
                        uint8_t **out, size_t *len);

int gc_tokenizer_vocab_size(const gc_tokenizer *t);
int gc_tokenizer_n_merges(const gc_tokenizer *t);
/* Merge i (0 <= i < n_merges) joins *left and *right into id 256+i.
 * Returns 0, or -1 if i is out of range. */
int gc_tokenizer_merge(const gc_tokenizer *t, int i, int32_t *left, int32_t *right);
/* Id of a special token, -1 if the tokenizer has none by that name. */
int gc_tokenizer_special_id(const gc_tokenizer *t, const char *special);

/* Bytes of token id (owned by t, not NUL-terminated), or NULL if id is out of
 * range.  For display; a special's bytes are its text. */
const uint8_t *gc_tokenizer_token_bytes(const gc_tokenizer *t, int id, size_t *len);

/* Saves in the "gc-bpe 1" text format (docs/tokenizer.md).  Atomic: writes
 * path.tmp, fsyncs it, renames it over path.  Returns 0 or -1 (d filled). */
int gc_tokenizer_save(const gc_tokenizer *t, const char *path, gc_diag *d);
/* Loads and validates a saved tokenizer.  NULL (d filled, with the file's
 * name and line) when the file is missing, corrupt or truncated. */
gc_tokenizer *gc_tokenizer_load(const char *path, gc_diag *d);

/* Builds a tokenizer from a merge list (2*n_merges ids: left, right of merge
 * i) and specials, validating both.  Used by training and loading. */
gc_tokenizer *gc_tokenizer_from_merges(const int32_t *merges, int n_merges,
                                       const char *const *specials, int n_specials,
                                       gc_diag *d);

void gc_tokenizer_free(gc_tokenizer *t);

#endif
