/* The verifier: every node against its op's rule, source names unique.  A
 * node's error carries the node's position, so that for a parsed graph it
 * points at the statement. */
#include "ir.h"
#include "ir/live.h"

#include <stdlib.h>

#include <stdio.h>
#include <string.h>

static int node_error(const gc_graph *g, int id, gc_diag *d) {
  const gc_node *n = g->nodes[id];
  char inner[sizeof d->msg];
  snprintf(inner, sizeof inner, "%s", d->msg);
  d->line = n->line;
  d->col = n->col;
  if (n->label)
    return gc_diag_set(d, "node %%%d (%s, label \"%s\"): %s", id, gc_op_name(n->op), n->label, inner);
  return gc_diag_set(d, "node %%%d (%s): %s", id, gc_op_name(n->op), inner);
}

/* The earlier input/param that uses n's name, or -1 (the first of each
 * kind with a name is found by hashing). */
static int earlier_with_name(const gc_graph *g, int id) {
  const char *name = g->nodes[id]->attrs.name.name;
  int a = gc_graph_find_input(g, name), b = gc_graph_find_param(g, name);
  int j = a < 0 ? b : b < 0 ? a : a < b ? a : b;
  return j < id ? j : -1;
}

/* Kernels (fuse) are contiguous runs of nodes with numbers 1..n_kernels
 * (ended[k]: a run of kernel k's nodes has ended); params and inputs are in
 * none; a value written `into` a param is that param's update, of its type. */
static int check_kernels(const gc_graph *g, bool *ended, gc_diag *d) {
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    if (n->kernel < 0 || n->kernel > g->n_kernels) {
      gc_diag_set(d, "kernel number %d is not one of the graph's %d kernels", n->kernel - 1, g->n_kernels);
      return node_error(g, i, d);
    }
    if (n->kernel && gc_op_is_fed(n->op)) {
      gc_diag_set(d, "%s %s must stand outside every kernel", strcmp(gc_op_name(n->op), "input") == 0 ? "an" : "a", gc_op_name(n->op));
      return node_error(g, i, d);
    }
    if (i > 0 && g->nodes[i - 1]->kernel && g->nodes[i - 1]->kernel != n->kernel) ended[g->nodes[i - 1]->kernel] = true;
    if (n->kernel && ended[n->kernel]) {
      gc_diag_set(d, "kernel @k%d is split: its nodes must be consecutive", n->kernel - 1);
      return node_error(g, i, d);
    }
    if (n->into) {
      bool ok = false;
      for (int u = 0; u < g->n_updates; u++) ok = ok || (g->updates[u].node == i && strcmp(g->updates[u].name, n->into) == 0);
      if (!ok) {
        gc_diag_set(d, "into=\"%s\": the value is not that param's update", n->into);
        return node_error(g, i, d);
      }
    }
  }
  return 0;
}

/* "offset=N" or "into=\"P\"": a planned node's place, for messages. */
static const char *place_str(const gc_node *n, char *buf, size_t size) {
  if (n->into) snprintf(buf, size, "into=\"%s\"", n->into);
  else snprintf(buf, size, "offset=%lld", (long long)n->offset);
  return buf;
}

/* Why value y may not be written over the bytes of x = gc_node_over(y):
 * x is a stored value placed at y's offset with y's size, read by y's
 * kernel and dying there (y's step is x's last), and that kernel is
 * elementwise and stores y alone, so that each element of x is read where
 * y's is written.  A message in d (-1), or 0. */
static int over_error(const gc_graph *g, const gc_live *l, int y, gc_diag *d) {
  const gc_node *ny = g->nodes[y];
  int x = gc_node_over(ny), first = y, stored = 0;
  if (x < 0 || x >= y) return gc_diag_set(d, "over=%%%d: the value written over must come before this one", x);
  const gc_node *nx = g->nodes[x];
  while (first > 0 && l->step[first - 1] == l->step[y]) first--;
  for (int i = first; i < g->n_nodes && l->step[i] <= l->step[y]; i++) stored += l->step[i] == l->step[y] && l->stored[i];
  if (!nx->planned || nx->into || !l->stored[x])
    return gc_diag_set(d, "over=%%%d: %%%d (%s) is not a stored value with an offset", x, x, gc_op_name(nx->op));
  if (nx->offset != ny->offset || gc_node_bytes(nx) != gc_node_bytes(ny))
    return gc_diag_set(d, "over=%%%d: %%%d (offset=%lld, %lld bytes) is not at this value's offset=%lld with its %lld bytes", x,
                       x, (long long)nx->offset, (long long)gc_node_bytes(nx), (long long)ny->offset,
                       (long long)gc_node_bytes(ny));
  if (l->step[x] >= l->step[y] || l->last[x] != l->step[y])
    return gc_diag_set(d, "over=%%%d: %%%d does not die in this value's kernel (it is read after it, or bound)", x, x);
  if (stored != 1 || !gc_live_elementwise_step(l, g, first))
    return gc_diag_set(d, "over=%%%d: only the one result of an elementwise kernel is written over an operand", x);
  return 0;
}

