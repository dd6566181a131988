/* models/model.h — model families, presets, configs and the registry.
 *
 * A model family (qwen2, gpt2, bert, t5, ...) is one file in models/ that
 * defines a config struct, the table of its Hugging Face config keys, named
 * presets, and a builder of the training graph (forward + loss).  The
 * registry (models/registry.def) lists the families, one line each.
 *
 * A config is a family's struct, always handled through gc_model_config,
 * which owns a copy of it.  Keys are the model's Hugging Face config keys,
 * set from strings as `--set key=value` gives them; `dtype` (f32|f64) is
 * accepted by every family.
 */
#ifndef GC_MODEL_H
#define GC_MODEL_H

#include "frontend/builder.h"
#include "ir/ir.h"

#include <stdbool.h>
#include <stddef.h>

/* What the data pipeline feeds a family's graph. */
typedef enum { GC_MODEL_CAUSAL_LM, GC_MODEL_MASKED_LM, GC_MODEL_SEQ2SEQ } gc_model_task;

/* ---- config keys ------------------------------------------------------- */

typedef enum { GC_KEY_INT, GC_KEY_FLOAT, GC_KEY_BOOL, GC_KEY_STRING } gc_key_kind;

#define GC_KEY_STRING_MAX 32

typedef struct {
  const char *key;        /* the Hugging Face config key */
  gc_key_kind kind;       /* int64_t, double, bool or char[GC_KEY_STRING_MAX] */
  size_t offset;          /* in the family's config struct */
  const char *choices;    /* STRING: the accepted values, '|'-separated; NULL = any */
  const char *help;       /* one line */
} gc_config_key;

/* ---- families and presets ---------------------------------------------- */

/* The sizes a graph is built for. */
typedef struct {
  int64_t batch, seq;
  int64_t dec_seq;        /* decoder length (seq2seq only) */
  bool training;          /* dropout on (needs the builder's training counter) */
} gc_model_shape;

typedef struct gc_model_family gc_model_family;
struct gc_kv_hook; /* models/decode.h */

typedef struct {
  const char *name;                       /* "qwen2_tiny" */
  const char *description;                /* one line */
  /* Key=value pairs applied on top of the family's defaults, comma-separated
   * as --set takes them. */
  const char *settings;
} gc_model_preset;

struct gc_model_family {
  const char *name;                       /* "qwen2" */
  const char *hf_class;                   /* "Qwen2ForCausalLM" */
  /* HF's base_model_prefix ("transformer" for GPT-2): checkpoints of the
   * bare model store names without it, and load all the same.  May be NULL. */
  const char *base_prefix;
  gc_model_task task;
  size_t config_size;
  const void *defaults;                   /* the family's config struct, HF defaults */
  const gc_config_key *keys;              /* terminated by a NULL key */
  const gc_model_preset *presets;         /* terminated by a NULL name */
  /* Check a config (head counts divide, sizes positive, ...); -1 + message. */
  int (*validate)(const void *config, gc_diag *d);
  /* Build forward + loss into b: inputs named as HF forward() names them,
   * outputs "loss" and "logits".  Errors go into the builder. */
  void (*build)(gc_builder *b, const void *config, const gc_model_shape *shape);
  int64_t (*vocab_size)(const void *config);
  /* Tied-weight aliases: pairs {alias, kept name}, NULL-terminated; loading
   * accepts either.  May be NULL. */
  const char *const *(*aliases)(const void *config);
  /* Causal LMs split in two parts that the training graph
   * (gc_causal_lm_build) and the generation graphs with a KV cache
   * (models/decode.h) share; NULL for other families.
   *   trunk: ids i64[B, T] -> final hidden states [B, T, width]; positions
   *          i64[T] or [B, T] (GC_NONE: 0..T-1); mask an HF attention_mask or
   *          GC_NONE; hook NULL except when generating.
   *   lm_head: hidden [..., width] -> logits [..., vocab].
   *   max_positions: the longest sequence the config allows. */
  gc_val (*trunk)(gc_builder *b, const void *config, gc_val ids, gc_val positions, gc_val mask,
                  const struct gc_kv_hook *hook);
  gc_val (*lm_head)(gc_builder *b, const void *config, gc_val h);
  int64_t (*max_positions)(const void *config);
};

/* The training graph of a causal LM from its family's trunk and lm_head:
 * inputs input_ids, labels, attention_mask [B, T]; outputs loss (labels
 * shifted inside, -100 ignored) and logits.  A family's `build` for causal
 * LMs with trunk/lm_head. */
void gc_causal_lm_build(gc_builder *b, const gc_model_family *f, const void *config, const gc_model_shape *shape);

/* ---- the registry ------------------------------------------------------ */

/* Every family, in registry order; *n set to the count. */
const gc_model_family *const *gc_model_families(int *n);
const gc_model_family *gc_model_family_find(const char *name);

/* ---- configs ----------------------------------------------------------- */

typedef struct {
  const gc_model_family *family;
  const gc_model_preset *preset;          /* NULL when built from a family name */
  gc_dtype dtype;                         /* f32 unless `dtype=f64` */
  void *config;                           /* owned, family->config_size bytes */
  char *dir;                              /* owned: the Hugging Face directory it came
                                           * from (models/hf_dir.h), else NULL */
} gc_model_config;

/* A preset name ("qwen2_tiny"), a family name ("qwen2", HF defaults), or
 * the path of a Hugging Face model directory (its config.json; see
 * models/hf_dir.h).  Unknown names are an error listing the valid ones. */
int gc_model_config_init(gc_model_config *c, const char *name, gc_diag *d);
void gc_model_config_free(gc_model_config *c);
/* Apply "key=value,key=value"; an unknown key is an error listing the valid
 * ones; a bad value names the key and what it accepts. */
int gc_model_config_set(gc_model_config *c, const char *settings, gc_diag *d);
int gc_model_config_set_one(gc_model_config *c, const char *key, const char *value, gc_diag *d);
/* Run the family's checks. */
int gc_model_config_validate(const gc_model_config *c, gc_diag *d);
/* Write "key = value" lines (every key) into a malloc'd string. */
char *gc_model_config_describe(const gc_model_config *c);

/* Build the training graph (forward + loss).  On success returns the graph
 * (caller frees) and, when `inits` is non-NULL, the params' init rules
 * (caller frees with gc_init_table_free, which frees the table too). */
gc_graph *gc_model_build(const gc_model_config *c, const gc_model_shape *shape,
                         gc_init_table **inits, gc_diag *d);

/* Number of parameter elements (tied params counted once). */
int64_t gc_graph_param_count(const gc_graph *g);

#endif
