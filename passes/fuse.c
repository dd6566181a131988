/* fuse: group the graph's nodes into kernels.
 *
 * Every node that computes something starts as its own kernel; kernels
 * then merge along producer-consumer edges, in node order, whenever the
 * merged kernel is one codegen/lower.c can run as one loop nest:
 *   loop   elementwise and layout ops and reductions that all reduce the
 *          same axes of the same shape (a softmax, a norm, a cross-entropy
 *          row, an optimizer update with several outputs);
 *   dot    one dot whose operands are strided views of stored values (a
 *          transpose feeding it is folded into its operand layout), with
 *          elementwise ops on its result (bias, activation, residual,
 *          scale) applied as each tile is stored;
 *   index  a gather, a scatter_add or a call, alone (an {elementwise}
 *          call without {effects} is an elementwise op: it fuses).
 * A producer merges into its consumer only when every kernel reading the
 * producer's values is that consumer or starts wholly after it (nothing it
 * computes can feed the consumer), which never makes a cycle between
 * kernels.  Two kernels over the same rows where neither needs the other
 * and all their readers come after both (a norm's weight and bias
 * gradients) merge as siblings.
 *
 * Some nodes are no kernel's own: every kernel reading one computes it
 * again, which saves its buffer and a pass over memory.  They are small
 * values (scalars: step counters, bias corrections; at most 64 elements
 * when their op is cheap: not a transcendental made again for each element
 * of a large reader), views
 * (broadcast, reshape, transpose, slice), cheap functions of the element's
 * index alone (masks), and one cheap elementwise op over values stored
 * anyway and read by several kernels (a gradient squared for the norm and
 * for the second moment); a singleton kernel of one such op left over is
 * recomputed too.  A dot reads its operands in place, so a chain of views
 * feeding it that is not one strided view is stored; a recomputed value
 * bound to an output or update, or read by an index op, is also stored.
 * Constants, iota and rand_uniform are computed where they are used.
 *
 * Grouping follows node order and reorders the nodes, so it runs again on
 * its own result while the kernel count falls.
 *
 * The result lists each kernel's nodes consecutively, kernels in an order
 * that respects their dependencies, with node->kernel set. */
#include "passes/pass.h"
#include "ir/rewrite.h"
#include "ir/uses.h"
#include "ir/view.h"

#include <stdlib.h>
#include <string.h>

/* Bounds on a kernel's size, in units of 4 per node and 1 per scalar (a
 * scalar is computed once per kernel, not per element): a kernel holds at
 * most MAX_KERNEL_UNITS, its inlined copies included (256 nodes, or 1024
 * scalars), and a value computed where it is read brings at most
 * MAX_INLINED_UNITS (past that it is stored).  Every legality check then
 * costs a bounded time, grouping a chain of n nodes costs O(n), and no
 * kernel grows into one huge function.  The models' largest kernels hold
 * about 100 nodes; a training step's gradient norm sums a scalar per
 * param, which every update kernel computes. */
enum { CHEAP_ELEMENTS = 64, SMALL_REDUCTION = 16, MAX_KERNEL_UNITS = 1024, MAX_INLINED_UNITS = 512 };

typedef struct {
  const gc_graph *g;
  gc_uses u;
  int n;
  bool *real;        /* a node of some kernel (not a source, not inlined) */
  bool *inlined;     /* recomputed by each kernel reading it */
  bool *stored;      /* an inlined node that also gets its own kernel */
  bool *pure;        /* a function of the element's index alone (no loads) */
  bool *again;       /* a real node that each other kernel reading it
                      * computes again from what it reads (recompute_in_readers) */
  int *parent;       /* union-find over real nodes */
  int *reduces;      /* each group's reductions (at its root) */
  int *reduction;    /* one of them, -1: none (they all reduce alike) */
  int *next, *head, *tail;   /* each group's members, a list from its root */
  int *lo, *hi;              /* each group's first and last node */
  /* merge_producers' memory: a try that failed fails again until one of
   * its two groups changes (see merge_operands) */
  int clock;
  int *changed;      /* each group's clock when it last grew (at its root) */
  int *walked;       /* each consumer node's clock when its operands were last tried */
  /* scratch for one legality check */
  bool *in_set;
  int *set, n_set;
  bool *on_dot;      /* legal_dot: the set's nodes that read the dot's value */
  /* visit marks of the walks through recomputed nodes (a DAG: each node
   * once per walk, not once per path) */
  int *mark[3], stamp[3];
  /* the walks' explicit stacks (no recursion as deep as the graph): per
   * walk kind, and one for closures; each node is pushed once per walk */
  int *stack_node[4], *stack_next[4], stack_top[4];
} fuser;

enum { WALK_NEEDED, WALK_READERS, WALK_OPERANDS, WALK_CLOSURE };

/* A new walk of kind w. */
static void walk_start(fuser *f, int w) { f->stamp[w]++; }
/* First visit of x in the current walk of kind w. */
static bool walk_visit(fuser *f, int w, int x) {
  if (f->mark[w][x] == f->stamp[w]) return false;
  f->mark[w][x] = f->stamp[w];
  return true;
}

static int find(fuser *f, int x) {
  while (f->parent[x] != x) x = f->parent[x] = f->parent[f->parent[x]];
  return x;
}

