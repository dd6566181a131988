/* nn blocks against hand formulas and naive C implementations. */
#include "tests/frontend/nn_testutil.h"
#include "autodiff/autodiff.h"
#include "frontend/nn.h"

static const gc_dtype both[2] = {GC_F32, GC_F64};
static double tol_of(gc_dtype dt) { return dt == GC_F32 ? 2e-6 : 1e-12; }

/* Run a one-input one-output graph: out = f(x). */
typedef gc_val block_fn(gc_builder *b, gc_val x);

static gc_tensor *run_block(gc_dtype dt, block_fn *f, int rank, const int64_t *dims, const double *x,
                            gc_tensor_map *params) {
  gc_builder *b = gc_builder_new("t", dt);
  gc_output(b, "y", f(b, gc_input(b, "x", GC_FLOATX, rank, dims)));
  gc_graph *g = finish_ok(b);
  gc_tensor_map in;
  gc_tensor_map_init(&in);
  put(&in, "x", dt, rank, dims, x);
  gc_tensor *y = run_out(g, params, &in, "y");
  gc_tensor_map_clear(&in);
  gc_graph_free(g);
  return y;
}

/* ---- softmax ----------------------------------------------------------- */

static gc_val softmax_last(gc_builder *b, gc_val x) { return gc_softmax(b, x, -1); }
static gc_val log_softmax_last(gc_builder *b, gc_val x) { return gc_log_softmax(b, x, -1); }

static void test_softmax(void **state) {
  (void)state;
  double x[8] = {1, 2, 3, 0.5, 1000, 1001, 1002, 999};   /* row 2 would overflow unshifted */
  for (int k = 0; k < 2; k++) {
    gc_tensor *p = run_block(both[k], softmax_last, GC_SHAPE(2, 4), x, NULL);
    gc_tensor *lp = run_block(both[k], log_softmax_last, GC_SHAPE(2, 4), x, NULL);
    for (int r = 0; r < 2; r++) {
      double m = x[r * 4 + 2], z = 0, sum = 0;   /* the row max is column 2 */
      for (int j = 0; j < 4; j++) z += exp(x[r * 4 + j] - m);
      for (int j = 0; j < 4; j++) {
        double want = exp(x[r * 4 + j] - m) / z;
        assert_close(at(p, r * 4 + j), want, tol_of(both[k]));
        assert_close(at(lp, r * 4 + j), x[r * 4 + j] - m - log(z), tol_of(both[k]) * 4);
        sum += at(p, r * 4 + j);
      }
      assert_close(sum, 1.0, tol_of(both[k]));
    }
    gc_tensor_free(p);
    gc_tensor_free(lp);
  }
}

/* ---- norms ------------------------------------------------------------- */

static gc_val layer_norm5(gc_builder *b, gc_val x) { return gc_layer_norm(b, x, "ln", 5, 1e-5); }
static gc_val rms_norm5(gc_builder *b, gc_val x) { return gc_rms_norm(b, x, "norm", 5, 1e-6); }

static void test_norms(void **state) {
  (void)state;
  double x[15], w[5] = {1, 0.5, -2, 3, 0.25}, bias[5] = {0.1, 0, -0.3, 1, 2};
  fill_vals(x, 15, 7);
  for (int k = 0; k < 2; k++) {
    gc_dtype dt = both[k];
    gc_tensor_map p;
    gc_tensor_map_init(&p);
    put(&p, "ln.weight", dt, GC_SHAPE(5), w);
    put(&p, "ln.bias", dt, GC_SHAPE(5), bias);
    put(&p, "norm.weight", dt, GC_SHAPE(5), w);
    gc_tensor *ln = run_block(dt, layer_norm5, GC_SHAPE(3, 5), x, &p);
    gc_tensor *rms = run_block(dt, rms_norm5, GC_SHAPE(3, 5), x, &p);
    for (int r = 0; r < 3; r++) {
      const double *row = x + r * 5;
      double mean = 0, var = 0, ms = 0;
      for (int j = 0; j < 5; j++) mean += row[j] / 5;
      for (int j = 0; j < 5; j++) var += (row[j] - mean) * (row[j] - mean) / 5;
      for (int j = 0; j < 5; j++) ms += row[j] * row[j] / 5;
      for (int j = 0; j < 5; j++) {
        assert_close(at(ln, r * 5 + j), (row[j] - mean) / sqrt(var + 1e-5) * w[j] + bias[j], tol_of(dt) * 4);
        assert_close(at(rms, r * 5 + j), w[j] * row[j] / sqrt(ms + 1e-6), tol_of(dt) * 4);
      }
    }
    gc_tensor_free(ln);
    gc_tensor_free(rms);
    gc_tensor_map_clear(&p);
  }
}

