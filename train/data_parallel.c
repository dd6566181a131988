/* Data parallel training and gradient accumulation (see train.h): the step
 * split into a gradient program run once per micro-batch and a step
 * program (all_reduce in the graph, clipping, AdamW) run once per step. */
#include "backends/runtime/comm.h"
#include "frontend/optim.h"
#include "models/model_io.h"
#include "train/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define LOSS_SCALE "loss_scale"

static const gc_comm *comm_of(const gc_train_opts *o) { return o->comm ? o->comm : gc_comm_local(); }
int gc_train_rank(const gc_train_opts *o) { return comm_of(o)->rank; }
int gc_train_world(const gc_train_opts *o) { return comm_of(o)->size; }
bool gc_train_is_split(const gc_train_opts *o) { return o->grad_accum > 1 || gc_train_world(o) > 1; }

static int accum(const gc_train_opts *o) { return o->grad_accum > 1 ? o->grad_accum : 1; }

/* ---- graphs and programs ---------------------------------------------------- */

int gc_train_dp_build(gc_train_run *r, gc_diag *d) {
  gc_model_shape shape = {.batch = r->opts->batch, .seq = r->opts->seq, .dec_seq = r->spec.dec_seq,
                          .training = true};
  r->grad_graph = gc_model_build(&r->config, &shape, &r->inits, d);
  if (!r->grad_graph || gc_optim_append_grads(r->grad_graph, "loss", LOSS_SCALE, d)) return -1;
  r->optim.bucket_bytes = (int64_t)r->opts->bucket_mb << 20;
  if (gc_train_zero(r->opts)) r->optim.shard = gc_train_rank(r->opts), r->optim.shards = gc_train_world(r->opts);
  r->train_graph = gc_optim_step_graph(r->grad_graph, &r->optim, d);
  return r->train_graph ? 0 : -1;
}

int gc_train_dp_compile(gc_train_run *r, const gc_compile_options *o, gc_diag *d) {
  gc_compile_options go = *o;
  go.pass_options = NULL;   /* the step's stats line is enough */
  r->grad_prog = gc_compile(r->grad_graph, &go, d);
  return r->grad_prog ? gc_program_share_params(r->grad_prog, r->train_prog, d) : -1;
}

/* ---- checks ------------------------------------------------------------------ */

int gc_train_dp_check_data(const gc_train_run *r, gc_diag *d) {
  int window = gc_batch_window_len(&r->spec, d);
  if (window < 0) return -1;
  int64_t windows = (int64_t)r->opts->batch * accum(r->opts) * gc_train_world(r->opts);
  if ((uint64_t)(windows * window) <= (uint64_t)r->train.n) return 0;
  return gc_diag_set(d, "--batch %d x --grad-accum %d x %d ranks = %lld windows of %d tokens need %lld tokens; the "
                     "training split has %zu", r->opts->batch, accum(r->opts), gc_train_world(r->opts),
                     (long long)windows, window, (long long)(windows * window), r->train.n);
}

/* What every rank must agree on, hashed. */
static int64_t settings_hash(const gc_train_run *r) {
  const gc_train_opts *o = r->opts;
  char text[8192];
  snprintf(text, sizeof text, "model=%s set=%s seed=%llu batch=%d seq=%d dec_seq=%d grad_accum=%d data=%zu steps=%ld zero=%d bucket_mb=%d",
           o->model ? o->model : "", o->set ? o->set : "", (unsigned long long)o->seed, o->batch, o->seq, o->dec_seq,
           accum(o), r->n_ids, o->steps, o->zero, o->bucket_mb);
  return (int64_t)XXH3_64bits(text, strlen(text));
}

