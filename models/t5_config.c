/* T5: the config (Hugging Face T5Config keys), defaults and presets. */
#include "models/t5.h"

#define KEY(kind, field, choices, help) {#field, GC_KEY_##kind, offsetof(gc_t5_config, field), choices, help},
static const gc_config_key keys[] = {
    KEY(INT, vocab_size, NULL, "vocabulary size")
    KEY(INT, d_model, NULL, "model width")
    KEY(INT, d_kv, NULL, "size of each attention head")
    KEY(INT, d_ff, NULL, "feed-forward width")
    KEY(INT, num_layers, NULL, "encoder blocks")
    KEY(INT, num_decoder_layers, NULL, "decoder blocks")
    KEY(INT, num_heads, NULL, "attention heads")
    KEY(INT, relative_attention_num_buckets, NULL, "relative position buckets")
    KEY(INT, relative_attention_max_distance, NULL, "distance of the last bucket")
    KEY(FLOAT, dropout_rate, NULL, "dropout")
    KEY(FLOAT, layer_norm_epsilon, NULL, "T5LayerNorm (RMS) epsilon")
    KEY(FLOAT, initializer_factor, NULL, "scale of every init")
    KEY(STRING, feed_forward_proj, "relu|gated-gelu|gelu|gated-relu|silu|gated-silu", "feed-forward kind")
    KEY(BOOL, is_encoder_decoder, NULL, "accepted (always true)")
    KEY(BOOL, use_cache, NULL, "accepted")
    KEY(BOOL, tie_word_embeddings, NULL, "lm_head shares shared.weight (and scales by d_model^-0.5)")
    KEY(INT, pad_token_id, NULL, "padding token")
    KEY(INT, eos_token_id, NULL, "end-of-sequence token")
    KEY(INT, decoder_start_token_id, NULL, "first decoder input")
    {NULL, 0, 0, NULL, NULL},
};
#undef KEY

/* T5Config's defaults (transformers): t5-small. */
static const gc_t5_config defaults = {
    .vocab_size = 32128, .d_model = 512, .d_kv = 64, .d_ff = 2048, .num_layers = 6,
    .num_decoder_layers = 6, .num_heads = 8, .relative_attention_num_buckets = 32,
    .relative_attention_max_distance = 128, .dropout_rate = 0.1, .layer_norm_epsilon = 1e-6,
    .initializer_factor = 1.0, .feed_forward_proj = "relu", .tie_word_embeddings = true,
    .is_encoder_decoder = true, .use_cache = true, .pad_token_id = 0, .eos_token_id = 1,
    .decoder_start_token_id = 0,
};

static const gc_model_preset presets[] = {
    {"t5_tiny", "T5 with 3+2 blocks of width 128 for CPU training",
     "vocab_size=512,d_model=128,d_kv=32,d_ff=256,num_layers=3,num_decoder_layers=2,num_heads=4,"
     "relative_attention_num_buckets=32,relative_attention_max_distance=128,layer_norm_epsilon=1e-6,"
     "feed_forward_proj=relu,tie_word_embeddings=true,pad_token_id=0,eos_token_id=1,"
     "decoder_start_token_id=0"},
    {"t5_small", "t5-small (published config)", ""},
    {NULL, NULL, NULL},
};

static int validate(const void *config, gc_diag *d) {
  const gc_t5_config *c = config;
  if (c->vocab_size < 1 || c->d_model < 1 || c->d_kv < 1 || c->d_ff < 1 || c->num_layers < 0 ||
      c->num_decoder_layers < 0 || c->num_heads < 1 || c->relative_attention_num_buckets < 2 ||
      c->relative_attention_max_distance < 2)
    return gc_diag_set(d, "t5: sizes, layer, head and bucket counts must be positive");
  if (c->pad_token_id < 0 || c->pad_token_id >= c->vocab_size || c->decoder_start_token_id < 0 ||
      c->decoder_start_token_id >= c->vocab_size)
    return gc_diag_set(d, "t5: pad_token_id and decoder_start_token_id must be in the vocabulary");
  return 0;
}

static int64_t vocab_size(const void *config) { return ((const gc_t5_config *)config)->vocab_size; }

static const char *const *aliases(const void *config) {
  static const char *const tied[] = {"encoder.embed_tokens.weight", "shared.weight",
                                     "decoder.embed_tokens.weight", "shared.weight",
                                     "lm_head.weight", "shared.weight", NULL};
  static const char *const untied[] = {"encoder.embed_tokens.weight", "shared.weight",
                                       "decoder.embed_tokens.weight", "shared.weight", NULL};
  return ((const gc_t5_config *)config)->tie_word_embeddings ? tied : untied;
}

const gc_model_family gc_family_t5 = {
    .name = "t5", .hf_class = "T5ForConditionalGeneration", .task = GC_MODEL_SEQ2SEQ,
    .config_size = sizeof(gc_t5_config), .defaults = &defaults, .keys = keys, .presets = presets,
    .validate = validate, .build = gc_t5_build, .vocab_size = vocab_size, .aliases = aliases,
};
