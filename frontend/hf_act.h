/* frontend/hf_act.h — activations by their Hugging Face name (ACT2FN), and the gated MLP. */
#ifndef GC_HF_ACT_H
#define GC_HF_ACT_H

#include "frontend/builder.h"

/* "gelu" (erf), "gelu_new" and "gelu_pytorch_tanh" (tanh form), "relu",
 * "silu"/"swish".  An unknown name is a builder error. */
gc_val gc_hf_activation(gc_builder *b, gc_val x, const char *name);

/* The gated MLP of Llama/Qwen2: down_proj(act(gate_proj(x)) * up_proj(x)),
 * no biases; params name.{gate,up,down}_proj.weight.  act "silu" is SwiGLU. */
gc_val gc_gated_mlp(gc_builder *b, gc_val x, const char *name, int64_t hidden, int64_t intermediate,
                    const char *act);

#endif
