/* gc-train's output directory: checking it before anything is created,
 * making it, clearing what a crash left in it, and the run's settings.txt. */
#include "train/train.h"
#include "train/runlog.h"
#include "io/file.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* An existing directory we can write into. */
static int usable_dir(const char *path, const char *dir, gc_diag *d) {
  struct stat st;
  if (stat(path, &st) || !S_ISDIR(st.st_mode)) return gc_diag_set(d, "output %s is not a directory", dir);
  if (access(path, W_OK | X_OK)) return gc_diag_set(d, "output directory %s is not writable", dir);
  return 0;
}

int gc_train_check_out(const char *dir, gc_diag *d) {
  char path[4096];
  struct stat st;
  if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path || !*dir)
    return gc_diag_set(d, "cannot create output directory '%.200s': bad name", dir);
  if (stat(path, &st) == 0) return usable_dir(path, dir, d);
  /* The nearest ancestor that exists must be a directory we can write. */
  while (errno == ENOENT) {
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') path[--n] = 0;
    char *slash = strrchr(path, '/');
    if (strcmp(path, ".") == 0 || strcmp(path, "/") == 0) break;
    if (!slash) snprintf(path, sizeof path, ".");
    else slash[slash == path] = 0;
    if (stat(path, &st) == 0) {
      if (S_ISDIR(st.st_mode) && access(path, W_OK | X_OK) == 0) return 0;
      errno = S_ISDIR(st.st_mode) ? EACCES : ENOTDIR;
      break;
    }
  }
  return gc_diag_set(d, "cannot create output directory %s: %s", dir, strerror(errno));
}

int gc_train_make_out(const char *dir, gc_diag *d) {
  char path[4096];
  snprintf(path, sizeof path, "%s", dir);
  for (char *p = path + 1; *p; p++)
    if (*p == '/') {
      *p = 0;
      mkdir(path, 0777);
      *p = '/';
    }
  if (mkdir(path, 0777) && errno != EEXIST)
    return gc_diag_set(d, "cannot create output directory %s: %s", dir, strerror(errno));
  return usable_dir(path, dir, d);
}

/* The files gc-train writes into OUT (each through a temp file). */
static const char *const out_files[] = {"model.safetensors", "model.next.safetensors", "state.safetensors",
                                        "tokenizer.json",   "settings.txt",           "loss.csv",
                                        "loss.svg",         "config.json",            "generation_config.json",
                                        "tokenizer_config.json"};

/* Whether `base` is one of out_files. */
static bool out_file(const char *base, size_t len, void *arg) {
  (void)arg;
  for (size_t i = 0; i < sizeof out_files / sizeof *out_files; i++)
    if (strlen(out_files[i]) == len && memcmp(base, out_files[i], len) == 0) return true;
  return false;
}

int gc_train_remove_temps(const char *dir) { return gc_remove_dead_temps(dir, out_file, NULL); }

/* The first of gc-train's files (but the next model, written before the
 * state) that OUT holds, or NULL. */
static const char *run_file_in(const char *dir) {
  char path[4200];
  for (size_t i = 0; i < sizeof out_files / sizeof *out_files; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, out_files[i]);
    if (access(path, F_OK) == 0) return out_files[i];
  }
  return NULL;
}

int gc_train_check_fresh(const gc_train_run *r, gc_diag *d) {
  const char *found = r->opts->force ? NULL : run_file_in(r->out);
  if (found)
    return gc_diag_set(d, "%s already holds a run (%s): --resume continues it, --force starts it over (replacing it)",
                       r->out, found);
  return 0;
}

int gc_train_check_resume(const gc_train_run *r, gc_diag *d) {
  static const char *const checkpoint[] = {"state.safetensors", "model.safetensors", "model.next.safetensors"};
  char path[4200];
  for (int i = 0; i < 3; i++) {
    snprintf(path, sizeof path, "%s/%s", r->out, checkpoint[i]);
    if (access(path, F_OK) == 0) return 0;
  }
  if (run_file_in(r->out))
    return gc_diag_set(d,
                       "no checkpoint in %s yet: the run stopped before its first save (one is made every "
                       "--save-every steps); start it over with --force instead of --resume",
                       r->out);
  return gc_diag_set(d, "no checkpoint to use in %s: no run was saved there (train without --resume first)", r->out);
}

void gc_train_clear_run(const gc_train_run *r) {
  static const char *const old[] = {"model.safetensors", "model.next.safetensors", "state.safetensors", "loss.csv",
                                    "loss.svg"};
  char path[4200];
  for (int i = 0; i < 5; i++) {
    snprintf(path, sizeof path, "%s/%s", r->out, old[i]);
    unlink(path);
  }
}

int gc_train_save_settings(const gc_train_run *r, gc_diag *d) {
  char path[4200];
  snprintf(path, sizeof path, "%s/settings.txt", r->out);
  const char *set = r->opts->set ? r->opts->set : "";
  return gc_write_file_atomic(path, set, strlen(set), d);
}

char *gc_train_saved_settings(const gc_train_opts *o) {
  char path[4200];
  size_t len;
  if (o->out) snprintf(path, sizeof path, "%s/settings.txt", o->out);
  else snprintf(path, sizeof path, "runs/%s/settings.txt", o->model);
  char *set = access(path, R_OK) == 0 ? gc_read_file(path, &len, NULL) : NULL;
  while (set && len > 0 && isspace((unsigned char)set[len - 1])) set[--len] = 0;   /* an editor's newline */
  return set;
}

int gc_train_check_log(const gc_train_run *r, gc_diag *d) {
  char path[4200];
  gc_runlog_row *rows = NULL;
  size_t n;
  snprintf(path, sizeof path, "%s/loss.csv", r->out);
  if (access(path, F_OK) != 0) return 0;
  int rc = gc_runlog_read_csv(path, &rows, &n, d);
  free(rows);
  return rc;
}