/* Each node's place on its own: exactly the stored values have one (what
 * a backend runs by), an offset is aligned to the element and ends within
 * the offsets, a value written into its param's buffer in place is
 * written after every read of the param (gc_live_into_conflict). */
static int verify_places(const gc_graph *g, const gc_uses *u, const gc_live *l, gc_diag *d) {
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    char where[300];
    if (n->planned && !l->stored[i])
      gc_diag_set(d, "%s: only a stored value (one read after its kernel, or bound) has a place, and this one is not",
                  place_str(n, where, sizeof where));
    else if (!n->planned && l->stored[i])
      gc_diag_set(d, "the value is stored (read after its kernel or bound) but has no place: offset= or into= is missing");
    else if (n->planned && !n->into && n->offset % (int64_t)gc_dtype_size(n->type.dtype))
      gc_diag_set(d, "offset=%lld is not a multiple of the element size (%zu bytes)", (long long)n->offset,
                  gc_dtype_size(n->type.dtype));
    else if (n->planned && !n->into && n->offset > INT64_MAX - gc_node_bytes(n))
      gc_diag_set(d, "offset=%lld: its %lld bytes would end past the largest offset", (long long)n->offset,
                  (long long)gc_node_bytes(n));
    else if (n->over && over_error(g, l, i, d))
      ;   /* its message is set */
    else if (n->into) {
      int reader, param = gc_graph_find_param(g, n->into);
      const char *why = param < 0 ? "no param has that name" : gc_live_into_conflict(l, u, g, i, param, &reader);
      if (!why) continue;
      if (reader >= 0)
        gc_diag_set(d, "into=\"%s\": %%%d (%s) %s", n->into, reader, gc_op_name(g->nodes[reader]->op), why);
      else
        gc_diag_set(d, "into=\"%s\": %s", n->into, why);
    } else
      continue;
    return node_error(g, i, d);
  }
  return 0;
}

static int verify_kernels(const gc_graph *g, gc_diag *d) {
  bool *ended = calloc((size_t)g->n_kernels + 1, sizeof *ended);
  if (!ended) return gc_diag_set(d, "out of memory");
  int rc = check_kernels(g, ended, d);
  free(ended);
  return rc;
}

/* The stored values a plan places by offset, each with its rank in the
 * order of (offset, node); the values alive at a step are a set of ranks
 * kept in a Fenwick tree of counts, so that the live value with the
 * largest offset below a bound is found in O(log m). */
typedef struct {
  const gc_graph *g;
  int m;
  int *by_offset;   /* rank -> node */
  int *rank;        /* node -> rank */
  int *tree;        /* Fenwick tree over ranks, 1-based */
} live_set;

typedef struct {
  int64_t offset;
  int node;
} placed;

static int by_offset_cmp(const void *a, const void *b) {
  const placed *x = a, *y = b;
  return x->offset != y->offset ? (x->offset > y->offset) - (x->offset < y->offset) : (x->node > y->node) - (x->node < y->node);
}

static void live_add(live_set *s, int node, int delta) {
  for (int i = s->rank[node] + 1; i <= s->m; i += i & -i) s->tree[i] += delta;
}

/* How many live values have a rank below r. */
static int live_count_below(const live_set *s, int r) {
  int c = 0;
  for (int i = r; i > 0; i -= i & -i) c += s->tree[i];
  return c;
}

/* The node of the k-th live value (k >= 1) in rank order. */
static int live_kth(const live_set *s, int k) {
  int pos = 0, step = 1;
  while (step * 2 <= s->m) step *= 2;
  for (; step; step /= 2)
    if (pos + step <= s->m && s->tree[pos + step] < k) pos += step, k -= s->tree[pos];
  return s->by_offset[pos];
}

