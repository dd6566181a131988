/* Graphviz output (see dot.h). */
#include "passes/dot.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char *s;
  size_t len, cap;
  bool failed;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || t->failed) return;
  if (t->len + (size_t)n + 1 > t->cap) {
    size_t cap = t->cap ? t->cap : 4096;
    while (t->len + (size_t)n + 1 > cap) cap *= 2;
    char *s = realloc(t->s, cap);
    if (!s) {
      t->failed = true;
      return;
    }
    t->s = s, t->cap = cap;
  }
  va_start(ap, fmt);
  vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
  va_end(ap);
  t->len += (size_t)n;
}

/* A label's text with quotes and backslashes escaped. */
static void put_escaped(text *t, const char *s) {
  for (; s && *s; s++) {
    if (*s == '"' || *s == '\\') put(t, "\\%c", *s);
    else put(t, "%c", *s);
  }
}

static bool shown(const gc_node *n, const char *prefix) {
  return !prefix || (n->label && strncmp(n->label, prefix, strlen(prefix)) == 0);
}

static void put_node(text *t, const gc_graph *g, int i) {
  const gc_node *n = g->nodes[i];
  char ty[GC_TYPE_STR_MAX];
  put(t, "    n%d [label=\"%%%d = %s", i, i, gc_op_name(n->op));
  if (gc_op_is_fed(n->op)) {
    put(t, " \\\"");
    put_escaped(t, n->attrs.name.name);
    put(t, "\\\"");
  }
  put(t, "\\n%s", gc_type_str(&n->type, ty, sizeof ty));
  if (n->label) {
    put(t, "\\n");
    put_escaped(t, n->label);
  }
  put(t, "\"%s];\n", gc_op_is_source(n->op) ? ", shape=ellipse" : "");
}

char *gc_graph_dot(const gc_graph *g, const char *label_prefix) {
  text t = {0};
  put(&t, "digraph \"%s\" {\n  rankdir=TB;\n  node [shape=box, fontsize=10];\n", g->name);
  for (int i = 0; i < g->n_nodes;) {
    int k = g->nodes[i]->kernel, end = i + 1;
    while (k && end < g->n_nodes && g->nodes[end]->kernel == k) end++;
    bool any = false;
    for (int j = i; j < end; j++) any = any || shown(g->nodes[j], label_prefix);
    if (k && any) put(&t, "  subgraph cluster_k%d {\n    label=\"k%d\";\n    style=rounded;\n", k - 1, k - 1);
    for (int j = i; j < end; j++)
      if (shown(g->nodes[j], label_prefix)) put_node(&t, g, j);
    if (k && any) put(&t, "  }\n");
    i = end;
  }
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    if (!shown(n, label_prefix)) continue;
    for (int k = 0; k < n->n_in; k++)
      if (shown(g->nodes[n->in[k]], label_prefix)) put(&t, "  n%d -> n%d;\n", n->in[k], i);
  }
  for (int i = 0; i < g->n_outputs; i++)
    if (shown(g->nodes[g->outputs[i].node], label_prefix)) {
      put(&t, "  out%d [label=\"output ", i);
      put_escaped(&t, g->outputs[i].name);
      put(&t, "\", shape=plaintext];\n  n%d -> out%d;\n", g->outputs[i].node, i);
    }
  put(&t, "}\n");
  if (t.failed) {
    free(t.s);
    return NULL;
  }
  return t.s;
}
