/* frontend/gc.h — the one header a user of gc includes.
 *
 * Build a graph with the builder and nn blocks, take its gradients and
 * append an optimizer, compile it and run it:
 *
 *   gc_builder *b = gc_builder_new("mlp", GC_F32);
 *   gc_val x = gc_input(b, "x", GC_F32, 2, (int64_t[]){8, 16});
 *   ...
 *   gc_output(b, "loss", loss);
 *   gc_graph *g = gc_builder_finish(b, &d);
 *   gc_optim_config opt;
 *   gc_optim_defaults(&opt);
 *   gc_optim_append(g, "loss", &opt, &d);          // backward + AdamW as graph nodes
 *   gc_program *p = gc_compile(g, NULL, &d);       // passes, then the default backend (llvm)
 *   gc_program_set_params(p, &params, true, &d);
 *   gc_program_feed(p, &inputs, &d);
 *   gc_program_run(p, &d);                          // as many times as you like
 *
 * Models (Qwen2, GPT-2, BERT, T5) come from models/model.h by name, their
 * weights from safetensors files (io/safetensors.h), and the training loop
 * gc-train runs is a library too (train/train.h). */
#ifndef GC_FRONTEND_GC_H
#define GC_FRONTEND_GC_H

#include "ir/ir.h"                  /* graphs, types, the text form (gc_parse, gc_print) */
#include "frontend/builder.h"       /* the builder: numpy-style ops, params, inputs, outputs */
#include "frontend/builder_call.h"  /* call @name: the user's C functions in the graph */
#include "backends/runtime/call.h"  /* gc_register_call, plugins, gc_call_args */
#include "frontend/nn.h"            /* nn blocks: linear, norms, attention, activations */
#include "frontend/optim.h"         /* optimizers and schedules as graph builders */
#include "autodiff/autodiff.h"      /* gc_grad, gc_grad_outputs */
#include "passes/pass.h"            /* the pass pipeline and its options */
#include "backends/backend.h"       /* gc_compile and gc_program_* */
#include "io/safetensors.h"         /* tensors in and out */
#include "models/model.h"           /* the model registry: configs, presets, graphs */

#endif