/* ---- activations ------------------------------------------------------- */

static gc_val gelu_erf(gc_builder *b, gc_val x) { return gc_gelu(b, x, GC_GELU_ERF); }
static gc_val gelu_tanh(gc_builder *b, gc_val x) { return gc_gelu(b, x, GC_GELU_TANH); }
static gc_val silu(gc_builder *b, gc_val x) { return gc_silu(b, x); }

static void test_activations(void **state) {
  (void)state;
  double x[7] = {-3, -1.5, -0.1, 0, 0.3, 1, 2.5};
  for (int k = 0; k < 2; k++) {
    gc_tensor *e = run_block(both[k], gelu_erf, GC_SHAPE(7), x, NULL);
    gc_tensor *t = run_block(both[k], gelu_tanh, GC_SHAPE(7), x, NULL);
    gc_tensor *s = run_block(both[k], silu, GC_SHAPE(7), x, NULL);
    for (int i = 0; i < 7; i++) {
      double v = x[i];
      assert_close(at(e, i), 0.5 * v * (1 + erf(v / sqrt(2.0))), tol_of(both[k]));
      assert_close(at(t, i), 0.5 * v * (1 + tanh(sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))), tol_of(both[k]));
      assert_close(at(s, i), v / (1 + exp(-v)), tol_of(both[k]));
    }
    gc_tensor_free(e);
    gc_tensor_free(t);
    gc_tensor_free(s);
  }
}

static void test_linear_layouts_and_swiglu(void **state) {
  (void)state;
  double x[6] = {1, 2, 3, -1, 0.5, 2}, w[6] = {1, 0, -1, 2, 1, 0.5}, wt[6], bias[2] = {0.5, -1};
  for (int o = 0; o < 2; o++)
    for (int i = 0; i < 3; i++) wt[i * 2 + o] = w[o * 3 + i];   /* [in, out] */
  gc_builder *b = gc_builder_new("t", GC_F64);
  gc_val xv = gc_input(b, "x", GC_FLOATX, GC_SHAPE(2, 3));
  gc_push(b, "blk");
  gc_output(b, "a", gc_linear(b, xv, "fc", 3, 2, true, GC_LINEAR_OUT_IN));
  gc_output(b, "c", gc_linear(b, xv, "c_fc", 3, 2, true, GC_LINEAR_IN_OUT));
  gc_output(b, "m", gc_swiglu_mlp(b, xv, "mlp", 3, 2));
  gc_pop(b);
  gc_graph *g = gc_builder_graph(b);
  char buf[GC_TYPE_STR_MAX];
  int wc = gc_graph_find_param(g, "blk.c_fc.weight");
  assert_true(wc >= 0);
  assert_string_equal(gc_type_str(&g->nodes[wc]->type, buf, sizeof buf), "f64[3,2]");
  assert_true(gc_graph_find_param(g, "blk.mlp.down_proj.weight") >= 0);
  assert_true(gc_graph_find_param(g, "blk.mlp.gate_proj.bias") < 0);
  g = finish_ok(b);
  gc_tensor_map p, in;
  gc_tensor_map_init(&p);
  gc_tensor_map_init(&in);
  put(&in, "x", GC_F64, GC_SHAPE(2, 3), x);
  put(&p, "blk.fc.weight", GC_F64, GC_SHAPE(2, 3), w);
  put(&p, "blk.fc.bias", GC_F64, GC_SHAPE(2), bias);
  put(&p, "blk.c_fc.weight", GC_F64, GC_SHAPE(3, 2), wt);
  put(&p, "blk.c_fc.bias", GC_F64, GC_SHAPE(2), bias);
  put(&p, "blk.mlp.gate_proj.weight", GC_F64, GC_SHAPE(2, 3), w);
  put(&p, "blk.mlp.up_proj.weight", GC_F64, GC_SHAPE(2, 3), (double[]){0, 1, 0, 1, 1, 1});
  put(&p, "blk.mlp.down_proj.weight", GC_F64, GC_SHAPE(3, 2), (double[]){1, 0, 0, 1, 1, -1});
  gc_tensor *a = run_out(g, &p, &in, "a"), *c = run_out(g, &p, &in, "c"), *m = run_out(g, &p, &in, "m");
  for (int r = 0; r < 2; r++) {
    double h[2], up[2] = {x[r * 3 + 1], x[r * 3] + x[r * 3 + 1] + x[r * 3 + 2]};
    for (int o = 0; o < 2; o++) {
      double s = bias[o];
      for (int i = 0; i < 3; i++) s += x[r * 3 + i] * w[o * 3 + i];
      assert_close(at(a, r * 2 + o), s, 1e-12);
      assert_close(at(c, r * 2 + o), s, 1e-12);
      double gate = s - bias[o];
      h[o] = gate / (1 + exp(-gate)) * up[o];
    }
    double want[3] = {h[0], h[1], h[0] - h[1]};
    for (int j = 0; j < 3; j++) assert_close(at(m, r * 3 + j), want[j], 1e-12);
  }
  gc_tensor_free(a);
  gc_tensor_free(c);
  gc_tensor_free(m);
  gc_tensor_map_clear(&p);
  gc_tensor_map_clear(&in);
  gc_graph_free(g);
  /* the wrong input size names the layer */
  b = gc_builder_new("t", GC_F32);
  gc_push(b, "h.%d", 2);
  gc_linear(b, gc_input(b, "x", GC_F32, GC_SHAPE(2, 4)), "c_attn", 3, 9, true, GC_LINEAR_IN_OUT);
  assert_string_equal(gc_builder_error(b),
                      "linear at \"h.2.c_attn\": shape f32[2,4] does not end in the layer's input size 3");
  gc_builder_free(b);
}