/* A walk of kind w over the readers of x and, through each recomputed
 * reader (entered once per walk), its readers: depth first, in node order.
 * The kernels that can start earliest come first, so a check that fails
 * on an early reader stops there: a value every update kernel reads (the
 * gradient norm's clip factor) costs O(1) to check, not O(its readers).
 * The caller starts the walk's marks (walk_start). */
static void readers_begin(fuser *f, int w, int x) {
  f->stack_node[w][0] = x, f->stack_next[w][0] = 0;
  f->stack_top[w] = 1;
}

/* The next reader, or -1 when there is none. */
static int readers_next(fuser *f, int w) {
  int *node = f->stack_node[w], *next = f->stack_next[w], *top = &f->stack_top[w];
  while (*top) {
    int y = node[*top - 1];
    if (next[*top - 1] == gc_uses_count(&f->u, y)) {
      --*top;
      continue;
    }
    int c = gc_uses_readers(&f->u, y)[next[*top - 1]++];
    if (f->inlined[c] && !f->real[c] && walk_visit(f, w, c)) node[*top] = c, next[(*top)++] = 0;
    return c;
  }
  return -1;
}

/* ---- which nodes are recomputed where they are read ---------------------- */

/* Ops worth computing once rather than wherever their value is read: the
 * `cost` column of ops.def. */
static bool costly(gc_op op) { return gc_op_cost(op) != GC_COST_CHEAP; }

static bool generated(const fuser *f, int x) {
  return gc_op_is_generated(f->g->nodes[x]->op) || (f->inlined[x] && f->pure[x]);
}

/* Whether a dot's operand can be read in place: a strided view of a value
 * that is stored (not computed in the reader). */
static bool view_stop(int id, void *ctx) {
  const fuser *f = ctx;
  return !f->inlined[id] || f->real[id];
}

static int units(const fuser *f, int x) { return gc_type_numel_unchecked(&f->g->nodes[x]->type) == 1 ? 1 : 4; }

static void classify(fuser *f) {
  const gc_graph *g = f->g;
  for (int i = 0; i < f->n; i++) {
    const gc_node *n = g->nodes[i];
    gc_kind k = gc_node_kind(n);
    if (gc_op_is_source(n->op)) continue;
    bool movable = k == GC_KIND_ELEMENTWISE || k == GC_KIND_LAYOUT, pure = movable && !costly(n->op);
    for (int j = 0; j < n->n_in; j++) pure = pure && generated(f, n->in[j]);
    /* small values, views, functions of the index alone (masks), and one
     * cheap op read by several kernels over values that are stored anyway
     * (sources, results of dots, reductions, gathers: a gradient squared
     * for both the norm and the second moment) */
    bool over_stored = k == GC_KIND_ELEMENTWISE && !costly(n->op) && gc_uses_count(&f->u, i) > 1;
    for (int j = 0; over_stored && j < n->n_in; j++) {
      gc_kind ok = gc_node_kind(g->nodes[n->in[j]]);
      over_stored = gc_op_is_source(g->nodes[n->in[j]]->op) || ok == GC_KIND_CONTRACT || ok == GC_KIND_REDUCE ||
                    gc_node_is_alone(g->nodes[n->in[j]]);
    }
    /* a small value: a scalar, or a few elements that are cheap to make (a
     * costly one, RoPE's cos and sin at a decode step's position, would be
     * made again for every element of a large reader: a KV cache) */
    int64_t numel = gc_type_numel_unchecked(&n->type);
    bool small = numel == 1 || (numel <= CHEAP_ELEMENTS && !costly(n->op));
    bool cheap = movable && (small || gc_op_is_view(n->op) || pure || over_stored);
    f->inlined[i] = cheap;
    f->pure[i] = pure;
    f->real[i] = !cheap;
  }
  /* a dot reads its operands in place: a chain of inlined views that is not
   * one strided view is stored */
  for (int i = 0; i < f->n; i++) {
    const gc_node *n = g->nodes[i];
    if (gc_node_kind(n) != GC_KIND_CONTRACT) continue;
    for (int k = 0; k < 2; k++) {
      gc_view v;
      int o = n->in[k];
      if (f->inlined[o] && !f->real[o] && (!gc_view_of(g, o, view_stop, f, &v) || !view_stop(v.base, f))) {
        /* store the top of the chain; or, when the chain is a view of a
         * computed (inlined) value, that value */
        int x = gc_view_of(g, o, view_stop, f, &v) ? v.base : o;
        f->stored[x] = f->real[x] = true;
      }
    }
  }
  /* an inlined value bound to an output or update, or read by an index op
   * or a collective, is also stored by a kernel of its own */
  for (int i = f->n - 1; i >= 0; i--) {
    if (!f->inlined[i]) continue;
    bool store = gc_uses_is_bound(&f->u, i);
    const int *r = gc_uses_readers(&f->u, i);
    for (int k = 0; k < gc_uses_count(&f->u, i) && !store; k++)
      store = gc_node_is_alone(f->g->nodes[r[k]]);
    if (store) f->stored[i] = f->real[i] = true;
  }
  /* every kernel reading an inlined value computes all the inlined values
   * it reads, transitively: one whose closure (counted as a tree, which
   * bounds it) would pass MAX_INLINED_UNITS is stored instead */
  int *size = f->stack_node[WALK_CLOSURE];
  for (int i = 0; i < f->n; i++) {
    size[i] = 0;
    if (!f->inlined[i] || f->real[i]) continue;
    const gc_node *n = g->nodes[i];
    int s = units(f, i);
    for (int k = 0; k < n->n_in && s <= MAX_INLINED_UNITS; k++) s += size[n->in[k]];
    if (s > MAX_INLINED_UNITS) f->stored[i] = f->real[i] = true;
    else size[i] = s;
  }
}

