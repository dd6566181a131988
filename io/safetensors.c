/* safetensors: header validation (jansson parses the JSON), dtype
 * conversion, writing (atomically, through io/file.c). */
#include "io/safetensors.h"
#include "io/file.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c copies little-endian data as is; port it for big-endian hosts"
#endif

_Static_assert(sizeof(json_int_t) >= 8, "data offsets are read as 64-bit integers");

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

/* "tensor "NAME": what" (or ""__metadata__": what"). */
static int entry_error(gc_diag *d, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int entry_error(gc_diag *d, const char *name, const char *fmt, ...) {
  char what[800];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (strcmp(name, "__metadata__") == 0) return gc_diag_set(d, "\"__metadata__\": %s", what);
  return gc_diag_set(d, "tensor \"%.150s\": %s", name, what);
}

static int read_dtype(const json_t *info, entry *e, gc_diag *d) {
  const json_t *dt = json_object_get(info, "dtype");
  if (!dt) return entry_error(d, e->name, "missing \"dtype\"");
  if (!json_is_string(dt)) return entry_error(d, e->name, "\"dtype\" must be a string");
  e->fdt = find_file_dtype(json_string_value(dt));
  if (!e->fdt)
    return entry_error(d, e->name, "dtype \"%.40s\" is not supported (F32, F64, I32, I64, BOOL, F16, BF16)",
                       json_string_value(dt));
  return 0;
}

static int read_shape(const json_t *info, entry *e, gc_diag *d) {
  const json_t *shape = json_object_get(info, "shape");
  if (!shape) return entry_error(d, e->name, "missing \"shape\"");
  if (!json_is_array(shape)) return entry_error(d, e->name, "\"shape\" must be a list");
  size_t rank = json_array_size(shape);
  if (rank > GC_MAX_RANK) return entry_error(d, e->name, "rank %zu exceeds the maximum %d", rank, GC_MAX_RANK);
  int64_t dims[GC_MAX_RANK];
  for (size_t i = 0; i < rank; i++) {
    const json_t *dim = json_array_get(shape, i);
    if (!json_is_integer(dim)) return entry_error(d, e->name, "shape dim %zu is not an integer", i);
    dims[i] = json_integer_value(dim);
    if (dims[i] < 0)
      return entry_error(d, e->name, "shape dim %zu is negative (%lld)", i, (long long)dims[i]);
  }
  e->type = gc_type_make(e->fdt->dtype, (int)rank, dims);
  int64_t numel;
  if (!gc_type_numel(&e->type, &numel))
    return entry_error(d, e->name, "shape's element count overflows");
  return 0;
}

static int read_offsets(const json_t *info, entry *e, uint64_t data_len, gc_diag *d) {
  const json_t *off = json_object_get(info, "data_offsets");
  if (!off) return entry_error(d, e->name, "missing \"data_offsets\"");
  if (!json_is_array(off) || json_array_size(off) != 2)
    return entry_error(d, e->name, "\"data_offsets\" must be a list of two integers");
  json_int_t at[2];
  for (size_t i = 0; i < 2; i++) {
    const json_t *x = json_array_get(off, i);
    if (!json_is_integer(x) || (at[i] = json_integer_value(x)) < 0)
      return entry_error(d, e->name, "\"data_offsets\" must be two non-negative integers");
  }
  e->begin = (uint64_t)at[0];
  e->end = (uint64_t)at[1];
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

static int read_entry(const char *name, const json_t *info, uint64_t data_len, entry *e, gc_diag *d) {
  e->name = name;
  if (!json_is_object(info)) return entry_error(d, name, "expected an object");
  if (read_dtype(info, e, d) < 0 || read_shape(info, e, d) < 0) return -1;
  return read_offsets(info, e, data_len, d);
}

static int check_metadata(const json_t *meta, gc_diag *d) {
  if (!json_is_object(meta)) return gc_diag_set(d, "\"__metadata__\" must be an object");
  const char *key;
  const json_t *value;
  json_object_foreach((json_t *)meta, key, value)
    if (!json_is_string(value))
      return gc_diag_set(d, "\"__metadata__\" value \"%.150s\" must be a string", key);
  return 0;
}

/* ---- JSON errors ----------------------------------------------------------- */

/* What surrounds byte `pos` of a header that jansson read fine up to there:
 * the top-level key whose value holds it (a tensor's name), the last string
 * before it (as raw JSON literals), and the nesting depth.  Only for naming
 * the tensor in an error message: it follows strings and brackets, nothing
 * else. */
typedef struct {
  const char *tensor, *last;
  size_t tensor_len, last_len;
  int depth;
} header_spot;

static header_spot spot_at(const char *s, size_t pos) {
  header_spot at = {0};
  const char *str = NULL; /* the string being read */
  for (size_t i = 0; i < pos; i++) {
    char c = s[i];
    if (str) {
      if (c == '\\') i++;
      else if (c == '"') at.last = str, at.last_len = (size_t)(s + i + 1 - str), str = NULL;
    } else if (c == '"') {
      str = s + i;
    } else if (c == '{' || c == '[') {
      at.depth++;
    } else if (c == '}' || c == ']') {
      if (--at.depth < 1) at.tensor = NULL;
    } else if (at.depth == 1 && c == ':') {
      at.tensor = at.last, at.tensor_len = at.last_len;
    } else if (at.depth == 1 && c == ',') {
      at.tensor = NULL;
    }
  }
  return at;
}

/* The JSON string literal `lit` decoded into out (as written if it does not
 * decode, e.g. when cut short). */
static void literal_text(const char *lit, size_t len, char *out, size_t size) {
  json_t *s = lit ? json_loadb(lit, len, JSON_DECODE_ANY, NULL) : NULL;
  if (json_is_string(s)) snprintf(out, size, "%s", json_string_value(s));
  else snprintf(out, size, "%.*s", (int)(lit ? len : 0), lit ? lit : "");
  json_decref(s);
}

static int json_error(const char *header, size_t len, const json_error_t *err, gc_diag *d) {
  size_t pos = err->position < 0 ? 0 : (size_t)err->position > len ? len : (size_t)err->position;
  header_spot at = spot_at(header, pos);
  char tensor[200] = "", key[200];
  if (at.tensor) literal_text(at.tensor, at.tensor_len, tensor, sizeof tensor);
  const char *why = NULL;
  switch (json_error_code(err)) {
  case json_error_duplicate_key:
    literal_text(at.last, at.last_len, key, sizeof key);
    if (at.depth == 1) return entry_error(d, key, "the name appears twice in the header");
    if (at.tensor) return entry_error(d, tensor, "key \"%.150s\" appears twice", key);
    return gc_diag_set(d, "header: key \"%.150s\" appears twice", key);
  case json_error_premature_end_of_input: why = "unexpected end of the header"; break;
  case json_error_end_of_input_expected: why = "text after the value"; break;
  case json_error_invalid_utf8: why = "invalid UTF-8"; break;
  case json_error_stack_overflow: why = "nested too deep"; break;
  case json_error_numeric_overflow: why = "an integer does not fit in 64 bits"; break;
  default: break;
  }
  char what[400];
  snprintf(what, sizeof what, "%s%s%s%s", why ? why : "", why ? " (" : "", err->text, why ? ")" : "");
  if (at.tensor) return entry_error(d, tensor, "invalid JSON at byte %zu of the header: %s", pos, what);
  return gc_diag_set(d, "header: invalid JSON at byte %zu: %s", pos, what);
}

static const char *json_kind_name(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT: return "an object";
  case JSON_ARRAY: return "an array";
  case JSON_STRING: return "a string";
  case JSON_INTEGER: case JSON_REAL: return "a number";
  case JSON_TRUE: case JSON_FALSE: return "a boolean";
  default: return "null";
  }
}

/* ---- whole-header checks ------------------------------------------------- */

static int by_offsets(const void *a, const void *b) {
  const entry *x = a, *y = b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end) return x->end < y->end ? -1 : 1;
  return 0;
}

