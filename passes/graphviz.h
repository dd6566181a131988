/* passes/graphviz.h — a graph as Graphviz text (gc-opt/gc-run --emit-dot):
 * one box per node (op, type, label), one edge per operand, the nodes of
 * each kernel in a cluster.  With a filter, only nodes whose label starts
 * with it (one layer of a big model), and the edges between them.
 * Returns a malloc'd string, NULL when out of memory. */
#ifndef GC_PASSES_GRAPHVIZ_H
#define GC_PASSES_GRAPHVIZ_H

#include "ir/ir.h"

char *gc_graph_graphviz(const gc_graph *g, const char *label_prefix);

#endif