/* ---- losses ------------------------------------------------------------ */

static void test_cross_entropy(void **state) {
  (void)state;
  double logits[12] = {1, 2, 3, 0, 0, 0, -1, 0.5, 2, 4, -2, 1};
  double labels[4] = {2, -100, 0, 1};
  for (int k = 0; k < 2; k++) {
    gc_dtype dt = both[k];
    gc_builder *b = gc_builder_new("t", dt);
    gc_val lg = gc_input(b, "logits", GC_FLOATX, GC_SHAPE(4, 3));
    gc_output(b, "loss", gc_cross_entropy(b, lg, gc_input(b, "labels", GC_I64, GC_SHAPE(4)), -100));
    gc_output(b, "none", gc_cross_entropy(b, lg, gc_input(b, "ignored", GC_I64, GC_SHAPE(4)), -100));
    gc_val l3 = gc_reshape(b, lg, GC_SHAPE(1, 4, 3));
    gc_output(b, "lm", gc_causal_lm_loss(b, l3, gc_input(b, "lm_labels", GC_I64, GC_SHAPE(1, 4))));
    gc_graph *g = finish_ok(b);
    gc_tensor_map in;
    gc_tensor_map_init(&in);
    put(&in, "logits", dt, GC_SHAPE(4, 3), logits);
    put(&in, "labels", GC_I64, GC_SHAPE(4), labels);
    put(&in, "ignored", GC_I64, GC_SHAPE(4), (double[]){-100, -100, -100, -100});
    put(&in, "lm_labels", GC_I64, GC_SHAPE(1, 4), (double[]){5, 2, -100, 0});
    double nll[4];
    for (int r = 0; r < 4; r++) {
      double z = 0;
      for (int j = 0; j < 3; j++) z += exp(logits[r * 3 + j]);
      nll[r] = log(z);   /* -log p[label] = log z - logit[label] */
    }
    double want = ((nll[0] - 3) + (nll[2] + 1) + (nll[3] + 2)) / 3;   /* labels 2, 0, 1 pick 3, -1, -2 */
    /* lm: position 0 predicts label 2, position 1 ignored, position 2 predicts 0 */
    double want_lm = ((nll[0] - 3) + (nll[2] + 1)) / 2;
    gc_tensor *o = run_out(g, NULL, &in, "loss");
    assert_close(at(o, 0), want, tol_of(dt) * 4);
    gc_tensor_free(o);
    o = run_out(g, NULL, &in, "none");
    assert_true(at(o, 0) == 0);
    gc_tensor_free(o);
    o = run_out(g, NULL, &in, "lm");
    assert_close(at(o, 0), want_lm, tol_of(dt) * 4);
    gc_tensor_free(o);
    gc_tensor_map_clear(&in);
    gc_graph_free(g);
  }
}