/* The tensors must tile the data section: no overlap, no gap, nothing left.
 * `sorted` is a scratch copy of the entries. */
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
static entry *read_entries(json_t *header, uint64_t data_len, int *n_out, gc_diag *d) {
  entry *entries = calloc(json_object_size(header) + 1, sizeof *entries);
  int n = 0;
  if (!entries) return gc_diag_set(d, "out of memory"), NULL;
  const char *name;
  const json_t *info;
  json_object_foreach(header, name, info) {
    if (strcmp(name, "__metadata__") == 0) {
      if (check_metadata(info, d) < 0) goto bad;
      continue;
    }
    if (read_entry(name, info, data_len, &entries[n], d) < 0) goto bad;
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
  int rc = check_tiling(sorted, n, data_len, d);
  free(sorted);
  return rc;
}

/* The file as parsed: its bytes, and whether they are a gc_map_file mapping
 * (each tensor's pages then leave memory once it is copied). */
typedef struct {
  const unsigned char *p;
  size_t len;
  bool mapped;
} source;

static int load_all(const entry *entries, int n, const source *src, size_t data_off, gc_tensor_map *out,
                    gc_diag *d) {
  gc_tensor_map tmp;
  gc_tensor_map_init(&tmp);
  for (int i = 0; i < n; i++) {
    gc_tensor *t = load_tensor(&entries[i], src->p + data_off, d);
    if (!t) {
      gc_tensor_map_clear(&tmp);
      return -1;
    }
    if (src->mapped)
      gc_map_file_done(src->p, src->len, data_off + entries[i].begin, entries[i].end - entries[i].begin);
    gc_tensor_map_put(&tmp, entries[i].name, t);
  }
  move_all(&tmp, out);
  return 0;
}

static int parse(const source *src, gc_tensor_map *out, gc_diag *d) {
  const unsigned char *p = src->p;
  size_t len = src->len;
  if (len < 8) return gc_diag_set(d, "too short (%zu bytes) to be a safetensors file", len);
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; i--) hlen = hlen << 8 | p[i];
  if (hlen > GC_SAFETENSORS_MAX_HEADER)
    return gc_diag_set(d, "header length %llu is absurd (the limit is %u bytes)",
                       (unsigned long long)hlen, GC_SAFETENSORS_MAX_HEADER);
  if (hlen > len - 8)
    return gc_diag_set(d, "header length %llu runs past the end of the file (%zu bytes)",
                       (unsigned long long)hlen, len);
  const char *text = (const char *)p + 8;
  json_error_t err;
  json_t *header = json_loadb(text, (size_t)hlen, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
  if (!header) return json_error(text, (size_t)hlen, &err, d);
  int rc = -1, n = 0;
  uint64_t data_len = len - 8 - hlen;
  entry *entries = NULL;
  if (!json_is_object(header))
    gc_diag_set(d, "header: expected a JSON object, got %s", json_kind_name(header));
  else if ((entries = read_entries(header, data_len, &n, d)) && check_layout(entries, n, data_len, d) == 0)
    rc = load_all(entries, n, src, 8 + hlen, out, d);
  free(entries);
  json_decref(header);
  return rc;
}

int gc_safetensors_parse(const void *buf, size_t len, gc_tensor_map *out, gc_diag *d) {
  return parse(&(source){buf, len, false}, out, d);
}

int gc_safetensors_read(const char *path, gc_tensor_map *out, gc_diag *d) {
  size_t size;
  const void *map = gc_map_file(path, &size, d);
  if (!map) return -1;
  gc_diag pd;
  int rc = parse(&(source){map, size, true}, out, &pd);
  gc_unmap_file(map, size);
  if (rc < 0) gc_diag_set(d, "%s: %s", path, pd.msg);
  return rc;
}

/* ---- writing -------------------------------------------------------------- */

static void put_json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 0x20) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

