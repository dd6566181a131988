/* The optimizer step as graph nodes: AdamW and SGD updates against hand
 * loops in C (bias correction, weight decay on rank-2 params only), the
 * warmup/cosine schedule, global-norm clipping, the opt.step counter, config
 * keys, errors, and a small regression that trains.  f64 and f32. */
#include "tests/frontend/nn_testutil.h"
#include "frontend/optim.h"

/* ---- the problem: loss = mean((x W + b - y)^2), W [2,3], b [3] --------- */

#define NP 9 /* W (6, decayed) then b (3, not decayed) */
static const double X[8] = {0.5, -1.0, 1.5, 0.25, -0.75, 2.0, 1.0, 1.0};
static const double Y[12] = {1, 0, -1, 0.5, 2, 0, -1, 1, 0.5, 0.25, -0.5, 1.5};
static const double P0[NP] = {0.3, -0.2, 0.1, 0.4, 0.05, -0.6, 0.2, -0.1, 0.0};

/* Loss and gradient of the problem at p (double, by hand). */
static double ref_grad(const double *p, double *g) {
  double loss = 0;
  for (int i = 0; i < NP; i++) g[i] = 0;
  for (int r = 0; r < 4; r++)
    for (int j = 0; j < 3; j++) {
      double pred = X[2 * r] * p[j] + X[2 * r + 1] * p[3 + j] + p[6 + j];
      double e = pred - Y[3 * r + j];
      loss += e * e / 12;
      g[j] += 2 * e / 12 * X[2 * r];
      g[3 + j] += 2 * e / 12 * X[2 * r + 1];
      g[6 + j] += 2 * e / 12;
    }
  return loss;
}

static double ref_norm(const double *g) {
  double s = 0;
  for (int i = 0; i < NP; i++) s += g[i] * g[i];
  return sqrt(s);
}

static gc_graph *build(gc_dtype dt, const gc_optim_config *c, bool with_step, bool with_unused) {
  gc_builder *b = gc_builder_new("reg", dt);
  gc_val x = gc_input(b, "x", dt, GC_SHAPE(4, 2));
  gc_val y = gc_input(b, "y", dt, GC_SHAPE(4, 3));
  if (with_step) /* a model that already counts steps (dropout) */
    gc_output(b, "seen_step", gc_param_full(b, "opt.step", GC_I64, 0, NULL, gc_init_zeros()));
  if (with_unused) gc_output(b, "unused_out", gc_param(b, "unused", GC_SHAPE(2), gc_init_ones()));
  gc_push(b, "lin");
  gc_val w = gc_param(b, "weight", GC_SHAPE(2, 3), gc_init_zeros());
  gc_val bias = gc_param(b, "bias", GC_SHAPE(3), gc_init_zeros());
  gc_pop(b);
  gc_val e = gc_sub(b, gc_add(b, gc_matmul(b, x, w), bias), y);
  gc_output(b, "loss", gc_mean_all(b, gc_square(b, e)));
  gc_graph *g = finish_ok(b);
  gc_diag d = {0};
  if (gc_optim_append(g, "loss", c, &d)) fail_msg("optim_append: %s", d.msg);
  return g;
}

typedef struct {
  gc_graph *g;
  gc_dtype dt;
  gc_tensor_map params, inputs;
  double loss, lr, grad_norm;
} rig;

static void rig_init(rig *r, gc_dtype dt, const gc_optim_config *c, bool with_step, bool with_unused) {
  r->dt = dt;
  r->g = build(dt, c, with_step, with_unused);
  gc_tensor_map_init(&r->params);
  gc_tensor_map_init(&r->inputs);
  put(&r->params, "lin.weight", dt, GC_SHAPE(2, 3), P0);
  put(&r->params, "lin.bias", dt, GC_SHAPE(3), P0 + 6);
  if (with_unused) put(&r->params, "unused", dt, GC_SHAPE(2), (double[]){0.75, -0.25});
  gc_diag d = {0};
  if (gc_init_params(r->g, NULL, 1, &r->params, &d)) fail_msg("init: %s", d.msg);
  put(&r->inputs, "x", dt, GC_SHAPE(4, 2), X);
  put(&r->inputs, "y", dt, GC_SHAPE(4, 3), Y);
}