/* ---- the nodes of a would-be kernel --------------------------------------- */

/* Add x (and the inlined nodes it reads, transitively) to the set, in
 * depth-first preorder. */
static void add_closure(fuser *f, int x) {
  if (f->in_set[x]) return;
  int *node = f->stack_node[WALK_CLOSURE], *next = f->stack_next[WALK_CLOSURE], top = 0;
  f->in_set[x] = true;
  f->set[f->n_set++] = x;
  node[top] = x, next[top++] = 0;
  while (top) {
    const gc_node *n = f->g->nodes[node[top - 1]];
    if (next[top - 1] == n->n_in) {
      top--;
      continue;
    }
    int o = n->in[next[top - 1]++];
    if (((f->inlined[o] && !f->real[o]) || f->again[o]) && !f->in_set[o]) {
      f->in_set[o] = true;
      f->set[f->n_set++] = o;
      node[top] = o, next[top++] = 0;
    }
  }
}

static void clear_set(fuser *f) {
  for (int i = 0; i < f->n_set; i++) f->in_set[f->set[i]] = false;
  f->n_set = 0;
}

/* The set of groups a and b (roots) with their inlined producers. */
static void gather(fuser *f, int a, int b) {
  clear_set(f);
  for (int x = f->head[a]; x >= 0; x = f->next[x]) add_closure(f, x);
  if (b >= 0)
    for (int x = f->head[b]; x >= 0; x = f->next[x]) add_closure(f, x);
}

/* Whether x's value is needed outside the set: bound, or read by a node
 * outside it — directly, or through inlined nodes, which every kernel
 * reading them computes again. */
static bool needed_outside(fuser *f, int x) {
  if (gc_uses_is_bound(&f->u, x)) return true;
  walk_start(f, WALK_NEEDED);
  readers_begin(f, WALK_NEEDED, x);
  for (int c; (c = readers_next(f, WALK_NEEDED)) >= 0;)
    if (f->inlined[c] && !f->real[c] ? gc_uses_is_bound(&f->u, c) : !f->in_set[c]) return true;
  return false;
}

/* A node of the set whose value leaves it (a stored result). */
static bool leaves(fuser *f, int x) { return f->real[x] && needed_outside(f, x); }

static bool in_set_stop(int id, void *ctx) { return !((fuser *)ctx)->in_set[id]; }

/* ---- legality --------------------------------------------------------------- */

static bool same_squeezed(const gc_type *a, const gc_type *b);

static int by_id(const void *a, const void *b) { return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b); }

static bool legal_dot(fuser *f, int dot) {
  const gc_graph *g = f->g;
  const gc_node *d = g->nodes[dot];
  for (int k = 0; k < 2; k++) {
    gc_view v;
    if (f->in_set[d->in[k]] && (!gc_view_of(g, d->in[k], in_set_stop, f, &v) || f->in_set[v.base])) return false;
  }
  /* which nodes read the dot's value (the set's nodes in node order: not
   * every node between its first and last, which may be far apart) */
  qsort(f->set, (size_t)f->n_set, sizeof *f->set, by_id);
  bool ok = true;
  for (int i = 0; i < f->n_set; i++) {
    int x = f->set[i];
    f->on_dot[x] = x == dot;
    if (x == dot) continue;
    const gc_node *n = g->nodes[x];
    for (int k = 0; k < n->n_in; k++) f->on_dot[x] = f->on_dot[x] || (f->in_set[n->in[k]] && f->on_dot[n->in[k]]);
    gc_kind k = gc_node_kind(n);
    if (k == GC_KIND_REDUCE || k == GC_KIND_CONTRACT || gc_node_is_alone(n)) ok = false;
    if (leaves(f, x) && !gc_shape_equal(&n->type, &d->type)) ok = false;
    /* an epilogue op reads the dot's value at the element being stored:
     * elementwise ops, views of other values (a bias broadcast), and no
     * view of the dot's value but one that only adds or drops size-1 dims */
    if (!gc_op_is_view(n->op) && k != GC_KIND_ELEMENTWISE) ok = false;
    if (gc_op_is_view(n->op) && f->on_dot[x] && !(n->op == GC_OP_RESHAPE && same_squeezed(&n->type, &d->type)))
      ok = false;
  }
  for (int i = 0; i < f->n_set; i++) f->on_dot[f->set[i]] = false;
  return ok;
}

static int64_t numel(const gc_graph *g, int x) { return gc_type_numel_unchecked(&g->nodes[x]->type); }

/* The shape with the size-1 dims dropped equals another's. */
static bool same_squeezed(const gc_type *a, const gc_type *b) {
  int i = 0, j = 0;
  for (;;) {
    while (i < a->rank && a->dims[i] == 1) i++;
    while (j < b->rank && b->dims[j] == 1) j++;
    if (i == a->rank || j == b->rank) return i == a->rank && j == b->rank;
    if (a->dims[i++] != b->dims[j++]) return false;
  }
}

/* The axes reduction n reduces. */
static void reduced_axes(const gc_node *n, bool r[GC_MAX_RANK]) {
  memset(r, 0, sizeof(bool) * GC_MAX_RANK);
  if (n->op == GC_OP_ARGMAX) r[n->attrs.argmax.axis] = true;
  else for (int a = 0; a < n->attrs.reduce.axes.n; a++) r[n->attrs.reduce.axes.v[a]] = true;
}

