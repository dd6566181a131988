/* gc-train's output directory as a Hugging Face model directory: beside
 * model.safetensors (train_checkpoint.c), config.json and
 * generation_config.json (models/hf_dir.c), tokenizer.json and
 * tokenizer_config.json, so the run opens in transformers and in gc alike. */
#include "train/train.h"
#include "io/file.h"
#include "models/hf_dir.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A run from scratch: its bos/eos are the trained tokenizer's <|endoftext|>. */
static int set_token_ids(gc_train_run *r, gc_diag *d) {
  int eot = gc_tokenizer_special_id(r->tok, "<|endoftext|>");
  char id[32];
  snprintf(id, sizeof id, "%d", eot);
  static const char *const keys[] = {"bos_token_id", "eos_token_id"};
  for (int i = 0; i < 2 && eot >= 0; i++)
    if (gc_model_config_int(&r->config, keys[i], -1) >= 0 && gc_model_config_set_one(&r->config, keys[i], id, d))
      return -1;
  return 0;
}

/* tokenizer_config.json: the source directory's, else the special tokens
 * the tokenizer has under the names transformers gives them. */
static int write_tokenizer_config(const gc_train_run *r, gc_diag *d) {
  char path[4200];
  snprintf(path, sizeof path, "%s/tokenizer_config.json", r->config.dir ? r->config.dir : "");
  if (r->config.dir && access(path, R_OK) == 0) {
    size_t len;
    char *text = gc_read_file(path, &len, d);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", r->out);
    int rc = text ? gc_write_file_atomic(path, text, len, d) : -1;
    free(text);
    return rc;
  }
  static const char *const roles[][2] = {{"<|endoftext|>", "bos_token"}, {"<|endoftext|>", "eos_token"},
                                         {"[PAD]", "pad_token"},         {"[UNK]", "unk_token"},
                                         {"[CLS]", "cls_token"},         {"[SEP]", "sep_token"},
                                         {"[MASK]", "mask_token"}};
  json_t *j = json_object();
  json_object_set_new(j, "tokenizer_class", json_string("PreTrainedTokenizerFast"));
  json_object_set_new(j, "clean_up_tokenization_spaces", json_false());
  if (r->config.family->max_positions)
    json_object_set_new(j, "model_max_length", json_integer(r->config.family->max_positions(r->config.config)));
  for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
    if (gc_tokenizer_special_id(r->tok, roles[i][0]) >= 0) json_object_set_new(j, roles[i][1], json_string(roles[i][0]));
  char *text = json_dumps(j, JSON_INDENT(2));
  json_decref(j);
  if (!text) return gc_diag_set(d, "out of memory");
  snprintf(path, sizeof path, "%s/tokenizer_config.json", r->out);
  int rc = gc_write_file_atomic(path, text, strlen(text), d);
  free(text);
  return rc;
}

int gc_train_save_hf_files(gc_train_run *r, gc_diag *d) {
  char path[4200];
  snprintf(path, sizeof path, "%s/tokenizer.json", r->out);
  if (!r->config.dir && set_token_ids(r, d)) return -1;
  if (gc_hf_dir_write_config(&r->config, r->out, d) || write_tokenizer_config(r, d) ||
      gc_tokenizer_save_json(r->tok, path, d))
    return -1;
  return 0;
}
