/* backends/runtime/program.h — the inside of a gc_program, for backends.
 *
 * A program's slots are the persistent buffers behind its params, inputs
 * and outputs.  Each slot is a gc_tensor whose data the program owns;
 * backends read params and inputs from them, write outputs into them, and
 * write each update into its param's slot once every node has run (an
 * update planned into="P" is computed straight into that slot instead).  A slot's
 * data pointer may change between runs (gc_program_share_params): backends
 * read it at the start of each run. */
#ifndef GC_RUNTIME_PROGRAM_H
#define GC_RUNTIME_PROGRAM_H

#include "backends/backend.h"
#include "backends/runtime/nan_check.h"

typedef struct {
  const char *name;    /* in the graph's arena */
  int node;            /* param/input: its node; output: the value bound */
  gc_tensor tensor;    /* the buffer (type, data) */
  bool shared;         /* data belongs to another program (share_params) */
} gc_slot;

struct gc_program {
  gc_graph *graph;
  const gc_backend *backend;
  void *state;                 /* the backend's */
  int n_params, n_inputs, n_outputs, n_updates;
  gc_slot *params, *inputs, *outputs;
  int *update_param;           /* update i writes params[update_param[i]] */
  int *slot_of_node;           /* node -> its param or input slot index, -1 */
  gc_program_stats stats;
  const struct gc_comm *comm;  /* the collectives' communicator, never NULL */
  gc_nan_check *nan_check;     /* --check-nans, else NULL (nan_check.h) */
};

/* The slot of a param or input node (NULL for other nodes). */
static inline gc_slot *gc_program_source_slot(gc_program *p, int node) {
  int s = p->slot_of_node[node];
  if (s < 0) return NULL;
  return p->graph->nodes[node]->op == GC_OP_PARAM ? &p->params[s] : &p->inputs[s];
}

#endif