/* Two reductions one loop kernel can hold: the same axes of the same shape. */
static bool reduce_alike(const gc_graph *g, int x, int y) {
  bool rx[GC_MAX_RANK], ry[GC_MAX_RANK];
  reduced_axes(g->nodes[x], rx);
  reduced_axes(g->nodes[y], ry);
  return gc_shape_equal(&g->nodes[g->nodes[x]->in[0]]->type, &g->nodes[g->nodes[y]->in[0]]->type) &&
         memcmp(rx, ry, sizeof rx) == 0;
}

static bool legal_loop(fuser *f) {
  const gc_graph *g = f->g;
  int first_reduce = -1;
  bool ra[GC_MAX_RANK] = {0};
  gc_type F = {0};
  for (int i = 0; i < f->n_set; i++) {
    const gc_node *n = g->nodes[f->set[i]];
    gc_kind k = gc_node_kind(n);
    if (k == GC_KIND_CONTRACT || gc_node_is_alone(n)) return false;
    if (k != GC_KIND_REDUCE) continue;
    bool r[GC_MAX_RANK];
    reduced_axes(n, r);
    const gc_type *in = &g->nodes[n->in[0]]->type;
    if (first_reduce < 0) {
      first_reduce = f->set[i];
      F = *in;
      memcpy(ra, r, sizeof ra);
    } else if (!gc_shape_equal(in, &F) || memcmp(r, ra, sizeof ra)) {
      return false;
    }
  }
  int64_t full = 0, outer = 0;
  if (first_reduce >= 0) {
    full = gc_type_numel_unchecked(&F);
    outer = numel(g, first_reduce);
  }
  for (int i = 0; i < f->n_set; i++) {
    int x = f->set[i];
    const gc_node *n = g->nodes[x];
    if (leaves(f, x)) {
      if (first_reduce >= 0 ? numel(g, x) != full && numel(g, x) != outer : full && numel(g, x) != full)
        return false;
      if (first_reduce < 0) full = numel(g, x);
    }
    /* a reduction's value is read per row: as it is, broadcast back over
     * the reduced axes, or reshaped without moving elements (a small
     * reduction may be recomputed wherever it is read) */
    if (gc_node_kind(n) == GC_KIND_REDUCE && full / (outer ? outer : 1) > SMALL_REDUCTION) {
      const int *r = gc_uses_readers(&f->u, x);
      for (int k = 0; k < gc_uses_count(&f->u, x); k++) {
        const gc_node *c = g->nodes[r[k]];
        if (!f->in_set[r[k]]) continue;
        bool ok = (gc_node_kind(c) == GC_KIND_ELEMENTWISE && numel(g, r[k]) == outer) ||
                  (c->op == GC_OP_BROADCAST && same_squeezed(&c->type, &F)) ||
                  (c->op == GC_OP_RESHAPE && same_squeezed(&c->type, &n->type));
        if (!ok) return false;
      }
    }
  }
  return true;
}

/* The set is small enough for one kernel. */
static bool small(const fuser *f) {
  int total = 0;
  for (int i = 0; i < f->n_set && total <= MAX_KERNEL_UNITS; i++) total += units(f, f->set[i]);
  return total <= MAX_KERNEL_UNITS;
}

/* The set can be one kernel. */
static bool legal(fuser *f) {
  int dot = -1, index = 0;
  for (int i = 0; i < f->n_set; i++) {
    gc_kind k = gc_node_kind(f->g->nodes[f->set[i]]);
    if (k == GC_KIND_CONTRACT) dot = dot < 0 ? f->set[i] : -2;
    if (gc_node_is_alone(f->g->nodes[f->set[i]])) index++;
  }
  if (dot == -2) return false;
  if (index) return f->n_set == 1;
  return dot >= 0 ? legal_dot(f, dot) : legal_loop(f);
}

/* ---- merging ------------------------------------------------------------------ */

/* Every kernel reading x (through inlined nodes) is group a or b, or comes
 * wholly after b (its first node follows b's last: nothing it computes can
 * feed b, so merging a into b makes no cycle through it). */
static bool read_only_by(fuser *f, int x, int a, int b) {
  readers_begin(f, WALK_READERS, x);
  for (int c; (c = readers_next(f, WALK_READERS)) >= 0;) {
    int gc = f->real[c] ? find(f, c) : a;
    if (gc != a && gc != b && f->lo[gc] <= f->hi[b]) return false;
  }
  return true;
}

static void unite(fuser *f, int into, int from) {
  f->parent[from] = into;
  f->changed[into] = ++f->clock;
  f->reduces[into] += f->reduces[from];
  if (f->reduction[into] < 0) f->reduction[into] = f->reduction[from];
  f->next[f->tail[into]] = f->head[from];
  f->tail[into] = f->tail[from];
  if (f->lo[from] < f->lo[into]) f->lo[into] = f->lo[from];
  if (f->hi[from] > f->hi[into]) f->hi[into] = f->hi[from];
}

/* Groups a and b hold reductions no one kernel can hold together (a dot's
 * kernel holds none; a loop kernel's all reduce alike): no merge of
 * theirs is legal, which this says without gathering their nodes. */
static bool reductions_clash(fuser *f, int a, int b) {
  return f->reduction[a] >= 0 && f->reduction[b] >= 0 && !reduce_alike(f->g, f->reduction[a], f->reduction[b]);
}

