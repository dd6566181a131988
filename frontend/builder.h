/* frontend/builder.h — the C API models are written with.
 *
 * A gc_builder wraps a gc_graph and offers numpy-style calls: binary ops
 * broadcast their operands (the builder inserts explicit `broadcast` nodes),
 * reductions take negative axes, reshape takes one -1, matmul follows
 * numpy.matmul.  Every call returns a gc_val naming the new node.
 *
 * Errors are values.  The first mistake (shapes that do not broadcast, a
 * matmul that does not contract, an axis out of range, ...) is recorded in
 * the builder with the op, the operand shapes and the current label, e.g.
 *
 *   matmul at "model.layers.0.mlp.up_proj": shapes f32[2,8,128] and f32[384,64] do not contract
 *
 * Every later call is a no-op returning GC_NONE, so model code needs no error
 * checks; ask once at the end with gc_builder_error() or gc_builder_finish().
 * No builder call exits or aborts on a user mistake.
 *
 * Names and labels.  gc_push()/gc_pop() maintain a scope such as
 * "model.layers.3.self_attn".  Every node created inside a scope carries the
 * scope as its label (it shows in IR dumps and in errors); params created
 * with gc_param() are named "<scope>.<name>", so with HF's module structure
 * mirrored by scopes, param names are the full HF names.
 *
 * Float dtype.  A builder has one float dtype (f32 or f64) used for params,
 * float constants and inputs declared as GC_FLOATX, so the same model code
 * builds an f32 graph for training and an f64 graph for gradient checks.
 *
 * Ownership: the builder owns its graph until gc_builder_finish() hands it to
 * the caller (who frees it with gc_graph_free).  Strings passed in are copied.
 */
#ifndef GC_BUILDER_H
#define GC_BUILDER_H

#include "backends/runtime/tensor.h"
#include "ir/ir.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct gc_builder gc_builder;

/* A value in the graph: `ref` is the node id + 1, so a zeroed gc_val (and
 * GC_NONE) means "no value".  Calls return GC_NONE after an error. */
typedef struct { int ref; } gc_val;
#define GC_NONE ((gc_val){0})
static inline bool gc_is_none(gc_val v) { return v.ref <= 0; }
static inline int gc_val_node(gc_val v) { return v.ref - 1; }   /* -1 for GC_NONE */
static inline gc_val gc_val_of(int node) { return (gc_val){node + 1}; }

/* "The builder's float dtype", accepted wherever a dtype is asked for. */
#define GC_FLOATX ((gc_dtype)GC_DTYPE_COUNT)

/* Lists written inline: GC_SHAPE(2, 8, 64) expands to `3, (const int64_t[]){2, 8, 64}`
 * and GC_AXES(0, 2, 1) to `3, (const int[]){0, 2, 1}` — the (count, pointer)
 * pairs the calls below take. */
#define GC_NARGS_(T, ...) ((int)(sizeof((T[]){__VA_ARGS__}) / sizeof(T)))
#define GC_SHAPE(...) GC_NARGS_(int64_t, __VA_ARGS__), (const int64_t[]){__VA_ARGS__}
#define GC_AXES(...) GC_NARGS_(int, __VA_ARGS__), (const int[]){__VA_ARGS__}

/* ---- parameter initialisation rules ----------------------------------- */

typedef enum { GC_INIT_ZEROS, GC_INIT_ONES, GC_INIT_CONST, GC_INIT_NORMAL } gc_init_kind;
typedef struct {
  gc_init_kind kind;
  double value;   /* CONST: the value; NORMAL: the mean */
  double std;     /* NORMAL: the standard deviation */
  /* Row (index along axis 0) set to zero afterwards, plus one; 0 for none.
   * HF zeroes an embedding's padding_idx row this way. */
  int64_t zero_row_plus1;
} gc_init;
static inline gc_init gc_init_zeros(void) { return (gc_init){GC_INIT_ZEROS, 0, 0, 0}; }
static inline gc_init gc_init_ones(void) { return (gc_init){GC_INIT_ONES, 1, 0, 0}; }
static inline gc_init gc_init_const(double v) { return (gc_init){GC_INIT_CONST, v, 0, 0}; }
static inline gc_init gc_init_normal(double std) { return (gc_init){GC_INIT_NORMAL, 0, std, 0}; }
/* normal(std) with row `row` zeroed (an embedding's padding_idx). */
static inline gc_init gc_init_normal_zero_row(double std, int64_t row) {
  return (gc_init){GC_INIT_NORMAL, 0, std, row + 1};
}