/* The first rank whose offset is at least `at`. */
static int rank_of_offset(const live_set *s, int64_t at) {
  int lo = 0, hi = s->m;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (s->g->nodes[s->by_offset[mid]]->offset < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static int by_last_cmp(const void *a, const void *b) {
  const int *x = a, *y = b;   /* {last, node} pairs */
  return x[0] != y[0] ? (x[0] > y[0]) - (x[0] < y[0]) : (x[1] > y[1]) - (x[1] < y[1]);
}

/* The places plan gave (offset=, into=, over=): each on its own
 * (verify_places), and stored values alive at the same step have disjoint
 * bytes, except a result written over an operand that says so (over=%x,
 * checked by over_error).  One sweep over the steps in program order: a value
 * leaves the live set after its last step, and a new one is checked against
 * the live values below its end, in decreasing offset.  When the plan is
 * right those have disjoint bytes, so their ends decrease too and the first
 * that ends at or before the new value's offset ends the check: the cost is
 * O(m log m) in the m placed values. */
static int verify_plan(const gc_graph *g, gc_diag *d) {
  int n = g->n_nodes;
  live_set s = {g, 0, NULL, NULL, NULL};
  int *by_last = malloc(2 * sizeof(int) * ((size_t)n + 1));
  placed *order = malloc(sizeof(placed) * ((size_t)n + 1));
  s.by_offset = malloc(sizeof(int) * ((size_t)n + 1));
  s.rank = malloc(sizeof(int) * ((size_t)n + 1));
  s.tree = calloc((size_t)n + 2, sizeof(int));
  int rc = by_last && order && s.by_offset && s.rank && s.tree ? 0 : gc_diag_set(d, "out of memory");
  gc_uses u;
  gc_live l = {0};
  if (rc == 0) rc = gc_uses_init(&u, g, d);
  if (rc == 0 && (rc = gc_live_init(&l, g, &u, d))) gc_uses_free(&u);
  if (rc) {
    free(by_last), free(order), free(s.by_offset), free(s.rank), free(s.tree);
    return -1;
  }
  rc = verify_places(g, &u, &l, d);
  for (int i = 0; i < n; i++) {
    const gc_node *x = g->nodes[i];
    if (x->planned && !x->into && l.stored[i] && gc_node_bytes(x) > 0) {
      by_last[2 * s.m] = l.last[i], by_last[2 * s.m + 1] = i;
      order[s.m++] = (placed){x->offset, i};
    }
  }
  qsort(order, (size_t)s.m, sizeof *order, by_offset_cmp);
  qsort(by_last, (size_t)s.m, 2 * sizeof(int), by_last_cmp);
  for (int r = 0; r < s.m; r++) s.by_offset[r] = order[r].node, s.rank[order[r].node] = r;
  int leaving = 0;   /* by_last[0..leaving) have left the live set */
  for (int y = 0; y < n && rc == 0; y++) {
    const gc_node *ny = g->nodes[y];
    if (!ny->planned || ny->into || !l.stored[y] || gc_node_bytes(ny) == 0) continue;
    for (; leaving < s.m && by_last[2 * leaving] < l.step[y]; leaving++) live_add(&s, by_last[2 * leaving + 1], -1);
    int64_t by = gc_node_bytes(ny);
    for (int k = live_count_below(&s, rank_of_offset(&s, ny->offset + by)); k > 0 && rc == 0; k--) {
      int x = live_kth(&s, k);
      const gc_node *nx = g->nodes[x];
      int64_t bx = gc_node_bytes(nx);
      if (nx->offset + bx <= ny->offset) break;   /* it, and every value below it, ends before y */
      if (gc_node_over(ny) == x) continue;
      char hint[80] = "";   /* a plan from before over= existed, maybe */
      if (nx->offset == ny->offset && bx == by)
        snprintf(hint, sizeof hint, " (a value written over another in place says so: over=%%%d)", x);
      gc_diag_set(d, "offset=%lld: its %lld bytes overlap those of %%%d (offset=%lld, %lld bytes), which is alive at the same time%s",
                  (long long)ny->offset, (long long)by, x, (long long)nx->offset, (long long)bx, hint);
      rc = node_error(g, y, d);
    }
    live_add(&s, y, +1);
  }
  gc_live_free(&l);
  gc_uses_free(&u);
  free(by_last), free(order), free(s.by_offset), free(s.rank), free(s.tree);
  return rc;
}

int gc_verify(const gc_graph *g, gc_diag *d) {
  gc_diag local;
  if (!d) d = &local;
  if (verify_kernels(g, d)) return -1;
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    gc_type t;
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k] < 0 || n->in[k] >= i) {
        gc_diag_set(d, "operand %d is not defined before use", k);
        return node_error(g, i, d);
      }
    if (gc_infer_type(g, n->op, n->in, n->n_in, &n->attrs, &n->type, &t, d)) return node_error(g, i, d);
    int j = gc_op_is_fed(n->op) ? earlier_with_name(g, i) : -1;
    if (j >= 0) {
      gc_diag_set(d, "the name \"%s\" is already used by node %%%d", n->attrs.name.name, j);
      return node_error(g, i, d);
    }
  }
  d->line = d->col = 0; /* outputs and updates have no position */
  for (int i = 0; i < g->n_outputs; i++)
    if (g->outputs[i].node < 0 || g->outputs[i].node >= g->n_nodes)
      return gc_diag_set(d, "output \"%s\" refers to no value", g->outputs[i].name);
  for (int i = 0; i < g->n_updates; i++) {
    int p = gc_graph_find_param(g, g->updates[i].name), v = g->updates[i].node;
    if (p < 0 || v < 0 || v >= g->n_nodes ||
        !gc_type_equal(&g->nodes[p]->type, &g->nodes[v]->type))
      return gc_diag_set(d, "update \"%s\" does not match a param of the same type", g->updates[i].name);
  }
  bool planned = false;
  for (int i = 0; i < g->n_nodes && !planned; i++) planned = g->nodes[i]->planned;
  if (planned && verify_plan(g, d)) return -1;
  return 0;
}
