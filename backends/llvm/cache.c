/* Kernel object files cached on disk (see cache.h). */
#include "backends/llvm/cache.h"
#include "backends/llvm/mkdirs.h"
#include "io/file.h"

#include <llvm-c/Core.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

static const char magic[8] = {'g', 'c', 'o', 'b', 'j', 0, 0, 0};

/* The largest entry loaded: far above any kernel's object file (the
 * largest of GPT-2's is under 100 KB). */
#define MAX_ENTRY_BYTES ((size_t)64 << 20)

static void put_u32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_u32(const unsigned char *p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
  return v;
}
static uint64_t get_u64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

/* Hashes a string with its terminating NUL, so that fields cannot run into
 * each other ("ab","c" differs from "a","bc"). */
static void hash_field(XXH3_state_t *s, const char *str) { XXH3_128bits_update(s, str, strlen(str) + 1); }

/* false when out of memory (then the cache stays off). */
static bool target_key(const gc_host *h, gc_objcache_key *out) {
  XXH3_state_t *s = XXH3_createState();
  if (!s) return false;
  XXH3_128bits_reset(s);
  /* the LLVM gc was built against, and the libLLVM it runs with */
  unsigned major, minor, patch;
  LLVMGetVersion(&major, &minor, &patch);
  char llvm[64];
  snprintf(llvm, sizeof llvm, "LLVM " GC_LLVM_VERSION " %u.%u.%u", major, minor, patch);
  hash_field(s, llvm);
  hash_field(s, h->triple);
  hash_field(s, h->cpu);
  hash_field(s, h->features);
  hash_field(s, "gc " GC_VERSION " " GC_CODEGEN_ID);
  XXH128_hash_t k = XXH3_128bits_digest(s);
  XXH3_freeState(s);
  *out = (gc_objcache_key){k.high64, k.low64};
  return true;
}

/* Whether dir exists (or can be made) and we may write in it. */
static bool usable_dir(const char *dir) {
  return gc_mkdirs(dir, NULL) == 0 && access(dir, W_OK | X_OK) == 0;
}

/* Whether `name` (len bytes) is an entry's file name: 32 hex digits, ".o". */
static bool entry_name(const char *name, size_t len, void *arg) {
  (void)arg;
  if (len != 34 || memcmp(name + 32, ".o", 2) != 0) return false;
  for (int i = 0; i < 32; i++)
    if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f'))) return false;
  return true;
}

void gc_objcache_open_dir(gc_objcache *c, const gc_host *h, const char *dir, bool disabled) {
  memset(c, 0, sizeof *c);
  if (disabled || !target_key(h, &c->target)) return;
  if (!dir || !*dir || strlen(dir) >= sizeof c->dir) return;
  memcpy(c->dir, dir, strlen(dir) + 1);
  c->enabled = usable_dir(c->dir);
  if (c->enabled) gc_remove_dead_temps(c->dir, entry_name, NULL);   /* a killed compile's stores */
}

void gc_objcache_open(gc_objcache *c, const gc_host *h, bool disabled) {
  const char *env = getenv("GC_CACHE_DIR");
  if (env && *env) {
    gc_objcache_open_dir(c, h, env, disabled);
    return;
  }
  const char *home = getenv("HOME");
  char dir[4096];
  if (!home || !*home || snprintf(dir, sizeof dir, "%s/.cache/gc", home) >= (int)sizeof dir)
    dir[0] = 0;                                    /* no home: no cache */
  gc_objcache_open_dir(c, h, dir, disabled);
}

gc_objcache_key gc_objcache_key_of(const gc_objcache *c, const char *text, size_t len) {
  /* XXH3-128 of (the target's key, the text's XXH3-128). */
  XXH128_hash_t k = XXH3_128bits(text, len);
  unsigned char both[32];
  put_u64(both, c->target.hi);
  put_u64(both + 8, c->target.lo);
  put_u64(both + 16, k.high64);
  put_u64(both + 24, k.low64);
  k = XXH3_128bits(both, sizeof both);
  return (gc_objcache_key){k.high64, k.low64};
}

void gc_objcache_path(const gc_objcache *c, gc_objcache_key key, char *out, size_t size) {
  snprintf(out, size, "%s/%016llx%016llx.o", c->dir, (unsigned long long)key.hi,
           (unsigned long long)key.lo);
}

static void make_header(unsigned char *h, gc_objcache_key key, const void *obj, size_t len) {
  memcpy(h, magic, sizeof magic);
  put_u32(h + 8, GC_OBJCACHE_FORMAT);
  put_u32(h + 12, 0);
  put_u64(h + 16, len);
  put_u64(h + 24, XXH3_64bits(obj, len));
  put_u64(h + 32, key.hi);
  put_u64(h + 40, key.lo);
}

/* Whether `data` (`len` bytes read from key's file) is a sound entry for key. */
static bool entry_ok(const unsigned char *data, size_t len, gc_objcache_key key) {
  if (len < GC_OBJCACHE_HEADER || memcmp(data, magic, sizeof magic) != 0) return false;
  if (get_u32(data + 8) != GC_OBJCACHE_FORMAT || get_u32(data + 12) != 0) return false;
  if (get_u64(data + 32) != key.hi || get_u64(data + 40) != key.lo) return false;
  uint64_t payload = get_u64(data + 16);
  if (payload != len - GC_OBJCACHE_HEADER) return false;
  return XXH3_64bits(data + GC_OBJCACHE_HEADER, payload) == get_u64(data + 24);
}

bool gc_objcache_load(const gc_objcache *c, gc_objcache_key key, void **obj, size_t *len) {
  *obj = NULL;
  *len = 0;
  if (!c->enabled) return false;
  char path[4200];
  gc_objcache_path(c, key, path, sizeof path);
  size_t n;
  char *data = gc_read_regular_file(path, MAX_ENTRY_BYTES, &n, NULL);
  if (!data) return false;
  if (!entry_ok((const unsigned char *)data, n, key)) {
    free(data);
    return false;
  }
  *len = n - GC_OBJCACHE_HEADER;
  memmove(data, data + GC_OBJCACHE_HEADER, *len);
  *obj = data;
  return true;
}

void gc_objcache_drop(const gc_objcache *c, gc_objcache_key key) {
  if (!c->enabled) return;
  char path[4200];
  gc_objcache_path(c, key, path, sizeof path);
  unlink(path);
}

int gc_objcache_store(const gc_objcache *c, gc_objcache_key key, const void *obj, size_t len,
                      gc_diag *d) {
  if (!c->enabled) return 0;
  char path[4200];
  gc_objcache_path(c, key, path, sizeof path);
  unsigned char header[GC_OBJCACHE_HEADER];
  make_header(header, key, obj, len);
  gc_file_part parts[2] = {{header, sizeof header}, {obj, len}};
  return gc_replace_file_parts(path, parts, 2, d);
}