/* Try to merge producer group p into consumer group c. */
static bool try_merge(fuser *f, int p, int c) {
  if (reductions_clash(f, p, c)) return false;
  walk_start(f, WALK_READERS);
  for (int x = f->head[p]; x >= 0; x = f->next[x])
    if (!read_only_by(f, x, p, c)) return false;
  gather(f, p, c);
  if (!small(f) || !legal(f)) return false;
  unite(f, c, p);
  return true;
}

/* The groups whose values node x reads, directly or through inlined nodes
 * (depth first, operands in order), tried as producers of group c.  A pair
 * tried from x before (at clock `since`) whose groups have not changed
 * since is not tried again: it failed then and would fail now, as a try
 * depends only on the two groups, the nodes' classes (fixed for one
 * merge_producers) and the other groups' first nodes, which only move
 * earlier, making a try fail more.  Without this every pass of
 * merge_producers tried again each update kernel's failed merges with the
 * gradient norm, whose closure grows with the number of params: a cost
 * quadratic in the layers. */
static bool merge_operands(fuser *f, int x, int c, int since) {
  int *node = f->stack_node[WALK_OPERANDS], *next = f->stack_next[WALK_OPERANDS], top = 0;
  bool merged = false;
  node[top] = x, next[top++] = 0;
  while (top) {
    const gc_node *n = f->g->nodes[node[top - 1]];
    if (next[top - 1] == n->n_in) {
      top--;
      continue;
    }
    int o = n->in[next[top - 1]++];
    if (f->inlined[o] && !f->stored[o]) {
      if (walk_visit(f, WALK_OPERANDS, o)) node[top] = o, next[top++] = 0;
      continue;
    }
    if (!f->real[o]) continue;
    int p = find(f, o), q = find(f, c);
    if (p != q && (f->changed[p] >= since || f->changed[q] >= since) && try_merge(f, p, q)) merged = true;
  }
  return merged;
}

static void merge_producers(fuser *f) {
  for (int x = 0; x < f->n; x++) f->walked[x] = 0;   /* classes may have changed: try everything */
  for (bool changed = true; changed;) {
    changed = false;
    for (int x = f->n - 1; x >= 0; x--) {
      if (!f->real[x]) continue;
      int since = f->walked[x];
      f->walked[x] = ++f->clock;
      walk_start(f, WALK_OPERANDS);
      if (merge_operands(f, x, x, since)) changed = true;
    }
  }
}

/* Group x is a kernel of one cheap elementwise op over stored values,
 * not bound, read by no dot operand and no index op: computing it again in
 * each reader saves its buffer. */
static bool recompute_instead(fuser *f, int x) {
  const gc_node *n = f->g->nodes[x];
  if (!f->real[x] || f->parent[x] != x || f->next[x] >= 0 || f->stored[x]) return false;
  if (gc_node_kind(n) != GC_KIND_ELEMENTWISE || costly(n->op) || gc_uses_is_bound(&f->u, x)) return false;
  for (int k = 0; k < n->n_in; k++)
    if (!gc_op_is_source(f->g->nodes[n->in[k]]->op) && !f->real[n->in[k]]) return false;
  const int *r = gc_uses_readers(&f->u, x);
  for (int k = 0; k < gc_uses_count(&f->u, x); k++) {
    gc_kind rk = gc_node_kind(f->g->nodes[r[k]]);
    if (gc_node_is_alone(f->g->nodes[r[k]]) || rk == GC_KIND_CONTRACT || !f->real[r[k]]) return false;
  }
  return gc_uses_count(&f->u, x) > 1;
}

/* Two groups computing over the same value, neither needing the other:
 * every reader of their results (other than themselves) starts after both
 * end, so one kernel can do both (a norm's weight and bias gradients). */
static bool independent(fuser *f, int a, int b) {
  walk_start(f, WALK_READERS);
  int end = f->hi[a] > f->hi[b] ? f->hi[a] : f->hi[b];
  for (int g2 = 0; g2 < 2; g2++)
    for (int x = f->head[g2 ? b : a]; x >= 0; x = f->next[x]) {
      const int *r = gc_uses_readers(&f->u, x);
      for (int k = 0; k < gc_uses_count(&f->u, x); k++) {
        int c = r[k];
        if (!f->real[c]) {   /* through a recomputed node: its readers */
          if (f->inlined[c] && walk_visit(f, WALK_READERS, c) && !read_only_by(f, c, a, b)) return false;
          continue;
        }
        int gc = find(f, c);
        if (gc == a || gc == b) {
          if (gc != (g2 ? b : a)) return false;   /* one reads the other */
          continue;
        }
        if (f->lo[gc] <= end) return false;
      }
    }
  return true;
}

/* The positions of v's readers that are real and in a group with a
 * reduction, into with[] (in order). */
static int readers_with_reductions(fuser *f, const int *r, int cnt, int *with) {
  int n = 0;
  for (int j = 0; j < cnt; j++)
    if (f->real[r[j]] && f->reduces[find(f, r[j])]) with[n++] = j;
  return n;
}

/* Pairs of v's readers in order; only a pair with a reduction between them
 * can merge (inlined nodes are never reductions), so when reader i's group
 * has none, the loop jumps to the readers whose group has one: a value
 * read by many elementwise nodes costs its readers' count, not its square. */
