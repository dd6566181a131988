/* Index-set splitting and range folding (see split.h). */
#include "codegen/split.h"
#include "codegen/driver.h"

#include "codegen/range.h"

#include <stdlib.h>
#include <string.h>

/* ---- splitting ------------------------------------------------------------- */

/* value == a·iv + b, with a != 0, for the loop whose IV is iv */
static bool affine(gc_ranges *c, int id, int iv, int64_t *a, int64_t *b) {
  id = gc_range_resolve(c, id);
  const gc_loop_inst *in = &c->f->insts[id];
  if (id == iv) return *a = 1, *b = 0, true;
  if (in->op == GC_L_CONST && in->dtype == GC_I64) return *a = 0, *b = in->ivalue, true;
  if (in->op != GC_L_OP || in->dtype != GC_I64) return false;
  int64_t a0, b0, a1 = 0, b1 = 0;
  if (!affine(c, in->in[0], iv, &a0, &b0)) return false;
  if (in->gop == GC_OP_NEG) return *a = -a0, *b = -b0, true;
  if (in->n_in < 2 || !affine(c, in->in[1], iv, &a1, &b1)) return false;
  switch (in->gop) {
  case GC_OP_ADD: return *a = a0 + a1, *b = b0 + b1, true;
  case GC_OP_SUB: return *a = a0 - a1, *b = b0 - b1, true;
  case GC_OP_MUL:
    if (a0 && a1) return false;
    return *a = a0 * b1 + a1 * b0, *b = b0 * b1, true;
  default: return false;
  }
}

static int64_t floor_div(int64_t x, int64_t y) { return x / y - ((x % y != 0) && ((x < 0) != (y < 0))); }

/* The first iv at which "a·iv + b < k" changes outcome (a != 0). */
static int64_t crossing(int64_t a, int64_t b, int64_t k) {
  /* a > 0: true while iv < ceil((k - b) / a); a < 0: true from floor((b - k) / -a) + 1 */
  return a > 0 ? -floor_div(-(k - b), a) : floor_div(b - k, -a) + 1;
}

typedef struct {
  int n;
  int64_t at[GC_SPLIT_MAX_PIECES - 1];
  bool too_many;
} points;

static void add_point(points *p, int64_t x, gc_range ivr) {
  if (x <= ivr.lo || x > ivr.hi) return;   /* no iteration on one side */
  for (int i = 0; i < p->n; i++)
    if (p->at[i] == x) return;
  if (p->n == GC_SPLIT_MAX_PIECES - 1) {
    p->too_many = true;
    return;
  }
  int i = p->n++;
  while (i > 0 && p->at[i - 1] > x) p->at[i] = p->at[i - 1], i--;
  p->at[i] = x;
}

/* "x < k" or its like, with x = a·iv + b: where it changes. */
static void compare_points(gc_ranges *c, const gc_loop_inst *in, int iv, gc_range ivr, points *p) {
  int64_t a0, b0, a1, b1;
  if (in->n_in < 2 || !affine(c, in->in[0], iv, &a0, &b0) || !affine(c, in->in[1], iv, &a1, &b1)) return;
  /* x OP y  <=>  (a0 - a1)·iv + (b0 - b1) OP 0 */
  int64_t a = a0 - a1, b = b0 - b1;
  if (a == 0) return;
  switch (in->gop) {
  case GC_OP_LT: add_point(p, crossing(a, b, 0), ivr); break;   /* ... < 0 */
  case GC_OP_LE: add_point(p, crossing(a, b, 1), ivr); break;   /* ... < 1 */
  case GC_OP_MIN:
  case GC_OP_MAX: {
    /* where both operands are equal either may be taken: any point from
     * where "< 0" turns to where "< 1" turns will do, an existing one first */
    int64_t p0 = crossing(a, b, 0), p1 = crossing(a, b, 1);
    if (p0 > p1) {
      int64_t t = p0;
      p0 = p1, p1 = t;
    }
    for (int i = 0; i < p->n; i++)
      if (p->at[i] >= p0 && p->at[i] <= p1) return;
    if (p0 <= ivr.lo || p1 > ivr.hi) return;   /* one side may hold no iteration but the tie */
    add_point(p, p0, ivr);
    break;
  }
  default: break;
  }
}

