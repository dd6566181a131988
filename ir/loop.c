/* The loop IR: construction and the printer (see loop.h). */
#include "ir/loop.h"
#include "base/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

gc_loop_fn *gc_loop_new(const char *name) {
  gc_loop_fn *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  f->arena = gc_arena_new();
  f->name = gc_arena_strdup(f->arena, name ? name : "kernel");
  return f;
}

void gc_loop_free(gc_loop_fn *f) {
  if (!f) return;
  for (int i = 0; i < f->n_insts; i++) free(f->insts[i].body.insts), free(f->insts[i].more);
  for (int i = 0; i < f->n_insts; i++)
    if (f->insts[i].gemm) free(f->insts[i].gemm->epilogue.insts);
  free(f->body.insts);
  free(f->insts);
  free(f->buffers);
  free(f->errors);
  gc_arena_free(f->arena);
  free(f);
}

static void push(gc_loop_block *b, int id) {
  if (b->n == b->cap) {
    b->cap = b->cap ? 2 * b->cap : 16;
    b->insts = realloc(b->insts, sizeof *b->insts * (size_t)b->cap);
    if (!b->insts) abort();
  }
  b->insts[b->n++] = id;
}

gc_loop_block *gc_loop_block_of(gc_loop_fn *f, int blk) {
  if (blk == GC_LOOP_TOP) return &f->body;
  if (f->insts[blk].op == GC_L_GEMM) return &f->insts[blk].gemm->epilogue;
  return &f->insts[blk].body;
}

#define GC_LOOP_NONE (-2)   /* an instruction in no block (constants) */

static int new_inst(gc_loop_fn *f, int blk, gc_lop op, gc_dtype dt) {
  if (f->n_insts == f->cap_insts) {
    f->cap_insts = f->cap_insts ? 2 * f->cap_insts : 64;
    f->insts = realloc(f->insts, sizeof *f->insts * (size_t)f->cap_insts);
    if (!f->insts) abort();
  }
  int id = f->n_insts++;
  memset(&f->insts[id], 0, sizeof f->insts[id]);
  f->insts[id].op = op;
  f->insts[id].dtype = dt;
  f->insts[id].buffer = -1;
  f->insts[id].loop = -1;
  if (blk != GC_LOOP_NONE) push(gc_loop_block_of(f, blk), id);
  return id;
}

int gc_loop_add_buffer(gc_loop_fn *f, const char *name, gc_dtype dt, int64_t elements, bool written) {
  f->buffers = realloc(f->buffers, sizeof *f->buffers * (size_t)(f->n_buffers + 1));
  if (!f->buffers) abort();
  f->buffers[f->n_buffers] = (gc_loop_buffer){gc_arena_strdup(f->arena, name ? name : ""), dt, elements, written, false, -1};
  return f->n_buffers++;
}

int gc_loop_add_local(gc_loop_fn *f, const char *name, gc_dtype dt, int64_t elements) {
  int b = gc_loop_add_buffer(f, name, dt, elements, true);
  f->buffers[b].local = true;
  return b;
}

int gc_loop_add_error(gc_loop_fn *f, const char *message) {
  f->errors = realloc(f->errors, sizeof *f->errors * (size_t)(f->n_errors + 1));
  if (!f->errors) abort();
  f->errors[f->n_errors] = gc_arena_strdup(f->arena, message);
  return f->n_errors++;
}

int gc_loop_const(gc_loop_fn *f, int blk, gc_dtype dt, double v) {
  (void)blk;   /* constants belong to no block: they are values, not code */
  int id = new_inst(f, GC_LOOP_NONE, GC_L_CONST, dt);
  f->insts[id].value = v;
  f->insts[id].ivalue = gc_dtype_is_float(dt) ? 0 : dt == GC_BOOL ? v != 0 : (int64_t)v;
  return id;
}

int gc_loop_index(gc_loop_fn *f, int blk, int64_t v) {
  (void)blk;
  int id = new_inst(f, GC_LOOP_NONE, GC_L_CONST, GC_I64);
  f->insts[id].value = (double)v;
  f->insts[id].ivalue = v;
  return id;
}

