/* Feeding model graphs: params by HF name, default inputs. */
#include "models/model_io.h"
#include "models/t5.h"

#include <stdio.h>
#include <string.h>

gc_tensor *gc_tensor_convert(const gc_tensor *t, gc_dtype dt) {
  gc_dtype from = t->type.dtype;
  if (from == dt) return gc_tensor_clone(t);
  bool ok = (gc_dtype_is_float(from) && gc_dtype_is_float(dt)) ||
            ((gc_dtype_is_int(from) || from == GC_BOOL) && gc_dtype_is_int(dt));
  if (!ok) return NULL;
  gc_type ty = t->type;
  ty.dtype = dt;
  gc_tensor *r = gc_tensor_new(&ty);
  if (!r) return NULL;
  int64_t n = gc_tensor_numel(t);
  if (dt == GC_I64 && from == GC_I32) {
    for (int64_t i = 0; i < n; i++) ((int64_t *)r->data)[i] = ((const int32_t *)t->data)[i];
  } else {
    for (int64_t i = 0; i < n; i++) gc_tensor_store(r, i, gc_tensor_load(t, i));
  }
  return r;
}

const char *gc_model_alias_target(const gc_model_config *c, const char *name) {
  const char *const *a = c->family->aliases ? c->family->aliases(c->config) : NULL;
  for (int i = 0; a && a[i]; i += 2)
    if (strcmp(a[i], name) == 0) return a[i + 1];
  return NULL;
}

/* Take the tensor for param node n out of file (by name or alias), typed. */
static int take_param(const gc_model_config *c, const gc_node *n, gc_tensor_map *file, gc_tensor_map *params,
                      gc_diag *d) {
  const char *name = n->attrs.name.name;
  gc_tensor *t = gc_tensor_map_take(file, name);
  const char *const *a = c->family->aliases ? c->family->aliases(c->config) : NULL;
  for (int i = 0; !t && a && a[i]; i += 2)
    if (strcmp(a[i + 1], name) == 0) t = gc_tensor_map_take(file, a[i]);
  /* a bare model's checkpoint: "h.0.attn.c_attn.weight" for "transformer.h.0..." */
  const char *pre = c->family->base_prefix;
  size_t plen = pre ? strlen(pre) : 0;
  if (!t && plen && strncmp(name, pre, plen) == 0 && name[plen] == '.') t = gc_tensor_map_take(file, name + plen + 1);
  if (!t) return 0;
  char b1[GC_TYPE_STR_MAX], b2[GC_TYPE_STR_MAX];
  if (!gc_shape_equal(&t->type, &n->type)) {
    gc_diag_set(d, "param \"%s\": expected %s, got %s", name, gc_type_str(&n->type, b1, sizeof b1),
                gc_type_str(&t->type, b2, sizeof b2));
    gc_tensor_free(t);
    return -1;
  }
  if (t->type.dtype != n->type.dtype) {
    gc_tensor *conv = gc_tensor_convert(t, n->type.dtype);
    if (!conv) {
      gc_diag_set(d, "param \"%s\": expected %s, got %s", name, gc_type_str(&n->type, b1, sizeof b1),
                  gc_type_str(&t->type, b2, sizeof b2));
      gc_tensor_free(t);
      return -1;
    }
    gc_tensor_free(t);
    t = conv;
  }
  gc_tensor_map_put(params, name, t);
  return 0;
}

int gc_model_load_params(const gc_model_config *c, const gc_graph *g, gc_tensor_map *file,
                         gc_tensor_map *params, const gc_init_table *inits, uint64_t seed,
                         void (*note)(const char *msg), gc_diag *d) {
  char missing[768] = "";
  int n_missing = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    if (n->op != GC_OP_PARAM || gc_tensor_map_get(params, n->attrs.name.name)) continue;
    if (file && take_param(c, n, file, params, d)) return -1;
    if (!gc_tensor_map_get(params, n->attrs.name.name) && strncmp(n->attrs.name.name, "opt.", 4) == 0) {
      /* optimizer state starts at zeros */
      gc_tensor *t = gc_tensor_new(&n->type);
      if (!t) return gc_diag_set(d, "cannot allocate \"%s\"", n->attrs.name.name);
      gc_tensor_map_put(params, n->attrs.name.name, t);
    }
    if (!gc_tensor_map_get(params, n->attrs.name.name) && !inits) {
      size_t k = strlen(missing);
      if (n_missing < 5) snprintf(missing + k, sizeof missing - k, "%s\"%s\"", n_missing ? ", " : "", n->attrs.name.name);
      n_missing++;
    }
  }
  if (n_missing)
    return gc_diag_set(d, "missing weights: %s%s (%d in all)", missing, n_missing > 5 ? ", ..." : "", n_missing);
  if (inits && gc_init_params(g, inits, seed, params, d)) return -1;
  for (int i = 0; file && note && i < file->n; i++) {
    char msg[512];
    const char *target = gc_model_alias_target(c, file->names[i]);
    snprintf(msg, sizeof msg, "note: tensor \"%s\" is not a param of the graph%s%s%s", file->names[i],
             target ? " (an alias of \"" : "", target ? target : "", target ? "\", given already)" : "");
    note(msg);
  }
  return 0;
}