static bool is_innermost(const gc_loop_fn *f, const gc_loop_inst *l) {
  for (int i = 0; i < l->body.n; i++) {
    gc_lop op = f->insts[l->body.insts[i]].op;
    if (op == GC_L_FOR || op == GC_L_GEMM) return false;
  }
  return true;
}

/* ---- editing blocks ------------------------------------------------------------- */

static void block_insert(gc_loop_block *b, int pos, int id) {
  if (b->n == b->cap) {
    b->cap = b->cap ? 2 * b->cap : 16;
    b->insts = realloc(b->insts, sizeof *b->insts * (size_t)b->cap);
    if (!b->insts) abort();
  }
  memmove(b->insts + pos + 1, b->insts + pos, sizeof *b->insts * (size_t)(b->n - pos));
  b->insts[pos] = id;
  b->n++;
}

/* Move the instructions appended to block blk since it had `before` of them
 * to position pos. */
static void move_tail(gc_loop_fn *f, int blk, int before, int pos) {
  gc_loop_block *b = gc_loop_block_of(f, blk);
  int added = b->n - before;
  if (added <= 0 || pos >= before) return;
  int *moved = malloc(sizeof *moved * (size_t)added);
  if (!moved) abort();
  memcpy(moved, b->insts + before, sizeof *moved * (size_t)added);
  memmove(b->insts + pos + added, b->insts + pos, sizeof *moved * (size_t)(before - pos));
  memcpy(b->insts + pos, moved, sizeof *moved * (size_t)added);
  free(moved);
}

/* A copy of loop `id`'s body into new loop `to`, operands remapped. */
static void copy_body(gc_loop_fn *f, int id, int to, int *map) {
  int n = f->insts[id].body.n, first = 1 + f->insts[id].n_iter;
  for (int k = 0; k < first; k++) map[f->insts[id].body.insts[k]] = f->insts[to].body.insts[k];
  for (int k = first; k < n; k++) {
    int src = f->insts[id].body.insts[k];
    gc_loop_inst copy = f->insts[src];
    for (int j = 0; j < copy.n_in && copy.op != GC_L_YIELD; j++)
      if (map[copy.in[j]] >= 0) copy.in[j] = map[copy.in[j]];
    if (copy.op == GC_L_YIELD) {
      int vals[64], nv = copy.n_in;
      int *v = nv <= 64 ? vals : malloc(sizeof *v * (size_t)nv);
      if (!v) abort();
      for (int j = 0; j < nv; j++) v[j] = map[copy.more[j]] >= 0 ? map[copy.more[j]] : copy.more[j];
      gc_loop_yield(f, to, v);
      if (v != vals) free(v);
      continue;
    }
    int nid;
    switch (copy.op) {
    case GC_L_OP: nid = gc_loop_op(f, to, copy.gop, copy.dtype, copy.in, copy.n_in); break;
    case GC_L_IDIV: nid = gc_loop_idiv(f, to, copy.in[0], copy.ivalue); break;
    case GC_L_IMOD: nid = gc_loop_imod(f, to, copy.in[0], copy.ivalue); break;
    case GC_L_LOAD: nid = gc_loop_load(f, to, copy.buffer, copy.in[0]); break;
    case GC_L_STORE: gc_loop_store(f, to, copy.buffer, copy.in[0], copy.in[1]); continue;
    case GC_L_RAND: nid = gc_loop_rand(f, to, copy.dtype, copy.seed, copy.in[0], copy.in[1]); break;
    case GC_L_CHECK: gc_loop_check(f, to, copy.in[0], copy.in[1], copy.in[2], (int)copy.ivalue); continue;
    default: abort();   /* innermost bodies hold nothing else */
    }
    map[src] = nid;
  }
}