/* ---- dropout ----------------------------------------------------------- */

static void test_dropout(void **state) {
  (void)state;
  gc_builder *b = gc_builder_new("t", GC_F32);
  gc_val x = gc_input(b, "x", GC_F32, GC_SHAPE(100, 100));
  assert_int_equal(gc_dropout(b, x, 0.25).ref, x.ref);   /* eval: identity */
  gc_val ctr = gc_input(b, "step", GC_I64, 0, NULL);
  gc_builder_set_training(b, true, ctr, 1234);
  gc_output(b, "y", gc_dropout(b, x, 0.25));
  gc_output(b, "y2", gc_dropout(b, x, 0.25));             /* another site */
  gc_graph *g = finish_ok(b);
  gc_tensor_map in;
  gc_tensor_map_init(&in);
  double *ones = malloc(sizeof(double) * 10000);
  for (int i = 0; i < 10000; i++) ones[i] = 1;
  put(&in, "x", GC_F32, GC_SHAPE(100, 100), ones);
  put(&in, "step", GC_I64, 0, NULL, (double[]){3});
  gc_tensor *y = run_out(g, NULL, &in, "y"), *y2 = run_out(g, NULL, &in, "y2");
  int zeros = 0, same = 0;
  for (int i = 0; i < 10000; i++) {
    double v = at(y, i);
    assert_true(v == 0 || fabs(v - 1 / 0.75) < 1e-6);
    zeros += v == 0;
    same += (v == 0) == (at(y2, i) == 0);
  }
  assert_true(zeros > 2300 && zeros < 2700);   /* 2500 +- 5.8 sd */
  assert_true(same < 9000);                     /* the two sites differ (expected 6250) */
  free(ones);
  gc_tensor_free(y);
  gc_tensor_free(y2);
  gc_tensor_map_clear(&in);
  gc_graph_free(g);
}

/* ---- attention --------------------------------------------------------- */

enum { B = 2, HQ = 4, HKV = 2, T = 5, D = 4 };

/* Naive attention for one (batch, q head): kv head = h / (HQ / hkv). */
static void naive_attention(const double *q, const double *k, const double *v, int hkv, bool causal,
                            const double *mask, double scale, double *out) {
  for (int bb = 0; bb < B; bb++)
    for (int h = 0; h < HQ; h++) {
      int kh = h / (HQ / hkv);
      for (int i = 0; i < T; i++) {
        double s[T], m = -INFINITY, z = 0;
        const double *qi = q + ((bb * HQ + h) * T + i) * D;
        for (int j = 0; j < T; j++) {
          const double *kj = k + ((bb * hkv + kh) * T + j) * D;
          s[j] = 0;
          for (int c = 0; c < D; c++) s[j] += qi[c] * kj[c];
          s[j] *= scale;
          bool keep = (!causal || j <= i) && (!mask || mask[bb * T + j] != 0);
          if (!keep) s[j] = -INFINITY;
          if (s[j] > m) m = s[j];
        }
        for (int j = 0; j < T; j++) z += exp(s[j] - m);
        for (int c = 0; c < D; c++) {
          double acc = 0;
          for (int j = 0; j < T; j++) acc += exp(s[j] - m) / z * v[((bb * hkv + kh) * T + j) * D + c];
          out[((bb * HQ + h) * T + i) * D + c] = acc;
        }
      }
    }
}

typedef struct {
  double q[B * HQ * T * D], k[B * HKV * T * D], v[B * HKV * T * D];
  double kr[B * HQ * T * D], vr[B * HQ * T * D];   /* kv repeated to HQ heads */
} attn_data;

