/* Hugging Face model directories: config.json, safetensors weights (one
 * file or shards), generation_config.json.  See models/hf_dir.h. */
#include "models/hf_dir.h"
#include "io/file.h"
#include "io/safetensors.h"
#include "models/model_io.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exists(const char *path) { return access(path, F_OK) == 0; }

static bool is_registry_name(const char *name) {
  int n;
  const gc_model_family *const *f = gc_model_families(&n);
  for (int i = 0; i < n; i++) {
    if (strcmp(f[i]->name, name) == 0) return true;
    for (const gc_model_preset *p = f[i]->presets; p && p->name; p++)
      if (strcmp(p->name, name) == 0) return true;
  }
  return false;
}

bool gc_hf_dir_named(const char *name) {
  return strchr(name, '/') || (!is_registry_name(name) && is_dir(name));
}

static const gc_config_key *find_key(const gc_model_family *f, const char *key) {
  for (const gc_config_key *k = f->keys; k->key; k++)
    if (strcmp(k->key, key) == 0) return k;
  return NULL;
}

int64_t gc_model_config_int(const gc_model_config *c, const char *key, int64_t dflt) {
  const gc_config_key *k = find_key(c->family, key);
  return k && k->kind == GC_KEY_INT ? *(const int64_t *)((const char *)c->config + k->offset) : dflt;
}

/* ---- reading config.json ------------------------------------------------- */

static json_t *load_json(const char *path, gc_diag *d) {
  json_error_t e;
  json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
  if (!j) return gc_diag_set(d, "%s:%d:%d: %s", path, e.line, e.column, e.text), NULL;
  if (!json_is_object(j)) {
    json_decref(j);
    return gc_diag_set(d, "%s: not a JSON object", path), NULL;
  }
  return j;
}

/* The family key's value as --set would give it; false for null (keep the
 * default).  A list stands for its first element. */
static bool value_text(const json_t *v, char *buf, size_t size) {
  if (json_is_array(v)) v = json_array_get(v, 0);
  if (!v || json_is_null(v)) return false;
  if (json_is_integer(v)) snprintf(buf, size, "%lld", (long long)json_integer_value(v));
  else if (json_is_real(v)) snprintf(buf, size, "%.17g", json_real_value(v));
  else if (json_is_boolean(v)) snprintf(buf, size, "%s", json_is_true(v) ? "true" : "false");
  else if (json_is_string(v)) snprintf(buf, size, "%s", json_string_value(v));
  else snprintf(buf, size, "(a JSON object)");
  return true;
}

/* Keys gc does not implement that change what the model computes. */
static const char *const refused_keys[] = {"rope_scaling", "add_cross_attention", NULL};

static int configure(gc_model_config *c, const json_t *root, const char *path, gc_diag *d) {
  for (int i = 0; refused_keys[i]; i++) {
    const json_t *v = json_object_get(root, refused_keys[i]);
    if (v && !json_is_null(v) && !json_is_false(v))
      return gc_diag_set(d, "%s: %s is not supported", path, refused_keys[i]);
  }
  for (const gc_config_key *k = c->family->keys; k->key; k++) {
    char text[256];
    if (!value_text(json_object_get(root, k->key), text, sizeof text)) continue;
    gc_diag e = {0};
    if (gc_model_config_set_one(c, k->key, text, &e)) return gc_diag_set(d, "%s: %s", path, e.msg);
  }
  return 0;
}