bool gc_loop_is_index_const(const gc_loop_fn *f, int id, int64_t *v) {
  const gc_loop_inst *in = &f->insts[id];
  if (in->op != GC_L_CONST || in->dtype != GC_I64) return false;
  *v = in->ivalue;
  return true;
}

int gc_loop_op(gc_loop_fn *f, int blk, gc_op op, gc_dtype dt, const int *in, int n_in) {
  int id = new_inst(f, blk, GC_L_OP, dt);
  f->insts[id].gop = op;
  f->insts[id].n_in = n_in;
  memcpy(f->insts[id].in, in, sizeof *in * (size_t)n_in);
  return id;
}

static int unary_c(gc_loop_fn *f, int blk, gc_lop op, int x, int64_t c) {
  int id = new_inst(f, blk, op, GC_I64);
  f->insts[id].n_in = 1;
  f->insts[id].in[0] = x;
  f->insts[id].ivalue = c;
  return id;
}

int gc_loop_idiv(gc_loop_fn *f, int blk, int x, int64_t c) {
  int64_t v;
  if (c == 1) return x;
  if (gc_loop_is_index_const(f, x, &v)) return gc_loop_index(f, blk, v / c);
  return unary_c(f, blk, GC_L_IDIV, x, c);
}

int gc_loop_imod(gc_loop_fn *f, int blk, int x, int64_t c) {
  int64_t v;
  if (c == 1) return gc_loop_index(f, blk, 0);
  if (gc_loop_is_index_const(f, x, &v)) return gc_loop_index(f, blk, v % c);
  return unary_c(f, blk, GC_L_IMOD, x, c);
}

int gc_loop_iadd(gc_loop_fn *f, int blk, int x, int y) {
  int64_t u, v;
  bool cu = gc_loop_is_index_const(f, x, &u), cv = gc_loop_is_index_const(f, y, &v);
  if (cu && cv) return gc_loop_index(f, blk, u + v);
  if (cu && u == 0) return y;
  if (cv && v == 0) return x;
  return gc_loop_op(f, blk, GC_OP_ADD, GC_I64, (int[]){x, y}, 2);
}

int gc_loop_imul(gc_loop_fn *f, int blk, int x, int y) {
  int64_t u, v;
  bool cu = gc_loop_is_index_const(f, x, &u), cv = gc_loop_is_index_const(f, y, &v);
  if (cu && cv) return gc_loop_index(f, blk, u * v);
  if ((cu && u == 0) || (cv && v == 0)) return gc_loop_index(f, blk, 0);
  if (cu && u == 1) return y;
  if (cv && v == 1) return x;
  return gc_loop_op(f, blk, GC_OP_MUL, GC_I64, (int[]){x, y}, 2);
}

int gc_loop_load(gc_loop_fn *f, int blk, int buffer, int index) {
  int id = new_inst(f, blk, GC_L_LOAD, f->buffers[buffer].dtype);
  f->insts[id].buffer = buffer;
  f->insts[id].n_in = 1;
  f->insts[id].in[0] = index;
  return id;
}

void gc_loop_store(gc_loop_fn *f, int blk, int buffer, int index, int value) {
  int id = new_inst(f, blk, GC_L_STORE, f->buffers[buffer].dtype);
  f->insts[id].buffer = buffer;
  f->insts[id].n_in = 2;
  f->insts[id].in[0] = index;
  f->insts[id].in[1] = value;
}

int gc_loop_rand(gc_loop_fn *f, int blk, gc_dtype dt, int64_t seed, int counter, int index) {
  int id = new_inst(f, blk, GC_L_RAND, dt);
  f->insts[id].seed = seed;
  f->insts[id].n_in = 2;
  f->insts[id].in[0] = counter;
  f->insts[id].in[1] = index;
  return id;
}

