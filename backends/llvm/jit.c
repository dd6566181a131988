/* The JIT: ORC LLJIT with the process's symbols visible (see jit.h). */
#include "backends/llvm/jit.h"
#include "backends/llvm/host.h"

#include <llvm-c/Core.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Object.h>
#include <llvm-c/Orc.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A symbol whose lookup failed, and what it failed with. */
struct failed_lookup {
  struct failed_lookup *next;
  char *symbol;
  gc_diag diag;
};

struct gc_jit {
  LLVMOrcLLJITRef lljit;
  LLVMOrcJITDylibRef main;
  pthread_mutex_t lock;        /* serialises calls, and guards `reported` */
  /* Failures ORC cannot hand back to a caller (the linker's "Symbols not
   * found" while materialising) arrive through the session's error reporter;
   * they are collected here and appended to the failing call's message. */
  char reported[768];
  /* ORC reports a link failure once; later lookups of the same symbol only
   * hear "failed to materialize".  Each failed lookup's message is kept so a
   * repeated lookup names the cause again. */
  struct failed_lookup *failures;
};

static void report_error(void *ctx, LLVMErrorRef err) {
  gc_jit *j = ctx;                  /* called inside a locked gc_jit call */
  char *msg = LLVMGetErrorMessage(err);
  size_t used = strlen(j->reported);
  snprintf(j->reported + used, sizeof j->reported - used, "%s%s", used ? "; " : "", msg);
  LLVMDisposeErrorMessage(msg);
}

/* "JIT: <what>: <reported> (<LLVM's error>)", or without the reported part
 * when there is none, into d; consumes err. */
static int jit_error(gc_jit *j, gc_diag *d, LLVMErrorRef err, const char *what) {
  char *msg = LLVMGetErrorMessage(err);
  if (j->reported[0])
    gc_diag_set(d, "JIT: %s: %.600s (%.300s)", what, j->reported, msg);
  else
    gc_diag_set(d, "JIT: %s: %.900s", what, msg);
  LLVMDisposeErrorMessage(msg);
  j->reported[0] = 0;
  return -1;
}

static struct failed_lookup *find_failure(gc_jit *j, const char *symbol) {
  for (struct failed_lookup *f = j->failures; f; f = f->next)
    if (strcmp(f->symbol, symbol) == 0) return f;
  return NULL;
}

/* Keeps the message of symbol's failed lookup, or, when ORC said less this
 * time, gives back the first one. */
static void remember_failure(gc_jit *j, const char *symbol, bool reported, gc_diag *d) {
  struct failed_lookup *f = find_failure(j, symbol);
  if (f && !reported) {
    *d = f->diag;
    return;
  }
  if (!f) {
    if (!(f = calloc(1, sizeof *f)) || !(f->symbol = strdup(symbol))) {
      free(f);
      return;
    }
    f->next = j->failures;
    j->failures = f;
  }
  f->diag = *d;
}

gc_jit *gc_jit_new(gc_diag *d) {
  if (gc_llvm_init(d)) return NULL;
  gc_jit *j = calloc(1, sizeof *j);
  if (!j) {
    gc_diag_set(d, "JIT: out of memory");
    return NULL;
  }
  pthread_mutex_init(&j->lock, NULL);
  LLVMErrorRef err = LLVMOrcCreateLLJIT(&j->lljit, NULL);   /* the host's target machine */
  if (err) {
    jit_error(j, d, err, "cannot create the JIT");
    j->lljit = NULL;
    gc_jit_free(j);
    return NULL;
  }
  LLVMOrcExecutionSessionSetErrorReporter(LLVMOrcLLJITGetExecutionSession(j->lljit),
                                          report_error, j);
  j->main = LLVMOrcLLJITGetMainJITDylib(j->lljit);
  LLVMOrcDefinitionGeneratorRef process;
  err = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
      &process, LLVMOrcLLJITGetGlobalPrefix(j->lljit), NULL, NULL);
  if (err) {
    jit_error(j, d, err, "cannot search the process's symbols");
    gc_jit_free(j);
    return NULL;
  }
  LLVMOrcJITDylibAddGenerator(j->main, process);   /* the JITDylib owns it now */
  return j;
}

void gc_jit_free(gc_jit *j) {
  if (!j) return;
  if (j->lljit) {
    LLVMErrorRef err = LLVMOrcDisposeLLJIT(j->lljit);
    if (err) LLVMConsumeError(err);   /* nothing to tell: the code is gone */
  }
  while (j->failures) {
    struct failed_lookup *f = j->failures;
    j->failures = f->next;
    free(f->symbol);
    free(f);
  }
  pthread_mutex_destroy(&j->lock);
  free(j);
}

int gc_jit_add_object(gc_jit *j, const void *obj, size_t len, const char *name, gc_diag *d) {
  LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRangeCopy(obj, len, name);
  pthread_mutex_lock(&j->lock);
  j->reported[0] = 0;
  LLVMErrorRef err = LLVMOrcLLJITAddObjectFile(j->lljit, j->main, buf);   /* takes buf */
  int rc = 0;
  if (err) {
    char what[300];
    snprintf(what, sizeof what, "cannot add object %s", name);
    rc = jit_error(j, d, err, what);
  }
  pthread_mutex_unlock(&j->lock);
  return rc;
}

