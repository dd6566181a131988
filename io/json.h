/* io/json.h — a small strict JSON reader (RFC 8259).
 *
 * Reads a whole document into a tree.  Strict: no comments, no trailing
 * commas, no leading zeros, no control characters or invalid UTF-8 in
 * strings, only whitespace after the value, nesting at most
 * GC_JSON_MAX_DEPTH deep.  Malformed input is an error value with the byte
 * offset in the message, never a crash or a read past `len`.
 *
 * Ownership: gc_json_parse returns a tree the caller frees with
 * gc_json_free (one call frees every node, key and string under it).
 * Pointers returned by the accessors point into the tree. */
#ifndef GC_JSON_H
#define GC_JSON_H

#include "ir/ir.h"

#define GC_JSON_MAX_DEPTH 128

typedef enum {
  GC_JSON_NULL,
  GC_JSON_BOOL,
  GC_JSON_NUMBER,
  GC_JSON_STRING,
  GC_JSON_ARRAY,
  GC_JSON_OBJECT,
} gc_json_kind;

typedef struct gc_json gc_json;
struct gc_json {
  gc_json_kind kind;
  bool boolean;          /* BOOL */
  double number;         /* NUMBER */
  bool is_int;           /* NUMBER written without fraction/exponent and fits int64 */
  int64_t integer;       /* NUMBER, valid when is_int */
  char *str;             /* STRING: decoded UTF-8, NUL-terminated */
  size_t str_len;        /* STRING: bytes, excluding the terminator (may hold \0) */
  int n;                 /* ARRAY / OBJECT: element / member count */
  gc_json **items;       /* ARRAY elements, OBJECT member values, in text order */
  char **keys;           /* OBJECT member keys (decoded), in text order */
  size_t *key_lens;      /* OBJECT key byte lengths (a key may hold \0) */
};

/* NULL with a message in d on malformed input. */
gc_json *gc_json_parse(const char *text, size_t len, gc_diag *d);
void gc_json_free(gc_json *v);

/* The value of the first member named `key` of an object; NULL if absent or
 * `obj` is not an object. */
const gc_json *gc_json_get(const gc_json *obj, const char *key);

/* "null", "boolean", "number", "string", "array", "object" */
const char *gc_json_kind_name(gc_json_kind k);

#endif