int gc_hf_dir_config(gc_model_config *c, const char *dir, gc_diag *d) {
  char path[4200];
  memset(c, 0, sizeof *c);
  c->dtype = GC_F32;
  if (!is_dir(dir)) return gc_diag_set(d, "%s: no such model directory (nor a model name)", dir);
  snprintf(path, sizeof path, "%s/config.json", dir);
  if (!exists(path)) return gc_diag_set(d, "%s: no config.json (not a Hugging Face model directory)", dir);
  json_t *root = load_json(path, d);
  if (!root) return -1;
  const char *type = json_string_value(json_object_get(root, "model_type"));
  c->family = type ? gc_model_family_find(type) : NULL;
  int rc = 0;
  if (!type) rc = gc_diag_set(d, "%s: no \"model_type\"", path);
  else if (!c->family) rc = gc_diag_set(d, "%s: model_type \"%s\" is not one gc builds (qwen2, gpt2, bert, t5)", path, type);
  if (rc == 0) {
    c->config = malloc(c->family->config_size);
    c->dir = strdup(dir);
    if (!c->config || !c->dir) rc = gc_diag_set(d, "out of memory");
    else memcpy(c->config, c->family->defaults, c->family->config_size);
  }
  if (rc == 0) rc = configure(c, root, path, d);
  if (rc == 0) rc = gc_model_config_validate(c, d);
  json_decref(root);
  if (rc) gc_model_config_free(c);
  return rc;
}

/* ---- reading weights ----------------------------------------------------- */

/* The shards model.safetensors.index.json names, each read once; every
 * tensor it lists must be in its shard. */
static int read_shards(const char *dir, const char *index, gc_tensor_map *out, gc_diag *d) {
  json_t *root = load_json(index, d);
  if (!root) return -1;
  const json_t *map = json_object_get(root, "weight_map");
  int rc = json_is_object(map) ? 0 : gc_diag_set(d, "%s: no \"weight_map\" object", index);
  json_t *done = json_object();
  const char *name;
  const json_t *file;
  json_object_foreach((json_t *)map, name, file) {
    const char *shard = json_string_value(file);
    if (rc) break;
    if (!shard || strchr(shard, '/')) {
      rc = gc_diag_set(d, "%s: \"%s\" is not in a file of this directory", index, name);
    } else if (!json_object_get(done, shard)) {
      char path[4200];
      snprintf(path, sizeof path, "%s/%s", dir, shard);
      rc = gc_safetensors_read(path, out, d);
      json_object_set_new(done, shard, json_true());
    }
    if (rc == 0 && !gc_tensor_map_get(out, name))
      rc = gc_diag_set(d, "%s: \"%s\" is not in %s/%s, where the index puts it", index, name, dir, shard);
  }
  json_decref(done);
  json_decref(root);
  return rc;
}

int gc_hf_dir_read_weights(const char *dir, gc_tensor_map *out, gc_diag *d) {
  char path[4200];
  snprintf(path, sizeof path, "%s/model.safetensors", dir);
  if (exists(path)) return gc_safetensors_read(path, out, d);
  snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
  if (exists(path)) return read_shards(dir, path, out, d);
  static const char *const pickles[] = {"pytorch_model.bin", "pytorch_model.bin.index.json"};
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, pickles[i]);
    if (exists(path))
      return gc_diag_set(d, "%s: PyTorch pickle weights are not read; convert them to safetensors "
                            "(transformers: model.save_pretrained(DIR, safe_serialization=True))", path);
  }
  return gc_diag_set(d, "%s: no model.safetensors or model.safetensors.index.json", dir);
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

bool gc_hf_dir_ignorable(const gc_model_config *c, const char *name) {
  static const char *const buffers[] = {".attn.bias", ".attn.masked_bias", ".rotary_emb.inv_freq", NULL};
  for (int i = 0; buffers[i]; i++)
    if (ends_with(name, buffers[i])) return true;
  return gc_model_alias_target(c, name) != NULL;
}

int gc_hf_dir_load_params(const gc_model_config *c, const gc_graph *g, gc_tensor_map *params, gc_diag *d) {
  gc_tensor_map file;
  gc_tensor_map_init(&file);
  gc_diag e = {0};
  int rc = gc_hf_dir_read_weights(c->dir, &file, d);
  if (rc == 0 && gc_model_load_params(c, g, &file, params, NULL, 0, NULL, &e))
    rc = gc_diag_set(d, "%s: %s", c->dir, e.msg);
  for (int i = 0; rc == 0 && i < file.n; i++)
    if (!gc_hf_dir_ignorable(c, file.names[i]))
      rc = gc_diag_set(d, "%s: unexpected tensor \"%s\" (not a weight of this %s model)", c->dir, file.names[i],
                       c->family->name);
  gc_tensor_map_clear(&file);
  return rc;
}