/* Split loop `id` (in block `parent`, at position pos) at the points p. */
static void split_loop(gc_ranges *c, int parent, int pos, int id, const points *p, int vector) {
  gc_loop_fn *f = c->f;
  int before = gc_loop_block_of(f, parent)->n;
  int n_iter = f->insts[id].n_iter;
  gc_dtype dts[64];
  int inits[64];
  if (n_iter > 64) return;
  for (int k = 0; k < n_iter; k++) {
    dts[k] = f->insts[gc_loop_iter(f, id, k)].dtype;
    inits[k] = f->insts[id].more[k];
  }
  int lo = f->insts[id].in[0], hi = f->insts[id].in[1];
  int n0 = f->n_insts;   /* the body and its operands are older than anything made here */
  int *map = malloc(sizeof *map * (size_t)n0);
  if (!map) abort();
  for (int k = 0; k <= p->n; k++) {
    int plo = k == 0 ? lo : gc_loop_op(f, parent, GC_OP_MAX, GC_I64, (int[]){lo, gc_loop_index(f, parent, p->at[k - 1])}, 2);
    if (k == p->n) {   /* the last piece is the loop itself: its results stay where they are read */
      f->insts[id].in[0] = plo;
      f->insts[id].vector = vector;
      for (int j = 0; j < n_iter; j++) f->insts[id].more[j] = inits[j];
      break;
    }
    int phi = gc_loop_op(f, parent, GC_OP_MIN, GC_I64, (int[]){hi, gc_loop_index(f, parent, p->at[k])}, 2);
    int piece = gc_loop_for(f, parent, plo, phi, 1, inits, n_iter, dts);
    f->insts[piece].reassoc = f->insts[id].reassoc;
    f->insts[piece].vector = vector;
    gc_ranges_grow(c);
    for (int i = 0; i < n0; i++) map[i] = -1;
    copy_body(f, id, piece, map);
    for (int j = 0; j < n_iter; j++) inits[j] = gc_loop_result(f, parent, piece, j);
  }
  free(map);
  move_tail(f, parent, before, pos);   /* the pieces and their bounds go before the loop */
  gc_ranges_grow(c);
}

static int split_block(gc_ranges *c, int blk, int vector) {
  gc_loop_fn *f = c->f;
  int count = 0;
  for (int i = 0; i < gc_loop_block_of(f, blk)->n; i++) {
    int id = gc_loop_block_of(f, blk)->insts[i];
    gc_loop_inst *l = &f->insts[id];
    if (l->op != GC_L_FOR) continue;
    if (!is_innermost(f, l)) {
      count += split_block(c, id, vector);
      continue;
    }
    if (blk == GC_LOOP_TOP || l->parallel || l->ivalue != 1) continue;
    int iv = gc_loop_iv(f, id);
    gc_ranges_reset(c);
    gc_range ivr = gc_range_of(c, iv);
    if (!ivr.known) continue;
    points p = {0};
    for (int k = 1 + l->n_iter; k < l->body.n; k++) {   /* comparisons first, then min and max */
      const gc_loop_inst *in = &f->insts[l->body.insts[k]];
      if (in->op == GC_L_OP && in->dtype == GC_BOOL && (in->gop == GC_OP_LT || in->gop == GC_OP_LE))
        compare_points(c, in, iv, ivr, &p);
    }
    for (int k = 1 + l->n_iter; k < l->body.n; k++) {
      const gc_loop_inst *in = &f->insts[l->body.insts[k]];
      if (in->op == GC_L_OP && in->dtype == GC_I64 && (in->gop == GC_OP_MIN || in->gop == GC_OP_MAX))
        compare_points(c, in, iv, ivr, &p);
    }
    if (p.n == 0 || p.too_many) continue;
    int before = gc_loop_block_of(f, blk)->n;
    split_loop(c, blk, i, id, &p, vector);
    i += gc_loop_block_of(f, blk)->n - before;   /* past the pieces, at the loop */
    count++;
  }
  return count;
}

/* ---- strip-mining by a reshape's factor ---------------------------------------- */

/* A loop over the flat columns of a reshaped value indexes its source with
 * imod(x, m) and idiv(x, m), x = iv + (a multiple of m): no comparison in
 * it is affine in iv, and no load is contiguous.  Cut into an outer loop
 * over j and an inner one over l in [0, m), iv = j·m + l, those become l
 * and a value the inner loop does not change. */

