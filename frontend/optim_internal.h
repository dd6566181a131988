/* frontend/optim_internal.h — the pieces of the optimizer step shared by the
 * optim files (not for users).  All values are emitted with the builder that
 * wraps the training graph. */
#ifndef GC_OPTIM_INTERNAL_H
#define GC_OPTIM_INTERNAL_H

#include "frontend/builder.h"
#include "frontend/optim.h"

/* Per-step scalars of the loss's float dtype, shared by every param update. */
typedef struct {
  gc_val lr;    /* the scheduled learning rate */
  gc_val bc1;   /* 1 - beta1^s (AdamW) */
  gc_val bc2;   /* 1 - beta2^s (AdamW) */
} gc_optim_step_vals;

/* The learning rate of step s (float scalar, 1-based) under c's schedule. */
gc_val gc_optim_schedule_lr(gc_builder *b, const gc_optim_config *c, gc_val s);

/* The global norm of the n gradients (a scalar of the builder's float dtype);
 * with c->clip > 0 every grads[i] is replaced by its clipped version. */
gc_val gc_optim_clip(gc_builder *b, const gc_optim_config *c, int n, gc_val *grads);

/* Emit the update of param `name` (value p, gradient g) and of its state. */
void gc_optim_update_param(gc_builder *b, const gc_optim_config *c, const gc_optim_step_vals *sv,
                           const char *name, gc_val p, gc_val g);

/* The float params of g not named opt.*, in node order, into out; their
 * count.  gc_optim_unreached: autodiff's zero const for a param the loss
 * does not reach (such a param is left alone). */
int gc_optim_collect_params(const gc_graph *g, int *out);
bool gc_optim_unreached(const gc_graph *g, int grad);

/* Schedule, clipping and the updates of params[i] (node ids) with gradient
 * grads[i], and the outputs lr and grad_norm. */
void gc_optim_emit_step(gc_builder *b, const gc_optim_config *c, int n, const int *params, const int *grads);

/* Hand the graph back from a builder that wraps it (never freeing it): 0,
 * or -1 with the builder's error or the verifier's. */
int gc_optim_release_graph(gc_builder *b, gc_diag *d);

#endif
