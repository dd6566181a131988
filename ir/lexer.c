/* The lexer of the graph IR text form (ir/diag.c renders its errors
 * against the same text). */
#include "lexer.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lexer_init(lexer *lx, const char *text, size_t len, gc_arena *scratch) {
  memset(lx, 0, sizeof *lx);
  lx->text = text ? text : "";
  lx->len = text ? len : 0;
  lx->line = lx->col = lx->end_line = lx->end_col = 1;
  lx->scratch = scratch;
}

static int peekc(const lexer *lx, size_t k) {
  return lx->pos + k < lx->len ? (unsigned char)lx->text[lx->pos + k] : -1;
}

static void advance(lexer *lx) {
  if (lx->text[lx->pos] == '\n') {
    lx->line++;
    lx->col = 1;
  } else {
    lx->col++;
  }
  lx->pos++;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_ident(int c) { return is_alpha(c) || is_digit(c); }
static bool is_name(int c) { return is_ident(c) || c == '.'; }

static int lex_error(gc_diag *d, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int lex_error(gc_diag *d, int line, int col, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->msg, sizeof d->msg, fmt, ap);
  va_end(ap);
  d->line = line;
  d->col = col;
  return -1;
}

static void skip_space_and_comments(lexer *lx) {
  for (;;) {
    int c = peekc(lx, 0);
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
      advance(lx);
    } else if (c == '#') {
      while (peekc(lx, 0) != -1 && peekc(lx, 0) != '\n') advance(lx);
    } else {
      return;
    }
  }
}

static bool word_is(const char *s, size_t n, const char *w) {
  return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* inf / nan, optionally signed: `t->text` spans the whole word. */
static bool special_float(token *t, bool neg, const char *word, size_t n) {
  if (word_is(word, n, "inf")) t->fval = neg ? -INFINITY : INFINITY;
  else if (word_is(word, n, "nan")) t->fval = NAN;
  else return false;
  t->kind = TOK_NUMBER;
  return true;
}

static bool int_syntax(const char *s) {
  if (*s == '-' || *s == '+') s++;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s += 2;
    if (!*s) return false;
    for (; *s; s++)
      if (!strchr("0123456789abcdefABCDEF", *s)) return false;
    return true;
  }
  if (!*s) return false;
  for (; *s; s++)
    if (!is_digit(*s)) return false;
  return true;
}

/* Convert the number written in t->text[0..len). */
static int classify_number(token *t, gc_diag *d) {
  char buf[128];
  if (t->len >= sizeof buf)
    return lex_error(d, t->line, t->col, "number is too long (%zu characters)", t->len);
  memcpy(buf, t->text, t->len);
  buf[t->len] = 0;
  char *end;
  errno = 0;
  t->fval = strtod(buf, &end);
  if (end == buf || *end || (errno == ERANGE && isinf(t->fval)))
    return lex_error(d, t->line, t->col, "bad number '%s'", buf);
  t->int_syntax = int_syntax(buf);
  if (t->int_syntax) {
    bool hex = strchr(buf, 'x') || strchr(buf, 'X');
    errno = 0;
    long long v = strtoll(buf, &end, hex ? 16 : 10);
    t->int_ok = errno == 0 && !*end;
    t->ival = v;
  }
  t->kind = TOK_NUMBER;
  return 0;
}

static int lex_number(lexer *lx, token *t, gc_diag *d) {
  bool neg = peekc(lx, 0) == '-';
  if (peekc(lx, 0) == '-' || peekc(lx, 0) == '+') advance(lx);
  if (is_alpha(peekc(lx, 0))) { /* -inf, +nan */
    size_t w = lx->pos;
    while (is_ident(peekc(lx, 0))) advance(lx);
    t->len = lx->pos - (size_t)(t->text - lx->text);
    if (!special_float(t, neg, lx->text + w, lx->pos - w))
      return lex_error(d, t->line, t->col, "bad number '%.*s'", (int)(t->len > 40 ? 40 : t->len), t->text);
    return 0;
  }
  for (int prev = 0;;) {
    int c = peekc(lx, 0);
    bool exp_sign = (c == '+' || c == '-') && strchr("eEpP", prev ? prev : ' ');
    if (!is_name(c) && !exp_sign) break;
    prev = c;
    advance(lx);
  }
  t->len = lx->pos - (size_t)(t->text - lx->text);
  return classify_number(t, d);
}