static void rig_free(rig *r) {
  gc_tensor_map_clear(&r->params);
  gc_tensor_map_clear(&r->inputs);
  gc_graph_free(r->g);
}

static double scalar_out(gc_tensor_map *outs, const char *name) {
  gc_tensor *t = gc_tensor_map_get(outs, name);
  assert_non_null(t);
  assert_int_equal(t->type.rank, 0);
  return at(t, 0);
}

static void rig_step(rig *r) {
  gc_diag d = {0};
  gc_tensor_map outs;
  gc_tensor_map_init(&outs);
  if (gc_interp_run(r->g, &r->params, &r->inputs, &outs, &d)) fail_msg("run: %s", d.msg);
  r->loss = scalar_out(&outs, "loss");
  r->lr = scalar_out(&outs, "lr");
  r->grad_norm = scalar_out(&outs, "grad_norm");
  gc_tensor_map_clear(&outs);
}

static void rig_params(const rig *r, double *p) {
  const gc_tensor *w = gc_tensor_map_get(&r->params, "lin.weight");
  const gc_tensor *b = gc_tensor_map_get(&r->params, "lin.bias");
  for (int i = 0; i < 6; i++) p[i] = at(w, i);
  for (int i = 0; i < 3; i++) p[6 + i] = at(b, i);
}

static int64_t rig_counter(const rig *r) {
  const gc_tensor *t = gc_tensor_map_get(&r->params, "opt.step");
  assert_non_null(t);
  assert_int_equal(t->type.dtype, GC_I64);
  return (int64_t)at(t, 0);
}

static double tol_of(gc_dtype dt) { return dt == GC_F64 ? 1e-12 : 2e-5; }

static gc_optim_config constant_cfg(gc_optim_kind kind, double lr) {
  gc_optim_config c;
  gc_optim_defaults(&c);
  c.kind = kind;
  c.lr = lr;
  c.warmup = 0;
  c.schedule = GC_SCHEDULE_CONSTANT;
  c.clip = 0;
  return c;
}

/* ---- AdamW ------------------------------------------------------------- */

/* PyTorch AdamW as written in optim.h, param i decayed when i < 6 (W). */
static void ref_adamw(const gc_optim_config *c, int64_t s, double lr, double *p, double *m, double *v) {
  double g[NP];
  ref_grad(p, g);
  double bc1 = 1 - pow(c->beta1, (double)s), bc2 = 1 - pow(c->beta2, (double)s);
  for (int i = 0; i < NP; i++) {
    m[i] = c->beta1 * m[i] + (1 - c->beta1) * g[i];
    v[i] = c->beta2 * v[i] + (1 - c->beta2) * g[i] * g[i];
    double wd = i < 6 ? lr * c->weight_decay * p[i] : 0;
    p[i] -= lr * (m[i] / bc1) / (sqrt(v[i] / bc2) + c->eps) + wd;
  }
}

static void adamw_steps(gc_dtype dt, int steps) {
  gc_optim_config c = constant_cfg(GC_OPTIM_ADAMW, 0.01);
  c.weight_decay = 0.5; /* large, so that decaying b would show */
  rig r;
  rig_init(&r, dt, &c, false, false);
  double p[NP], m[NP] = {0}, v[NP] = {0}, got[NP];
  memcpy(p, P0, sizeof p);
  for (int s = 1; s <= steps; s++) {
    rig_step(&r);
    ref_adamw(&c, s, 0.01, p, m, v);
    rig_params(&r, got);
    for (int i = 0; i < NP; i++) assert_close(got[i], p[i], tol_of(dt));
    assert_close(r.lr, 0.01, tol_of(dt));
    assert_int_equal(rig_counter(&r), s);
  }
  /* the state params hold torch's m and v */
  const gc_tensor *mw = gc_tensor_map_get(&r.params, "opt.m.lin.weight");
  const gc_tensor *vb = gc_tensor_map_get(&r.params, "opt.v.lin.bias");
  assert_non_null(mw);
  assert_non_null(vb);
  assert_int_equal(mw->type.dtype, dt);
  assert_int_equal(mw->type.rank, 2);
  for (int i = 0; i < 6; i++) assert_close(at(mw, i), m[i], tol_of(dt));
  for (int i = 0; i < 3; i++) assert_close(at(vb, i), v[6 + i], tol_of(dt));
  rig_free(&r);
}

