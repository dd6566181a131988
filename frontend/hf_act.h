/* frontend/hf_act.h — activations by their Hugging Face name (ACT2FN). */
#ifndef GC_HF_ACT_H
#define GC_HF_ACT_H

#include "frontend/builder.h"

/* "gelu" (erf), "gelu_new" and "gelu_pytorch_tanh" (tanh form), "relu",
 * "silu"/"swish".  An unknown name is a builder error. */
gc_val gc_hf_activation(gc_builder *b, gc_val x, const char *name);

#endif
