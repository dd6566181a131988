/* The train/validation split and the three kinds of batches. */
#include "tests/testutil.h"
#include "train/dataset.h"

#include <stdlib.h>
#include <string.h>

static int64_t at(const gc_tensor_map *m, const char *name, int b, int i) {
  gc_tensor *t = gc_tensor_map_get(m, name);
  assert_non_null(t);
  return ((const int64_t *)t->data)[(int64_t)b * t->type.dims[1] + i];
}

static void assert_shape(const gc_tensor_map *m, const char *name, int rows, int cols) {
  gc_tensor *t = gc_tensor_map_get(m, name);
  if (!t) fail_msg("batch lacks %s", name);
  assert_int_equal(t->type.dtype, GC_I64);
  assert_int_equal(t->type.rank, 2);
  assert_int_equal(t->type.dims[0], rows);
  assert_int_equal(t->type.dims[1], cols);
}

static void assert_maps_equal(const gc_tensor_map *a, const gc_tensor_map *b) {
  assert_int_equal(a->n, b->n);
  for (int i = 0; i < a->n; i++) {
    gc_tensor *tb = gc_tensor_map_get(b, a->names[i]);
    assert_non_null(tb);
    assert_int_equal(gc_tensor_bytes(a->tensors[i]), gc_tensor_bytes(tb));
    assert_memory_equal(a->tensors[i]->data, tb->data, gc_tensor_bytes(tb));
  }
}

static int maps_equal(const gc_tensor_map *a, const gc_tensor_map *b) {
  for (int i = 0; i < a->n; i++) {
    gc_tensor *tb = gc_tensor_map_get(b, a->names[i]);
    if (!tb || memcmp(a->tensors[i]->data, tb->data, gc_tensor_bytes(tb)) != 0) return 0;
  }
  return a->n == b->n;
}

/* ids[i] = base + i: every window identifies where it came from. */
static int32_t *ramp(size_t n, int32_t base) {
  int32_t *ids = malloc(n * sizeof *ids);
  for (size_t i = 0; i < n; i++) ids[i] = base + (int32_t)i;
  return ids;
}

static void test_split(void **state) {
  (void)state;
  int32_t *ids = ramp(1000, 0);
  gc_token_span tr, va;
  gc_diag d;
  assert_int_equal(gc_dataset_split(ids, 1000, 0.9, &tr, &va, &d), 0);
  assert_ptr_equal(tr.ids, ids);
  assert_int_equal(tr.n, 900);
  assert_ptr_equal(va.ids, ids + 900);
  assert_int_equal(va.n, 100);
  assert_int_equal(gc_dataset_split(ids, 11, 0.9, &tr, &va, &d), 0);   /* floor(9.9) */
  assert_int_equal(tr.n, 9);
  assert_int_equal(va.n, 2);
  assert_int_equal(gc_dataset_split(ids, 1000, 1.0, &tr, &va, &d), -1);
  assert_int_equal(gc_dataset_split(ids, 1000, 0.0, &tr, &va, &d), -1);
  free(ids);
}

static void test_causal_windows(void **state) {
  (void)state;
  int32_t *ids = ramp(500, 0);
  gc_token_span data = {.ids = ids, .n = 500};
  gc_batch_spec s = {.task = GC_TASK_CAUSAL, .batch = 8, .seq = 16};
  gc_rng rng;
  gc_rng_seed(&rng, 1);
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  gc_diag d;
  for (int step = 0; step < 5; step++) {
    assert_int_equal(gc_batch_sample(&s, data, &rng, &m, &d), 0);
    assert_int_equal(m.n, 2);
    assert_shape(&m, "input_ids", 8, 16);
    assert_shape(&m, "labels", 8, 16);
    for (int b = 0; b < 8; b++) {
      int64_t start = at(&m, "input_ids", b, 0);
      assert_true(start >= 0 && start <= 500 - 16);
      for (int i = 0; i < 16; i++) {
        assert_int_equal(at(&m, "input_ids", b, i), start + i);
        assert_int_equal(at(&m, "labels", b, i), start + i);
      }
    }
  }
  /* the start is uniform over all 485 positions: both ends get hit */
  int64_t lo = 1000, hi = -1;
  for (int step = 0; step < 300; step++) {
    assert_int_equal(gc_batch_sample(&s, data, &rng, &m, &d), 0);
    for (int b = 0; b < 8; b++) {
      int64_t st = at(&m, "input_ids", b, 0);
      lo = st < lo ? st : lo;
      hi = st > hi ? st : hi;
    }
  }
  assert_true(lo < 10 && hi > 474);
  gc_tensor_map_clear(&m);
  free(ids);
}

