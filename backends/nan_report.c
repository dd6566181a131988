/* The replay of a kernel that made a NaN, the report and the reproducer
 * (see nan_report.h). */
#include "backends/nan_report.h"
#include "backends/interp/interp.h"
#include "backends/runtime/program.h"
#include "base/strbuf.h"
#include "io/file.h"
#include "io/safetensors.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The kernel as a graph of its own: its operands are inputs named "v<id>"
 * (their values in `inputs`), constants and iota copied, its results
 * outputs "v<id>".  map[old] is the new id of each node taken. */
typedef struct {
  const gc_nan_found *f;
  const gc_graph *g;
  gc_graph *sub;
  int *map;
  gc_tensor_map inputs;
  int overwritten;   /* an operand whose buffer a result took (-1: none) */
  gc_diag *d;
} kernel_graph;

static bool in_kernel(const gc_nan_found *f, int id) { return id >= f->lo && id <= f->hi; }

static bool is_result(const gc_nan_found *f, int id) { return in_kernel(f, id) && f->value(f->ctx, id); }

static int take(kernel_graph *k, int id);

static int take_operand(kernel_graph *k, int id) {
  const gc_node *n = k->g->nodes[id];
  void *data = in_kernel(k->f, id) ? NULL : k->f->value(k->f->ctx, id);
  if (!data) return gc_op_is_generated(n->op) ? take(k, id) : gc_diag_set(k->d, "operand %%%d has no value", id);
  char name[32];
  snprintf(name, sizeof name, "v%d", id);
  gc_attrs a;
  gc_attrs_defaults(GC_OP_INPUT, &a);
  a.name.name = name;
  int nid = gc_graph_add(k->sub, GC_OP_INPUT, NULL, 0, &a, &n->type, k->d);
  gc_tensor view = {.type = n->type, .data = data}, *copy = gc_tensor_clone(&view);
  if (nid < 0 || !copy) return gc_tensor_free(copy), nid < 0 ? -1 : gc_diag_set(k->d, "out of memory");
  gc_tensor_map_put(&k->inputs, name, copy);
  for (int r = k->f->lo; r <= k->f->hi; r++)
    if (k->overwritten < 0 && is_result(k->f, r) && k->f->value(k->f->ctx, r) == data) k->overwritten = id;
  return k->map[id] = nid;
}

/* Node id copied (a kernel's node or a generated operand), its operands first. */
static int take(kernel_graph *k, int id) {
  if (k->map[id] >= 0) return k->map[id];
  const gc_node *n = k->g->nodes[id];
  int in[64];
  if (n->n_in > 64) return gc_diag_set(k->d, "node %%%d has too many operands", id);
  for (int i = 0; i < n->n_in; i++) {
    int x = n->in[i];
    in[i] = k->map[x] >= 0 ? k->map[x] : in_kernel(k->f, x) ? take(k, x) : take_operand(k, x);
    if (in[i] < 0) return -1;
  }
  int nid = gc_graph_add(k->sub, n->op, in, n->n_in, &n->attrs, &n->type, k->d);
  if (nid < 0) return -1;
  gc_graph_set_label(k->sub, nid, n->label);
  return k->map[id] = nid;
}

static int build(kernel_graph *k) {
  for (int i = k->f->lo; i <= k->f->hi; i++)
    if (take(k, i) < 0) return -1;
  for (int i = k->f->lo; i <= k->f->hi; i++) {
    char name[32];
    snprintf(name, sizeof name, "v%d", i);
    if (is_result(k->f, i) && gc_graph_add_output(k->sub, name, k->map[i], k->d)) return -1;
  }
  return 0;
}

/* ---- what the replay shows --------------------------------------------- */

static bool bad_value(const gc_tensor *t, bool infs, int64_t *first, int64_t *count) {
  *first = gc_nan_scan(t->data, t->type.dtype, gc_tensor_numel(t), infs, count);
  return *first >= 0;
}

/* The first node of the kernel whose value is bad and whose inputs are not
 * (bad: NaN, or with infs NaN or Inf): -1 when none. */
static int first_bad(const kernel_graph *k, gc_tensor **values, bool infs) {
  for (int i = k->f->lo; i <= k->f->hi; i++) {
    const gc_node *n = k->sub->nodes[k->map[i]];
    int64_t first, count;
    if (!bad_value(values[k->map[i]], infs, &first, &count)) continue;
    bool finite = true;
    for (int j = 0; j < n->n_in && finite; j++) finite = !bad_value(values[n->in[j]], infs, &first, &count);
    if (finite) return i;
  }
  return -1;
}

