/* The collectives over a communicator's two exchanges (all_gather,
 * all_to_all), summed in rank order here so every transport gives bitwise
 * the same result; and the local communicator (one rank). */
#include "backends/runtime/comm.h"

#include <stdlib.h>
#include <string.h>

static const gc_comm_ops local_ops = {.name = "local"};
static const gc_comm local_comm = {.ops = &local_ops, .rank = 0, .size = 1};

const gc_comm *gc_comm_local(void) { return &local_comm; }

void gc_comm_free(gc_comm *c) {
  if (!c || c == &local_comm) return;
  if (c->ops->free) c->ops->free(c);
}

/* out[i] = parts[0][i] + parts[1][i] + ... (left to right), times 1/size
 * when mean; parts are `size` blocks of n elements, `stride` apart. */
#define SUM_PARTS(T)                                                          \
  do {                                                                        \
    const T *p = parts;                                                       \
    T *o = out;                                                               \
    for (int64_t i = 0; i < n; i++) {                                         \
      T acc = p[i];                                                           \
      for (int r = 1; r < size; r++) acc = (T)(acc + p[(int64_t)r * stride + i]); \
      o[i] = mean ? (T)(acc * (T)(1.0 / size)) : acc;                         \
    }                                                                         \
  } while (0)

static void sum_parts(const void *parts, void *out, int64_t n, int64_t stride, int size, gc_dtype dt, bool mean) {
  switch (dt) {
  case GC_F32: SUM_PARTS(float); break;
  case GC_F64: SUM_PARTS(double); break;
  case GC_I32: SUM_PARTS(int32_t); break;
  case GC_I64: SUM_PARTS(int64_t); break;
  default: break;
  }
}

static int check(const gc_comm *c, gc_dtype dt, bool mean, const char *what, gc_diag *d) {
  if (dt == GC_BOOL || (unsigned)dt >= GC_DTYPE_COUNT) return gc_diag_set(d, "%s: a bool value cannot be summed", what);
  if (mean && !gc_dtype_is_float(dt)) return gc_diag_set(d, "%s: a mean needs f32 or f64", what);
  if (c->size > 1 && !c->scratch) return gc_diag_set(d, "%s: the %s communicator has no scratch", what, c->ops->name);
  return 0;
}

/* A reduce-scatter then an all-gather: each rank sends 2 (size-1)/size n
 * elements (an all-gather of the whole buffers sends (size-1) n: the same
 * at 2 ranks, more from 3 on) and sums n/size of them, not n: a piece of up to size * CHUNK elements
 * is cut into `size` blocks (the last zero-padded), rank r sums block r of
 * every rank in rank order, and the sums are gathered back.  Every element
 * is still x0 + x1 + ... on every rank: bitwise the result of summing the
 * whole buffers. */
int gc_comm_all_reduce(const gc_comm *c, const void *in, void *out, int64_t n, gc_dtype dt, bool mean, gc_diag *d) {
  if (check(c, dt, mean, "all_reduce", d)) return -1;
  size_t es = gc_dtype_size(dt);
  if (c->size == 1) {
    if (in != out) memmove(out, in, (size_t)n * es);
    return 0;
  }
  int size = c->size;
  char *send = c->scratch, *recv = send + (size_t)size * GC_COMM_CHUNK * es;
  for (int64_t at = 0; at < n; at += (int64_t)size * GC_COMM_CHUNK) {
    int64_t len = n - at < (int64_t)size * GC_COMM_CHUNK ? n - at : (int64_t)size * GC_COMM_CHUNK;
    int64_t b = (len + size - 1) / size;   /* block length, <= CHUNK */
    memcpy(send, (const char *)in + (size_t)at * es, (size_t)len * es);
    memset(send + (size_t)len * es, 0, (size_t)(size * b - len) * es);
    if (c->ops->all_to_all(c, send, recv, b, dt, d)) return -1;
    sum_parts(recv, send, b, b, size, dt, mean);
    if (c->ops->all_gather(c, send, recv, b, dt, d)) return -1;
    memcpy((char *)out + (size_t)at * es, recv, (size_t)len * es);
  }
  return 0;
}