/* ---- writing ----------------------------------------------------------- */

static json_t *key_value(const gc_model_config *c, const gc_config_key *k) {
  const void *p = (const char *)c->config + k->offset;
  switch (k->kind) {
  case GC_KEY_INT: /* "(0: ...)" in a key's help: 0 stands for HF's None */
    if (*(const int64_t *)p == 0 && strstr(k->help, "(0: ")) return json_null();
    return json_integer((json_int_t)*(const int64_t *)p);
  case GC_KEY_FLOAT: return json_real(*(const double *)p);
  case GC_KEY_BOOL: return json_boolean(*(const bool *)p);
  case GC_KEY_STRING: return json_string((const char *)p);
  }
  return json_null();
}

static int write_json(const json_t *j, const char *path, gc_diag *d) {
  char *text = json_dumps(j, JSON_INDENT(2));
  if (!text) return gc_diag_set(d, "out of memory writing %s", path);
  size_t n = strlen(text);
  text[n] = '\n'; /* json_dumps's NUL becomes the final newline */
  int rc = gc_write_file_atomic(path, text, n + 1, d);
  free(text);
  return rc;
}

/* The source directory's file `name` as JSON, or a new object. */
static json_t *source_json(const gc_model_config *c, const char *name) {
  char path[4200];
  if (!c->dir) return json_object();
  snprintf(path, sizeof path, "%s/%s", c->dir, name);
  json_t *j = exists(path) ? load_json(path, NULL) : NULL;
  return j ? j : json_object();
}

int gc_hf_dir_write_config(const gc_model_config *c, const char *dir, gc_diag *d) {
  char path[4200];
  json_t *config = source_json(c, "config.json");
  if (!json_object_get(config, "architectures")) {
    json_t *arch = json_array();
    json_array_append_new(arch, json_string(c->family->hf_class));
    json_object_set_new(config, "architectures", arch);
  }
  json_object_set_new(config, "model_type", json_string(c->family->name));
  for (const gc_config_key *k = c->family->keys; k->key; k++) {
    /* a list of token ids stays as it was, when its first one is kept */
    const json_t *old = json_object_get(config, k->key);
    if (json_is_array(old) && json_integer_value(json_array_get(old, 0)) == gc_model_config_int(c, k->key, -1))
      continue;
    json_object_set_new(config, k->key, key_value(c, k));
  }
  json_object_set_new(config, "torch_dtype", json_string(c->dtype == GC_F64 ? "float64" : "float32"));
  snprintf(path, sizeof path, "%s/config.json", dir);
  int rc = write_json(config, path, d);
  json_decref(config);
  if (rc) return rc;
  json_t *gen = source_json(c, "generation_config.json");
  static const char *const ids[] = {"bos_token_id", "eos_token_id", "pad_token_id", "decoder_start_token_id", NULL};
  for (int i = 0; ids[i]; i++)
    if (!json_object_get(gen, ids[i]) && gc_model_config_int(c, ids[i], -1) >= 0)
      json_object_set_new(gen, ids[i], json_integer((json_int_t)gc_model_config_int(c, ids[i], -1)));
  snprintf(path, sizeof path, "%s/generation_config.json", dir);
  rc = write_json(gen, path, d);
  json_decref(gen);
  return rc;
}

int64_t gc_hf_dir_eos_id(const char *dir) {
  static const char *const files[] = {"generation_config.json", "config.json"};
  for (int i = 0; i < 2; i++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    json_t *j = exists(path) ? load_json(path, NULL) : NULL;
    const json_t *v = json_object_get(j, "eos_token_id");
    if (json_is_array(v)) v = json_array_get(v, 0);
    int64_t id = json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
    json_decref(j);
    if (id >= 0) return id;
  }
  return -1;
}