void gc_loop_check(gc_loop_fn *f, int blk, int index, int bound, int shown, int error) {
  int id = new_inst(f, blk, GC_L_CHECK, GC_I64);
  f->insts[id].n_in = 3;
  f->insts[id].in[0] = index;
  f->insts[id].in[1] = bound;
  f->insts[id].in[2] = shown;
  f->insts[id].ivalue = error;
}

int gc_loop_for(gc_loop_fn *f, int blk, int lo, int hi, int64_t step, const int *init, int n_iter,
                const gc_dtype *iter_dtypes) {
  int id = new_inst(f, blk, GC_L_FOR, GC_I64);
  gc_loop_inst *l = &f->insts[id];
  l->n_in = 2;
  l->in[0] = lo;
  l->in[1] = hi;
  l->ivalue = step;
  l->n_iter = n_iter;
  if (n_iter) {
    l->more = malloc(sizeof *l->more * (size_t)n_iter);
    if (!l->more) abort();
    memcpy(l->more, init, sizeof *init * (size_t)n_iter);
  }
  /* the body starts with the induction variable and the iter values */
  int iv = new_inst(f, id, GC_L_IV, GC_I64);
  f->insts[iv].loop = id;
  for (int k = 0; k < n_iter; k++) {
    int it = new_inst(f, id, GC_L_ITER, iter_dtypes[k]);
    f->insts[it].loop = id;
    f->insts[it].ivalue = k;
  }
  return id;
}

int gc_loop_iv(const gc_loop_fn *f, int loop) { return f->insts[loop].body.insts[0]; }
int gc_loop_iter(const gc_loop_fn *f, int loop, int k) { return f->insts[loop].body.insts[1 + k]; }

void gc_loop_yield(gc_loop_fn *f, int loop, const int *values) {
  int n = f->insts[loop].n_iter;
  int id = new_inst(f, GC_LOOP_NONE, GC_L_YIELD, GC_I64);
  f->insts[id].more = malloc(sizeof(int) * (size_t)(n ? n : 1));
  if (!f->insts[id].more) abort();
  memcpy(f->insts[id].more, values, sizeof(int) * (size_t)n);
  f->insts[id].n_in = n;
  f->insts[id].loop = loop;
  push(&f->insts[loop].body, id);
}

int gc_loop_result(gc_loop_fn *f, int blk, int loop, int k) {
  int id = new_inst(f, blk, GC_L_RESULT, f->insts[f->insts[loop].body.insts[1 + k]].dtype);
  f->insts[id].loop = loop;
  f->insts[id].ivalue = k;
  return id;
}

gc_loop_gemm *gc_loop_gemm_new(gc_loop_fn *f, int blk, gc_dtype dt, int *id) {
  *id = new_inst(f, blk, GC_L_GEMM, dt);
  gc_loop_gemm *g = gc_arena_alloc(f->arena, sizeof *g);
  g->dtype = dt;
  f->insts[*id].gemm = g;
  /* the epilogue starts with its arguments: batch, m, n, then the acc */
  for (int k = 0; k < 3; k++) {
    int iv = new_inst(f, *id, GC_L_IV, GC_I64);
    f->insts[iv].loop = *id;
    f->insts[iv].ivalue = k;
  }
  int acc = new_inst(f, *id, GC_L_ITER, dt);
  f->insts[acc].loop = *id;
  return g;
}

/* ---- printing ---------------------------------------------------------- */

static void print_block(gc_strbuf *o, const gc_loop_fn *f, const gc_loop_block *b, int depth);

/* An operand: a constant as its literal, anything else as %id. */
static const char *opnd(const gc_loop_fn *f, int id, char *s, size_t size) {
  const gc_loop_inst *in = &f->insts[id];
  if (in->op != GC_L_CONST) snprintf(s, size, "%%%d", id);
  else if (gc_dtype_is_float(in->dtype)) snprintf(s, size, "%.9g:%s", in->value, gc_dtype_name(in->dtype));
  else if (in->dtype == GC_I64) snprintf(s, size, "%lld", (long long)in->ivalue);
  else snprintf(s, size, "%lld:%s", (long long)in->ivalue, gc_dtype_name(in->dtype));
  return s;
}

