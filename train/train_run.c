/* gc-train's whole runs (see train.h): check every input, then write; the
 * loop with SIGINT/SIGTERM stopping it at a step boundary; sampling; the
 * list of presets. */
#include "train/train.h"
#include "train/progress.h"
#include "io/file.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- checking, then writing ------------------------------------------------ */

/* Everything up to the first write: any failure here is bad input. */
static int check_inputs(gc_train_run *r, gc_diag *d) {
  char data_path[4096];
  if (gc_train_configure(r, d) || gc_train_check_out(r->out, d) ||
      (r->opts->resume ? gc_train_check_resume(r, d) : gc_train_check_fresh(r, d)) ||
      gc_train_data_path(r->opts, data_path, sizeof data_path, d))
    return -1;
  size_t len = 0;
  gc_diag read_error = {0};
  char *text = gc_read_file(data_path, &len, &read_error);
  if (!text) return gc_diag_set(d, "cannot read data file %s", read_error.msg);
  int rc = len == 0 ? gc_diag_set(d, "data file %s is empty", data_path) : 0;
  if (rc == 0) rc = gc_train_setup_data(r, text, len, d);
  free(text);
  if (rc == 0 && gc_train_is_split(r->opts)) rc = gc_train_dp_check_data(r, d);
  if (rc == 0 && r->opts->resume) rc = gc_train_check_log(r, d);
  if (rc == 0) rc = gc_train_build_graphs(r, d);
  if (rc == 0) rc = gc_train_init_params(r, d);
  if (rc == 0 && r->opts->resume && r->step >= r->opts->steps)
    rc = gc_diag_set(d, "the checkpoint in %s is at step %ld, %s --steps %ld: nothing to train (a larger --steps "
                     "continues it)", r->out, r->step, r->step > r->opts->steps ? "already past" : "already at",
                     r->opts->steps);
  return rc;
}

/* OUT, cleared of what a crash left; a fresh run's tokenizer and settings. */
static int start_outputs(gc_train_run *r, gc_diag *d) {
  if (gc_train_make_out(r->out, d)) return GC_TRAIN_BAD_INPUT;
  gc_train_remove_temps(r->out);
  if (!r->opts->resume) gc_train_clear_run(r);   /* with --force: the old run goes */
  /* tokenizer.json with the other Hugging Face files (train_hf.c) */
  if (!r->opts->resume && (gc_train_save_settings(r, d) || gc_train_save_hf_files(r, d)))
    return GC_TRAIN_FAILED;
  return GC_TRAIN_OK;
}

/* ---- the loop, and the signals that stop it --------------------------------- */

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t stop_grace;   /* seconds a rank of several waits for its step */
static void on_stop_signal(int sig) {
  if (stop_grace && gc_train_peers_report_dead()) _exit(GC_TRAIN_FAILED);   /* its collectives would hang */
  stop_signal = sig;
  if (stop_grace) alarm((unsigned)stop_grace);
}

/* Under mpirun a stop signal reaches every rank, which then ends its step
 * and saves; when a rank has died (mpirun stops the others with SIGTERM),
 * the step's collectives never finish: the rank gives up after the grace
 * period, so the job ends within 30 s and the last checkpoint stands. */
enum { STOP_GRACE_SECONDS = 20 };
static void on_stop_timeout(int sig) {
  (void)sig;
  if (gc_train_peers_report_dead()) _exit(GC_TRAIN_FAILED);
  static const char msg[] = "gc-train: error: stopped: another rank did not finish the step within 20 s (it died?); "
                            "the last checkpoint stands, --resume continues it\n";
  if (write(2, msg, sizeof msg - 1) < 0) _exit(GC_TRAIN_FAILED);
  _exit(GC_TRAIN_FAILED);
}

/* Points SIGINT and SIGTERM at on_stop_signal, keeping the old handlers in
 * old[2]; with `restore`, puts old back. */
static void catch_stop_signals(bool restore, struct sigaction old[2]) {
  static const int signals[2] = {SIGINT, SIGTERM};
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int i = 0; i < 2; i++) sigaction(signals[i], restore ? &old[i] : &sa, restore ? NULL : &old[i]);
}

static int run_loop(gc_train_run *r, gc_diag *d) {
  struct sigaction old[2];
  stop_signal = 0;
  stop_grace = gc_train_world(r->opts) > 1 ? STOP_GRACE_SECONDS : 0;
  if (stop_grace) signal(SIGALRM, on_stop_timeout);
  if (r->opts->catch_signals) catch_stop_signals(false, old);
  int rc = gc_train_loop(r, &stop_signal, d);
  if (r->opts->catch_signals) catch_stop_signals(true, old);
  if (rc == 1) {
    gc_diag_set(d, "%s at step %ld; --resume continues", stop_signal == SIGTERM ? "terminated" : "interrupted",
                r->step);
    return GC_TRAIN_STOPPED + (stop_signal ? stop_signal : SIGINT);
  }
  return rc == 0 ? GC_TRAIN_OK : rc == -2 ? GC_TRAIN_BAD_INPUT : GC_TRAIN_FAILED;
}

