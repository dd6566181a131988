/* gc-train's loop: a batch, one run of the training graph (forward, loss,
 * backward, optimizer update), a progress line and a loss.csv row per step;
 * validation, the plot and checkpoints at their intervals. */
#include "train/train.h"
#include "train/progress.h"
#include "train/runlog.h"
#include "models/model_io.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Runs program p on `inputs` (completed with HF defaults), returning the
 * scalar outputs loss and (when lr is non-NULL) lr. */
static int run_program(gc_train_run *r, gc_program *p, gc_tensor_map *inputs, double *loss, double *lr,
                       gc_diag *d) {
  int rc = gc_model_complete_inputs(&r->config, gc_program_graph(p), inputs, NULL, d);
  if (rc == 0) rc = gc_program_feed(p, inputs, d);
  if (rc == 0) rc = gc_program_run(p, d);
  if (rc == 0) {
    const gc_tensor *l = gc_program_output(p, "loss"), *s = gc_program_output(p, "lr");
    *loss = l ? gc_tensor_load(l, 0) : NAN;
    if (lr) *lr = s ? gc_tensor_load(s, 0) : NAN;
  }
  return rc;
}

double gc_train_counted_tokens(const gc_train_run *r, const gc_tensor_map *batch) {
  const gc_tensor *labels = gc_tensor_map_get(batch, "labels");
  int64_t row = labels && labels->type.rank == 2 ? labels->type.dims[1] : 1;
  bool causal = r->spec.task == GC_TASK_CAUSAL;
  double n = 0;
  for (int64_t i = 0; labels && i < gc_tensor_numel(labels); i++)
    n += gc_tensor_load(labels, i) != GC_IGNORE_INDEX && !(causal && i % row == 0);
  return n;
}

/* Bytes the predicted tokens of causal validation batch k decode to. */
static double batch_bytes(const gc_train_run *r, int k, int n_batches) {
  double bytes = 0;
  for (int b = 0; b < r->spec.batch; b++) {
    int64_t start = gc_batch_eval_start(&r->spec, r->val, k, n_batches, b, NULL);
    for (int64_t i = start + 1; start >= 0 && i < start + r->spec.seq; i++) {
      size_t len = 0;
      gc_tokenizer_token_bytes(r->tok, r->val.ids[i], &len);
      bytes += (double)len;
    }
  }
  return bytes;
}

int gc_train_evaluate(gc_train_run *r, bool whole, double *loss, double *nats, double *bytes, int *used, int *all,
                      gc_diag *d) {
  int n = gc_batch_eval_count(&r->spec, r->val, d);
  if (n < 0) return -1;
  *all = n;
  /* A forward costs about a third of a training step: 3 * eval_every / 10
   * batches keep validation near a tenth of the time. */
  long cap = 3 * r->opts->eval_every / 10;
  if (cap < 1) cap = 1;
  if (!whole && n > cap) n = (int)cap;
  *used = n;
  double tokens = 0;
  *nats = *bytes = 0;
  for (int k = 0; k < n; k++) {
    gc_tensor_map batch;
    gc_tensor_map_init(&batch);
    double l = 0;
    int rc = gc_batch_eval(&r->spec, r->val, k, n, &batch, d);
    double count = rc == 0 ? gc_train_counted_tokens(r, &batch) : 0;
    if (rc == 0) rc = run_program(r, r->eval_prog, &batch, &l, NULL, d);
    gc_tensor_map_clear(&batch);
    if (rc) return -1;
    *nats += l * count;
    tokens += count;
    if (r->spec.task == GC_TASK_CAUSAL && !r->loss) *bytes += batch_bytes(r, k, n);
  }
  *loss = tokens > 0 ? *nats / tokens : NAN;
  return 0;
}

/* The last validation of a run covers the whole split; the periodic ones
 * an even sample of it, and say so. */
static int validate(gc_train_run *r, gc_progress *p, bool whole, double *val_loss, gc_diag *d) {
  double nats, bytes;
  int used, all;
  char line[320];
  if (gc_train_evaluate(r, whole, val_loss, &nats, &bytes, &used, &all, d)) return -1;
  gc_format_val(line, sizeof line, r->step, *val_loss, nats, bytes);
  size_t n = strlen(line);
  if (used < all) snprintf(line + n, sizeof line - n, "  (%d of %d batches)", used, all);
  else snprintf(line + n, sizeof line - n, "  (the whole split)");
  gc_progress_message(p, line);
  return 0;
}

/* One training step on a fresh batch. */
static int train_step(gc_train_run *r, double *loss, double *lr, gc_diag *d) {
  if (gc_train_is_split(r->opts)) {
    int rc = gc_train_dp_step(r, loss, lr, d);
    if (rc == 0) r->step++;
    return rc == 0 ? gc_train_dp_log_hashes(r, d) : rc;
  }
  gc_tensor_map batch;
  gc_tensor_map_init(&batch);
  int rc = gc_batch_sample(&r->spec, r->train, &r->rng, &batch, d);
  if (rc == 0) rc = run_program(r, r->train_prog, &batch, loss, lr, d);
  gc_tensor_map_clear(&batch);
  if (rc == 0) r->step++;
  return rc;
}

