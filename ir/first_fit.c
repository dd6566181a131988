/* First-fit arena planning (see first_fit.h). */
#include "ir/first_fit.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  size_t offset, size;
} block;

/* Free blocks sorted by offset; `top` the high-water mark. */
typedef struct {
  block *free;
  int n_free;
  size_t top;
} free_list;

static size_t take(free_list *a, size_t size) {
  for (int i = 0; i < a->n_free; i++)
    if (a->free[i].size >= size) {
      size_t at = a->free[i].offset;
      a->free[i].offset += size;
      a->free[i].size -= size;
      if (a->free[i].size == 0) {
        memmove(&a->free[i], &a->free[i + 1], sizeof *a->free * (size_t)(a->n_free - i - 1));
        a->n_free--;
      }
      return at;
    }
  /* a free block touching the top grows into it */
  if (a->n_free && a->free[a->n_free - 1].offset + a->free[a->n_free - 1].size == a->top) {
    size_t at = a->free[--a->n_free].offset;
    a->top = at + size;
    return at;
  }
  size_t at = a->top;
  a->top += size;
  return at;
}

static void give(free_list *a, size_t offset, size_t size) {
  int i = 0;
  while (i < a->n_free && a->free[i].offset < offset) i++;
  memmove(&a->free[i + 1], &a->free[i], sizeof *a->free * (size_t)(a->n_free - i));
  a->free[i] = (block){offset, size};
  a->n_free++;
  if (i + 1 < a->n_free && a->free[i].offset + a->free[i].size == a->free[i + 1].offset) {
    a->free[i].size += a->free[i + 1].size;
    memmove(&a->free[i + 1], &a->free[i + 2], sizeof *a->free * (size_t)(a->n_free - i - 2));
    a->n_free--;
  }
  if (i > 0 && a->free[i - 1].offset + a->free[i - 1].size == a->free[i].offset) {
    a->free[i - 1].size += a->free[i].size;
    memmove(&a->free[i], &a->free[i + 1], sizeof *a->free * (size_t)(a->n_free - i - 1));
    a->n_free--;
  }
}

static size_t aligned(size_t b) { return (b + 63) & ~(size_t)63; }

int gc_first_fit(const gc_arena_value *values, int n, int n_steps, size_t *offsets, size_t *total) {
  /* values born at / dying after each step, as linked lists */
  int *born_head = malloc(sizeof(int) * (size_t)(n_steps + 1)), *dies_head = malloc(sizeof(int) * (size_t)(n_steps + 1));
  int *born_next = malloc(sizeof(int) * (size_t)(n + 1)), *dies_next = malloc(sizeof(int) * (size_t)(n + 1));
  free_list a = {malloc(sizeof(block) * (size_t)(n + 1)), 0, 0};
  if (!born_head || !dies_head || !born_next || !dies_next || !a.free) {
    free(born_head), free(dies_head), free(born_next), free(dies_next), free(a.free);
    return -1;
  }
  for (int s = 0; s <= n_steps; s++) born_head[s] = dies_head[s] = -1;
  for (int i = n - 1; i >= 0; i--) {
    offsets[i] = SIZE_MAX;
    if (!values[i].bytes) continue;
    int b = values[i].born, e = values[i].dies < n_steps ? values[i].dies : n_steps;
    born_next[i] = born_head[b], born_head[b] = i;
    dies_next[i] = dies_head[e], dies_head[e] = i;
  }
  for (int s = 0; s <= n_steps; s++) {
    for (int i = born_head[s]; i >= 0; i = born_next[i]) offsets[i] = take(&a, aligned(values[i].bytes));
    for (int i = dies_head[s]; i >= 0; i = dies_next[i]) give(&a, offsets[i], aligned(values[i].bytes));
  }
  *total = a.top;
  free(born_head), free(dies_head), free(born_next), free(dies_next), free(a.free);
  return 0;
}
