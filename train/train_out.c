/* gc-train's output directory: checking it before anything is created,
 * making it, clearing what a crash left in it, and the run's settings.txt. */
#include "train/train.h"
#include "train/runlog.h"
#include "io/file.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
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

/* The PID of a temp file "FILE.tmp.PID" of one of out_files, or 0. */
static long temp_pid(const char *name) {
  for (size_t i = 0; i < sizeof out_files / sizeof *out_files; i++) {
    size_t n = strlen(out_files[i]);
    if (strncmp(name, out_files[i], n) != 0 || strncmp(name + n, ".tmp.", 5) != 0) continue;
    const char *digits = name + n + 5;
    char *end;
    long pid = strtol(digits, &end, 10);
    return *digits >= '0' && *digits <= '9' && !*end && pid > 0 ? pid : 0;
  }
  return 0;
}

int gc_train_remove_temps(const char *dir) {
  DIR *dp = opendir(dir);
  int removed = 0;
  if (!dp) return 0;
  char path[4400];
  for (struct dirent *e; (e = readdir(dp));) {
    long pid = temp_pid(e->d_name);
    /* a live process (another run into OUT) may still rename its file */
    if (!pid || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno == EPERM) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    removed += unlink(path) == 0;
  }
  closedir(dp);
  return removed;
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
  return access(path, R_OK) == 0 ? gc_read_file(path, &len, NULL) : NULL;
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
