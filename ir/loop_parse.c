/* The loop IR's text form read back: what gc_loop_print prints (see
 * loop.h).  Printed instructions keep their ids (%N), so the function
 * parsed prints as the text it came from; what the text does not number
 * (constants, written inline as operands; stores, checks, yields and gemms)
 * gets ids after the highest one printed. */
#include "ir/loop.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *text, *p;
  gc_loop_fn *f;
  gc_diag *d;
  int base;       /* ids below it are the printed ones */
  bool *placed;   /* [base]: the printed id was defined */
} reader;

static void fail_at(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_at(reader *r, const char *fmt, ...) {
  int line = 1, col = 1;
  for (const char *c = r->text; c < r->p; c++) c[0] == '\n' ? (line++, col = 1) : col++;
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  gc_diag_set(r->d, "%d:%d: %s", line, col, msg);
  if (r->d) r->d->line = line, r->d->col = col;
}
/* -1 where the compiler sees it, so an out-parameter left unset on failure
 * is never taken for one read on success. */
#define fail(...) (fail_at(__VA_ARGS__), -1)

/* ---- tokens ------------------------------------------------------------------ */

static void ws(reader *r) {
  while (*r->p == ' ' || *r->p == '\t') r->p++;
}

static bool lit(reader *r, const char *s) {
  ws(r);
  size_t n = strlen(s);
  if (strncmp(r->p, s, n) != 0) return false;
  r->p += n;
  return true;
}

static int expect(reader *r, const char *s) { return lit(r, s) ? 0 : fail(r, "expected '%s'", s); }

static int end_of_line(reader *r) {
  ws(r);
  if (*r->p == '\n') return r->p++, 0;
  return *r->p ? fail(r, "expected the end of the line") : 0;
}

static int integer(reader *r, int64_t *v) {
  ws(r);
  char *e;
  errno = 0;
  long long x = strtoll(r->p, &e, 10);
  if (e == r->p || errno) return fail(r, "expected an integer");
  r->p = e;
  *v = x;
  return 0;
}

static int small(reader *r, int *v, int lo, int hi, const char *what) {
  int64_t x;
  if (integer(r, &x)) return -1;
  if (x < lo || x > hi) return fail(r, "%s %lld out of range [%d, %d]", what, (long long)x, lo, hi);
  *v = (int)x;
  return 0;
}

static int word(reader *r, const char **w, size_t *n) {
  ws(r);
  const char *s = r->p;
  while (isalnum((unsigned char)*r->p) || *r->p == '_') r->p++;
  if (r->p == s) return fail(r, "expected a name");
  *w = s, *n = (size_t)(r->p - s);
  return 0;
}

static int dtype(reader *r, gc_dtype *dt) {
  const char *w;
  size_t n;
  const char *at = (ws(r), r->p);
  if (word(r, &w, &n)) return -1;
  int t = gc_dtype_parse(w, n);
  if (t < 0) return r->p = at, fail(r, "unknown dtype '%.*s'", (int)n, w);
  *dt = (gc_dtype)t;
  return 0;
}

/* [a,b,...] into v (at most max). */
static int int_list(reader *r, int64_t *v, int max, int *n) {
  if (expect(r, "[")) return -1;
  *n = 0;
  if (lit(r, "]")) return 0;
  do {
    if (*n == max) return fail(r, "more than %d entries", max);
    if (integer(r, &v[(*n)++])) return -1;
  } while (lit(r, ","));
  return expect(r, "]");
}

/* ---- instructions -------------------------------------------------------------- */

static void init(gc_loop_inst *in, gc_lop op, gc_dtype dt) {
  memset(in, 0, sizeof *in);
  in->op = op;
  in->dtype = dt;
  in->buffer = -1;
  in->loop = -1;
}

/* A new instruction of an id the text does not print. */
static int fresh(reader *r, gc_lop op, gc_dtype dt) {
  gc_loop_fn *f = r->f;
  if (f->n_insts == f->cap_insts) {
    f->cap_insts = 2 * f->cap_insts + 64;
    f->insts = realloc(f->insts, sizeof *f->insts * (size_t)f->cap_insts);
    if (!f->insts) abort();
  }
  init(&f->insts[f->n_insts], op, dt);
  return f->n_insts++;
}

/* %N, a printed id not defined before: defined here. */
static int define(reader *r, int id, gc_lop op, gc_dtype dt) {
  if (r->placed[id]) return fail(r, "%%%d is defined twice", id);
  r->placed[id] = true;
  init(&r->f->insts[id], op, dt);
  return 0;
}

/* %N: the id (not yet checked as defined). */
static int value_id(reader *r, int *id) {
  ws(r);
  if (r->p[0] != '%' || !isdigit((unsigned char)r->p[1])) return fail(r, "expected a value %%N");
  r->p++;
  int64_t v;
  if (integer(r, &v)) return -1;
  if (v >= r->base) return fail(r, "%%%lld is out of range", (long long)v);
  *id = (int)v;
  return 0;
}

static int new_value(reader *r, int *id) {
  const char *at = (ws(r), r->p);
  if (value_id(r, id)) return -1;
  if (r->placed[*id]) return r->p = at, fail(r, "%%%d is defined twice", *id);
  return 0;
}

/* An operand: %N defined before, or a constant literal (2, 0.5:f32, 1:bool). */
static int operand(reader *r, int *id) {
  ws(r);
  const char *at = r->p;
  if (*r->p == '%') {
    if (value_id(r, id)) return -1;
    if (!r->placed[*id]) return r->p = at, fail(r, "%%%d is used before it is defined", *id);
    return 0;
  }
  char *e_f, *e_i;
  double v = strtod(r->p, &e_f);
  errno = 0;
  long long iv = strtoll(r->p, &e_i, 10);
  if (e_f == r->p) return fail(r, "expected an operand (%%N or a constant)");
  gc_dtype dt = GC_I64;
  r->p = e_f;
  if (*r->p == ':') {
    r->p++;
    if (dtype(r, &dt)) return -1;
  }
  bool is_float = gc_dtype_is_float(dt);
  if (!is_float && (e_i != e_f || errno)) return r->p = at, fail(r, "expected an integer constant");
  *id = fresh(r, GC_L_CONST, dt);
  gc_loop_inst *in = &r->f->insts[*id];
  in->value = is_float ? v : (double)iv;
  in->ivalue = is_float ? 0 : dt == GC_BOOL ? iv != 0 : iv;
  return 0;
}

static int buffer_ref(reader *r, int *b) {
  if (expect(r, "%b")) return -1;
  const char *at = r->p;
  int64_t v;
  if (integer(r, &v)) return -1;
  if (v < 0 || v >= r->f->n_buffers) return r->p = at, fail(r, "no buffer %%b%lld", (long long)v);
  *b = (int)v;
  return 0;
}

static int block(reader *r, int blk);

/* Append id to block blk (looked up now: the instructions move as they grow). */
static void add(reader *r, int blk, int id) { gc_loop_block_push(gc_loop_block_of(r->f, blk), id); }

/* [parallel] %N: for %I = LO to HI step S [iter(%A = X, ...)] [{vector=V[, reassoc]} | {reassoc}] { */
static int parse_for(reader *r, int parent, int id, bool parallel) {
  gc_loop_fn *f = r->f;
  int iv, lo, hi;
  int64_t step;
  if (define(r, id, GC_L_FOR, GC_I64) || expect(r, "for") || new_value(r, &iv) || expect(r, "=") ||
      operand(r, &lo) || expect(r, "to") || operand(r, &hi) || expect(r, "step") || integer(r, &step))
    return -1;
  f->insts[id].parallel = parallel;
  f->insts[id].n_in = 2;
  f->insts[id].in[0] = lo;
  f->insts[id].in[1] = hi;
  f->insts[id].ivalue = step;
  add(r, parent, id);
  if (define(r, iv, GC_L_IV, GC_I64)) return -1;
  f->insts[iv].loop = id;
  gc_loop_block_push(&f->insts[id].body, iv);
  if (lit(r, "iter(")) {
    do {
      int it, init_id;
      if (new_value(r, &it) || expect(r, "=") || operand(r, &init_id)) return -1;
      gc_loop_inst *l = &f->insts[id];
      l->more = realloc(l->more, sizeof *l->more * (size_t)(l->n_iter + 1));
      if (!l->more) abort();
      l->more[l->n_iter] = init_id;
      if (define(r, it, GC_L_ITER, f->insts[init_id].dtype)) return -1;
      f->insts[it].loop = id;
      f->insts[it].ivalue = f->insts[id].n_iter++;
      gc_loop_block_push(&f->insts[id].body, it);
    } while (lit(r, ","));
    if (expect(r, ")")) return -1;
  }
  if (lit(r, "{vector=")) {
    if (small(r, &f->insts[id].vector, 1, 1 << 16, "vector width")) return -1;
    f->insts[id].reassoc = lit(r, ", reassoc");
    if (expect(r, "}")) return -1;
  } else if (lit(r, "{reassoc}")) {
    f->insts[id].reassoc = true;
  }
  if (expect(r, "{") || end_of_line(r)) return -1;
  return block(r, id);
}

/* gemm %bA, %bB {m=, n=, k=, batch=R[, dims=[..], a_batch=[..], b_batch=[..]], a=[row,col,+off],
 * b=[row,col,+off][, tile=MRxNR, kc=, mc=, nc=]} epilogue(%a = batch, %b = m, %c = n, %d = acc) { */
static int parse_gemm(reader *r, int parent) {
  gc_loop_fn *f = r->f;
  int a, b;
  if (buffer_ref(r, &a) || expect(r, ",") || buffer_ref(r, &b)) return -1;
  gc_dtype dt = f->buffers[a].dtype;
  int id = fresh(r, GC_L_GEMM, dt);
  gc_loop_gemm *g = gc_arena_alloc(f->arena, sizeof *g);
  f->insts[id].gemm = g;
  g->a_buf = a, g->b_buf = b, g->dtype = dt;
  add(r, parent, id);
  if (expect(r, "{m=") || integer(r, &g->m) || expect(r, ", n=") || integer(r, &g->n) || expect(r, ", k=") ||
      integer(r, &g->k) || expect(r, ", batch=") || small(r, &g->batch_rank, 0, GC_MAX_RANK, "batch rank"))
    return -1;
  if (g->batch_rank) {
    int n[3];
    if (expect(r, ", dims=") || int_list(r, g->batch_dims, GC_MAX_RANK, &n[0]) || expect(r, ", a_batch=") ||
        int_list(r, g->a_batch, GC_MAX_RANK, &n[1]) || expect(r, ", b_batch=") ||
        int_list(r, g->b_batch, GC_MAX_RANK, &n[2]))
      return -1;
    if (n[0] != g->batch_rank || n[1] != g->batch_rank || n[2] != g->batch_rank)
      return fail(r, "batch dims and strides need %d entries each", g->batch_rank);
  }
  if (expect(r, ", a=[") || integer(r, &g->a_row) || expect(r, ",") || integer(r, &g->a_col) || expect(r, ",+") ||
      integer(r, &g->a_offset) || expect(r, "], b=[") || integer(r, &g->b_row) || expect(r, ",") ||
      integer(r, &g->b_col) || expect(r, ",+") || integer(r, &g->b_offset) || expect(r, "]"))
    return -1;
  if (lit(r, ", tile=")) {
    if (small(r, &g->mr, 1, 1 << 10, "tile rows") || expect(r, "x") || small(r, &g->nr, 1, 1 << 12, "tile columns") ||
        expect(r, ", kc=") || integer(r, &g->kc) || expect(r, ", mc=") || integer(r, &g->mc) ||
        expect(r, ", nc=") || integer(r, &g->nc))
      return -1;
  }
  if (expect(r, "}") || expect(r, "epilogue(")) return -1;
  static const char *const args[4] = {"batch", "m", "n", "acc"};
  for (int k = 0; k < 4; k++) {
    int e;
    if ((k && expect(r, ",")) || new_value(r, &e) || expect(r, "=") || expect(r, args[k])) return -1;
    if (define(r, e, k < 3 ? GC_L_IV : GC_L_ITER, k < 3 ? GC_I64 : dt)) return -1;
    f->insts[e].loop = id;
    f->insts[e].ivalue = k < 3 ? k : 0;
    gc_loop_block_push(&f->insts[id].gemm->epilogue, e);
  }
  if (expect(r, ")") || expect(r, "{") || end_of_line(r)) return -1;
  return block(r, id);
}

/* %N = KIND ... after the '=' */
static int parse_value(reader *r, int blk, int id) {
  gc_loop_fn *f = r->f;
  const char *w;
  size_t n;
  const char *at = (ws(r), r->p);
  if (word(r, &w, &n)) return -1;
#define IS(s) (n == strlen(s) && memcmp(w, s, n) == 0)
  if (IS("result")) {
    int64_t k;
    int loop;
    const char *at_loop;
    if (integer(r, &k) || expect(r, "of") || (at_loop = (ws(r), r->p), operand(r, &loop))) return -1;
    if (f->insts[loop].op != GC_L_FOR) return r->p = at_loop, fail(r, "%%%d is not a loop", loop);
    if (k < 0 || k >= f->insts[loop].n_iter) return fail(r, "loop %%%d has no result %lld", loop, (long long)k);
    if (define(r, id, GC_L_RESULT, f->insts[f->insts[loop].body.insts[1 + k]].dtype)) return -1;
    f->insts[id].loop = loop;
    f->insts[id].ivalue = k;
  } else if (IS("idiv") || IS("imod")) {
    int x;
    int64_t c;
    bool div = IS("idiv");
    if (operand(r, &x) || expect(r, ",") || integer(r, &c) || define(r, id, div ? GC_L_IDIV : GC_L_IMOD, GC_I64))
      return -1;
    f->insts[id].n_in = 1;
    f->insts[id].in[0] = x;
    f->insts[id].ivalue = c;
  } else if (IS("load")) {
    int b, x;
    gc_dtype dt;
    if (buffer_ref(r, &b) || expect(r, "[") || operand(r, &x) || expect(r, "]") || expect(r, ":") || dtype(r, &dt) ||
        define(r, id, GC_L_LOAD, dt))
      return -1;
    f->insts[id].buffer = b;
    f->insts[id].n_in = 1;
    f->insts[id].in[0] = x;
  } else if (IS("rand")) {
    int c, x;
    int64_t seed;
    gc_dtype dt;
    if (operand(r, &c) || expect(r, ",") || operand(r, &x) || expect(r, "{seed=") || integer(r, &seed) ||
        expect(r, "}") || expect(r, ":") || dtype(r, &dt) || define(r, id, GC_L_RAND, dt))
      return -1;
    f->insts[id].seed = seed;
    f->insts[id].n_in = 2;
    f->insts[id].in[0] = c;
    f->insts[id].in[1] = x;
  } else if (IS("call")) {   /* call @cN(%a, ...) : dt; cN is checked against the "# call" lines */
    int64_t c;
    int in[GC_LOOP_MAX_CALL_ARGS], k = 0;
    gc_dtype dt;
    if (expect(r, "@c") || integer(r, &c) || expect(r, "(")) return -1;
    if (c < 0 || c >= (1 << 16)) return fail(r, "callee c%lld out of range", (long long)c);
    if (!lit(r, ")")) {
      do {
        if (k == GC_LOOP_MAX_CALL_ARGS) return fail(r, "more than %d operands", GC_LOOP_MAX_CALL_ARGS);
        if (operand(r, &in[k++])) return -1;
      } while (lit(r, ","));
      if (expect(r, ")")) return -1;
    }
    if (expect(r, ":") || dtype(r, &dt) || define(r, id, GC_L_CALL, dt)) return -1;
    gc_loop_inst *ci = &f->insts[id];
    ci->ivalue = c;
    ci->n_in = k;
    ci->more = malloc(sizeof(int) * (size_t)(k ? k : 1));
    if (!ci->more) abort();
    memcpy(ci->more, in, sizeof *in * (size_t)k);
  } else {
    int op = gc_op_parse(w, n);
    if (op < 0) return r->p = at, fail(r, "unknown instruction '%.*s'", (int)n, w);
    int in[4], k = 0;
    do {
      if (k == 4) return fail(r, "more than 4 operands");
      if (operand(r, &in[k++])) return -1;
    } while (lit(r, ","));
    gc_dtype dt;
    if (expect(r, ":") || dtype(r, &dt) || define(r, id, GC_L_OP, dt)) return -1;
    f->insts[id].gop = (gc_op)op;
    f->insts[id].n_in = k;
    memcpy(f->insts[id].in, in, sizeof *in * (size_t)k);
  }
#undef IS
  add(r, blk, id);
  return 0;
}

static int instruction(reader *r, int blk) {
  gc_loop_fn *f = r->f;
  if (lit(r, "parallel ")) {
    int id;
    if (new_value(r, &id) || expect(r, ":")) return -1;
    return parse_for(r, blk, id, true);
  }
  if (lit(r, "store ")) {
    int buf, x, v;
    if (buffer_ref(r, &buf) || expect(r, "[") || operand(r, &x) || expect(r, "]") || expect(r, ",") || operand(r, &v))
      return -1;
    int id = fresh(r, GC_L_STORE, f->buffers[buf].dtype);
    gc_loop_inst *in = &f->insts[id];
    in->buffer = buf, in->n_in = 2, in->in[0] = x, in->in[1] = v;
    add(r, blk, id);
    return end_of_line(r);
  }
  if (lit(r, "check ")) {
    int x, bound, shown;
    int64_t e;
    if (expect(r, "0 <=") || operand(r, &x) || expect(r, "<") || operand(r, &bound) || expect(r, "else error") ||
        integer(r, &e) || expect(r, "(") || operand(r, &shown) || expect(r, ")"))
      return -1;
    int id = fresh(r, GC_L_CHECK, GC_I64);
    gc_loop_inst *in = &f->insts[id];
    in->n_in = 3, in->in[0] = x, in->in[1] = bound, in->in[2] = shown, in->ivalue = e;
    add(r, blk, id);
    return end_of_line(r);
  }
  if (lit(r, "yield")) {
    if (blk == GC_LOOP_TOP || f->insts[blk].op != GC_L_FOR) return fail(r, "a yield outside a loop");
    int n = 0, *v = NULL;
    ws(r);
    if (*r->p != '\n' && *r->p) {
      do {
        v = realloc(v, sizeof *v * (size_t)(n + 1));
        if (!v) abort();
        if (operand(r, &v[n++])) return free(v), -1;
      } while (lit(r, ","));
    }
    int id = fresh(r, GC_L_YIELD, GC_I64);
    gc_loop_inst *in = &f->insts[id];
    in->more = v ? v : malloc(sizeof(int));
    if (!in->more) abort();
    in->n_in = n, in->loop = blk;
    add(r, blk, id);
    return end_of_line(r);
  }
  if (lit(r, "gemm ")) return parse_gemm(r, blk);
  int id;
  if (new_value(r, &id)) return -1;
  if (lit(r, ":")) return parse_for(r, blk, id, false);
  if (expect(r, "=") || parse_value(r, blk, id)) return -1;
  return end_of_line(r);
}

/* Lines up to the '}' that closes the block. */
static int block(reader *r, int blk) {
  for (;;) {
    ws(r);
    if (*r->p == '\n') {
      r->p++;
      continue;
    }
    if (*r->p == '}') {
      r->p++;
      return end_of_line(r);
    }
    if (!*r->p) return fail(r, "the text ends inside a block (a '}' is missing)");
    if (instruction(r, blk)) return -1;
  }
}

/* %bI: dt[E][ local| out] "name", after the ':' */
static int buffer(reader *r, int b) {
  gc_loop_fn *f = r->f;
  gc_dtype dt;
  int64_t elements;
  if (b != f->n_buffers) return fail(r, "buffer %%b%d where %%b%d comes next", b, f->n_buffers);
  if (dtype(r, &dt) || expect(r, "[") || integer(r, &elements) || expect(r, "]")) return -1;
  bool local = lit(r, "local"), out = !local && lit(r, "out");
  if (expect(r, "\"")) return -1;
  const char *end = strchr(r->p, '"');
  if (!end || memchr(r->p, '\n', (size_t)(end - r->p))) return fail(r, "the buffer's name has no closing '\"'");
  char *name = gc_arena_strndup(f->arena, r->p, (size_t)(end - r->p));
  r->p = end + 1;
  if (local) gc_loop_add_local(f, name, dt, elements);
  else gc_loop_add_buffer(f, name, dt, elements, out);
  return 0;
}

/* After "# call c": N: @NAME buffers, error E | N: @NAME RET(ARG,...) EXTRA... (the
 * name may be empty: the kernel's code without names). */
static int callee(reader *r) {
  gc_loop_fn *f = r->f;
  int64_t c;
  if (integer(r, &c)) return -1;
  if (c != f->n_callees) return fail(r, "callee c%lld where c%d comes next", (long long)c, f->n_callees);
  if (expect(r, ":") || expect(r, "@")) return -1;
  const char *name = r->p;
  while (isalnum((unsigned char)*r->p) || *r->p == '_' || *r->p == '.') r->p++;
  gc_loop_callee ce = {.name = gc_arena_strndup(f->arena, name, (size_t)(r->p - name)), .node = -1};
  if (lit(r, "buffers")) {
    int64_t e;
    if (expect(r, ",") || expect(r, "error") || integer(r, &e)) return -1;
    if (e < 0 || e >= f->n_errors) return fail(r, "no error %lld", (long long)e);
    ce.buffer = true, ce.error = (int)e;
  } else {
    if (dtype(r, &ce.ret) || expect(r, "(")) return -1;
    while (!lit(r, ")")) {
      if (ce.n_args && expect(r, ",")) return -1;
      if (ce.n_args == GC_LOOP_MAX_CALL_ARGS) return fail(r, "more than %d arguments", GC_LOOP_MAX_CALL_ARGS);
      if (dtype(r, &ce.arg[ce.n_args++])) return -1;
    }
    for (ws(r); *r->p && *r->p != '\n'; ws(r)) {
      if (ce.n_extra == GC_LOOP_MAX_CALL_ARGS) return fail(r, "more than %d constants", GC_LOOP_MAX_CALL_ARGS);
      char *e;
      double v = strtod(r->p, &e);
      if (e == r->p) return fail(r, "expected a number");
      ce.extra[ce.n_extra++] = v;
      r->p = e;
    }
  }
  f->callees = realloc(f->callees, sizeof *f->callees * (size_t)(f->n_callees + 1));
  if (!f->callees) abort();
  f->callees[f->n_callees++] = ce;
  return end_of_line(r);
}

static int function(reader *r) {
  gc_loop_fn *f = r->f;
  if (expect(r, "loop @")) return -1;
  const char *name = r->p;
  while (*r->p && *r->p != '(' && *r->p != '\n') r->p++;
  f->name = gc_arena_strndup(f->arena, name, (size_t)(r->p - name));
  if (expect(r, "(")) return -1;
  bool first = true;
  while (!lit(r, ")")) {
    if (!first && expect(r, ",")) return -1;
    first = false;
    const char *at = (ws(r), r->p);
    int b;
    if (expect(r, "%b") || small(r, &b, 0, 1 << 20, "buffer")) return -1;
    if (lit(r, ":")) {
      if (buffer(r, b)) return -1;
      continue;
    }
    int over;
    if (b >= f->n_buffers) return r->p = at, fail(r, "no buffer %%b%d", b);
    if (expect(r, "over") || buffer_ref(r, &over)) return -1;
    if (f->buffers[b].shares >= 0) return r->p = at, fail(r, "%%b%d is over two buffers", b);
    f->buffers[b].shares = over;
  }
  if (expect(r, "{") || end_of_line(r) || block(r, GC_LOOP_TOP)) return -1;
  while (lit(r, "# error ")) {
    int64_t e;
    if (integer(r, &e)) return -1;
    if (e != f->n_errors) return fail(r, "error %lld where error %d comes next", (long long)e, f->n_errors);
    if (expect(r, ":")) return -1;
    if (*r->p == ' ') r->p++;
    const char *end = strchr(r->p, '\n');
    size_t n = end ? (size_t)(end - r->p) : strlen(r->p);
    char *msg = gc_arena_strndup(f->arena, r->p, n);
    gc_loop_add_error(f, msg);
    r->p += n;
    if (end_of_line(r)) return -1;
  }
  while (lit(r, "# call c"))
    if (callee(r)) return -1;
  for (int i = 0; i < f->n_insts && i < r->base; i++)   /* placed[] covers the printed ids */
    if (r->placed[i] && f->insts[i].op == GC_L_CALL && f->insts[i].ivalue >= f->n_callees)
      return fail(r, "%%%d calls c%lld, which no '# call' line declares", i, (long long)f->insts[i].ivalue);
  ws(r);
  while (*r->p == '\n') r->p++, ws(r);
  return *r->p ? fail(r, "expected the end of the text") : 0;
}

gc_loop_fn *gc_loop_parse(const char *text, gc_diag *d) {
  if (d) d->line = d->col = 0;
  /* the printed ids: every %N (N digits) */
  int64_t top = -1;
  for (const char *c = text; (c = strchr(c, '%'));) {
    c++;
    if (!isdigit((unsigned char)*c)) continue;
    char *e;
    long long v = strtoll(c, &e, 10);
    if (v > top) top = v;
    c = e;
  }
  if (top >= (1 << 28)) return gc_diag_set(d, "loop IR: value ids up to %%%lld are too many", (long long)top), NULL;
  gc_loop_fn *f = gc_loop_new("");
  reader r = {text, text, f, d, (int)(top + 1), calloc((size_t)top + 2, sizeof(bool))};
  if (!f || !r.placed) return free(r.placed), gc_loop_free(f), gc_diag_set(d, "out of memory"), NULL;
  f->cap_insts = r.base + 64;
  f->insts = malloc(sizeof *f->insts * (size_t)f->cap_insts);
  if (!f->insts) abort();
  for (int i = 0; i < r.base; i++) init(&f->insts[i], GC_L_CONST, GC_I64);   /* ids the text skips */
  f->n_insts = r.base;
  int rc = function(&r);
  free(r.placed);
  if (rc) return gc_loop_free(f), NULL;
  return f;
}