/* The first symbol `obj` defines whose name is `prefix` or starts with
 * "PREFIX.", into out[size]; false with the reason in d when the object
 * does not parse or defines none. */
static bool defined_symbol(const void *obj, size_t len, const char *prefix, char *out, size_t size, gc_diag *d) {
  LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRange(obj, len, "object", 0);
  char *msg = NULL;
  LLVMBinaryRef bin = LLVMCreateBinary(buf, NULL, &msg);
  bool found = false;
  if (!bin) {
    gc_diag_set(d, "not an object file: %.300s", msg ? msg : "?");
    LLVMDisposeMessage(msg);
    LLVMDisposeMemoryBuffer(buf);
    return false;
  }
  size_t n = strlen(prefix);
  LLVMSymbolIteratorRef sym = LLVMObjectFileCopySymbolIterator(bin);
  LLVMSectionIteratorRef sect = LLVMObjectFileCopySectionIterator(bin);
  for (; sym && sect && !found && !LLVMObjectFileIsSymbolIteratorAtEnd(bin, sym); LLVMMoveToNextSymbol(sym)) {
    const char *name = LLVMGetSymbolName(sym);
    if (!name || strncmp(name, prefix, n) != 0 || (name[n] && name[n] != '.')) continue;
    LLVMMoveToContainingSection(sect, sym);   /* at the end: undefined here */
    if (!LLVMObjectFileIsSectionIteratorAtEnd(bin, sect) && strlen(name) < size) {
      memcpy(out, name, strlen(name) + 1);
      found = true;
    }
  }
  if (sym) LLVMDisposeSymbolIterator(sym);
  if (sect) LLVMDisposeSectionIterator(sect);
  LLVMDisposeBinary(bin);
  LLVMDisposeMemoryBuffer(buf);
  if (!found) gc_diag_set(d, "it defines no symbol %s", prefix);
  return found;
}

int gc_jit_add_object_now(gc_jit *j, const void *obj, size_t len, const char *name, gc_diag *d) {
  char symbol[256], what[300];
  gc_diag why = {0};
  if (!defined_symbol(obj, len, name, symbol, sizeof symbol, &why))
    return gc_diag_set(d, "JIT: cannot add object %s: %s", name, why.msg);
  LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRangeCopy(obj, len, name);
  pthread_mutex_lock(&j->lock);
  j->reported[0] = 0;
  LLVMOrcResourceTrackerRef rt = LLVMOrcJITDylibCreateResourceTracker(j->main);
  LLVMErrorRef err = LLVMOrcLLJITAddObjectFileWithRT(j->lljit, rt, buf);   /* takes buf */
  snprintf(what, sizeof what, "cannot add object %s", name);
  if (!err) {
    LLVMOrcExecutorAddress addr = 0;
    err = LLVMOrcLLJITLookup(j->lljit, &addr, symbol);   /* links the whole object now */
    snprintf(what, sizeof what, "cannot link object %s", name);
  }
  int rc = err ? jit_error(j, d, err, what) : 0;
  if (rc) {
    LLVMErrorRef gone = LLVMOrcResourceTrackerRemove(rt);   /* as if never added */
    if (gone) LLVMConsumeError(gone);
  }
  LLVMOrcReleaseResourceTracker(rt);
  j->reported[0] = 0;
  pthread_mutex_unlock(&j->lock);
  return rc;
}

int gc_jit_define(gc_jit *j, const char *symbol, void *addr, gc_diag *d) {
  pthread_mutex_lock(&j->lock);
  j->reported[0] = 0;
  LLVMOrcCSymbolMapPair pair = {
      .Name = LLVMOrcLLJITMangleAndIntern(j->lljit, symbol),   /* MU takes this reference */
      .Sym = {.Address = (LLVMOrcExecutorAddress)(uintptr_t)addr,
              .Flags = {.GenericFlags = LLVMJITSymbolGenericFlagsExported |
                                        LLVMJITSymbolGenericFlagsCallable}},
  };
  LLVMOrcMaterializationUnitRef mu = LLVMOrcAbsoluteSymbols(&pair, 1);
  LLVMErrorRef err = LLVMOrcJITDylibDefine(j->main, mu);
  int rc = 0;
  if (err) {
    LLVMOrcDisposeMaterializationUnit(mu);
    char what[300];
    snprintf(what, sizeof what, "cannot define %s", symbol);
    rc = jit_error(j, d, err, what);
  }
  pthread_mutex_unlock(&j->lock);
  return rc;
}

void *gc_jit_lookup(gc_jit *j, const char *symbol, gc_diag *d) {
  pthread_mutex_lock(&j->lock);
  j->reported[0] = 0;
  LLVMOrcExecutorAddress addr = 0;
  LLVMErrorRef err = LLVMOrcLLJITLookup(j->lljit, &addr, symbol);
  void *fn = NULL;
  if (err) {
    char what[300];
    snprintf(what, sizeof what, "cannot look up %s", symbol);
    bool reported = j->reported[0] != 0;
    gc_diag mine;
    jit_error(j, &mine, err, what);
    remember_failure(j, symbol, reported, &mine);
    if (d) *d = mine;
  } else if (!addr) {
    gc_diag_set(d, "JIT: %s is at address 0", symbol);
  } else {
    fn = (void *)(uintptr_t)addr;
  }
  pthread_mutex_unlock(&j->lock);
  return fn;
}
