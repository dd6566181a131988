/* Layout chains as strided views (see view.h). */
#include "ir/view.h"

#include <stdlib.h>
#include <string.h>

void gc_row_major_strides(const gc_type *t, int64_t *strides) {
  int64_t s = 1;
  for (int i = t->rank - 1; i >= 0; i--) {
    strides[i] = s;
    s *= t->dims[i];
  }
}

/* The view of a reshape's result from the view `in` of its operand: dims
 * of the result are matched to the operand's in groups of equal product;
 * a group is one strided dim when its operand dims are contiguous with
 * respect to each other (stride[k] == stride[k+1] * dims[k+1], ignoring
 * size-1 dims). */
static bool reshape_view(const gc_view *in, const gc_type *out, gc_view *v) {
  v->rank = out->rank;
  memcpy(v->dims, out->dims, sizeof(int64_t) * (size_t)out->rank);
  v->offset = in->offset;
  int i = 0, o = 0;
  while (o < out->rank || i < in->rank) {
    /* size-1 dims on either side stand alone */
    if (o < out->rank && out->dims[o] == 1) {
      v->strides[o++] = 0;
      continue;
    }
    if (i < in->rank && in->dims[i] == 1) {
      i++;
      continue;
    }
    if (o >= out->rank || i >= in->rank) return false;
    /* grow a group until the products match */
    int i0 = i, o0 = o;
    int64_t pi = in->dims[i++], po = out->dims[o++];
    while (pi != po) {
      if (pi < po) {
        if (i >= in->rank) return false;
        pi *= in->dims[i++];
      } else {
        if (o >= out->rank) return false;
        po *= out->dims[o++];
      }
    }
    /* the operand dims i0..i-1 must form one strided run (skipping 1s) */
    int64_t inner = 0, stride = 0;
    bool first = true;
    for (int k = i - 1; k >= i0; k--) {
      if (in->dims[k] == 1) continue;
      if (first) {
        stride = in->strides[k];
        inner = in->strides[k] * in->dims[k];
        first = false;
      } else if (in->strides[k] != inner) {
        return false;
      } else {
        inner = in->strides[k] * in->dims[k];
      }
    }
    /* the result dims o0..o-1 split that run row-major */
    int64_t s = stride;
    for (int k = o - 1; k >= o0; k--) {
      v->strides[k] = out->dims[k] == 1 ? 0 : s;
      s *= out->dims[k];
    }
  }
  return true;
}

/* v: view node n applied to in, the view of its operand. */
static bool apply_view(const gc_node *n, const gc_view *in, gc_view *v) {
  const gc_type *t = &n->type;
  switch (n->op) {
  case GC_OP_STOP_GRADIENT: *v = *in; return true;
  case GC_OP_BROADCAST: {
    *v = *in;
    v->rank = t->rank;
    int shift = t->rank - in->rank;
    for (int k = t->rank - 1; k >= 0; k--) {
      int j = k - shift;
      v->dims[k] = t->dims[k];
      v->strides[k] = j >= 0 && in->dims[j] == t->dims[k] ? in->strides[j] : 0;
    }
    return true;
  }
  case GC_OP_TRANSPOSE:
    *v = *in;
    for (int k = 0; k < t->rank; k++) {
      v->dims[k] = in->dims[n->attrs.perm.perm.v[k]];
      v->strides[k] = in->strides[n->attrs.perm.perm.v[k]];
    }
    return true;
  case GC_OP_SLICE: {
    const gc_attrs_slice *s = &n->attrs.slice;
    *v = *in;
    for (int k = 0; k < t->rank; k++) {
      int64_t step = s->step.n ? s->step.v[k] : 1;
      v->offset += s->start.v[k] * in->strides[k];
      v->strides[k] = t->dims[k] == 1 ? 0 : in->strides[k] * step;
      v->dims[k] = t->dims[k];
    }
    return true;
  }
  case GC_OP_RESHAPE: {
    bool ok = reshape_view(in, t, v);
    v->base = in->base;
    return ok;
  }
  default: return false;
  }
}

static bool is_stop(const gc_graph *g, int id, gc_view_stop *stop, void *ctx) {
  return !gc_op_is_view(g->nodes[id]->op) || (stop && stop(id, ctx));
}

/* The chain of views from id down to its base is walked twice (to count,
 * then to list it), then applied from the base up: no recursion as deep
 * as the chain. */
bool gc_view_of(const gc_graph *g, int id, gc_view_stop *stop, void *ctx, gc_view *v) {
  int len = 0, x = id;
  for (; !is_stop(g, x, stop, ctx); x = g->nodes[x]->in[0]) len++;
  const gc_node *base = g->nodes[x];
  gc_view in;
  in.base = x;
  in.rank = base->type.rank;
  memcpy(in.dims, base->type.dims, sizeof(int64_t) * (size_t)base->type.rank);
  gc_row_major_strides(&base->type, in.strides);
  for (int k = 0; k < in.rank; k++)
    if (in.dims[k] == 1) in.strides[k] = 0;
  in.offset = 0;
  int few[64], *chain = len <= 64 ? few : malloc(sizeof *chain * (size_t)len);
  if (!chain) return false;
  x = id;
  for (int i = 0; i < len; i++, x = g->nodes[x]->in[0]) chain[i] = x;
  bool ok = true;
  for (int i = len - 1; i >= 0 && ok; i--) {
    ok = apply_view(g->nodes[chain[i]], &in, v);
    in = *v;
  }
  if (chain != few) free(chain);
  if (len == 0) *v = in;
  return ok;
}
