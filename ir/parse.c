/* The parser of the graph IR text form (IR.md).
 *
 * One pass over the tokens: each statement becomes a node through
 * gc_graph_add, so the op's rule checks it on the spot and its message is
 * reported at the op's name.  Each node keeps the line and column where its
 * statement starts.  Value names map to node ids; the printer renumbers them
 * %0, %1, ... */
#include "lexer.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPERANDS 64

/* ---- value names -> node ids (open addressing) ---- */

typedef struct {
  const char *name; /* into the source text; NULL marks an empty slot */
  size_t len;
  int node, line;
} name_slot;

typedef struct {
  name_slot *slots;
  size_t cap, n;
} name_map;

static uint64_t hash_name(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

/* The slot holding `s`, or the empty slot where it would go. */
static name_slot *map_slot(const name_map *m, const char *s, size_t n) {
  size_t i = hash_name(s, n) & (m->cap - 1);
  while (m->slots[i].name && !(m->slots[i].len == n && memcmp(m->slots[i].name, s, n) == 0))
    i = (i + 1) & (m->cap - 1);
  return &m->slots[i];
}

static const name_slot *map_get(const name_map *m, const char *s, size_t n) {
  if (!m->cap) return NULL;
  const name_slot *slot = map_slot(m, s, n);
  return slot->name ? slot : NULL;
}

static void map_put(name_map *m, const char *s, size_t n, int node, int line) {
  if (2 * (m->n + 1) > m->cap) {
    name_map bigger = {calloc(m->cap ? 2 * m->cap : 64, sizeof(name_slot)), m->cap ? 2 * m->cap : 64, 0};
    if (!bigger.slots) abort(); /* out of memory is not a user error */
    for (size_t i = 0; i < m->cap; i++)
      if (m->slots[i].name) *map_slot(&bigger, m->slots[i].name, m->slots[i].len) = m->slots[i];
    bigger.n = m->n;
    free(m->slots);
    *m = bigger;
  }
  *map_slot(m, s, n) = (name_slot){s, n, node, line};
  m->n++;
}

/* ---- the parser ---- */

typedef struct {
  lexer lx;
  token tok;       /* the lookahead */
  gc_graph *g;
  gc_diag *d;
  name_map names;
  gc_arena *scratch;
  int kernel;      /* the kernel being parsed (its number + 1), or 0 */
  struct pending_kernel *pending;   /* kernels whose results are checked at the end */
  int n_pending, cap_pending;
  int *listed, *needed, cap_marks, stamp;   /* check_header's marks */
  int *last_read;  /* each node's last reader, once the graph is read */
} parser;

typedef struct pending_kernel {
  token at;
  token *results;
  int n_results, first, end;
} pending_kernel;

static int next(parser *p) { return lexer_next(&p->lx, &p->tok, p->d); }

static int error_at(parser *p, const token *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int error_at(parser *p, const token *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->d->msg, sizeof p->d->msg, fmt, ap);
  va_end(ap);
  p->d->line = t->line;
  p->d->col = t->col;
  return -1;
}

/* The message is already in d (from the graph API); give it a position. */
static int place(parser *p, const token *t) {
  p->d->line = t->line;
  p->d->col = t->col;
  return -1;
}

#define DESCRIBE(t) token_describe((t), (char[64]){0}, 64)

static bool is_punct(const token *t, char c) { return t->kind == TOK_PUNCT && t->punct == c; }

static bool is_word(const token *t, const char *w) {
  return t->kind == TOK_IDENT && strlen(w) == t->len && memcmp(t->text, w, t->len) == 0;
}

static int expect_punct(parser *p, char c, const char *where) {
  if (!is_punct(&p->tok, c))
    return error_at(p, &p->tok, "expected '%c' %s, got %s", c, where, DESCRIBE(&p->tok));
  return next(p);
}

/* The node a %name refers to; an error at the token if it is not defined yet. */
static int use_value(parser *p, int *node) {
  const name_slot *s = map_get(&p->names, p->tok.text, p->tok.len);
  if (!s)
    return error_at(p, &p->tok, "use of undefined value %%%.*s (values must be defined before use)",
                    (int)p->tok.len, p->tok.text);
  *node = s->node;
  return next(p);
}

/* ---- attributes ---- */

static int parse_int(parser *p, const char *what, int64_t *v) {
  if (p->tok.kind != TOK_NUMBER || !p->tok.int_syntax)
    return error_at(p, &p->tok, "%s must be an integer, got %s", what, DESCRIBE(&p->tok));
  if (!p->tok.int_ok) return error_at(p, &p->tok, "integer %s is out of range", DESCRIBE(&p->tok));
  *v = p->tok.ival;
  return next(p);
}

static int parse_list(parser *p, const gc_field *f, gc_ilist *l) {
  char what[96];
  snprintf(what, sizeof what, "each entry of '%s'", f->key);
  if (!is_punct(&p->tok, '['))
    return error_at(p, &p->tok, "attribute '%s' expects a list like [0,1], got %s", f->key,
                    DESCRIBE(&p->tok));
  if (next(p)) return -1;
  l->n = 0;
  if (is_punct(&p->tok, ']')) return next(p);
  for (;;) {
    if (l->n == GC_MAX_RANK)
      return error_at(p, &p->tok, "attribute '%s' has more than %d entries", f->key, GC_MAX_RANK);
    if (parse_int(p, what, &l->v[l->n++])) return -1;
    if (is_punct(&p->tok, ']')) return next(p);
    if (expect_punct(p, ',', "or ']' in the list")) return -1;
  }
}

static int parse_attr_value(parser *p, const gc_field *f, void *dst) {
  char what[96];
  snprintf(what, sizeof what, "attribute '%s'", f->key);
  const token *t = &p->tok;
  switch (f->kind) {
  case GC_FIELD_BOOL:
    if (!is_word(t, "true") && !is_word(t, "false"))
      return error_at(p, t, "%s expects true or false, got %s", what, DESCRIBE(t));
    *(bool *)dst = is_word(t, "true");
    return next(p);
  case GC_FIELD_INT: return parse_int(p, what, dst);
  case GC_FIELD_FLOAT:
    if (t->kind != TOK_NUMBER) return error_at(p, t, "%s expects a number, got %s", what, DESCRIBE(t));
    *(double *)dst = t->fval;
    return next(p);
  case GC_FIELD_STR:
    if (t->kind != TOK_STRING) return error_at(p, t, "%s expects a string, got %s", what, DESCRIBE(t));
    *(const char **)dst = t->str;
    return next(p);
  case GC_FIELD_LIST: return parse_list(p, f, dst);
  case GC_FIELD_PAIRS: break;   /* written as keys of their own (parse_pair) */
  }
  return error_at(p, t, "%s has an unknown kind", what);
}

/* What any statement may carry besides its op's attributes (docs/ir.md):
 * label, and plan's offset or into. */
typedef struct {
  const char *label, *into;
  bool planned;
  int64_t offset;
} stmt_extras;

/* "perm, label" — the keys an op accepts, for messages. */
static void list_keys(gc_op op, char *buf, size_t size) {
  int n;
  const gc_field *f = gc_schema_fields(gc_op_info_of(op)->schema, &n);
  size_t k = 0;
  buf[0] = 0;
  for (int i = gc_text_first_key(op, n); i < n && k < size; i++)
    if (f[i].kind != GC_FIELD_PAIRS) k += (size_t)snprintf(buf + k, size - k, "%s, ", f[i].key);
  if (k < size) snprintf(buf + k, size - k, "label, offset, into");
}

static int find_key(gc_op op, const token *t) {
  int n;
  const gc_field *f = gc_schema_fields(gc_op_info_of(op)->schema, &n);
  for (int i = gc_text_first_key(op, n); i < n; i++)
    if (f[i].kind != GC_FIELD_PAIRS && is_word(t, f[i].key)) return i;
  return -1;
}

/* The schema's PAIRS field (a call's own attributes), or NULL. */
static gc_pairs *pairs_of(gc_op op, gc_attrs *a) {
  int n;
  const gc_field *f = gc_schema_fields(gc_op_info_of(op)->schema, &n);
  for (int i = 0; i < n; i++)
    if (f[i].kind == GC_FIELD_PAIRS) return (gc_pairs *)((char *)a + f[i].offset);
  return NULL;
}

/* key '=' number, a key the schema does not name, into its PAIRS field. */
static int parse_pair(parser *p, gc_pairs *q, const token *key) {
  for (int j = 0; j < q->n; j++)
    if (strlen(q->key[j]) == key->len && memcmp(q->key[j], key->text, key->len) == 0)
      return error_at(p, key, "duplicate attribute '%.*s'", (int)key->len, key->text);
  if (q->n == GC_MAX_PAIRS) return error_at(p, key, "more than %d attributes of the callee's own", GC_MAX_PAIRS);
  if (next(p) || expect_punct(p, '=', "after the attribute name")) return -1;
  if (p->tok.kind != TOK_NUMBER)
    return error_at(p, &p->tok, "attribute '%.*s' expects a number, got %s", (int)key->len, key->text,
                    DESCRIBE(&p->tok));
  q->key[q->n] = gc_arena_strndup(p->scratch, key->text, key->len);
  q->value[q->n++] = p->tok.fval;
  return next(p);
}

/* key ('=' value)? for a field of the schema (i < n) or label/offset/into
 * (n, n+1, n+2); the key is the lookahead.  A BOOL field written bare,
 * `{elementwise}`, is true. */
static int parse_keyed(parser *p, const gc_field *f, int n, int i, const token *key, gc_attrs *a,
                       stmt_extras *x, unsigned *seen) {
  bool is_label = i == n, is_offset = i == n + 1, is_into = i == n + 2;
  if (*seen & (1u << i)) return error_at(p, key, "duplicate attribute '%.*s'", (int)key->len, key->text);
  if ((is_offset && (*seen & (1u << (n + 2)))) || (is_into && (*seen & (1u << (n + 1)))))
    return error_at(p, key, "a value has one place: offset= or into=, not both");
  *seen |= 1u << i;
  if (next(p)) return -1;
  if (i < n && f[i].kind == GC_FIELD_BOOL && (is_punct(&p->tok, ',') || is_punct(&p->tok, '}'))) {
    *(bool *)((char *)a + f[i].offset) = true;
    return 0;
  }
  if (expect_punct(p, '=', "after the attribute name")) return -1;
  if (is_label || is_into) {
    if (p->tok.kind != TOK_STRING)
      return error_at(p, &p->tok, "attribute '%s' expects a string, got %s", is_label ? "label" : "into",
                      DESCRIBE(&p->tok));
    *(is_label ? &x->label : &x->into) = p->tok.str;
    return next(p);
  }
  if (is_offset) {
    token at = p->tok;
    if (parse_int(p, "attribute 'offset'", &x->offset)) return -1;
    if (x->offset < 0) return error_at(p, &at, "attribute 'offset' must be >= 0, got %s", DESCRIBE(&at));
    x->planned = true;
    return 0;
  }
  return parse_attr_value(p, &f[i], (char *)a + f[i].offset);
}

/* '{' key '=' attr (',' key '=' attr)* '}', the '{' being the lookahead. */
static int parse_attrs(parser *p, gc_op op, gc_attrs *a, stmt_extras *x, unsigned *seen) {
  int n;
  const gc_field *f = gc_schema_fields(gc_op_info_of(op)->schema, &n);
  if (next(p)) return -1;
  if (is_punct(&p->tok, '}')) return next(p);
  for (;;) {
    token key = p->tok;
    bool is_label = is_word(&key, "label"), is_offset = is_word(&key, "offset"), is_into = is_word(&key, "into");
    int i = is_label ? n : is_offset ? n + 1 : is_into ? n + 2 : find_key(op, &key);
    if (key.kind != TOK_IDENT) return error_at(p, &key, "expected an attribute name, got %s", DESCRIBE(&key));
    gc_pairs *pairs = i < 0 ? pairs_of(op, a) : NULL;
    if (i < 0 && !pairs) {
      char keys[256];
      list_keys(op, keys, sizeof keys);
      return error_at(p, &key, "unknown attribute '%.*s' for %s (it takes: %s)", (int)key.len, key.text,
                      gc_op_name(op), keys);
    }
    if (pairs) {
      if (parse_pair(p, pairs, &key)) return -1;
    } else if (parse_keyed(p, f, n, i, &key, a, x, seen)) {
      return -1;
    }
    if (is_punct(&p->tok, '}')) return next(p);
    if (!is_punct(&p->tok, ','))
      return error_at(p, &p->tok, "expected ',' or '}' after attribute '%.*s', got %s", (int)key.len,
                      key.text, DESCRIBE(&p->tok));
    if (next(p)) return -1;
  }
}

static int check_required(parser *p, gc_op op, unsigned seen, const token *at) {
  int n;
  const gc_field *f = gc_schema_fields(gc_op_info_of(op)->schema, &n);
  for (int i = gc_text_first_key(op, n); i < n; i++)
    if (f[i].required && !(seen & (1u << i)))
      return error_at(p, at, "%s: missing required attribute '%s'", gc_op_name(op), f[i].key);
  return 0;
}

/* ---- types ---- */

static int parse_type(parser *p, gc_type *t) {
  token dt = p->tok;
  int d = dt.kind == TOK_IDENT ? gc_dtype_parse(dt.text, dt.len) : -1;
  if (dt.kind != TOK_IDENT)
    return error_at(p, &dt, "expected a type like f32[4,8], got %s", DESCRIBE(&dt));
  if (d < 0)
    return error_at(p, &dt, "unknown dtype '%.*s' (expected f32, f64, i32, i64 or bool)",
                    (int)(dt.len > 40 ? 40 : dt.len), dt.text);
  memset(t, 0, sizeof *t);
  t->dtype = (gc_dtype)d;
  if (next(p) || expect_punct(p, '[', "after the dtype")) return -1;
  while (!is_punct(&p->tok, ']')) {
    token dim = p->tok;
    if (t->rank == GC_MAX_RANK) return error_at(p, &dim, "rank exceeds %d", GC_MAX_RANK);
    if (parse_int(p, "a dimension", &t->dims[t->rank])) return -1;
    if (t->dims[t->rank++] < 0) return error_at(p, &dim, "negative dimension %s", DESCRIBE(&dim));
    if (is_punct(&p->tok, ']')) break;
    if (expect_punct(p, ',', "or ']' in the shape")) return -1;
  }
  int64_t numel;
  if (!gc_type_numel(t, &numel)) {
    char b[GC_TYPE_STR_MAX];
    return error_at(p, &dt, "type %s has too many elements", gc_type_str(t, b, sizeof b));
  }
  return next(p);
}

/* ---- statements ---- */

/* input "x" / param "w" / const 0.5 */
static int parse_positional(parser *p, gc_op op, gc_attrs *a) {
  if (op == GC_OP_CONST) {
    if (is_word(&p->tok, "true") || is_word(&p->tok, "false")) { /* for bool consts */
      a->value.value = is_word(&p->tok, "true");
      return next(p);
    }
    if (p->tok.kind != TOK_NUMBER)
      return error_at(p, &p->tok, "const needs a number (%%c = const 0.5 : f32[]), got %s",
                      DESCRIBE(&p->tok));
    a->value.value = p->tok.fval;
    return next(p);
  }
  if (p->tok.kind != TOK_STRING)
    return error_at(p, &p->tok, "%s needs its name as a string (%%x = %s \"x\" : f32[4]), got %s",
                    gc_op_name(op), gc_op_name(op), DESCRIBE(&p->tok));
  if (gc_graph_find_input(p->g, p->tok.str) >= 0 || gc_graph_find_param(p->g, p->tok.str) >= 0)
    return error_at(p, &p->tok, "the name \"%s\" is already used by another input or param", p->tok.str);
  a->name.name = p->tok.str;
  return next(p);
}

static int parse_operands(parser *p, int *in, int *n_in) {
  if (p->tok.kind != TOK_VALUE) return 0;
  for (;;) {
    if (*n_in == MAX_OPERANDS) return error_at(p, &p->tok, "more than %d operands", MAX_OPERANDS);
    if (use_value(p, &in[(*n_in)++])) return -1;
    if (!is_punct(&p->tok, ',')) return 0;
    if (next(p)) return -1;
    if (p->tok.kind != TOK_VALUE)
      return error_at(p, &p->tok, "expected an operand (%%name) after ',', got %s", DESCRIBE(&p->tok));
  }
}

/* call's @name(operands), the op name read. */
static int parse_call_head(parser *p, gc_attrs *a, int *in, int *n_in) {
  if (p->tok.kind != TOK_GLOBAL)
    return error_at(p, &p->tok, "call needs the callee's name (%%y = call @erff(%%x) {elementwise} : f32[4]), got %s",
                    DESCRIBE(&p->tok));
  a->call.callee = gc_arena_strndup(p->scratch, p->tok.text, p->tok.len);
  if (next(p) || expect_punct(p, '(', "after the callee's name")) return -1;
  if (is_punct(&p->tok, ')')) return next(p);
  if (p->tok.kind != TOK_VALUE)
    return error_at(p, &p->tok, "expected an operand (%%name) or ')', got %s", DESCRIBE(&p->tok));
  if (parse_operands(p, in, n_in)) return -1;
  return expect_punct(p, ')', "after the call's operands");
}

/* A const of an integer dtype holds an integer; a bool const is 0 or 1. */
static int check_const_value(parser *p, const token *at, double v, const gc_type *t) {
  bool ok = true;
  if (t->dtype == GC_BOOL) ok = v == 0 || v == 1;
  else if (t->dtype == GC_I32) ok = v == trunc(v) && v >= -2147483648.0 && v <= 2147483647.0;
  else if (t->dtype == GC_I64) ok = v == trunc(v) && v >= -0x1p63 && v < 0x1p63;
  if (ok) return 0;
  return error_at(p, at, "const of dtype %s cannot hold %s", gc_dtype_name(t->dtype), DESCRIBE(at));
}

/* %name = op operands? attrs? : type */
static int parse_node(parser *p) {
  token def = p->tok;
  const name_slot *old = map_get(&p->names, def.text, def.len);
  if (old)
    return error_at(p, &def, "redefinition of %%%.*s (first defined on line %d)", (int)def.len, def.text,
                    old->line);
  if (next(p) || expect_punct(p, '=', "after the value name")) return -1;
  token optok = p->tok;
  int op = optok.kind == TOK_IDENT ? gc_op_parse(optok.text, optok.len) : -1;
  if (optok.kind != TOK_IDENT) return error_at(p, &optok, "expected an op name, got %s", DESCRIBE(&optok));
  if (op < 0) return error_at(p, &optok, "unknown op '%.*s'", (int)(optok.len > 40 ? 40 : optok.len), optok.text);
  if (next(p)) return -1;

  gc_attrs a;
  gc_attrs_defaults((gc_op)op, &a);
  int in[MAX_OPERANDS], n_in = 0;
  token first = p->tok;
  if (op == GC_OP_CALL ? parse_call_head(p, &a, in, &n_in)
      : gc_text_positional((gc_op)op) ? parse_positional(p, (gc_op)op, &a) : parse_operands(p, in, &n_in))
    return -1;
  stmt_extras x = {0};
  unsigned seen = 0;
  if (is_punct(&p->tok, '{') && parse_attrs(p, (gc_op)op, &a, &x, &seen)) return -1;
  if (check_required(p, (gc_op)op, seen, &optok)) return -1;
  if (!is_punct(&p->tok, ':'))
    return error_at(p, &p->tok, "expected ':' and the result type, got %s", DESCRIBE(&p->tok));
  gc_type t;
  if (next(p) || parse_type(p, &t)) return -1;
  if (op == GC_OP_CONST && check_const_value(p, &first, a.value.value, &t)) return -1;

  int id = gc_graph_add(p->g, (gc_op)op, in, n_in, &a, &t, p->d);
  if (id < 0) return place(p, &optok);
  gc_node *nd = p->g->nodes[id];
  if (x.label) gc_graph_set_label(p->g, id, x.label);
  nd->line = def.line; /* for later diagnostics (gc_verify) */
  nd->col = def.col;
  nd->kernel = p->kernel;
  nd->planned = x.planned || x.into;
  nd->offset = x.offset;
  if (x.into) nd->into = gc_arena_strdup(p->g->arena, x.into);
  map_put(&p->names, def.text, def.len, id, def.line);
  return 0;
}

/* output "name" = %v  |  update "param" = %v */
static int parse_binding(parser *p) {
  bool update = is_word(&p->tok, "update");
  const char *kw = update ? "update" : "output";
  if (next(p)) return -1;
  token name = p->tok;
  if (name.kind != TOK_STRING)
    return error_at(p, &name, "expected the %s name as a string (%s \"x\" = %%v), got %s", kw, kw,
                    DESCRIBE(&name));
  if (next(p) || expect_punct(p, '=', update ? "after the update's param name" : "after the output name"))
    return -1;
  if (p->tok.kind != TOK_VALUE)
    return error_at(p, &p->tok, "expected a value (%%name) after '=', got %s", DESCRIBE(&p->tok));
  int node = -1;
  if (use_value(p, &node)) return -1;
  int rc = update ? gc_graph_add_update(p->g, name.str, node, p->d)
                  : gc_graph_add_output(p->g, name.str, node, p->d);
  return rc ? place(p, &name) : 0;
}

static int parse_kernel(parser *p);

static int parse_stmt(parser *p) {
  if (p->tok.kind == TOK_VALUE) return parse_node(p);
  if (is_word(&p->tok, "kernel") && !p->kernel) return parse_kernel(p);
  if (is_word(&p->tok, "output") || is_word(&p->tok, "update")) return parse_binding(p);
  return error_at(p, &p->tok, "expected a statement ('%%name = op ...', 'output' or 'update'), got %s",
                  DESCRIBE(&p->tok));
}

/* ---- kernels ---- */

/* '(' VALUE (',' VALUE)* ')' with the values' tokens kept (results are
 * defined later, inside the region) in *vals, grown as needed (the caller
 * frees it): a kernel has as many as the compiler gives it. */
static int parse_value_list(parser *p, token **vals, int *n, const char *what) {
  if (expect_punct(p, '(', what)) return -1;
  *n = 0;
  int cap = 0;
  while (!is_punct(&p->tok, ')')) {
    if (p->tok.kind != TOK_VALUE) return error_at(p, &p->tok, "expected a value (%%name) %s, got %s", what, DESCRIBE(&p->tok));
    if (*n == cap) {
      cap = cap ? 2 * cap : 16;
      if (!(*vals = realloc(*vals, sizeof **vals * (size_t)cap))) abort(); /* out of memory is not a user error */
    }
    (*vals)[(*n)++] = p->tok;
    if (next(p)) return -1;
    if (is_punct(&p->tok, ')')) break;
    if (expect_punct(p, ',', what)) return -1;
  }
  return next(p);
}

/* Two marks per node for check_header, grown with the graph: node i is
 * listed (needed) in the current check when listed[i] (needed[i]) equals
 * the check's stamp, so that a check costs the size of its kernel, not of
 * the graph. */
static void begin_marks(parser *p) {
  int n = p->g->n_nodes;
  if (n > p->cap_marks) {
    int cap = p->cap_marks ? p->cap_marks : 256;
    while (cap < n) cap *= 2;
    p->listed = realloc(p->listed, sizeof *p->listed * (size_t)cap);
    p->needed = realloc(p->needed, sizeof *p->needed * (size_t)cap);
    if (!p->listed || !p->needed) abort();
    for (int i = p->cap_marks; i < cap; i++) p->listed[i] = p->needed[i] = 0;
    p->cap_marks = cap;
  }
  p->stamp++;
}

/* The last node reading each node (n_nodes when bound to an output or
 * update, -1 when none), once the whole graph is read. */
static const int *last_readers(parser *p) {
  if (p->last_read) return p->last_read;
  const gc_graph *g = p->g;
  p->last_read = malloc(sizeof *p->last_read * ((size_t)g->n_nodes + 1));
  if (!p->last_read) abort();
  for (int i = 0; i < g->n_nodes; i++) p->last_read[i] = -1;
  for (int j = 0; j < g->n_nodes; j++)
    for (int k = 0; k < g->nodes[j]->n_in; k++) p->last_read[g->nodes[j]->in[k]] = j;
  for (int j = 0; j < g->n_outputs; j++) p->last_read[g->outputs[j].node] = g->n_nodes;
  for (int j = 0; j < g->n_updates; j++) p->last_read[g->updates[j].node] = g->n_nodes;
  return p->last_read;
}

/* The values a kernel's header lists must be exactly the ones it reads
 * from outside (stored values, not constants) and the ones read after it
 * or bound to an output or update: `first` and `end` bound its nodes.  The
 * first value in node order that is one and not the other is reported. */
static int check_header(parser *p, const token *at, const token *vals, int n, bool results, int first, int end) {
  const gc_graph *g = p->g;
  begin_marks(p);
  int stamp = p->stamp;
  for (int i = 0; i < n; i++) {
    const name_slot *v = map_get(&p->names, vals[i].text, vals[i].len);
    if (!v) return error_at(p, &vals[i], "%%%.*s is not defined", (int)vals[i].len, vals[i].text);
    if (results ? v->node < first || v->node >= end : v->node >= first)
      return error_at(p, &vals[i], "%%%.*s is not %s this kernel", (int)vals[i].len, vals[i].text,
                      results ? "defined in" : "defined before");
    p->listed[v->node] = stamp;
  }
  int wrong = -1;   /* the first node whose being needed and being listed differ */
  if (results) {
    const int *last = last_readers(p);
    for (int i = first; i < end && wrong < 0; i++)
      if ((last[i] >= end) != (p->listed[i] == stamp)) wrong = i;
  } else {
    for (int j = first; j < end; j++)
      for (int k = 0; k < g->nodes[j]->n_in; k++) {
        int i = g->nodes[j]->in[k];
        if (i < first && (!gc_op_is_source(g->nodes[i]->op) || gc_op_is_fed(g->nodes[i]->op))) p->needed[i] = stamp;
      }
    for (int j = first; j < end; j++)   /* needed but not listed */
      for (int k = 0; k < g->nodes[j]->n_in; k++) {
        int i = g->nodes[j]->in[k];
        if (i < first && p->needed[i] == stamp && p->listed[i] != stamp && (wrong < 0 || i < wrong)) wrong = i;
      }
    for (int v = 0; v < n; v++) {   /* listed but not needed */
      int i = map_get(&p->names, vals[v].text, vals[v].len)->node;
      if (p->needed[i] != stamp && (wrong < 0 || i < wrong)) wrong = i;
    }
  }
  if (wrong < 0) return 0;
  bool needed = results ? last_readers(p)[wrong] >= end : p->needed[wrong] == stamp;
  return error_at(p, at, "kernel %s: %%%d is %s", results ? "results" : "operands", wrong,
                  needed ? (results ? "read after the kernel or bound, but not listed" : "read inside it but not listed")
                         : (results ? "listed but neither read after the kernel nor bound" : "listed but not read inside it"));
}

/* kernel @NAME(operands) -> (results) { stmt* } */
static int parse_kernel(parser *p) {
  token at = p->tok;
  if (next(p)) return -1;
  if (p->tok.kind != TOK_GLOBAL)
    return error_at(p, &p->tok, "expected the kernel's name '@NAME' after 'kernel', got %s", DESCRIBE(&p->tok));
  if (next(p)) return -1;
  token *ops = NULL, *res = NULL;
  int n_ops = 0, n_res = 0, rc = 0;
  rc = parse_value_list(p, &ops, &n_ops, "in the kernel's operands");
  if (!rc && !is_punct(&p->tok, '>'))
    rc = error_at(p, &p->tok, "expected '->' and the kernel's results, got %s", DESCRIBE(&p->tok));
  if (!rc) rc = next(p);
  if (!rc) rc = parse_value_list(p, &res, &n_res, "in the kernel's results");
  if (!rc) rc = expect_punct(p, '{', "to open the kernel's body");
  int first = p->g->n_nodes;
  p->kernel = ++p->g->n_kernels;
  while (!rc && !is_punct(&p->tok, '}')) {
    if (p->tok.kind == TOK_EOF)
      rc = error_at(p, &p->tok, "expected '}' to close the kernel opened on line %d before end of file", at.line);
    else if (p->tok.kind != TOK_VALUE)
      rc = error_at(p, &p->tok, "a kernel holds only value statements ('%%name = op ...'), got %s", DESCRIBE(&p->tok));
    else
      rc = parse_node(p);
  }
  p->kernel = 0;
  token close = p->tok;
  if (!rc && p->g->n_nodes == first) rc = error_at(p, &at, "the kernel is empty");
  if (!rc) rc = next(p);
  /* results are checked once the whole graph is read (later statements
   * may read them); operands now */
  if (!rc) rc = check_header(p, &at, ops, n_ops, false, first, p->g->n_nodes);
  if (!rc) {
    if (p->n_pending == p->cap_pending) {
      p->cap_pending = p->cap_pending ? 2 * p->cap_pending : 16;
      p->pending = realloc(p->pending, sizeof *p->pending * (size_t)p->cap_pending);
      if (!p->pending) abort();
    }
    token *copy = gc_arena_alloc(p->scratch, sizeof *copy * (size_t)(n_res ? n_res : 1));
    if (n_res) memcpy(copy, res, sizeof *copy * (size_t)n_res);
    p->pending[p->n_pending++] = (pending_kernel){at, copy, n_res, first, p->g->n_nodes};
  }
  (void)close;
  free(ops);
  free(res);
  return rc;
}

/* 'graph' '@' NAME '{' stmt* '}' */
static int parse_file(parser *p) {
  if (next(p)) return -1;
  if (!is_word(&p->tok, "graph"))
    return error_at(p, &p->tok, "expected 'graph @NAME {' at the start of the file, got %s",
                    DESCRIBE(&p->tok));
  if (next(p)) return -1;
  if (p->tok.kind != TOK_GLOBAL)
    return error_at(p, &p->tok, "expected the graph's name '@NAME' after 'graph', got %s", DESCRIBE(&p->tok));
  char *name = gc_arena_strndup(p->scratch, p->tok.text, p->tok.len);
  token open = p->tok;
  p->g = gc_graph_new(name);
  if (next(p) || expect_punct(p, '{', "to open the graph's body")) return -1;
  while (!is_punct(&p->tok, '}')) {
    if (p->tok.kind == TOK_EOF)
      return error_at(p, &p->tok, "expected '}' to close graph @%s (opened on line %d) before end of file",
                      name, open.line);
    if (parse_stmt(p)) return -1;
  }
  if (next(p)) return -1;
  if (p->tok.kind != TOK_EOF)
    return error_at(p, &p->tok, "unexpected %s after the graph's closing '}'", DESCRIBE(&p->tok));
  for (int i = 0; i < p->n_pending; i++) {
    pending_kernel *k = &p->pending[i];
    if (check_header(p, &k->at, k->results, k->n_results, true, k->first, k->end)) return -1;
  }
  return 0;
}

gc_graph *gc_parse(const char *text, size_t len, gc_diag *d) {
  gc_diag local;
  parser p;
  memset(&p, 0, sizeof p);
  p.d = d ? d : &local;
  p.d->msg[0] = 0;
  p.d->line = p.d->col = 0;
  p.scratch = gc_arena_new();
  lexer_init(&p.lx, text, len, p.scratch);
  int rc = parse_file(&p);
  if (rc) {
    gc_graph_free(p.g);
    p.g = NULL;
  }
  free(p.names.slots);
  free(p.pending);
  free(p.listed);
  free(p.needed);
  free(p.last_read);
  gc_arena_free(p.scratch);
  return p.g;
}
