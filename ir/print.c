/* The printer of the graph IR text form (IR.md).  Values are numbered %0..
 * in node order; attributes equal to their default are left out; floats use
 * %.17g so that parse(print(g)) gives back the same bits. */
#include "lexer.h"
#include "ir/uses.h"
#include "base/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "..." with the escapes the lexer reads back. */
static void print_string(gc_strbuf *b, const char *s) {
  gc_strbuf_putc(b, '"');
  for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
    if (*c == '"' || *c == '\\') gc_strbuf_printf(b, "\\%c", *c);
    else if (*c == '\n') gc_strbuf_printf(b, "\\n");
    else if (*c == '\t') gc_strbuf_printf(b, "\\t");
    else if (*c == '\r') gc_strbuf_printf(b, "\\r");
    else if (*c < 0x20 || *c == 0x7f) gc_strbuf_printf(b, "\\x%02x", *c);
    else gc_strbuf_putc(b, (char)*c);
  }
  gc_strbuf_putc(b, '"');
}

static void print_float(gc_strbuf *b, double v) {
  if (isnan(v)) gc_strbuf_printf(b, "nan");
  else if (isinf(v)) gc_strbuf_printf(b, v < 0 ? "-inf" : "inf");
  else gc_strbuf_printf(b, "%.17g", v);
}

/* The graph's name as an @NAME token can hold it. */
static void print_graph_name(gc_strbuf *b, const char *name) {
  gc_strbuf_putc(b, '@');
  if (!name || !*name) name = "main";
  for (const char *c = name; *c; c++) {
    bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '.' || *c == '-';
    gc_strbuf_putc(b, ok ? *c : '_');
  }
}

static bool is_default(const gc_field *f, const void *p) {
  if (f->required) return false;
  switch (f->kind) {
  case GC_FIELD_BOOL: return *(const bool *)p == (f->dflt != 0);
  case GC_FIELD_INT: return *(const int64_t *)p == (int64_t)f->dflt;
  case GC_FIELD_FLOAT: {
    double v = *(const double *)p;
    return v == f->dflt && signbit(v) == signbit(f->dflt);
  }
  case GC_FIELD_STR: return *(const char *const *)p == NULL;
  case GC_FIELD_PAIRS: return ((const gc_pairs *)p)->n == 0;
  case GC_FIELD_LIST: {
    const gc_ilist *l = p;
    for (int i = 0; i < l->n; i++)
      if (f->dflt != 1 || l->v[i] != 1) return false;
    return true;
  }
  }
  return false;
}

static void print_field(gc_strbuf *b, const gc_field *f, const void *p) {
  if (f->kind == GC_FIELD_PAIRS) {   /* each pair is an attribute of its own */
    const gc_pairs *q = p;
    for (int i = 0; i < q->n; i++) {
      gc_strbuf_printf(b, "%s%s=", i ? ", " : "", q->key[i]);
      print_float(b, q->value[i]);
    }
    return;
  }
  gc_strbuf_printf(b, "%s=", f->key);
  switch (f->kind) {
  case GC_FIELD_BOOL: gc_strbuf_printf(b, *(const bool *)p ? "true" : "false"); break;
  case GC_FIELD_INT: gc_strbuf_printf(b, "%lld", (long long)*(const int64_t *)p); break;
  case GC_FIELD_FLOAT: print_float(b, *(const double *)p); break;
  case GC_FIELD_STR: print_string(b, *(const char *const *)p); break;
  case GC_FIELD_LIST: {
    const gc_ilist *l = p;
    gc_strbuf_putc(b, '[');
    for (int i = 0; i < l->n; i++) gc_strbuf_printf(b, "%s%lld", i ? "," : "", (long long)l->v[i]);
    gc_strbuf_putc(b, ']');
    break;
  }
  case GC_FIELD_PAIRS: break;
  }
}

/* {key=value, ..., label="..."}, or nothing when every attribute is a default. */
static void print_attrs(gc_strbuf *b, const gc_node *n) {
  int nf;
  const gc_field *f = gc_schema_fields(gc_op_info_of(n->op)->schema, &nf);
  bool any = false;
  for (int i = gc_text_first_key(n->op, nf); i < nf; i++) {
    const void *p = (const char *)&n->attrs + f[i].offset;
    if (is_default(&f[i], p)) continue;
    gc_strbuf_printf(b, any ? ", " : " {");
    print_field(b, &f[i], p);
    any = true;
  }
  if (n->into) {
    gc_strbuf_printf(b, any ? ", into=" : " {into=");
    print_string(b, n->into);
    any = true;
  } else if (n->planned) {
    gc_strbuf_printf(b, any ? ", offset=%lld" : " {offset=%lld", (long long)n->offset);
    any = true;
  }
  if (n->label) {
    gc_strbuf_printf(b, any ? ", label=" : " {label=");
    print_string(b, n->label);
    any = true;
  }
  if (any) gc_strbuf_putc(b, '}');
}

