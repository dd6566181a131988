/* gc-train: train a model from the registry on a text file, with progress,
 * validation, loss curves, checkpoints and sampling.  This file is the
 * option table and calls; what a run does is train/ (gc_train_main). */
#include "tools/cli.h"
#include "tools/nan_cli.h"
#include "tools/options.h"
#include "tools/pass_cli.h"
#include "train/train.h"
#include "backends/runtime/comm.h"

#include <stdio.h>
#include <string.h>

static const char *const prog = "gc-train";

typedef struct {
  gc_train_opts train;
  bool list_models;
  gc_cli_pass_flags passes;
} train_flags;

#define F(name, kind, field, value, help) GC_OPT(name, 0, kind, train_flags, train.field, value, help)
static const gc_opt flags[] = {
    F("steps", GC_OPT_LONG_POS, steps, "N", "training steps (default 1500)"),
    F("batch", GC_OPT_INT_POS, batch, "B", "windows per batch (default 16)"),
    F("seq", GC_OPT_INT_POS, seq, "T", "tokens per window (default 128)"),
    F("grad-accum", GC_OPT_INT_POS, grad_accum, "K",
      "micro-batches of --batch windows per optimizer step (default 1);\n"
      "under mpirun -np N each rank takes its share of every global\n"
      "batch of --batch x K x N windows"),
    F("zero", GC_OPT_INT_NONNEG, zero, "0|1",
      "under mpirun -np N: 1 shards the optimizer state (ZeRO-1):\n"
      "each rank keeps and updates 1/N of every param's moments,\n"
      "then the params are gathered; the same weights (default 0)"),
    F("bucket-mb", GC_OPT_INT_NONNEG, bucket_mb, "MB",
      "under mpirun: the gradients summed over the ranks in buckets\n"
      "of consecutive params of at most MB MiB, one all_reduce each\n"
      "(default 0: one per param; buckets are not yet overlapped\n"
      "with the backward, and their concatenation costs time)"),
    F("dec-seq", GC_OPT_INT_POS, dec_seq, "T", "decoder length for T5 (default seq/4)"),
    F("lr", GC_OPT_REAL_POS, lr, "X", "peak learning rate, AdamW (default 3e-3)"),
    F("warmup", GC_OPT_LONG_NONNEG, warmup, "N", "linear warmup steps, then cosine decay to lr/10 (default 100)"),
    F("seed", GC_OPT_SEED, seed, "S", "seed of the weights, the batches and sampling (default 1234)"),
    F("data", GC_OPT_FILE, data, "FILE",
      "training text (default data/tinyshakespeare.txt); 90% train,\n10% validation; FILE.jsonl: chat data,\n"
      "{\"messages\": [{\"role\": ..., \"content\": ...}]} per line,\n"
      "the loss on assistant turns only"),
    F("eval-every", GC_OPT_LONG_POS, eval_every, "N", "validate every N steps (default 100)"),
    F("save-every", GC_OPT_LONG_POS, save_every, "N", "checkpoint every N steps (default 100) and at the end"),
    GC_OPT_BACKEND_ENTRY(train_flags, train.backend),
    GC_OPT_PLUGIN_ENTRY,
    GC_OPT_INCLUDE_TABLE("NaN checks", train_flags, train.nans, gc_cli_nan_options),
    GC_OPT_THREADS_ENTRY(train_flags, train.threads),
    GC_OPT("out", 'o', GC_OPT_FILE, train_flags, train.out, "DIR",
           "checkpoint, tokenizer, loss.csv, loss.svg (default runs/MODEL)"),
    F("resume", GC_OPT_FLAG, resume, NULL, "continue from the checkpoint in --out"),
    F("force", GC_OPT_FLAG, force, NULL,
      "start over in an --out that holds a run (replacing its\ncheckpoint and log); without it such a run is refused"),
    F("set", GC_OPT_STRING, set, "K=V,...",
      "optimizer keys (lr, beta1, beta2, eps, weight_decay, warmup,\n"
      "decay_steps, min_lr, clip, schedule=cosine|constant,\n"
      "optimizer=adamw|sgd, momentum), then model config keys\n"
      "(Hugging Face names) and dtype=f32|f64"),
    F("prompt", GC_OPT_STRING, prompt, "TEXT", "text to continue after training (default \"ROMEO:\")"),
    F("generate", GC_OPT_FLAG, generate, NULL,
      "only sample from the checkpoint in --out (a Hugging Face\n"
      "directory MODEL without --out: from it)"),
    F("chat", GC_OPT_FLAG, chat, NULL,
      "with --generate: the prompt as one user turn, then an\n"
      "assistant turn that stops at <|im_end|>"),
    F("ids", GC_OPT_FLAG, ids, NULL,
      "with --generate: also print the generated token ids as one\n"
      "JSON array on the last line"),
    F("eval", GC_OPT_FLAG, eval, NULL,
      "only evaluate the model (as --generate finds it) on --data:\n"
      "eval: loss=L ppl=P bpb=B tokens=N, windows of --seq tokens\n"
      "(chat data, FILE.jsonl: assistant tokens only, no bpb)"),
    F("max-new", GC_OPT_INT_NONNEG, max_new, "N", "tokens to generate (default 200)"),
    F("temperature", GC_OPT_REAL_NONNEG, temperature, "T", "sampling temperature, 0 is greedy (default 0.8)"),
    F("top-p", GC_OPT_UNIT, top_p, "P", "nucleus sampling mass (default 0.95)"),
    GC_OPT("list-models", 0, GC_OPT_FLAG, train_flags, list_models, NULL,
           "list every preset with its parameter count"),
    GC_OPT_INCLUDE_TABLE("compiler flags", train_flags, passes, gc_cli_pass_options),
    GC_OPT_INCLUDE_TABLE("llvm backend flags", train_flags, passes, gc_cli_llvm_options),
    GC_OPT_TABLE_END,
};
#undef F