/* An operand of the kernel (a param, an input) that is bad as given. */
static int bad_operand(const kernel_graph *k, gc_tensor **values, bool infs) {
  for (int i = 0; i < k->g->n_nodes && i < k->f->lo; i++) {
    int64_t first, count;
    if (k->map[i] >= 0 && values[k->map[i]] && bad_value(values[k->map[i]], infs, &first, &count)) return i;
  }
  return -1;
}

static void put_index(gc_strbuf *b, const gc_type *t, int64_t i) {
  int64_t idx[GC_MAX_RANK];
  for (int a = t->rank - 1; a >= 0; a--) idx[a] = i % t->dims[a], i /= t->dims[a];
  gc_strbuf_putc(b, '[');
  for (int a = 0; a < t->rank; a++) gc_strbuf_printf(b, "%s%lld", a ? "," : "", (long long)idx[a]);
  gc_strbuf_putc(b, ']');
}

/* The line of "%id = ..." in the printed program (1-based), its text at
 * *at (indentation skipped), *len bytes; 0 when absent. */
static int node_line(const char *text, int id, const char **at, int *len) {
  char head[32];
  int n = snprintf(head, sizeof head, "%%%d = ", id), line = 1;
  for (const char *p = text; p && *p; line++) {
    const char *s = p;
    while (*s == ' ') s++;
    const char *end = strchr(p, '\n');
    if (strncmp(s, head, (size_t)n) == 0) {
      *at = s;
      *len = (int)(end ? end - s : (long)strlen(s));
      return line;
    }
    p = end ? end + 1 : NULL;
  }
  return 0;
}

/* "%412 = div %400, %411 : f32[8] {label="x"}   (line 412 of DIR/nan-program.gcir)" */
static void put_node(gc_strbuf *b, const char *text, int id, const char *dump) {
  const char *at;
  int len, line = node_line(text, id, &at, &len);
  if (!line) {
    gc_strbuf_printf(b, "%%%d", id);
    return;
  }
  gc_strbuf_printf(b, "%.*s%s   (line %d of %s)", len > 300 ? 300 : len, at, len > 300 ? "..." : "", line, dump);
}

/* Each input's value at element i of an elementwise node (they share its
 * shape); otherwise only that they are finite. */
static void put_inputs(gc_strbuf *b, const kernel_graph *k, gc_tensor **values, int node, int64_t i) {
  const gc_node *n = k->g->nodes[node], *s = k->sub->nodes[k->map[node]];
  if (!gc_op_is_elementwise(n->op) || !n->n_in) {
    gc_strbuf_printf(b, "its %d inputs are finite", n->n_in);
    return;
  }
  gc_strbuf_printf(b, "at ");
  put_index(b, &n->type, i);
  for (int j = 0; j < n->n_in; j++)
    gc_strbuf_printf(b, "%s%%%d is %.9g", j ? ", " : " input ", n->in[j], gc_tensor_load(values[s->in[j]], i));
}

static const char *what(bool nan) { return nan ? "NaN" : "Inf"; }

