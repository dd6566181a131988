/* text/bpe_util.c — hash maps and the word pre-splitter used by the BPE
 * tokenizer. */
#include "text/bpe_internal.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* ---- uint64 -> int32 map ------------------------------------------------ */

static uint64_t mix64(uint64_t x) {   /* splitmix64 finalizer */
  x ^= x >> 30;
  x *= UINT64_C(0xbf58476d1ce4e5b9);
  x ^= x >> 27;
  x *= UINT64_C(0x94d049bb133111eb);
  x ^= x >> 31;
  return x;
}

static size_t cap_for(size_t expected) {
  size_t cap = 16;
  while (cap < expected * 2) cap *= 2;
  return cap;
}

int gc_u64map_init(gc_u64map *m, size_t expected) {
  m->cap = cap_for(expected);
  m->n = 0;
  m->keys = malloc(m->cap * sizeof *m->keys);
  m->vals = malloc(m->cap * sizeof *m->vals);
  if (!m->keys || !m->vals) {
    gc_u64map_free(m);
    return -1;
  }
  for (size_t i = 0; i < m->cap; i++) m->vals[i] = -1;
  return 0;
}

void gc_u64map_free(gc_u64map *m) {
  free(m->keys);
  free(m->vals);
  m->keys = NULL;
  m->vals = NULL;
  m->cap = m->n = 0;
}

static size_t u64map_slot(const gc_u64map *m, uint64_t key) {
  size_t mask = m->cap - 1, i = (size_t)mix64(key) & mask;
  while (m->vals[i] >= 0 && m->keys[i] != key) i = (i + 1) & mask;
  return i;
}

int32_t gc_u64map_get(const gc_u64map *m, uint64_t key) {
  if (m->cap == 0) return -1;
  return m->vals[u64map_slot(m, key)];
}

static int u64map_grow(gc_u64map *m) {
  gc_u64map bigger;
  if (gc_u64map_init(&bigger, m->cap) < 0) return -1;   /* doubles the capacity */
  for (size_t i = 0; i < m->cap; i++) {
    if (m->vals[i] < 0) continue;
    size_t j = u64map_slot(&bigger, m->keys[i]);
    bigger.keys[j] = m->keys[i];
    bigger.vals[j] = m->vals[i];
  }
  bigger.n = m->n;
  gc_u64map_free(m);
  *m = bigger;
  return 0;
}

int gc_u64map_put(gc_u64map *m, uint64_t key, int32_t val) {
  if ((m->n + 1) * 2 > m->cap && u64map_grow(m) < 0) return -1;
  size_t i = u64map_slot(m, key);
  if (m->vals[i] < 0) m->n++;
  m->keys[i] = key;
  m->vals[i] = val;
  return 0;
}

/* ---- byte string map ---------------------------------------------------- */

int gc_wordmap_init(gc_wordmap *m, size_t expected) {
  m->cap = cap_for(expected);
  m->n = 0;
  m->slots = malloc(m->cap * sizeof *m->slots);
  if (!m->slots) return -1;
  for (size_t i = 0; i < m->cap; i++) m->slots[i].val = -1;
  return 0;
}

void gc_wordmap_free(gc_wordmap *m) {
  free(m->slots);
  m->slots = NULL;
  m->cap = m->n = 0;
}

static size_t wordmap_slot(const gc_wordmap *m, const uint8_t *p, size_t len, uint64_t h) {
  size_t mask = m->cap - 1, i = (size_t)h & mask;
  for (;;) {
    const gc_wordmap_slot *s = &m->slots[i];
    if (s->val < 0) return i;
    if (s->hash == h && s->len == len && memcmp(s->ptr, p, len) == 0) return i;
    i = (i + 1) & mask;
  }
}

static int wordmap_grow(gc_wordmap *m) {
  gc_wordmap bigger;
  if (gc_wordmap_init(&bigger, m->cap) < 0) return -1;
  for (size_t i = 0; i < m->cap; i++) {
    const gc_wordmap_slot *s = &m->slots[i];
    if (s->val >= 0) bigger.slots[wordmap_slot(&bigger, s->ptr, s->len, s->hash)] = *s;
  }
  bigger.n = m->n;
  gc_wordmap_free(m);
  *m = bigger;
  return 0;
}

int32_t gc_wordmap_intern(gc_wordmap *m, const uint8_t *p, size_t len, int32_t new_val,
                          int *added) {
  if ((m->n + 1) * 2 > m->cap && wordmap_grow(m) < 0) return -1;
  uint64_t h = XXH3_64bits(p, len);
  gc_wordmap_slot *s = &m->slots[wordmap_slot(m, p, len, h)];
  *added = s->val < 0;
  if (*added) {
    *s = (gc_wordmap_slot){.ptr = p, .hash = h, .len = (uint32_t)len, .val = new_val};
    m->n++;
  }
  return s->val;
}

int32_t gc_wordmap_get(const gc_wordmap *m, const uint8_t *p, size_t len) {
  if (m->cap == 0) return -1;
  return m->slots[wordmap_slot(m, p, len, XXH3_64bits(p, len))].val;
}

/* ---- the byte-level alphabet --------------------------------------------- */

/* GPT-2's bytes_to_unicode: the printable bytes ('!'..'~', 0xa1..0xac,
 * 0xae..0xff) stand for themselves; the other 68 (0x00..0x20, 0x7f..0xa0,
 * 0xad), in byte order, for U+0100 .. U+0143. */
static bool printable(uint32_t b) { return (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff); }

uint32_t gc_byte_level_char(uint8_t b) {
  if (printable(b)) return b;
  if (b <= 0x20) return 0x100 + b;
  if (b <= 0xa0) return 0x100 + 33 + (b - 0x7f);
  return 0x100 + 67;   /* 0xad */
}

static int byte_of_char(uint32_t cp) {
  if (cp < 0x100) return printable(cp) ? (int)cp : -1;
  uint32_t k = cp - 0x100;
  if (k < 33) return (int)k;
  if (k < 67) return (int)(0x7f + k - 33);
  return k == 67 ? 0xad : -1;
}

int gc_byte_level_decode(const char *s, size_t len, uint8_t *out, size_t *n) {
  size_t j = 0;
  for (size_t i = 0; i < len;) {
    uint8_t c = (uint8_t)s[i];
    uint32_t cp;
    if (c < 0x80) cp = c, i += 1;
    else if ((c & 0xe0) == 0xc0 && i + 1 < len && ((uint8_t)s[i + 1] & 0xc0) == 0x80)
      cp = ((uint32_t)(c & 0x1f) << 6) | ((uint8_t)s[i + 1] & 0x3f), i += 2;
    else
      return -1;   /* every byte-level character is one or two UTF-8 bytes */
    int b = byte_of_char(cp);
    if (b < 0) return -1;
    out[j++] = (uint8_t)b;
  }
  *n = j;
  return 0;
}

size_t gc_byte_level_encode(const uint8_t *p, size_t n, char *out) {
  size_t j = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t cp = gc_byte_level_char(p[i]);
    if (cp < 0x80) {
      out[j++] = (char)cp;
    } else {
      out[j++] = (char)(0xc0 | (cp >> 6));
      out[j++] = (char)(0x80 | (cp & 0x3f));
    }
  }
  return j;
}
