/* gc-train's checkpoints: OUT/model.safetensors holds the model's params by
 * Hugging Face name; OUT/state.safetensors the optimizer state (opt.*), the
 * data generator's four words (data.rng, i64[4], the u64 bits), the steps
 * done (train.step, i64[]), the XXH3 of the model file it goes with
 * (train.model_xxh3, i64[]) and its own checksum (train.state_xxh3, i64[]:
 * the XXH3 of every other tensor's name, dtype, shape and data, in name
 * order; io/safetensors.h has no way to write "__metadata__" yet, so the
 * checksum is a tensor).  A state file whose checksum does not match is
 * refused before anything is read from it.
 *
 * Nothing that is not finite is saved: a param or optimizer moment that is
 * NaN or infinite makes gc_train_save refuse (-2), leaving the last good
 * checkpoint as it was.
 *
 * The pair changes together.  A save writes the model to model.next, then
 * the state (the commit point: atomic, naming model.next's hash), then
 * renames model.next over the model.  A load that finds the state naming
 * model.next finishes that rename; a model that is not the one the state
 * names is a mismatched checkpoint.  A crash at any point leaves either the
 * old pair or the new one.  A model.safetensors that is a symlink stays one:
 * model.next is written through it (its target replaced atomically). */
#include "train/train.h"
#include "io/safetensors.h"
#include "models/model_io.h"
#include "io/file.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Puts the file `next` in place of `path`: renamed over it; or, when path
 * is a symlink (the user keeps the weights elsewhere), written through it
 * (its target replaced atomically in its own directory, the link kept) and
 * removed.  0, or -1 with errno. */
