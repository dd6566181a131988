/* ir/ir.h — the graph IR: dtypes, types, the op table, nodes and graphs.
 *
 * A graph is a list of SSA nodes in topological order.  Node ids are dense
 * indices into `graph->nodes` (operands refer to earlier ids).  All memory of
 * a graph (nodes, operand arrays, strings) lives in the graph's arena and is
 * released by gc_graph_free(); callers never free pieces of a graph.
 *
 * Errors are values: functions that can fail take a `gc_diag *` (may be NULL)
 * and return -1 (or NULL) after writing a message into it.
 */
#ifndef GC_IR_H
#define GC_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GC_MAX_RANK 8

/* ---- dtypes and types ------------------------------------------------- */

typedef enum { GC_F32, GC_F64, GC_I32, GC_I64, GC_BOOL, GC_DTYPE_COUNT } gc_dtype;

const char *gc_dtype_name(gc_dtype dt);          /* "f32", ... */
int gc_dtype_parse(const char *s, size_t len);   /* -1 if unknown */
size_t gc_dtype_size(gc_dtype dt);               /* bytes per element */
bool gc_dtype_is_float(gc_dtype dt);
bool gc_dtype_is_int(gc_dtype dt);               /* i32, i64 */

typedef struct {
  gc_dtype dtype;
  int rank;                    /* 0 .. GC_MAX_RANK; 0 is a scalar */
  int64_t dims[GC_MAX_RANK];   /* each >= 0 */
} gc_type;

gc_type gc_type_make(gc_dtype dt, int rank, const int64_t *dims);
bool gc_type_equal(const gc_type *a, const gc_type *b);
bool gc_shape_equal(const gc_type *a, const gc_type *b); /* dims only */
/* Element count; false when a dim is negative or the product overflows. */
bool gc_type_numel(const gc_type *t, int64_t *out);
int64_t gc_type_numel_unchecked(const gc_type *t);
/* Writes "f32[4,8]" into buf (always NUL-terminated); returns buf. */
char *gc_type_str(const gc_type *t, char *buf, size_t size);
#define GC_TYPE_STR_MAX 200

/* ---- diagnostics ------------------------------------------------------- */

typedef struct {
  char msg[1024];
  int line, col;               /* 0 when not tied to source text */
} gc_diag;