/* gc_train_save's status: 0, -1, or -2 (something is not finite). */
static int checkpoint(gc_train_run *r, gc_progress *p, gc_diag *d) {
  int rc = gc_train_save(r, d);
  if (rc) return rc;
  char line[4400];
  snprintf(line, sizeof line, "saved %s/model.safetensors at step %ld", r->out, r->step);
  gc_progress_message(p, line);
  return 0;
}

/* A step whose loss is NaN or infinite ends the run: what it updated is
 * not saved. */
static int diverged(const gc_train_run *r, double loss, gc_diag *d) {
  char kept[4300] = "nothing was saved";
  if (r->saved_step >= 0) snprintf(kept, sizeof kept, "the checkpoint in %s stays at step %ld", r->out, r->saved_step);
  gc_diag_set(d, "step %ld: the training loss is %s; stopped without saving (%s; a lower --lr may help)", r->step,
              isnan(loss) ? "nan" : "infinite", kept);
  return -2;
}

/* --check-nans stopped the step at a NaN (the report in d): as for a loss
 * that is not finite, nothing it updated is saved. */
static int stopped_at_nan(const gc_train_run *r, gc_diag *d) {
  size_t n = strlen(d->msg);
  if (r->saved_step >= 0)
    snprintf(d->msg + n, sizeof d->msg - n, "\nstopped without saving (the checkpoint in %s stays at step %ld)", r->out,
             r->saved_step);
  else
    snprintf(d->msg + n, sizeof d->msg - n, "\nstopped without saving");
  return -2;
}

/* Whether the step just taken ends with a checkpoint: rank 0 saves then,
 * and with --zero 1 the other ranks must take part in the same gather. */
static bool save_due(const gc_train_run *r) { return r->step % r->opts->save_every == 0 || r->step == r->opts->steps; }

static int loop(gc_train_run *r, gc_runlog *log, gc_progress *p, volatile sig_atomic_t *stop, gc_diag *d) {
  const gc_train_opts *o = r->opts;
  double tokens = (double)o->batch * o->seq * (o->grad_accum > 1 ? o->grad_accum : 1) * gc_train_world(o);
  while (r->step < o->steps) {
    int failed;
    bool stopping = gc_train_stop_agreed(r, *stop, d, &failed);
    if (failed) return -1;
    if (stopping) {
      gc_progress_message(p, "interrupted: saving a checkpoint");
      int rc = checkpoint(r, p, d);
      return rc ? rc : 1;
    }
    double t0 = gc_now_seconds(), loss, lr, val_loss = NAN;
    gc_program_set_runs(r->train_prog, r->step);   /* a NaN report's step number */
    if (train_step(r, &loss, &lr, d)) return gc_program_stopped_at_nan(r->train_prog) ? stopped_at_nan(r, d) : -1;
    if (!isfinite(loss)) return diverged(r, loss, d);
    double t1 = gc_now_seconds();
    gc_runlog_row row = {r->step, loss, NAN, lr, tokens / (t1 - t0)};
    gc_progress_update(p, r->step, loss, lr, row.tokens_per_s, t1);
    bool eval = r->step % o->eval_every == 0 || r->step == o->steps;
    if (eval && validate(r, p, r->step == o->steps, &val_loss, d)) return -1;
    row.val_loss = val_loss;
    if (gc_runlog_append(log, &row, d) || (eval && gc_runlog_plot(log, d))) return -1;
    int rc = save_due(r) ? checkpoint(r, p, d) : 0;
    if (rc) return rc;
  }
  return 0;
}

/* A rank other than 0: the same steps (every one takes part in each
 * step's collectives), printing and writing nothing; the loss is the
 * global one, so every rank stops on the same step. */
static int follower_loop(gc_train_run *r, volatile sig_atomic_t *stop, gc_diag *d) {
  const gc_train_opts *o = r->opts;
  bool zero = gc_train_zero(o);   /* rank 0's saves gather every rank's blocks */
  while (r->step < o->steps) {
    int failed;
    bool stopping = gc_train_stop_agreed(r, *stop, d, &failed);
    if (failed) return -1;
    if (stopping) return zero && gc_train_zero_gather(r, false, d) ? -1 : 1;
    double loss, lr;
    if (train_step(r, &loss, &lr, d)) return -1;
    if (!isfinite(loss)) return diverged(r, loss, d);
    if (zero && save_due(r) && gc_train_zero_gather(r, false, d)) return -1;
  }
  return 0;
}

int gc_train_loop(gc_train_run *r, volatile sig_atomic_t *stop, gc_diag *d) {
  if (gc_train_rank(r->opts) != 0) return follower_loop(r, stop, d);
  gc_runlog log;
  if (gc_runlog_open(&log, r->out, r->opts->resume ? r->step : -1, d)) return -1;
  gc_progress p;
  gc_progress_start(&p, stdout, r->step, r->opts->steps, gc_now_seconds());
  int rc = loop(r, &log, &p, stop, d);
  gc_progress_finish(&p);
  gc_runlog_close(&log);
  return rc;
}
