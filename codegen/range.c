/* Intervals of a loop function's integer values, and folding by them (see range.h). */
#include "codegen/range.h"

#include <stdlib.h>
#include <string.h>

static const gc_range unknown = {false, 0, 0};

static gc_range exact(int64_t v) { return (gc_range){true, v, v}; }

static bool add_ok(int64_t a, int64_t b, int64_t *s) { return !__builtin_add_overflow(a, b, s); }

int gc_range_resolve(gc_ranges *c, int id) {
  while (c->repl[id] != id) id = c->repl[id];
  return id;
}

static gc_range op_range(gc_ranges *c, const gc_loop_inst *in) {
  if (in->dtype != GC_I64 && in->dtype != GC_BOOL) {
    return unknown;
  }
  gc_range a = in->n_in > 0 ? gc_range_of(c, gc_range_resolve(c, in->in[0])) : unknown;
  gc_range b = in->n_in > 1 ? gc_range_of(c, gc_range_resolve(c, in->in[1])) : unknown;
  gc_range r = unknown;
  switch (in->gop) {
  case GC_OP_ADD:
    if (a.known && b.known && add_ok(a.lo, b.lo, &r.lo) && add_ok(a.hi, b.hi, &r.hi)) r.known = true;
    break;
  case GC_OP_SUB:
    if (a.known && b.known && !__builtin_sub_overflow(a.lo, b.hi, &r.lo) && !__builtin_sub_overflow(a.hi, b.lo, &r.hi))
      r.known = true;
    break;
  case GC_OP_NEG:
    if (a.known && a.lo > INT64_MIN) r = (gc_range){true, -a.hi, -a.lo};
    break;
  case GC_OP_MUL:
    if (a.known && b.known) {
      int64_t p[4];
      if (__builtin_mul_overflow(a.lo, b.lo, &p[0]) || __builtin_mul_overflow(a.lo, b.hi, &p[1]) ||
          __builtin_mul_overflow(a.hi, b.lo, &p[2]) || __builtin_mul_overflow(a.hi, b.hi, &p[3]))
        break;
      r = (gc_range){true, p[0], p[0]};
      for (int k = 1; k < 4; k++) {
        if (p[k] < r.lo) r.lo = p[k];
        if (p[k] > r.hi) r.hi = p[k];
      }
    }
    break;
  case GC_OP_MIN:
    if (a.known && b.known) r = (gc_range){true, a.lo < b.lo ? a.lo : b.lo, a.hi < b.hi ? a.hi : b.hi};
    break;
  case GC_OP_MAX:
    if (a.known && b.known) r = (gc_range){true, a.lo > b.lo ? a.lo : b.lo, a.hi > b.hi ? a.hi : b.hi};
    break;
  case GC_OP_LT:
  case GC_OP_LE: {
    bool lt = in->gop == GC_OP_LT;
    r = (gc_range){true, 0, 1};
    if (a.known && b.known) {
      if (lt ? a.hi < b.lo : a.hi <= b.lo) r = exact(1);
      else if (lt ? a.lo >= b.hi : a.lo > b.hi) r = exact(0);
    }
    break;
  }
  case GC_OP_EQ:
  case GC_OP_NE:
    r = (gc_range){true, 0, 1};
    if (a.known && b.known && (a.hi < b.lo || b.hi < a.lo)) r = exact(in->gop == GC_OP_NE);
    else if (a.known && b.known && a.lo == a.hi && b.lo == b.hi) r = exact((a.lo == b.lo) == (in->gop == GC_OP_EQ));
    break;
  case GC_OP_WHERE: {
    gc_range x = gc_range_of(c, gc_range_resolve(c, in->in[1])), y = gc_range_of(c, gc_range_resolve(c, in->in[2]));
    if (a.known && a.lo == a.hi) r = a.lo ? x : y;
    else if (x.known && y.known) r = (gc_range){true, x.lo < y.lo ? x.lo : y.lo, x.hi > y.hi ? x.hi : y.hi};
    break;
  }
  default:
    if (in->dtype == GC_BOOL) r = (gc_range){true, 0, 1};
    break;
  }
  return r;
}

/* The instructions whose intervals id's interval is made of (resolved),
 * into dep[]; their count. */
static int range_deps(gc_ranges *c, int id, int *dep) {
  const gc_loop_inst *in = &c->f->insts[id];
  int n = 0;
  switch (in->op) {
  case GC_L_OP:
    if (in->dtype == GC_I64 || in->dtype == GC_BOOL)
      for (int k = 0; k < in->n_in && k < 3; k++) dep[n++] = gc_range_resolve(c, in->in[k]);
    break;
  case GC_L_IDIV: case GC_L_IMOD: dep[n++] = gc_range_resolve(c, in->in[0]); break;
  case GC_L_IV: {
    const gc_loop_inst *l = &c->f->insts[in->loop];
    if (l->op == GC_L_FOR && l->ivalue >= 1) {
      dep[n++] = gc_range_resolve(c, l->in[0]);
      dep[n++] = gc_range_resolve(c, l->in[1]);
    }
    break;
  }
  default: break;
  }
  return n;
}

