/* backends/llvm/jit.h — the JIT that links kernel object files into the
 * process: an ORC LLJIT whose main JITDylib also sees the process's own
 * symbols (libc's memset, exported runtime functions) and any symbol the
 * caller defines by address.
 *
 * Objects are linked lazily: adding one only registers its definitions
 * (a duplicate definition is an error then); the first lookup of one of its
 * symbols links it (an undefined symbol is an error then).  Every JIT or
 * linker failure comes back as a gc_diag message naming the symbol; nothing
 * is printed and nothing aborts.
 *
 * Ownership: gc_jit_new's result belongs to the caller, who frees it with
 * gc_jit_free; that also frees the code of every object added, so function
 * pointers from gc_jit_lookup are valid until then.  gc_jit_add_object copies
 * the object bytes.  A gc_jit may be used from several threads (its calls are
 * serialised). */
#ifndef GC_LLVM_JIT_H
#define GC_LLVM_JIT_H

#include "ir/ir.h"

#include <stddef.h>

typedef struct gc_jit gc_jit;

/* A JIT for this process.  NULL with a message on failure. */
gc_jit *gc_jit_new(gc_diag *d);
void gc_jit_free(gc_jit *j);     /* NULL is fine */

/* Adds an ELF object (`len` bytes at `obj`, e.g. gc_machine_output.object
 * or a cache entry); `name` identifies it in messages.  0, or -1 with e.g.
 * "JIT: cannot add object k3: Duplicate definition of symbol 'k3'". */
int gc_jit_add_object(gc_jit *j, const void *obj, size_t len, const char *name, gc_diag *d);

/* gc_jit_add_object, linked at once rather than on first lookup: the first
 * symbol the object defines named NAME or NAME.SUFFIX is looked up now, so an
 * object the JIT cannot load or link (a cache entry that is not what its
 * checksum promised) is found here.  0, or -1 with "JIT: cannot add object
 * NAME: ..." / "JIT: cannot link object NAME: ..."; the object is then
 * removed from the JIT again, as if never added, so a good one may take
 * its place. */
int gc_jit_add_object_now(gc_jit *j, const void *obj, size_t len, const char *name, gc_diag *d);

/* Defines `symbol` as the address `addr` for code added later (a runtime
 * function not in the process's dynamic symbol table).  0, or -1 (e.g.
 * already defined). */
int gc_jit_define(gc_jit *j, const char *symbol, void *addr, gc_diag *d);

/* The address of `symbol` (a function: cast it to its type), linking the
 * object that defines it if needed.  NULL with a message, e.g.
 * "JIT: cannot look up k3: Symbols not found: [ missing_fn ]". */
void *gc_jit_lookup(gc_jit *j, const char *symbol, gc_diag *d);

#endif
