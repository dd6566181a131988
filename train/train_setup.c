/* gc-train's setup: the model and optimizer configs, the corpus, the
 * tokenizer, the split and batch spec, the two graphs and the params. */
#include "train/train.h"
#include "models/hf_dir.h"
#include "passes/pass.h"
#include "train/chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T5_SENTINELS 16

void gc_train_opts_defaults(gc_train_opts *o) {
  /* The best qwen2_tiny this machine trains in about three minutes: 3.1M
   * tokens (1500 steps of 16 x 128) end at 2.14 bits per byte on the
   * embedded corpus (PyTorch with the same recipe: 2.14; more tokens
   * overfit without dropout). */
  *o = (gc_train_opts){.steps = 1500, .batch = 16, .seq = 128, .lr = 3e-3, .warmup = 100, .seed = 1234,
                       .eval_every = 100, .save_every = 100, .backend = NULL, .threads = 0,
                       .prompt = "ROMEO:", .max_new = 200, .temperature = 0.8, .top_p = 0.95,
                       .grad_accum = 1, .bucket_mb = 0};
}

/* One "key=value" of --set: the optimizer's if it knows the key, else the model's. */
static int set_one(gc_train_run *r, const char *kv, bool *min_lr_set, gc_diag *d) {
  const char *eq = strchr(kv, '=');
  if (!eq || eq == kv) return gc_diag_set(d, "--set takes key=value pairs, not '%s'", kv);
  char key[128];
  size_t n = (size_t)(eq - kv);
  if (n >= sizeof key) return gc_diag_set(d, "--set: key too long in '%s'", kv);
  memcpy(key, kv, n);
  key[n] = 0;
  int rc = gc_optim_config_set(&r->optim, key, eq + 1, d);
  if (rc == 1) return gc_model_config_set_one(&r->config, key, eq + 1, d);
  if (rc == 0 && strcmp(key, "min_lr") == 0) *min_lr_set = true;
  return rc;
}

/* A run's default name: the model's, or a directory's last component
 * (its length in *len). */
static const char *run_name(const char *model, int *len) {
  size_t n = strlen(model);
  while (n > 1 && model[n - 1] == '/') n--;
  size_t k = n;
  while (k > 0 && model[k - 1] != '/') k--;
  *len = (int)(n - k);
  return model + k;
}

int gc_train_configure(gc_train_run *r, gc_diag *d) {
  const gc_train_opts *o = r->opts;
  if (gc_model_config_init(&r->config, o->model, d)) return -1;
  gc_optim_defaults(&r->optim);
  r->optim.lr = o->lr;
  r->optim.warmup = o->warmup;
  r->optim.decay_steps = o->steps;
  bool min_lr_set = false;
  if (o->set) {
    char *copy = strdup(o->set), *save = NULL;
    int rc = 0;
    for (char *kv = strtok_r(copy, ",", &save); kv && rc == 0; kv = strtok_r(NULL, ",", &save))
      rc = set_one(r, kv, &min_lr_set, d);
    free(copy);
    if (rc) return -1;
  }
  if (!min_lr_set) r->optim.min_lr = r->optim.lr / 10;
  if (o->zero > 1) return gc_diag_set(d, "--zero must be 0 or 1 (ZeRO stage 1: the optimizer state sharded), got %d",
                                      o->zero);
  if (gc_model_config_validate(&r->config, d)) return -1;
  if (o->out) snprintf(r->out, sizeof r->out, "%s", o->out);
  else {
    int len;
    const char *name = run_name(o->model, &len);
    snprintf(r->out, sizeof r->out, "runs/%.*s", len, name);
  }
  return 0;
}

int gc_train_data_path(const gc_train_opts *o, char *path, size_t size, gc_diag *d) {
  if (o->data) {
    snprintf(path, size, "%s", o->data);
    return 0;
  }
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0;
    const char *ups[] = {"/../../data/tinyshakespeare.txt", "/../data/tinyshakespeare.txt"};
    for (int i = 0; i < 2; i++) {
      snprintf(path, size, "%s%s", exe, ups[i]);
      if (access(path, R_OK) == 0) return 0;
    }
  }
  snprintf(path, size, "data/tinyshakespeare.txt");
  if (access(path, R_OK) == 0) return 0;
  return gc_diag_set(d, "cannot find the default corpus data/tinyshakespeare.txt (give --data FILE)");
}

