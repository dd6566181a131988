/* safetensors: header validation, dtype conversion, atomic writing. */
#include "io/safetensors.h"
#include "io/json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c copies little-endian data as is; port it for big-endian hosts"
#endif

/* ---- dtypes as the file spells them ------------------------------------- */

typedef enum { AS_IS, FROM_F16, FROM_BF16 } conversion;

typedef struct {
  const char *name;
  size_t size;        /* bytes per element in the file */
  gc_dtype dtype;     /* dtype of the tensor we build */
  conversion conv;
} file_dtype;

static const file_dtype file_dtypes[] = {
    {"F32", 4, GC_F32, AS_IS},   {"F64", 8, GC_F64, AS_IS},     {"I32", 4, GC_I32, AS_IS},
    {"I64", 8, GC_I64, AS_IS},   {"BOOL", 1, GC_BOOL, AS_IS},   {"F16", 2, GC_F32, FROM_F16},
    {"BF16", 2, GC_F32, FROM_BF16},
};
#define N_FILE_DTYPES (int)(sizeof file_dtypes / sizeof *file_dtypes)

static const file_dtype *find_file_dtype(const char *name) {
  for (int i = 0; i < N_FILE_DTYPES; i++)
    if (strcmp(file_dtypes[i].name, name) == 0) return &file_dtypes[i];
  return NULL;
}

/* The file name of a gc dtype, for writing. */
static const char *file_dtype_name(gc_dtype dt) {
  for (int i = 0; i < N_FILE_DTYPES; i++)
    if (file_dtypes[i].conv == AS_IS && file_dtypes[i].dtype == dt) return file_dtypes[i].name;
  return NULL;
}

static float f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (man << 13); /* inf, nan */
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign; /* ±0 */
  } else {
    /* subnormal: normalise the mantissa */
    int e = -1;
    do {
      man <<= 1;
      e++;
    } while (!(man & 0x400));
    bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3FF) << 13);
  }
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