int gc_train_dp_agree(gc_train_run *r, int status, gc_diag *d) {
  const gc_comm *c = comm_of(r->opts);
  if (c->size == 1) return status;
  int64_t mine[2] = {status != GC_TRAIN_OK, status == GC_TRAIN_OK ? settings_hash(r) : 0};
  int64_t *all = calloc(2 * (size_t)c->size, sizeof *all);
  gc_diag e = {0};
  if (!all || gc_comm_all_gather(c, mine, all, 2, GC_I64, &e)) {
    free(all);
    return gc_diag_set(d, "rank %d: cannot reach the other ranks: %s", c->rank, all ? e.msg : "out of memory"),
           GC_TRAIN_BAD_INPUT;
  }
  int failed = -1, differs = -1;
  for (int k = 0; k < c->size; k++) {
    if (all[2 * k] && failed < 0) failed = k;
    if (!all[2 * k] && !all[0] && all[2 * k + 1] != all[1] && differs < 0) differs = k;
  }
  free(all);
  if (status != GC_TRAIN_OK) return status;   /* its own message stands */
  if (failed >= 0) return gc_diag_set(d, "rank %d failed its checks", failed), GC_TRAIN_BAD_INPUT;
  if (differs >= 0)
    return gc_diag_set(d, "rank %d's settings (model, --set, --seed, --batch, --seq, --grad-accum, --steps, "
                       "--zero, --bucket-mb, data size) differ from rank 0's", differs), GC_TRAIN_BAD_INPUT;
  return GC_TRAIN_OK;
}

/* ---- one step ---------------------------------------------------------------- */

/* Rows [row, row + rows) of every tensor of `from` (axis 0 is the batch). */
static int slice_rows(const gc_tensor_map *from, int64_t row, int64_t rows, gc_tensor_map *out, gc_diag *d) {
  for (int i = 0; i < from->n; i++) {
    const gc_tensor *t = from->tensors[i];
    gc_type ty = t->type;
    if (ty.rank < 1 || ty.dims[0] < row + rows) return gc_diag_set(d, "batch tensor %s has too few rows", from->names[i]);
    ty.dims[0] = rows;
    gc_tensor *s = gc_tensor_new(&ty);
    if (!s) return gc_diag_set(d, "out of memory");
    size_t bytes = gc_tensor_bytes(s);
    memcpy(s->data, (const char *)t->data + (size_t)row * (bytes / (size_t)rows), bytes);
    gc_tensor_map_put(out, from->names[i], s);
  }
  return 0;
}

/* to += from, element by element (float dtypes). */
static void add_into(gc_tensor *to, const gc_tensor *from) {
  int64_t n = gc_tensor_numel(to);
  if (to->type.dtype == GC_F32)
    for (int64_t i = 0; i < n; i++) ((float *)to->data)[i] += ((const float *)from->data)[i];
  else
    for (int64_t i = 0; i < n; i++) ((double *)to->data)[i] += ((const double *)from->data)[i];
}

/* Micro-batch k's gradients into the step program's inputs: the first
 * copied, the next ones added in order. */
static int accumulate(gc_train_run *r, int k, gc_diag *d) {
  const gc_graph *g = gc_program_graph(r->grad_prog);
  for (int i = 0; i < g->n_outputs; i++) {
    if (strncmp(g->outputs[i].name, "grad.", 5) != 0) continue;
    const gc_tensor *from = gc_program_output(r->grad_prog, g->outputs[i].name);
    gc_tensor *to = gc_program_input(r->train_prog, g->outputs[i].name);
    if (!from || !to || gc_tensor_bytes(from) != gc_tensor_bytes(to))
      return gc_diag_set(d, "the step graph has no input %s", g->outputs[i].name);
    if (k == 0) memcpy(to->data, from->data, gc_tensor_bytes(to));
    else add_into(to, from);
  }
  return 0;
}

/* Micro-batch `micro` of the global batch through the gradient program;
 * its loss times its count into *weighted. */
static int micro_step(gc_train_run *r, gc_tensor_map *micro, double count, double total, double *weighted,
                      gc_diag *d) {
  const gc_graph *g = gc_program_graph(r->grad_prog);
  int loss = gc_graph_find_output(g, "loss");
  gc_type st = gc_type_make(g->nodes[loss]->type.dtype, 0, NULL);
  gc_tensor *scale = gc_tensor_new(&st);
  if (!scale) return gc_diag_set(d, "out of memory");
  gc_tensor_store(scale, 0, total > 0 ? count / total : 0);
  gc_tensor_map_put(micro, LOSS_SCALE, scale);
  int rc = gc_model_complete_inputs(&r->config, g, micro, NULL, d);
  if (rc == 0) rc = gc_program_feed(r->grad_prog, micro, d);
  if (rc == 0) rc = gc_program_run(r->grad_prog, d);
  if (rc == 0) *weighted += gc_tensor_load(gc_program_output(r->grad_prog, "loss"), 0) * count;
  return rc;
}