/* One step worked out directly: at s = 1, m/bc1 = g and sqrt(v/bc2) = |g|,
 * so p1 = p - lr * g / (|g| + eps) - lr * wd * p (wd on W only). */
static void adamw_one_step(gc_dtype dt) {
  gc_optim_config c = constant_cfg(GC_OPTIM_ADAMW, 0.01);
  c.weight_decay = 0.5;
  c.beta1 = 0.8;
  c.beta2 = 0.9;
  rig r;
  rig_init(&r, dt, &c, false, false);
  rig_step(&r);
  double g[NP], got[NP];
  double loss = ref_grad(P0, g);
  assert_close(r.loss, loss, tol_of(dt));
  rig_params(&r, got);
  for (int i = 0; i < NP; i++) {
    double want = P0[i] - 0.01 * g[i] / (fabs(g[i]) + c.eps) - (i < 6 ? 0.01 * 0.5 * P0[i] : 0);
    assert_close(got[i], want, tol_of(dt));
  }
  /* the bias is not decayed: its change is exactly the Adam step */
  assert_close(got[6] - P0[6], -0.01 * (g[6] > 0 ? 1 : -1), dt == GC_F64 ? 1e-9 : 1e-5);
  assert_int_equal(rig_counter(&r), 1);
  rig_free(&r);
}

static void test_adamw_one_step_f64(void **s) { (void)s; adamw_one_step(GC_F64); }
static void test_adamw_one_step_f32(void **s) { (void)s; adamw_one_step(GC_F32); }
static void test_adamw_three_steps_f64(void **s) { (void)s; adamw_steps(GC_F64, 3); }
static void test_adamw_three_steps_f32(void **s) { (void)s; adamw_steps(GC_F32, 3); }

/* ---- SGD with momentum --------------------------------------------------- */

static void sgd_two_steps(gc_dtype dt) {
  gc_optim_config c = constant_cfg(GC_OPTIM_SGD, 0.1);
  c.momentum = 0.9;
  c.weight_decay = 0.2;
  rig r;
  rig_init(&r, dt, &c, false, false);
  double p[NP], buf[NP] = {0}, g[NP], got[NP];
  memcpy(p, P0, sizeof p);
  for (int s = 1; s <= 2; s++) {
    rig_step(&r);
    ref_grad(p, g);
    for (int i = 0; i < NP; i++) {
      double gi = g[i] + (i < 6 ? 0.2 * p[i] : 0);
      buf[i] = s == 1 ? gi : 0.9 * buf[i] + gi;   /* torch: buf = g at the first step */
      p[i] -= 0.1 * buf[i];
    }
    rig_params(&r, got);
    for (int i = 0; i < NP; i++) assert_close(got[i], p[i], tol_of(dt));
  }
  const gc_tensor *mb = gc_tensor_map_get(&r.params, "opt.m.lin.bias");
  assert_non_null(mb);
  for (int i = 0; i < 3; i++) assert_close(at(mb, i), buf[6 + i], tol_of(dt));
  assert_null(gc_tensor_map_get(&r.params, "opt.v.lin.bias")); /* SGD has no second moment */
  rig_free(&r);
}

static void test_sgd_momentum_f64(void **s) { (void)s; sgd_two_steps(GC_F64); }
static void test_sgd_momentum_f32(void **s) { (void)s; sgd_two_steps(GC_F32); }

/* ---- schedule ------------------------------------------------------------ */

static void set_counter(rig *r, int64_t step) {
  gc_tensor *t = gc_tensor_map_get(&r->params, "opt.step");
  assert_non_null(t);
  gc_tensor_store(t, 0, (double)step);
}

