/* The pass manager: pipelines from strings, verification after every pass,
 * IR dumps before/after passes and into a directory, pass timing, stats. */
#include "passes/pass.h"
#include "io/file.h"
#include "base/clock.h"
#include "base/namelist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const gc_pass all_passes[] = {
#define GC_PASS(name, description) {#name, description, gc_pass_##name},
#include "passes/passes.def"
#undef GC_PASS
};

const gc_pass *gc_passes(int *n) {
  *n = (int)(sizeof all_passes / sizeof *all_passes);
  return all_passes;
}

const gc_pass *gc_pass_find(const char *name) {
  for (size_t i = 0; i < sizeof all_passes / sizeof *all_passes; i++)
    if (strcmp(all_passes[i].name, name) == 0) return &all_passes[i];
  return NULL;
}

const char *gc_pass_default_pipeline(void) { return "simplify,cse,dce,fuse,remat,plan"; }

void gc_pass_options_init(gc_pass_options *o) {
  memset(o, 0, sizeof *o);
  o->plan_inplace_updates = true;
}

/* ---- pipeline strings -------------------------------------------------- */

#define MAX_PASSES 64

/* See pass.h.  An empty string (or only spaces) is no names; an empty name
 * between commas, or before or after one, is an error. */
int gc_pass_names(const char *pipeline, char *buf, size_t size, const char **names, int max, gc_diag *d) {
  if ((size_t)snprintf(buf, size, "%s", pipeline) >= size) return gc_diag_set(d, "pipeline: too long");
  if (strspn(buf, " ") == strlen(buf)) return 0;
  int n = 0;
  for (char *t = buf, *next; t; t = next) {
    next = strchr(t, ',');
    if (next) *next++ = 0;
    while (*t == ' ') t++;
    for (char *e = t + strlen(t); e > t && e[-1] == ' ';) *--e = 0;
    if (!*t) return gc_diag_set(d, "pipeline '%.200s': an empty pass name (two commas, or one at an end)", pipeline);
    if (n == max) return gc_diag_set(d, "pipeline: more than %d passes", max);
    names[n++] = t;
  }
  return n;
}

static int unknown_pass(const char *name, gc_diag *d) {
  char known[512] = "";
  for (size_t i = 0; i < sizeof all_passes / sizeof *all_passes; i++) gc_namelist_add(known, sizeof known, ", ", all_passes[i].name);
  return gc_diag_set(d, "unknown pass '%s' (known: %s)", name, known);
}

int gc_pipeline_check(const char *pipeline, gc_diag *d) {
  char buf[2048];
  const char *names[MAX_PASSES];
  int n = gc_pass_names(pipeline ? pipeline : gc_pass_default_pipeline(), buf, sizeof buf, names, MAX_PASSES, d);
  for (int i = 0; i < n; i++)
    if (!gc_pass_find(names[i])) return unknown_pass(names[i], d);
  return n < 0 ? -1 : 0;
}

/* ---- dumps ------------------------------------------------------------- */

bool gc_pass_listed(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *c = list; c && *c;) {   /* each name, spaces around it ignored */
    while (*c == ' ') c++;
    size_t len = strcspn(c, ",");
    size_t trimmed = len;
    while (trimmed && c[trimmed - 1] == ' ') trimmed--;
    if (trimmed == n && strncmp(c, name, n) == 0) return true;
    c = c[len] ? c + len + 1 : NULL;
  }
  return false;
}

typedef struct {
  const gc_pass_options *o;
  FILE *out;
  char *last_text;     /* the IR as last printed (for --print-ir-after-change) */
  int dump_index;
  gc_diag *d;
} dumper;

static int dump_file(dumper *w, const char *stage, const char *text) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%02d-%s.gcir", w->o->dump_dir, w->dump_index++, stage);
  return gc_write_file_atomic(path, text, strlen(text), w->d);
}

/* Print the IR of g under a "# IR after X" heading when asked; write the
 * dump file.  `stage` is "input" or "after-NAME"; `pass` the pass or NULL. */