static void attn_data_init(attn_data *a) {
  fill_vals(a->q, B * HQ * T * D, 11);
  fill_vals(a->k, B * HKV * T * D, 12);
  fill_vals(a->v, B * HKV * T * D, 13);
  for (int bb = 0; bb < B; bb++)
    for (int h = 0; h < HQ; h++)
      for (int e = 0; e < T * D; e++) {
        a->kr[(bb * HQ + h) * T * D + e] = a->k[(bb * HKV + h / 2) * T * D + e];
        a->vr[(bb * HQ + h) * T * D + e] = a->v[(bb * HKV + h / 2) * T * D + e];
      }
}

static void test_attention(void **state) {
  (void)state;
  static attn_data a;
  attn_data_init(&a);
  double mask[B * T] = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0};   /* batch 1: last two keys are padding */
  gc_builder *b = gc_builder_new("t", GC_F64);
  gc_val q = gc_input(b, "q", GC_FLOATX, GC_SHAPE(B, HQ, T, D));
  gc_val k = gc_input(b, "k", GC_FLOATX, GC_SHAPE(B, HKV, T, D));
  gc_val v = gc_input(b, "v", GC_FLOATX, GC_SHAPE(B, HKV, T, D));
  gc_val kr = gc_input(b, "kr", GC_FLOATX, GC_SHAPE(B, HQ, T, D));
  gc_val vr = gc_input(b, "vr", GC_FLOATX, GC_SHAPE(B, HQ, T, D));
  gc_val m = gc_input(b, "attention_mask", GC_I64, GC_SHAPE(B, T));
  gc_output(b, "gqa_causal", gc_attention(b, q, k, v, &(gc_attn_opts){.causal = true}));
  gc_output(b, "mha_causal", gc_attention(b, q, kr, vr, &(gc_attn_opts){.causal = true}));
  gc_output(b, "padded", gc_attention(b, q, k, v, &(gc_attn_opts){.mask = m}));
  gc_output(b, "both", gc_attention(b, q, k, v, &(gc_attn_opts){.causal = true, .mask = m}));
  gc_output(b, "noscale", gc_attention(b, q, k, v, &(gc_attn_opts){.no_scale = true}));
  gc_graph *g = finish_ok(b);
  gc_tensor_map in;
  gc_tensor_map_init(&in);
  put(&in, "q", GC_F64, GC_SHAPE(B, HQ, T, D), a.q);
  put(&in, "k", GC_F64, GC_SHAPE(B, HKV, T, D), a.k);
  put(&in, "v", GC_F64, GC_SHAPE(B, HKV, T, D), a.v);
  put(&in, "kr", GC_F64, GC_SHAPE(B, HQ, T, D), a.kr);
  put(&in, "vr", GC_F64, GC_SHAPE(B, HQ, T, D), a.vr);
  put(&in, "attention_mask", GC_I64, GC_SHAPE(B, T), mask);
  static double want[B * HQ * T * D];
  struct { const char *name; bool causal; const double *mask; double scale; } cases[] = {
      {"gqa_causal", true, NULL, 0.5}, {"mha_causal", true, NULL, 0.5},
      {"padded", false, mask, 0.5},     {"both", true, mask, 0.5},
      {"noscale", false, NULL, 1.0},
  };
  gc_tensor *outs[5];
  for (int c = 0; c < 5; c++) {
    naive_attention(a.q, a.k, a.v, HKV, cases[c].causal, cases[c].mask, cases[c].scale, want);
    outs[c] = run_out(g, NULL, &in, cases[c].name);
    for (int i = 0; i < B * HQ * T * D; i++) assert_close(at(outs[c], i), want[i], 1e-12);
  }
  /* GQA equals MHA with repeated kv, exactly */
  assert_memory_equal(outs[0]->data, outs[1]->data, gc_tensor_bytes(outs[0]));
  /* causal: changing the last key/value leaves earlier queries unchanged */
  for (int i = 0; i < B * HKV; i++)
    for (int c = 0; c < D; c++) {
      gc_tensor_store(gc_tensor_map_get(&in, "k"), (i * T + T - 1) * D + c, 9.0);
      gc_tensor_store(gc_tensor_map_get(&in, "v"), (i * T + T - 1) * D + c, -9.0);
    }
  gc_tensor *changed = run_out(g, NULL, &in, "gqa_causal");
  gc_tensor *padded = run_out(g, NULL, &in, "padded");
  for (int bh = 0; bh < B * HQ; bh++)
    for (int i = 0; i < T; i++)
      for (int c = 0; c < D; c++) {
        int e = (bh * T + i) * D + c;
        if (i < T - 1) assert_true(at(changed, e) == at(outs[0], e));
        else assert_false(at(changed, e) == at(outs[0], e));
        if (bh >= HQ) assert_close(at(padded, e), at(outs[2], e), 1e-15);   /* padded key */
      }
  for (int c = 0; c < 5; c++) gc_tensor_free(outs[c]);
  gc_tensor_free(changed);
  gc_tensor_free(padded);
  gc_tensor_map_clear(&in);
  gc_graph_free(g);
}

