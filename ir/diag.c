/* FILE:LINE:COL: error: MSG, the source line, a caret under the column.
 *
 * What reaches the terminal is text: a byte that is not printable ASCII or
 * part of a printable UTF-8 character (a binary file, a control character
 * in a label) is written as \xHH, in the message and in the line.  A line
 * wider than WINDOW cells is shown as a window around the caret, each cut
 * end marked "...". */
#include "ir.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { WINDOW = 100 };

typedef struct {
  char *out;
  size_t size, k;
} outbuf;

static void outbuf_printf(outbuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void outbuf_printf(outbuf *o, const char *fmt, ...) {
  if (o->k + 1 >= o->size) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(o->out + o->k, o->size - o->k, fmt, ap);
  va_end(ap);
  if (n > 0) o->k += (size_t)n;
  if (o->k >= o->size) o->k = o->size - 1;
}

/* The bytes of a printable UTF-8 character (U+00A0 and above) at s[0..n),
 * or 0. */
static size_t utf8_char(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (!len || len > n) return 0;
  for (size_t i = 1; i < len; i++)
    if ((s[i] & 0xc0) != 0x80) return 0;
  if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) || (c == 0xf0 && s[1] < 0x90) ||
      (c == 0xf4 && s[1] > 0x8f) || (c == 0xc2 && s[1] < 0xa0))
    return 0;   /* overlong, a surrogate, past U+10FFFF, or a C1 control */
  return len;
}

/* The unit at s[0..n) (a byte or a UTF-8 character) as shown: its bytes in
 * the source (returned), its text into `shown` and its width in cells. */
static size_t unit(const char *s, size_t n, char shown[8], int *cells) {
  unsigned char c = (unsigned char)s[0];
  size_t len = c >= 0x80 ? utf8_char((const unsigned char *)s, n) : 0;
  *cells = 1;
  if (len) {
    memcpy(shown, s, len);
    shown[len] = 0;
    return len;
  }
  if ((c >= 0x20 && c < 0x7f) || c == '\t') {
    shown[0] = (char)c, shown[1] = 0;
  } else {
    snprintf(shown, 8, "\\x%02x", c);
    *cells = 4;
  }
  return 1;
}

static void put_text(outbuf *o, const char *s, size_t n) {
  char shown[8];
  int cells;
  for (size_t i = 0; i < n;) {
    i += unit(s + i, n - i, shown, &cells);
    outbuf_printf(o, "%s", shown);
  }
}

/* Start of 1-based line `line`, or NULL if the text has fewer lines. */
static const char *find_line(const char *text, size_t len, int line, size_t *line_len) {
  size_t i = 0;
  for (int l = 1; l < line; l++) {
    const char *nl = memchr(text + i, '\n', len - i);
    if (!nl) return NULL;
    i = (size_t)(nl - text) + 1;
  }
  const char *nl = memchr(text + i, '\n', len - i);
  size_t n = nl ? (size_t)(nl - text) - i : len - i;
  if (n && text[i + n - 1] == '\r') n--;
  *line_len = n;
  return text + i;
}

/* The line src[0..n), or the window of it around byte `at`, then the
 * caret under that byte. */
static void put_line_and_caret(outbuf *o, const char *src, size_t n, size_t at) {
  char shown[8];
  int cells;
  size_t caret = 0, total = 0;   /* in cells */
  for (size_t i = 0; i < n;) {
    size_t start = i;
    i += unit(src + i, n - i, shown, &cells);
    if (start < at) caret += (size_t)cells;
    total += (size_t)cells;
  }
  size_t lo = 0, hi = total;
  if (total > WINDOW) {
    lo = caret > WINDOW / 2 ? caret - WINDOW / 2 : 0;
    hi = lo + WINDOW < total ? lo + WINDOW : total;
    lo = hi - WINDOW;
  }
  if (lo > 0) outbuf_printf(o, "...");
  size_t cell = 0;
  for (size_t i = 0; i < n;) {
    i += unit(src + i, n - i, shown, &cells);
    if (cell >= lo && cell + (size_t)cells <= hi) outbuf_printf(o, "%s", shown);
    cell += (size_t)cells;
  }
  outbuf_printf(o, "%s\n", hi < total ? "..." : "");
  if (lo > 0) outbuf_printf(o, "   ");
  cell = 0;
  for (size_t i = 0; i < n && i < at;) {
    size_t start = i;
    i += unit(src + i, n - i, shown, &cells);
    if (cell >= lo && cell + (size_t)cells <= hi) outbuf_printf(o, "%*s", cells, src[start] == '\t' ? "\t" : " ");
    cell += (size_t)cells;
  }
  outbuf_printf(o, "^\n");
}

void gc_format_error(const char *file, const char *text, size_t len, const gc_diag *d, char *out,
                     size_t size) {
  outbuf o = {out, size, 0};
  if (!out || !size) return;
  out[0] = 0;
  if (!file) file = "<input>";
  if (d->line <= 0) outbuf_printf(&o, "%s: error: ", file);
  else outbuf_printf(&o, "%s:%d:%d: error: ", file, d->line, d->col);
  put_text(&o, d->msg, strnlen(d->msg, sizeof d->msg));
  outbuf_printf(&o, "\n");
  size_t n = 0;
  const char *src = d->line > 0 && text ? find_line(text, len, d->line, &n) : NULL;
  if (src) put_line_and_caret(&o, src, n, d->col > 1 ? (size_t)(d->col - 1) : 0);
}
