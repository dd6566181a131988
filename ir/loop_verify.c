/* The loop IR's verifier (see gc_loop_verify in loop.h). */
#include "ir/loop.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
  const gc_loop_fn *f;
  gc_diag *d;
  bool *placed;   /* in a block already */
  bool *avail;    /* defined before, in an enclosing block */
} checker;

static const char *const lop_names[GC_LOP_COUNT] = {
    [GC_L_CONST] = "const", [GC_L_OP] = "op",     [GC_L_IDIV] = "idiv",     [GC_L_IMOD] = "imod",
    [GC_L_LOAD] = "load",   [GC_L_STORE] = "store", [GC_L_FOR] = "for",     [GC_L_YIELD] = "yield",
    [GC_L_IV] = "iv",       [GC_L_ITER] = "iter", [GC_L_RESULT] = "result", [GC_L_RAND] = "rand",
    [GC_L_CHECK] = "check", [GC_L_GEMM] = "gemm",
};

static int bad(checker *c, int id, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(checker *c, int id, const char *fmt, ...) {
  char msg[640];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const gc_loop_inst *in = id >= 0 ? &c->f->insts[id] : NULL;
  if (!in) return gc_diag_set(c->d, "loop @%s: %s", c->f->name, msg);
  return gc_diag_set(c->d, "loop @%s: %%%d (%s): %s", c->f->name, id,
                     (unsigned)in->op < GC_LOP_COUNT ? lop_names[in->op] : "?", msg);
}

static int operand(checker *c, int id, int x) {
  if (x < 0 || x >= c->f->n_insts) return bad(c, id, "operand %%%d does not exist", x);
  if (c->f->insts[x].op != GC_L_CONST && !c->avail[x])
    return bad(c, id, "operand %%%d is not defined before it in an enclosing block", x);
  return 0;
}

static int index_operand(checker *c, int id, int x) {
  if (operand(c, id, x)) return -1;
  if (c->f->insts[x].dtype != GC_I64) return bad(c, id, "index %%%d is %s, not i64", x, gc_dtype_name(c->f->insts[x].dtype));
  return 0;
}

static int buffer(checker *c, int id, int b) {
  if (b < 0 || b >= c->f->n_buffers) return bad(c, id, "no buffer %%b%d", b);
  return 0;
}

static int block(checker *c, const gc_loop_block *b, int owner);

/* A loop's body: its induction variable, its iter values, ..., a yield. */
static int check_for(checker *c, int id) {
  const gc_loop_fn *f = c->f;
  const gc_loop_inst *l = &f->insts[id];
  if (index_operand(c, id, l->in[0]) || index_operand(c, id, l->in[1])) return -1;
  if (l->ivalue <= 0) return bad(c, id, "step %lld is not positive", (long long)l->ivalue);
  const gc_loop_block *body = &l->body;
  if (body->n < 1 + l->n_iter) return bad(c, id, "the body lacks its induction variable or iter values");
  for (int k = 0; k <= l->n_iter; k++) {
    int x = body->insts[k];
    if (x < 0 || x >= f->n_insts) return bad(c, id, "body instruction %%%d does not exist", x);
    const gc_loop_inst *v = &f->insts[x];
    if (v->op != (k ? GC_L_ITER : GC_L_IV) || v->loop != id || (k && v->ivalue != k - 1))
      return bad(c, id, "body instruction %d is not its %s", k, k ? "iter value" : "induction variable");
    if (k && operand(c, id, l->more[k - 1])) return -1;
    if (k && f->insts[l->more[k - 1]].dtype != v->dtype)
      return bad(c, id, "iter value %d starts from a %s, not a %s", k - 1, gc_dtype_name(f->insts[l->more[k - 1]].dtype),
                 gc_dtype_name(v->dtype));
  }
  if (l->n_iter) {
    int y = body->insts[body->n - 1];
    if (y < 0 || y >= f->n_insts || f->insts[y].op != GC_L_YIELD)
      return bad(c, id, "the body of a loop with iter values ends without a yield");
    if (f->insts[y].n_in != l->n_iter)
      return bad(c, id, "yields %d values for %d iter values", f->insts[y].n_in, l->n_iter);
  }
  return block(c, body, id);
}

static int check_gemm(checker *c, int id) {
  const gc_loop_fn *f = c->f;
  const gc_loop_gemm *g = f->insts[id].gemm;
  if (!g) return bad(c, id, "no contraction");
  if (buffer(c, id, g->a_buf) || buffer(c, id, g->b_buf)) return -1;
  if (g->batch_rank < 0 || g->batch_rank > GC_MAX_RANK) return bad(c, id, "batch rank %d", g->batch_rank);
  const gc_loop_block *e = &g->epilogue;
  if (e->n < 4) return bad(c, id, "the epilogue lacks its arguments");
  for (int k = 0; k < 4; k++) {
    int x = e->insts[k];
    if (x < 0 || x >= f->n_insts || f->insts[x].op != (k < 3 ? GC_L_IV : GC_L_ITER) || f->insts[x].loop != id)
      return bad(c, id, "epilogue instruction %d is not its %s", k, k < 3 ? "index" : "accumulator");
  }
  return block(c, e, id);
}

static int inst(checker *c, int id, int owner, bool last) {
  const gc_loop_fn *f = c->f;
  const gc_loop_inst *in = &f->insts[id];
  switch (in->op) {
  case GC_L_CONST: return bad(c, id, "a constant in a block");
  case GC_L_OP:
    if ((unsigned)in->gop >= GC_OP_COUNT) return bad(c, id, "unknown op %d", (int)in->gop);
    if (in->n_in < 1 || in->n_in > 4) return bad(c, id, "%d operands", in->n_in);
    for (int k = 0; k < in->n_in; k++)
      if (operand(c, id, in->in[k])) return -1;
    return 0;
  case GC_L_IDIV:
  case GC_L_IMOD:
    /* 0 only where an axis has no elements: code in loops that never run */
    if (in->ivalue < 0) return bad(c, id, "divisor %lld is negative", (long long)in->ivalue);
    return index_operand(c, id, in->in[0]);
  case GC_L_LOAD:
  case GC_L_STORE: {
    if (buffer(c, id, in->buffer) || index_operand(c, id, in->in[0])) return -1;
    const gc_loop_buffer *b = &f->buffers[in->buffer];
    if (in->op == GC_L_LOAD && in->dtype != b->dtype)
      return bad(c, id, "loads %s from %%b%d of %s", gc_dtype_name(in->dtype), in->buffer, gc_dtype_name(b->dtype));
    if (in->op == GC_L_STORE) {
      if (!b->written) return bad(c, id, "stores into %%b%d, which the kernel only reads", in->buffer);
      if (operand(c, id, in->in[1])) return -1;
      if (f->insts[in->in[1]].dtype != b->dtype)
        return bad(c, id, "stores a %s into %%b%d of %s", gc_dtype_name(f->insts[in->in[1]].dtype), in->buffer,
                   gc_dtype_name(b->dtype));
    }
    return 0;
  }
  case GC_L_FOR: return check_for(c, id);
  case GC_L_YIELD:
    if (!last || in->loop != owner || owner < 0 || f->insts[owner].op != GC_L_FOR)
      return bad(c, id, "a yield not at the end of its loop's body");
    for (int k = 0; k < in->n_in; k++) {
      if (operand(c, id, in->more[k])) return -1;
      int it = f->insts[owner].body.insts[1 + k];
      if (f->insts[in->more[k]].dtype != f->insts[it].dtype)
        return bad(c, id, "yields a %s for iter value %d of %s", gc_dtype_name(f->insts[in->more[k]].dtype), k,
                   gc_dtype_name(f->insts[it].dtype));
    }
    return 0;
  case GC_L_IV:
  case GC_L_ITER:
    if (in->loop != owner) return bad(c, id, "outside the head of its loop");
    return 0;
  case GC_L_RESULT: {
    int l = in->loop;
    if (l < 0 || l >= f->n_insts || f->insts[l].op != GC_L_FOR || !c->avail[l])
      return bad(c, id, "%%%d is not a loop before it in an enclosing block", l);
    if (in->ivalue < 0 || in->ivalue >= f->insts[l].n_iter)
      return bad(c, id, "loop %%%d has no result %lld", l, (long long)in->ivalue);
    if (in->dtype != f->insts[f->insts[l].body.insts[1 + in->ivalue]].dtype) return bad(c, id, "of the wrong dtype");
    return 0;
  }
  case GC_L_RAND: return index_operand(c, id, in->in[0]) || index_operand(c, id, in->in[1]) ? -1 : 0;
  case GC_L_CHECK:
    if (in->ivalue < 0 || in->ivalue >= f->n_errors) return bad(c, id, "no error %lld", (long long)in->ivalue);
    return index_operand(c, id, in->in[0]) || index_operand(c, id, in->in[1]) || operand(c, id, in->in[2]) ? -1 : 0;
  case GC_L_GEMM: return check_gemm(c, id);
  default: return bad(c, id, "unknown instruction kind %d", (int)in->op);
  }
}

static int block(checker *c, const gc_loop_block *b, int owner) {
  int rc = 0, i;
  for (i = 0; i < b->n && rc == 0; i++) {
    int id = b->insts[i];
    if (id < 0 || id >= c->f->n_insts) {
      rc = bad(c, owner, "block instruction %%%d does not exist", id);
      break;
    }
    if (c->placed[id]) {
      rc = bad(c, id, "in two places");
      break;
    }
    c->placed[id] = true;
    rc = inst(c, id, owner, i == b->n - 1);
    c->avail[id] = true;
  }
  for (int k = 0; k < i; k++)   /* out of scope after the block */
    if (b->insts[k] >= 0 && b->insts[k] < c->f->n_insts) c->avail[b->insts[k]] = false;
  return rc;
}

int gc_loop_verify(const gc_loop_fn *f, gc_diag *d) {
  checker c = {f, d, calloc((size_t)f->n_insts + 1, sizeof(bool)), calloc((size_t)f->n_insts + 1, sizeof(bool))};
  int rc = c.placed && c.avail ? 0 : gc_diag_set(d, "out of memory");
  for (int b = 0; rc == 0 && b < f->n_buffers; b++) {
    int s = f->buffers[b].shares;
    if (s < 0) continue;
    if (s >= f->n_buffers || s == b || !f->buffers[b].written || f->buffers[s].written || f->buffers[s].local ||
        f->buffers[b].local)
      rc = bad(&c, -1, "%%b%d over %%b%d: a written argument is stored only over a read one", b, s);
  }
  if (rc == 0) rc = block(&c, &f->body, GC_LOOP_TOP);
  free(c.placed);
  free(c.avail);
  return rc;
}