static gc_range range_now(gc_ranges *c, int id);

/* The interval of an instruction's value; integer and bool values only.
 * The instructions it depends on are done first, on an explicit stack, so
 * that a long chain of index arithmetic needs no recursion. */
gc_range gc_range_of(gc_ranges *c, int id) {
  if (c->done[id]) return c->r[id];
  int top = 0;
  for (int x = id;;) {
    int dep[3], n = range_deps(c, x, dep), k = 0;
    while (k < n && c->done[dep[k]]) k++;
    if (k < n) {   /* that one first */
      if (top == c->cap_stack) {
        c->cap_stack = c->cap_stack ? 2 * c->cap_stack : 64;
        c->stack = realloc(c->stack, sizeof *c->stack * (size_t)c->cap_stack);
        if (!c->stack) abort();
      }
      c->stack[top++] = x;
      x = dep[k];
      continue;
    }
    range_now(c, x);
    if (top == 0) return c->r[id];
    x = c->stack[--top];
  }
}

/* id's interval, its operands' known (or, called directly, found). */
static gc_range range_now(gc_ranges *c, int id) {
  if (c->done[id]) return c->r[id];
  const gc_loop_inst *in = &c->f->insts[id];
  gc_range r = unknown;
  switch (in->op) {
  case GC_L_CONST:
    if (in->dtype == GC_I64 || in->dtype == GC_BOOL) r = exact(in->ivalue);
    break;
  case GC_L_OP: r = op_range(c, in); break;
  case GC_L_IDIV: {
    gc_range a = gc_range_of(c, gc_range_resolve(c, in->in[0]));
    if (a.known && a.lo >= 0) r = (gc_range){true, a.lo / in->ivalue, a.hi / in->ivalue};
    break;
  }
  case GC_L_IMOD: {
    gc_range a = gc_range_of(c, gc_range_resolve(c, in->in[0]));
    r = (gc_range){true, 0, in->ivalue - 1};
    if (a.known && a.lo >= 0 && a.hi - a.lo < in->ivalue && a.lo % in->ivalue <= a.hi % in->ivalue)
      r = (gc_range){true, a.lo % in->ivalue, a.hi % in->ivalue};
    break;
  }
  case GC_L_IV: {
    const gc_loop_inst *l = &c->f->insts[in->loop];
    if (l->op != GC_L_FOR || l->ivalue < 1) break;
    gc_range lo = gc_range_of(c, gc_range_resolve(c, l->in[0])), hi = gc_range_of(c, gc_range_resolve(c, l->in[1]));
    if (lo.known && hi.known && hi.hi - 1 >= lo.lo) r = (gc_range){true, lo.lo, hi.hi - 1};
    break;
  }
  default: break;
  }
  c->r[id] = r;
  c->done[id] = true;
  return r;
}

void gc_ranges_grow(gc_ranges *c) {
  int n = c->f->n_insts;
  if (n <= c->cap) return;
  int cap = n * 2;
  c->r = realloc(c->r, sizeof *c->r * (size_t)cap);
  c->done = realloc(c->done, sizeof *c->done * (size_t)cap);
  c->repl = realloc(c->repl, sizeof *c->repl * (size_t)cap);
  if (!c->r || !c->done || !c->repl) abort();
  for (int i = c->cap; i < cap; i++) c->done[i] = false, c->repl[i] = i;
  c->cap = cap;
}

void gc_ranges_reset(gc_ranges *c) {
  gc_ranges_grow(c);
  memset(c->done, 0, sizeof *c->done * (size_t)c->cap);
}

/* ---- folding ----------------------------------------------------------------- */

/* blk: a block's id (gc_loop_block_of): folding adds constants, which may
 * move the instructions and so the blocks inside them */
static void fold_block(gc_ranges *c, int blk);

