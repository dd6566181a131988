/* gc-train's checkpoints: OUT/model.safetensors holds the model's params by
 * Hugging Face name; OUT/state.safetensors the optimizer state (opt.*), the
 * data generator's four words (data.rng, i64[4], the u64 bits) and the
 * steps done (train.step, i64[]).  Each file is written atomically. */
#include "tools/train.h"
#include "frontend/safetensors.h"
#include "models/model_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A map that borrows the params whose name does (state) or does not (model)
 * start with "opt.".  Free with free_view (the tensors stay with params). */
static int view_of(const gc_tensor_map *params, bool state, gc_tensor_map *view) {
  gc_tensor_map_init(view);
  view->names = malloc((size_t)(params->n + 2) * sizeof *view->names);
  view->tensors = malloc((size_t)(params->n + 2) * sizeof *view->tensors);
  if (!view->names || !view->tensors) return -1;
  view->cap = params->n + 2;
  for (int i = 0; i < params->n; i++)
    if ((strncmp(params->names[i], "opt.", 4) == 0) == state) {
      view->names[view->n] = params->names[i];
      view->tensors[view->n++] = params->tensors[i];
    }
  return 0;
}

static void free_view(gc_tensor_map *view) {
  free(view->names);
  free(view->tensors);
}

static gc_tensor *i64_tensor(int rank, int64_t n) {
  int64_t dims[1] = {n};
  gc_type t = gc_type_make(GC_I64, rank, dims);
  return gc_tensor_new(&t);
}

int gc_train_save(const gc_train_run *r, gc_diag *d) {
  char path[4200];
  gc_tensor_map view;
  gc_tensor *rng = i64_tensor(1, 4), *step = i64_tensor(0, 1);
  int rc = -1;
  if (!rng || !step || view_of(&r->params, true, &view)) {
    gc_diag_set(d, "out of memory writing the checkpoint");
    goto done;
  }
  memcpy(rng->data, r->rng.s, sizeof r->rng.s);
  *(int64_t *)step->data = r->step;
  view.names[view.n] = "data.rng", view.tensors[view.n++] = rng;
  view.names[view.n] = "train.step", view.tensors[view.n++] = step;
  snprintf(path, sizeof path, "%s/state.safetensors", r->out);
  rc = gc_safetensors_write(path, &view, d);
  free_view(&view);
  if (rc == 0) {
    rc = -1;
    if (view_of(&r->params, false, &view)) {
      gc_diag_set(d, "out of memory writing the checkpoint");
      goto done;
    }
    snprintf(path, sizeof path, "%s/model.safetensors", r->out);
    rc = gc_safetensors_write(path, &view, d);
    free_view(&view);
  }
done:
  gc_tensor_free(rng);
  gc_tensor_free(step);
  return rc;
}

/* Takes the bookkeeping tensors out of the state file's map. */
static int restore_state(gc_train_run *r, gc_tensor_map *file, const char *path, gc_diag *d) {
  gc_tensor *rng = gc_tensor_map_take(file, "data.rng"), *step = gc_tensor_map_take(file, "train.step");
  int rc = 0;
  if (!rng || rng->type.dtype != GC_I64 || rng->type.rank != 1 || rng->type.dims[0] != 4)
    rc = gc_diag_set(d, "%s: corrupt checkpoint: no i64[4] tensor \"data.rng\"", path);
  else if (!step || step->type.dtype != GC_I64 || step->type.rank != 0 || *(int64_t *)step->data < 0)
    rc = gc_diag_set(d, "%s: corrupt checkpoint: no i64[] tensor \"train.step\"", path);
  else {
    memcpy(r->rng.s, rng->data, sizeof r->rng.s);
    r->step = (long)*(int64_t *)step->data;
    if (!(r->rng.s[0] | r->rng.s[1] | r->rng.s[2] | r->rng.s[3]))
      rc = gc_diag_set(d, "%s: corrupt checkpoint: \"data.rng\" is all zeros", path);
  }
  gc_tensor_free(rng);
  gc_tensor_free(step);
  return rc;
}

int gc_train_load(gc_train_run *r, const gc_graph *g, bool with_state, gc_diag *d) {
  char path[4200], msg[1024];
  gc_tensor_map file;
  gc_tensor_map_init(&file);
  snprintf(path, sizeof path, "%s/model.safetensors", r->out);
  int rc = gc_safetensors_read(path, &file, d);
  if (rc == 0 && with_state) {
    snprintf(path, sizeof path, "%s/state.safetensors", r->out);
    rc = gc_safetensors_read(path, &file, d);
    if (rc == 0) rc = restore_state(r, &file, path, d);
  }
  if (rc == 0 && gc_model_load_params(&r->config, g, &file, &r->params, NULL, 0, NULL, d)) {
    snprintf(msg, sizeof msg, "checkpoint in %.300s does not match %.100s: %.580s", r->out, r->opts->model, d->msg);
    rc = gc_diag_set(d, "%s", msg);
  }
  gc_tensor_map_clear(&file);
  if (rc == 0 && with_state) {
    const gc_tensor *s = gc_tensor_map_get(&r->params, "opt.step");
    if (s && (long)gc_tensor_load(s, 0) != r->step)
      rc = gc_diag_set(d, "%s/state.safetensors: corrupt checkpoint: opt.step %lld but train.step %ld", r->out,
                       (long long)gc_tensor_load(s, 0), r->step);
  }
  return rc;
}