static void test_heads(void **state) {
  (void)state;
  double x[2 * 3 * 6];
  fill_vals(x, 36, 5);
  gc_builder *b = gc_builder_new("t", GC_F32);
  gc_val xv = gc_input(b, "x", GC_F32, GC_SHAPE(2, 3, 6));
  gc_val h = gc_split_heads(b, xv, 2);                    /* [2,2,3,3] */
  gc_output(b, "h", h);
  gc_output(b, "back", gc_merge_heads(b, h));
  gc_graph *g = finish_ok(b);
  gc_tensor_map in;
  gc_tensor_map_init(&in);
  put(&in, "x", GC_F32, GC_SHAPE(2, 3, 6), x);
  gc_tensor *ho = run_out(g, NULL, &in, "h"), *back = run_out(g, NULL, &in, "back");
  for (int bb = 0; bb < 2; bb++)
    for (int hh = 0; hh < 2; hh++)
      for (int t = 0; t < 3; t++)
        for (int d = 0; d < 3; d++)
          assert_close(at(ho, ((bb * 2 + hh) * 3 + t) * 3 + d), (float)x[(bb * 3 + t) * 6 + hh * 3 + d], 0);
  for (int i = 0; i < 36; i++) assert_close(at(back, i), (float)x[i], 0);
  gc_tensor_free(ho);
  gc_tensor_free(back);
  gc_tensor_map_clear(&in);
  gc_graph_free(g);
}

/* ---- positions --------------------------------------------------------- */

static void test_rope(void **state) {
  (void)state;
  enum { RB = 2, RH = 2, RT = 5, RD = 6 };
  double x[RB * RH * RT * RD], pos[RB * RT] = {0, 1, 2, 3, 4, 7, 3, 0, 11, 2};
  fill_vals(x, RB * RH * RT * RD, 3);
  const double theta = 10000;
  gc_builder *b = gc_builder_new("t", GC_F64);
  gc_val xv = gc_input(b, "x", GC_FLOATX, GC_SHAPE(RB, RH, RT, RD));
  gc_output(b, "seq", gc_rope(b, xv, GC_NONE, theta));
  gc_output(b, "pos", gc_rope(b, xv, gc_input(b, "position_ids", GC_I64, GC_SHAPE(RB, RT)), theta));
  gc_graph *g = finish_ok(b);
  gc_tensor_map in;
  gc_tensor_map_init(&in);
  put(&in, "x", GC_F64, GC_SHAPE(RB, RH, RT, RD), x);
  put(&in, "position_ids", GC_I64, GC_SHAPE(RB, RT), pos);
  gc_tensor *seq = run_out(g, NULL, &in, "seq"), *pp = run_out(g, NULL, &in, "pos");
  for (int bb = 0; bb < RB; bb++)
    for (int h = 0; h < RH; h++)
      for (int t = 0; t < RT; t++)
        for (int i = 0; i < RD; i++) {
          const double *row = x + ((bb * RH + h) * RT + t) * RD;
          double inv = 1.0 / pow(theta, (2.0 * (i % (RD / 2))) / RD);
          double rot = i < RD / 2 ? -row[i + RD / 2] : row[i - RD / 2];
          int e = ((bb * RH + h) * RT + t) * RD + i;
          assert_close(at(seq, e), row[i] * cos(t * inv) + rot * sin(t * inv), 1e-12);
          double p = pos[bb * RT + t];
          assert_close(at(pp, e), row[i] * cos(p * inv) + rot * sin(p * inv), 1e-12);
        }
  gc_tensor_free(seq);
  gc_tensor_free(pp);
  gc_tensor_map_clear(&in);
  gc_graph_free(g);
}

/* Values of HF's _relative_position_bucket(relative_position, bidirectional,
 * num_buckets=32, max_distance=128), worked out by hand. */