/* lr 1, min_lr 0.1, warmup 4, decay_steps 12. */
static void schedule(gc_dtype dt) {
  gc_optim_config c = constant_cfg(GC_OPTIM_SGD, 1.0);
  c.schedule = GC_SCHEDULE_COSINE;
  c.warmup = 4;
  c.decay_steps = 12;
  c.min_lr = 0.1;
  rig r;
  rig_init(&r, dt, &c, false, false);
  /* step s runs with opt.step = s - 1 */
  const struct { int64_t s; double lr; } want[] = {
      {1, 0.25}, {2, 0.5}, {4, 1.0},
      {5, 0.1 + 0.9 * 0.5 * (1 + cos(M_PI / 8))},   /* p = 1/8 */
      {8, 0.55},                                     /* p = 1/2 */
      {10, 0.1 + 0.9 * 0.5 * (1 - sqrt(0.5))},      /* p = 3/4 */
      {12, 0.1}, {13, 0.1}, {1000, 0.1},
  };
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    set_counter(&r, want[i].s - 1);
    rig_step(&r);
    assert_close(r.lr, want[i].lr, dt == GC_F64 ? 1e-12 : 1e-6);
    assert_int_equal(rig_counter(&r), want[i].s);
  }
  rig_free(&r);
  /* constant after warmup */
  c.schedule = GC_SCHEDULE_CONSTANT;
  rig_init(&r, dt, &c, false, false);
  const struct { int64_t s; double lr; } want2[] = {{1, 0.25}, {3, 0.75}, {5, 1.0}, {500, 1.0}};
  for (size_t i = 0; i < sizeof want2 / sizeof *want2; i++) {
    set_counter(&r, want2[i].s - 1);
    rig_step(&r);
    assert_close(r.lr, want2[i].lr, dt == GC_F64 ? 1e-12 : 1e-6);
  }
  rig_free(&r);
}

static void test_schedule_f64(void **s) { (void)s; schedule(GC_F64); }
static void test_schedule_f32(void **s) { (void)s; schedule(GC_F32); }

/* The schedule drives the update: one SGD step at s = 2 of warmup 4 moves
 * p by lr/2 * g. */
static void test_schedule_scales_update(void **state) {
  (void)state;
  gc_optim_config c = constant_cfg(GC_OPTIM_SGD, 0.2);
  c.momentum = 0;
  c.weight_decay = 0;
  c.warmup = 4;
  rig r;
  rig_init(&r, GC_F64, &c, false, false);
  set_counter(&r, 1);
  rig_step(&r);
  double g[NP], got[NP];
  ref_grad(P0, g);
  rig_params(&r, got);
  for (int i = 0; i < NP; i++) assert_close(got[i], P0[i] - 0.1 * g[i], 1e-12);
  assert_null(gc_tensor_map_get(&r.params, "opt.m.lin.weight")); /* no momentum buffer */
  rig_free(&r);
}

/* ---- clipping ------------------------------------------------------------ */

static void clipping(gc_dtype dt, double clip) {
  gc_optim_config c = constant_cfg(GC_OPTIM_SGD, 0.5);
  c.momentum = 0;
  c.weight_decay = 0;
  c.clip = clip;
  rig r;
  rig_init(&r, dt, &c, false, false);
  rig_step(&r);
  double g[NP], got[NP];
  ref_grad(P0, g);
  double norm = ref_norm(g);
  assert_true(norm > 0.05 && norm < 100);
  assert_close(r.grad_norm, norm, tol_of(dt)); /* before clipping */
  double scale = clip > 0 && clip / (norm + 1e-6) < 1 ? clip / (norm + 1e-6) : 1;
  rig_params(&r, got);
  for (int i = 0; i < NP; i++) assert_close(got[i], P0[i] - 0.5 * scale * g[i], tol_of(dt));
  rig_free(&r);
}

static void test_clip_scales_f64(void **s) { (void)s; clipping(GC_F64, 0.05); }
static void test_clip_scales_f32(void **s) { (void)s; clipping(GC_F32, 0.05); }
static void test_clip_below_norm_untouched(void **s) {
  (void)s;
  clipping(GC_F64, 100.0);
  clipping(GC_F32, 100.0);
  clipping(GC_F64, 0.0); /* off */
}