static const gc_opt_spec spec = {
    .prog = "gc-train",
    .usage = "gc-train MODEL [options]         train MODEL (a preset, see --list-models, or\n"
             "                                        a Hugging Face model directory: fine-tune it)\n"
             "       gc-train MODEL --generate [...]  sample from the checkpoint in --out\n"
             "       gc-train MODEL --eval --data FILE  the loss, perplexity and bits per byte on FILE\n"
             "       gc-train --list-models           every preset with its parameter count",
    .table = flags,
    .epilogue = "Ctrl-C (SIGINT) or SIGTERM saves a checkpoint at the end of the current step;\n"
                "--resume continues it.  --resume and --generate reuse the run's --set (saved\n"
                "in OUT/settings.txt) unless given one.  A new run into an OUT that holds a\n"
                "run is refused unless --force.\n"
                "\n"
                "Exit status: 0 ok; 1 a write or a run failed; 2 bad flags, data or checkpoint,\n"
                "or a training loss that is not finite (nothing saved after it); 130 (Ctrl-C)\n"
                "or 143 (SIGTERM) after saving.\n",
};

/* 0: go on; 1: done (help printed); GC_EXIT_USAGE after the complaint. */
static int parse(int argc, char **argv, train_flags *f) {
  memset(f, 0, sizeof *f);
  gc_train_opts_defaults(&f->train);
  gc_opt_args args;
  int rc = gc_opt_parse(&spec, f, argc, argv, &args);
  if (rc || f->list_models) return rc;
  if (args.n == 0) return gc_cli_usage_error(prog, "no model given (see --list-models)");
  if (args.n > 1) return gc_cli_usage_error(prog, "unexpected argument '%s' (the model is '%s')", args.args[1], args.args[0]);
  f->train.model = args.args[0];
  if (f->train.force && (f->train.resume || f->train.generate))
    return gc_cli_usage_error(prog, "--force starts a run over; it does not go with --%s",
                              f->train.resume ? "resume" : "generate");
  return 0;
}

int main(int argc, char **argv) {
  train_flags f;
  int rc = parse(argc, argv, &f);
  if (rc) return rc == 1 ? GC_EXIT_OK : rc;
  if (f.list_models) {
    gc_train_list_models(stdout);
    return gc_cli_close_stdout(prog);
  }
  if (f.train.generate && f.train.eval) return gc_cli_usage_error(prog, "--generate and --eval go separately");
  if ((f.train.chat || f.train.ids) && !f.train.generate)
    return gc_cli_usage_error(prog, "--chat and --ids go with --generate");
  gc_diag d = {0};
  /* under mpirun: one rank of data parallel training; rank 0 alone prints
   * (and reports the passes) */
  gc_comm *world = gc_comm_world(&d);
  if (!world) return fprintf(stderr, "%s: error: %s\n", prog, d.msg), GC_EXIT_ERROR;
  f.train.comm = world;
  gc_pass_options po;
  if (world->rank != 0 && !freopen("/dev/null", "w", stdout)) rc = GC_EXIT_ERROR;
  else if (gc_cli_pass_setup(prog, &f.passes, f.train.backend ? f.train.backend : gc_default_backend(),
                             world->rank ? stdout : stderr, &po, &f.train.llvm))
    rc = GC_EXIT_USAGE;
  if (rc) return gc_comm_free(world), rc;
  f.train.passes = f.passes.passes;
  f.train.pass_options = &po;
  f.train.catch_signals = true;
  rc = f.train.eval       ? gc_train_eval_main(&f.train, &d)
       : f.train.generate ? gc_train_generate_main(&f.train, &d)
                          : gc_train_main(&f.train, &d);
  /* one line for the job: rank 0's (it names a rank that failed) */
  if (world->rank != 0) (void)0;
  else if (rc >= GC_TRAIN_STOPPED) fprintf(stderr, "%s: %s\n", prog, d.msg);
  else if (rc) fprintf(stderr, "%s: error: %s\n", prog, d.msg);
  gc_comm_free(world);
  return rc ? rc : gc_cli_close_stdout(prog);   /* a failure already said why */
}