static void test_determinism_and_resume(void **state) {
  (void)state;
  int32_t *ids = ramp(3000, 5);
  gc_token_span data = {.ids = ids, .n = 3000};
  gc_batch_spec specs[] = {
      {.task = GC_TASK_CAUSAL, .batch = 4, .seq = 32},
      {.task = GC_TASK_MLM, .batch = 4, .seq = 32, .vocab = 4000, .mask_id = 3},
      {.task = GC_TASK_SPAN, .batch = 4, .seq = 32, .dec_seq = 16, .vocab = 4000, .eos_id = 1},
  };
  gc_diag d;
  for (int t = 0; t < 3; t++) {
    gc_tensor_map a, b, c, a2;
    gc_tensor_map_init(&a), gc_tensor_map_init(&b), gc_tensor_map_init(&c);
    gc_tensor_map_init(&a2);
    gc_rng rng, again;
    gc_rng_seed(&rng, 42);
    assert_int_equal(gc_batch_sample(&specs[t], data, &rng, &a, &d), 0);
    gc_rng saved = rng;   /* what a checkpoint stores: four uint64 words */
    uint64_t words[4];
    memcpy(words, saved.s, sizeof words);
    assert_int_equal(gc_batch_sample(&specs[t], data, &rng, &b, &d), 0);
    memcpy(again.s, words, sizeof words);
    assert_int_equal(gc_batch_sample(&specs[t], data, &again, &c, &d), 0);
    assert_maps_equal(&b, &c);
    assert_memory_equal(rng.s, again.s, sizeof rng.s);
    assert_false(maps_equal(&a, &b));   /* consecutive batches differ */
    gc_rng_seed(&rng, 42);
    assert_int_equal(gc_batch_sample(&specs[t], data, &rng, &a2, &d), 0);
    assert_maps_equal(&a, &a2);
    gc_tensor_map_clear(&a), gc_tensor_map_clear(&b), gc_tensor_map_clear(&c);
    gc_tensor_map_clear(&a2);
  }
  free(ids);
}

static void test_mlm_statistics(void **state) {
  (void)state;
  enum { N = 20000, V = 1000, MASK = 3 };
  const int32_t special[] = {0, 1, 2};
  int32_t *ids = malloc(N * sizeof *ids);
  gc_rng gen;
  gc_rng_seed(&gen, 7);
  for (int i = 0; i < N; i++)
    ids[i] = i % 7 == 0 ? special[(i / 7) % 3] : 4 + (int32_t)gc_rng_below(&gen, V - 4);
  gc_batch_spec s = {.task = GC_TASK_MLM, .batch = 64, .seq = 128, .vocab = V, .mask_id = MASK,
                     .special_ids = special, .n_special = 3};
  gc_rng rng;
  gc_rng_seed(&rng, 99);
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  gc_diag d;
  assert_int_equal(gc_batch_sample(&s, (gc_token_span){.ids = ids, .n = N}, &rng, &m, &d), 0);
  assert_int_equal(m.n, 4);
  assert_shape(&m, "attention_mask", 64, 128);
  assert_shape(&m, "token_type_ids", 64, 128);
  int eligible = 0, selected = 0, masked = 0, randomised = 0, kept = 0, specials = 0;
  for (int b = 0; b < 64; b++) {
    /* windows are contiguous: find the start where the unselected inputs
     * and the selected labels match the data */
    int64_t start = -1;
    for (int64_t st = 0; st <= N - 128 && start < 0; st++) {
      int ok = 1;
      for (int i = 0; i < 128 && ok; i++) {
        int64_t lab = at(&m, "labels", b, i);
        int64_t in = at(&m, "input_ids", b, i);
        ok = lab != GC_IGNORE_INDEX ? lab == ids[st + i] : in == ids[st + i];
      }
      if (ok) start = st;
    }
    assert_true(start >= 0);
    for (int i = 0; i < 128; i++) {
      int32_t orig = ids[start + i];
      int64_t in = at(&m, "input_ids", b, i), lab = at(&m, "labels", b, i);
      assert_int_equal(at(&m, "attention_mask", b, i), 1);
      assert_int_equal(at(&m, "token_type_ids", b, i), 0);
      if (orig <= 2) {   /* special: never selected, never changed */
        specials++;
        assert_int_equal(lab, GC_IGNORE_INDEX);
        assert_int_equal(in, orig);
        continue;
      }
      eligible++;
      if (lab == GC_IGNORE_INDEX) {
        assert_int_equal(in, orig);
        continue;
      }
      selected++;
      assert_int_equal(lab, orig);
      assert_true(in >= 0 && in < V);
      if (in == MASK) masked++;
      else if (in == orig) kept++;
      else randomised++;
    }
  }
  assert_true(specials > 0);
  double sel = (double)selected / eligible;
  assert_true(sel > 0.13 && sel < 0.17);
  assert_true(fabs((double)masked / selected - 0.8) < 0.05);
  assert_true(fabs((double)randomised / selected - 0.1) < 0.04);
  assert_true(fabs((double)kept / selected - 0.1) < 0.04);
  gc_tensor_map_clear(&m);
  free(ids);
}