static bool merge_siblings(fuser *f) {
  bool merged = false;
  for (int v = 0; v < f->n; v++) {
    if (!f->real[v] && !gc_op_is_fed(f->g->nodes[v]->op)) continue;
    const int *r = gc_uses_readers(&f->u, v);
    int cnt = gc_uses_count(&f->u, v);
    int *with = malloc(sizeof *with * ((size_t)cnt + 1));
    if (!with) abort();
    int n_with = readers_with_reductions(f, r, cnt, with);
    for (int i = 0; i < cnt; i++) {
      if (!f->real[r[i]]) continue;
      for (int j = i + 1, w = 0; j < cnt; j++) {
        if (!f->reduces[find(f, r[i])]) {
          while (w < n_with && with[w] < j) w++;
          if (w == n_with) break;
          j = with[w];
        }
        if (!f->real[r[j]]) continue;
        int a = find(f, r[i]), b = find(f, r[j]);
        if (a == b || (!f->reduces[a] && !f->reduces[b]) || reductions_clash(f, a, b) || !independent(f, a, b)) continue;
        gather(f, a, b);
        if (!small(f) || !legal(f)) continue;
        unite(f, a < b ? a : b, a < b ? b : a);
        merged = true;
        n_with = readers_with_reductions(f, r, cnt, with);
        w = 0;
      }
    }
    free(with);
  }
  return merged;
}

/* Whether a kernel other than x's own can read o where x reads it without
 * storing anything new: o is generated, a source, computed where read
 * (itself over such values), or a value that leaves its kernel anyway
 * (bound, or read by a node of another kernel besides x). */
static bool available(fuser *f, int o, int x, int depth) {
  const gc_node *n = f->g->nodes[o];
  if (generated(f, o) || gc_op_is_source(n->op) || f->again[o]) return true;
  if (f->inlined[o] && !f->real[o]) {
    if (depth > 8) return false;
    for (int k = 0; k < n->n_in; k++)
      if (!available(f, n->in[k], x, depth + 1)) return false;
    return true;
  }
  if (gc_uses_is_bound(&f->u, o)) return true;
  const int *r = gc_uses_readers(&f->u, o);
  for (int k = 0; k < gc_uses_count(&f->u, o); k++)
    if (r[k] != x && f->real[r[k]] && find(f, r[k]) != find(f, o)) return true;
  return false;
}

/* A cheap elementwise node that kernels after its own read (the 0.5·x,
 * x², 1 + tanh of a GELU, kept for its backward) is computed again by
 * each of them from its operands, when those are there anyway: its
 * buffer, one write and one read of it go, for an add or a mul per
 * element.  Only readers that are elementwise ops or reductions (not a
 * dot's operand, not an index op, not through a view). */
static void recompute_in_readers(fuser *f) {
  const gc_graph *g = f->g;
  for (int x = 0; x < f->n; x++) {
    const gc_node *n = g->nodes[x];
    if (!f->real[x] || f->stored[x] || gc_node_kind(n) != GC_KIND_ELEMENTWISE || costly(n->op) ||
        gc_type_numel_unchecked(&n->type) <= CHEAP_ELEMENTS || gc_uses_is_bound(&f->u, x))
      continue;
    const int *r = gc_uses_readers(&f->u, x);
    bool ok = true, outside = false;
    for (int k = 0; k < gc_uses_count(&f->u, x) && ok; k++) {
      gc_kind rk = gc_node_kind(g->nodes[r[k]]);
      ok = f->real[r[k]] && (rk == GC_KIND_ELEMENTWISE || rk == GC_KIND_REDUCE);
      outside = outside || find(f, r[k]) != find(f, x);
    }
    for (int k = 0; k < n->n_in && ok; k++) ok = available(f, n->in[k], x, 0);
    if (ok && outside) f->again[x] = true;
  }
}

static void group_all(fuser *f) {
  merge_producers(f);
  /* cheap producers left as kernels of their own are computed where read */
  bool changed = false;
  for (int x = 0; x < f->n; x++)
    if (recompute_instead(f, x)) {
      f->real[x] = false;
      f->inlined[x] = true;
      changed = true;
    }
  if (changed) merge_producers(f);
  while (merge_siblings(f)) merge_producers(f);
  recompute_in_readers(f);
}

/* ---- the new graph --------------------------------------------------------------- */

typedef struct {
  fuser *f;
  gc_rebuild r;
  int *copy;          /* an inlined node's copy in the kernel being emitted */
} kernel_writer;

/* The new id of old node x as read from inside the kernel being emitted. */
static int new_operand(kernel_writer *e, int x) {
  if (((e->f->inlined[x] && !e->f->real[x]) || e->f->again[x]) && e->copy[x] >= 0) return e->copy[x];
  return gc_rebuild_id(&e->r, x);
}

static int emit_copy(kernel_writer *e, int x, int kernel) {
  const gc_node *n = e->f->g->nodes[x];
  int in[64];
  for (int k = 0; k < n->n_in && k < 64; k++) in[k] = new_operand(e, n->in[k]);
  int id = gc_rebuild_emit(&e->r, x, n->op, in, n->n_in, &n->attrs, &n->type);
  if (id >= 0) e->r.em.g->nodes[id]->kernel = kernel;
  return id;
}

