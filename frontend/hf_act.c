/* Activations by Hugging Face name, and the gated MLP built on them. */
#include "frontend/hf_act.h"
#include "frontend/nn.h"

#include <string.h>

gc_val gc_hf_activation(gc_builder *b, gc_val x, const char *name) {
  if (!strcmp(name, "gelu")) return gc_gelu(b, x, GC_GELU_ERF);
  if (!strcmp(name, "gelu_new") || !strcmp(name, "gelu_pytorch_tanh")) return gc_gelu(b, x, GC_GELU_TANH);
  if (!strcmp(name, "relu")) return gc_relu(b, x);
  if (!strcmp(name, "silu") || !strcmp(name, "swish")) return gc_silu(b, x);
  gc_builder_fail(b, "unknown activation \"%s\" (gelu, gelu_new, gelu_pytorch_tanh, relu, silu)", name);
  return GC_NONE;
}

gc_val gc_gated_mlp(gc_builder *b, gc_val x, const char *name, int64_t hidden, int64_t intermediate,
                    const char *act) {
  gc_push(b, "%s", name);
  gc_val gate = gc_hf_activation(b, gc_linear(b, x, "gate_proj", hidden, intermediate, false, GC_LINEAR_OUT_IN), act);
  gc_val up = gc_linear(b, x, "up_proj", hidden, intermediate, false, GC_LINEAR_OUT_IN);
  gc_val y = gc_linear(b, gc_mul(b, gate, up), "down_proj", intermediate, hidden, false, GC_LINEAR_OUT_IN);
  gc_pop(b);
  return y;
}
