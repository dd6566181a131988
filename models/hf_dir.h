/* models/hf_dir.h — a Hugging Face model directory as a model.
 *
 * A directory holding `config.json` is a model wherever a model name is
 * accepted (gc_model_config_init, so gc-train, gc-run model:, gc-opt model:
 * and the C API).  `model_type` (qwen2, gpt2, bert, t5) picks the family;
 * every key of config.json the family knows (its HF config keys) sets it,
 * null values keep the family's HF default, a list for an integer key
 * (eos_token_id: [a, b]) gives its first element, and keys the family does
 * not know are ignored, except those that would change the computation
 * (rope_scaling) which are refused.
 *
 * Weights come from `model.safetensors` or from the shards named by
 * `model.safetensors.index.json`; F32, F16 and BF16 are read (widened to f32,
 * then converted to the run's dtype).  Names load with or without the
 * family's base-model prefix, a tied weight from either name; the buffers
 * Hugging Face ignores when loading (GPT-2's `attn.bias`, `attn.masked_bias`;
 * `rotary_emb.inv_freq`) are ignored.  Any other tensor the graph does not
 * take, a missing one or a wrong shape is an error naming it.
 * `pytorch_model.bin` is refused with the advice to convert it.
 *
 * Writing (checkpoints are HF directories too): config.json (the source
 * directory's, with the family's keys as the run has them, or built from the
 * keys alone) and generation_config.json (its token ids).
 *
 * Every function returns 0, or -1 with a message in d naming the file. */
#ifndef GC_MODELS_HF_DIR_H
#define GC_MODELS_HF_DIR_H

#include "ir/tensor.h"
#include "models/model.h"

#include <stdbool.h>

/* Whether `name` is to be read as a directory: it holds a '/', or it is not a
 * preset or family name and names an existing directory. */
bool gc_hf_dir_named(const char *name);

/* c from DIR/config.json (c->dir set to a copy of dir). */
int gc_hf_dir_config(gc_model_config *c, const char *dir, gc_diag *d);

/* Every tensor of the directory's weights into `out` (initialised by the
 * caller), by the names the files hold. */
int gc_hf_dir_read_weights(const char *dir, gc_tensor_map *out, gc_diag *d);

/* The params of graph g from directory c->dir, strictly (see above); opt.*
 * params start at zeros. */
int gc_hf_dir_load_params(const gc_model_config *c, const gc_graph *g, gc_tensor_map *params, gc_diag *d);

/* Whether a tensor the graph does not take may be left out silently: a tied
 * alias of a param given already, or a buffer HF itself ignores. */
bool gc_hf_dir_ignorable(const gc_model_config *c, const char *name);

/* DIR/config.json and DIR/generation_config.json for c, atomically. */
int gc_hf_dir_write_config(const gc_model_config *c, const char *dir, gc_diag *d);

/* The token generation stops at: DIR/generation_config.json's
 * eos_token_id, else DIR/config.json's (the first of a list); -1 if none. */
int64_t gc_hf_dir_eos_id(const char *dir);

/* An integer config key of c ("eos_token_id"), or `dflt` when the family
 * has no such key. */
int64_t gc_model_config_int(const gc_model_config *c, const char *key, int64_t dflt);

#endif