static int move_into_place(const char *next, const char *path, const char *dir) {
  struct stat st;
  if (lstat(path, &st) != 0 || !S_ISLNK(st.st_mode)) return rename(next, path) != 0 || sync_dir(dir) != 0 ? -1 : 0;
  size_t len;
  const void *data = gc_map_file(next, &len, NULL);
  if (!data) return -1;
  gc_diag d = {0};
  int rc = gc_write_file_atomic(path, data, len, &d);
  int err = errno;
  gc_unmap_file(data, len);
  if (rc == 0) rc = unlink(next), err = errno;
  errno = err;
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

static int by_name(const void *a, const void *b) {
  return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

/* XXH3 of every tensor of m but train.state_xxh3, in name order: its name
 * (with the NUL), dtype, rank, dims, then its data. */
static int state_checksum(const gc_tensor_map *m, uint64_t *h) {
  char ***order = malloc((size_t)(m->n ? m->n : 1) * sizeof *order);
  XXH3_state_t *st = XXH3_createState();
  if (!order || !st || XXH3_64bits_reset(st) != XXH_OK) {
    free(order);
    XXH3_freeState(st);
    return -1;
  }
  for (int i = 0; i < m->n; i++) order[i] = &m->names[i];
  qsort(order, (size_t)m->n, sizeof *order, by_name);
  for (int k = 0; k < m->n; k++) {
    int i = (int)(order[k] - m->names);
    const gc_tensor *t = m->tensors[i];
    if (strcmp(m->names[i], "train.state_xxh3") == 0) continue;
    int32_t head[2] = {(int32_t)t->type.dtype, (int32_t)t->type.rank};
    XXH3_64bits_update(st, m->names[i], strlen(m->names[i]) + 1);
    XXH3_64bits_update(st, head, sizeof head);
    XXH3_64bits_update(st, t->type.dims, (size_t)t->type.rank * sizeof t->type.dims[0]);
    XXH3_64bits_update(st, t->data, gc_tensor_bytes(t));
  }
  *h = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  free(order);
  return 0;
}

/* The first float tensor of m holding a NaN or an infinity, or NULL. */
static const char *not_finite(const gc_tensor_map *m) {
  for (int i = 0; i < m->n; i++) {
    const gc_tensor *t = m->tensors[i];
    int64_t n = gc_tensor_numel(t);
    if (t->type.dtype == GC_F32) {
      for (int64_t k = 0; k < n; k++)
        if (!isfinite(((const float *)t->data)[k])) return m->names[i];
    } else if (t->type.dtype == GC_F64) {
      for (int64_t k = 0; k < n; k++)
        if (!isfinite(((const double *)t->data)[k])) return m->names[i];
    }
  }
  return NULL;
}

static gc_tensor *i64_tensor(int rank, int64_t n) {
  int64_t dims[1] = {n};
  gc_type t = gc_type_make(GC_I64, rank, dims);
  return gc_tensor_new(&t);
}

/* The state file: opt.* from params, the generator, the step, the model's
 * hash h and the checksum of all that. */
static int save_state(gc_train_run *r, uint64_t h, gc_diag *d) {
  gc_tensor_map view;
  gc_tensor *rng = i64_tensor(1, 4), *step = i64_tensor(0, 1), *hash = i64_tensor(0, 1), *sum = i64_tensor(0, 1);
  uint64_t checksum;
  char path[4200];
  int rc = -1;
  if (!rng || !step || !hash || !sum || view_of(&r->params, true, &view)) {
    gc_diag_set(d, "out of memory writing the checkpoint");
    goto done;
  }
  memcpy(rng->data, r->rng.s, sizeof r->rng.s);
  *(int64_t *)step->data = r->step;
  memcpy(hash->data, &h, sizeof h);
  view.names[view.n] = "data.rng", view.tensors[view.n++] = rng;
  view.names[view.n] = "train.step", view.tensors[view.n++] = step;
  view.names[view.n] = "train.model_xxh3", view.tensors[view.n++] = hash;
  if (state_checksum(&view, &checksum)) {
    gc_diag_set(d, "out of memory writing the checkpoint");
  } else {
    memcpy(sum->data, &checksum, sizeof checksum);
    view.names[view.n] = "train.state_xxh3", view.tensors[view.n++] = sum;
    snprintf(path, sizeof path, "%s/state.safetensors", r->out);
    rc = gc_safetensors_write(path, &view, d);
  }
  free_view(&view);
done:
  gc_tensor_free(rng);
  gc_tensor_free(step);
  gc_tensor_free(hash);
  gc_tensor_free(sum);
  return rc;
}

int gc_train_save(gc_train_run *r, gc_diag *d) {
  char path[4200], next[4200];
  gc_tensor_map view;
  uint64_t h;
  snprintf(path, sizeof path, "%s/model.safetensors", r->out);
  snprintf(next, sizeof next, "%s/model.next.safetensors", r->out);
  if (r->train_prog && gc_program_get_params(r->train_prog, &r->params, d)) return -1;
  if (r->train_prog && gc_train_zero(r->opts) && gc_train_zero_gather(r, true, d)) return -1;   /* the moments whole */
  const char *bad = not_finite(&r->params);
  if (bad) {
    gc_diag_set(d, "step %ld: \"%s\" is not finite; not saving it over the checkpoint in %s", r->step, bad, r->out);
    return -2;
  }
  if (view_of(&r->params, false, &view)) return gc_diag_set(d, "out of memory writing the checkpoint");
  int rc = gc_safetensors_write(next, &view, d);
  free_view(&view);
  if (rc) return -1;
  if (!file_hash(next, &h))
    return gc_diag_set(d, "%s: cannot read back the checkpoint: %s", next, strerror(errno));
  if (save_state(r, h, d)) return -1;
  if (move_into_place(next, path, r->out) != 0)
    return gc_diag_set(d, "%s: cannot rename over %s: %s", next, path, strerror(errno));
  r->saved_step = r->step;
  return 0;
}

/* The model file must be the one the state was saved with; finish a save
 * that stopped between writing the state and renaming model.next. */
static int check_pair(const gc_train_run *r, uint64_t want, gc_diag *d) {
  char path[4200], next[4200];
  uint64_t h;
  snprintf(path, sizeof path, "%s/model.safetensors", r->out);
  snprintf(next, sizeof next, "%s/model.next.safetensors", r->out);
  if (file_hash(next, &h) && h == want && move_into_place(next, path, r->out) != 0)
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

/* Takes train.state_xxh3 out of the state file's map and checks it. */
static int check_state_checksum(gc_tensor_map *file, const char *path, gc_diag *d) {
  gc_tensor *sum = gc_tensor_map_take(file, "train.state_xxh3");
  uint64_t want = 0, got;
  int rc = 0;
  if (!sum || sum->type.dtype != GC_I64 || sum->type.rank != 0)
    rc = gc_diag_set(d, "%s: corrupt checkpoint: no i64[] tensor \"train.state_xxh3\" (its checksum)", path);
  else if (memcpy(&want, sum->data, sizeof want), state_checksum(file, &got))
    rc = gc_diag_set(d, "out of memory reading %s", path);
  else if (got != want)
    rc = gc_diag_set(d, "%s: corrupt checkpoint: its contents do not match its checksum (train.state_xxh3)", path);
  gc_tensor_free(sum);
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
    if (rc == 0) rc = check_state_checksum(&file, path, d);
    if (rc == 0) rc = restore_state(r, &file, path, &model_hash, d);
    if (rc == 0) rc = check_pair(r, model_hash, d);
  }
  snprintf(path, sizeof path, "%s/model.safetensors", r->out);
  if (rc == 0) rc = gc_safetensors_read(path, &file, d);
  if (rc == 0 && with_state && gc_train_zero(r->opts)) rc = gc_train_zero_scatter(r, &file, d);   /* this rank's block */
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