/* ---- the counter, unreached params -------------------------------------- */

/* A model's own opt.step (dropout counter) is the optimizer's counter. */
static void test_reuses_step_param(void **state) {
  (void)state;
  gc_optim_config c = constant_cfg(GC_OPTIM_ADAMW, 0.01);
  rig r;
  rig_init(&r, GC_F32, &c, true, true);
  int n_step = 0;
  for (int i = 0; i < r.g->n_nodes; i++) {
    const gc_node *n = r.g->nodes[i];
    n_step += n->op == GC_OP_PARAM && strcmp(n->attrs.name.name, "opt.step") == 0;
  }
  assert_int_equal(n_step, 1);
  for (int s = 0; s < 3; s++) {
    gc_tensor_map outs;
    gc_tensor_map_init(&outs);
    gc_diag d = {0};
    if (gc_interp_run(r.g, &r.params, &r.inputs, &outs, &d)) fail_msg("run: %s", d.msg);
    assert_close(scalar_out(&outs, "seen_step"), s, 0); /* the model sees the old count */
    gc_tensor_map_clear(&outs);
    assert_int_equal(rig_counter(&r), s + 1);
  }
  /* a param the loss does not reach is left alone and has no state */
  assert_int_equal(gc_graph_find_param(r.g, "opt.m.unused"), -1);
  for (int i = 0; i < r.g->n_updates; i++) assert_string_not_equal(r.g->updates[i].name, "unused");
  const gc_tensor *u = gc_tensor_map_get(&r.params, "unused");
  assert_close(at(u, 0), 0.75, 0);
  assert_close(at(u, 1), -0.25, 0);
  rig_free(&r);
}

/* The training graph prints in the IR text and parses back to the same graph. */
static void test_prints_and_parses(void **state) {
  (void)state;
  gc_optim_config c;
  gc_optim_defaults(&c);
  gc_graph *g = build(GC_F32, &c, true, false);
  char *text = gc_print(g);
  assert_non_null(text);
  gc_diag d = {0};
  gc_graph *back = gc_parse(text, strlen(text), &d);
  if (!back) fail_msg("parse: %s", d.msg);
  assert_true(gc_hash_graph(back) == gc_hash_graph(g));
  assert_int_equal(back->n_updates, g->n_updates);
  assert_int_equal(g->n_updates, 1 + 3 * 2); /* opt.step; each param, its m and v */
  free(text);
  gc_graph_free(back);
  gc_graph_free(g);
}

/* ---- training ----------------------------------------------------------- */

static void trains(gc_dtype dt, gc_optim_kind kind) {
  gc_optim_config c;
  gc_optim_defaults(&c);
  c.kind = kind;
  c.lr = 0.05;
  c.warmup = 5;
  c.decay_steps = 50;
  c.min_lr = 0.005;
  c.weight_decay = 0.01;
  rig r;
  rig_init(&r, dt, &c, false, false);
  double first = 0, prev = 0;
  for (int s = 0; s < 50; s++) {
    rig_step(&r);
    if (s == 0) first = r.loss;
    prev = r.loss;
  }
  double p[NP], g[NP];
  rig_params(&r, p);
  double final = ref_grad(p, g);
  assert_true(prev < first);
  assert_true(final < 0.5 * first);
  assert_int_equal(rig_counter(&r), 50);
  rig_free(&r);
}

static void test_trains_adamw(void **s) {
  (void)s;
  trains(GC_F32, GC_OPTIM_ADAMW);
  trains(GC_F64, GC_OPTIM_ADAMW);
}
static void test_trains_sgd(void **s) { (void)s; trains(GC_F32, GC_OPTIM_SGD); }

/* ---- config and errors --------------------------------------------------- */

