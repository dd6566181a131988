/* Scanning a kernel's results for NaN and Inf (see nan_check.h). */
#include "backends/runtime/nan_check.h"
#include "backends/runtime/program.h"

#include <string.h>

/* Whether |x| (the bits without the sign) is at or above `limit`, for
 * every x at once: |x| + (2^31 - limit) has its top bit set exactly then
 * (it cannot wrap), so one OR over all of them answers.  The loop has no
 * early exit and no branch, so it vectorises: a clean run (the usual
 * case) reads each value once at memory speed.  Only a bad buffer is read
 * again, to count and find the first. */
static int64_t scan_f32(const uint32_t *x, int64_t n, uint32_t limit, int64_t *count) {
  uint32_t any = 0, bias = 0x80000000u - limit;
  for (int64_t i = 0; i < n; i++) any |= (x[i] & 0x7fffffffu) + bias;
  if (!(any & 0x80000000u)) return -1;
  int64_t first = -1;
  for (int64_t i = 0; i < n; i++)
    if ((x[i] & 0x7fffffffu) >= limit) ++*count, first = first < 0 ? i : first;
  return first;
}

static int64_t scan_f64(const uint64_t *x, int64_t n, uint64_t limit, int64_t *count) {
  const uint64_t top = 0x8000000000000000ull;
  uint64_t any = 0, bias = top - limit;
  for (int64_t i = 0; i < n; i++) any |= (x[i] & ~top) + bias;
  if (!(any & top)) return -1;
  int64_t first = -1;
  for (int64_t i = 0; i < n; i++)
    if ((x[i] & ~top) >= limit) ++*count, first = first < 0 ? i : first;
  return first;
}

int64_t gc_nan_scan(const void *data, gc_dtype dt, int64_t n, bool infs, int64_t *count) {
  *count = 0;
  /* |x| at or above the limit: Inf's bits (infs) or just above them (NaN) */
  if (dt == GC_F32) return scan_f32(data, n, infs ? 0x7f800000u : 0x7f800001u, count);
  if (dt == GC_F64) return scan_f64(data, n, infs ? 0x7ff0000000000000ull : 0x7ff0000000000001ull, count);
  return -1;
}

void gc_nan_kernel_span(const gc_graph *g, int last, int *lo, int *hi) {
  *lo = *hi = last;
  if (last < 0) return;
  int k = g->nodes[last]->kernel;
  while (k && *lo > 0 && g->nodes[*lo - 1]->kernel == k) --*lo;
  while (k && *hi + 1 < g->n_nodes && g->nodes[*hi + 1]->kernel == k) ++*hi;
}

static bool is_nan_at(const void *data, gc_dtype dt, int64_t i) {
  if (dt == GC_F32) return (((const uint32_t *)data)[i] & 0x7fffffffu) > 0x7f800000u;
  return (((const uint64_t *)data)[i] & 0x7fffffffffffffffull) > 0x7ff0000000000000ull;
}

int gc_nan_check_kernel(gc_program *p, int kernel, int lo, int hi, gc_value_fn *value, void *ctx, gc_diag *d) {
  const gc_graph *g = p->graph;
  gc_nan_check *c = p->nan_check;
  for (int i = lo; i <= hi && i >= 0; i++) {
    const gc_node *nd = g->nodes[i];
    if (!gc_dtype_is_float(nd->type.dtype)) continue;
    void *data = value(ctx, i);
    if (!data) continue;
    int64_t count, first = gc_nan_scan(data, nd->type.dtype, gc_type_numel_unchecked(&nd->type), c->infs, &count);
    if (first < 0) continue;
    c->stopped = true;
    gc_nan_found f = {p, lo, hi, kernel, i, first, count, is_nan_at(data, nd->type.dtype, first), c->step, value, ctx};
    if (c->report) return c->report(&f, d);
    return gc_diag_set(d, "%s in step %lld: %lld of the values of %%%d (%s%s%s) are not finite, the first at %lld",
                       f.nan ? "NaN" : "Inf", (long long)f.step, (long long)count, i, gc_op_name(nd->op),
                       nd->label ? " " : "", nd->label ? nd->label : "", (long long)first);
  }
  return 0;
}