/* Param name -> init rule, filled as params are created.  Owned by whoever
 * took it from the builder; free with gc_init_table_free. */
typedef struct {
  int n, cap;
  char **names;
  gc_init *rules;
} gc_init_table;
void gc_init_table_free(gc_init_table *t);
/* NULL if the table has no rule for `name`. */
const gc_init *gc_init_table_find(const gc_init_table *t, const char *name);
void gc_init_table_set(gc_init_table *t, const char *name, gc_init rule);

/* Give every param of `g` that `params` does not hold yet a fresh tensor
 * filled by its rule in `inits` (zeros when it has none, which suits
 * optimizer state); tensors already in `params` (a loaded checkpoint) are
 * kept.  Deterministic: a param's values depend only on `seed`, its name and
 * its rule, not on the order of params, the thread count or the machine.
 * The generator, per param: state = seed XOR fnv1a64(name), and a normal
 * param is gc_fill_normal's fill of that state (backends/runtime/
 * random_fill.h: splitmix64 streams per chunk of 65536 elements, a ziggurat
 * for the normals), mean + std * z computed in double and rounded to the
 * param's dtype.
 * 0, or -1 with a message in d. */
int gc_init_params(const gc_graph *g, const gc_init_table *inits, uint64_t seed,
                   gc_tensor_map *params, gc_diag *d);

/* ---- the builder ------------------------------------------------------- */

/* float_dtype is GC_F32 or GC_F64.  NULL only when out of memory. */
gc_builder *gc_builder_new(const char *graph_name, gc_dtype float_dtype);
/* A builder appending to an existing graph (e.g. an optimizer step after
 * autodiff); the builder takes the graph over until finish. */
gc_builder *gc_builder_wrap(gc_graph *g, gc_dtype float_dtype);
/* Abandon a builder and its graph. */
void gc_builder_free(gc_builder *b);

