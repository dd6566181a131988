/* backends/llvm/mkdirs.h — `mkdir -p`, for the kernel cache and the
 * --emit-llvm / --emit-asm directories. */
#ifndef GC_LLVM_MKDIRS_H
#define GC_LLVM_MKDIRS_H

#include "ir/ir.h"

/* Creates the directory `path` and any missing parents (mode 0755); an
 * existing directory is fine.  0, or -1 with "cannot create PATH: reason". */
int gc_mkdirs(const char *path, gc_diag *d);

#endif