static float bf16_to_f32(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

/* ---- one header entry ---------------------------------------------------- */

typedef struct {
  const char *name;         /* points into the JSON tree */
  const file_dtype *fdt;
  gc_type type;
  uint64_t begin, end;
} entry;

static int entry_error(gc_diag *d, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int entry_error(gc_diag *d, const char *name, const char *fmt, ...) {
  char what[800];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return gc_diag_set(d, "tensor \"%.150s\": %s", name, what);
}

static int read_dtype(const gc_json *info, entry *e, gc_diag *d) {
  const gc_json *dt = gc_json_get(info, "dtype");
  if (!dt) return entry_error(d, e->name, "missing \"dtype\"");
  if (dt->kind != GC_JSON_STRING) return entry_error(d, e->name, "\"dtype\" must be a string");
  e->fdt = find_file_dtype(dt->str);
  if (!e->fdt)
    return entry_error(d, e->name, "dtype \"%.40s\" is not supported (F32, F64, I32, I64, BOOL, F16, BF16)",
                       dt->str);
  return 0;
}

static int read_shape(const gc_json *info, entry *e, gc_diag *d) {
  const gc_json *shape = gc_json_get(info, "shape");
  if (!shape) return entry_error(d, e->name, "missing \"shape\"");
  if (shape->kind != GC_JSON_ARRAY) return entry_error(d, e->name, "\"shape\" must be a list");
  if (shape->n > GC_MAX_RANK)
    return entry_error(d, e->name, "rank %d exceeds the maximum %d", shape->n, GC_MAX_RANK);
  int64_t dims[GC_MAX_RANK];
  for (int i = 0; i < shape->n; i++) {
    const gc_json *dim = shape->items[i];
    if (dim->kind != GC_JSON_NUMBER || !dim->is_int)
      return entry_error(d, e->name, "shape dim %d is not an integer", i);
    if (dim->integer < 0)
      return entry_error(d, e->name, "shape dim %d is negative (%lld)", i, (long long)dim->integer);
    dims[i] = dim->integer;
  }
  e->type = gc_type_make(e->fdt->dtype, shape->n, dims);
  int64_t numel;
  if (!gc_type_numel(&e->type, &numel))
    return entry_error(d, e->name, "shape's element count overflows");
  return 0;
}

static int read_offsets(const gc_json *info, entry *e, uint64_t data_len, gc_diag *d) {
  const gc_json *off = gc_json_get(info, "data_offsets");
  if (!off) return entry_error(d, e->name, "missing \"data_offsets\"");
  if (off->kind != GC_JSON_ARRAY || off->n != 2)
    return entry_error(d, e->name, "\"data_offsets\" must be a list of two integers");
  for (int i = 0; i < 2; i++)
    if (off->items[i]->kind != GC_JSON_NUMBER || !off->items[i]->is_int || off->items[i]->integer < 0)
      return entry_error(d, e->name, "\"data_offsets\" must be two non-negative integers");
  e->begin = (uint64_t)off->items[0]->integer;
  e->end = (uint64_t)off->items[1]->integer;
  if (e->begin > e->end)
    return entry_error(d, e->name, "data_offsets [%llu, %llu] are reversed",
                       (unsigned long long)e->begin, (unsigned long long)e->end);
  if (e->end > data_len)
    return entry_error(d, e->name,
                       "data_offsets [%llu, %llu] run past the end of the data (%llu bytes; truncated file?)",
                       (unsigned long long)e->begin, (unsigned long long)e->end,
                       (unsigned long long)data_len);
  uint64_t want = (uint64_t)gc_type_numel_unchecked(&e->type) * e->fdt->size;
  if (e->end - e->begin != want) {
    char ts[GC_TYPE_STR_MAX];
    gc_type_str(&e->type, ts, sizeof ts);
    return entry_error(d, e->name, "data_offsets [%llu, %llu] hold %llu bytes, but %s %s needs %llu",
                       (unsigned long long)e->begin, (unsigned long long)e->end,
                       (unsigned long long)(e->end - e->begin), e->fdt->name, ts + strcspn(ts, "["),
                       (unsigned long long)want);
  }
  return 0;
}

static int read_entry(const char *name, size_t name_len, const gc_json *info, uint64_t data_len,
                      entry *e, gc_diag *d) {
  e->name = name;
  if (strlen(name) != name_len) return gc_diag_set(d, "a tensor name contains a NUL character");
  if (info->kind != GC_JSON_OBJECT) return entry_error(d, name, "expected an object");
  if (read_dtype(info, e, d) < 0 || read_shape(info, e, d) < 0) return -1;
  return read_offsets(info, e, data_len, d);
}

static int check_metadata(const gc_json *meta, gc_diag *d) {
  if (meta->kind != GC_JSON_OBJECT) return gc_diag_set(d, "\"__metadata__\" must be an object");
  for (int i = 0; i < meta->n; i++)
    if (meta->items[i]->kind != GC_JSON_STRING)
      return gc_diag_set(d, "\"__metadata__\" value \"%.150s\" must be a string", meta->keys[i]);
  return 0;
}

/* ---- whole-header checks ------------------------------------------------- */

static int by_name(const void *a, const void *b) {
  return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

static int by_offsets(const void *a, const void *b) {
  const entry *x = a, *y = b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end) return x->end < y->end ? -1 : 1;
  return 0;
}

/* `sorted` is a scratch copy of the entries. */
static int check_unique_names(entry *sorted, int n, gc_diag *d) {
  qsort(sorted, (size_t)n, sizeof *sorted, by_name);
  for (int i = 1; i < n; i++)
    if (strcmp(sorted[i - 1].name, sorted[i].name) == 0)
      return entry_error(d, sorted[i].name, "the name appears twice in the header");
  return 0;
}

/* The tensors must tile the data section: no overlap, no gap, nothing left. */
static int check_tiling(entry *sorted, int n, uint64_t data_len, gc_diag *d) {
  qsort(sorted, (size_t)n, sizeof *sorted, by_offsets);
  uint64_t covered = 0;
  const entry *last = NULL; /* the entry that ends at `covered` */
  for (int i = 0; i < n; i++) {
    const entry *e = &sorted[i];
    if (e->begin < covered)
      return entry_error(d, e->name, "data_offsets [%llu, %llu] overlap tensor \"%.150s\"'s [%llu, %llu]",
                         (unsigned long long)e->begin, (unsigned long long)e->end, last->name,
                         (unsigned long long)last->begin, (unsigned long long)last->end);
    if (e->begin > covered)
      return entry_error(d, e->name, "data bytes [%llu, %llu) before it belong to no tensor",
                         (unsigned long long)covered, (unsigned long long)e->begin);
    if (e->end > covered || !last) last = e;
    covered = e->end;
  }
  if (covered != data_len)
    return gc_diag_set(d, "data bytes [%llu, %llu) at the end belong to no tensor",
                       (unsigned long long)covered, (unsigned long long)data_len);
  return 0;
}

/* ---- building tensors ---------------------------------------------------- */

static gc_tensor *load_tensor(const entry *e, const unsigned char *data, gc_diag *d) {
  gc_tensor *t = gc_tensor_new(&e->type);
  if (!t) return entry_error(d, e->name, "out of memory"), NULL;
  const unsigned char *src = data + e->begin;
  int64_t n = gc_tensor_numel(t);
  switch (e->fdt->conv) {
  case AS_IS:
    memcpy(t->data, src, e->end - e->begin);
    if (e->type.dtype == GC_BOOL)
      for (int64_t i = 0; i < n; i++) ((uint8_t *)t->data)[i] = ((uint8_t *)t->data)[i] != 0;
    break;
  case FROM_F16:
    for (int64_t i = 0; i < n; i++)
      ((float *)t->data)[i] = f16_to_f32((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
    break;
  case FROM_BF16:
    for (int64_t i = 0; i < n; i++)
      ((float *)t->data)[i] = bf16_to_f32((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
    break;
  }
  return t;
}

/* Moves every tensor of `from` into `to`, emptying `from`. */
static void move_all(gc_tensor_map *from, gc_tensor_map *to) {
  for (int i = 0; i < from->n; i++) {
    gc_tensor_map_put(to, from->names[i], from->tensors[i]);
    from->tensors[i] = NULL;
  }
  gc_tensor_map_clear(from);
}

/* Entries of the header object, in header order; *n_out set. */
static entry *read_entries(const gc_json *header, uint64_t data_len, int *n_out, gc_diag *d) {
  entry *entries = calloc((size_t)header->n + 1, sizeof *entries);
  int n = 0;
  if (!entries) return gc_diag_set(d, "out of memory"), NULL;
  for (int i = 0; i < header->n; i++) {
    if (strcmp(header->keys[i], "__metadata__") == 0 && header->key_lens[i] == 12) {
      if (check_metadata(header->items[i], d) < 0) goto bad;
      continue;
    }
    if (read_entry(header->keys[i], header->key_lens[i], header->items[i], data_len, &entries[n], d) < 0)
      goto bad;
    n++;
  }
  *n_out = n;
  return entries;
bad:
  free(entries);
  return NULL;
}

static int check_layout(const entry *entries, int n, uint64_t data_len, gc_diag *d) {
  entry *sorted = malloc(sizeof *sorted * ((size_t)n + 1));
  if (!sorted) return gc_diag_set(d, "out of memory");
  memcpy(sorted, entries, sizeof *sorted * (size_t)n);
  int rc = check_unique_names(sorted, n, d);
  if (rc == 0) rc = check_tiling(sorted, n, data_len, d);
  free(sorted);
  return rc;
}

static int load_all(const entry *entries, int n, const unsigned char *data, gc_tensor_map *out,
                    gc_diag *d) {
  gc_tensor_map tmp;
  gc_tensor_map_init(&tmp);
  for (int i = 0; i < n; i++) {
    gc_tensor *t = load_tensor(&entries[i], data, d);
    if (!t) {
      gc_tensor_map_clear(&tmp);
      return -1;
    }
    gc_tensor_map_put(&tmp, entries[i].name, t);
  }
  move_all(&tmp, out);
  return 0;
}

int gc_safetensors_parse(const void *buf, size_t len, gc_tensor_map *out, gc_diag *d) {
  const unsigned char *p = buf;
  if (len < 8) return gc_diag_set(d, "too short (%zu bytes) to be a safetensors file", len);
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; i--) hlen = hlen << 8 | p[i];
  if (hlen > GC_SAFETENSORS_MAX_HEADER)
    return gc_diag_set(d, "header length %llu is absurd (the limit is %u bytes)",
                       (unsigned long long)hlen, GC_SAFETENSORS_MAX_HEADER);
  if (hlen > len - 8)
    return gc_diag_set(d, "header length %llu runs past the end of the file (%zu bytes)",
                       (unsigned long long)hlen, len);
  gc_diag jd;
  gc_json *header = gc_json_parse((const char *)p + 8, (size_t)hlen, &jd);
  if (!header) return gc_diag_set(d, "header: %s", jd.msg);
  int rc = -1, n = 0;
  uint64_t data_len = len - 8 - hlen;
  entry *entries = NULL;
  if (header->kind != GC_JSON_OBJECT)
    gc_diag_set(d, "header: expected a JSON object, got %s", gc_json_kind_name(header->kind));
  else if ((entries = read_entries(header, data_len, &n, d)) && check_layout(entries, n, data_len, d) == 0)
    rc = load_all(entries, n, p + 8 + hlen, out, d);
  free(entries);
  gc_json_free(header);
  return rc;
}

int gc_safetensors_read(const char *path, gc_tensor_map *out, gc_diag *d) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return gc_diag_set(d, "cannot open %s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return gc_diag_set(d, "cannot read %s: %s", path, strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return gc_diag_set(d, "cannot read %s: not a regular file", path);
  }
  size_t size = (size_t)st.st_size;
  void *map = NULL;
  if (size > 0) {
    map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      int err = errno;
      close(fd);
      return gc_diag_set(d, "cannot map %s: %s", path, strerror(err));
    }
  }
  close(fd);
  gc_diag pd;
  int rc = gc_safetensors_parse(map ? map : "", size, out, &pd);
  if (map) munmap(map, size);
  if (rc < 0) gc_diag_set(d, "%s: %s", path, pd.msg);
  return rc;
}

/* ---- writing -------------------------------------------------------------- */

typedef struct {
  char *s;
  size_t n, cap;
  bool oom;
} text;

static void append(text *t, const char *s, size_t n) {
  if (t->oom) return;
  if (t->n + n + 1 > t->cap) {
    size_t cap = t->cap ? t->cap : 256;
    while (cap < t->n + n + 1) cap *= 2;
    char *p = realloc(t->s, cap);
    if (!p) {
      t->oom = true;
      return;
    }
    t->s = p;
    t->cap = cap;
  }
  memcpy(t->s + t->n, s, n);
  t->n += n;
  t->s[t->n] = 0;
}

static void appendf(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void appendf(text *t, const char *fmt, ...) {
  char buf[128];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  append(t, buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void append_json_string(text *t, const char *s) {
  append(t, "\"", 1);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      append(t, "\\", 1);
      append(t, s, 1);
    } else if (c < 0x20) {
      appendf(t, "\\u%04x", c);
    } else {
      append(t, s, 1);
    }
  }
  append(t, "\"", 1);
}

/* The header JSON, space-padded so that 8 + its length is a multiple of 8. */
static int build_header(const gc_tensor_map *m, text *h, gc_diag *d) {
  uint64_t offset = 0;
  append(h, "{", 1);
  for (int i = 0; i < m->n; i++) {
    const gc_tensor *t = m->tensors[i];
    int64_t numel;
    const char *dt = t ? file_dtype_name(t->type.dtype) : NULL;
    if (!dt || !gc_type_numel(&t->type, &numel))
      return entry_error(d, m->names[i], "not a valid tensor to write");
    uint64_t bytes = (uint64_t)gc_tensor_bytes(t);
    if (i) append(h, ",", 1);
    append_json_string(h, m->names[i]);
    appendf(h, ":{\"dtype\":\"%s\",\"shape\":[", dt);
    for (int k = 0; k < t->type.rank; k++) appendf(h, "%s%lld", k ? "," : "", (long long)t->type.dims[k]);
    appendf(h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)offset,
            (unsigned long long)(offset + bytes));
    offset += bytes;
  }
  append(h, "}", 1);
  while ((8 + h->n) % 8 != 0) append(h, " ", 1);
  if (h->oom) return gc_diag_set(d, "out of memory");
  return 0;
}

static bool write_all(FILE *f, const gc_tensor_map *m, const text *h) {
  unsigned char len[8];
  for (int i = 0; i < 8; i++) len[i] = (unsigned char)((uint64_t)h->n >> (8 * i));
  if (fwrite(len, 1, 8, f) != 8 || fwrite(h->s, 1, h->n, f) != h->n) return false;
  for (int i = 0; i < m->n; i++) {
    size_t bytes = gc_tensor_bytes(m->tensors[i]);
    if (fwrite(m->tensors[i]->data, 1, bytes, f) != bytes) return false;
  }
  return fflush(f) == 0 && fsync(fileno(f)) == 0;
}

/* Writes into a fresh temporary next to `path`, then renames it over `path`. */
static int write_file(const char *path, const gc_tensor_map *m, const text *h, gc_diag *d) {
  size_t n = strlen(path);
  char *tmp = malloc(n + 16);
  if (!tmp) return gc_diag_set(d, "cannot write %s: out of memory", path);
  memcpy(tmp, path, n);
  memcpy(tmp + n, ".tmp.XXXXXX", 12);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    int err = errno;
    free(tmp);
    return gc_diag_set(d, "cannot write %s: %s", path, strerror(err));
  }
  FILE *f = fdopen(fd, "wb");
  bool ok = f && fchmod(fd, 0644) == 0 && write_all(f, m, h);
  int err = errno;
  if (f) {
    if (fclose(f) != 0 && ok) ok = false, err = errno;
  } else {
    close(fd);
  }
  if (ok && rename(tmp, path) != 0) ok = false, err = errno;
  if (!ok) unlink(tmp);
  free(tmp);
  if (!ok) return gc_diag_set(d, "cannot write %s: %s", path, strerror(err ? err : EIO));
  return 0;
}

int gc_safetensors_write(const char *path, const gc_tensor_map *m, gc_diag *d) {
  text h = {0};
  int rc = build_header(m, &h, d);
  if (rc == 0) rc = write_file(path, m, &h, d);
  free(h.s);
  return rc;
}