static void print_inst(gc_strbuf *o, const gc_loop_fn *f, int id, int depth) {
  const gc_loop_inst *in = &f->insts[id];
  const char *dt = gc_dtype_name(in->dtype);
  char ob[4][48];
  if (in->op == GC_L_CONST || in->op == GC_L_IV || in->op == GC_L_ITER) return;
  gc_strbuf_printf(o, "%*s", 2 * depth, "");
  switch (in->op) {
  case GC_L_CONST:
    if (gc_dtype_is_float(in->dtype)) gc_strbuf_printf(o, "%%%d = const %.9g : %s\n", id, in->value, dt);
    else gc_strbuf_printf(o, "%%%d = const %lld : %s\n", id, (long long)in->ivalue, dt);
    break;
  case GC_L_OP:
    gc_strbuf_printf(o, "%%%d = %s", id, gc_op_name(in->gop));
    for (int k = 0; k < in->n_in; k++) gc_strbuf_printf(o, "%s%s", k ? ", " : " ", opnd(f, in->in[k], ob[0], sizeof ob[0]));
    gc_strbuf_printf(o, " : %s\n", dt);
    break;
  case GC_L_IDIV: gc_strbuf_printf(o, "%%%d = idiv %s, %lld\n", id, opnd(f, in->in[0], ob[0], 48), (long long)in->ivalue); break;
  case GC_L_IMOD: gc_strbuf_printf(o, "%%%d = imod %s, %lld\n", id, opnd(f, in->in[0], ob[0], 48), (long long)in->ivalue); break;
  case GC_L_LOAD: gc_strbuf_printf(o, "%%%d = load %%b%d[%s] : %s\n", id, in->buffer, opnd(f, in->in[0], ob[0], 48), dt); break;
  case GC_L_STORE:
    gc_strbuf_printf(o, "store %%b%d[%s], %s\n", in->buffer, opnd(f, in->in[0], ob[0], 48), opnd(f, in->in[1], ob[1], 48));
    break;
  case GC_L_RAND:
    gc_strbuf_printf(o, "%%%d = rand %s, %s {seed=%lld} : %s\n", id, opnd(f, in->in[0], ob[0], 48),
        opnd(f, in->in[1], ob[1], 48), (long long)in->seed, dt);
    break;
  case GC_L_CHECK:
    gc_strbuf_printf(o, "check 0 <= %s < %s else error %lld (%s)\n", opnd(f, in->in[0], ob[0], 48), opnd(f, in->in[1], ob[1], 48),
        (long long)in->ivalue, opnd(f, in->in[2], ob[2], 48));
    break;
  case GC_L_RESULT: gc_strbuf_printf(o, "%%%d = result %lld of %%%d\n", id, (long long)in->ivalue, in->loop); break;
  case GC_L_YIELD:
    gc_strbuf_printf(o, "yield");
    for (int k = 0; k < in->n_in; k++) gc_strbuf_printf(o, "%s%s", k ? ", " : " ", opnd(f, in->more[k], ob[0], 48));
    gc_strbuf_printf(o, "\n");
    break;
  case GC_L_FOR: {
    gc_strbuf_printf(o, "%s%%%d: for %%%d = %s to %s step %lld", in->parallel ? "parallel " : "", id, in->body.insts[0],
        opnd(f, in->in[0], ob[0], 48), opnd(f, in->in[1], ob[1], 48), (long long)in->ivalue);
    if (in->n_iter) {
      gc_strbuf_printf(o, " iter(");
      for (int k = 0; k < in->n_iter; k++)
        gc_strbuf_printf(o, "%s%%%d = %s", k ? ", " : "", in->body.insts[1 + k], opnd(f, in->more[k], ob[0], 48));
      gc_strbuf_printf(o, ")");
    }
    if (in->vector) gc_strbuf_printf(o, " {vector=%d%s}", in->vector, in->reassoc ? ", reassoc" : "");
    else if (in->reassoc) gc_strbuf_printf(o, " {reassoc}");
    gc_strbuf_printf(o, " {\n");
    gc_loop_block rest = {in->body.n - 1 - in->n_iter, 0, in->body.insts + 1 + in->n_iter};
    print_block(o, f, &rest, depth + 1);
    gc_strbuf_printf(o, "%*s}\n", 2 * depth, "");
    break;
  }
  case GC_L_GEMM: {
    const gc_loop_gemm *g = in->gemm;
    gc_strbuf_printf(o, "gemm %%b%d, %%b%d {m=%lld, n=%lld, k=%lld, batch=%d", g->a_buf, g->b_buf, (long long)g->m,
        (long long)g->n, (long long)g->k, g->batch_rank);
    if (g->batch_rank) {   /* the batch shape and the operands' strides over it */
      const int64_t *lists[3] = {g->batch_dims, g->a_batch, g->b_batch};
      static const char *const keys[3] = {"dims", "a_batch", "b_batch"};
      for (int l = 0; l < 3; l++) {
        gc_strbuf_printf(o, ", %s=[", keys[l]);
        for (int k = 0; k < g->batch_rank; k++) gc_strbuf_printf(o, "%s%lld", k ? "," : "", (long long)lists[l][k]);
        gc_strbuf_printf(o, "]");
      }
    }
    gc_strbuf_printf(o, ", a=[%lld,%lld,+%lld], b=[%lld,%lld,+%lld]", (long long)g->a_row, (long long)g->a_col,
        (long long)g->a_offset, (long long)g->b_row, (long long)g->b_col, (long long)g->b_offset);
    if (g->mr) gc_strbuf_printf(o, ", tile=%dx%d, kc=%lld, mc=%lld, nc=%lld", g->mr, g->nr, (long long)g->kc, (long long)g->mc,
                   (long long)g->nc);
    const int *e = g->epilogue.insts;
    gc_strbuf_printf(o, "} epilogue(%%%d = batch, %%%d = m, %%%d = n, %%%d = acc) {\n", e[0], e[1], e[2], e[3]);
    print_block(o, f, &g->epilogue, depth + 1);
    gc_strbuf_printf(o, "%*s}\n", 2 * depth, "");
    break;
  }
  default: gc_strbuf_printf(o, "?\n"); break;
  }
}