int gc_train_dp_step(gc_train_run *r, double *loss, double *lr, gc_diag *d) {
  const gc_comm *c = comm_of(r->opts);
  int K = accum(r->opts), B = r->opts->batch;
  gc_batch_spec global = r->spec;
  global.batch = B * K * c->size;
  gc_tensor_map batch, *micro = calloc((size_t)K, sizeof *micro);
  gc_tensor_map_init(&batch);
  if (!micro) return gc_diag_set(d, "out of memory");
  int rc = gc_batch_sample(&global, r->train, &r->rng, &batch, d);
  double local[2] = {0, 0}, global_sums[2];   /* predicted tokens, loss x tokens */
  double *counts = calloc((size_t)K, sizeof *counts);
  if (!counts) rc = gc_diag_set(d, "out of memory");
  for (int k = 0; rc == 0 && k < K; k++) {
    gc_tensor_map_init(&micro[k]);
    rc = slice_rows(&batch, (int64_t)(c->rank * K + k) * B, B, &micro[k], d);
    if (rc == 0) local[0] += counts[k] = gc_train_counted_tokens(r, &micro[k]);
  }
  gc_diag e = {0};
  if (rc == 0 && gc_comm_all_reduce(c, local, global_sums, 1, GC_F64, false, &e))
    rc = gc_diag_set(d, "counting the tokens over the ranks: %s", e.msg);
  for (int k = 0; rc == 0 && k < K; k++) {
    rc = micro_step(r, &micro[k], counts[k], global_sums[0], &local[1], d);
    if (rc == 0) rc = accumulate(r, k, d);
  }
  if (rc == 0 && gc_comm_all_reduce(c, &local[1], &global_sums[1], 1, GC_F64, false, &e))
    rc = gc_diag_set(d, "summing the loss over the ranks: %s", e.msg);
  if (rc == 0) rc = gc_program_run(r->train_prog, d);
  if (rc == 0) {
    const gc_tensor *l = gc_program_output(r->train_prog, "lr");
    *lr = l ? gc_tensor_load(l, 0) : NAN;
    *loss = global_sums[0] > 0 ? global_sums[1] / global_sums[0] : NAN;
  }
  for (int k = 0; k < K; k++) gc_tensor_map_clear(&micro[k]);
  gc_tensor_map_clear(&batch);
  free(micro), free(counts);
  return rc;
}

/* ---- the params' hash per rank ----------------------------------------------- */

uint64_t gc_train_params_hash(const gc_train_run *r) {
  XXH3_state_t *s = XXH3_createState();
  if (!s) return 0;
  XXH3_64bits_reset(s);
  const gc_graph *g = gc_program_graph(r->train_prog);
  for (int i = 0; i < g->n_nodes; i++) {
    /* the model's params: with --zero 1 each rank holds its own block of the moments */
    if (g->nodes[i]->op != GC_OP_PARAM || strncmp(g->nodes[i]->attrs.name.name, "opt.", 4) == 0) continue;
    const gc_tensor *t = gc_program_param(r->train_prog, g->nodes[i]->attrs.name.name);
    if (t) XXH3_64bits_update(s, t->data, gc_tensor_bytes(t));
  }
  uint64_t h = XXH3_64bits_digest(s);
  XXH3_freeState(s);
  return h;
}

int gc_train_dp_log_hashes(gc_train_run *r, gc_diag *d) {
  const gc_comm *c = comm_of(r->opts);
  int64_t mine = (int64_t)gc_train_params_hash(r), *all = calloc((size_t)c->size, sizeof *all);
  gc_diag e = {0};
  if (!all || gc_comm_all_gather(c, &mine, all, 1, GC_I64, &e)) {
    free(all);
    return gc_diag_set(d, "gathering the params' hashes: %s", all ? e.msg : "out of memory");
  }
  int rc = 0;
  if (c->rank == 0) {
    char path[4200];
    snprintf(path, sizeof path, "%s/params_hash.csv", r->out);
    FILE *f = fopen(path, "a");
    if (!f) rc = gc_diag_set(d, "cannot append to %s", path);
    if (f) fprintf(f, "%ld", r->step);
    for (int k = 0; f && k < c->size; k++) fprintf(f, ",%016llx", (unsigned long long)all[k]);
    if (f) fprintf(f, "\n");
    if (f && fclose(f)) rc = gc_diag_set(d, "cannot write %s", path);
  }
  free(all);
  return rc;
}
