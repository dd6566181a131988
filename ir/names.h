/* ir/names.h — a graph's names found by hashing: its inputs and params by
 * name, its outputs and updates by name.  The index lives in the graph and
 * catches up with what was appended since the last lookup (a graph only
 * grows), so every lookup costs O(1) however many names there are.  The
 * first of several equal names wins, as a scan from the start would find. */
#ifndef GC_IR_NAMES_H
#define GC_IR_NAMES_H

#include "ir/ir.h"

typedef enum { GC_NAME_INPUT, GC_NAME_PARAM, GC_NAME_OUTPUT, GC_NAME_UPDATE } gc_name_kind;

/* The node (inputs, params) or binding index (outputs, updates) named
 * `name`, or -1. */
int gc_graph_names_find(const gc_graph *g, gc_name_kind kind, const char *name);
void gc_graph_names_free(gc_graph *g);

#endif
