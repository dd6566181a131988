/* text/pretokenize.c — the pre-tokenizer's regexes (Oniguruma, the engine
 * Hugging Face's tokenizers uses, with the same Ruby syntax) and the NFC
 * normalizer (utf8proc). */
#include "text/bpe_internal.h"

#include <oniguruma.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

const char gc_gpt2_pattern[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

static pthread_once_t onig_once = PTHREAD_ONCE_INIT;
static int onig_ready;

static void onig_start(void) {
  OnigEncoding encodings[1] = {ONIG_ENCODING_UTF8};
  onig_ready = onig_initialize(encodings, 1) == ONIG_NORMAL;
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
  free(source);
  if (rc != ONIG_NORMAL) {
    UChar msg[ONIG_MAX_ERROR_MESSAGE_LEN];
    onig_error_code_to_str(msg, rc, &info);
    return gc_diag_set(d, "tokenizer: pre-tokenizer regex \"%.80s\": %s", pattern, (const char *)msg);
  }
  s->regex = re;
  return 0;
}

void gc_split_free(gc_split *s) {
  if (s->regex) onig_free((regex_t *)s->regex);
  free(s->pattern);
  *s = (gc_split){0};
}

void *gc_split_region_new(void) { return onig_region_new(); }
void gc_split_region_free(void *region) {
  if (region) onig_region_free((OnigRegion *)region, 1);
}

/* Length of the UTF-8 character starting with byte c (the text is valid). */
static size_t char_len(uint8_t c) { return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4; }

int gc_split_pieces(const gc_split *s, void *region, const uint8_t *text, size_t len,
                    gc_piece_fn piece, void *ctx) {
  regex_t *re = s->regex;
  OnigRegion *reg = region;
  const UChar *end = text + len;
  size_t at = 0, gap = 0;   /* next search start; start of the unmatched stretch */
  while (at < len) {
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
