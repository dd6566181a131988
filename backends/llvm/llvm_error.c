/* LLVM's error values as gc diagnostics (see llvm_error.h). */
#include "backends/llvm/llvm_error.h"

#include <llvm-c/Core.h>

#include <string.h>

/* LLVM messages may span lines (the verifier's do); a diagnostic is one
 * line per fact, so newlines become "; " and trailing ones go. */
static void set_one_line(gc_diag *d, const char *what, const char *msg) {
  if (!d) return;
  gc_diag_set(d, "%s: %s", what, msg && *msg ? msg : "unknown error");
  char *s = d->msg;
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == ' ')) s[--n] = 0;
  char out[sizeof d->msg];
  size_t o = 0;
  for (size_t i = 0; i < n && o + 3 < sizeof out; i++) {
    if (s[i] == '\n') {
      out[o++] = ';', out[o++] = ' ';
      while (i + 1 < n && (s[i + 1] == ' ' || s[i + 1] == '\n')) i++;
    } else {
      out[o++] = s[i];
    }
  }
  out[o] = 0;
  memcpy(s, out, o + 1);
}

int gc_llvm_error(gc_diag *d, LLVMErrorRef err, const char *what) {
  char *msg = LLVMGetErrorMessage(err);      /* consumes err */
  set_one_line(d, what, msg);
  LLVMDisposeErrorMessage(msg);
  return -1;
}

int gc_llvm_message(gc_diag *d, char *msg, const char *what) {
  set_one_line(d, what, msg);
  if (msg) LLVMDisposeMessage(msg);
  return -1;
}