static const struct { int64_t rp; bool bidir; int64_t bucket; } t5_cases[] = {
    /* bidirectional: 16 buckets a side, 8 exact */
    {0, true, 0},    {3, true, 19},   {-3, true, 3},   {8, true, 24},   {-8, true, 8},
    {16, true, 26},  {-16, true, 10}, {20, true, 26},  {-20, true, 10}, {32, true, 28},
    {100, true, 31}, {-100, true, 15}, {200, true, 31}, {-1000, true, 15},
    /* unidirectional (decoder): future is bucket 0, 16 exact */
    {5, false, 0},   {-5, false, 5},  {-15, false, 15}, {-16, false, 16}, {-20, false, 17},
    {-50, false, 24}, {-100, false, 30}, {-127, false, 31}, {-128, false, 31}, {-500, false, 31},
};

static void test_t5_buckets(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof t5_cases / sizeof t5_cases[0]; i++)
    if (gc_t5_bucket(t5_cases[i].rp, t5_cases[i].bidir, 32, 128) != t5_cases[i].bucket)
      fail_msg("bucket(%lld, %d) = %lld, expected %lld", (long long)t5_cases[i].rp, t5_cases[i].bidir,
               (long long)gc_t5_bucket(t5_cases[i].rp, t5_cases[i].bidir, 32, 128),
               (long long)t5_cases[i].bucket);
  /* the graph agrees with the C function for every k - q in -200..200 */
  enum { N = 201 };
  gc_builder *b = gc_builder_new("t", GC_F32);
  gc_output(b, "enc", gc_t5_buckets(b, N, N, true, 32, 128));
  gc_output(b, "dec", gc_t5_buckets(b, N, N, false, 32, 128));
  gc_output(b, "bias", gc_t5_relative_bias(b, "relative_attention_bias", 3, 4, 2, 32, 128, true));
  gc_graph *g = finish_ok(b);
  assert_true(gc_graph_find_param(g, "relative_attention_bias.weight") >= 0);
  gc_tensor_map p;
  gc_tensor_map_init(&p);
  double table[64];
  for (int i = 0; i < 64; i++) table[i] = i;   /* [bucket][head] = 2 * bucket + head */
  put(&p, "relative_attention_bias.weight", GC_F32, GC_SHAPE(32, 2), table);
  gc_tensor *enc = run_out(g, &p, NULL, "enc"), *dec = run_out(g, &p, NULL, "dec");
  gc_tensor *bias = run_out(g, &p, NULL, "bias");
  for (int q = 0; q < N; q++)
    for (int k = 0; k < N; k++) {
      assert_int_equal((int64_t)at(enc, q * N + k), gc_t5_bucket(k - q, true, 32, 128));
      assert_int_equal((int64_t)at(dec, q * N + k), gc_t5_bucket(k - q, false, 32, 128));
    }
  char buf[GC_TYPE_STR_MAX];
  assert_string_equal(gc_type_str(&bias->type, buf, sizeof buf), "f32[1,2,3,4]");
  for (int h = 0; h < 2; h++)
    for (int q = 0; q < 3; q++)
      for (int k = 0; k < 4; k++)
        assert_close(at(bias, (h * 3 + q) * 4 + k), 2.0 * (double)gc_t5_bucket(k - q, true, 32, 128) + h, 0);
  gc_tensor_free(enc);
  gc_tensor_free(dec);
  gc_tensor_free(bias);
  gc_tensor_map_clear(&p);
  gc_graph_free(g);
}

/* ---- a whole block, gradient-checked in f64 ---------------------------- */