static const char *const bert_specials[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
static const char *const causal_specials[] = {"<|endoftext|>"};

static gc_tokenizer *train_tokenizer(gc_train_run *r, const char *text, size_t len, gc_diag *d) {
  int vocab = (int)r->config.family->vocab_size(r->config.config), n_specials = 1;
  char t5_names[T5_SENTINELS][24];
  const char *t5_ptrs[T5_SENTINELS];
  const char *const *specials = causal_specials;
  if (r->config.family->task == GC_MODEL_MASKED_LM) specials = bert_specials, n_specials = 5;
  if (r->config.family->task == GC_MODEL_SEQ2SEQ) {
    /* T5's specials are its sentinels, <extra_id_0> last so that
     * <extra_id_i> = vocab-1-i as the span task writes them. */
    n_specials = T5_SENTINELS;
    for (int i = 0; i < T5_SENTINELS; i++) {
      snprintf(t5_names[i], sizeof t5_names[i], "<extra_id_%d>", T5_SENTINELS - 1 - i);
      t5_ptrs[i] = t5_names[i];
    }
    specials = t5_ptrs;
  }
  if (vocab < 256 + n_specials)
    return gc_diag_set(d, "vocab_size %d is too small for a byte-level tokenizer (need >= %d)", vocab,
                       256 + n_specials),
           NULL;
  return gc_bpe_train((const uint8_t *)text, len, vocab, specials, n_specials, d);
}

/* The tokenizer of a Hugging Face directory (any form it ships in). */
static int open_tokenizer(gc_train_run *r, const char *dir, gc_diag *d) {
  r->tok = gc_tokenizer_open(dir, d);
  if (!r->tok) return -1;
  int64_t vocab = r->config.family->vocab_size(r->config.config);
  if (gc_tokenizer_vocab_size(r->tok) > vocab)
    return gc_diag_set(d, "%s: the tokenizer has %d tokens but the model's vocab_size is %lld", dir,
                       gc_tokenizer_vocab_size(r->tok), (long long)vocab);
  return 0;
}

const char *gc_train_model_source(const gc_train_run *r) {
  return r->config.dir && !r->opts->out ? r->config.dir : r->out;
}

int gc_train_open_model(gc_train_run *r, const gc_graph *g, gc_diag *d) {
  const char *src = gc_train_model_source(r);
  int rc = src == r->out ? gc_train_load_tokenizer(r, d) : open_tokenizer(r, src, d);
  if (rc == 0) rc = src == r->out ? gc_train_load(r, g, false, d) : gc_hf_dir_load_params(&r->config, g, &r->params, d);
  if (rc) return -1;
  int32_t start, end;
  r->eos_id = gc_hf_dir_eos_id(src);
  if (r->eos_id < 0) r->eos_id = gc_tokenizer_special_id(r->tok, "<|endoftext|>");
  if (r->opts->chat && gc_chat_tokens(r->tok, &start, &end, d)) return -1;
  if (r->opts->chat) r->eos_id = end;
  return 0;
}

int gc_train_load_tokenizer(gc_train_run *r, gc_diag *d) {
  char path[4200];
  snprintf(path, sizeof path, "%s/tokenizer.json", r->out);
  if (access(path, F_OK) != 0) return gc_diag_set(d, "no checkpoint to use in %s (%s is missing)", r->out, path);
  r->tok = gc_tokenizer_open(path, d);
  if (!r->tok) return -1;
  int64_t vocab = r->config.family->vocab_size(r->config.config);
  if (gc_tokenizer_vocab_size(r->tok) > vocab)
    return gc_diag_set(d, "%s has %d tokens but the model's vocab_size is %lld (mismatched checkpoint)", path,
                       gc_tokenizer_vocab_size(r->tok), (long long)vocab);
  return 0;
}

static void batch_spec(gc_train_run *r) {
  const gc_train_opts *o = r->opts;
  gc_batch_spec *s = &r->spec;
  int vocab = (int)r->config.family->vocab_size(r->config.config);
  *s = (gc_batch_spec){.batch = o->batch, .seq = o->seq, .vocab = vocab};
  switch (r->config.family->task) {
  case GC_MODEL_CAUSAL_LM: s->task = GC_TASK_CAUSAL; break;
  case GC_MODEL_MASKED_LM:
    s->task = GC_TASK_MLM;
    s->mask_id = gc_tokenizer_special_id(r->tok, "[MASK]");
    for (int i = 0; i < 5; i++) r->special_ids[i] = gc_tokenizer_special_id(r->tok, bert_specials[i]);
    s->special_ids = r->special_ids;
    s->n_special = 5;
    break;
  case GC_MODEL_SEQ2SEQ:
    s->task = GC_TASK_SPAN;
    s->dec_seq = o->dec_seq > 0 ? o->dec_seq : (o->seq / 4 > 2 ? o->seq / 4 : 2);
    s->pad_id = 0, s->eos_id = 1, s->decoder_start_id = 0;
    break;
  }
}

/* The corpus's ids, and for chat data (--data FILE.jsonl) the loss mask. */
static int encode_data(gc_train_run *r, const char *text, size_t len, gc_diag *d) {
  if (!gc_chat_is_data(r->opts->data)) {
    if (gc_tokenizer_encode(r->tok, (const uint8_t *)text, len, &r->ids, &r->n_ids))
      return gc_diag_set(d, "out of memory encoding the corpus");
    return 0;
  }
  if (r->config.family->task != GC_MODEL_CAUSAL_LM)
    return gc_diag_set(d, "chat data (%s) trains causal language models only", r->opts->data);
  gc_chat_stream s;
  if (gc_chat_encode(r->tok, r->opts->data, text, len, &s, d)) return -1;
  r->ids = s.ids, r->loss = s.loss, r->n_ids = s.n;
  return 0;
}

int gc_train_setup_data(gc_train_run *r, const char *text, size_t len, gc_diag *d) {
  if (r->opts->resume) {
    if (gc_train_load_tokenizer(r, d)) return -1;
  } else if (r->config.dir) {
    if (open_tokenizer(r, r->config.dir, d)) return -1;   /* fine-tuning: the model's own, no training */
  } else if (!(r->tok = train_tokenizer(r, text, len, d))) {
    return -1;
  }
  r->eos_id = r->config.dir ? gc_hf_dir_eos_id(r->config.dir) : -1;
  if (r->eos_id < 0) r->eos_id = gc_tokenizer_special_id(r->tok, "<|endoftext|>");
  if (encode_data(r, text, len, d)) return -1;
  if (gc_dataset_split(r->ids, r->n_ids, 0.9, &r->train, &r->val, d)) return -1;
  if (r->loss) r->train.loss = r->loss, r->val.loss = r->loss + r->train.n;
  batch_spec(r);
  int window = gc_batch_window_len(&r->spec, d);
  if (window < 0) return -1;
  if (r->train.n < (size_t)window || r->val.n < (size_t)window)
    return gc_diag_set(d,
                       "data too short: %zu tokens split into %zu for training and %zu for validation, "
                       "but one batch window needs %d in each (use a longer file or a smaller --seq)",
                       r->n_ids, r->train.n, r->val.n, window);
  return 0;
}

int gc_train_build_graphs(gc_train_run *r, gc_diag *d) {
  gc_model_shape shape = {.batch = r->opts->batch, .seq = r->opts->seq, .dec_seq = r->spec.dec_seq,
                          .training = true};
  if (gc_train_is_split(r->opts)) {
    if (gc_train_dp_build(r, d)) return -1;
    shape.training = false;
    r->eval_graph = gc_model_build(&r->config, &shape, NULL, d);
    return r->eval_graph ? 0 : -1;
  }
  r->train_graph = gc_model_build(&r->config, &shape, &r->inits, d);
  if (!r->train_graph || gc_optim_append(r->train_graph, "loss", &r->optim, d)) return -1;
  shape.training = false;
  r->eval_graph = gc_model_build(&r->config, &shape, NULL, d);
  return r->eval_graph ? 0 : -1;
}

int gc_train_init_params(gc_train_run *r, gc_diag *d) {
  gc_tensor_map_init(&r->params);
  gc_rng_seed(&r->rng, r->opts->seed);
  r->step = 0;
  r->saved_step = -1;
  if (r->opts->resume) {
    if (gc_train_load(r, r->train_graph, true, d)) return -1;
    r->saved_step = r->step;
    return 0;
  }
  if (r->config.dir) return gc_hf_dir_load_params(&r->config, r->train_graph, &r->params, d);
  return gc_init_params(r->train_graph, r->inits, r->opts->seed, &r->params, d);
}

int gc_train_compile(gc_train_run *r, gc_diag *d) {
  gc_compile_options o;
  gc_compile_options_init(&o);
  o.backend = r->opts->backend;
  o.threads = r->opts->threads;
  o.passes = r->opts->passes;
  o.comm = r->opts->comm;
  o.nans = r->opts->nans;
  o.llvm = r->opts->llvm;
  /* the training step's compile reports one stats line */
  gc_pass_options train_po;
  if (r->opts->pass_options) train_po = *r->opts->pass_options;
  else gc_pass_options_init(&train_po), train_po.out = stdout;
  train_po.stats = true;
  o.pass_options = &train_po;
  r->train_prog = gc_compile(r->train_graph, &o, d);
  if (!r->train_prog || gc_program_set_params(r->train_prog, &r->params, true, d)) return -1;
  if (gc_train_is_split(r->opts) && gc_train_dp_compile(r, &o, d)) return -1;
  o.pass_options = r->opts->pass_options;
  if (o.pass_options && o.pass_options->stats) {   /* once is enough */
    train_po = *o.pass_options;
    train_po.stats = false;
    o.pass_options = &train_po;
  }
  r->eval_prog = gc_compile(r->eval_graph, &o, d);
  return r->eval_prog ? gc_program_share_params(r->eval_prog, r->train_prog, d) : -1;
}

void gc_train_run_free(gc_train_run *r) {
  gc_program_free(r->eval_prog);
  gc_program_free(r->grad_prog);
  gc_graph_free(r->grad_graph);
  gc_program_free(r->train_prog);
  gc_graph_free(r->train_graph);
  gc_graph_free(r->eval_graph);
  gc_init_table_free(r->inits);
  gc_tensor_map_clear(&r->params);
  gc_tokenizer_free(r->tok);
  free(r->ids);
  free(r->loss);
  if (r->config.family) gc_model_config_free(&r->config);
}