static const gc_node *input_node(const gc_graph *g, const char *name) {
  int i = gc_graph_find_input(g, name);
  return i < 0 ? NULL : g->nodes[i];
}

/* decoder_input_ids = shift_right(labels): start token first, -100 -> pad. */
static gc_tensor *shift_right(const gc_tensor *labels, const gc_type *want, int64_t start, int64_t pad) {
  gc_tensor *r = gc_tensor_new(want);
  if (!r || labels->type.rank != 2 || !gc_shape_equal(&labels->type, want)) {
    gc_tensor_free(r);
    return NULL;
  }
  int64_t B = want->dims[0], T = want->dims[1];
  for (int64_t b = 0; b < B; b++)
    for (int64_t t = 0; t < T; t++) {
      int64_t v = t == 0 ? start : (int64_t)gc_tensor_load(labels, b * T + t - 1);
      gc_tensor_store(r, b * T + t, v == -100 ? pad : v);
    }
  return r;
}

static int default_input(const gc_model_config *c, const gc_node *n, gc_tensor_map *inputs, gc_diag *d) {
  const char *name = n->attrs.name.name;
  gc_tensor *t = NULL;
  if (!strcmp(name, "attention_mask")) {
    t = gc_tensor_new(&n->type);
    for (int64_t i = 0; t && i < gc_tensor_numel(t); i++) gc_tensor_store(t, i, 1);
  } else if (!strcmp(name, "token_type_ids")) {
    t = gc_tensor_new(&n->type);
  } else if (!strcmp(name, "decoder_input_ids") && c->family->task == GC_MODEL_SEQ2SEQ) {
    const gc_t5_config *tc = c->config;
    gc_tensor *labels = gc_tensor_map_get(inputs, "labels");
    if (!labels) return gc_diag_set(d, "input \"decoder_input_ids\" is missing and there are no labels to shift");
    t = shift_right(labels, &n->type, tc->decoder_start_token_id, tc->pad_token_id);
    if (!t) return gc_diag_set(d, "input \"labels\" does not have decoder_input_ids' shape");
  } else {
    return 0; /* required: gc_interp_run names it */
  }
  if (!t) return gc_diag_set(d, "cannot allocate input \"%s\"", name);
  gc_tensor_map_put(inputs, name, t);
  return 0;
}

int gc_model_complete_inputs(const gc_model_config *c, const gc_graph *g, gc_tensor_map *inputs,
                             void (*note)(const char *msg), gc_diag *d) {
  for (int i = 0; i < inputs->n;) {
    const gc_node *n = input_node(g, inputs->names[i]);
    if (!n) {
      char msg[512];
      snprintf(msg, sizeof msg, "note: input \"%s\" is not used by the graph", inputs->names[i]);
      if (note) note(msg);
      gc_tensor_free(gc_tensor_map_take(inputs, inputs->names[i]));
      continue;
    }
    gc_tensor *t = inputs->tensors[i];
    if (t->type.dtype != n->type.dtype && gc_shape_equal(&t->type, &n->type)) {
      gc_tensor *conv = gc_tensor_convert(t, n->type.dtype);
      if (conv) gc_tensor_map_put(inputs, inputs->names[i], conv);
    }
    i++;
  }
  /* labels first, so decoder_input_ids can be derived from them */
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    if (n->op == GC_OP_INPUT && !gc_tensor_map_get(inputs, n->attrs.name.name) &&
        default_input(c, n, inputs, d))
      return -1;
  }
  return 0;
}