static void test_config(void **state) {
  (void)state;
  gc_optim_config c;
  gc_optim_defaults(&c);
  assert_int_equal(c.kind, GC_OPTIM_ADAMW);
  assert_close(c.lr, 1e-3, 0);
  assert_close(c.beta2, 0.95, 0);
  assert_int_equal(c.warmup, 100);
  assert_int_equal(c.decay_steps, 2000);
  assert_int_equal(c.schedule, GC_SCHEDULE_COSINE);
  gc_diag d = {0};
  assert_int_equal(gc_optim_config_set(&c, "lr", "3e-4", &d), 0);
  assert_close(c.lr, 3e-4, 0);
  assert_int_equal(gc_optim_config_set(&c, "warmup", "10", &d), 0);
  assert_int_equal(c.warmup, 10);
  assert_int_equal(gc_optim_config_set(&c, "optimizer", "sgd", &d), 0);
  assert_int_equal(c.kind, GC_OPTIM_SGD);
  assert_int_equal(gc_optim_config_set(&c, "schedule", "constant", &d), 0);
  assert_int_equal(c.schedule, GC_SCHEDULE_CONSTANT);
  assert_int_equal(gc_optim_config_set(&c, "clip", "0", &d), 0);
  assert_close(c.clip, 0, 0);
  assert_int_equal(gc_optim_config_set(&c, "n_layer", "2", &d), 1); /* not ours */
  assert_int_equal(gc_optim_config_set(&c, "lr", "fast", &d), -1);
  assert_non_null(strstr(d.msg, "lr"));
  assert_int_equal(gc_optim_config_set(&c, "beta1", "1", &d), -1);
  assert_int_equal(gc_optim_config_set(&c, "warmup", "-3", &d), -1);
  assert_int_equal(gc_optim_config_set(&c, "warmup", "2.5", &d), -1);
  assert_int_equal(gc_optim_config_set(&c, "optimizer", "adam", &d), -1);
  assert_non_null(strstr(d.msg, "adamw"));
  assert_close(c.lr, 3e-4, 0); /* bad values change nothing */
  assert_int_equal(c.warmup, 10);
}

static void test_errors(void **state) {
  (void)state;
  gc_optim_config c;
  gc_optim_defaults(&c);
  gc_diag d = {0};
  gc_builder *b = gc_builder_new("t", GC_F32);
  gc_val w = gc_param(b, "w", GC_SHAPE(3), gc_init_ones());
  gc_output(b, "vec", gc_mul(b, w, w));
  gc_output(b, "n", gc_param_full(b, "count", GC_I64, 0, NULL, gc_init_zeros()));
  gc_graph *g = finish_ok(b);
  int n = g->n_nodes;
  assert_int_equal(gc_optim_append(g, "loss", &c, &d), -1);
  assert_non_null(strstr(d.msg, "no output \"loss\""));
  assert_int_equal(gc_optim_append(g, "vec", &c, &d), -1);
  assert_non_null(strstr(d.msg, "float scalar"));
  assert_int_equal(g->n_nodes, n); /* untouched, still the caller's */
  gc_graph_free(g);
  /* a loss that reaches no param */
  b = gc_builder_new("t", GC_F64);
  gc_param(b, "w", GC_SHAPE(3), gc_init_ones());
  gc_output(b, "loss", gc_sum_all(b, gc_input(b, "x", GC_F64, GC_SHAPE(3))));
  g = finish_ok(b);
  assert_int_equal(gc_optim_append(g, "loss", &c, &d), -1);
  assert_non_null(strstr(d.msg, "does not depend"));
  gc_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_adamw_one_step_f64),   cmocka_unit_test(test_adamw_one_step_f32),
      cmocka_unit_test(test_adamw_three_steps_f64), cmocka_unit_test(test_adamw_three_steps_f32),
      cmocka_unit_test(test_sgd_momentum_f64),     cmocka_unit_test(test_sgd_momentum_f32),
      cmocka_unit_test(test_schedule_f64),         cmocka_unit_test(test_schedule_f32),
      cmocka_unit_test(test_schedule_scales_update), cmocka_unit_test(test_clip_scales_f64),
      cmocka_unit_test(test_clip_scales_f32),      cmocka_unit_test(test_clip_below_norm_untouched),
      cmocka_unit_test(test_reuses_step_param),    cmocka_unit_test(test_trains_adamw),
      cmocka_unit_test(test_trains_sgd),           cmocka_unit_test(test_config),
      cmocka_unit_test(test_errors),               cmocka_unit_test(test_prints_and_parses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
