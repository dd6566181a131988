/* Model configs: presets, `--set key=value` on Hugging Face config keys. */
#include "frontend/nn.h"
#include "models/hf_dir.h"
#include "models/model.h"
#include "base/namelist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void list_names(char *buf, size_t size) {
  int n;
  const gc_model_family *const *f = gc_model_families(&n);
  buf[0] = 0;
  for (int i = 0; i < n; i++) {
    bool preset_named_so = false;
    for (const gc_model_preset *p = f[i]->presets; p && p->name; p++) {
      gc_namelist_add(buf, size, " ", p->name);
      preset_named_so = preset_named_so || strcmp(p->name, f[i]->name) == 0;
    }
    if (!preset_named_so) gc_namelist_add(buf, size, " ", f[i]->name);
  }
}

int gc_model_config_init(gc_model_config *c, const char *name, gc_diag *d) {
  int n;
  const gc_model_family *const *f = gc_model_families(&n);
  memset(c, 0, sizeof *c);
  c->dtype = GC_F32;
  if (gc_hf_dir_named(name)) return gc_hf_dir_config(c, name, d);
  for (int i = 0; i < n && !c->family; i++) {
    if (strcmp(f[i]->name, name) == 0) c->family = f[i];
    for (const gc_model_preset *p = f[i]->presets; p && p->name && !c->family; p++)
      if (strcmp(p->name, name) == 0) {
        c->family = f[i];
        c->preset = p;
      }
  }
  if (!c->family) {
    char names[1024];
    list_names(names, sizeof names);
    return gc_diag_set(d, "unknown model \"%s\"; the models are: %s", name, names);
  }
  c->config = malloc(c->family->config_size);
  memcpy(c->config, c->family->defaults, c->family->config_size);
  if (c->preset && c->preset->settings && gc_model_config_set(c, c->preset->settings, d)) {
    gc_model_config_free(c);
    return -1;
  }
  return 0;
}

void gc_model_config_free(gc_model_config *c) {
  free(c->config);
  free(c->dir);
  memset(c, 0, sizeof *c);
}

static const gc_config_key *find_key(const gc_model_family *f, const char *key) {
  for (const gc_config_key *k = f->keys; k->key; k++)
    if (strcmp(k->key, key) == 0) return k;
  return NULL;
}

static int unknown_key(const gc_model_family *f, const char *key, gc_diag *d) {
  char names[2048] = "dtype";
  for (const gc_config_key *ck = f->keys; ck->key; ck++) gc_namelist_add(names, sizeof names, ", ", ck->key);
  return gc_diag_set(d, "%s has no config key \"%s\"; valid keys: %s", f->name, key, names);
}

static bool in_choices(const char *choices, const char *v) {
  size_t n = strlen(v);
  for (const char *p = choices; *p;) {
    const char *e = strchr(p, '|');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == n && strncmp(p, v, n) == 0) return true;
    p += len + (e ? 1 : 0);
  }
  return false;
}

int gc_model_config_set_one(gc_model_config *c, const char *key, const char *value, gc_diag *d) {
  if (strcmp(key, "dtype") == 0) {
    if (strcmp(value, "f32") == 0) c->dtype = GC_F32;
    else if (strcmp(value, "f64") == 0) c->dtype = GC_F64;
    else return gc_diag_set(d, "dtype must be f32 or f64, not \"%s\"", value);
    return 0;
  }
  const gc_config_key *k = find_key(c->family, key);
  if (!k) return unknown_key(c->family, key, d);
  void *p = (char *)c->config + k->offset;
  char *end;
  errno = 0;
  switch (k->kind) {
  case GC_KEY_INT: {
    long long v = strtoll(value, &end, 10);
    if (!*value || *end || errno) return gc_diag_set(d, "%s takes an integer, not \"%s\"", key, value);
    *(int64_t *)p = v;
    break;
  }
  case GC_KEY_FLOAT: {
    double v = strtod(value, &end);
    if (!*value || *end || errno) return gc_diag_set(d, "%s takes a number, not \"%s\"", key, value);
    *(double *)p = v;
    break;
  }
  case GC_KEY_BOOL:
    if (!strcmp(value, "true") || !strcmp(value, "True") || !strcmp(value, "1")) *(bool *)p = true;
    else if (!strcmp(value, "false") || !strcmp(value, "False") || !strcmp(value, "0")) *(bool *)p = false;
    else return gc_diag_set(d, "%s takes true or false, not \"%s\"", key, value);
    break;
  case GC_KEY_STRING:
    if (k->choices && !in_choices(k->choices, value))
      return gc_diag_set(d, "%s takes one of %s, not \"%s\"", key, k->choices, value);
    if (strlen(value) >= GC_KEY_STRING_MAX) return gc_diag_set(d, "%s: value \"%s\" is too long", key, value);
    snprintf((char *)p, GC_KEY_STRING_MAX, "%s", value);
    break;
  }
  return 0;
}

