/* dot: batched matmul.  a is [..., M, K] and b is [..., K, N] after the
 * optional swap of each one's last two dims; the leading (batch) dims
 * broadcast numpy-style and either side may have none.  Each output matrix
 * is a plain i-k-j loop; f64 accumulates in double, and so does f32 (each
 * output row in a double buffer, rounded once), so the oracle's f32 results
 * are as close to exact as f32 allows. */
#include "backends/interp/kernels.h"

#include <stdlib.h>

typedef struct {
  int64_t m, k, n;
  int64_t a_row, a_col;     /* element strides of A(i, k) within a matrix of a */
  int64_t b_row, b_col;     /* ... of B(k, j) within a matrix of b */
  int64_t a_mat, b_mat;     /* elements per matrix */
} dot_shape;

static dot_shape shape_of(const gc_type *a, const gc_type *b, bool ta, bool tb) {
  dot_shape s;
  int64_t a0 = a->dims[a->rank - 2], a1 = a->dims[a->rank - 1];
  int64_t b0 = b->dims[b->rank - 2], b1 = b->dims[b->rank - 1];
  s.m = ta ? a1 : a0;
  s.k = ta ? a0 : a1;
  s.n = tb ? b0 : b1;
  s.a_row = ta ? 1 : a1;    /* step in i */
  s.a_col = ta ? a1 : 1;    /* step in k */
  s.b_row = tb ? 1 : b1;    /* step in k */
  s.b_col = tb ? b1 : 1;    /* step in j */
  s.a_mat = a0 * a1;
  s.b_mat = b0 * b1;
  return s;
}

/* The matrix index within `x` (batch dims aligned right, size-1 dims
 * broadcast) for the output batch index `batch` of batch shape `y`. */
static int64_t batch_matrix(const gc_type *x, const gc_type *y, int64_t batch) {
  int xb = x->rank - 2, yb = y->rank - 2;
  int64_t at = 0, stride = 1;
  for (int i = yb - 1; i >= 0; i--) {
    int64_t coord = batch % y->dims[i];
    batch /= y->dims[i];
    int j = i - (yb - xb);
    if (j < 0) continue;
    if (x->dims[j] != 1) at += coord * stride;
    stride *= x->dims[j];
  }
  return at;
}

/* y (m x n) = A B for one matrix pair; `row` is n doubles of scratch.  When
 * B's rows are contiguous along j the loop is i-k-j into the row; when they
 * are contiguous along k (transpose_b, the layout of nn.Linear weights) each
 * element is a dot product over k, so both walk memory in order. */
#define MATMUL(T)                                                                       \
  static void matmul_##T(const dot_shape *s, const T *a, const T *b, T *y, double *row) { \
    for (int64_t i = 0; i < s->m; i++) {                                                \
      const T *ai = a + i * s->a_row;                                                   \
      if (s->b_row == 1 && s->a_col == 1) {                                             \
        for (int64_t j = 0; j < s->n; j++) {                                            \
          const T *bj = b + j * s->b_col;                                               \
          double acc = 0;                                                               \
          for (int64_t k = 0; k < s->k; k++) acc += (double)ai[k] * bj[k];              \
          y[i * s->n + j] = (T)acc;                                                     \
        }                                                                               \
        continue;                                                                       \
      }                                                                                 \
      for (int64_t j = 0; j < s->n; j++) row[j] = 0;                                    \
      for (int64_t k = 0; k < s->k; k++) {                                              \
        double aik = ai[k * s->a_col];                                                  \
        const T *bk = b + k * s->b_row;                                                 \
        if (s->b_col == 1)                                                              \
          for (int64_t j = 0; j < s->n; j++) row[j] += aik * bk[j];                     \
        else                                                                            \
          for (int64_t j = 0; j < s->n; j++) row[j] += aik * bk[j * s->b_col];          \
      }                                                                                 \
      for (int64_t j = 0; j < s->n; j++) y[i * s->n + j] = (T)row[j];                   \
    }                                                                                   \
  }
MATMUL(float)
MATMUL(double)

int interp_kernel_dot(const interp_call *c) {
  const gc_tensor *a = c->in[0], *b = c->in[1];
  const gc_type *y = &c->out->type;
  const gc_attrs_dot *at = &c->node->attrs.dot;
  dot_shape s = shape_of(&a->type, &b->type, at->transpose_a, at->transpose_b);
  int64_t batches = 1;
  for (int i = 0; i < y->rank - 2; i++) batches *= y->dims[i];
  gc_dtype dt = a->type.dtype;
  if (dt != GC_F32 && dt != GC_F64)
    return interp_node_error(c, "dtype %s is not supported", gc_dtype_name(dt));
  double *row = c->scratch;   /* s.n doubles: interp_scratch_bytes */
  for (int64_t bi = 0; bi < batches; bi++) {
    int64_t ai = batch_matrix(&a->type, y, bi) * s.a_mat;
    int64_t bj = batch_matrix(&b->type, y, bi) * s.b_mat;
    int64_t yo = bi * s.m * s.n;
    if (dt == GC_F32)
      matmul_float(&s, (const float *)a->data + ai, (const float *)b->data + bj, (float *)c->out->data + yo, row);
    else
      matmul_double(&s, (const double *)a->data + ai, (const double *)b->data + bj, (double *)c->out->data + yo, row);
  }
  return 0;
}
