/* The backends the build found (the folders of the generated backends.def),
 * the default one, and gc_compile: the pass pipeline, then the named
 * backend (see backend.h). */
#include "backends/backend.h"
#include "backends/runtime/call.h"
#include "backends/nan_report.h"
#include "backends/runtime/program.h"
#include "passes/pass.h"
#include "base/clock.h"
#include "base/namelist.h"

#include <stdio.h>
#include <string.h>

#define GC_BACKEND(name) extern const gc_backend gc_backend_##name;
#include "backends.def"
#undef GC_BACKEND

static const gc_backend *const all_backends[] = {
#define GC_BACKEND(name) &gc_backend_##name,
#include "backends.def"
#undef GC_BACKEND
};

const gc_backend *const *gc_backends(int *n) {
  *n = (int)(sizeof all_backends / sizeof *all_backends);
  return all_backends;
}

/* The JIT: it passes every suite the interpreter passes (both run them). */
const char *gc_default_backend(void) { return "llvm"; }

const gc_backend *gc_backend_find(const char *name, gc_diag *d) {
  int n;
  const gc_backend *const *b = gc_backends(&n);
  char known[256] = "";
  for (int i = 0; i < n; i++) {
    if (strcmp(b[i]->name, name) == 0) return b[i];
    gc_namelist_add(known, sizeof known, ", ", b[i]->name);
  }
  gc_diag_set(d, "unknown backend '%s' (known: %s)", name, known);
  return NULL;
}

gc_program *gc_compile(const gc_graph *g, const gc_compile_options *o, gc_diag *d) {
  gc_compile_options defaults;
  if (!o) gc_compile_options_init(&defaults), o = &defaults;
  const gc_backend *b = gc_backend_find(o->backend ? o->backend : gc_default_backend(), d);
  if (!b || gc_verify(g, d) || gc_call_check_graph(g, d)) return NULL;   /* calls resolve, with line:col */
  double t0 = gc_now_ms();
  gc_graph *copy = gc_graph_clone(g);
  if (!copy) return gc_diag_set(d, "out of memory"), NULL;
  if (!(copy = gc_run_passes(copy, o->passes, o->pass_options, d))) return NULL;
  gc_program *p = gc_program_new(copy, b, o, d);
  if (p) p->stats.compile_ms = gc_now_ms() - t0;
  if (p && p->nan_check) p->nan_check->report = gc_nan_report;
  return p;
}