static int64_t gcd64(int64_t a, int64_t b) {
  if (a < 0) a = -a;
  if (b < 0) b = -b;
  while (b) {
    int64_t t = a % b;
    a = b, b = t;
  }
  return a;
}

/* A number every value of id is a multiple of (0: id is always 0). */
static int64_t divisor(gc_ranges *c, int id, int depth) {
  id = gc_range_resolve(c, id);
  const gc_loop_inst *in = &c->f->insts[id];
  if (in->op == GC_L_CONST && in->dtype == GC_I64) return in->ivalue < 0 ? -in->ivalue : in->ivalue;
  if (in->op != GC_L_OP || in->dtype != GC_I64 || depth > 32) return 1;
  switch (in->gop) {
  case GC_OP_ADD:
  case GC_OP_SUB: return gcd64(divisor(c, in->in[0], depth + 1), divisor(c, in->in[1], depth + 1));
  case GC_OP_NEG: return divisor(c, in->in[0], depth + 1);
  case GC_OP_MUL: {
    int64_t a = divisor(c, in->in[0], depth + 1), b = divisor(c, in->in[1], depth + 1), p;
    return __builtin_mul_overflow(a, b, &p) ? 1 : p;
  }
  default: return 1;
  }
}

static bool depends_on(gc_ranges *c, int id, int x, int depth) {
  id = gc_range_resolve(c, id);
  if (id == x) return true;
  const gc_loop_inst *in = &c->f->insts[id];
  if (depth > 32) return true;
  if (in->op != GC_L_OP && in->op != GC_L_IDIV && in->op != GC_L_IMOD) return false;
  for (int k = 0; k < in->n_in; k++)
    if (depends_on(c, in->in[k], x, depth + 1)) return true;
  return false;
}

typedef struct {
  int n_iv;       /* times iv is added */
  int n;
  int t[16];      /* the other terms: each a multiple of m, >= 0, free of iv */
} parts;

/* x as iv + terms (sums only). */
static bool decompose(gc_ranges *c, int id, int iv, int64_t m, parts *p) {
  id = gc_range_resolve(c, id);
  const gc_loop_inst *in = &c->f->insts[id];
  if (id == iv) return p->n_iv++, true;
  if (in->op == GC_L_OP && in->dtype == GC_I64 && in->gop == GC_OP_ADD)
    return decompose(c, in->in[0], iv, m, p) && decompose(c, in->in[1], iv, m, p);
  int64_t d = divisor(c, id, 0);
  if (d % m != 0 || depends_on(c, id, iv, 0) || p->n == 16) return false;
  gc_range r = gc_range_of(c, id);
  if (!r.known || r.lo < 0) return false;
  p->t[p->n++] = id;
  return true;
}

/* The modulus to strip-mine loop id by, or 0. */
static int64_t strip_factor(gc_ranges *c, int id, int64_t n) {
  gc_loop_fn *f = c->f;
  int iv = gc_loop_iv(f, id);
  int64_t best = 0;
  for (int k = 1; k < f->insts[id].body.n; k++) {
    const gc_loop_inst *in = &f->insts[f->insts[id].body.insts[k]];
    if (in->op != GC_L_IMOD && in->op != GC_L_IDIV) continue;
    int64_t m = in->ivalue;
    if (m < 8 || m >= n || n % m != 0 || m <= best) continue;
    parts p = {0};
    if (decompose(c, in->in[0], iv, m, &p) && p.n_iv == 1) best = m;
  }
  return best;
}

