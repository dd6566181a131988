/* base/strbuf.h — a growing, NUL-terminated string for printers.
 *
 *   gc_strbuf b = {0};
 *   gc_strbuf_printf(&b, "graph %s {\n", name);
 *   ...
 *   char *text = gc_strbuf_take(&b);   // the caller frees; NULL: out of memory
 *
 * Out of memory is sticky: `failed` is set, later writes do nothing, and
 * gc_strbuf_take frees the text and gives NULL. */
#ifndef GC_BASE_STRBUF_H
#define GC_BASE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
  char *s;
  size_t len, cap;
  bool failed;
} gc_strbuf;

/* Room for `extra` more characters and the NUL. */
void gc_strbuf_reserve(gc_strbuf *b, size_t extra);
void gc_strbuf_printf(gc_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gc_strbuf_putc(gc_strbuf *b, char c);
/* The text (empty, not NULL, when nothing was written); NULL after a failure. */
char *gc_strbuf_take(gc_strbuf *b);

#endif
