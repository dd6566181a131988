/* cse: common subexpressions become one node.
 *
 * Walking in order, each node is keyed by the XXH3 structural hash of its
 * op, attributes, type and (already merged) operands (ir/hash.c); on a hash
 * match the two nodes are compared field by field, and only an equal node
 * is merged into the first.  Labels do not count (the first one's stays).
 * Inputs and params are distinct by name; rand_uniform is a pure function
 * of its seed and counter, so equal ones merge too.  Collectives never
 * merge: each is an exchange every rank makes.
 *
 * gc_cse_within_kernels merges only nodes of the same kernel (or of none):
 * fuse ends with it, as a node it computes again in each kernel reading it
 * can land twice in one kernel when two kernels merge. */
#include "passes/pass.h"
#include "ir/rewrite.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* The same computation: op, type, attributes, operands (new ids). */
static bool same_node(const gc_node *a, const gc_node *b) {
  if (gc_node_has_effects(a) || gc_node_has_effects(b)) return false;   /* each call runs */
  if (a->op != b->op || a->n_in != b->n_in || !gc_type_equal(&a->type, &b->type)) return false;
  for (int k = 0; k < a->n_in; k++)
    if (a->in[k] != b->in[k]) return false;
  int n;
  const gc_field *f = gc_schema_fields(gc_op_info_of(a->op)->schema, &n);
  for (int i = 0; i < n; i++) {
    const void *x = (const char *)&a->attrs + f[i].offset, *y = (const char *)&b->attrs + f[i].offset;
    switch (f[i].kind) {
    case GC_FIELD_BOOL: if (*(const bool *)x != *(const bool *)y) return false; break;
    case GC_FIELD_INT: if (*(const int64_t *)x != *(const int64_t *)y) return false; break;
    case GC_FIELD_FLOAT:
      if (memcmp(x, y, sizeof(double)) != 0) return false;   /* bitwise: -0 and NaNs too */
      break;
    case GC_FIELD_STR: {
      const char *s = *(const char *const *)x, *t = *(const char *const *)y;
      if ((s == NULL) != (t == NULL) || (s && strcmp(s, t) != 0)) return false;
      break;
    }
    case GC_FIELD_LIST: {
      const gc_ilist *l = x, *m = y;
      if (l->n != m->n || memcmp(l->v, m->v, sizeof(int64_t) * (size_t)l->n) != 0) return false;
      break;
    }
    case GC_FIELD_PAIRS: {
      const gc_pairs *l = x, *m = y;
      if (l->n != m->n) return false;
      for (int j = 0; j < l->n; j++)
        if (strcmp(l->key[j], m->key[j]) != 0 || memcmp(&l->value[j], &m->value[j], sizeof(double)) != 0) return false;
      break;
    }
    }
  }
  return true;
}

/* Open addressing over new ids, keyed by hash. */
typedef struct {
  uint64_t *hash;
  int *id;
  size_t mask;
} table;

static gc_graph *merge_equal(gc_graph *g, gc_pass_ctx *ctx, bool within_kernels) {
  gc_rebuild r;
  if (gc_rebuild_begin(&r, g, ctx->d)) return NULL;
  size_t cap = 16;
  while (cap < 2 * (size_t)g->n_nodes + 2) cap *= 2;
  table t = {calloc(cap, sizeof *t.hash), malloc(cap * sizeof *t.id), cap - 1};
  uint64_t *node_hash = malloc(sizeof *node_hash * ((size_t)g->n_nodes + 1));
  if (!t.hash || !t.id || !node_hash) {
    gc_emitter_fail(&r.em, "out of memory");
  } else {
    for (size_t k = 0; k < cap; k++) t.id[k] = -1;
    gc_hash_nodes(g, node_hash);
  }
  int in[64];
  for (int i = 0; i < g->n_nodes && !r.em.failed; i++) {
    /* node i as it would be copied: operands mapped to merged ids.  Two
     * nodes of equal structure have equal hashes in the old graph, so its
     * hash is a valid key. */
    gc_node probe = *g->nodes[i];
    for (int k = 0; k < probe.n_in && k < 64; k++) in[k] = gc_rebuild_id(&r, probe.in[k]);
    probe.in = in;
    /* within kernels the kernel is part of the key: the copies of one
     * recomputed node in a thousand kernels are a thousand keys, not one
     * probe chain a thousand long */
    uint64_t key = within_kernels ? XXH3_64bits_withSeed(&node_hash[i], sizeof node_hash[i], (uint64_t)probe.kernel)
                                  : node_hash[i];
    size_t k = key & t.mask;
    for (; t.id[k] >= 0; k = (k + 1) & t.mask)
      if (t.hash[k] == key && probe.n_in <= 64 && same_node(r.em.g->nodes[t.id[k]], &probe) &&
          (!within_kernels || r.em.g->nodes[t.id[k]]->kernel == probe.kernel))
        break;
    if (t.id[k] >= 0) {
      gc_rebuild_map(&r, i, t.id[k]);
      continue;
    }
    int id = gc_rebuild_copy(&r, i);
    if (id < 0) break;
    t.hash[k] = key;
    t.id[k] = id;
  }
  free(t.hash);
  free(t.id);
  free(node_hash);
  return gc_rebuild_finish(&r);
}

gc_graph *gc_pass_cse(gc_graph *g, gc_pass_ctx *ctx) { return merge_equal(g, ctx, false); }

gc_graph *gc_cse_within_kernels(gc_graph *g, gc_pass_ctx *ctx) { return merge_equal(g, ctx, true); }