static int dump(dumper *w, const gc_graph *g, const char *stage, const char *pass, bool before) {
  const gc_pass_options *o = w->o;
  bool print = before ? (o->print_before_all || gc_pass_listed(o->print_before, pass))
                      : pass && (o->print_after_all || gc_pass_listed(o->print_after, pass) || o->print_after_change);
  if (!print && !o->dump_dir && !o->print_after_change) return 0;
  char *text = gc_print(g);
  if (!text) return gc_diag_set(w->d, "out of memory printing the IR");
  if (print && !before && !o->print_after_all && !gc_pass_listed(o->print_after, pass) && o->print_after_change)
    print = !w->last_text || strcmp(w->last_text, text) != 0;
  if (print) fprintf(w->out, "# IR %s %s\n%s", before ? "before" : "after", pass, text);
  int rc = !before && o->dump_dir ? dump_file(w, stage, text) : 0;
  if (!before) {
    free(w->last_text);
    w->last_text = text;
  } else {
    free(text);
  }
  return rc;
}

/* ---- running ----------------------------------------------------------- */

/* "pass NAME broke the graph: ..." after printing the IR before the pass. */
static int broken(const gc_pass *p, const gc_graph *before, FILE *out, gc_diag *d) {
  char msg[sizeof d->msg];
  snprintf(msg, sizeof msg, "%s", d->msg);
  char *text = gc_print(before);
  if (text) fprintf(out, "# IR before %s (which broke it)\n%s", p->name, text);
  free(text);
  return gc_diag_set(d, "pass %s broke the graph: %s", p->name, msg);
}

gc_graph *gc_run_passes(gc_graph *g, const char *pipeline, const gc_pass_options *opts, gc_diag *d) {
  gc_pass_options defaults;
  if (!opts) gc_pass_options_init(&defaults), opts = &defaults;
  char buf[2048];
  const char *names[MAX_PASSES];
  int n = gc_pass_names(pipeline ? pipeline : gc_pass_default_pipeline(), buf, sizeof buf, names, MAX_PASSES, d);
  if (n < 0 || gc_pipeline_check(pipeline, d)) return gc_graph_free(g), NULL;
  gc_pass_ctx ctx = {opts, d, opts->out ? opts->out : stderr};
  dumper w = {opts, ctx.out, NULL, 0, d};
  double ms[MAX_PASSES] = {0};
  if (opts->dump_dir && mkdir(opts->dump_dir, 0777) && errno != EEXIST) {
    gc_diag_set(d, "cannot create dump directory %s: %s", opts->dump_dir, strerror(errno));
    return gc_graph_free(g), NULL;
  }
  int rc = dump(&w, g, "input", NULL, false);
  for (int i = 0; rc == 0 && i < n; i++) {
    const gc_pass *p = gc_pass_find(names[i]);
    char stage[128];
    snprintf(stage, sizeof stage, "after-%s", p->name);
    if ((rc = dump(&w, g, stage, p->name, true))) break;
    double t0 = gc_now_ms();
    gc_graph *next = p->run(g, &ctx);
    ms[i] = gc_now_ms() - t0;
    if (!next) {
      char msg[sizeof d->msg];
      snprintf(msg, sizeof msg, "%s", d->msg);
      rc = gc_diag_set(d, "pass %s: %s", p->name, msg);
      break;
    }
    if (gc_verify(next, d)) {
      rc = broken(p, g, ctx.out, d);
      if (next != g) gc_graph_free(next);
      break;
    }
    if (next != g) gc_graph_free(g);
    g = next;
    rc = dump(&w, g, stage, p->name, false);
  }
  free(w.last_text);
  if (opts->time_passes)
    for (int i = 0; i < n; i++) fprintf(ctx.out, "time-passes: %-10s %9.3f ms\n", names[i], ms[i]);
  if (rc) return gc_graph_free(g), NULL;
  if (opts->stats) gc_print_stats(ctx.out, g);
  return g;
}

/* ---- stats ------------------------------------------------------------- */

gc_graph_stats gc_graph_stats_of(const gc_graph *g) {
  gc_graph_stats s = {.nodes = g->n_nodes, .flops = gc_graph_flops(g)};
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    bool in_kernel = n->kernel > 0;
    if (in_kernel ? i == 0 || g->nodes[i - 1]->kernel != n->kernel : !gc_op_is_source(n->op)) s.kernels++;
    if (n->planned && !n->into) {
      int64_t end = n->offset + gc_node_bytes(n);
      end = (end + 63) & ~(int64_t)63;   /* the arena's blocks are 64-byte aligned, as plan counts them */
      if (end > s.peak_bytes) s.peak_bytes = end;
    }
  }
  return s;
}

void gc_print_stats(FILE *f, const gc_graph *g) {
  gc_graph_stats s = gc_graph_stats_of(g);
  fprintf(f, "stats: nodes=%d kernels=%d peak_bytes=%lld flops=%.0f\n", s.nodes, s.kernels,
          (long long)s.peak_bytes, s.flops);
}
