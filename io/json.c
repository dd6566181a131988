/* A small strict JSON reader: recursive descent over a bounded buffer. */
#include "io/json.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *s;
  size_t len, pos;
  int depth;
  gc_diag *d;
} reader;

static gc_json *parse_value(reader *r);

/* Records the message; always false, so `return fail(r, "...")` reads well. */
static bool fail(reader *r, const char *what) {
  gc_diag_set(r->d, "JSON: byte %zu: %s", r->pos, what);
  return false;
}

static bool at_end(const reader *r) { return r->pos >= r->len; }
static int peek(const reader *r) { return at_end(r) ? -1 : (unsigned char)r->s[r->pos]; }

static void skip_ws(reader *r) {
  while (!at_end(r)) {
    char c = r->s[r->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    r->pos++;
  }
}

static bool match_word(reader *r, const char *w) {
  size_t n = strlen(w);
  if (r->len - r->pos < n || memcmp(r->s + r->pos, w, n) != 0) return false;
  r->pos += n;
  return true;
}

static gc_json *new_value(reader *r, gc_json_kind k) {
  gc_json *v = calloc(1, sizeof *v);
  if (!v) fail(r, "out of memory");
  else v->kind = k;
  return v;
}

/* ---- strings ------------------------------------------------------------ */

typedef struct {
  char *buf;
  size_t n, cap;
} bytes;

static bool put_byte(bytes *b, unsigned char c) {
  if (b->n + 1 >= b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 32;
    char *p = realloc(b->buf, cap);
    if (!p) return false;
    b->buf = p;
    b->cap = cap;
  }
  b->buf[b->n++] = (char)c;
  return true;
}

static bool put_utf8(bytes *b, uint32_t cp) {
  if (cp < 0x80) return put_byte(b, (unsigned char)cp);
  if (cp < 0x800)
    return put_byte(b, (unsigned char)(0xC0 | (cp >> 6))) &&
           put_byte(b, (unsigned char)(0x80 | (cp & 0x3F)));
  if (cp < 0x10000)
    return put_byte(b, (unsigned char)(0xE0 | (cp >> 12))) &&
           put_byte(b, (unsigned char)(0x80 | ((cp >> 6) & 0x3F))) &&
           put_byte(b, (unsigned char)(0x80 | (cp & 0x3F)));
  return put_byte(b, (unsigned char)(0xF0 | (cp >> 18))) &&
         put_byte(b, (unsigned char)(0x80 | ((cp >> 12) & 0x3F))) &&
         put_byte(b, (unsigned char)(0x80 | ((cp >> 6) & 0x3F))) &&
         put_byte(b, (unsigned char)(0x80 | (cp & 0x3F)));
}

/* Four hex digits after "\u"; -1 if malformed. */
static int32_t read_hex4(reader *r) {
  if (r->len - r->pos < 4) return -1;
  int32_t v = 0;
  for (int i = 0; i < 4; i++) {
    char c = r->s[r->pos + (size_t)i];
    int h = c >= '0' && c <= '9' ? c - '0'
          : c >= 'a' && c <= 'f' ? c - 'a' + 10
          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  r->pos += 4;
  return v;
}

/* The escape after a backslash (r->pos at the char after '\'). */
static bool read_escape(reader *r, bytes *b) {
  int c = peek(r);
  static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
  const char *k = c > 0 ? strchr(from, c) : NULL;
  if (k && *k) {
    r->pos++;
    return put_byte(b, (unsigned char)to[k - from]) || fail(r, "out of memory");
  }
  if (c != 'u') return fail(r, "invalid escape in string");
  r->pos++;
  int32_t hi = read_hex4(r);
  if (hi < 0) return fail(r, "invalid \\u escape");
  uint32_t cp = (uint32_t)hi;
  if (hi >= 0xDC00 && hi <= 0xDFFF) return fail(r, "lone low surrogate in \\u escape");
  if (hi >= 0xD800 && hi <= 0xDBFF) {
    if (!match_word(r, "\\u")) return fail(r, "high surrogate without its low half");
    int32_t lo = read_hex4(r);
    if (lo < 0xDC00 || lo > 0xDFFF) return fail(r, "high surrogate without its low half");
    cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
  }
  return put_utf8(b, cp) || fail(r, "out of memory");
}

/* Length of the valid UTF-8 sequence starting at r->pos, 0 if invalid. */
static size_t utf8_length(const reader *r) {
  const unsigned char *p = (const unsigned char *)r->s + r->pos;
  size_t left = r->len - r->pos;
  unsigned c = p[0];
  size_t n;
  uint32_t cp, min;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) n = 2, cp = c & 0x1F, min = 0x80;
  else if ((c & 0xF0) == 0xE0) n = 3, cp = c & 0x0F, min = 0x800;
  else if ((c & 0xF8) == 0xF0) n = 4, cp = c & 0x07, min = 0x10000;
  else return 0;
  if (left < n) return 0;
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

/* A string starting at the opening quote; the decoded bytes, NUL-terminated. */
static char *read_string(reader *r, size_t *out_len) {
  bytes b = {0};
  r->pos++; /* opening quote */
  for (;;) {
    int c = peek(r);
    bool ok;
    if (c < 0) {
      fail(r, "unterminated string");
      break;
    }
    if (c == '"') {
      r->pos++;
      if (!put_byte(&b, 0)) {
        fail(r, "out of memory");
        break;
      }
      *out_len = b.n - 1;
      return b.buf;
    }
    if (c < 0x20) {
      fail(r, "control character in string");
      break;
    }
    if (c == '\\') {
      r->pos++;
      ok = read_escape(r, &b);
    } else {
      size_t n = utf8_length(r);
      ok = n > 0;
      if (!ok) fail(r, "invalid UTF-8 in string");
      for (size_t i = 0; ok && i < n; i++)
        if (!put_byte(&b, (unsigned char)r->s[r->pos++])) ok = fail(r, "out of memory");
    }
    if (!ok) break;
  }
  free(b.buf);
  return NULL;
}

/* ---- numbers ------------------------------------------------------------ */

static bool is_digit(int c) { return c >= '0' && c <= '9'; }

static size_t skip_digits(reader *r) {
  size_t start = r->pos;
  while (is_digit(peek(r))) r->pos++;
  return r->pos - start;
}

static gc_json *read_number(reader *r) {
  size_t start = r->pos;
  bool neg = peek(r) == '-', integral = true;
  if (neg) r->pos++;
  if (peek(r) == '0') {
    r->pos++;
    if (is_digit(peek(r))) return fail(r, "leading zero in number"), NULL;
  } else if (skip_digits(r) == 0) {
    return fail(r, "invalid number"), NULL;
  }
  if (peek(r) == '.') {
    integral = false;
    r->pos++;
    if (skip_digits(r) == 0) return fail(r, "digits expected after '.'"), NULL;
  }
  if (peek(r) == 'e' || peek(r) == 'E') {
    integral = false;
    r->pos++;
    if (peek(r) == '+' || peek(r) == '-') r->pos++;
    if (skip_digits(r) == 0) return fail(r, "digits expected in exponent"), NULL;
  }
  char text[512];
  size_t n = r->pos - start;
  if (n >= sizeof text) return fail(r, "number too long"), NULL;
  memcpy(text, r->s + start, n);
  text[n] = 0;
  gc_json *v = new_value(r, GC_JSON_NUMBER);
  if (!v) return NULL;
  v->number = strtod(text, NULL);
  if (integral) {
    /* Exact integer value, when it fits int64. */
    uint64_t mag = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    v->is_int = true;
    for (size_t i = neg; i < n && v->is_int; i++) {
      uint64_t dg = (uint64_t)(text[i] - '0');
      if (mag > (limit - dg) / 10) v->is_int = false;
      else mag = mag * 10 + dg;
    }
    if (v->is_int) v->integer = neg ? (int64_t)(0 - mag) : (int64_t)mag;
  }
  return v;
}

/* ---- containers --------------------------------------------------------- */

static bool grow_members(gc_json *v, int *cap, bool with_keys) {
  if (v->n < *cap) return true;
  int c = *cap ? *cap * 2 : 8;
  gc_json **items = realloc(v->items, sizeof *items * (size_t)c);
  if (!items) return false;
  v->items = items;
  if (with_keys) {
    char **keys = realloc(v->keys, sizeof *keys * (size_t)c);
    if (!keys) return false;
    v->keys = keys;
    size_t *lens = realloc(v->key_lens, sizeof *lens * (size_t)c);
    if (!lens) return false;
    v->key_lens = lens;
  }
  *cap = c;
  return true;
}

/* After '[' or '{': the elements up to the closing bracket. */
static gc_json *read_container(reader *r, bool object) {
  char close = object ? '}' : ']';
  gc_json *v = new_value(r, object ? GC_JSON_OBJECT : GC_JSON_ARRAY);
  int cap = 0;
  if (!v) return NULL;
  if (++r->depth > GC_JSON_MAX_DEPTH) {
    fail(r, "nesting too deep");
    goto bad;
  }
  r->pos++;
  skip_ws(r);
  if (peek(r) == close) {
    r->pos++;
    r->depth--;
    return v;
  }
  for (;;) {
    char *key = NULL;
    size_t key_len = 0;
    skip_ws(r);
    if (object) {
      if (peek(r) != '"') {
        fail(r, "expected a string key");
        goto bad;
      }
      if (!(key = read_string(r, &key_len))) goto bad;
      skip_ws(r);
      if (peek(r) != ':') {
        free(key);
        fail(r, "expected ':'");
        goto bad;
      }
      r->pos++;
    }
    gc_json *item = parse_value(r);
    if (!item || !grow_members(v, &cap, object)) {
      if (item) fail(r, "out of memory");
      free(key);
      gc_json_free(item);
      goto bad;
    }
    if (object) {
      v->keys[v->n] = key;
      v->key_lens[v->n] = key_len;
    }
    v->items[v->n++] = item;
    skip_ws(r);
    if (peek(r) == close) break;
    if (peek(r) != ',') {
      fail(r, object ? "expected ',' or '}'" : "expected ',' or ']'");
      goto bad;
    }
    r->pos++;
  }
  r->pos++;
  r->depth--;
  return v;
bad:
  gc_json_free(v);
  return NULL;
}

static gc_json *parse_value(reader *r) {
  skip_ws(r);
  int c = peek(r);
  gc_json *v;
  switch (c) {
  case '{': return read_container(r, true);
  case '[': return read_container(r, false);
  case '"':
    if (!(v = new_value(r, GC_JSON_STRING))) return NULL;
    if (!(v->str = read_string(r, &v->str_len))) {
      free(v);
      return NULL;
    }
    return v;
  case -1: return fail(r, "unexpected end of input"), NULL;
  default: break;
  }
  if (c == '-' || is_digit(c)) return read_number(r);
  bool is_true = match_word(r, "true");
  if (is_true || match_word(r, "false")) {
    if ((v = new_value(r, GC_JSON_BOOL))) v->boolean = is_true;
    return v;
  }
  if (match_word(r, "null")) return new_value(r, GC_JSON_NULL);
  return fail(r, "unexpected character"), NULL;
}

gc_json *gc_json_parse(const char *text, size_t len, gc_diag *d) {
  reader r = {text, len, 0, 0, d};
  gc_json *v = parse_value(&r);
  if (!v) return NULL;
  skip_ws(&r);
  if (!at_end(&r)) {
    fail(&r, "unexpected text after the value");
    gc_json_free(v);
    return NULL;
  }
  return v;
}

void gc_json_free(gc_json *v) {
  if (!v) return;
  for (int i = 0; i < v->n; i++) {
    gc_json_free(v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v->key_lens);
  free(v->str);
  free(v);
}

const gc_json *gc_json_get(const gc_json *obj, const char *key) {
  if (!obj || obj->kind != GC_JSON_OBJECT) return NULL;
  size_t n = strlen(key);
  for (int i = 0; i < obj->n; i++)
    if (obj->key_lens[i] == n && memcmp(obj->keys[i], key, n) == 0) return obj->items[i];
  return NULL;
}

const char *gc_json_kind_name(gc_json_kind k) {
  static const char *const names[] = {"null", "boolean", "number", "string", "array", "object"};
  return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}