static void print_block(gc_strbuf *o, const gc_loop_fn *f, const gc_loop_block *b, int depth) {
  for (int i = 0; i < b->n; i++) {
    gc_lop op = f->insts[b->insts[i]].op;
    if (op == GC_L_IV || op == GC_L_ITER) continue;
    print_inst(o, f, b->insts[i], depth);
  }
}

static char *print_fn(const gc_loop_fn *f, bool names) {
  gc_strbuf o = {0};
  gc_strbuf_printf(&o, "loop @%s(", names ? f->name : "");
  for (int i = 0; i < f->n_buffers; i++)
    gc_strbuf_printf(&o, "%s%%b%d: %s[%lld]%s \"%s\"", i ? ", " : "", i, gc_dtype_name(f->buffers[i].dtype),
        (long long)f->buffers[i].elements,
        f->buffers[i].local ? " local" : f->buffers[i].written ? " out" : "", names ? f->buffers[i].name : "");
  for (int i = 0; i < f->n_buffers; i++)
    if (f->buffers[i].shares >= 0) gc_strbuf_printf(&o, ", %%b%d over %%b%d", i, f->buffers[i].shares);
  gc_strbuf_printf(&o, ") {\n");
  print_block(&o, f, &f->body, 1);
  gc_strbuf_printf(&o, "}\n");
  for (int i = 0; i < f->n_errors; i++) gc_strbuf_printf(&o, "# error %d: %s\n", i, names ? f->errors[i] : "");
  return gc_strbuf_take(&o);
}

char *gc_loop_print(const gc_loop_fn *f) { return print_fn(f, true); }
char *gc_loop_print_code(const gc_loop_fn *f) { return print_fn(f, false); }