static void test_span_layout(void **state) {
  (void)state;
  /* HF's compute_input_and_target_lengths(512, 0.15, 3) = (568, 114):
   * noise round(85.2) = 85, spans round(85/3) = 28, input 483+28+1 = 512,
   * labels 85+28+1 = 114 */
  gc_span_layout lo = gc_span_layout_of(568);
  assert_int_equal(lo.n_noise, 85);
  assert_int_equal(lo.n_spans, 28);
  assert_int_equal(lo.input_len, 512);
  assert_int_equal(lo.label_len, 114);
  /* tiny windows keep one noise token and one span */
  lo = gc_span_layout_of(2);
  assert_int_equal(lo.n_noise, 1);
  assert_int_equal(lo.n_spans, 1);
  assert_int_equal(lo.input_len, 3);
  assert_int_equal(lo.label_len, 3);
  gc_diag d;
  gc_batch_spec s = {.task = GC_TASK_SPAN, .batch = 1, .seq = 512, .dec_seq = 114,
                     .vocab = 32128, .eos_id = 1};
  assert_int_equal(gc_batch_window_len(&s, &d), 568);
  s.dec_seq = 512;   /* inputs bind: still 568 (569 would need 513) */
  assert_int_equal(gc_batch_window_len(&s, &d), 568);
  assert_int_equal(gc_span_layout_of(569).input_len, 513);
  /* labels bind: 20 = noise + spans + 1 with noise 14, spans 5 at len 93;
   * len 94 has noise round(14.1) = 14 too, so 94..96 (14.4) also fit;
   * 97 has noise round(14.55) = 15 -> 15 + 5 + 1 = 21 > 20 */
  s.dec_seq = 20;
  assert_int_equal(gc_batch_window_len(&s, &d), 96);
  assert_int_equal(gc_span_layout_of(96).label_len, 20);
  assert_int_equal(gc_span_layout_of(97).label_len, 21);
  s.dec_seq = 2;
  assert_int_equal(gc_batch_window_len(&s, &d), -1);
}

