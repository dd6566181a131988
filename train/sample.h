/* train/sample.h — picking the next token from logits.
 *
 * temperature 0 (or below) is greedy: the argmax (the lowest index among
 * equal maxima), drawing nothing from the generator.  Otherwise the
 * probabilities are softmax(logits / temperature); top-p (nucleus) keeps the
 * smallest set of most probable tokens whose probabilities sum to >= top_p
 * (ties in probability ordered by index, lowest first), and one token is
 * drawn from that set renormalised, with exactly one gc_rng_uniform draw per
 * token, so a seed gives the same tokens on every machine. */
#ifndef GC_SAMPLE_H
#define GC_SAMPLE_H

#include "train/rng.h"
#include "ir/ir.h"

#include <stdint.h>

/* The index of the largest logit (the first among equals); -1 when n < 1. */
int64_t gc_argmax_f64(const double *logits, int64_t n);

/* probs[i] = softmax(logits / temperature)[i]; temperature > 0. */
void gc_softmax_temperature(const double *logits, int64_t n, double temperature, double *probs);

/* Writes into order[] the token indices by decreasing probability (ties by
 * index) and returns how many of them top-p keeps: the smallest k with
 * probs[order[0]] + .. + probs[order[k-1]] >= top_p (all n when top_p >= 1
 * or round-off leaves the sum short).  0 < top_p; n >= 1. */
int64_t gc_top_p_keep(const double *probs, int64_t n, double top_p, int64_t *order);

/* The next token: greedy when temperature <= 0, else sampled as above with
 * top_p in (0, 1] (1: the whole vocabulary).  -1 + message on a bad
 * argument or when out of memory. */
int64_t gc_sample(const double *logits, int64_t n, double temperature, double top_p, gc_rng *rng,
                  gc_diag *d);

#endif
