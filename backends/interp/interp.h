/* backends/interp/interp.h — the reference executor: every op of IR.md, every
 * dtype each op accepts, on contiguous row-major buffers.  Clarity over speed;
 * it is the oracle every other backend and pass is tested against. */
#ifndef GC_INTERP_H
#define GC_INTERP_H

#include "ir/tensor.h"

/* Run `g` once.
 *   params   every `param` by name; read, and after the run each `update "P"`
 *            replaces P's tensor in this map (so the next run sees it).
 *   inputs   every `input` by name.
 *   outputs  receives every `output` by name (the caller owns and clears it).
 * A missing or mistyped tensor, or a gather/scatter index out of range, is an
 * error naming it; nothing is written to `params` or `outputs` then. */
int gc_interp_run(const gc_graph *g, gc_tensor_map *params, const gc_tensor_map *inputs,
                  gc_tensor_map *outputs, gc_diag *d);

/* Evaluate every node; on success values[i] is node i's value (the caller
 * frees them with gc_interp_values_free; param/input slots hold copies).
 * values has g->n_nodes slots; on error every slot is NULL. */
int gc_interp_eval(const gc_graph *g, const gc_tensor_map *params, const gc_tensor_map *inputs,
                   gc_tensor **values, gc_diag *d);
void gc_interp_values_free(const gc_graph *g, gc_tensor **values);

/* The counter-based generator rand_uniform uses (Philox4x32-10): the value of
 * element `index` for `seed` and counter `ctr`, in [0,1). */
double gc_rand_uniform_f64(uint64_t seed, int64_t ctr, int64_t index);
float gc_rand_uniform_f32(uint64_t seed, int64_t ctr, int64_t index);

/* True when every op of ir/ops.def has an interpreter kernel (the kernel
 * table is generated from ops.def, so a missing kernel also fails to link). */
bool gc_interp_covers_all_ops(void);

#endif
