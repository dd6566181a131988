/* model:NAME for the tools. */
#include "tools/model_cli.h"
#include "autodiff/autodiff.h"
#include "frontend/optim.h"
#include "models/hf_dir.h"
#include "models/model_io.h"
#include "tools/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool gc_cli_is_model(const char *spec) { return spec && strncmp(spec, "model:", 6) == 0; }

#define MODEL_OPT(name, kind, field, value, help) GC_OPT(name, 0, kind, gc_cli_model_flags, field, value, help)
const gc_opt gc_cli_model_options[] = {
    MODEL_OPT("set", GC_OPT_STRING, set, "K=V,...", "model config keys (Hugging Face names) and dtype=f32|f64"),
    MODEL_OPT("batch", GC_OPT_INT_POS, batch, "B", "batch size (default: from input_ids, else 2)"),
    MODEL_OPT("seq", GC_OPT_INT_POS, seq, "T", "sequence length (default: from input_ids, else 16)"),
    MODEL_OPT("dec-seq", GC_OPT_INT_POS, dec_seq, "T", "decoder length, T5 (default: from labels, else --seq)"),
    MODEL_OPT("init", GC_OPT_SEED_OPT, init, "SEED", "initialise missing weights as the model's HF _init_weights"),
    MODEL_OPT("train", GC_OPT_FLAG, train, NULL,
              "build the whole training step: forward, loss, backward and\n"
              "the optimizer (--set lr, beta1, beta2, eps, weight_decay,\n"
              "warmup, decay_steps, min_lr, clip, schedule, optimizer);\n"
              "optimizer state opt.* starts at zeros when not given"),
    GC_OPT_TABLE_END,
};
#undef MODEL_OPT

bool gc_cli_model_flags_used(const gc_cli_model_flags *f) {
  return f->set || f->batch || f->seq || f->dec_seq || f->init.given || f->train;
}

/* Apply "key=value,..." to the optimizer (its keys) and the model (the rest). */
static int apply_settings(gc_model_config *c, gc_optim_config *o, const char *settings, gc_diag *d) {
  char *copy = strdup(settings), *save = NULL;
  int rc = 0;
  for (char *item = strtok_r(copy, ",", &save); item && !rc; item = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(item, '=');
    if (!eq) {
      rc = gc_diag_set(d, "--set takes key=value pairs, got \"%s\"", item);
      break;
    }
    *eq = 0;
    rc = gc_optim_config_set(o, item, eq + 1, d);
    if (rc == 1) rc = gc_model_config_set_one(c, item, eq + 1, d);
  }
  free(copy);
  return rc;
}

static int64_t input_dim(const gc_tensor_map *inputs, const char *name, int axis, int64_t dflt) {
  const gc_tensor *t = inputs ? gc_tensor_map_get(inputs, name) : NULL;
  return t && t->type.rank == 2 ? t->type.dims[axis] : dflt;
}

int gc_cli_model_build(const char *prog, const char *spec, const gc_cli_model_flags *f,
                       const gc_tensor_map *inputs, gc_cli_model *m) {
  gc_diag d = {0};
  memset(m, 0, sizeof *m);
  gc_optim_config opt;
  gc_optim_defaults(&opt);
  if (gc_model_config_init(&m->config, spec + 6, &d) || (f->set && apply_settings(&m->config, &opt, f->set, &d))) {
    fprintf(stderr, "%s: error: %s\n", prog, d.msg);
    gc_model_config_free(&m->config);
    return GC_EXIT_USAGE;
  }
  gc_model_shape s = {.training = f->train};
  s.batch = f->batch ? f->batch : input_dim(inputs, "input_ids", 0, 2);
  s.seq = f->seq ? f->seq : input_dim(inputs, "input_ids", 1, 16);
  int64_t dec = input_dim(inputs, "decoder_input_ids", 1, input_dim(inputs, "labels", 1, s.seq));
  s.dec_seq = m->config.family->task == GC_MODEL_SEQ2SEQ ? (f->dec_seq ? f->dec_seq : dec) : 0;
  m->seed = f->init.value;
  m->graph = gc_model_build(&m->config, &s, &m->inits, &d);
  if (!m->graph) {
    fprintf(stderr, "%s: error: %s\n", prog, d.msg);
    gc_model_config_free(&m->config);
    return GC_EXIT_ERROR;
  }
  if (f->train && gc_optim_append(m->graph, "loss", &opt, &d)) {
    fprintf(stderr, "%s: error: %s\n", prog, d.msg);
    gc_cli_model_free(m);
    return GC_EXIT_ERROR;
  }
  if (!f->init.given) {
    gc_init_table_free(m->inits);
    m->inits = NULL;
  }
  return 0;
}

static void note(const char *msg) { fprintf(stderr, "gc: %s\n", msg); }

int gc_cli_model_feed(const char *prog, gc_cli_model *m, gc_tensor_map *file, gc_tensor_map *params,
                      gc_tensor_map *inputs) {
  gc_diag d = {0};
  if (m->config.dir && file->n == 0) {   /* the directory's own weights, strictly */
    if (gc_model_complete_inputs(&m->config, m->graph, inputs, note, &d) ||
        gc_hf_dir_load_params(&m->config, m->graph, params, &d)) {
      fprintf(stderr, "%s: error: %s\n", prog, d.msg);
      return GC_EXIT_USAGE;
    }
    return 0;
  }
  if (gc_model_complete_inputs(&m->config, m->graph, inputs, note, &d) ||
      gc_model_load_params(&m->config, m->graph, file, params, m->inits, m->seed, note, &d)) {
    fprintf(stderr, "%s: error: %s\n", prog, d.msg);
    if (strncmp(d.msg, "missing weights", 15) == 0)
      fprintf(stderr, "%s: --init SEED initialises missing weights as the model's own init\n", prog);
    return GC_EXIT_ERROR;
  }
  return 0;
}

void gc_cli_model_free(gc_cli_model *m) {
  gc_graph_free(m->graph);
  gc_init_table_free(m->inits);
  gc_model_config_free(&m->config);
  memset(m, 0, sizeof *m);
}
