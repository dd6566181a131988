/* text/tokenizer.h — byte-level BPE tokenizers as Hugging Face defines them:
 * opening and writing Hugging Face's files, encoding and decoding exactly as
 * Hugging Face's `tokenizers` does, and gc's own BPE training.
 *
 * A tokenizer is (docs/tokenizer.md):
 *   - a vocabulary: id -> bytes (the byte-level BPE model's tokens, stored as
 *     raw bytes, not in the byte-to-unicode alphabet of the files);
 *   - merges, ranked: merge r joins (left id, right id) into the token whose
 *     bytes are theirs concatenated;
 *   - added tokens (specials or not): id and text, split out of the input
 *     before anything else;
 *   - a normalizer (none or NFC, by utf8proc) and pre-tokenizer regexes
 *     (Oniguruma, Hugging Face's engine), applied in turn, each piece it
 *     yields encoded on its own.
 *
 * Encoding: added tokens are found first (leftmost, longest; those not
 * "normalized" on the raw text, then the rest after normalizing what lies
 * between); each remaining stretch is NFC-normalised if the tokenizer says
 * so, cut by the pre-tokenizer regexes, and every piece is BPE-encoded from
 * its bytes by applying the lowest-ranked merge present (the leftmost of
 * equals) until none applies.  Bytes that are not valid UTF-8 (which Hugging
 * Face never sees) are each one piece, so any byte string encodes and
 * decodes back exactly.
 *
 * Training (gc_bpe_train) makes the layout
 *   ids 0..255              the 256 single bytes
 *   ids 256..256+M-1        merge i creates id 256+i from two earlier ids
 *   ids 256+M..V-1          the special tokens, in the order given
 * with GPT-2's pre-tokenizer regex and no normalizer, and is saved as a
 * tokenizer.json like any other.
 *
 * Ownership: a gc_tokenizer is owned by the caller and released with
 * gc_tokenizer_free().  Arrays returned through out-parameters (encode's
 * *ids, decode's *out) are malloc'ed and owned by the caller (free()).
 * Functions never keep pointers to their inputs.  No global state (beyond
 * Oniguruma's one-time initialisation): one tokenizer may be used by many
 * threads at once for the const functions.
 */
#ifndef GC_TOKENIZER_H
#define GC_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "ir/ir.h"

typedef struct gc_tokenizer gc_tokenizer;

/* Longest special token given to training, in bytes. */
#define GC_BPE_MAX_SPECIAL 256

/* PATH: a tokenizer.json, or a directory holding tokenizer.json, or
 * vocab.json+merges.txt, or encoder.json+vocab.bpe (a gc run directory holds
 * a tokenizer.json).  NULL + d (one line naming the unsupported part:
 * WordPiece, Unigram, byte_fallback, a normalizer other than NFC, ...). */
gc_tokenizer *gc_tokenizer_open(const char *path, gc_diag *d);

/* Writes a tokenizer.json that Hugging Face (and @lenml/tokenizers) loads and
 * encodes identically.  Atomic (temp file, fsync, rename).  0, or -1 with d. */
int gc_tokenizer_save_json(const gc_tokenizer *t, const char *path, gc_diag *d);

/* Trains on text[0..len).  vocab_size counts the 256 bytes, the merges and
 * the specials; it must be >= 256 + n_specials.  Specials are non-empty,
 * distinct, at most GC_BPE_MAX_SPECIAL bytes, and contain no byte <= 0x20
 * (space, control) or 0x7f.  The text is cut into words by GPT-2's
 * pre-tokenizer regex.  Returns NULL and fills d on error. */
gc_tokenizer *gc_bpe_train(const uint8_t *text, size_t len, int vocab_size,
                           const char *const *specials, int n_specials, gc_diag *d);

/* Encodes text into *ids (malloc'ed, caller frees; NULL when *n == 0).
 * Returns 0, or -1 on allocation failure, a regex failure or text over
 * 2 GiB (then *ids = NULL, *n = 0). */
int gc_tokenizer_encode(const gc_tokenizer *t, const uint8_t *text, size_t len,
                        int32_t **ids, size_t *n);

/* Decodes ids into *out (malloc'ed, caller frees, NUL-terminated for
 * convenience: (*out)[*len] == 0): each token's bytes, an added token's
 * text.  Returns 0, or -1 when an id is not a token or allocation fails
 * (then *out = NULL, *len = 0). */
int gc_tokenizer_decode(const gc_tokenizer *t, const int32_t *ids, size_t n,
                        uint8_t **out, size_t *len);

/* 1 + the largest id (of the vocabulary and the added tokens). */
int gc_tokenizer_vocab_size(const gc_tokenizer *t);
int gc_tokenizer_n_merges(const gc_tokenizer *t);
/* Merge i (0 <= i < n_merges, by rank) joins *left and *right.
 * Returns 0, or -1 if i is out of range. */
int gc_tokenizer_merge(const gc_tokenizer *t, int i, int32_t *left, int32_t *right);
/* Id of the added token whose text is `special` (special or not), else of
 * the vocabulary token with those bytes; -1 if there is none. */
int gc_tokenizer_special_id(const gc_tokenizer *t, const char *special);

/* Bytes of token id (owned by t, not NUL-terminated), or NULL if id is not
 * a token.  For display; an added token's bytes are its text. */
const uint8_t *gc_tokenizer_token_bytes(const gc_tokenizer *t, int id, size_t *len);

/* Builds gc's training layout (above) from a merge list (2*n_merges ids:
 * left, right of merge i) and specials, validating both. */
gc_tokenizer *gc_tokenizer_from_merges(const int32_t *merges, int n_merges,
                                       const char *const *specials, int n_specials,
                                       gc_diag *d);

void gc_tokenizer_free(gc_tokenizer *t);

#endif
