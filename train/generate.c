/* Generation: the families' prefill/decode graph builders, a decoder
 * running them with the interpreter while it holds the KV cache, and the
 * generate loop (prefill once, then one decode step per token). */
#include "train/generate.h"
#include "backends/interp/interp.h"
#include "train/sample.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool gc_decode_supported(const gc_model_config *c) {
  return c->family->trunk && c->family->lm_head && c->family->max_positions;
}

/* Check, then build with the family's prefill (prompt_len > 0) or decode
 * (prompt_len == 0) builder. */
static gc_graph *build(const gc_model_config *c, int64_t prompt_len, int64_t max_len, gc_diag *d) {
  const gc_model_family *f = c->family;
  if (!gc_decode_supported(c)) {
    char names[256] = "";
    int n;
    const gc_model_family *const *all = gc_model_families(&n);
    for (int i = 0; i < n; i++)
      if (all[i]->trunk && all[i]->lm_head && all[i]->max_positions)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", names[0] ? ", " : "", all[i]->name);
    return gc_diag_set(d, "generation with a KV cache is not available for %s; it is for: %s", f->name, names),
           NULL;
  }
  if (gc_model_config_validate(c, d)) return NULL;
  gc_builder *b = gc_builder_new(prompt_len ? "prefill" : "decode", c->dtype);
  if (!b) return gc_diag_set(d, "out of memory"), NULL;
  if (prompt_len) gc_decode_graph_prefill(b, f, c->config, prompt_len, max_len);
  else gc_decode_graph_step(b, f, c->config, max_len);
  if (gc_builder_error(b)) {
    gc_diag_set(d, "%s", gc_builder_error(b));
    gc_builder_free(b);
    return NULL;
  }
  gc_init_table_free(gc_builder_take_inits(b));   /* only zeros for the cache */
  return gc_builder_finish(b, d);
}

gc_graph *gc_decode_build_prefill(const gc_model_config *c, int64_t prompt_len, int64_t max_len,
                                  gc_diag *d) {
  if (prompt_len < 1) return gc_diag_set(d, "generation: the prompt is empty"), NULL;
  return build(c, prompt_len, max_len, d);
}

gc_graph *gc_decode_build_step(const gc_model_config *c, int64_t max_len, gc_diag *d) {
  return build(c, 0, max_len, d);
}

/* ---- the decoder ------------------------------------------------------- */

struct gc_decoder {
  const gc_model_config *config;
  const gc_tensor_map *weights;   /* borrowed */
  gc_graph *step;                 /* the decode graph */
  gc_tensor_map state;            /* the weights (borrowed pointers) + the cache (owned) */
  int64_t max_len, vocab, pos;
};

/* Zeroed tensors for every param the graph updates (the cache). */
static int add_cache(gc_decoder *s, gc_diag *d) {
  for (int i = 0; i < s->step->n_updates; i++) {
    const char *name = s->step->updates[i].name;
    if (gc_tensor_map_get(&s->state, name))
      return gc_diag_set(d, "generation: the params hold \"%s\", a name the KV cache uses", name);
    gc_tensor *t = gc_tensor_new(&s->step->nodes[gc_graph_find_param(s->step, name)]->type);
    if (!t) return gc_diag_set(d, "out of memory for the KV cache");
    gc_tensor_map_put(&s->state, name, t);
  }
  return 0;
}

gc_decoder *gc_decoder_new(const gc_model_config *c, const gc_tensor_map *params, int64_t max_len,
                           gc_diag *d) {
  gc_decoder *s = calloc(1, sizeof *s);
  if (!s) return gc_diag_set(d, "out of memory"), NULL;
  *s = (gc_decoder){.config = c, .weights = params, .max_len = max_len, .vocab = c->family->vocab_size(c->config)};
  gc_tensor_map_init(&s->state);
  /* The interpreter reads params from one map: lend it the weights' tensors
   * (taken back, not freed, in gc_decoder_free; the graphs update only the
   * cache). */
  for (int i = 0; i < params->n; i++) gc_tensor_map_put(&s->state, params->names[i], params->tensors[i]);
  s->step = gc_decode_build_step(c, max_len, d);
  if (!s->step || add_cache(s, d)) {
    gc_decoder_free(s);
    return NULL;
  }
  return s;
}

void gc_decoder_free(gc_decoder *s) {
  if (!s) return;
  for (int i = 0; i < s->weights->n; i++) gc_tensor_map_take(&s->state, s->weights->names[i]);
  gc_tensor_map_clear(&s->state);
  if (s->step) gc_graph_free(s->step);
  free(s);
}

int64_t gc_decoder_position(const gc_decoder *s) { return s->pos; }
int64_t gc_decoder_vocab(const gc_decoder *s) { return s->vocab; }