int gc_model_config_set(gc_model_config *c, const char *settings, gc_diag *d) {
  char *copy = strdup(settings), *save = NULL;
  int rc = 0;
  for (char *item = strtok_r(copy, ",", &save); item && !rc; item = strtok_r(NULL, ",", &save)) {
    while (*item == ' ') item++;
    if (!*item) continue;
    char *eq = strchr(item, '=');
    if (!eq) {
      rc = gc_diag_set(d, "--set takes key=value pairs, got \"%s\"", item);
      break;
    }
    *eq = 0;
    rc = gc_model_config_set_one(c, item, eq + 1, d);
  }
  free(copy);
  return rc;
}

int gc_model_config_validate(const gc_model_config *c, gc_diag *d) {
  return c->family->validate ? c->family->validate(c->config, d) : 0;
}

char *gc_model_config_describe(const gc_model_config *c) {
  size_t size = 8192, k = 0;
  char *buf = malloc(size);
  k += (size_t)snprintf(buf, size, "dtype = %s\n", gc_dtype_name(c->dtype));
  for (const gc_config_key *ck = c->family->keys; ck->key && k < size; ck++) {
    const void *p = (const char *)c->config + ck->offset;
    switch (ck->kind) {
    case GC_KEY_INT: k += (size_t)snprintf(buf + k, size - k, "%s = %lld\n", ck->key, (long long)*(const int64_t *)p); break;
    case GC_KEY_FLOAT: k += (size_t)snprintf(buf + k, size - k, "%s = %g\n", ck->key, *(const double *)p); break;
    case GC_KEY_BOOL: k += (size_t)snprintf(buf + k, size - k, "%s = %s\n", ck->key, *(const bool *)p ? "true" : "false"); break;
    case GC_KEY_STRING: k += (size_t)snprintf(buf + k, size - k, "%s = %s\n", ck->key, (const char *)p); break;
    }
  }
  return buf;
}

gc_graph *gc_model_build(const gc_model_config *c, const gc_model_shape *shape, gc_init_table **inits,
                         gc_diag *d) {
  if (gc_model_config_validate(c, d)) return NULL;
  if (shape->batch < 1 || shape->seq < 1)
    return gc_diag_set(d, "batch and seq must be at least 1"), NULL;
  gc_builder *b = gc_builder_new(c->preset ? c->preset->name : c->family->name, c->dtype);
  if (shape->training) {
    /* Dropout masks are a function of the step counter the optimizer keeps. */
    gc_val step = gc_param_full(b, "opt.step", GC_I64, 0, NULL, gc_init_zeros());
    gc_builder_set_training(b, true, step, 0x5eedULL);
  }
  if (c->family->build) c->family->build(b, c->config, shape);
  else gc_causal_lm_build(b, c->family, c->config, shape);
  if (gc_builder_error(b)) {
    gc_diag_set(d, "%s", gc_builder_error(b));
    gc_builder_free(b);
    return NULL;
  }
  gc_init_table *t = gc_builder_take_inits(b);
  gc_graph *g = gc_builder_finish(b, d);
  if (g && inits) *inits = t;
  else gc_init_table_free(t);
  return g;
}

int64_t gc_graph_param_count(const gc_graph *g) {
  int64_t n = 0;
  for (int i = 0; i < g->n_nodes; i++)
    if (g->nodes[i]->op == GC_OP_PARAM) n += gc_type_numel_unchecked(&g->nodes[i]->type);
  return n;
}

void gc_causal_lm_build(gc_builder *b, const gc_model_family *f, const void *config, const gc_model_shape *s) {
  int64_t B = s->batch, T = s->seq;
  if (T > f->max_positions(config))
    gc_builder_fail(b, "%s: seq %lld exceeds the model's %lld positions", f->name, (long long)T,
                    (long long)f->max_positions(config));
  gc_val ids = gc_input(b, "input_ids", GC_I64, GC_SHAPE(B, T));
  gc_val labels = gc_input(b, "labels", GC_I64, GC_SHAPE(B, T));
  gc_val mask = gc_input(b, "attention_mask", GC_I64, GC_SHAPE(B, T));
  gc_val logits = f->lm_head(b, config, f->trunk(b, config, ids, GC_NONE, mask, NULL));
  gc_output(b, "loss", gc_label(b, gc_causal_lm_loss(b, logits, labels), "loss"));
  gc_output(b, "logits", logits);
}