gc_graph *gc_builder_graph(gc_builder *b);       /* the graph being built */
gc_dtype gc_builder_dtype(const gc_builder *b);  /* the float dtype */
/* NULL while no error occurred; else the first error's message. */
const char *gc_builder_error(const gc_builder *b);
/* Record an error from model code (e.g. a bad config); the first one wins. */
void gc_builder_fail(gc_builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Finish: frees the builder and returns the verified graph (the caller owns
 * it), or NULL with the first error in `d` (the graph is freed then). */
gc_graph *gc_builder_finish(gc_builder *b, gc_diag *d);
/* Move the init rules of the params created so far out of the builder (call
 * before finish).  The caller owns the table; never NULL. */
gc_init_table *gc_builder_take_inits(gc_builder *b);

/* Default std for normal inits made by nn blocks (HF's initializer_range);
 * 0.02 unless set. */
void gc_builder_set_init_std(gc_builder *b, double std);
double gc_builder_init_std(const gc_builder *b);

/* Training mode for nn blocks that differ between train and eval (dropout).
 * `counter` is an i64[] value (e.g. an input or a step param) that changes
 * every step; `seed` is the base seed, each dropout site adds its ordinal.
 * Off (eval) unless set. */
void gc_builder_set_training(gc_builder *b, bool training, gc_val counter, uint64_t seed);
bool gc_builder_training(const gc_builder *b);

/* ---- scopes and labels ------------------------------------------------- */

/* Enter a scope "<current>.<formatted>" (or just <formatted> at top level). */
void gc_push(gc_builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gc_pop(gc_builder *b);
/* The current scope ("" at top level); valid until the next push/pop. */
const char *gc_scope(const gc_builder *b);
/* Label one node "<scope>.<name>" (or `name` at top level); returns v. */
gc_val gc_label(gc_builder *b, gc_val v, const char *name);

/* ---- inspecting values ------------------------------------------------- */

/* The type of v (a zeroed f32 scalar type for GC_NONE). */
gc_type gc_type_of(const gc_builder *b, gc_val v);
int gc_rank(const gc_builder *b, gc_val v);
/* Dim `axis` of v; negative axes count from the end; -1 when out of range. */
int64_t gc_dim(const gc_builder *b, gc_val v, int axis);

/* ---- sources ----------------------------------------------------------- */

/* `input "name"`: fed on every run.  Not scoped.  Asking again for the same
 * name and type returns the same node. */
gc_val gc_input(gc_builder *b, const char *name, gc_dtype dt, int rank, const int64_t *dims);
/* `param "<scope>.<name>"` of the float dtype, recorded with its init rule.
 * A name that already exists returns the existing node (tied weights), which
 * must have the same shape. */
gc_val gc_param(gc_builder *b, const char *name, int rank, const int64_t *dims, gc_init init);
/* A param by its full name (not scoped) with any dtype (optimizer state,
 * step counters). */
gc_val gc_param_full(gc_builder *b, const char *full_name, gc_dtype dt, int rank,
                     const int64_t *dims, gc_init init);
/* The existing param of that full name, or GC_NONE (no error recorded). */
gc_val gc_find_param(gc_builder *b, const char *full_name);
/* Change the init rule of param "<scope>.<name>" (e.g. GPT-2's scaled c_proj). */
void gc_set_init(gc_builder *b, const char *name, gc_init init);

/* A constant: every element equals `value`. */
gc_val gc_const(gc_builder *b, double value, gc_dtype dt, int rank, const int64_t *dims);
gc_val gc_constf(gc_builder *b, double value);              /* float-dtype scalar */
gc_val gc_const_like(gc_builder *b, gc_val x, double value); /* x's type */
/* Element = its index along `axis` (negative allowed). */
gc_val gc_iota(gc_builder *b, gc_dtype dt, int rank, const int64_t *dims, int axis);
gc_val gc_arange(gc_builder *b, int64_t n, gc_dtype dt);   /* [0, 1, .., n-1] */
/* Uniform [0,1) of the given shape, a pure function of seed, the counter's
 * value (i64[]) and the element index. */
gc_val gc_rand_uniform(gc_builder *b, gc_val counter, uint64_t seed, gc_dtype dt, int rank,
                       const int64_t *dims);

/* ---- results ----------------------------------------------------------- */

void gc_output(gc_builder *b, const char *name, gc_val v);
/* `update "full_param_name" = v`; v must have the param's type. */
void gc_update(gc_builder *b, const char *full_param_name, gc_val v);

/* ---- elementwise (numpy broadcasting; operands of one dtype) ----------- */

gc_val gc_neg(gc_builder *b, gc_val x);
gc_val gc_abs(gc_builder *b, gc_val x);
gc_val gc_exp(gc_builder *b, gc_val x);
gc_val gc_log(gc_builder *b, gc_val x);
gc_val gc_sqrt(gc_builder *b, gc_val x);
gc_val gc_rsqrt(gc_builder *b, gc_val x);
gc_val gc_recip(gc_builder *b, gc_val x);
gc_val gc_tanh(gc_builder *b, gc_val x);
gc_val gc_sigmoid(gc_builder *b, gc_val x);
gc_val gc_erf(gc_builder *b, gc_val x);
gc_val gc_sin(gc_builder *b, gc_val x);
gc_val gc_cos(gc_builder *b, gc_val x);
gc_val gc_square(gc_builder *b, gc_val x);
/* Conversion (x itself when already of dtype dt; GC_FLOATX allowed). */
gc_val gc_cast(gc_builder *b, gc_val x, gc_dtype dt);

gc_val gc_add(gc_builder *b, gc_val x, gc_val y);
gc_val gc_sub(gc_builder *b, gc_val x, gc_val y);
gc_val gc_mul(gc_builder *b, gc_val x, gc_val y);
gc_val gc_div(gc_builder *b, gc_val x, gc_val y);
gc_val gc_max(gc_builder *b, gc_val x, gc_val y);
gc_val gc_min(gc_builder *b, gc_val x, gc_val y);
gc_val gc_pow(gc_builder *b, gc_val x, gc_val y);
/* With a number: the constant takes x's type. */
gc_val gc_addf(gc_builder *b, gc_val x, double c);
gc_val gc_subf(gc_builder *b, gc_val x, double c);
gc_val gc_mulf(gc_builder *b, gc_val x, double c);
gc_val gc_divf(gc_builder *b, gc_val x, double c);
gc_val gc_maxf(gc_builder *b, gc_val x, double c);
gc_val gc_minf(gc_builder *b, gc_val x, double c);
gc_val gc_powf(gc_builder *b, gc_val x, double c);

/* Comparisons, result bool. */
gc_val gc_lt(gc_builder *b, gc_val x, gc_val y);
gc_val gc_le(gc_builder *b, gc_val x, gc_val y);
gc_val gc_gt(gc_builder *b, gc_val x, gc_val y);
gc_val gc_ge(gc_builder *b, gc_val x, gc_val y);
gc_val gc_eq(gc_builder *b, gc_val x, gc_val y);
gc_val gc_ne(gc_builder *b, gc_val x, gc_val y);
/* cond ? x : y, all three broadcast together; cond is bool. */
gc_val gc_where(gc_builder *b, gc_val cond, gc_val x, gc_val y);

/* ---- layout ------------------------------------------------------------ */

/* Broadcast x to the given shape (numpy rule). */
gc_val gc_broadcast_to(gc_builder *b, gc_val x, int rank, const int64_t *dims);
/* One dim may be -1 (inferred). */
gc_val gc_reshape(gc_builder *b, gc_val x, int rank, const int64_t *dims);
gc_val gc_unsqueeze(gc_builder *b, gc_val x, int axis);  /* insert a 1 (axis in -rank-1..rank) */
gc_val gc_flatten(gc_builder *b, gc_val x);               /* to one dim */
/* out.shape[i] = x.shape[perm[i]]; negative entries allowed. */
gc_val gc_transpose(gc_builder *b, gc_val x, int n, const int *perm);
gc_val gc_swap_axes(gc_builder *b, gc_val x, int a1, int a2);   /* torch .transpose(a1, a2) */
/* x[..., start:stop:step, ...] along `axis`, python-style: negative start/stop
 * count from the end and are clamped to the dim. */
gc_val gc_slice(gc_builder *b, gc_val x, int axis, int64_t start, int64_t stop, int64_t step);
gc_val gc_concat(gc_builder *b, int n, const gc_val *xs, int axis);
/* lo/hi: one entry per axis of x. */
gc_val gc_pad(gc_builder *b, gc_val x, const int64_t *lo, const int64_t *hi, double value);

/* ---- reductions (negative axes allowed) -------------------------------- */

gc_val gc_sum(gc_builder *b, gc_val x, int n, const int *axes, bool keepdims);
gc_val gc_mean(gc_builder *b, gc_val x, int n, const int *axes, bool keepdims);
gc_val gc_max_reduce(gc_builder *b, gc_val x, int n, const int *axes, bool keepdims);
gc_val gc_sum_all(gc_builder *b, gc_val x);    /* to a scalar */
gc_val gc_mean_all(gc_builder *b, gc_val x);   /* to a scalar */
gc_val gc_argmax(gc_builder *b, gc_val x, int axis, bool keepdims);  /* i64 */

/* ---- contraction and indexing ------------------------------------------ */

/* numpy.matmul: 1-D operands are promoted (and the added dim removed), batch
 * dims broadcast. */
gc_val gc_matmul(gc_builder *b, gc_val x, gc_val y);
/* matmul of x (or x's last two dims swapped) with y (or y swapped); rank >= 2. */
gc_val gc_matmul_t(gc_builder *b, gc_val x, gc_val y, bool transpose_x, bool transpose_y);
/* Rows of `table` along axis 0 picked by integer `idx`: idx.shape + table.shape[1:]. */
gc_val gc_gather(gc_builder *b, gc_val table, gc_val idx);
gc_val gc_gather_axis(gc_builder *b, gc_val table, gc_val idx, int axis);

#endif
