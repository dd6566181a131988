/* text/pretokenize.c — the pre-tokenizer's regexes (Oniguruma, the engine
 * Hugging Face's tokenizers uses, with the same Ruby syntax) and the NFC
 * normalizer (utf8proc).
 *
 * Speed: every Oniguruma search call costs about half a microsecond before
 * it matches anything (it mallocs and copies its backtracking stack), more
 * than the match itself for a short word.  So each pattern P is also
 * compiled as (?:(?>P)(*GC_PIECE)){1,BATCH}: one call matches up to BATCH
 * pieces in a row, each the first match of P where the previous one ended
 * (the atomic group keeps exactly what a search there would return), and
 * the callout GC_PIECE records where each ends.  Where that does not apply
 * (no match at the position: a stretch P does not cover, or an empty
 * match), one ordinary search finds the next match. */
#include "text/bpe_internal.h"

#include <oniguruma.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

const char gc_gpt2_pattern[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

#define BATCH 1024

/* Where the current batch call is: the ends of the pieces so far. */
typedef struct {
  OnigRegion *region;
  OnigMatchParam *param;
  int n;
  bool overflow;
  const UChar *ends[BATCH];
} scratch;

static int on_piece_end(OnigCalloutArgs *args, void *user) {
  scratch *sc = user;
  if (sc->n < BATCH) sc->ends[sc->n++] = onig_get_current_by_callout_args(args);
  else sc->overflow = true;
  return ONIG_CALLOUT_SUCCESS;
}

static pthread_once_t onig_once = PTHREAD_ONCE_INIT;
static int onig_ready;
static OnigSyntaxType batch_syntax;   /* Ruby's, with (*NAME) callouts */

static void onig_start(void) {
  OnigEncoding encodings[1] = {ONIG_ENCODING_UTF8};
  onig_ready = onig_initialize(encodings, 1) == ONIG_NORMAL;
  static const char name[] = "GC_PIECE";
  if (onig_ready &&
      onig_set_callout_of_name(ONIG_ENCODING_UTF8, ONIG_CALLOUT_TYPE_SINGLE, (UChar *)name,
                               (UChar *)name + sizeof name - 1, ONIG_CALLOUT_IN_PROGRESS, on_piece_end, NULL, 0,
                               NULL, 0, NULL) < 0)
    onig_ready = 0;
  onig_copy_syntax(&batch_syntax, ONIG_SYNTAX_RUBY);
  onig_set_syntax_op2(&batch_syntax, onig_get_syntax_op2(&batch_syntax) | ONIG_SYN_OP2_ASTERISK_CALLOUT_NAME);
}

/* The batch form of source (NULL if it does not compile: searches only). */
static regex_t *batch_regex(const char *source) {
  size_t n = strlen(source) + 64;
  char *text = malloc(n);
  if (!text) return NULL;
  snprintf(text, n, "(?:(?>%s)(*GC_PIECE)){1,%d}", source, BATCH);
  regex_t *re;
  OnigErrorInfo info;
  int rc = onig_new(&re, (const UChar *)text, (const UChar *)text + strlen(text), ONIG_OPTION_CAPTURE_GROUP,
                    ONIG_ENCODING_UTF8, &batch_syntax, &info);
  free(text);
  return rc == ONIG_NORMAL ? re : NULL;
}

/* A literal string as a regex: every ASCII character that is not a letter
 * or digit escaped. */
static char *escape_literal(const char *s) {
  size_t n = strlen(s);
  char *out = malloc(2 * n + 1), *o = out;
  if (!out) return NULL;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80 && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) *o++ = '\\';
    *o++ = (char)c;
  }
  *o = 0;
  return out;
}

int gc_split_init(gc_split *s, const char *pattern, bool literal, gc_diag *d) {
  *s = (gc_split){0};
  pthread_once(&onig_once, onig_start);
  if (!onig_ready) return gc_diag_set(d, "tokenizer: cannot initialise Oniguruma");
  s->pattern = strdup(pattern);
  char *source = literal ? escape_literal(pattern) : strdup(pattern);
  if (!s->pattern || !source) {
    free(source);
    return gc_diag_set(d, "tokenizer: out of memory");
  }
  s->literal = literal;
  regex_t *re;
  OnigErrorInfo info;
  int rc = onig_new(&re, (const UChar *)source, (const UChar *)source + strlen(source), ONIG_OPTION_CAPTURE_GROUP,
                    ONIG_ENCODING_UTF8, ONIG_SYNTAX_RUBY, &info);
  if (rc != ONIG_NORMAL) {
    free(source);
    UChar msg[ONIG_MAX_ERROR_MESSAGE_LEN];
    onig_error_code_to_str(msg, rc, &info);
    return gc_diag_set(d, "tokenizer: pre-tokenizer regex \"%.80s\": %s", pattern, (const char *)msg);
  }
  s->regex = re;
  s->batch = batch_regex(source);
  free(source);
  return 0;
}