static void put_report(gc_strbuf *b, const kernel_graph *k, gc_tensor **values, const char *text, const char *dir) {
  const gc_nan_found *f = k->f;
  const gc_graph *g = k->g;
  char dump[512], kname[32];
  snprintf(dump, sizeof dump, "%s/nan-program.gcir", dir);
  if (f->kernel >= 0) snprintf(kname, sizeof kname, "kernel k%d", f->kernel);
  else snprintf(kname, sizeof kname, "node %%%d", f->lo);
  int node = values ? first_bad(k, values, f->program->nan_check->infs) : -1;
  int shown = node >= 0 ? node : f->node;
  const gc_node *n = g->nodes[shown];
  int64_t first = f->first, count = f->count;
  const gc_tensor *v = node >= 0 ? values[k->map[node]] : NULL;
  if (v) bad_value(v, f->program->nan_check->infs, &first, &count);
  bool nan = v ? gc_tensor_load(v, first) != gc_tensor_load(v, first) : f->nan;
  gc_strbuf_printf(b, "%s in step %lld, %s (%s): ", what(nan), (long long)f->step, n->grad_of ? "backward" : "forward",
                   kname);
  if (node >= 0) {
    gc_strbuf_printf(b, "first produced by\n  ");
    put_node(b, text, node, dump);
    gc_strbuf_printf(b, "\n  ");
    put_inputs(b, k, values, node, first);
    gc_strbuf_printf(b, "; %lld of %lld outputs are %s, the first at ", (long long)count, (long long)gc_tensor_numel(v),
                     what(nan));
    put_index(b, &v->type, first);
  } else {
    gc_strbuf_printf(b, "%lld of the %lld values of\n  ", (long long)f->count, (long long)gc_type_numel_unchecked(&n->type));
    put_node(b, text, f->node, dump);
    gc_strbuf_printf(b, "\n  are %s, the first at ", what(f->nan));
    put_index(b, &n->type, f->first);
    int bad_in = values ? bad_operand(k, values, f->program->nan_check->infs) : -1;
    if (k->overwritten >= 0)
      gc_strbuf_printf(b, "\n  no replay: the kernel wrote a result over its operand %%%d", k->overwritten);
    else if (bad_in >= 0)
      gc_strbuf_printf(b, "\n  its operand %%%d is %s already (as given)", bad_in, what(f->nan));
    else if (!values)
      gc_strbuf_printf(b, "\n  no replay: the interpreter could not run the kernel");
    else
      gc_strbuf_printf(b, "\n  replayed in the interpreter, %s's nodes stay finite: the %s comes from the compiled code's "
                          "arithmetic", kname, what(f->nan));
  }
  if (n->grad_of) {
    const gc_node *fw = g->nodes[n->grad_of - 1];
    gc_strbuf_printf(b, "\n  it is the gradient of ");
    put_node(b, text, n->grad_of - 1, dump);
    if (fw->label) gc_strbuf_printf(b, ", in %s", fw->label);
  }
}

static int write_text(const char *dir, const char *file, const char *text, gc_diag *d) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  return gc_write_file_atomic(path, text, strlen(text), d);
}

/* DIR/nan-program.gcir, DIR/nan-kernel.gcir, DIR/nan-inputs.safetensors. */
static int write_reproducer(const kernel_graph *k, const char *program, const char *dir, gc_diag *d) {
  if (mkdir(dir, 0777) && errno != EEXIST) return gc_diag_set(d, "cannot make %s: %s", dir, strerror(errno));
  char *kernel = gc_print(k->sub), path[1024];
  if (!kernel) return gc_diag_set(d, "out of memory");
  int rc = write_text(dir, "nan-program.gcir", program, d);
  if (rc == 0) rc = write_text(dir, "nan-kernel.gcir", kernel, d);
  snprintf(path, sizeof path, "%s/nan-inputs.safetensors", dir);
  if (rc == 0) rc = gc_safetensors_write(path, &k->inputs, d);
  free(kernel);
  return rc;
}

int gc_nan_report(const gc_nan_found *f, gc_diag *d) {
  const gc_graph *g = f->program->graph;
  const char *dir = f->program->nan_check->dir ? f->program->nan_check->dir : "gc-nan";
  gc_diag e = {0};
  kernel_graph k = {f, g, gc_graph_new("nan_kernel"), malloc(sizeof(int) * ((size_t)g->n_nodes + 1)), {0}, -1, &e};
  gc_tensor_map_init(&k.inputs);
  char *text = gc_print(g);
  gc_tensor **values = calloc((size_t)g->n_nodes + 1, sizeof *values);
  int rc = k.sub && k.map && text && values ? 0 : gc_diag_set(&e, "out of memory");
  for (int i = 0; k.map && i < g->n_nodes; i++) k.map[i] = -1;
  if (rc == 0) rc = build(&k);
  bool replayed = rc == 0 && k.overwritten < 0 && gc_interp_eval(k.sub, NULL, &k.inputs, values, &e) == 0;
  if (rc == 0) rc = write_reproducer(&k, text, dir, &e);
  gc_strbuf b = {0};
  if (text) put_report(&b, &k, replayed ? values : NULL, text, dir);
  if (rc == 0)
    gc_strbuf_printf(&b, "\n  reproducer: gc-run %s/nan-kernel.gcir --inputs %s/nan-inputs.safetensors --check-nans%s --nan-dir %s/again",
                     dir, dir, f->program->nan_check->infs ? " --check-infs" : "", dir);
  else
    gc_strbuf_printf(&b, "\n  no reproducer: %s", e.msg);
  char *report = gc_strbuf_take(&b);
  gc_diag_set(d, "%s", report ? report : "NaN (out of memory for the report)");
  free(report);
  if (replayed) gc_interp_values_free(k.sub, values);
  free(values);
  free(text);
  free(k.map);
  gc_tensor_map_clear(&k.inputs);
  gc_graph_free(k.sub);
  return -1;
}
