/* gc-train: train a model from the registry on a text file, with progress,
 * validation, loss curves, checkpoints and sampling (tools/train_*.c). */
#include "tools/cli.h"
#include "train/train.h"
#include "train/progress.h"
#include "train/runlog.h"
#include "io/file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const prog = "gc-train";

static const char usage[] =
    "usage: gc-train MODEL [options]         train MODEL (a preset, see --list-models)\n"
    "       gc-train MODEL --generate [...]  sample from the checkpoint in --out\n"
    "       gc-train --list-models           every preset with its parameter count\n"
    "\n"
    "options:\n"
    "  --steps N         training steps (default 700)\n"
    "  --batch B         windows per batch (default 8)\n"
    "  --seq T           tokens per window (default 64)\n"
    "  --dec-seq T       decoder length for T5 (default seq/4)\n"
    "  --lr X            peak learning rate, AdamW (default 1e-3)\n"
    "  --warmup N        linear warmup steps, then cosine decay to lr/10 (default 50)\n"
    "  --seed S          seed of the weights, the batches and sampling (default 1234)\n"
    "  --data FILE       training text (default data/tinyshakespeare.txt); 90% train, 10% validation\n"
    "  --eval-every N    validate every N steps (default 100)\n"
    "  --save-every N    checkpoint every N steps (default 100) and at the end\n"
    "  --backend NAME    interp (default) or llvm\n"
    "  --threads N       worker threads (llvm backend)\n"
    "  --out DIR         checkpoint, tokenizer, loss.csv, loss.svg (default runs/MODEL)\n"
    "  --resume          continue from the checkpoint in --out\n"
    "  --set K=V,...     optimizer keys (lr, beta1, beta2, eps, weight_decay, warmup, decay_steps,\n"
    "                    min_lr, clip, schedule=cosine|constant, optimizer=adamw|sgd, momentum),\n"
    "                    then model config keys (Hugging Face names) and dtype=f32|f64\n"
    "  --prompt TEXT     text to continue after training (default \"ROMEO:\")\n"
    "  --generate        only sample from the checkpoint in --out\n"
    "  --max-new N       tokens to generate (default 200)\n"
    "  --temperature T   sampling temperature, 0 is greedy (default 0.8)\n"
    "  --top-p P         nucleus sampling mass (default 0.95)\n"
    "  --help            this text\n"
    "\n"
    "Ctrl-C saves a checkpoint at the end of the current step; --resume continues it.\n"
    "--resume and --generate reuse the run's --set (saved in OUT/settings.txt) unless given one.\n";

typedef enum { LONG_POS, INT_POS, INT_NONNEG, REAL_POS, REAL_NONNEG, UNIT, SEED, TEXT, FLAG } flag_kind;

typedef struct {
  const char *name;
  flag_kind kind;
  size_t offset;
} flag;

#define F(name, kind, field) {name, kind, offsetof(gc_train_opts, field)}
static const flag flags[] = {
    F("steps", LONG_POS, steps),          F("batch", INT_POS, batch),        F("seq", INT_POS, seq),
    F("dec-seq", INT_POS, dec_seq),       F("lr", REAL_POS, lr),             F("warmup", INT_NONNEG, warmup),
    F("seed", SEED, seed),                F("data", TEXT, data),             F("eval-every", LONG_POS, eval_every),
    F("save-every", LONG_POS, save_every), F("backend", TEXT, backend),      F("threads", INT_NONNEG, threads),
    F("out", TEXT, out),                  F("resume", FLAG, resume),         F("prompt", TEXT, prompt),
    F("set", TEXT, set),                  F("generate", FLAG, generate),     F("max-new", INT_NONNEG, max_new),
    F("temperature", REAL_NONNEG, temperature), F("top-p", UNIT, top_p),
};
#undef F

static const char *const kind_text[] = {"a positive integer", "a positive integer", "an integer >= 0",
                                        "a positive number",  "a number >= 0",      "a number in (0, 1]",
                                        "an integer seed",    "a value",            ""};

