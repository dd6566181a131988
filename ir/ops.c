/* The op table and attribute schemas, generated from ops.def and attrs.def. */
#include "ir.h"

#include <string.h>

/* The `kind`, `type`, `cost` and `view` columns, spelled as ops.def writes them. */
#define KIND_source GC_KIND_SOURCE
#define KIND_elementwise GC_KIND_ELEMENTWISE
#define KIND_layout GC_KIND_LAYOUT
#define KIND_reduce GC_KIND_REDUCE
#define KIND_contract GC_KIND_CONTRACT
#define KIND_index GC_KIND_INDEX
#define KIND_collective GC_KIND_COLLECTIVE
#define KIND_call GC_KIND_CALL
#define TYPE_declared true
#define TYPE_inferred false
#define COST_cheap GC_COST_CHEAP
#define COST_transcendental GC_COST_TRANSCENDENTAL
#define COST_contract GC_COST_CONTRACT
#define COST_call GC_COST_CALL
#define VIEW_view true
#define VIEW_no false

static const gc_op_info op_table[GC_OP_COUNT] = {
#define GC_OPDEF(ID, name, arity, attrs, rule, kind, type, cost, view) \
  {#name, arity, GC_SCHEMA_##attrs, KIND_##kind, TYPE_##type, COST_##cost, VIEW_##view},
#include "ops.def"
#undef GC_OPDEF
};

static const char *const kind_names[GC_KIND_COUNT] = {
    "source", "elementwise", "layout", "reduce", "contract", "index", "collective", "call",
};

const gc_op_info *gc_op_info_of(gc_op op) { return &op_table[op]; }
const char *gc_op_name(gc_op op) { return (unsigned)op < GC_OP_COUNT ? op_table[op].name : "?"; }
gc_kind gc_op_kind(gc_op op) { return op_table[op].kind; }
const char *gc_kind_name(gc_kind k) { return (unsigned)k < GC_KIND_COUNT ? kind_names[k] : "?"; }
bool gc_op_declares_type(gc_op op) { return op_table[op].declares_type; }

bool gc_op_is_fed(gc_op op) {
  return op_table[op].kind == GC_KIND_SOURCE && op_table[op].schema == GC_SCHEMA_name;
}

bool gc_op_is_generated(gc_op op) { return op_table[op].kind == GC_KIND_SOURCE && !gc_op_is_fed(op); }
gc_cost gc_op_cost(gc_op op) { return op_table[op].cost; }
bool gc_op_is_view(gc_op op) { return op_table[op].view; }

int gc_op_parse(const char *s, size_t len) {
  for (int i = 0; i < GC_OP_COUNT; i++)
    if (strlen(op_table[i].name) == len && memcmp(op_table[i].name, s, len) == 0) return i;
  return -1;
}

/* One descriptor array per schema, ending with a NULL key. */
#define MAKE_FIELD_(S, KIND, field, req, dflt) \
  {#field, GC_FIELD_##KIND, offsetof(gc_attrs_##S, field), req, dflt},
#define F_none(K, f, r, d) MAKE_FIELD_(none, K, f, r, d)
#define F_name(K, f, r, d) MAKE_FIELD_(name, K, f, r, d)
#define F_value(K, f, r, d) MAKE_FIELD_(value, K, f, r, d)
#define F_axis(K, f, r, d) MAKE_FIELD_(axis, K, f, r, d)
#define F_seed(K, f, r, d) MAKE_FIELD_(seed, K, f, r, d)
#define F_perm(K, f, r, d) MAKE_FIELD_(perm, K, f, r, d)
#define F_slice(K, f, r, d) MAKE_FIELD_(slice, K, f, r, d)
#define F_pad(K, f, r, d) MAKE_FIELD_(pad, K, f, r, d)
#define F_reduce(K, f, r, d) MAKE_FIELD_(reduce, K, f, r, d)
#define F_argmax(K, f, r, d) MAKE_FIELD_(argmax, K, f, r, d)
#define F_dot(K, f, r, d) MAKE_FIELD_(dot, K, f, r, d)
#define F_collective(K, f, r, d) MAKE_FIELD_(collective, K, f, r, d)
#define F_call(K, f, r, d) MAKE_FIELD_(call, K, f, r, d)
#define SCHEMA_ARRAY_(s) static const gc_field fields_##s[] = {GC_FIELDS_##s(F_##s){NULL, 0, 0, 0, 0}};
GC_SCHEMAS(SCHEMA_ARRAY_)

static const gc_field *const schema_fields[GC_SCHEMA_COUNT] = {
#define SCHEMA_PTR_(s) fields_##s,
    GC_SCHEMAS(SCHEMA_PTR_)
#undef SCHEMA_PTR_
};

const gc_field *gc_schema_fields(gc_schema s, int *n) {
  const gc_field *f = schema_fields[s];
  int k = 0;
  while (f[k].key) k++;
  *n = k;
  return f;
}

void gc_attrs_defaults(gc_op op, gc_attrs *a) {
  int n;
  const gc_field *f = gc_schema_fields(op_table[op].schema, &n);
  memset(a, 0, sizeof *a);
  for (int i = 0; i < n; i++) {
    void *p = (char *)a + f[i].offset;
    switch (f[i].kind) {
    case GC_FIELD_BOOL: *(bool *)p = f[i].dflt != 0; break;
    case GC_FIELD_INT: *(int64_t *)p = (int64_t)f[i].dflt; break;
    case GC_FIELD_FLOAT: *(double *)p = f[i].dflt; break;
    case GC_FIELD_STR: *(const char **)p = NULL; break;
    case GC_FIELD_LIST: ((gc_ilist *)p)->n = 0; break;
    case GC_FIELD_PAIRS: ((gc_pairs *)p)->n = 0; break;
    }
  }
}
