/* frontend/optim.h — the optimizer step as graph nodes, so one training step
 * is one graph: forward, loss, backward, clipping, schedule, update.
 *
 * State lives in params updated with `update`:
 *   opt.step          i64[]  steps taken so far (0 at the start)
 *   opt.m.<param>     f32/f64 like the param (AdamW first moment; SGD momentum buffer)
 *   opt.v.<param>     AdamW second moment
 * all zeros at the start (gc_init_params fills params without a rule with
 * zeros).  The learning rate of step s (s = opt.step + 1, 1-based) is
 *   warmup:   lr * s / warmup                          for s <= warmup
 *   cosine:   min_lr + (lr - min_lr) * 0.5 * (1 + cos(pi * p)),
 *             p = min(1, (s - warmup) / (decay_steps - warmup))
 *   constant: lr after warmup.
 * Clipping by global norm (clip > 0): every gradient is scaled by
 * min(1, clip / (norm + 1e-6)), norm = sqrt(sum of all squared gradients).
 * AdamW (PyTorch's torch.optim.AdamW): m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *   p -= lr * (m / (1-b1^s)) / (sqrt(v / (1-b2^s)) + eps) + lr * wd * p
 *   (decoupled weight decay applied to the old p, on params of rank >= 2 only).
 * SGD with momentum (PyTorch's): buf = momentum * buf + g (buf = g at s = 1);
 *   p -= lr * buf (+ weight decay added to g for rank >= 2 params).
 */
#ifndef GC_OPTIM_H
#define GC_OPTIM_H

#include "ir/ir.h"

typedef enum { GC_OPTIM_ADAMW, GC_OPTIM_SGD } gc_optim_kind;
typedef enum { GC_SCHEDULE_COSINE, GC_SCHEDULE_CONSTANT } gc_schedule_kind;

typedef struct {
  gc_optim_kind kind;          /* key "optimizer": adamw | sgd */
  double lr;                   /* peak learning rate */
  double beta1, beta2, eps;    /* AdamW */
  double momentum;             /* SGD */
  double weight_decay;
  int64_t warmup;              /* steps of linear warmup */
  int64_t decay_steps;         /* cosine reaches min_lr at this step */
  double min_lr;
  double clip;                 /* global-norm clipping; 0 turns it off */
  gc_schedule_kind schedule;   /* key "schedule": cosine | constant */
  /* ZeRO-1 (gc_optim_step_graph only): with shards > 1 each param's update
   * and optimizer state cover block `shard` of its elements (flattened,
   * zero-padded to shards equal blocks); the updated blocks are gathered
   * (all_gather) into the whole param.  0 or 1: whole params. */
  int shard, shards;
  /* gc_optim_step_graph: the gradients' all_reduce in buckets of
   * consecutive params of at most this many bytes (0: one per param). */
  int64_t bucket_bytes;
} gc_optim_config;

/* lr 1e-3, betas 0.9/0.95, eps 1e-8, momentum 0.9, weight_decay 0.1,
 * warmup 100, decay_steps 2000, min_lr 1e-4, clip 1.0, cosine, AdamW. */
void gc_optim_defaults(gc_optim_config *c);

/* Set one key (lr, beta1, beta2, eps, momentum, weight_decay, warmup,
 * decay_steps, min_lr, clip, schedule, optimizer).  Returns 1 when `key` is
 * not an optimizer key (nothing set), 0 when set, -1 on a bad value. */
int gc_optim_config_set(gc_optim_config *c, const char *key, const char *value, gc_diag *d);

/* Append the training step to g, which has a scalar float output `loss`:
 * gradients of loss with respect to every float param not named opt.*,
 * clipping, the schedule, and an `update` of every such param and of the
 * optimizer state (created here as params).  Adds outputs "lr" (the step's
 * learning rate, f32/f64 scalar) and "grad_norm" (before clipping).
 * If g already has a param "opt.step" (e.g. as a dropout counter) it is
 * reused.  0, or -1 with a message. */
int gc_optim_append(gc_graph *g, const char *loss, const gc_optim_config *c, gc_diag *d);

/* The same step split in two graphs, for gradient accumulation and data
 * parallel training (frontend/optim_split.c): a gradient graph run once
 * per micro-batch, and a step graph run once per optimizer step.
 *
 * gc_optim_append_grads adds to g (scalar float output `loss`) an input
 * `scale` (a scalar of the loss's dtype) and, for every float param not
 * named opt.* that the loss reaches, an output "grad.<param>": the gradient
 * of loss * scale.  (A micro-batch's share of the global mean: its loss
 * times its count of predicted tokens over the global count.)
 *
 * gc_optim_step_graph: a new graph with every param of `grads` (a graph
 * gc_optim_append_grads made), an input "grad.<param>" per gradient output
 * of it, summed over the ranks by `all_reduce`s (the identity on one
 * process; in buckets of c->bucket_bytes), then what gc_optim_append appends after the backward: clipping,
 * schedule, the updates of params and optimizer state, outputs lr and
 * grad_norm.  Its params are those the single graph of gc_optim_append
 * has, so checkpoints serve both (with c->shards > 1 the optimizer
 * state params hold this rank's block: gc_optim_shard_len).  NULL +
 * message. */
int gc_optim_append_grads(gc_graph *g, const char *loss, const char *scale, gc_diag *d);
gc_graph *gc_optim_step_graph(const gc_graph *grads, const gc_optim_config *c, gc_diag *d);

/* The length of one rank's block of a param of `numel` elements over
 * `shards` ranks: ceil(numel / shards). */
int64_t gc_optim_shard_len(int64_t numel, int shards);

#endif
