/* backends/runtime/nan_check.h — --check-nans: each kernel's results
 * scanned for NaN (and ±Inf) between kernels.
 *
 * The check is a pass over the results a backend's run loop makes after
 * each kernel (interp: after each node), never code in the kernels: with it
 * off nothing changes.  On the first bad value the run stops; the report
 * (what a NaN is, where it was born) comes from `report`, which gc_compile
 * installs (backends/nan_report.c: the kernel replayed in the interpreter);
 * without one the message names the node and the element. */
#ifndef GC_RUNTIME_NAN_CHECK_H
#define GC_RUNTIME_NAN_CHECK_H

#include "ir/ir.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct gc_program gc_program;

/* The address of node's value now, NULL when it is not stored (a value a
 * fused kernel keeps in registers, a constant computed where it is used). */
typedef void *gc_value_fn(void *ctx, int node);

/* What the check found: the kernel (nodes lo..hi of the program's graph),
 * the first result holding a bad value, where, and how many. */
typedef struct {
  gc_program *program;
  int lo, hi;             /* the kernel's nodes, consecutive */
  int kernel;             /* the backend's number for it (k<kernel>), or -1 */
  int node;               /* the first result with a bad value */
  int64_t first, count;   /* its first bad element, how many */
  bool nan;               /* a NaN (else an Inf) */
  int64_t step;           /* runs of the program, this one included */
  gc_value_fn *value;     /* values of the kernel's operands and results */
  void *ctx;
} gc_nan_found;

typedef int gc_nan_report_fn(const gc_nan_found *f, gc_diag *d);

typedef struct gc_nan_check {
  bool infs;                  /* ±Inf is bad too */
  const char *dir;            /* the reproducer's directory; NULL: "gc-nan" */
  int64_t step;               /* runs begun */
  bool stopped;               /* the last run stopped at a bad value */
  gc_nan_report_fn *report;   /* NULL: a message naming the node */
} gc_nan_check;

/* The first bad element of n values of dtype dt at data (-1: none), and
 * how many there are.  Integer dtypes have none. */
int64_t gc_nan_scan(const void *data, gc_dtype dt, int64_t n, bool infs, int64_t *count);

/* After kernel `kernel`, which wrote nodes lo..hi of p's graph (those whose
 * value(ctx, node) is not NULL): 0 when every result is finite, else -1
 * with the report in d.  p->nan_check must be set. */
int gc_nan_check_kernel(gc_program *p, int kernel, int lo, int hi, gc_value_fn *value, void *ctx, gc_diag *d);

/* The nodes lo..hi of the kernel that `node` is part of: the node itself,
 * or in a fused graph the run of nodes around it with its kernel number.
 * (A kernel's results come after all it reads, so the last node of its
 * buffers is one of its own.) */
void gc_nan_kernel_span(const gc_graph *g, int node, int *lo, int *hi);

#endif