/* Stores `value` for flag f; -1 when it does not parse. */
static int store(gc_train_opts *o, const flag *f, const char *value) {
  void *slot = (char *)o + f->offset;
  char *end;
  errno = 0;
  if (f->kind == TEXT) return *(const char **)slot = value, 0;
  if (f->kind == SEED) {
    unsigned long long v = strtoull(value, &end, 10);
    if (!*value || *end || errno || value[0] == '-') return -1;
    return *(uint64_t *)slot = v, 0;
  }
  if (f->kind == LONG_POS || f->kind == INT_POS || f->kind == INT_NONNEG) {
    long long v = strtoll(value, &end, 10);
    if (!*value || *end || errno || v < (f->kind == INT_NONNEG ? 0 : 1) || v > 1000000000) return -1;
    if (f->kind == LONG_POS) *(long *)slot = (long)v;
    else if (strcmp(f->name, "warmup") == 0) *(long *)slot = (long)v;
    else *(int *)slot = (int)v;
    return 0;
  }
  double v = strtod(value, &end);
  if (!*value || *end || errno || !isfinite(v) || v < 0 || (v == 0 && f->kind != REAL_NONNEG) ||
      (f->kind == UNIT && v > 1))
    return -1;
  return *(double *)slot = v, 0;
}

/* Parses argv into o; 0, 1 after --help/--list-models were asked for (in
 * *action), or GC_EXIT_USAGE after printing the error. */
static int parse(int argc, char **argv, gc_train_opts *o, const char **action) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "--list-models") == 0) {
      *action = a;
      return 1;
    }
    if (strncmp(a, "--", 2) != 0) {
      if (o->model) return gc_cli_usage_error(prog, "unexpected argument '%s' (the model is '%s')", a, o->model);
      o->model = a;
      continue;
    }
    const char *eq = strchr(a, '=');
    size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
    const flag *f = NULL;
    for (size_t k = 0; k < sizeof flags / sizeof *flags; k++)
      if (strlen(flags[k].name) == len && strncmp(flags[k].name, a + 2, len) == 0) f = &flags[k];
    if (!f) return gc_cli_usage_error(prog, "unknown option '%s'", a);
    if (f->kind == FLAG) {
      if (eq) return gc_cli_usage_error(prog, "--%s takes no value", f->name);
      *(bool *)((char *)o + f->offset) = true;
      continue;
    }
    const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
    if (!value) return gc_cli_usage_error(prog, "--%s needs a value", f->name);
    if (store(o, f, value)) return gc_cli_usage_error(prog, "--%s takes %s, not '%s'", f->name, kind_text[f->kind], value);
  }
  if (!o->model) return gc_cli_usage_error(prog, "no model given (see --list-models)");
  if (strcmp(o->backend, "interp") && strcmp(o->backend, "llvm"))
    return gc_cli_usage_error(prog, "--backend takes interp or llvm, not '%s'", o->backend);
  if (strcmp(o->backend, "llvm") == 0)
    return gc_cli_usage_error(prog, "--backend llvm: the LLVM backend is not built yet; use --backend interp");
  return 0;
}

static int list_models(void) {
  int n;
  const gc_model_family *const *fams = gc_model_families(&n);
  for (int i = 0; i < n; i++)
    for (const gc_model_preset *p = fams[i]->presets; p && p->name; p++) {
      gc_model_config c;
      gc_diag d = {0};
      gc_model_shape shape = {.batch = 1, .seq = 8, .dec_seq = 8};
      gc_graph *g = gc_model_config_init(&c, p->name, &d) ? NULL : gc_model_build(&c, &shape, NULL, &d);
      char count[64] = "?";
      if (g) gc_format_count((double)gc_graph_param_count(g), count, sizeof count);
      printf("%-14s %13s params  %s\n", p->name, count, p->description);
      gc_graph_free(g);
      if (c.family) gc_model_config_free(&c);
    }
  return GC_EXIT_OK;
}

/* mkdir -p DIR, then check that it is a writable directory. */
static int prepare_out(const char *dir, gc_diag *d) {
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
  struct stat st;
  if (stat(path, &st) || !S_ISDIR(st.st_mode)) return gc_diag_set(d, "output %s is not a directory", dir);
  if (access(path, W_OK | X_OK)) return gc_diag_set(d, "output directory %s is not writable", dir);
  return 0;
}

/* OUT/settings.txt keeps the run's --set, so --resume and --generate
 * rebuild the same model without repeating it. */
static int save_settings(const gc_train_run *r, gc_diag *d) {
  char path[4200];
  snprintf(path, sizeof path, "%s/settings.txt", r->out);
  const char *set = r->opts->set ? r->opts->set : "";
  return gc_write_file_atomic(path, set, strlen(set), d);
}

