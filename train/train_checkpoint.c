/* gc-train's checkpoints: OUT/model.safetensors holds the model's params by
 * Hugging Face name; OUT/state.safetensors the optimizer state (opt.*), the
 * data generator's four words (data.rng, i64[4], the u64 bits), the steps
 * done (train.step, i64[]) and the XXH3 of the model file it goes with
 * (train.model_xxh3, i64[]).
 *
 * The pair changes together.  A save writes the model to model.next, then
 * the state (the commit point: atomic, naming model.next's hash), then
 * renames model.next over the model.  A load that finds the state naming
 * model.next finishes that rename; a model that is not the one the state
 * names is a mismatched checkpoint.  A crash at any point leaves either the
 * old pair or the new one. */
#include "train/train.h"
#include "io/safetensors.h"
#include "models/model_io.h"
#include "io/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

/* XXH3 of a whole file; false when it cannot be read. */
static bool file_hash(const char *path, uint64_t *h) {
  size_t len;
  char *data = gc_read_file(path, &len, NULL);
  if (!data) return false;
  *h = XXH3_64bits(data, len);
  free(data);
  return true;
}

static int sync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

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

int gc_train_save(gc_train_run *r, gc_diag *d) {
  char path[4200], next[4200];
  gc_tensor_map view;
  gc_tensor *rng = i64_tensor(1, 4), *step = i64_tensor(0, 1), *hash = i64_tensor(0, 1);
  uint64_t h;
  int rc = -1;
  snprintf(path, sizeof path, "%s/model.safetensors", r->out);
  snprintf(next, sizeof next, "%s/model.next.safetensors", r->out);
  if (r->train_prog && gc_program_get_params(r->train_prog, &r->params, d)) goto done;
  if (!rng || !step || !hash || view_of(&r->params, false, &view)) {
    gc_diag_set(d, "out of memory writing the checkpoint");
    goto done;
  }
  rc = gc_safetensors_write(next, &view, d);
  free_view(&view);
  if (rc) goto done;
  rc = -1;
  if (!file_hash(next, &h)) {
    gc_diag_set(d, "%s: cannot read back the checkpoint: %s", next, strerror(errno));
    goto done;
  }
  if (view_of(&r->params, true, &view)) {
    gc_diag_set(d, "out of memory writing the checkpoint");
    goto done;
  }
  memcpy(rng->data, r->rng.s, sizeof r->rng.s);
  *(int64_t *)step->data = r->step;
  memcpy(hash->data, &h, sizeof h);
  view.names[view.n] = "data.rng", view.tensors[view.n++] = rng;
  view.names[view.n] = "train.step", view.tensors[view.n++] = step;
  view.names[view.n] = "train.model_xxh3", view.tensors[view.n++] = hash;
  char state[4200];
  snprintf(state, sizeof state, "%s/state.safetensors", r->out);
  rc = gc_safetensors_write(state, &view, d);
  free_view(&view);
  if (rc) goto done;
  if (rename(next, path) != 0 || sync_dir(r->out) != 0)
    rc = gc_diag_set(d, "%s: cannot rename over %s: %s", next, path, strerror(errno));
done:
  gc_tensor_free(rng);
  gc_tensor_free(step);
  gc_tensor_free(hash);
  return rc;
}

/* The model file must be the one the state was saved with; finish a save
 * that stopped between writing the state and renaming model.next. */
static int check_pair(const gc_train_run *r, uint64_t want, gc_diag *d) {
  char path[4200], next[4200];
  uint64_t h;
  snprintf(path, sizeof path, "%s/model.safetensors", r->out);
  snprintf(next, sizeof next, "%s/model.next.safetensors", r->out);
  if (file_hash(next, &h) && h == want && rename(next, path) != 0)
    return gc_diag_set(d, "%s: cannot finish the interrupted save: %s", next, strerror(errno));
  if (!file_hash(path, &h) || h != want)
    return gc_diag_set(d, "%s: mismatched checkpoint: it is not the model %s/state.safetensors was saved with",
                       path, r->out);
  return 0;
}

/* Takes the bookkeeping tensors out of the state file's map. */
static int restore_state(gc_train_run *r, gc_tensor_map *file, const char *path, uint64_t *model_hash,
                         gc_diag *d) {
  gc_tensor *rng = gc_tensor_map_take(file, "data.rng"), *step = gc_tensor_map_take(file, "train.step");
  gc_tensor *hash = gc_tensor_map_take(file, "train.model_xxh3");
  int rc = 0;
  if (!hash || hash->type.dtype != GC_I64 || hash->type.rank != 0)
    rc = gc_diag_set(d, "%s: corrupt checkpoint: no i64[] tensor \"train.model_xxh3\"", path);
  else if (!rng || rng->type.dtype != GC_I64 || rng->type.rank != 1 || rng->type.dims[0] != 4)
    rc = gc_diag_set(d, "%s: corrupt checkpoint: no i64[4] tensor \"data.rng\"", path);
  else if (!step || step->type.dtype != GC_I64 || step->type.rank != 0 || *(int64_t *)step->data < 0)
    rc = gc_diag_set(d, "%s: corrupt checkpoint: no i64[] tensor \"train.step\"", path);
  else {
    memcpy(model_hash, hash->data, sizeof *model_hash);
    memcpy(r->rng.s, rng->data, sizeof r->rng.s);
    r->step = (long)*(int64_t *)step->data;
    if (!(r->rng.s[0] | r->rng.s[1] | r->rng.s[2] | r->rng.s[3]))
      rc = gc_diag_set(d, "%s: corrupt checkpoint: \"data.rng\" is all zeros", path);
  }
  gc_tensor_free(rng);
  gc_tensor_free(step);
  gc_tensor_free(hash);
  return rc;
}

int gc_train_load(gc_train_run *r, const gc_graph *g, bool with_state, gc_diag *d) {
  char path[4200], msg[1024];
  gc_tensor_map file;
  gc_tensor_map_init(&file);
  int rc = 0;
  if (with_state) {
    uint64_t model_hash = 0;
    snprintf(path, sizeof path, "%s/state.safetensors", r->out);
    rc = gc_safetensors_read(path, &file, d);
    if (rc == 0) rc = restore_state(r, &file, path, &model_hash, d);
    if (rc == 0) rc = check_pair(r, model_hash, d);
  }
  snprintf(path, sizeof path, "%s/model.safetensors", r->out);
  if (rc == 0) rc = gc_safetensors_read(path, &file, d);
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