void gc_split_free(gc_split *s) {
  if (s->regex) onig_free((regex_t *)s->regex);
  if (s->batch) onig_free((regex_t *)s->batch);
  free(s->pattern);
  *s = (gc_split){0};
}

void *gc_split_region_new(void) {
  scratch *sc = calloc(1, sizeof *sc);
  if (!sc) return NULL;
  sc->region = onig_region_new();
  sc->param = onig_new_match_param();
  if (!sc->region || !sc->param) {
    gc_split_region_free(sc);
    return NULL;
  }
  onig_initialize_match_param(sc->param);
  onig_set_callout_user_data_of_match_param(sc->param, sc);
  return sc;
}

void gc_split_region_free(void *region) {
  scratch *sc = region;
  if (!sc) return;
  if (sc->region) onig_region_free(sc->region, 1);
  if (sc->param) onig_free_match_param(sc->param);
  free(sc);
}

/* Length of the UTF-8 character starting with byte c (the text is valid). */
static size_t char_len(uint8_t c) { return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4; }

/* Pieces of one batch call at text[*at..]: 1 if it matched, 0 if not,
 * or the callback's value / -1 (a regex failure). */
static int batch_step(const gc_split *s, scratch *sc, const UChar *text, const UChar *end, size_t *at, size_t *gap,
                      gc_piece_fn piece, void *ctx) {
  sc->n = 0;
  sc->overflow = false;
  int r = onig_match_with_param((regex_t *)s->batch, text, end, text + *at, sc->region, ONIG_OPTION_NONE, sc->param);
  if (r == ONIG_MISMATCH || r == 0 || sc->overflow || sc->n == 0) return 0;
  if (r < 0) return -1;
  const UChar *prev = text + *at;
  if (sc->ends[sc->n - 1] != prev + r) return 0;   /* not what it should be: search instead */
  int rc = *gap < *at ? piece(ctx, text + *gap, text + *at) : 0;
  for (int i = 0; rc == 0 && i < sc->n; i++) {
    if (sc->ends[i] > prev) rc = piece(ctx, prev, sc->ends[i]);
    prev = sc->ends[i];
  }
  *at = *gap = (size_t)(prev - text);
  return rc ? rc : 1;
}

int gc_split_pieces(const gc_split *s, void *region, const uint8_t *text, size_t len,
                    gc_piece_fn piece, void *ctx) {
  regex_t *re = s->regex;
  scratch *sc = region;
  OnigRegion *reg = sc->region;
  const UChar *end = text + len;
  size_t at = 0, gap = 0;   /* next search start; start of the unmatched stretch */
  while (at < len) {
    if (s->batch) {
      int b = batch_step(s, sc, text, end, &at, &gap, piece, ctx);
      if (b == 1) continue;
      if (b != 0) return b;
    }
    int r = onig_search(re, text, end, text + at, end, reg, ONIG_OPTION_NONE);
    if (r == ONIG_MISMATCH) break;
    if (r < 0) return -1;
    size_t ms = (size_t)reg->beg[0], me = (size_t)reg->end[0];
    if (me == ms) {   /* an empty match cuts nothing; step over one character */
      if (ms >= len) break;
      at = ms + char_len(text[ms]);
      continue;
    }
    int rc = 0;
    if (ms > gap) rc = piece(ctx, text + gap, text + ms);
    if (rc == 0) rc = piece(ctx, text + ms, text + me);
    if (rc) return rc;
    at = gap = me;
  }
  return gap < len ? piece(ctx, text + gap, text + len) : 0;
}

int gc_nfc(const uint8_t *text, size_t len, uint8_t **out, size_t *out_len) {
  utf8proc_uint8_t *dst = NULL;
  utf8proc_ssize_t n = utf8proc_map(text, (utf8proc_ssize_t)len, &dst, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
  if (n < 0) return -1;
  *out = dst;
  *out_len = (size_t)n;
  return 0;
}