/* Emit group root's kernel: its inlined producers, then its members, in node order. */
static void emit_group(kernel_writer *e, int root, int kernel) {
  fuser *f = e->f;
  gather(f, root, -1);
  int *nodes = f->set, n = f->n_set;
  qsort(nodes, (size_t)n, sizeof *nodes, by_id);   /* node order */
  for (int i = 0; i < n; i++) {
    int x = nodes[i];
    if (f->real[x] && find(f, x) == root) {
      int id = emit_copy(e, x, kernel);
      gc_rebuild_map(&e->r, x, id);
    } else {
      e->copy[x] = emit_copy(e, x, kernel);
    }
  }
  for (int i = 0; i < n; i++) e->copy[nodes[i]] = -1;
}

/* The units of emission: each group (by its root) and each source node.
 * unit_deps: for each unit, the units it reads (through inlined nodes). */
static bool is_unit(const fuser *f, int i) {
  return f->real[i] ? f->parent[i] == i : gc_op_is_source(f->g->nodes[i]->op);
}

static int unit_of(fuser *f, int x) { return f->real[x] ? find(f, x) : x; }

/* The closure of unit u into f->set. */
static void unit_closure(fuser *f, int u) {
  if (f->real[u]) {
    gather(f, u, -1);
  } else {
    clear_set(f);
    f->in_set[u] = true;
    f->set[f->n_set++] = u;
  }
}

/* A binary min-heap of ints. */
static void heap_push(int *h, int *n, int x) {
  int i = (*n)++;
  for (; i > 0 && h[(i - 1) / 2] > x; i = (i - 1) / 2) h[i] = h[(i - 1) / 2];
  h[i] = x;
}

static int heap_pop(int *h, int *n) {
  int top = h[0], x = h[--*n], i = 0;
  for (;;) {
    int c = 2 * i + 1;
    if (c >= *n) break;
    if (c + 1 < *n && h[c + 1] < h[c]) c++;
    if (h[c] >= x) break;
    h[i] = h[c];
    i = c;
  }
  h[i] = x;
  return top;
}

static gc_graph *emit_all(fuser *f, gc_diag *d) {
  const gc_graph *g = f->g;
  int n = f->n;
  kernel_writer e = {.f = f};
  e.copy = malloc(sizeof(int) * (size_t)(n + 1));
  int *indeg = calloc((size_t)n + 1, sizeof(int)), *seen = malloc(sizeof(int) * (size_t)(n + 1));
  int *adj_first = calloc((size_t)n + 2, sizeof(int)), *adj = NULL, n_adj = 0, cap_adj = 0;
  int *edge_from = NULL, *edge_to = NULL;
  if (!e.copy || !indeg || !seen || !adj_first || gc_rebuild_begin(&e.r, g, d)) {
    free(e.copy), free(indeg), free(seen), free(adj_first);
    return gc_diag_set(d, "out of memory"), NULL;
  }
  for (int i = 0; i < n; i++) e.copy[i] = -1, seen[i] = -1;
  /* edges dep -> unit, deduplicated per unit */
  for (int u = 0; u < n; u++) {
    if (!is_unit(f, u)) continue;
    unit_closure(f, u);
    for (int s = 0; s < f->n_set; s++) {
      const gc_node *nd = g->nodes[f->set[s]];
      for (int k = 0; k < nd->n_in; k++) {
        int o = nd->in[k];
        if (f->inlined[o] && !f->real[o]) continue;
        int v = unit_of(f, o);
        if (v == u || seen[v] == u) continue;
        seen[v] = u;
        if (n_adj == cap_adj) {
          cap_adj = cap_adj ? 2 * cap_adj : 1024;
          edge_from = realloc(edge_from, sizeof(int) * (size_t)cap_adj);
          edge_to = realloc(edge_to, sizeof(int) * (size_t)cap_adj);
          if (!edge_from || !edge_to) abort();
        }
        edge_from[n_adj] = v, edge_to[n_adj++] = u;
        indeg[u]++;
      }
    }
  }
  /* successors of each unit, CSR */
  for (int i = 0; i < n_adj; i++) adj_first[edge_from[i] + 1]++;
  for (int i = 0; i < n; i++) adj_first[i + 1] += adj_first[i];
  adj = malloc(sizeof(int) * (size_t)(n_adj + 1));
  int *fill = calloc((size_t)n + 1, sizeof(int));
  if (!adj || !fill) abort();
  for (int i = 0; i < n_adj; i++) adj[adj_first[edge_from[i]] + fill[edge_from[i]]++] = edge_to[i];
  /* Kahn's algorithm, always the ready unit with the smallest root first
   * (a min-heap of the ready units) */
  int kernels = 0, units = 0, emitted = 0, *ready = fill, n_ready = 0;
  for (int i = 0; i < n; i++) {
    units += is_unit(f, i);
    if (is_unit(f, i) && indeg[i] == 0) heap_push(ready, &n_ready, i);
  }
  while (emitted < units && !e.r.em.failed && n_ready) {
    int u = heap_pop(ready, &n_ready);
    emitted++;
    if (f->real[u]) emit_group(&e, u, ++kernels);
    else gc_rebuild_copy(&e.r, u);
    for (int k = adj_first[u]; k < adj_first[u + 1]; k++)
      if (--indeg[adj[k]] == 0) heap_push(ready, &n_ready, adj[k]);
  }
  free(e.copy), free(indeg), free(seen), free(adj_first), free(adj), free(fill), free(edge_from), free(edge_to);
  if (emitted < units && !e.r.em.failed) gc_emitter_fail(&e.r.em, "fuse: the kernels depend on each other in a cycle");
  gc_graph *out = gc_rebuild_finish(&e.r);
  if (out) out->n_kernels = kernels;
  return out;
}