/* The header JSON, space-padded so that 8 + its length is a multiple of 8. */
static void put_header(FILE *f, const gc_tensor_map *m) {
  uint64_t offset = 0;
  fputc('{', f);
  for (int i = 0; i < m->n; i++) {
    const gc_tensor *t = m->tensors[i];
    uint64_t bytes = (uint64_t)gc_tensor_bytes(t);
    if (i) fputc(',', f);
    put_json_string(f, m->names[i]);
    fprintf(f, ":{\"dtype\":\"%s\",\"shape\":[", file_dtype_name(t->type.dtype));
    for (int k = 0; k < t->type.rank; k++) fprintf(f, "%s%lld", k ? "," : "", (long long)t->type.dims[k]);
    fprintf(f, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)offset,
            (unsigned long long)(offset + bytes));
    offset += bytes;
  }
  fputc('}', f);
  for (long n = ftell(f); n >= 0 && (8 + n) % 8 != 0; n++) fputc(' ', f);
}

static int check_writable(const gc_tensor_map *m, gc_diag *d) {
  for (int i = 0; i < m->n; i++) {
    const gc_tensor *t = m->tensors[i];
    int64_t numel;
    if (!t || !file_dtype_name(t->type.dtype) || !gc_type_numel(&t->type, &numel))
      return entry_error(d, m->names[i], "not a valid tensor to write");
  }
  return 0;
}

/* The file is its length prefix, the header and each tensor's data as it
 * lies in memory: written part by part, not copied into one buffer. */
int gc_safetensors_write(const char *path, const gc_tensor_map *m, gc_diag *d) {
  if (check_writable(m, d) < 0) return -1;
  char *header = NULL;
  size_t header_len = 0;
  FILE *f = open_memstream(&header, &header_len);
  if (f) put_header(f, m);
  bool ok = f && !ferror(f);
  if (f && fclose(f) != 0) ok = false;
  gc_file_part *parts = ok ? malloc(sizeof *parts * ((size_t)m->n + 2)) : NULL;
  if (!parts) {
    free(header);
    return gc_diag_set(d, "cannot write %s: out of memory", path);
  }
  unsigned char prefix[8];
  for (int i = 0; i < 8; i++) prefix[i] = (unsigned char)((uint64_t)header_len >> (8 * i));
  parts[0] = (gc_file_part){prefix, 8};
  parts[1] = (gc_file_part){header, header_len};
  for (int i = 0; i < m->n; i++)
    parts[2 + i] = (gc_file_part){m->tensors[i]->data, gc_tensor_bytes(m->tensors[i])};
  int rc = gc_write_file_parts_atomic(path, parts, m->n + 2, d);
  free(parts);
  free(header);
  return rc;
}
