/* Graphviz output (see graphviz.h). */
#include "passes/graphviz.h"
#include "base/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A label's text with quotes and backslashes escaped. */
static void put_escaped(gc_strbuf *t, const char *s) {
  for (; s && *s; s++) {
    if (*s == '"' || *s == '\\') gc_strbuf_printf(t, "\\%c", *s);
    else gc_strbuf_printf(t, "%c", *s);
  }
}

static bool shown(const gc_node *n, const char *prefix) {
  return !prefix || (n->label && strncmp(n->label, prefix, strlen(prefix)) == 0);
}

static void put_node(gc_strbuf *t, const gc_graph *g, int i) {
  const gc_node *n = g->nodes[i];
  char ty[GC_TYPE_STR_MAX];
  gc_strbuf_printf(t, "    n%d [label=\"%%%d = %s", i, i, gc_op_name(n->op));
  if (gc_op_is_fed(n->op)) {
    gc_strbuf_printf(t, " \\\"");
    put_escaped(t, n->attrs.name.name);
    gc_strbuf_printf(t, "\\\"");
  }
  gc_strbuf_printf(t, "\\n%s", gc_type_str(&n->type, ty, sizeof ty));
  if (n->label) {
    gc_strbuf_printf(t, "\\n");
    put_escaped(t, n->label);
  }
  gc_strbuf_printf(t, "\"%s];\n", gc_op_is_source(n->op) ? ", shape=ellipse" : "");
}

char *gc_graph_graphviz(const gc_graph *g, const char *label_prefix) {
  gc_strbuf t = {0};
  gc_strbuf_printf(&t, "digraph \"%s\" {\n  rankdir=TB;\n  node [shape=box, fontsize=10];\n", g->name);
  for (int i = 0; i < g->n_nodes;) {
    int k = g->nodes[i]->kernel, end = i + 1;
    while (k && end < g->n_nodes && g->nodes[end]->kernel == k) end++;
    bool any = false;
    for (int j = i; j < end; j++) any = any || shown(g->nodes[j], label_prefix);
    if (k && any) gc_strbuf_printf(&t, "  subgraph cluster_k%d {\n    label=\"k%d\";\n    style=rounded;\n", k - 1, k - 1);
    for (int j = i; j < end; j++)
      if (shown(g->nodes[j], label_prefix)) put_node(&t, g, j);
    if (k && any) gc_strbuf_printf(&t, "  }\n");
    i = end;
  }
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    if (!shown(n, label_prefix)) continue;
    for (int k = 0; k < n->n_in; k++)
      if (shown(g->nodes[n->in[k]], label_prefix)) gc_strbuf_printf(&t, "  n%d -> n%d;\n", n->in[k], i);
  }
  for (int i = 0; i < g->n_outputs; i++)
    if (shown(g->nodes[g->outputs[i].node], label_prefix)) {
      gc_strbuf_printf(&t, "  out%d [label=\"output ", i);
      put_escaped(&t, g->outputs[i].name);
      gc_strbuf_printf(&t, "\", shape=plaintext];\n  n%d -> out%d;\n", g->outputs[i].node, i);
    }
  gc_strbuf_printf(&t, "}\n");
  return gc_strbuf_take(&t);
}