static int hex_digit(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decode a string body starting just after its opening quote at s[i].  With
 * out == NULL only measures.  Returns the index just past the closing quote,
 * or 0 with *bad / *why describing the first problem. */
static size_t string_body(const char *s, size_t n, size_t i, char *out, size_t *out_len,
                          size_t *bad, const char **why) {
  size_t k = 0;
  while (i < n && s[i] != '"' && s[i] != '\n') {
    char c = s[i];
    if (c == '\\') {
      char e = i + 1 < n ? s[i + 1] : 0;
      int hi = e == 'x' && i + 3 < n ? hex_digit(s[i + 2]) : -1;
      int lo = e == 'x' && i + 3 < n ? hex_digit(s[i + 3]) : -1;
      if (e == '"' || e == '\\') c = e;
      else if (e == 'n') c = '\n';
      else if (e == 't') c = '\t';
      else if (e == 'r') c = '\r';
      else if (hi >= 0 && lo >= 0 && (hi | lo)) c = (char)(hi * 16 + lo);
      else {
        *bad = i;
        *why = e == 'x' ? "bad escape in string (\\x needs two hex digits, not 00)"
                        : "unknown escape in string (use \\\" \\\\ \\n \\t \\r \\xHH)";
        return 0;
      }
      i += e == 'x' ? 4 : 2;
    } else if (c == '\0') {
      *bad = i;
      *why = "NUL byte in string (a name or label cannot hold one)";
      return 0;
    } else {
      i++;
    }
    if (out) out[k] = c;
    k++;
  }
  if (i >= n || s[i] != '"') {
    *bad = (size_t)-1;
    *why = "unterminated string";
    return 0;
  }
  *out_len = k;
  return i + 1;
}

static int lex_string(lexer *lx, token *t, gc_diag *d) {
  size_t start = lx->pos, bad = 0, n = 0;
  const char *why = NULL;
  size_t end = string_body(lx->text, lx->len, start + 1, NULL, &n, &bad, &why);
  if (!end) {
    int col = bad == (size_t)-1 ? t->col : t->col + (int)(bad - start);
    return lex_error(d, t->line, col, "%s", why);
  }
  char *out = gc_arena_alloc(lx->scratch, n + 1);
  string_body(lx->text, lx->len, start + 1, out, &n, &bad, &why);
  out[n] = 0;
  t->str = out;
  t->kind = TOK_STRING;
  lx->col += (int)(end - start); /* strings never span lines */
  lx->pos = end;
  t->len = end - start;
  return 0;
}

static int lex_name(lexer *lx, token *t, gc_diag *d) {
  char sigil = (char)peekc(lx, 0);
  advance(lx);
  while (is_name(peekc(lx, 0)) || (sigil == '@' && peekc(lx, 0) == '-')) advance(lx);
  t->text++;
  t->len = lx->pos - (size_t)(t->text - lx->text);
  if (t->len == 0)
    return lex_error(d, t->line, t->col, "expected a name after '%c'", sigil);
  t->kind = sigil == '%' ? TOK_VALUE : TOK_GLOBAL;
  return 0;
}

static bool starts_number(const lexer *lx) {
  int c = peekc(lx, 0), c1 = peekc(lx, 1), c2 = peekc(lx, 2);
  if (is_digit(c) || (c == '.' && is_digit(c1))) return true;
  if (c != '-' && c != '+') return false;
  return is_digit(c1) || (c1 == '.' && is_digit(c2)) || is_alpha(c1);
}

static int lex_token(lexer *lx, token *t, gc_diag *d) {
  int c = peekc(lx, 0);
  if (is_alpha(c)) {
    while (is_ident(peekc(lx, 0))) advance(lx);
    t->len = lx->pos - (size_t)(t->text - lx->text);
    if (!special_float(t, false, t->text, t->len)) t->kind = TOK_IDENT;
    return 0;
  }
  if (c == '%' || c == '@') return lex_name(lx, t, d);
  if (starts_number(lx)) return lex_number(lx, t, d);
  if (c == '"') return lex_string(lx, t, d);
  if (c == '-' && peekc(lx, 1) == '>') {   /* "->", after a kernel's operands */
    advance(lx);
    advance(lx);
    t->kind = TOK_PUNCT;
    t->punct = '>';
    t->len = 2;
    return 0;
  }
  if (c != -1 && strchr("=,:{}[]()", c) && c) {
    advance(lx);
    t->kind = TOK_PUNCT;
    t->punct = (char)c;
    t->len = 1;
    return 0;
  }
  if (c >= 0x21 && c < 0x7f) return lex_error(d, t->line, t->col, "unexpected character '%c'", c);
  return lex_error(d, t->line, t->col, "unexpected byte 0x%02x", (unsigned)c);
}

int lexer_next(lexer *lx, token *t, gc_diag *d) {
  memset(t, 0, sizeof *t);
  skip_space_and_comments(lx);
  t->text = lx->text + lx->pos;
  if (lx->pos >= lx->len) {
    t->kind = TOK_EOF;
    t->line = lx->end_line;
    t->col = lx->end_col;
    return 0;
  }
  t->line = lx->line;
  t->col = lx->col;
  if (lex_token(lx, t, d)) return -1;
  lx->end_line = lx->line;
  lx->end_col = lx->col;
  return 0;
}

const char *token_describe(const token *t, char *buf, size_t size) {
  int n = t->len > 40 ? 40 : (int)t->len;
  switch (t->kind) {
  case TOK_EOF: snprintf(buf, size, "end of file"); break;
  case TOK_STRING: snprintf(buf, size, "a string"); break;
  case TOK_VALUE: snprintf(buf, size, "%%%.*s", n, t->text); break;
  case TOK_GLOBAL: snprintf(buf, size, "@%.*s", n, t->text); break;
  default: snprintf(buf, size, "'%.*s'", n, t->text); break;
  }
  return buf;
}