/* Run g on the state with these inputs; copy out logits [1, V]. */
static int run(gc_decoder *s, const gc_graph *g, gc_tensor_map *inputs, double *logits, gc_diag *d) {
  gc_tensor_map out;
  gc_tensor_map_init(&out);
  int rc = gc_interp_run(g, &s->state, inputs, &out, d);
  if (rc == 0) {
    const gc_tensor *t = gc_tensor_map_get(&out, "logits");
    for (int64_t i = 0; i < s->vocab; i++) logits[i] = gc_tensor_load(t, i);
  }
  gc_tensor_map_clear(&out);
  gc_tensor_map_clear(inputs);
  return rc;
}

/* An i64 tensor holding ids (rank 2, [1, n]) or one scalar (rank 0). */
static gc_tensor *i64_tensor(int rank, const int64_t *ids, int64_t n) {
  gc_type t = gc_type_make(GC_I64, rank, (const int64_t[]){1, n});
  gc_tensor *x = gc_tensor_new(&t);
  if (x) memcpy(x->data, ids, (size_t)n * sizeof *ids);
  return x;
}

static int put_ids(gc_tensor_map *inputs, const char *name, int rank, const int64_t *ids, int64_t n,
                   gc_diag *d) {
  gc_tensor *t = i64_tensor(rank, ids, n);
  if (!t) return gc_diag_set(d, "out of memory");
  gc_tensor_map_put(inputs, name, t);
  return 0;
}

int gc_decoder_prefill(gc_decoder *s, const int64_t *ids, int64_t n, double *logits, gc_diag *d) {
  gc_graph *g = gc_decode_build_prefill(s->config, n, s->max_len, d);
  if (!g) return -1;
  gc_tensor_map inputs;
  gc_tensor_map_init(&inputs);
  int rc = put_ids(&inputs, "input_ids", 2, ids, n, d);
  rc = rc ? rc : run(s, g, &inputs, logits, d);
  gc_tensor_map_clear(&inputs);
  gc_graph_free(g);
  s->pos = rc == 0 ? n : 0;
  return rc;
}

int gc_decoder_step(gc_decoder *s, int64_t id, double *logits, gc_diag *d) {
  if (s->pos < 1) return gc_diag_set(d, "generation: decode step before the prompt");
  if (s->pos >= s->max_len)
    return gc_diag_set(d, "generation: the cache holds %lld positions, all used", (long long)s->max_len);
  gc_tensor_map inputs;
  gc_tensor_map_init(&inputs);
  int rc = put_ids(&inputs, "input_ids", 2, &id, 1, d);
  rc = rc ? rc : put_ids(&inputs, "position", 0, &s->pos, 1, d);
  rc = rc ? rc : run(s, s->step, &inputs, logits, d);
  gc_tensor_map_clear(&inputs);
  if (rc == 0) s->pos++;
  return rc;
}

/* ---- the generate loop ------------------------------------------------- */

int64_t gc_generate(const gc_model_config *c, const gc_tensor_map *params, const int64_t *prompt,
                    int64_t n_prompt, const gc_generate_opts *o, int64_t *out, gc_diag *d) {
  if (o->max_new < 0) return gc_diag_set(d, "generation: max_new %lld < 0", (long long)o->max_new);
  if (o->temperature > 0 && !(o->top_p > 0 && o->top_p <= 1))
    return gc_diag_set(d, "generation: top_p %g is not in (0, 1]", o->top_p);
  /* The last generated token is never fed back, so the cache needs
   * n_prompt + max_new - 1 slots (at least the prompt's). */
  int64_t max_len = n_prompt + (o->max_new > 0 ? o->max_new - 1 : 0);
  gc_decoder *s = gc_decoder_new(c, params, max_len, d);
  if (!s) return -1;
  double *logits = malloc((size_t)s->vocab * sizeof *logits);
  gc_rng rng;
  gc_rng_seed(&rng, o->seed);
  int64_t n = -1;
  if (!logits) gc_diag_set(d, "out of memory");
  else if (gc_decoder_prefill(s, prompt, n_prompt, logits, d) == 0)
    for (n = 0; n < o->max_new; n++) {
      if (n > 0 && gc_decoder_step(s, out[n - 1], logits, d)) {
        n = -1;
        break;
      }
      int64_t tok = gc_sample(logits, s->vocab, o->temperature, o->top_p, &rng, d);
      if (tok < 0) {
        n = -1;
        break;
      }
      out[n] = tok;
      if (tok == o->eos_id) {
        n++;
        break;
      }
    }
  free(logits);
  gc_decoder_free(s);
  return n;
}