static void fold_inst(gc_ranges *c, int id) {
  gc_loop_fn *f = c->f;
  gc_loop_inst *in = &f->insts[id];
  if (in->op == GC_L_FOR) {
    for (int k = 0; k < 2; k++) in->in[k] = gc_range_resolve(c, in->in[k]);
    for (int k = 0; k < in->n_iter; k++) in->more[k] = gc_range_resolve(c, in->more[k]);
    fold_block(c, id);
    return;
  }
  if (in->op == GC_L_GEMM) {
    fold_block(c, id);
    return;
  }
  if (in->op == GC_L_YIELD) {
    for (int k = 0; k < in->n_in; k++) in->more[k] = gc_range_resolve(c, in->more[k]);
    return;
  }
  for (int k = 0; k < in->n_in; k++) in->in[k] = gc_range_resolve(c, in->in[k]);
  if (in->op != GC_L_OP) return;
  gc_range a = in->n_in > 0 ? gc_range_of(c, in->in[0]) : unknown;
  gc_range b = in->n_in > 1 ? gc_range_of(c, in->in[1]) : unknown;
  int to = -1;
  if (in->gop == GC_OP_WHERE && a.known && a.lo == a.hi) {
    to = a.lo ? in->in[1] : in->in[2];
  } else if ((in->gop == GC_OP_MIN || in->gop == GC_OP_MAX) && in->dtype == GC_I64 && a.known && b.known) {
    bool min = in->gop == GC_OP_MIN;
    if (min ? a.hi <= b.lo : a.lo >= b.hi) to = in->in[0];
    else if (min ? b.hi <= a.lo : b.lo >= a.hi) to = in->in[1];
  }
  if (to < 0 && (in->dtype == GC_I64 || in->dtype == GC_BOOL)) {
    gc_range r = gc_range_of(c, id);
    if (r.known && r.lo == r.hi && in->n_in > 0)
      to = in->dtype == GC_I64 ? gc_loop_index(f, GC_LOOP_TOP, r.lo) : gc_loop_const(f, GC_LOOP_TOP, GC_BOOL, (double)r.lo);
    gc_ranges_grow(c);
  }
  if (to >= 0) {
    c->repl[id] = gc_range_resolve(c, to);
    c->done[id] = false;
  }
}

static void fold_block(gc_ranges *c, int blk) {
  for (int i = 0; i < gc_loop_block_of(c->f, blk)->n; i++) fold_inst(c, gc_loop_block_of(c->f, blk)->insts[i]);
}

/* ---- dropping what nobody reads ---------------------------------------------- */

static void count_uses(const gc_loop_fn *f, const gc_loop_block *b, int *uses) {
  for (int i = 0; i < b->n; i++) {
    const gc_loop_inst *in = &f->insts[b->insts[i]];
    if (in->op == GC_L_YIELD) {
      for (int k = 0; k < in->n_in; k++) uses[in->more[k]]++;
      continue;
    }
    for (int k = 0; k < in->n_in; k++) uses[in->in[k]]++;
    if (in->op == GC_L_FOR) {
      for (int k = 0; k < in->n_iter; k++) uses[in->more[k]]++;
      count_uses(f, &in->body, uses);
    }
    if (in->op == GC_L_GEMM) count_uses(f, &in->gemm->epilogue, uses);
  }
}

static bool removable(gc_lop op) {
  return op == GC_L_OP || op == GC_L_IDIV || op == GC_L_IMOD || op == GC_L_LOAD || op == GC_L_CONST;
}

static bool drop_block(gc_loop_fn *f, gc_loop_block *b, int *uses) {
  bool changed = false;
  int w = 0;
  for (int i = 0; i < b->n; i++) {
    int id = b->insts[i];
    gc_loop_inst *in = &f->insts[id];
    if (removable(in->op) && uses[id] == 0) {
      for (int k = 0; k < in->n_in; k++) uses[in->in[k]]--;
      changed = true;
      continue;
    }
    if (in->op == GC_L_FOR) changed |= drop_block(f, &in->body, uses);
    if (in->op == GC_L_GEMM) changed |= drop_block(f, &in->gemm->epilogue, uses);
    b->insts[w++] = id;
  }
  b->n = w;
  return changed;
}

static void drop_unused(gc_loop_fn *f) {
  int *uses = malloc(sizeof *uses * (size_t)(f->n_insts ? f->n_insts : 1));
  if (!uses) abort();
  bool changed = true;
  while (changed) {
    memset(uses, 0, sizeof *uses * (size_t)f->n_insts);
    count_uses(f, &f->body, uses);
    changed = drop_block(f, &f->body, uses);
  }
  free(uses);
}

void gc_ranges_init(gc_ranges *c, gc_loop_fn *f) {
  *c = (gc_ranges){.f = f};
  gc_ranges_grow(c);
}

void gc_ranges_free(gc_ranges *c) {
  free(c->r);
  free(c->done);
  free(c->repl);
  free(c->stack);
}

void gc_ranges_fold(gc_ranges *c) {
  gc_ranges_reset(c);
  fold_block(c, GC_LOOP_TOP);
  drop_unused(c->f);
}
