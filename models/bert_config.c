/* BERT: the config (Hugging Face BertConfig keys), defaults and presets. */
#include "models/bert.h"

#define KEY(kind, field, choices, help) {#field, GC_KEY_##kind, offsetof(gc_bert_config, field), choices, help},
static const gc_config_key keys[] = {
    KEY(INT, vocab_size, NULL, "vocabulary size")
    KEY(INT, hidden_size, NULL, "model width")
    KEY(INT, num_hidden_layers, NULL, "encoder layers")
    KEY(INT, num_attention_heads, NULL, "attention heads")
    KEY(INT, intermediate_size, NULL, "MLP width")
    KEY(STRING, hidden_act, "gelu|gelu_new|gelu_pytorch_tanh|relu|silu", "MLP activation")
    KEY(FLOAT, hidden_dropout_prob, NULL, "dropout on hidden states")
    KEY(FLOAT, attention_probs_dropout_prob, NULL, "dropout on attention probabilities")
    KEY(INT, max_position_embeddings, NULL, "longest sequence (learned positions)")
    KEY(INT, type_vocab_size, NULL, "token types (segments)")
    KEY(FLOAT, initializer_range, NULL, "std of the normal init")
    KEY(FLOAT, layer_norm_eps, NULL, "LayerNorm epsilon")
    KEY(INT, pad_token_id, NULL, "padding token (its embedding row gets no gradient from the lookup)")
    KEY(STRING, position_embedding_type, "absolute", "position embeddings")
    KEY(BOOL, tie_word_embeddings, NULL, "decoder shares bert.embeddings.word_embeddings.weight")
    {NULL, 0, 0, NULL, NULL},
};
#undef KEY

/* BertConfig's defaults (transformers): bert-base. */
static const gc_bert_config defaults = {
    .vocab_size = 30522, .hidden_size = 768, .num_hidden_layers = 12, .num_attention_heads = 12,
    .intermediate_size = 3072, .hidden_act = "gelu", .hidden_dropout_prob = 0.1,
    .attention_probs_dropout_prob = 0.1, .max_position_embeddings = 512, .type_vocab_size = 2,
    .initializer_range = 0.02, .layer_norm_eps = 1e-12, .pad_token_id = 0,
    .position_embedding_type = "absolute", .tie_word_embeddings = true,
};

static const gc_model_preset presets[] = {
    {"bert_tiny", "BERT with 4 layers of width 128 for CPU training",
     "vocab_size=512,hidden_size=128,num_hidden_layers=4,num_attention_heads=4,"
     "intermediate_size=512,max_position_embeddings=128,type_vocab_size=2,layer_norm_eps=1e-12,"
     "pad_token_id=0,tie_word_embeddings=true"},
    {"bert_base", "bert-base-uncased (published config)", ""},
    {NULL, NULL, NULL},
};

static int validate(const void *config, gc_diag *d) {
  const gc_bert_config *c = config;
  if (c->vocab_size < 1 || c->hidden_size < 1 || c->num_hidden_layers < 0 || c->num_attention_heads < 1 ||
      c->intermediate_size < 1 || c->max_position_embeddings < 1 || c->type_vocab_size < 1)
    return gc_diag_set(d, "bert: sizes, layer and head counts must be positive");
  if (c->hidden_size % c->num_attention_heads)
    return gc_diag_set(d, "bert: hidden_size %lld is not divisible by num_attention_heads %lld",
                       (long long)c->hidden_size, (long long)c->num_attention_heads);
  if (c->pad_token_id < 0 || c->pad_token_id >= c->vocab_size)
    return gc_diag_set(d, "bert: pad_token_id %lld is outside the vocabulary", (long long)c->pad_token_id);
  return 0;
}

static int64_t vocab_size(const void *config) { return ((const gc_bert_config *)config)->vocab_size; }

static const char *const *aliases(const void *config) {
  static const char *const tied[] = {"cls.predictions.decoder.weight", "bert.embeddings.word_embeddings.weight",
                                     "cls.predictions.decoder.bias", "cls.predictions.bias", NULL};
  static const char *const untied[] = {"cls.predictions.decoder.bias", "cls.predictions.bias", NULL};
  return ((const gc_bert_config *)config)->tie_word_embeddings ? tied : untied;
}

const gc_model_family gc_family_bert = {
    .name = "bert", .hf_class = "BertForMaskedLM", .base_prefix = "bert", .task = GC_MODEL_MASKED_LM,
    .config_size = sizeof(gc_bert_config), .defaults = &defaults, .keys = keys, .presets = presets,
    .validate = validate, .build = gc_bert_build, .vocab_size = vocab_size, .aliases = aliases,
};
