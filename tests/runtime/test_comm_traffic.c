/* The collectives of comm.c over a transport simulated in this process:
 * SIZE threads, one per rank, exchanging through shared memory.  An
 * all_reduce is every rank's rank-ordered sum (x0 + x1) + x2, bitwise, over
 * more than one chunk and a length the world does not divide; and each rank
 * receives about 2n elements, its own blocks included (a reduce-scatter
 * then an all-gather), not SIZE * n (an all-gather of the whole buffers). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backends/runtime/comm.h"

enum { SIZE = 3 };
#define N ((int64_t)SIZE * GC_COMM_CHUNK + 7)   /* two pieces, the second padded */

static pthread_barrier_t barrier;
static const void *posted[SIZE];   /* each rank's send buffer of the exchange under way */
static int64_t received[SIZE];     /* elements each rank received */

static int fake_all_gather(const gc_comm *c, const void *in, void *out, int64_t n, gc_dtype dt, gc_diag *d) {
  (void)d;
  size_t bytes = (size_t)n * gc_dtype_size(dt);
  posted[c->rank] = in;
  pthread_barrier_wait(&barrier);
  for (int r = 0; r < c->size; r++) memcpy((char *)out + r * bytes, posted[r], bytes);
  received[c->rank] += (int64_t)c->size * n;
  pthread_barrier_wait(&barrier);
  return 0;
}

/* Rank s's block `rank` to block s of out. */
static int fake_all_to_all(const gc_comm *c, const void *in, void *out, int64_t n, gc_dtype dt, gc_diag *d) {
  (void)d;
  size_t bytes = (size_t)n * gc_dtype_size(dt);
  posted[c->rank] = in;
  pthread_barrier_wait(&barrier);
  for (int s = 0; s < c->size; s++) memcpy((char *)out + s * bytes, (const char *)posted[s] + c->rank * bytes, bytes);
  received[c->rank] += (int64_t)c->size * n;
  pthread_barrier_wait(&barrier);
  return 0;
}

static const gc_comm_ops fake_ops = {.name = "fake", .all_gather = fake_all_gather, .all_to_all = fake_all_to_all};

static float *inputs[SIZE], *outputs[SIZE];
static int failed[SIZE];

static float element(int rank, int64_t i) { return 0.1f * (float)(i % 977) + 1e-3f * (float)(rank + 1); }

static void *rank_main(void *arg) {
  int rank = (int)(intptr_t)arg;
  gc_comm c = {.ops = &fake_ops, .rank = rank, .size = SIZE};
  c.scratch = malloc(2 * (size_t)SIZE * GC_COMM_CHUNK * sizeof(float));
  gc_diag d = {0};
  failed[rank] = !c.scratch || gc_comm_all_reduce(&c, inputs[rank], outputs[rank], N, GC_F32, false, &d);
  free(c.scratch);
  return NULL;
}

static void test_all_reduce(void **state) {
  (void)state;
  pthread_t threads[SIZE];
  pthread_barrier_init(&barrier, NULL, SIZE);
  for (int r = 0; r < SIZE; r++) {
    inputs[r] = malloc((size_t)N * sizeof(float)), outputs[r] = malloc((size_t)N * sizeof(float));
    assert_non_null(inputs[r]), assert_non_null(outputs[r]);
    for (int64_t i = 0; i < N; i++) inputs[r][i] = element(r, i);
  }
  for (int r = 0; r < SIZE; r++) assert_int_equal(pthread_create(&threads[r], NULL, rank_main, (void *)(intptr_t)r), 0);
  for (int r = 0; r < SIZE; r++) pthread_join(threads[r], NULL);
  pthread_barrier_destroy(&barrier);
  for (int r = 0; r < SIZE; r++) {
    assert_int_equal(failed[r], 0);
    int64_t wrong = 0;
    for (int64_t i = 0; i < N; i++) {
      float want = inputs[0][i] + inputs[1][i];
      want = want + inputs[2][i];
      wrong += memcmp(&want, &outputs[r][i], sizeof want) != 0;
    }
    assert_int_equal(wrong, 0);
    /* 2N, plus at most SIZE - 1 padding elements twice per piece. */
    assert_in_range(received[r], 2 * N, 2 * N + 2 * 2 * (SIZE - 1));
  }
  for (int r = 0; r < SIZE; r++) free(inputs[r]), free(outputs[r]);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_all_reduce)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
