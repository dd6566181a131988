/* Tensors and named tensor sets. */
#include "ir/tensor.h"
#include "base/alloc.h"

#include <stdlib.h>
#include <string.h>

gc_tensor *gc_tensor_new(const gc_type *t) {
  int64_t n;
  if (!gc_type_numel(t, &n) || (unsigned)t->dtype >= GC_DTYPE_COUNT) return NULL;
  gc_tensor *x = gc_alloc(sizeof *x);
  if (!x) return NULL;
  x->type = *t;
  x->data = gc_alloc((size_t)n * gc_dtype_size(t->dtype));
  if (!x->data) {
    gc_free(x);
    return NULL;
  }
  return x;
}

gc_tensor *gc_tensor_clone(const gc_tensor *t) {
  gc_tensor *c = gc_tensor_new(&t->type);
  if (c) memcpy(c->data, t->data, gc_tensor_bytes(t));
  return c;
}

void gc_tensor_free(gc_tensor *t) {
  if (!t) return;
  gc_free(t->data);
  gc_free(t);
}

int64_t gc_tensor_numel(const gc_tensor *t) { return gc_type_numel_unchecked(&t->type); }
size_t gc_tensor_bytes(const gc_tensor *t) {
  return (size_t)gc_tensor_numel(t) * gc_dtype_size(t->type.dtype);
}

double gc_tensor_load(const gc_tensor *t, int64_t i) {
  switch (t->type.dtype) {
  case GC_F32: return ((const float *)t->data)[i];
  case GC_F64: return ((const double *)t->data)[i];
  case GC_I32: return ((const int32_t *)t->data)[i];
  case GC_I64: return (double)((const int64_t *)t->data)[i];
  case GC_BOOL: return ((const uint8_t *)t->data)[i] != 0;
  default: return 0;
  }
}

void gc_tensor_store(gc_tensor *t, int64_t i, double v) {
  switch (t->type.dtype) {
  case GC_F32: ((float *)t->data)[i] = (float)v; break;
  case GC_F64: ((double *)t->data)[i] = v; break;
  case GC_I32: ((int32_t *)t->data)[i] = (int32_t)v; break;
  case GC_I64: ((int64_t *)t->data)[i] = (int64_t)v; break;
  case GC_BOOL: ((uint8_t *)t->data)[i] = v != 0; break;
  default: break;
  }
}

void gc_tensor_map_init(gc_tensor_map *s) { memset(s, 0, sizeof *s); }

void gc_tensor_map_clear(gc_tensor_map *s) {
  for (int i = 0; i < s->n; i++) {
    free(s->names[i]);
    gc_tensor_free(s->tensors[i]);
  }
  free(s->names);
  free(s->tensors);
  memset(s, 0, sizeof *s);
}

static int find(const gc_tensor_map *s, const char *name) {
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->names[i], name) == 0) return i;
  return -1;
}

void gc_tensor_map_put(gc_tensor_map *s, const char *name, gc_tensor *t) {
  int i = find(s, name);
  if (i >= 0) {
    if (s->tensors[i] != t) gc_tensor_free(s->tensors[i]);
    s->tensors[i] = t;
    return;
  }
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 16;
    s->names = realloc(s->names, sizeof(char *) * (size_t)s->cap);
    s->tensors = realloc(s->tensors, sizeof(gc_tensor *) * (size_t)s->cap);
    if (!s->names || !s->tensors) abort();
  }
  s->names[s->n] = strdup(name);
  s->tensors[s->n++] = t;
}

gc_tensor *gc_tensor_map_get(const gc_tensor_map *s, const char *name) {
  int i = find(s, name);
  return i < 0 ? NULL : s->tensors[i];
}

gc_tensor *gc_tensor_map_take(gc_tensor_map *s, const char *name) {
  int i = find(s, name);
  if (i < 0) return NULL;
  gc_tensor *t = s->tensors[i];
  free(s->names[i]);
  memmove(s->names + i, s->names + i + 1, sizeof(char *) * (size_t)(s->n - i - 1));
  memmove(s->tensors + i, s->tensors + i + 1, sizeof(gc_tensor *) * (size_t)(s->n - i - 1));
  s->n--;
  return t;
}
