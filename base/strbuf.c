/* base/strbuf.c — see strbuf.h. */
#include "base/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void gc_strbuf_reserve(gc_strbuf *b, size_t extra) {
  if (b->failed || b->len + extra + 1 <= b->cap) return;
  size_t cap = b->cap ? b->cap : 1024;
  while (cap < b->len + extra + 1) cap *= 2;
  char *s = realloc(b->s, cap);
  if (!s) {
    b->failed = true;
    return;
  }
  b->s = s;
  b->cap = cap;
}

/* Formats once into the room there is; only a text that does not fit is
 * formatted again, after the buffer grew (printers call this per token:
 * measuring every one first doubled their time). */
void gc_strbuf_printf(gc_strbuf *b, const char *fmt, ...) {
  if (b->failed) return;
  size_t room = b->cap - b->len;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(room ? b->s + b->len : NULL, room, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= room) {
    gc_strbuf_reserve(b, (size_t)n);
    if (b->failed) return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
  }
  b->len += (size_t)n;
}

void gc_strbuf_putc(gc_strbuf *b, char c) {
  gc_strbuf_reserve(b, 1);
  if (b->failed) return;
  b->s[b->len++] = c;
  b->s[b->len] = 0;
}

char *gc_strbuf_take(gc_strbuf *b) {
  gc_strbuf_reserve(b, 0);
  if (b->failed) {
    free(b->s);
    *b = (gc_strbuf){0};
    return NULL;
  }
  b->s[b->len] = 0;
  char *s = b->s;
  *b = (gc_strbuf){0};
  return s;
}