static void print_node(gc_strbuf *b, int id, const gc_node *n) {
  char t[GC_TYPE_STR_MAX];
  gc_strbuf_printf(b, "%s  %%%d = %s", n->kernel ? "  " : "", id, gc_op_name(n->op));
  if (n->op == GC_OP_CONST) {
    gc_strbuf_putc(b, ' ');
    print_float(b, n->attrs.value.value);
  } else if (gc_op_is_fed(n->op)) {
    gc_strbuf_putc(b, ' ');
    print_string(b, n->attrs.name.name);
  } else if (n->op == GC_OP_CALL) {
    gc_strbuf_printf(b, " @%s(", n->attrs.call.callee);
  }
  for (int i = 0; i < n->n_in; i++)
    gc_strbuf_printf(b, "%s%%%d", i ? ", " : n->op == GC_OP_CALL ? "" : " ", n->in[i]);
  if (n->op == GC_OP_CALL) gc_strbuf_putc(b, ')');
  print_attrs(b, n);
  gc_strbuf_printf(b, " : %s\n", gc_type_str(&n->type, t, sizeof t));
}

static void print_bindings(gc_strbuf *b, const char *kw, const gc_binding *bs, int n) {
  for (int i = 0; i < n; i++) {
    gc_strbuf_printf(b, "  %s ", kw);
    print_string(b, bs[i].name);
    gc_strbuf_printf(b, " = %%%d\n", bs[i].node);
  }
}

static int by_id(const void *a, const void *b) { return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b); }

/* "kernel @kN(%operands) -> (%results) {" for the kernel of nodes
 * [first, end): operands are the stored values its nodes read from outside
 * (constants, iota and rand_uniform are computed where used), results the
 * values read after it or bound to an output or update.  Costs the
 * kernel's size: `seen` (set to `stamp`, this head's number, once a node
 * is listed; kept across kernels) and `list` have room for every node. */
static void print_kernel_head(gc_strbuf *b, const gc_graph *g, const gc_uses *u, int first, int end, int *seen, int *list,
                              int stamp) {
  int n = 0;
  gc_strbuf_printf(b, "  kernel @k%d(", g->nodes[first]->kernel - 1);
  for (int j = first; j < end; j++)
    for (int k = 0; k < g->nodes[j]->n_in; k++) {
      int i = g->nodes[j]->in[k];
      if (i >= first || seen[i] == stamp || (gc_op_is_source(g->nodes[i]->op) && !gc_op_is_fed(g->nodes[i]->op))) continue;
      seen[i] = stamp;
      list[n++] = i;
    }
  qsort(list, (size_t)n, sizeof *list, by_id);
  for (int i = 0; i < n; i++) gc_strbuf_printf(b, "%s%%%d", i ? ", " : "", list[i]);
  gc_strbuf_printf(b, ") -> (");
  n = 0;
  for (int i = first; i < end; i++) {   /* readers are in node order: the last is the latest */
    int count = gc_uses_count(u, i);
    if (gc_uses_is_bound(u, i) || (count && gc_uses_readers(u, i)[count - 1] >= end))
      gc_strbuf_printf(b, "%s%%%d", n++ ? ", " : "", i);
  }
  gc_strbuf_printf(b, ") {\n");
}

char *gc_print(const gc_graph *g) {
  gc_strbuf b = {0};
  gc_strbuf_printf(&b, "graph ");
  print_graph_name(&b, g->name);
  gc_strbuf_printf(&b, " {\n");
  gc_uses u = {0};
  bool kernels = g->n_kernels > 0 && gc_uses_init(&u, g, NULL) == 0;
  int *seen = kernels ? calloc((size_t)g->n_nodes + 1, sizeof *seen) : NULL;
  int *list = kernels ? malloc(sizeof *list * ((size_t)g->n_nodes + 1)) : NULL;
  if (kernels && (!seen || !list)) b.failed = true, kernels = false;
  int heads = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    int k = g->nodes[i]->kernel;
    if (kernels && k && (i == 0 || g->nodes[i - 1]->kernel != k)) {
      int end = i;
      while (end < g->n_nodes && g->nodes[end]->kernel == k) end++;
      print_kernel_head(&b, g, &u, i, end, seen, list, ++heads);
    }
    print_node(&b, i, g->nodes[i]);
    if (kernels && k && (i + 1 == g->n_nodes || g->nodes[i + 1]->kernel != k)) gc_strbuf_printf(&b, "  }\n");
  }
  gc_uses_free(&u);
  free(seen);
  free(list);
  print_bindings(&b, "output", g->outputs, g->n_outputs);
  print_bindings(&b, "update", g->updates, g->n_updates);
  gc_strbuf_printf(&b, "}\n");
  return gc_strbuf_take(&b);
}
