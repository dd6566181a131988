/* Token sampling: greedy, temperature, top-p (nucleus). */
#include "train/sample.h"

#include <math.h>
#include <stdlib.h>

int64_t gc_argmax_f64(const double *logits, int64_t n) {
  int64_t best = n >= 1 ? 0 : -1;
  for (int64_t i = 1; i < n; i++)
    if (logits[i] > logits[best]) best = i;
  return best;
}

void gc_softmax_temperature(const double *logits, int64_t n, double temperature, double *probs) {
  double mx = logits[gc_argmax_f64(logits, n)], z = 0;
  for (int64_t i = 0; i < n; i++) z += probs[i] = exp((logits[i] - mx) / temperature);
  for (int64_t i = 0; i < n; i++) probs[i] /= z;
}

typedef struct {
  double p;
  int64_t i;
} ranked;

/* Decreasing probability, then increasing index. */
static int by_prob(const void *x, const void *y) {
  const ranked *a = x, *b = y;
  if (a->p != b->p) return a->p > b->p ? -1 : 1;
  return (a->i > b->i) - (a->i < b->i);
}

int64_t gc_top_p_keep(const double *probs, int64_t n, double top_p, int64_t *order) {
  ranked *r = malloc((size_t)n * sizeof *r);
  if (!r) return -1;
  for (int64_t i = 0; i < n; i++) r[i] = (ranked){probs[i], i};
  qsort(r, (size_t)n, sizeof *r, by_prob);
  int64_t keep = n;
  double cum = 0;
  for (int64_t i = 0; i < n; i++) {
    order[i] = r[i].i;
    cum += r[i].p;
    if (keep == n && top_p < 1 && cum >= top_p) keep = i + 1;
  }
  free(r);
  return keep;
}

int64_t gc_sample(const double *logits, int64_t n, double temperature, double top_p, gc_rng *rng,
                  gc_diag *d) {
  if (n < 1) return gc_diag_set(d, "sample: no logits");
  if (!(temperature > 0)) return gc_argmax_f64(logits, n);
  if (!(top_p > 0 && top_p <= 1)) return gc_diag_set(d, "sample: top_p %g is not in (0, 1]", top_p);
  double *probs = malloc((size_t)n * sizeof *probs);
  int64_t *order = malloc((size_t)n * sizeof *order);
  int64_t keep = probs && order ? 0 : -1;
  if (keep == 0) {
    gc_softmax_temperature(logits, n, temperature, probs);
    keep = gc_top_p_keep(probs, n, top_p, order);
  }
  int64_t token = -1;
  if (keep >= 1) {
    double mass = 0;
    for (int64_t i = 0; i < keep; i++) mass += probs[order[i]];
    double u = gc_rng_uniform(rng) * mass, acc = 0;
    token = order[keep - 1];   /* if round-off leaves u past the last sum */
    for (int64_t i = 0; i < keep; i++) {
      acc += probs[order[i]];
      if (u < acc) {
        token = order[i];
        break;
      }
    }
  }
  free(probs);
  free(order);
  return token >= 0 ? token : gc_diag_set(d, "sample: out of memory");
}