/* The saved --set of OUT (malloc'd, caller frees), or NULL. */
static char *saved_settings(const gc_train_opts *o) {
  char path[4200], err[256];
  size_t len;
  if (o->out) snprintf(path, sizeof path, "%s/settings.txt", o->out);
  else snprintf(path, sizeof path, "runs/%s/settings.txt", o->model);
  return access(path, R_OK) == 0 ? gc_cli_read_file(path, &len, err, sizeof err) : NULL;
}

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) { (void)sig, interrupted = 1; }

/* Everything up to the first write: any failure here is bad input (exit 2). */
static int setup_training(gc_train_run *r, gc_diag *d) {
  char data_path[4096];
  if (gc_train_configure(r, d) || gc_train_data_path(r->opts, data_path, sizeof data_path, d)) return -1;
  char errbuf[1024];
  size_t len = 0;
  char *text = gc_cli_read_file(data_path, &len, errbuf, sizeof errbuf);
  if (!text) return gc_diag_set(d, "cannot read data file %s", errbuf);
  int rc = len == 0 ? gc_diag_set(d, "data file %s is empty", data_path) : 0;
  if (rc == 0) rc = prepare_out(r->out, d);
  if (rc == 0) rc = gc_train_setup_data(r, text, len, d);
  free(text);
  if (rc == 0) rc = gc_train_build_graphs(r, d);
  if (rc == 0) rc = gc_train_init_params(r, d);
  if (rc == 0) rc = gc_train_compile(r, d);
  return rc;
}

static int train(gc_train_run *r) {
  gc_diag d = {0};
  if (setup_training(r, &d)) return fprintf(stderr, "%s: error: %s\n", prog, d.msg), GC_EXIT_USAGE;
  char path[4200];
  snprintf(path, sizeof path, "%s/tokenizer.gcbpe", r->out);
  if (!r->opts->resume && (gc_tokenizer_save(r->tok, path, &d) || save_settings(r, &d)))
    return fprintf(stderr, "%s: error: %s\n", prog, d.msg), GC_EXIT_ERROR;
  printf("%s: %s, %lld params, %zu tokens (%zu train, %zu val), vocab %d, out %s\n", prog, r->opts->model,
         (long long)gc_graph_param_count(r->eval_graph), r->n_ids, r->train.n, r->val.n,
         gc_tokenizer_vocab_size(r->tok), r->out);
  signal(SIGINT, on_sigint);
  int rc = gc_train_loop(r, &interrupted, &d);
  if (rc < 0) return fprintf(stderr, "%s: error: %s\n", prog, d.msg), GC_EXIT_ERROR;
  if (rc == 1) return fprintf(stderr, "%s: interrupted at step %ld; --resume continues\n", prog, r->step), 130;
  if (r->config.family->task == GC_MODEL_CAUSAL_LM && r->opts->max_new > 0) {
    printf("--- sample (temperature %g, top-p %g) ---\n", r->opts->temperature, r->opts->top_p);
    if (gc_train_sample(r, r->opts->prompt, r->opts->max_new, r->opts->temperature, r->opts->top_p,
                        r->opts->seed, &d))
      return fprintf(stderr, "%s: error: %s\n", prog, d.msg), GC_EXIT_ERROR;
  }
  return GC_EXIT_OK;
}

static int generate(gc_train_run *r) {
  gc_diag d = {0};
  if (gc_train_configure(r, &d) || gc_train_load_tokenizer(r, &d))
    return fprintf(stderr, "%s: error: %s\n", prog, d.msg), GC_EXIT_USAGE;
  gc_tensor_map_init(&r->params);
  if (gc_train_sample(r, r->opts->prompt, r->opts->max_new, r->opts->temperature, r->opts->top_p, r->opts->seed,
                      &d))
    return fprintf(stderr, "%s: error: %s\n", prog, d.msg), GC_EXIT_USAGE;
  return GC_EXIT_OK;
}

int main(int argc, char **argv) {
  gc_train_opts o;
  gc_train_opts_defaults(&o);
  const char *action = NULL;
  int rc = parse(argc, argv, &o, &action);
  if (rc == 1 && action[2] == 'l') return list_models();
  if (rc == 1) return fputs(usage, stdout), GC_EXIT_OK;
  if (rc) return rc;
  char *saved = (o.resume || o.generate) && !o.set ? saved_settings(&o) : NULL;
  if (saved && *saved) o.set = saved;
  gc_train_run r = {.opts = &o};
  gc_tensor_map_init(&r.params);
  rc = o.generate ? generate(&r) : train(&r);
  gc_train_run_free(&r);
  free(saved);
  return rc;
}
