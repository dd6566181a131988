/* backends/llvm/cache.h — kernel object files cached on disk.
 *
 * An entry is found by a key: the XXH3-128 of the caller's key text (a
 * kernel's IR) together with everything else that decides the machine code:
 * the LLVM version (gc's headers' and the loaded libLLVM's), the triple, the
 * CPU name, the feature string, gc's version and the id of its code
 * generator (GC_CODEGEN_ID: a hash of backends/llvm's sources, made at build
 * time).  A new LLVM, another CPU or a gc whose code generator differs never
 * loads an old entry.  The key text (a kernel's loop IR and the LLVM IR it
 * emits) decides the module; the code generator's id covers how the module
 * becomes an object (passes, attributes).
 *
 * The directory is $GC_CACHE_DIR, else ~/.cache/gc, created when missing;
 * when it cannot be created or written the cache is off, silently (it only
 * saves time).  Each entry is one file, KEYHEX.o, written atomically (a new
 * regular file replacing whatever is at that name: gc_replace_file_parts):
 *
 *   offset  size  field (integers little-endian)
 *        0     8  magic "gcobj\0\0\0"
 *        8     4  format version (GC_OBJCACHE_FORMAT)
 *       12     4  0
 *       16     8  payload length in bytes
 *       24     8  XXH3-64 of the payload
 *       32    16  the entry's key (XXH3-128, high half first)
 *       48   ...  payload: the object file
 *
 * An entry that is truncated, corrupt, of another format or filed under
 * another key is never loaded: the lookup misses, and the caller's rebuild
 * overwrites it.  An entry is read only when it is a regular file (not
 * through a symlink, never a FIFO or device) of at most 64 MiB.  Opening
 * the cache removes the temp files (io/file.h's gc_temp_name) of stores
 * whose process is gone: a compile killed while storing.
 *
 * Ownership: a gc_objcache is a plain value the caller owns (nothing to
 * free); it may be shared read-only between threads.  Loaded payloads are
 * malloc'd and belong to the caller. */
#ifndef GC_LLVM_CACHE_H
#define GC_LLVM_CACHE_H

#include "backends/llvm/host.h"
#include "ir/ir.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef GC_VERSION
#define GC_VERSION "0.1"     /* gc's version: part of every cache key */
#endif
#include "codegen_id.h"      /* GC_CODEGEN_ID, generated */

#define GC_OBJCACHE_FORMAT 1
#define GC_OBJCACHE_HEADER 48

typedef struct {
  uint64_t hi, lo;
} gc_objcache_key;

typedef struct {
  bool enabled;              /* false: lookups miss, stores do nothing */
  char dir[4096];
  gc_objcache_key target;    /* XXH3-128 of LLVM versions, triple, CPU, features, GC_VERSION */
} gc_objcache;

/* A cache for code generated for host h: its directory created if needed.
 * `disabled` (--no-cache) turns it off; so does a directory that cannot be
 * created or written.  Never fails. */
void gc_objcache_open(gc_objcache *c, const gc_host *h, bool disabled);

/* The same, in directory `dir` (the environment is not read). */
void gc_objcache_open_dir(gc_objcache *c, const gc_host *h, const char *dir, bool disabled);

/* The entry key of `len` bytes of key text. */
gc_objcache_key gc_objcache_key_of(const gc_objcache *c, const char *text, size_t len);

/* The entry's path: DIR/KEYHEX.o (always NUL-terminated; may be cut short
 * when `size` is too small). */
void gc_objcache_path(const gc_objcache *c, gc_objcache_key key, char *out, size_t size);

/* On a hit, true with the object in *obj (malloc'd, the caller frees it)
 * and its length in *len.  False on a miss: no entry, a bad entry, or the
 * cache off. */
bool gc_objcache_load(const gc_objcache *c, gc_objcache_key key, void **obj, size_t *len);

/* Removes key's entry, if any (one the JIT refused: gc_compile_jobs). */
void gc_objcache_drop(const gc_objcache *c, gc_objcache_key key);

/* Stores `len` bytes at `obj` under key (replacing any entry).  0, or -1
 * with a message; a failed store leaves no partial entry behind.  Does
 * nothing (0) when the cache is off. */
int gc_objcache_store(const gc_objcache *c, gc_objcache_key key, const void *obj, size_t len,
                      gc_diag *d);

#endif
