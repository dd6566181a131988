/* GPT-2: the config (Hugging Face GPT2Config keys), defaults and presets. */
#include "models/gpt2.h"

#define KEY(kind, field, choices, help) {#field, GC_KEY_##kind, offsetof(gc_gpt2_config, field), choices, help},
static const gc_config_key keys[] = {
    KEY(INT, vocab_size, NULL, "vocabulary size")
    KEY(INT, n_positions, NULL, "longest sequence (learned positions)")
    KEY(INT, n_embd, NULL, "model width")
    KEY(INT, n_layer, NULL, "blocks")
    KEY(INT, n_head, NULL, "attention heads")
    KEY(INT, n_inner, NULL, "MLP width (0: 4 * n_embd)")
    KEY(STRING, activation_function, "gelu_new|gelu|gelu_pytorch_tanh|relu|silu", "MLP activation")
    KEY(FLOAT, resid_pdrop, NULL, "dropout after attention and MLP")
    KEY(FLOAT, embd_pdrop, NULL, "dropout on embeddings")
    KEY(FLOAT, attn_pdrop, NULL, "dropout on attention probabilities")
    KEY(FLOAT, layer_norm_epsilon, NULL, "LayerNorm epsilon")
    KEY(FLOAT, initializer_range, NULL, "std of the normal init")
    KEY(BOOL, scale_attn_weights, NULL, "scale scores by 1/sqrt(head_dim)")
    KEY(BOOL, scale_attn_by_inverse_layer_idx, NULL, "also scale scores by 1/(layer+1)")
    KEY(BOOL, tie_word_embeddings, NULL, "lm_head shares transformer.wte.weight")
    KEY(INT, bos_token_id, NULL, "beginning-of-text token")
    KEY(INT, eos_token_id, NULL, "end-of-text token")
    {NULL, 0, 0, NULL, NULL},
};
#undef KEY

/* GPT2Config's defaults (transformers): the 124M model. */
static const gc_gpt2_config defaults = {
    .vocab_size = 50257, .n_positions = 1024, .n_embd = 768, .n_layer = 12, .n_head = 12,
    .n_inner = 0, .activation_function = "gelu_new", .resid_pdrop = 0.1, .embd_pdrop = 0.1,
    .attn_pdrop = 0.1, .layer_norm_epsilon = 1e-5, .initializer_range = 0.02,
    .scale_attn_weights = true, .scale_attn_by_inverse_layer_idx = false,
    .tie_word_embeddings = true, .bos_token_id = 50256, .eos_token_id = 50256,
};

static const gc_model_preset presets[] = {
    {"gpt2_tiny", "GPT-2 with 4 blocks of width 128 for CPU training",
     "vocab_size=512,n_positions=128,n_embd=128,n_layer=4,n_head=4,n_inner=512,"
     "activation_function=gelu_new,layer_norm_epsilon=1e-5,tie_word_embeddings=true,"
     "bos_token_id=0,eos_token_id=0"},
    {"gpt2", "GPT-2 124M (published config)", ""},
    {NULL, NULL, NULL},
};

static int validate(const void *config, gc_diag *d) {
  const gc_gpt2_config *c = config;
  if (c->vocab_size < 1 || c->n_positions < 1 || c->n_embd < 1 || c->n_layer < 0 || c->n_head < 1 ||
      c->n_inner < 0)
    return gc_diag_set(d, "gpt2: sizes, layer and head counts must be positive");
  if (c->n_embd % c->n_head)
    return gc_diag_set(d, "gpt2: n_embd %lld is not divisible by n_head %lld", (long long)c->n_embd,
                       (long long)c->n_head);
  return 0;
}

static int64_t vocab_size(const void *config) { return ((const gc_gpt2_config *)config)->vocab_size; }

static const char *const *aliases(const void *config) {
  static const char *const tied[] = {"lm_head.weight", "transformer.wte.weight", NULL};
  return ((const gc_gpt2_config *)config)->tie_word_embeddings ? tied : NULL;
}

const gc_model_family gc_family_gpt2 = {
    .name = "gpt2", .hf_class = "GPT2LMHeadModel", .base_prefix = "transformer", .task = GC_MODEL_CAUSAL_LM,
    .config_size = sizeof(gc_gpt2_config), .defaults = &defaults, .keys = keys, .presets = presets,
    .validate = validate, .vocab_size = vocab_size, .aliases = aliases,
    .trunk = gc_gpt2_trunk, .lm_head = gc_gpt2_lm_head, .max_positions = gc_gpt2_max_positions,
};