/* A causal model's sample after training. */
static int sample_after(gc_train_run *r, gc_diag *d) {
  const gc_train_opts *o = r->opts;
  if (r->config.family->task != GC_MODEL_CAUSAL_LM || o->max_new <= 0) return GC_TRAIN_OK;
  printf("--- sample (temperature %g, top-p %g) ---\n", o->temperature, o->top_p);
  return gc_train_sample(r, o->prompt, o->max_new, o->temperature, o->top_p, o->seed, d) ? GC_TRAIN_FAILED
                                                                                          : GC_TRAIN_OK;
}

/* opts, with the run's saved --set when it is to be reused (*saved frees it). */
static gc_train_opts with_saved_settings(const gc_train_opts *opts, char **saved) {
  gc_train_opts o = *opts;
  *saved = (o.resume || o.generate || o.eval) && !o.set ? gc_train_saved_settings(&o) : NULL;
  if (*saved && **saved) o.set = *saved;
  return o;
}

int gc_train_main(const gc_train_opts *opts, gc_diag *d) {
  char *saved;
  gc_train_opts o = with_saved_settings(opts, &saved);
  gc_train_run r = {.opts = &o};
  gc_tensor_map_init(&r.params);
  int rc = check_inputs(&r, d) ? GC_TRAIN_BAD_INPUT : GC_TRAIN_OK;
  rc = gc_train_dp_agree(&r, rc, d);   /* every rank passed, with the same settings */
  if (rc == GC_TRAIN_OK && o.comm && gc_train_peers_init(o.comm, d)) rc = GC_TRAIN_FAILED;
  if (rc == GC_TRAIN_OK && gc_train_compile(&r, d)) rc = GC_TRAIN_BAD_INPUT;
  bool root = gc_train_rank(&o) == 0;
  if (rc == GC_TRAIN_OK && root) rc = start_outputs(&r, d);
  if (rc == GC_TRAIN_OK && !root) {
    rc = run_loop(&r, d);
  } else if (rc == GC_TRAIN_OK) {
    char count[64];
    gc_format_count((double)gc_graph_param_count(r.eval_graph), count, sizeof count);
    printf("training %s: %s params, %zu tokens (%zu train, %zu val), vocab %d, out %s\n", o.model, count, r.n_ids,
           r.train.n, r.val.n, gc_tokenizer_vocab_size(r.tok), r.out);
    printf("optimizer state: %lld bytes per rank%s\n", (long long)gc_train_optimizer_bytes(&r),
           gc_train_zero(&o) ? " (--zero 1: a block of the moments on each rank)" : "");
    fflush(stdout);
    rc = run_loop(&r, d);
  }
  if (rc == GC_TRAIN_OK && root) rc = sample_after(&r, d);
  gc_train_run_free(&r);
  free(saved);
  return rc;
}

int gc_train_generate_main(const gc_train_opts *opts, gc_diag *d) {
  char *saved;
  gc_train_opts o = with_saved_settings(opts, &saved);
  gc_train_run r = {.opts = &o};
  gc_tensor_map_init(&r.params);
  int rc = gc_train_configure(&r, d) || gc_train_sample(&r, o.prompt, o.max_new, o.temperature, o.top_p, o.seed, d)
               ? GC_TRAIN_BAD_INPUT
               : GC_TRAIN_OK;
  gc_train_run_free(&r);
  free(saved);
  return rc;
}

int gc_train_eval_main(const gc_train_opts *opts, gc_diag *d) {
  char *saved;
  gc_train_opts o = with_saved_settings(opts, &saved);
  gc_train_run r = {.opts = &o};
  gc_tensor_map_init(&r.params);
  double nats = 0, bytes = 0;
  size_t n = 0;
  int rc = gc_train_configure(&r, d) || gc_train_eval_file(&r, &nats, &n, &bytes, d) ? GC_TRAIN_BAD_INPUT
                                                                                      : GC_TRAIN_OK;
  if (rc == GC_TRAIN_OK && n == 0) rc = GC_TRAIN_BAD_INPUT, gc_diag_set(d, "--eval: no token to predict");
  if (rc == GC_TRAIN_OK) {
    double loss = nats / (double)n;
    printf("eval: loss=%.6f ppl=%.6g", loss, exp(loss));
    if (bytes > 0) printf(" bpb=%.6f", nats / log(2.0) / bytes);
    printf(" tokens=%zu\n", n);
  }
  gc_train_run_free(&r);
  free(saved);
  return rc;
}

/* ---- the presets ------------------------------------------------------------ */

int64_t gc_train_preset_params(const char *name, gc_diag *d) {
  gc_model_config c = {0};
  gc_model_shape shape = {.batch = 1, .seq = 8, .dec_seq = 8};
  gc_graph *g = gc_model_config_init(&c, name, d) ? NULL : gc_model_build(&c, &shape, NULL, d);
  int64_t n = g ? gc_graph_param_count(g) : -1;
  gc_graph_free(g);
  if (c.family) gc_model_config_free(&c);
  return n;
}

void gc_train_list_models(FILE *out) {
  int n;
  const gc_model_family *const *fams = gc_model_families(&n);
  for (int i = 0; i < n; i++)
    for (const gc_model_preset *p = fams[i]->presets; p && p->name; p++) {
      gc_diag d = {0};
      int64_t params = gc_train_preset_params(p->name, &d);
      char count[64] = "?";
      if (params >= 0) gc_format_count((double)params, count, sizeof count);
      fprintf(out, "%-14s %13s params  %s\n", p->name, count, p->description);
    }
}
