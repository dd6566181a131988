/* Generation: the families' prefill/decode graph builders, a decoder
 * running them as programs that hold the KV cache, and the
 * generate loop (prefill once, then one decode step per token). */
#include "train/generate.h"
#include "backends/backend.h"
#include "base/clock.h"
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

/* The decode program owns the weights (copied in once, or taken) and the
 * cache; each prefill program shares both with it, so the cache a prefill
 * writes is the one the steps read. */
struct gc_decoder {
  const gc_model_config *config;
  const gc_compile_options *options;   /* borrowed; NULL: the defaults */
  gc_program *step;               /* the decode program */
  gc_tensor *step_ids, *step_pos; /* its input slots */
  int64_t max_len, vocab, pos;
  double prefill_seconds;         /* the last prefill's run */
};

/* Every param but the cache (the updated ones) must be among the weights,
 * and the cache's names must not be. */
static int check_params(const gc_graph *g, const gc_tensor_map *weights, gc_diag *d) {
  for (int i = 0; i < g->n_updates; i++)
    if (gc_tensor_map_get(weights, g->updates[i].name))
      return gc_diag_set(d, "generation: the params hold \"%s\", a name the KV cache uses", g->updates[i].name);
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    if (n->op != GC_OP_PARAM || gc_tensor_map_get(weights, n->attrs.name.name)) continue;
    bool cache = false;
    for (int k = 0; k < g->n_updates; k++) cache = cache || strcmp(g->updates[k].name, n->attrs.name.name) == 0;
    if (!cache) return gc_diag_set(d, "param \"%s\" is missing", n->attrs.name.name);
  }
  return 0;
}

/* A program for g with the decoder's options. */
static gc_program *compile(const gc_decoder *s, gc_graph *g, gc_diag *d) {
  gc_program *p = g ? gc_compile(g, s->options, d) : NULL;
  gc_graph_free(g);
  return p;
}

/* A decoder whose program copies the weights from params (take false) or
 * takes them out of it (true), once it has compiled. */
static gc_decoder *make(const gc_model_config *c, gc_tensor_map *params, bool take, int64_t max_len,
                        const gc_compile_options *options, gc_diag *d) {
  gc_decoder *s = calloc(1, sizeof *s);
  if (!s) return gc_diag_set(d, "out of memory"), NULL;
  *s = (gc_decoder){.config = c, .options = options, .max_len = max_len, .vocab = c->family->vocab_size(c->config)};
  gc_graph *g = gc_decode_build_step(c, max_len, d);
  if (!g || check_params(g, params, d)) {
    gc_graph_free(g);
    gc_decoder_free(s);
    return NULL;
  }
  s->step = compile(s, g, d);
  if (!s->step || (take ? gc_program_adopt_params(s->step, params, false, d)
                        : gc_program_set_params(s->step, params, false, d))) {
    gc_decoder_free(s);
    return NULL;
  }
  s->step_ids = gc_program_input(s->step, "input_ids");
  s->step_pos = gc_program_input(s->step, "position");
  return s;
}

gc_decoder *gc_decoder_new(const gc_model_config *c, const gc_tensor_map *params, int64_t max_len,
                           gc_diag *d) {
  return make(c, (gc_tensor_map *)params, false, max_len, NULL, d);   /* only read */
}

gc_decoder *gc_decoder_new_taking(const gc_model_config *c, gc_tensor_map *params, int64_t max_len, gc_diag *d) {
  return make(c, params, true, max_len, NULL, d);
}

void gc_decoder_free(gc_decoder *s) {
  if (!s) return;
  gc_program_free(s->step);
  free(s);
}

int64_t gc_decoder_position(const gc_decoder *s) { return s->pos; }
int64_t gc_decoder_vocab(const gc_decoder *s) { return s->vocab; }

/* Copy out p's logits [1, V]. */
static void read_logits(const gc_decoder *s, const gc_program *p, double *logits) {
  const gc_tensor *t = gc_program_output(p, "logits");
  for (int64_t i = 0; i < s->vocab; i++) logits[i] = gc_tensor_load(t, i);
}

int gc_decoder_prefill(gc_decoder *s, const int64_t *ids, int64_t n, double *logits, gc_diag *d) {
  s->pos = 0;
  gc_program *p = compile(s, gc_decode_build_prefill(s->config, n, s->max_len, d), d);
  int rc = p ? gc_program_share_params(p, s->step, d) : -1;
  if (rc == 0) {
    memcpy(gc_program_input(p, "input_ids")->data, ids, (size_t)n * sizeof *ids);
    double t0 = gc_now_seconds();
    rc = gc_program_run(p, d);
    s->prefill_seconds = gc_now_seconds() - t0;
  }
  if (rc == 0) read_logits(s, p, logits);
  gc_program_free(p);
  s->pos = rc == 0 ? n : 0;
  return rc;
}

int gc_decoder_step(gc_decoder *s, int64_t id, double *logits, gc_diag *d) {
  if (s->pos < 1) return gc_diag_set(d, "generation: decode step before the prompt");
  if (s->pos >= s->max_len)
    return gc_diag_set(d, "generation: the cache holds %lld positions, all used", (long long)s->max_len);
  *(int64_t *)s->step_ids->data = id;
  *(int64_t *)s->step_pos->data = s->pos;
  if (gc_program_run(s->step, d)) return -1;
  read_logits(s, s->step, logits);
  s->pos++;
  return 0;
}

/* ---- the generate loop ------------------------------------------------- */

int64_t gc_generate(const gc_model_config *c, gc_tensor_map *params, const int64_t *prompt,
                    int64_t n_prompt, const gc_generate_opts *o, int64_t *out, gc_diag *d) {
  if (o->max_new < 0) return gc_diag_set(d, "generation: max_new %lld < 0", (long long)o->max_new);
  if (o->temperature > 0 && !(o->top_p > 0 && o->top_p <= 1))
    return gc_diag_set(d, "generation: top_p %g is not in (0, 1]", o->top_p);
  /* The last generated token is never fed back, so the cache needs
   * n_prompt + max_new - 1 slots (at least the prompt's). */
  int64_t max_len = n_prompt + (o->max_new > 0 ? o->max_new - 1 : 0);
  gc_decoder *s = make(c, params, o->take_weights, max_len, o->compile, d);
  if (!s) return -1;
  double *logits = malloc((size_t)s->vocab * sizeof *logits);
  gc_rng rng;
  gc_rng_seed(&rng, o->seed);
  int64_t n = -1;
  gc_generate_stats st = {.prompt_tokens = n_prompt};
  if (!logits) gc_diag_set(d, "out of memory");
  else if (gc_decoder_prefill(s, prompt, n_prompt, logits, d) == 0)
    for (n = 0; n < o->max_new; n++) {
      double t0 = gc_now_seconds();
      if (n > 0 && gc_decoder_step(s, out[n - 1], logits, d)) {
        n = -1;
        break;
      }
      if (n > 0) st.decode_seconds += gc_now_seconds() - t0, st.decode_steps++;
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
  st.prefill_seconds = s->prefill_seconds;
  st.new_tokens = n < 0 ? 0 : n;
  if (o->stats) *o->stats = st;
  free(logits);
  gc_decoder_free(s);
  return n;
}
