/* Structural hashing with XXH3: a node's hash covers its op, attributes,
 * type and its operands' hashes, never its label or position. */
#include "ir.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static void hash_attrs(XXH3_state_t *s, const gc_node *n) {
  int nf;
  const gc_field *f = gc_schema_fields(gc_op_info_of(n->op)->schema, &nf);
  for (int i = 0; i < nf; i++) {
    const void *p = (const char *)&n->attrs + f[i].offset;
    switch (f[i].kind) {
    case GC_FIELD_BOOL: { unsigned char b = *(const bool *)p; XXH3_64bits_update(s, &b, 1); break; }
    case GC_FIELD_INT: XXH3_64bits_update(s, p, sizeof(int64_t)); break;
    case GC_FIELD_FLOAT: XXH3_64bits_update(s, p, sizeof(double)); break;
    case GC_FIELD_STR: {
      const char *str = *(const char *const *)p;
      if (str) XXH3_64bits_update(s, str, strlen(str) + 1);
      break;
    }
    case GC_FIELD_LIST: {
      const gc_ilist *l = p;
      int64_t ones[GC_MAX_RANK];
      int k = l->n;
      const int64_t *v = l->v;
      if (k == 0 && f[i].dflt == 1) { /* omitted step: all ones, one per axis */
        k = n->type.rank;
        for (int j = 0; j < k; j++) ones[j] = 1;
        v = ones;
      }
      XXH3_64bits_update(s, &k, sizeof k);
      XXH3_64bits_update(s, v, sizeof(int64_t) * (size_t)k);
      break;
    }
    case GC_FIELD_PAIRS: {
      const gc_pairs *q = p;
      XXH3_64bits_update(s, &q->n, sizeof q->n);
      for (int j = 0; j < q->n; j++) {
        XXH3_64bits_update(s, q->key[j], strlen(q->key[j]) + 1);
        XXH3_64bits_update(s, &q->value[j], sizeof(double));
      }
      break;
    }
    }
  }
}

void gc_hash_nodes(const gc_graph *g, uint64_t *hashes) {
  XXH3_state_t *s = XXH3_createState();
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    int32_t head[3] = {(int32_t)n->op, (int32_t)n->type.dtype, n->type.rank};
    XXH3_64bits_reset(s);
    XXH3_64bits_update(s, head, sizeof head);
    XXH3_64bits_update(s, n->type.dims, sizeof(int64_t) * (size_t)n->type.rank);
    hash_attrs(s, n);
    for (int k = 0; k < n->n_in; k++) XXH3_64bits_update(s, &hashes[n->in[k]], sizeof(uint64_t));
    hashes[i] = XXH3_64bits_digest(s);
  }
  XXH3_freeState(s);
}

uint64_t gc_hash_graph(const gc_graph *g) {
  uint64_t *h = calloc((size_t)g->n_nodes + 1, sizeof *h);
  XXH3_state_t *s = XXH3_createState();
  gc_hash_nodes(g, h);
  XXH3_64bits_reset(s);
  XXH3_64bits_update(s, h, sizeof(uint64_t) * (size_t)g->n_nodes);
  for (int i = 0; i < g->n_outputs; i++) {
    XXH3_64bits_update(s, g->outputs[i].name, strlen(g->outputs[i].name) + 1);
    XXH3_64bits_update(s, &g->outputs[i].node, sizeof(int));
  }
  for (int i = 0; i < g->n_updates; i++) {
    XXH3_64bits_update(s, g->updates[i].name, strlen(g->updates[i].name) + 1);
    XXH3_64bits_update(s, &g->updates[i].node, sizeof(int));
  }
  uint64_t r = XXH3_64bits_digest(s);
  XXH3_freeState(s);
  free(h);
  return r;
}

static bool same_string(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

static bool same_bindings(const gc_binding *a, const gc_binding *b, int n) {
  for (int i = 0; i < n; i++)
    if (a[i].node != b[i].node || !same_string(a[i].name, b[i].name)) return false;
  return true;
}

bool gc_graph_identical(const gc_graph *a, const gc_graph *b) {
  int n = a->n_nodes;
  if (n != b->n_nodes || a->n_kernels != b->n_kernels || a->n_outputs != b->n_outputs || a->n_updates != b->n_updates ||
      !same_bindings(a->outputs, b->outputs, a->n_outputs) || !same_bindings(a->updates, b->updates, a->n_updates))
    return false;
  uint64_t *ha = malloc(sizeof *ha * ((size_t)n + 1)), *hb = malloc(sizeof *hb * ((size_t)n + 1));
  bool same = ha && hb;
  if (same) gc_hash_nodes(a, ha), gc_hash_nodes(b, hb);
  for (int i = 0; same && i < n; i++) {
    const gc_node *x = a->nodes[i], *y = b->nodes[i];
    same = ha[i] == hb[i] && x->n_in == y->n_in && x->kernel == y->kernel && x->planned == y->planned &&
           x->offset == y->offset && same_string(x->into, y->into) && same_string(x->label, y->label);
    for (int k = 0; same && k < x->n_in; k++) same = x->in[k] == y->in[k];
  }
  free(ha), free(hb);
  return same;
}