/* Puts each span back in place of its sentinel: must give the raw window. */
static void check_span_row(const gc_tensor_map *m, const gc_batch_spec *s, const int32_t *ids,
                           size_t n, int len, int b) {
  int64_t recon[1024];
  int nr = 0, in_len = -1, lab_len = -1, next_sentinel = 0, noise = 0;
  for (int i = 0; i < s->seq; i++) {
    int64_t t = at(m, "input_ids", b, i);
    if (t == s->eos_id) {
      in_len = i + 1;
      break;
    }
    if (t < s->vocab - 64) {
      recon[nr++] = t;
      continue;
    }
    /* sentinel i: the labels hold it followed by its span */
    assert_int_equal(t, s->vocab - 1 - next_sentinel);
    int j = 0;
    while (at(m, "labels", b, j) != t) j++;
    for (j++;; j++) {
      int64_t l = at(m, "labels", b, j);
      if (l == s->eos_id || l >= s->vocab - 64) break;
      recon[nr++] = l;
      noise++;
    }
    next_sentinel++;
  }
  assert_true(in_len > 0);
  assert_int_equal(nr, len);
  int64_t start = recon[0] - ids[0];
  assert_true(start >= 0 && (size_t)(start + len) <= n);
  for (int i = 0; i < len; i++) assert_int_equal(recon[i], ids[start + i]);
  gc_span_layout lo = gc_span_layout_of(len);
  assert_int_equal(next_sentinel, lo.n_spans);
  assert_int_equal(noise, lo.n_noise);
  assert_int_equal(in_len, lo.input_len);
  /* labels: sentinel 0 first, eos after the last span, then -100 */
  assert_int_equal(at(m, "labels", b, 0), s->vocab - 1);
  for (int j = 0; j < s->dec_seq; j++)
    if (at(m, "labels", b, j) == s->eos_id) {
      lab_len = j + 1;
      break;
    }
  assert_int_equal(lab_len, lo.label_len);
  for (int j = lab_len; j < s->dec_seq; j++) assert_int_equal(at(m, "labels", b, j), -100);
  for (int i = in_len; i < s->seq; i++) assert_int_equal(at(m, "input_ids", b, i), s->pad_id);
  for (int i = 0; i < s->seq; i++)
    assert_int_equal(at(m, "attention_mask", b, i), i < in_len);
  /* decoder_input_ids = shift_right(labels), start token first, -100 -> pad */
  assert_int_equal(at(m, "decoder_input_ids", b, 0), s->decoder_start_id);
  for (int j = 1; j < s->dec_seq; j++) {
    int64_t l = at(m, "labels", b, j - 1);
    assert_int_equal(at(m, "decoder_input_ids", b, j), l == -100 ? s->pad_id : l);
  }
}

static void test_span_corruption(void **state) {
  (void)state;
  enum { N = 4000 };
  int32_t *ids = ramp(N, 2);   /* ids 2..4001; eos 1, pad 0 */
  gc_batch_spec s = {.task = GC_TASK_SPAN, .batch = 16, .seq = 64, .dec_seq = 24,
                     .vocab = 5000, .pad_id = 0, .eos_id = 1, .decoder_start_id = 0};
  gc_diag d;
  int len = gc_batch_window_len(&s, &d);
  assert_true(len > 64);
  gc_span_layout lo = gc_span_layout_of(len);
  assert_true(lo.input_len <= 64 && lo.label_len <= 24);
  gc_span_layout more = gc_span_layout_of(len + 1);
  assert_true(more.input_len > 64 || more.label_len > 24);
  gc_rng rng;
  gc_rng_seed(&rng, 3);
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  for (int step = 0; step < 4; step++) {
    assert_int_equal(gc_batch_sample(&s, (gc_token_span){.ids = ids, .n = N}, &rng, &m, &d), 0);
    assert_int_equal(m.n, 4);
    assert_shape(&m, "input_ids", 16, 64);
    assert_shape(&m, "attention_mask", 16, 64);
    assert_shape(&m, "labels", 16, 24);
    assert_shape(&m, "decoder_input_ids", 16, 24);
    for (int b = 0; b < 16; b++) check_span_row(&m, &s, ids, N, len, b);
  }
  /* a seq whose inputs leave padding: sentinels also work at a small vocab
   * edge, and the eval batches reconstruct too */
  s.seq = 40;
  s.dec_seq = 40;
  len = gc_batch_window_len(&s, &d);
  assert_int_equal(gc_batch_eval(&s, (gc_token_span){.ids = ids, .n = N}, 1, 2, &m, &d), 0);
  for (int b = 0; b < 16; b++) check_span_row(&m, &s, ids, N, len, b);
  gc_tensor_map_clear(&m);
  free(ids);
}