/* Loop id (at pos in blk) over [0, n) becomes for j in [0, n/m): for l in [0, m). */
static void strip_mine(gc_ranges *c, int blk, int pos, int id, int64_t n, int64_t m) {
  gc_loop_fn *f = c->f;
  int outer = gc_loop_for(f, blk, gc_loop_index(f, blk, 0), gc_loop_index(f, blk, n / m), 1, NULL, 0, NULL);
  gc_loop_block *pb = gc_loop_block_of(f, blk);
  pb->n--;                       /* appended at the end: it takes the loop's place */
  pb->insts[pos] = outer;
  block_insert(&f->insts[outer].body, f->insts[outer].body.n, id);
  /* gc_loop_index may move f->insts: make the indices before taking an address in it */
  int lo = gc_loop_index(f, id, 0), hi = gc_loop_index(f, id, m);
  f->insts[id].in[0] = lo;
  f->insts[id].in[1] = hi;
  int l = gc_loop_iv(f, id), j = gc_loop_iv(f, outer);
  int before = f->insts[id].body.n;
  int jm = gc_loop_op(f, id, GC_OP_MUL, GC_I64, (int[]){j, gc_loop_index(f, id, m)}, 2);
  int t = gc_loop_op(f, id, GC_OP_ADD, GC_I64, (int[]){jm, l}, 2);
  move_tail(f, id, before, 1 + f->insts[id].n_iter);
  for (int k = 1; k < f->insts[id].body.n; k++) {
    int x = f->insts[id].body.insts[k];
    if (x == jm || x == t) continue;
    gc_loop_inst *in = &f->insts[x];
    for (int q = 0; q < in->n_in && in->op != GC_L_YIELD; q++)
      if (in->in[q] == l) in->in[q] = t;
  }
  gc_ranges_grow(c);
  gc_ranges_reset(c);
  /* imod(l + S, m) = l and idiv(l + S, m) = idiv(S, m), S a multiple of m */
  for (int k = 1; k < f->insts[id].body.n; k++) {
    int x = f->insts[id].body.insts[k];
    gc_loop_inst in = f->insts[x];
    if ((in.op != GC_L_IMOD && in.op != GC_L_IDIV) || in.ivalue != m) continue;
    parts p = {0};
    if (!decompose(c, in.in[0], l, m, &p) || p.n_iv != 1) continue;
    if (in.op == GC_L_IMOD) {
      c->repl[x] = l;
      continue;
    }
    int nb = f->insts[id].body.n;
    int sum = p.n ? p.t[0] : gc_loop_index(f, id, 0);
    for (int q = 1; q < p.n; q++) sum = gc_loop_op(f, id, GC_OP_ADD, GC_I64, (int[]){sum, p.t[q]}, 2);
    int q = gc_loop_idiv(f, id, sum, m);
    move_tail(f, id, nb, k);
    k += f->insts[id].body.n - nb;
    gc_ranges_grow(c);
    c->repl[x] = q;
  }
}

static int strip_block(gc_ranges *c, int blk) {
  gc_loop_fn *f = c->f;
  int count = 0;
  for (int i = 0; i < gc_loop_block_of(f, blk)->n; i++) {
    int id = gc_loop_block_of(f, blk)->insts[i];
    const gc_loop_inst *l = &f->insts[id];
    if (l->op != GC_L_FOR) continue;
    if (!is_innermost(f, l)) {
      count += strip_block(c, id);
      continue;
    }
    if (blk == GC_LOOP_TOP || l->parallel || l->ivalue != 1 || l->n_iter) continue;
    gc_ranges_reset(c);
    gc_range lo = gc_range_of(c, gc_range_resolve(c, l->in[0])), hi = gc_range_of(c, gc_range_resolve(c, l->in[1]));
    if (!lo.known || !hi.known || lo.lo != 0 || lo.hi != 0 || hi.lo != hi.hi) continue;
    int64_t m = strip_factor(c, id, hi.lo);
    if (!m) continue;
    strip_mine(c, blk, i, id, hi.lo, m);
    count++;
  }
  return count;
}

int gc_split_loops(gc_loop_fn *f, int vector) {
  gc_ranges c;
  gc_ranges_init(&c, f);
  int stripped = strip_block(&c, GC_LOOP_TOP);
  if (stripped) gc_ranges_fold(&c);   /* strip_mine's replacements, before splitting looks */
  int split = split_block(&c, GC_LOOP_TOP, vector);
  if (split) gc_ranges_fold(&c);
  gc_ranges_free(&c);
  return split;
}

/* The stage (codegen/stages.def): pieces get the host's f32 lanes as their
 * vector width hint. */
int gc_stage_split(gc_codegen_kernel *k, gc_diag *d) {
  (void)d;
  gc_split_loops(k->fn, k->target.vector_bits / 32);
  return 0;
}
