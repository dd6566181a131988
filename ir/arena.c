/* A bump allocator: chunks that are freed all at once. */
#include "ir.h"

#include <stdlib.h>
#include <string.h>

typedef struct chunk {
  struct chunk *next;
  size_t size, used;
  _Alignas(16) unsigned char data[];
} chunk;

struct gc_arena {
  chunk *head;
};

gc_arena *gc_arena_new(void) { return calloc(1, sizeof(gc_arena)); }

void gc_arena_free(gc_arena *a) {
  if (!a) return;
  for (chunk *c = a->head, *next; c; c = next) {
    next = c->next;
    free(c);
  }
  free(a);
}

void *gc_arena_alloc(gc_arena *a, size_t size) {
  size = (size + 15) & ~(size_t)15;
  if (size == 0) size = 16;
  chunk *c = a->head;
  if (!c || c->size - c->used < size) {
    /* chunks double from 1 KiB to 64 KiB: many small arenas (a loop
     * function per kernel) stay small */
    size_t cap = c ? (c->size < 65536 ? 2 * c->size : 65536) : 1024;
    if (cap < size) cap = size;
    c = malloc(sizeof(chunk) + cap);
    if (!c) abort(); /* out of memory is not a user error */
    c->size = cap;
    c->used = 0;
    c->next = a->head;
    a->head = c;
  }
  void *p = c->data + c->used;
  c->used += size;
  memset(p, 0, size);
  return p;
}

char *gc_arena_strndup(gc_arena *a, const char *s, size_t n) {
  char *p = gc_arena_alloc(a, n + 1);
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

char *gc_arena_strdup(gc_arena *a, const char *s) { return gc_arena_strndup(a, s, strlen(s)); }