static void test_eval_batches(void **state) {
  (void)state;
  int32_t *ids = ramp(1000, 0);
  gc_token_span data = {.ids = ids, .n = 1000};
  gc_batch_spec s = {.task = GC_TASK_CAUSAL, .batch = 2, .seq = 10};
  gc_diag d;
  /* 6 windows evenly over 1000 tokens: starts j * 990 / 5 */
  const int64_t want[6] = {0, 198, 396, 594, 792, 990};
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  for (int k = 0; k < 3; k++) {
    assert_int_equal(gc_batch_eval(&s, data, k, 3, &m, &d), 0);
    for (int b = 0; b < 2; b++) {
      assert_int_equal(gc_batch_eval_start(&s, data, k, 3, b, &d), want[k * 2 + b]);
      for (int i = 0; i < 10; i++) assert_int_equal(at(&m, "input_ids", b, i), want[k * 2 + b] + i);
    }
  }
  assert_int_equal(gc_batch_eval_count(&s, data, &d), 50);   /* 100 windows / 2 */
  assert_int_equal(gc_batch_eval(&s, data, 3, 3, &m, &d), -1);
  /* MLM eval: same tensors on every call, whatever rng the caller holds */
  gc_batch_spec mlm = {.task = GC_TASK_MLM, .batch = 4, .seq = 64, .vocab = 1000, .mask_id = 3};
  gc_tensor_map a, b;
  gc_tensor_map_init(&a), gc_tensor_map_init(&b);
  assert_int_equal(gc_batch_eval(&mlm, data, 0, 2, &a, &d), 0);
  assert_int_equal(gc_batch_eval(&mlm, data, 0, 2, &b, &d), 0);
  assert_maps_equal(&a, &b);
  assert_int_equal(gc_batch_eval(&mlm, data, 1, 2, &b, &d), 0);
  assert_false(maps_equal(&a, &b));
  gc_tensor_map_clear(&a), gc_tensor_map_clear(&b), gc_tensor_map_clear(&m);
  free(ids);
}

/* A causal span's loss mask: a masked token's label is -100 (chat data). */
static void test_loss_mask(void **state) {
  (void)state;
  int32_t *ids = ramp(1000, 0);
  uint8_t *loss = malloc(1000);
  for (int i = 0; i < 1000; i++) loss[i] = i % 3 == 0;
  gc_token_span data = {.ids = ids, .n = 1000, .loss = loss};
  gc_batch_spec s = {.task = GC_TASK_CAUSAL, .batch = 2, .seq = 10};
  gc_diag d;
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  assert_int_equal(gc_batch_eval(&s, data, 1, 3, &m, &d), 0);   /* windows at 396 and 594 */
  for (int b = 0; b < 2; b++)
    for (int i = 0; i < 10; i++) {
      int64_t id = (b ? 594 : 396) + i;
      assert_int_equal(at(&m, "input_ids", b, i), id);
      assert_int_equal(at(&m, "labels", b, i), id % 3 == 0 ? id : GC_IGNORE_INDEX);
    }
  gc_tensor_map_clear(&m);
  free(loss);
  free(ids);
}

static void test_errors(void **state) {
  (void)state;
  int32_t *ids = ramp(100, 0);
  gc_diag d;
  gc_rng rng;
  gc_rng_seed(&rng, 0);
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  gc_batch_spec s = {.task = GC_TASK_CAUSAL, .batch = 2, .seq = 128};
  assert_int_equal(gc_batch_sample(&s, (gc_token_span){.ids = ids, .n = 100}, &rng, &m, &d), -1);
  assert_non_null(strstr(d.msg, "100 tokens"));
  assert_non_null(strstr(d.msg, "128"));
  assert_int_equal(gc_batch_eval(&s, (gc_token_span){.ids = ids, .n = 100}, 0, 1, &m, &d), -1);
  assert_int_equal(m.n, 0);
  /* ids beyond the vocabulary are named */
  s.seq = 100;
  s.vocab = 50;
  assert_int_equal(gc_batch_sample(&s, (gc_token_span){.ids = ids, .n = 100}, &rng, &m, &d), -1);
  assert_non_null(strstr(d.msg, "token id 50 at offset 50"));
  assert_int_equal(m.n, 0);
  /* MLM without a valid mask id */
  gc_batch_spec mlm = {.task = GC_TASK_MLM, .batch = 1, .seq = 8, .vocab = 200, .mask_id = 200};
  assert_int_equal(gc_batch_sample(&mlm, (gc_token_span){.ids = ids, .n = 100}, &rng, &m, &d), -1);
  assert_non_null(strstr(d.msg, "mask id 200"));
  s.batch = 0;
  assert_int_equal(gc_batch_window_len(&s, &d), -1);
  gc_tensor_map_clear(&m);
  free(ids);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_split),
      cmocka_unit_test(test_causal_windows),
      cmocka_unit_test(test_determinism_and_resume),
      cmocka_unit_test(test_mlm_statistics),
      cmocka_unit_test(test_span_layout),
      cmocka_unit_test(test_span_corruption),
      cmocka_unit_test(test_eval_batches),
      cmocka_unit_test(test_loss_mask),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
