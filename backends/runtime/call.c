/* The user's functions behind `call @name`: the registry, plugins, name
 * resolution, signatures and running one call (backends/runtime/call.h). */
#define _GNU_SOURCE
#include "backends/runtime/call.h"

#include <dlfcn.h>
#include <ffi.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the registry and the plugins ----------------------------------------- */

typedef struct {
  char *name;
  void *fn;
  gc_call_vjp_fn *vjp;
  void *user_data;
} entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry *entries;
static int n_entries, cap_entries;
static void **plugins;
static int n_plugins, cap_plugins;

static entry *find_entry(const char *name) {
  for (int i = 0; i < n_entries; i++)
    if (strcmp(entries[i].name, name) == 0) return &entries[i];
  return NULL;
}

int gc_register_call(const char *name, void *fn, gc_call_vjp_fn *vjp, void *user_data) {
  pthread_mutex_lock(&lock);
  entry *e = find_entry(name);
  if (!e && n_entries == cap_entries) {
    int cap = cap_entries ? 2 * cap_entries : 16;
    entry *grown = realloc(entries, sizeof *grown * (size_t)cap);
    if (grown) entries = grown, cap_entries = cap;
  }
  char *copy = e ? e->name : strdup(name);
  int rc = -1;
  if (copy && (e || n_entries < cap_entries)) {
    if (!e) e = &entries[n_entries++];
    *e = (entry){copy, fn, vjp, user_data};
    rc = 0;
  } else if (!e) {
    free(copy);
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

void gc_call_registry_clear(void) {
  pthread_mutex_lock(&lock);
  for (int i = 0; i < n_entries; i++) free(entries[i].name);
  free(entries);
  entries = NULL;
  n_entries = cap_entries = 0;
  pthread_mutex_unlock(&lock);
}

int gc_call_load_plugin(const char *path, gc_diag *d) {
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) return gc_diag_set(d, "cannot load plugin %s: %s", path, dlerror());
  int (*init)(void) = (int (*)(void))dlsym(h, "gc_plugin_init");
  if (init && init() != 0) return dlclose(h), gc_diag_set(d, "plugin %s: gc_plugin_init failed", path);
  pthread_mutex_lock(&lock);
  if (n_plugins == cap_plugins) {
    int cap = cap_plugins ? 2 * cap_plugins : 4;
    void **grown = realloc(plugins, sizeof *grown * (size_t)cap);
    if (grown) plugins = grown, cap_plugins = cap;
  }
  int rc = n_plugins < cap_plugins ? 0 : -1;
  if (rc == 0) plugins[n_plugins++] = h;
  pthread_mutex_unlock(&lock);
  return rc ? dlclose(h), gc_diag_set(d, "out of memory") : 0;
}

/* The function `name` names, in resolution order; NULL when none. */
static void *resolve(const char *name, void **user_data) {
  void *fn = NULL;
  *user_data = NULL;
  pthread_mutex_lock(&lock);
  const entry *e = find_entry(name);
  if (e) fn = e->fn, *user_data = e->user_data;
  for (int i = 0; !fn && i < n_plugins; i++) fn = dlsym(plugins[i], name);
  pthread_mutex_unlock(&lock);
  if (!fn) fn = dlsym(RTLD_DEFAULT, name);
  return fn;
}

gc_call_vjp_fn *gc_call_vjp_of(const char *name, void **user_data) {
  pthread_mutex_lock(&lock);
  const entry *e = find_entry(name);
  gc_call_vjp_fn *vjp = e ? e->vjp : NULL;
  *user_data = e ? e->user_data : NULL;
  pthread_mutex_unlock(&lock);
  return vjp;
}

/* ---- the callee's side ------------------------------------------------------ */

int gc_call_fail(gc_call_args *args, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (args->message && args->message_size) vsnprintf(args->message, args->message_size, fmt, ap);
  va_end(ap);
  return 1;
}

double gc_call_attr(const gc_call_args *args, const char *key, double dflt) {
  for (int i = 0; args->attrs && i < args->attrs->n; i++)
    if (strcmp(args->attrs->key[i], key) == 0) return args->attrs->value[i];
  return dflt;
}

/* ---- call sites --------------------------------------------------------------- */

enum { MAX_ARGS = 16 };

struct gc_call_site {
  const gc_node *node;
  int id;
  const gc_type *in_type[MAX_ARGS];
  void *fn, *user_data;
  /* elementwise */
  int n_args;                     /* operands, then attributes */
  gc_dtype ret, arg[MAX_ARGS];
  ffi_type *ffi_arg_type[MAX_ARGS];
  ffi_cif cif;
  bool f32_of_f32;                /* float f(float): called directly */
};

static int site_error(const gc_node *n, gc_diag *d, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int site_error(const gc_node *n, gc_diag *d, const char *fmt, ...) {
  char msg[900];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  gc_diag_set(d, "call @%s: %s", n->attrs.call.callee, msg);
  if (d) d->line = n->line, d->col = n->col;
  return -1;
}

static ffi_type *ffi_of(gc_dtype dt) {
  switch (dt) {
  case GC_F32: return &ffi_type_float;
  case GC_F64: return &ffi_type_double;
  case GC_I32: return &ffi_type_sint32;
  case GC_I64: return &ffi_type_sint64;
  default: return NULL;
  }
}

/* One C type of a signature at *s: f32 f64 i32 i64. */
static int sig_type(const char **s, gc_dtype *dt) {
  while (**s == ' ') (*s)++;
  int n = 0;
  while ((*s)[n] >= 'a' && (*s)[n] <= 'z') n++;
  while ((*s)[n] >= '0' && (*s)[n] <= '9') n++;
  int t = gc_dtype_parse(*s, (size_t)n);
  if (t < 0 || !ffi_of((gc_dtype)t)) return -1;
  *dt = (gc_dtype)t;
  *s += n;
  while (**s == ' ') (*s)++;
  return 0;
}

/* "f32(f32,i32)" into the site's ret and args. */
static int parse_signature(gc_call_site *s, const char *sig) {
  const char *p = sig;
  if (sig_type(&p, &s->ret) || *p++ != '(') return -1;
  s->n_args = 0;
  while (*p == ' ') p++;
  if (*p == ')') return p[1] ? -1 : 0;
  for (;;) {
    if (s->n_args == MAX_ARGS || sig_type(&p, &s->arg[s->n_args++])) return -1;
    if (*p == ')') return p[1] ? -1 : 0;
    if (*p++ != ',') return -1;
  }
}

static int prepare_elementwise(gc_call_site *s, gc_diag *d) {
  const gc_node *n = s->node;
  const char *sig = n->attrs.call.signature;
  const gc_pairs *extra = &n->attrs.call.extra;
  if (sig) {
    if (parse_signature(s, sig))
      return site_error(n, d, "cannot read signature \"%s\" (expected a form like \"f32(f32,i32)\"; types f32 f64 i32 i64)",
                        sig);
  } else {
    s->ret = n->type.dtype;
    s->n_args = n->n_in + extra->n;
    if (s->n_args > MAX_ARGS) return site_error(n, d, "more than %d arguments", MAX_ARGS);
    for (int i = 0; i < n->n_in; i++) s->arg[i] = s->in_type[i]->dtype;
    for (int i = 0; i < extra->n; i++) s->arg[n->n_in + i] = GC_F64;
    for (int i = 0; i < s->n_args; i++)
      if (!ffi_of(s->arg[i]) || !ffi_of(s->ret))
        return site_error(n, d, "no C type for dtype %s: write a signature=\"...\" attribute",
                          gc_dtype_name(ffi_of(s->ret) ? s->arg[i] : s->ret));
  }
  if (s->n_args != n->n_in + extra->n)
    return site_error(n, d, "signature %s takes %d argument%s, but the call passes %d operand%s and %d attribute%s",
                      sig ? sig : "(from the dtypes)", s->n_args, s->n_args == 1 ? "" : "s", n->n_in,
                      n->n_in == 1 ? "" : "s", extra->n, extra->n == 1 ? "" : "s");
  for (int i = 0; i < n->n_in; i++)
    if (s->in_type[i]->dtype == GC_BOOL) return site_error(n, d, "operand %d is bool: no C type for it", i);
  if (n->type.dtype == GC_BOOL) return site_error(n, d, "the result is bool: no C type for it");
  for (int i = 0; i < s->n_args; i++) s->ffi_arg_type[i] = ffi_of(s->arg[i]);
  if (ffi_prep_cif(&s->cif, FFI_DEFAULT_ABI, (unsigned)s->n_args, ffi_of(s->ret), s->ffi_arg_type) != FFI_OK)
    return site_error(n, d, "libffi cannot prepare signature %s", sig ? sig : "(from the dtypes)");
  s->f32_of_f32 = s->n_args == 1 && n->n_in == 1 && s->ret == GC_F32 && s->arg[0] == GC_F32 &&
                  s->in_type[0]->dtype == GC_F32 && n->type.dtype == GC_F32;
  return 0;
}

gc_call_site *gc_call_site_new(const gc_node *n, int id, const gc_type *const *in_types, gc_diag *d) {
  gc_call_site *s = calloc(1, sizeof *s);
  if (!s) return gc_diag_set(d, "out of memory"), NULL;
  s->node = n;
  s->id = id;
  if (n->n_in > MAX_ARGS) return free(s), site_error(n, d, "more than %d operands", MAX_ARGS), NULL;
  for (int i = 0; i < n->n_in; i++) s->in_type[i] = in_types[i];
  s->fn = resolve(n->attrs.call.callee, &s->user_data);
  if (!s->fn) {
    site_error(n, d, "no function of that name (none registered, in a plugin, or in the program and its libraries)");
    return free(s), NULL;
  }
  if (n->attrs.call.elementwise && prepare_elementwise(s, d)) return free(s), NULL;
  if (!n->attrs.call.elementwise && n->attrs.call.signature)
    return site_error(n, d, "a signature is for {elementwise} calls (a buffer call takes gc_call_args *)"), free(s), NULL;
  return s;
}

void gc_call_site_free(gc_call_site *s) { free(s); }

int gc_call_check_graph(const gc_graph *g, gc_diag *d) {
  for (int i = 0; i < g->n_nodes; i++) {
    if (g->nodes[i]->op != GC_OP_CALL) continue;
    const gc_node *n = g->nodes[i];
    const gc_type *in_types[MAX_ARGS];
    for (int k = 0; k < n->n_in && k < MAX_ARGS; k++) in_types[k] = &g->nodes[n->in[k]]->type;
    gc_call_site *s = gc_call_site_new(n, i, in_types, d);
    if (!s) return -1;
    gc_call_site_free(s);
  }
  return 0;
}

/* ---- running -------------------------------------------------------------------- */

typedef union {
  float f;
  double d;
  int32_t i;
  int64_t l;
  ffi_arg r;   /* an integer result of libffi is widened to this */
} scalar;

/* Element k of a buffer of dtype src as dtype dst (C conversions). */
static void load(gc_dtype src, const void *p, int64_t k, gc_dtype dst, scalar *v) {
  double x = 0;
  int64_t l = 0;
  bool is_int = src == GC_I32 || src == GC_I64 || src == GC_BOOL;
  switch (src) {
  case GC_F32: x = ((const float *)p)[k]; break;
  case GC_F64: x = ((const double *)p)[k]; break;
  case GC_I32: l = ((const int32_t *)p)[k]; break;
  case GC_I64: l = ((const int64_t *)p)[k]; break;
  case GC_BOOL: l = ((const bool *)p)[k]; break;
  default: break;
  }
  switch (dst) {
  case GC_F32: v->f = is_int ? (float)l : (float)x; break;
  case GC_F64: v->d = is_int ? (double)l : x; break;
  case GC_I32: v->i = is_int ? (int32_t)l : (int32_t)x; break;
  case GC_I64: v->l = is_int ? l : (int64_t)x; break;
  default: break;
  }
}

static void set_number(double x, gc_dtype dst, scalar *v) {
  switch (dst) {
  case GC_F32: v->f = (float)x; break;
  case GC_F64: v->d = x; break;
  case GC_I32: v->i = (int32_t)x; break;
  case GC_I64: v->l = (int64_t)x; break;
  default: break;
  }
}

/* The callee's result (libffi's storage) into element k of out. */
static void store(gc_dtype src, const scalar *r, void *out, int64_t k, gc_dtype dst) {
  bool is_int = src == GC_I32 || src == GC_I64;
  int64_t l = src == GC_I32 ? (int32_t)r->r : src == GC_I64 ? (int64_t)r->r : 0;
  double x = src == GC_F32 ? r->f : src == GC_F64 ? r->d : 0;
  switch (dst) {
  case GC_F32: ((float *)out)[k] = is_int ? (float)l : src == GC_F32 ? r->f : (float)x; break;
  case GC_F64: ((double *)out)[k] = is_int ? (double)l : x; break;
  case GC_I32: ((int32_t *)out)[k] = is_int ? (int32_t)l : (int32_t)x; break;
  case GC_I64: ((int64_t *)out)[k] = is_int ? l : (int64_t)x; break;
  default: break;
  }
}

static void run_elementwise(const gc_call_site *s, const void *const *in, void *out) {
  const gc_node *n = s->node;
  int64_t numel = gc_type_numel_unchecked(&n->type);
  if (s->f32_of_f32) {   /* a known signature: no libffi */
    float (*f)(float) = (float (*)(float))s->fn;
    const float *x = in[0];
    float *y = out;
    for (int64_t k = 0; k < numel; k++) y[k] = f(x[k]);
    return;
  }
  scalar args[MAX_ARGS], ret;
  void *argp[MAX_ARGS];
  for (int j = 0; j < s->n_args; j++) argp[j] = &args[j];
  for (int j = n->n_in; j < s->n_args; j++) set_number(n->attrs.call.extra.value[j - n->n_in], s->arg[j], &args[j]);
  for (int64_t k = 0; k < numel; k++) {
    for (int j = 0; j < n->n_in; j++) load(s->in_type[j]->dtype, in[j], k, s->arg[j], &args[j]);
    memset(&ret, 0, sizeof ret);
    ffi_call((ffi_cif *)&s->cif, FFI_FN(s->fn), &ret, argp);
    store(s->ret, &ret, out, k, n->type.dtype);
  }
}

int gc_call_site_run(const gc_call_site *s, const void *const *in, void *out, gc_diag *d) {
  const gc_node *n = s->node;
  if (n->attrs.call.elementwise) {
    run_elementwise(s, in, out);
    return 0;
  }
  gc_call_buffer ins[MAX_ARGS], res;
  for (int i = 0; i < n->n_in; i++) {
    const gc_type *t = s->in_type[i];
    ins[i] = (gc_call_buffer){(void *)in[i], t->dtype, t->rank, t->dims, gc_type_numel_unchecked(t)};
  }
  res = (gc_call_buffer){out, n->type.dtype, n->type.rank, n->type.dims, gc_type_numel_unchecked(&n->type)};
  char msg[512] = "";
  gc_call_args a = {n->attrs.call.callee, n->n_in, ins, &res, &n->attrs.call.extra, s->user_data, msg, sizeof msg};
  int rc = ((gc_call_fn *)s->fn)(&a);
  if (rc == 0) return 0;
  if (n->label)
    return gc_diag_set(d, "call @%s %%%d (\"%s\") failed (%d): %s", n->attrs.call.callee, s->id, n->label, rc,
                       msg[0] ? msg : "no message");
  return gc_diag_set(d, "call @%s %%%d failed (%d): %s", n->attrs.call.callee, s->id, rc, msg[0] ? msg : "no message");
}