static gc_graph *fuse_once(const gc_graph *g, gc_pass_ctx *ctx) {
  fuser f = {.g = g, .n = g->n_nodes};
  int n = g->n_nodes;
  if (gc_uses_init(&f.u, g, ctx->d)) return NULL;
  f.real = calloc((size_t)n + 1, sizeof(bool));
  f.inlined = calloc((size_t)n + 1, sizeof(bool));
  f.stored = calloc((size_t)n + 1, sizeof(bool));
  f.pure = calloc((size_t)n + 1, sizeof(bool));
  f.again = calloc((size_t)n + 1, sizeof(bool));
  f.in_set = calloc((size_t)n + 1, sizeof(bool));
  f.parent = malloc(sizeof(int) * (size_t)(n + 1));
  f.next = malloc(sizeof(int) * (size_t)(n + 1));
  f.head = malloc(sizeof(int) * (size_t)(n + 1));
  f.tail = malloc(sizeof(int) * (size_t)(n + 1));
  f.set = malloc(sizeof(int) * (size_t)(n + 1));
  f.lo = malloc(sizeof(int) * (size_t)(n + 1));
  f.hi = malloc(sizeof(int) * (size_t)(n + 1));
  for (int w = 0; w < 3; w++) f.mark[w] = calloc((size_t)n + 1, sizeof(int));
  bool stacks = true;
  for (int w = 0; w < 4; w++) {
    f.stack_node[w] = malloc(sizeof(int) * (size_t)(n + 1));
    f.stack_next[w] = malloc(sizeof(int) * (size_t)(n + 1));
    stacks = stacks && f.stack_node[w] && f.stack_next[w];
  }
  f.on_dot = calloc((size_t)n + 1, sizeof(bool));
  f.reduces = calloc((size_t)n + 1, sizeof(int));
  f.reduction = malloc(sizeof(int) * (size_t)(n + 1));
  f.changed = calloc((size_t)n + 1, sizeof(int));
  f.walked = calloc((size_t)n + 1, sizeof(int));
  gc_graph *out = NULL;
  if (f.real && f.inlined && f.stored && f.pure && f.again && f.in_set && f.parent && f.next && f.head && f.tail && f.set &&
      f.lo && f.hi && f.mark[0] && f.mark[1] && f.mark[2] && f.on_dot && f.reduces && f.reduction && f.changed && f.walked && stacks) {
    for (int i = 0; i < n; i++) f.parent[i] = f.head[i] = f.tail[i] = f.lo[i] = f.hi[i] = i, f.next[i] = -1;
    classify(&f);
    for (int i = 0; i < n; i++) {
      f.reduces[i] = f.real[i] && gc_node_kind(g->nodes[i]) == GC_KIND_REDUCE;
      f.reduction[i] = f.reduces[i] ? i : -1;
    }
    group_all(&f);
    out = emit_all(&f, ctx->d);
  } else {
    gc_diag_set(ctx->d, "out of memory");
  }
  gc_uses_free(&f.u);
  free(f.real), free(f.inlined), free(f.stored), free(f.pure), free(f.again), free(f.in_set), free(f.parent), free(f.next), free(f.head),
      free(f.tail), free(f.set), free(f.lo), free(f.hi);
  for (int w = 0; w < 3; w++) free(f.mark[w]);
  for (int w = 0; w < 4; w++) free(f.stack_node[w]), free(f.stack_next[w]);
  free(f.on_dot), free(f.reduces), free(f.reduction), free(f.changed), free(f.walked);
  return out;
}

/* One grouping: a node computed again in two kernels that the grouping
 * merged is there twice, and the copies become one. */
static gc_graph *fuse_round(gc_graph *g, gc_pass_ctx *ctx) {
  gc_graph *grouped = fuse_once(g, ctx);
  gc_graph *once = grouped ? gc_cse_within_kernels(grouped, ctx) : NULL;
  gc_graph_free(grouped);
  return once;
}

/* A dump of g run through the pipeline again: its recomputed copies merged
 * (cse), then grouped. */
static gc_graph *fuse_dump(gc_graph *g, gc_pass_ctx *ctx) {
  gc_graph *merged = gc_pass_cse(g, ctx);
  gc_graph *next = merged ? fuse_round(merged, ctx) : NULL;
  gc_graph_free(merged);
  return next;
}

static int kernels(const gc_graph *g) { return gc_graph_stats_of(g).kernels; }

/* Merging follows node order, and the first grouping reorders the nodes:
 * grouping again on the result finds merges the first order hid, so
 * rounds repeat while the kernel count falls.  Then the result must be
 * what fuse makes of it when the pipeline runs on its dump, which first
 * merges the copies of recomputed nodes: if that gives another graph with
 * no more kernels, rounds go on from there (fuse on its own dump changes
 * nothing: docs/ir.md). */
gc_graph *gc_pass_fuse(gc_graph *g, gc_pass_ctx *ctx) {
  gc_graph *best = fuse_round(g, ctx);
  for (int round = 0; best && round < 8; round++) {
    gc_graph *next = fuse_round(best, ctx);
    if (next && kernels(next) >= kernels(best)) {
      gc_graph_free(next);
      next = fuse_dump(best, ctx);
      if (next && (kernels(next) > kernels(best) || gc_graph_identical(next, best))) {
        gc_graph_free(next);
        break;
      }
    }
    gc_graph_free(best);
    best = next;
  }
  return best;
}
