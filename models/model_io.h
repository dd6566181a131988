/* models/model_io.h — feeding a model's graph: params by Hugging Face name
 * (tied aliases accepted), and HF forward()'s defaults for optional inputs. */
#ifndef GC_MODEL_IO_H
#define GC_MODEL_IO_H

#include "ir/tensor.h"
#include "models/model.h"

/* Move the tensors of `file` that the graph's params name (directly, through
 * a tied alias, or without the family's base_model_prefix as a bare model's
 * checkpoint stores them) into `params`, converting between float dtypes
 * (f32 <-> f64) and integer ones as the graph asks.  A shape mismatch is an
 * error naming the tensor.  Params still missing afterwards are an error
 * listing them, unless `inits` is non-NULL: then they are filled by the
 * model's own initialisation from `seed`.  Optimizer state (opt.*) that is
 * missing starts at zeros.  Tensors the graph does not use
 * are reported through `note` (may be NULL) and left in `file`. */
int gc_model_load_params(const gc_model_config *c, const gc_graph *g, gc_tensor_map *file,
                         gc_tensor_map *params, const gc_init_table *inits, uint64_t seed,
                         void (*note)(const char *msg), gc_diag *d);

/* The kept name a tied alias stands for ("lm_head.weight" ->
 * "model.embed_tokens.weight" when tied), or NULL. */
const char *gc_model_alias_target(const gc_model_config *c, const char *name);

/* Complete `inputs` for graph g as HF forward() would: an absent
 * attention_mask is all ones, token_type_ids all zeros, decoder_input_ids
 * shift_right(labels) with decoder_start_token_id (-100 -> pad).  Integer
 * inputs are converted to the graph's dtype; tensors the graph does not take
 * are reported through `note` and dropped. */
int gc_model_complete_inputs(const gc_model_config *c, const gc_graph *g, gc_tensor_map *inputs,
                             void (*note)(const char *msg), gc_diag *d);

/* Convert t to dtype dt (float<->float, int<->int, bool->int); NULL when the
 * conversion is not one of those.  Returns a new tensor. */
gc_tensor *gc_tensor_convert(const gc_tensor *t, gc_dtype dt);

#endif