/* printf into d->msg if d is non-NULL; always returns -1. */
int gc_diag_set(gc_diag *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- arena ------------------------------------------------------------- */

typedef struct gc_arena gc_arena;
gc_arena *gc_arena_new(void);
void gc_arena_free(gc_arena *a);
void *gc_arena_alloc(gc_arena *a, size_t size);  /* zeroed, 16-aligned */
char *gc_arena_strdup(gc_arena *a, const char *s);
char *gc_arena_strndup(gc_arena *a, const char *s, size_t n);

/* ---- attributes (generated from attrs.def) ----------------------------- */

typedef struct {
  int n;
  int64_t v[GC_MAX_RANK];
} gc_ilist;

/* A call's own attributes, `{alpha=0.5, k=3}`: keys the schema does not
 * name, each with a number, in the order written (the strings live in the
 * graph's arena). */
#define GC_MAX_PAIRS 8
typedef struct {
  int n;
  const char *key[GC_MAX_PAIRS];
  double value[GC_MAX_PAIRS];
} gc_pairs;

#define GC_FIELD_CTYPE_BOOL  bool
#define GC_FIELD_CTYPE_INT   int64_t
#define GC_FIELD_CTYPE_FLOAT double
#define GC_FIELD_CTYPE_STR   const char *
#define GC_FIELD_CTYPE_LIST  gc_ilist
#define GC_FIELD_CTYPE_PAIRS gc_pairs

#include "attrs.def"

#define GC_FIELD_DECL_(KIND, field, req, dflt) GC_FIELD_CTYPE_##KIND field;
#define GC_SCHEMA_STRUCT_(s) \
  typedef struct { char unused_; GC_FIELDS_##s(GC_FIELD_DECL_) } gc_attrs_##s;
GC_SCHEMAS(GC_SCHEMA_STRUCT_)
#undef GC_SCHEMA_STRUCT_

#define GC_SCHEMA_MEMBER_(s) gc_attrs_##s s;
typedef union { GC_SCHEMAS(GC_SCHEMA_MEMBER_) } gc_attrs;
#undef GC_SCHEMA_MEMBER_

#define GC_SCHEMA_ENUM_(s) GC_SCHEMA_##s,
typedef enum { GC_SCHEMAS(GC_SCHEMA_ENUM_) GC_SCHEMA_COUNT } gc_schema;
#undef GC_SCHEMA_ENUM_

typedef enum { GC_FIELD_BOOL, GC_FIELD_INT, GC_FIELD_FLOAT, GC_FIELD_STR, GC_FIELD_LIST, GC_FIELD_PAIRS } gc_field_kind;

typedef struct {
  const char *key;
  gc_field_kind kind;
  size_t offset;     /* within gc_attrs */
  bool required;
  double dflt;       /* LIST: 1 means all ones */
} gc_field;

/* The fields of a schema, `*n` set to their count. */
const gc_field *gc_schema_fields(gc_schema s, int *n);

/* ---- the op table (generated from ops.def) ----------------------------- */

#define GC_OP(ID, name, arity, attrs, rule) GC_OP_##ID,
typedef enum {
#include "ops.def"
  GC_OP_COUNT
} gc_op;
#undef GC_OP

/* The `kind` column of ops.def (its header says what each kind means). */
typedef enum {
  GC_KIND_SOURCE,       /* input param const iota rand_uniform */
  GC_KIND_ELEMENTWISE,  /* unary, binary, compare, where, cast, stop_gradient */
  GC_KIND_LAYOUT,       /* broadcast reshape transpose slice concat pad */
  GC_KIND_REDUCE,       /* reduce_sum reduce_max argmax */
  GC_KIND_CONTRACT,     /* dot */
  GC_KIND_INDEX,        /* gather scatter_add */
  GC_KIND_COLLECTIVE,   /* all_reduce reduce_scatter all_gather: effects */
  GC_KIND_CALL,         /* call: the user's function */
  GC_KIND_COUNT
} gc_kind;

/* The `cost` column of ops.def: what one element of the result costs. */
typedef enum {
  GC_COST_CHEAP,          /* an instruction or two: recompute rather than store */
  GC_COST_TRANSCENDENTAL, /* a math call or a division: compute once */
  GC_COST_CONTRACT,       /* a contraction (dot) */
  GC_COST_CALL,           /* the user's function: never recomputed */
} gc_cost;

typedef struct {
  const char *name;
  int arity;          /* -1: two or more; -2: any number */
  gc_schema schema;
  gc_kind kind;
  bool declares_type; /* the `type` column is `declared` */
  gc_cost cost;
  bool view;          /* the `view` column is `view` */
} gc_op_info;

const gc_op_info *gc_op_info_of(gc_op op);
const char *gc_op_name(gc_op op);

int gc_op_parse(const char *s, size_t len);      /* -1 if unknown */

/* Questions to the table.  gc_op_kind: the op's kind.  gc_op_declares_type:
 * the result type is taken from the statement (the builder's `declared`
 * argument) and checked, not inferred.  gc_op_is_fed: input or param, the
 * sources whose values the caller supplies by name (a source whose schema
 * is `name`); const, iota and rand_uniform are sources that are not fed. */
gc_kind gc_op_kind(gc_op op);
const char *gc_kind_name(gc_kind k);             /* "source", "elementwise", ... */
bool gc_op_declares_type(gc_op op);
bool gc_op_is_fed(gc_op op);
/* gc_op_is_generated: const, iota, rand_uniform, the sources that are not
 * fed, whose value is made from attributes (and a seed counter) wherever it
 * is read.  gc_op_cost: the `cost` column.  gc_op_is_view: the `view` column,
 * the result is a strided view of the operand (broadcast reshape transpose
 * slice stop_gradient). */
bool gc_op_is_generated(gc_op op);
gc_cost gc_op_cost(gc_op op);
bool gc_op_is_view(gc_op op);
static inline bool gc_op_is_source(gc_op op) { return gc_op_kind(op) == GC_KIND_SOURCE; }
static inline bool gc_op_is_elementwise(gc_op op) { return gc_op_kind(op) == GC_KIND_ELEMENTWISE; }
/* A collective (all_reduce reduce_scatter all_gather) talks to the other
 * ranks: passes keep every one, in order, and never merge or fuse one. */
static inline bool gc_op_is_collective(gc_op op) { return gc_op_kind(op) == GC_KIND_COLLECTIVE; }
/* A node computed alone, reading stored operands in place and storing its
 * result: an index op (gather, scatter_add), a call or a collective (which
 * the runtime runs between kernels). */
static inline bool gc_op_is_alone(gc_op op) {
  return gc_op_kind(op) == GC_KIND_INDEX || gc_op_kind(op) == GC_KIND_CALL || gc_op_kind(op) == GC_KIND_COLLECTIVE;
}

/* Fill attributes with the schema's defaults (LIST defaults get n = 0). */
void gc_attrs_defaults(gc_op op, gc_attrs *a);

/* ---- nodes and graphs -------------------------------------------------- */

typedef struct {
  gc_op op;
  gc_type type;
  int n_in;
  int *in;            /* operand node ids, each < this node's id */
  gc_attrs attrs;
  const char *label;  /* optional, NULL if none */
  int line, col;      /* where the statement starts in the text it was parsed
                       * from (gc_parse); 0 when built in C */
  /* Set by the compiler's passes (docs/ir.md, "Kernels and plans"): */
  int kernel;         /* 0: in no kernel; else its kernel's number + 1 (fuse) */
  bool planned;       /* plan gave the value a place: */
  int64_t offset;     /*   its byte offset in the arena, or */
  const char *into;   /*   the param whose buffer it is written into in place */
  /* Set by autodiff: the forward node this backward node is part of the
   * gradient of, as its id + 1 (0: none).  Not printed; rebuilds map it to
   * the new id (ir/rewrite.c), so the NaN report can name the origin. */
  int grad_of;
  int over;           /* 1 + the operand whose bytes it is written over in
                       * place (plan: over=%x, at that operand's offset);
                       * 0: none.  gc_node_over reads it. */
} gc_node;

/* A call marked {effects}, or a collective (every rank waits for each):
 * never merged (cse), removed (dce) or computed again (remat). */
static inline bool gc_node_has_effects(const gc_node *n) {
  return (n->op == GC_OP_CALL && n->attrs.call.effects) || gc_op_is_collective(n->op);
}

/* The node whose bytes n is written over in place (over=), or -1. */
static inline int gc_node_over(const gc_node *n) { return n->over - 1; }

/* An {elementwise} call without {effects} of at most this many operands is
 * computed like an elementwise op, in a fused loop nest (the generated code
 * calls the function per element; docs/calls.md). */
#define GC_MAX_FUSED_CALL_OPERANDS 8
static inline bool gc_node_is_fusible_call(const gc_node *n) {
  return n->op == GC_OP_CALL && n->attrs.call.elementwise && !n->attrs.call.effects &&
         n->n_in <= GC_MAX_FUSED_CALL_OPERANDS;
}
/* The node's kind for fusion and lowering: a fusible call is elementwise. */
static inline gc_kind gc_node_kind(const gc_node *n) {
  return gc_node_is_fusible_call(n) ? GC_KIND_ELEMENTWISE : gc_op_kind(n->op);
}
/* gc_op_is_alone of the node's kind (a fusible call is not alone). */
static inline bool gc_node_is_alone(const gc_node *n) {
  return gc_op_is_alone(n->op) && !gc_node_is_fusible_call(n);
}

typedef struct {
  const char *name;   /* output name, or the param name an update writes */
  int node;
} gc_binding;

typedef struct gc_graph {
  gc_arena *arena;
  const char *name;
  gc_node **nodes;
  int n_nodes, cap_nodes;
  gc_binding *outputs;
  int n_outputs, cap_outputs;
  gc_binding *updates;
  int n_updates, cap_updates;
  int n_kernels;      /* kernels made by fuse: node->kernel in 0..n_kernels */
  struct gc_graph_names *names;   /* the names by hashing, built on lookup (ir/names.h) */
} gc_graph;

gc_graph *gc_graph_new(const char *name);
void gc_graph_free(gc_graph *g);
/* A deep copy in its own arena; NULL when out of memory. */
gc_graph *gc_graph_clone(const gc_graph *g);

/* Append a node after checking it against its op's rule.  `declared` is the
 * result type written in the text (required when gc_op_declares_type(op):
 * input, param, const, iota, rand_uniform, cast, broadcast, reshape,
 * scatter_add); for other ops it may be NULL (inferred) or given (then it
 * must equal the inferred type).  `attrs` may be NULL for defaults.  The node
 * has no label and position 0:0.  Returns the new node's id, or -1 with a
 * message in `d`. */
int gc_graph_add(gc_graph *g, gc_op op, const int *in, int n_in,
                 const gc_attrs *attrs, const gc_type *declared, gc_diag *d);

/* Compute (or check) the result type of a would-be node without adding it. */
int gc_infer_type(const gc_graph *g, gc_op op, const int *in, int n_in,
                  const gc_attrs *attrs, const gc_type *declared,
                  gc_type *out, gc_diag *d);

void gc_graph_set_label(gc_graph *g, int node, const char *label);
int gc_graph_add_output(gc_graph *g, const char *name, int node, gc_diag *d);
/* The update's type must equal the named param's; -1 otherwise. */
int gc_graph_add_update(gc_graph *g, const char *param, int node, gc_diag *d);

static inline const gc_node *gc_node_at(const gc_graph *g, int id) { return g->nodes[id]; }
/* The node of `param "name"` (or input, for gc_graph_find_input); -1 if none. */
int gc_graph_find_param(const gc_graph *g, const char *name);
int gc_graph_find_input(const gc_graph *g, const char *name);
int gc_graph_find_output(const gc_graph *g, const char *name);

/* Verify every node against its rule, names unique, updates well typed.
 * The message names the node (%id and label), the op, the operand types and
 * the expected result type; d->line/col are the node's position (0 for nodes
 * built in C and for output/update errors), so gc_format_error can point at
 * the statement in the text the graph was parsed from. */
int gc_verify(const gc_graph *g, gc_diag *d);

/* Figures of a node and of a graph (ir/cost.c).  gc_node_bytes: the bytes of
 * the node's value (elements times the dtype's size).  gc_node_flops: its
 * floating-point operations, 2*M*N*K per dot (times its batch), one per
 * element of each elementwise op and of each reduction's input; sources and
 * layout ops count none.  gc_graph_flops: one run of g, the nodes' sum. */
int64_t gc_node_bytes(const gc_node *n);
double gc_node_flops(const gc_graph *g, int id);
double gc_graph_flops(const gc_graph *g);

/* ---- text form (IR.md) -------------------------------------------------- */

/* Parse a whole file.  On error returns NULL; d->msg holds the message, and
 * d->line/col its position.  gc_format_error renders the standard
 * "FILE:LINE:COL: error: MSG\n<source line>\n<caret>\n". */
gc_graph *gc_parse(const char *text, size_t len, gc_diag *d);
void gc_format_error(const char *file, const char *text, size_t len,
                     const gc_diag *d, char *out, size_t size);
/* Print in the IR.md form; values are numbered %0.. in node order.  Returns
 * a malloc'd string the caller frees. */
char *gc_print(const gc_graph *g);

/* ---- structural hashing ------------------------------------------------ */

/* hashes[i] for every node: XXH3 of op, attributes, type and the operands'
 * hashes (labels excluded).  `hashes` has g->n_nodes entries. */
void gc_hash_nodes(const gc_graph *g, uint64_t *hashes);
uint64_t gc_hash_graph(const gc_graph *g);
/* The same graph, statement for statement: each node's op, attributes,
 * type, operands, label, kernel and place, and the same bindings. */
bool gc_graph_identical(const gc_graph *a, const gc_graph *b);

#endif