static gc_graph *tiny_model(gc_dtype dt, gc_init_table **inits) {
  gc_builder *b = gc_builder_new("tiny", dt);
  gc_builder_set_init_std(b, 0.5);
  gc_val ids = gc_input(b, "input_ids", GC_I64, GC_SHAPE(1, 4));
  gc_val h = gc_embedding(b, ids, "embed", 7, 8);                    /* [1,4,8] */
  gc_val n = gc_rms_norm(b, h, "norm", 8, 1e-6);
  gc_val q = gc_rope(b, gc_split_heads(b, gc_linear(b, n, "q", 8, 8, true, GC_LINEAR_OUT_IN), 2), GC_NONE, 100);
  gc_val k = gc_rope(b, gc_split_heads(b, gc_linear(b, n, "k", 8, 4, false, GC_LINEAR_OUT_IN), 1), GC_NONE, 100);
  gc_val v = gc_split_heads(b, gc_linear(b, n, "v", 8, 4, false, GC_LINEAR_OUT_IN), 1);
  gc_val a = gc_merge_heads(b, gc_attention(b, q, k, v, &(gc_attn_opts){.causal = true}));
  h = gc_add(b, h, gc_linear(b, gc_gelu(b, a, GC_GELU_TANH), "o", 8, 8, false, GC_LINEAR_IN_OUT));
  h = gc_layer_norm(b, h, "ln", 8, 1e-5);
  gc_val embed = gc_find_param(b, "embed.weight");                    /* tied head */
  gc_val logits = gc_matmul_t(b, h, embed, false, true);             /* [1,4,7] */
  gc_output(b, "loss", gc_causal_lm_loss(b, logits, gc_input(b, "labels", GC_I64, GC_SHAPE(1, 4))));
  *inits = gc_builder_take_inits(b);
  return finish_ok(b);
}

static double loss_of(const gc_graph *g, gc_tensor_map *p, const gc_tensor_map *in) {
  gc_tensor *o = run_out(g, p, in, "loss");
  double v = at(o, 0);
  gc_tensor_free(o);
  return v;
}

static void test_gradcheck_tiny_model(void **state) {
  (void)state;
  gc_init_table *inits;
  gc_graph *g = tiny_model(GC_F64, &inits);
  gc_diag d = {0};
  if (gc_grad_outputs(g, "loss", &d)) fail_msg("grad: %s", d.msg);
  gc_tensor_map p, in;
  gc_tensor_map_init(&p);
  gc_tensor_map_init(&in);
  assert_int_equal(gc_init_params(g, inits, 5, &p, &d), 0);
  put(&in, "input_ids", GC_I64, GC_SHAPE(1, 4), (double[]){1, 6, 0, 3});
  put(&in, "labels", GC_I64, GC_SHAPE(1, 4), (double[]){-100, 6, 2, -100});
  gc_tensor_map outs;
  gc_tensor_map_init(&outs);
  if (gc_interp_run(g, &p, &in, &outs, &d)) fail_msg("run: %s", d.msg);
  const char *names[] = {"embed.weight", "norm.weight", "q.weight", "q.bias", "k.weight", "o.weight", "ln.bias"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char gname[128];
    snprintf(gname, sizeof gname, "grad.%s", names[i]);
    gc_tensor *grad = gc_tensor_map_get(&outs, gname), *w = gc_tensor_map_get(&p, names[i]);
    assert_non_null(grad);
    for (int64_t e = 0; e < gc_tensor_numel(w); e += 3) {
      double w0 = at(w, e), eps = 1e-5;
      gc_tensor_store(w, e, w0 + eps);
      double up = loss_of(g, &p, &in);
      gc_tensor_store(w, e, w0 - eps);
      double down = loss_of(g, &p, &in);
      gc_tensor_store(w, e, w0);
      double num = (up - down) / (2 * eps);
      if (!gc_close(at(grad, e), num, 1e-6))
        fail_msg("%s[%lld]: autodiff %.10g, numeric %.10g", names[i], (long long)e, at(grad, e), num);
    }
  }
  gc_tensor_map_clear(&outs);
  gc_tensor_map_clear(&p);
  gc_tensor_map_clear(&in);
  gc_init_table_free(inits);
  gc_graph_free(g);
  /* the same code builds the f32 graph */
  g = tiny_model(GC_F32, &inits);
  assert_int_equal(g->nodes[gc_graph_find_param(g, "q.weight")]->type.dtype, GC_F32);
  gc_init_table_free(inits);
  gc_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_softmax),
      cmocka_unit_test(test_norms),
      cmocka_unit_test(test_activations),
      cmocka_unit_test(test_linear_layouts_and_swiglu),
      cmocka_unit_test(test_cross_entropy),
      cmocka_unit_test(test_dropout),
      cmocka_unit_test(test_attention),
      cmocka_unit_test(test_heads),
      cmocka_unit_test(test_rope),
      cmocka_unit_test(test_t5_buckets),
      cmocka_unit_test(test_gradcheck_tiny_model),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