int gc_comm_reduce_scatter(const gc_comm *c, const void *in, void *out, int64_t n, gc_dtype dt, bool mean,
                           gc_diag *d) {
  if (check(c, dt, mean, "reduce_scatter", d)) return -1;
  size_t es = gc_dtype_size(dt);
  if (c->size == 1) {
    if (in != out) memmove(out, in, (size_t)n * es);
    return 0;
  }
  char *send = c->scratch, *recv = send + (size_t)c->size * GC_COMM_CHUNK * es;
  for (int64_t at = 0; at < n; at += GC_COMM_CHUNK) {
    int64_t m = n - at < GC_COMM_CHUNK ? n - at : GC_COMM_CHUNK;
    for (int r = 0; r < c->size; r++)   /* block r's chunk, for rank r */
      memcpy(send + (size_t)r * (size_t)m * es, (const char *)in + ((size_t)r * (size_t)n + (size_t)at) * es,
             (size_t)m * es);
    if (c->ops->all_to_all(c, send, recv, m, dt, d)) return -1;
    sum_parts(recv, (char *)out + (size_t)at * es, m, m, c->size, dt, mean);
  }
  return 0;
}

int gc_comm_all_gather(const gc_comm *c, const void *in, void *out, int64_t n, gc_dtype dt, gc_diag *d) {
  if ((unsigned)dt >= GC_DTYPE_COUNT) return gc_diag_set(d, "all_gather: bad dtype");
  size_t es = gc_dtype_size(dt);
  if (c->size == 1) {
    if (in != out) memmove(out, in, (size_t)n * es);
    return 0;
  }
  if (!c->scratch) return gc_diag_set(d, "all_gather: the %s communicator has no scratch", c->ops->name);
  for (int64_t at = 0; at < n; at += GC_COMM_CHUNK) {
    int64_t m = n - at < GC_COMM_CHUNK ? n - at : GC_COMM_CHUNK;
    if (c->ops->all_gather(c, (const char *)in + (size_t)at * es, c->scratch, m, dt, d)) return -1;
    for (int r = 0; r < c->size; r++)
      memcpy((char *)out + ((size_t)r * (size_t)n + (size_t)at) * es, (char *)c->scratch + (size_t)r * (size_t)m * es,
             (size_t)m * es);
  }
  return 0;
}

static int check_world(const gc_comm *c, const gc_type *whole, const gc_type *part, const char *what, gc_diag *d) {
  if (whole->rank >= 1 && part->rank >= 1 && whole->dims[0] == part->dims[0] * c->size) return 0;
  return gc_diag_set(d, "%s: axis 0 is %lld long, not %lld per rank times the %d ranks", what,
                     (long long)(whole->rank ? whole->dims[0] : 0), (long long)(part->rank ? part->dims[0] : 0),
                     c->size);
}

int gc_comm_run_node(const gc_comm *c, const gc_node *n, const gc_type *in_type, const void *in, void *out,
                     gc_diag *d) {
  if (!c) c = gc_comm_local();
  switch (n->op) {
  case GC_OP_ALL_REDUCE:
    return gc_comm_all_reduce(c, in, out, gc_type_numel_unchecked(in_type), in_type->dtype, n->attrs.collective.mean,
                              d);
  case GC_OP_REDUCE_SCATTER:
    if (check_world(c, in_type, &n->type, "reduce_scatter", d)) return -1;
    return gc_comm_reduce_scatter(c, in, out, gc_type_numel_unchecked(&n->type), n->type.dtype, false, d);
  case GC_OP_ALL_GATHER:
    if (check_world(c, &n->type, in_type, "all_gather", d)) return -1;
    return gc_comm_all_gather(c, in, out, gc_type_numel_unchecked(in_type), in_type->dtype, d);
  default:
    return gc_diag_set(d, "%s is not a collective", gc_op_name(n->op));
  }
}
