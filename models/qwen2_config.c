/* Qwen2: the config (Hugging Face Qwen2Config keys), defaults and presets. */
#include "models/qwen2.h"

#include <stdio.h>

#define KEY(kind, field, choices, help) {#field, GC_KEY_##kind, offsetof(gc_qwen2_config, field), choices, help},
static const gc_config_key keys[] = {
    KEY(INT, vocab_size, NULL, "vocabulary size")
    KEY(INT, hidden_size, NULL, "model width")
    KEY(INT, intermediate_size, NULL, "MLP width")
    KEY(INT, num_hidden_layers, NULL, "decoder layers")
    KEY(INT, num_attention_heads, NULL, "query heads")
    KEY(INT, num_key_value_heads, NULL, "key/value heads (grouped-query attention when fewer)")
    KEY(STRING, hidden_act, "silu|gelu|gelu_new|gelu_pytorch_tanh|relu", "MLP gate activation (silu: SwiGLU)")
    KEY(INT, max_position_embeddings, NULL, "longest sequence")
    KEY(FLOAT, initializer_range, NULL, "std of the normal init")
    KEY(FLOAT, rms_norm_eps, NULL, "RMSNorm epsilon")
    KEY(BOOL, use_cache, NULL, "accepted; generation always uses a KV cache")
    KEY(BOOL, tie_word_embeddings, NULL, "lm_head shares model.embed_tokens.weight")
    KEY(FLOAT, rope_theta, NULL, "rotary base")
    KEY(BOOL, use_sliding_window, NULL, "sliding-window attention (not supported: must be false)")
    KEY(INT, sliding_window, NULL, "window size (unused unless use_sliding_window)")
    KEY(INT, max_window_layers, NULL, "layers using full attention (unused)")
    KEY(FLOAT, attention_dropout, NULL, "dropout on attention probabilities")
    KEY(INT, bos_token_id, NULL, "beginning-of-text token")
    KEY(INT, eos_token_id, NULL, "end-of-text token")
    {NULL, 0, 0, NULL, NULL},
};
#undef KEY

/* Qwen2Config's defaults (transformers). */
static const gc_qwen2_config defaults = {
    .vocab_size = 151936, .hidden_size = 4096, .intermediate_size = 22016,
    .num_hidden_layers = 32, .num_attention_heads = 32, .num_key_value_heads = 32,
    .hidden_act = "silu", .max_position_embeddings = 32768, .initializer_range = 0.02,
    .rms_norm_eps = 1e-6, .use_cache = true, .tie_word_embeddings = false, .rope_theta = 10000.0,
    .use_sliding_window = false, .sliding_window = 4096, .max_window_layers = 28,
    .attention_dropout = 0.0, .bos_token_id = 151643, .eos_token_id = 151643,
};

static const gc_model_preset presets[] = {
    {"qwen2_tiny", "Qwen2 with 4 layers of width 128 for CPU training",
     "vocab_size=512,hidden_size=128,intermediate_size=384,num_hidden_layers=4,"
     "num_attention_heads=4,num_key_value_heads=2,rope_theta=10000,rms_norm_eps=1e-6,"
     "max_position_embeddings=256,tie_word_embeddings=false,bos_token_id=0,eos_token_id=0"},
    {"qwen2_0.5b", "Qwen2-0.5B (published config)",
     "vocab_size=151936,hidden_size=896,intermediate_size=4864,num_hidden_layers=24,"
     "num_attention_heads=14,num_key_value_heads=2,rope_theta=1000000,rms_norm_eps=1e-6,"
     "max_position_embeddings=131072,tie_word_embeddings=true,sliding_window=131072,"
     "max_window_layers=24,bos_token_id=151643,eos_token_id=151643"},
    {NULL, NULL, NULL},
};

static int validate(const void *config, gc_diag *d) {
  const gc_qwen2_config *c = config;
  if (c->vocab_size < 1 || c->hidden_size < 1 || c->intermediate_size < 1 || c->num_hidden_layers < 0 ||
      c->num_attention_heads < 1 || c->num_key_value_heads < 1)
    return gc_diag_set(d, "qwen2: sizes, layer and head counts must be positive");
  if (c->hidden_size % c->num_attention_heads)
    return gc_diag_set(d, "qwen2: hidden_size %lld is not divisible by num_attention_heads %lld",
                       (long long)c->hidden_size, (long long)c->num_attention_heads);
  if ((c->hidden_size / c->num_attention_heads) % 2)
    return gc_diag_set(d, "qwen2: the head size must be even for rotary embeddings");
  if (c->num_attention_heads % c->num_key_value_heads)
    return gc_diag_set(d, "qwen2: num_attention_heads %lld is not a multiple of num_key_value_heads %lld",
                       (long long)c->num_attention_heads, (long long)c->num_key_value_heads);
  if (c->use_sliding_window) return gc_diag_set(d, "qwen2: use_sliding_window=true is not supported");
  return 0;
}

static int64_t vocab_size(const void *config) { return ((const gc_qwen2_config *)config)->vocab_size; }

static const char *const *aliases(const void *config) {
  static const char *const tied[] = {"lm_head.weight", "model.embed_tokens.weight", NULL};
  return ((const gc_qwen2_config *)config)->tie_word_embeddings ? tied : NULL;
}

const gc_model_family gc_family_qwen2 = {
    .name = "qwen2", .hf_class = "Qwen2ForCausalLM", .base_prefix = "model", .task = GC_MODEL_CAUSAL_LM,
    .config_size = sizeof(gc_qwen2_config), .defaults = &defaults, .keys = keys, .presets = presets,
    .validate = validate, .vocab_size = vocab_size, .aliases = aliases,
    .trunk = gc_qwen2_trunk, .lm_head = gc_qwen2_lm_head, .max_positions = gc_qwen2_max_positions,
};
