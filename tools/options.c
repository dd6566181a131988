/* The option table behind every tool's flags (see options.h). */
#include "tools/options.h"
#include "backends/backend.h"
#include "backends/runtime/call.h"
#include "tools/cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_FLAGS = 64, LONG_ONLY = 256, HELP_COLUMN = 24 };

/* A table with its includes expanded: each flag and its value's place. */
typedef struct {
  const gc_opt *opt[MAX_FLAGS];
  size_t offset[MAX_FLAGS];
  int n;
} flat_table;

static const gc_opt help_opt = {"help", 'h', GC_OPT_FLAG, 0, NULL, "show this help and exit", NULL};

static int flatten(const gc_opt *t, size_t base, flat_table *f) {
  for (; t->kind != GC_OPT_END; t++) {
    if (t->kind == GC_OPT_INCLUDE && flatten(t->include, base + t->offset, f)) return -1;
    if (t->kind == GC_OPT_INCLUDE) continue;
    if (f->n == MAX_FLAGS) return -1;
    f->opt[f->n] = t;
    f->offset[f->n++] = base + t->offset;
  }
  return 0;
}

/* What a value of each kind is, for messages. */
static const char *kind_text(gc_opt_kind k) {
  switch (k) {
  case GC_OPT_FILE: return "a file name";
  case GC_OPT_INT_POS: case GC_OPT_LONG_POS: return "a positive integer";
  case GC_OPT_INT_NONNEG: case GC_OPT_LONG_NONNEG: return "an integer >= 0";
  case GC_OPT_REAL_POS: return "a positive number";
  case GC_OPT_REAL_NONNEG: return "a number >= 0";
  case GC_OPT_UNIT: return "a number in (0, 1]";
  case GC_OPT_SEED: case GC_OPT_SEED_OPT: return "an integer seed";
  case GC_OPT_BACKEND: return "a backend name";
  case GC_OPT_PLUGIN: return "a shared library";
  default: return "a value";
  }
}

static int parse_integer(const char *s, long long lo, long long *v) {
  char *end;
  errno = 0;
  *v = strtoll(s, &end, 10);
  return !*s || isspace((unsigned char)*s) || *end || errno || *v < lo || *v > 1000000000 ? -1 : 0;
}

static int parse_real(const char *s, gc_opt_kind k, double *v) {
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  if (!*s || isspace((unsigned char)*s) || *end || errno || !isfinite(*v) || *v < 0) return -1;
  if (*v == 0 && k != GC_OPT_REAL_NONNEG) return -1;
  return k == GC_OPT_UNIT && *v > 1 ? -1 : 0;
}

static int parse_seed(const char *s, uint64_t *v) {
  char *end;
  errno = 0;
  unsigned long long x = strtoull(s, &end, 10);
  if (!isdigit((unsigned char)*s) || *end || errno) return -1;
  *v = x;
  return 0;
}

/* Stores `value` of flag o at slot; 0, or GC_EXIT_USAGE after complaining
 * about `typed` (the flag as the user wrote it). */
static int store(const char *prog, const gc_opt *o, void *slot, const char *typed, const char *value) {
  long long i;
  double r;
  gc_diag d = {0};
  int bad = 0;
  switch (o->kind) {
  case GC_OPT_FLAG: *(bool *)slot = true; break;
  case GC_OPT_STRING: *(const char **)slot = value; break;
  case GC_OPT_FILE:
    if (!(bad = !*value)) *(const char **)slot = value;
    break;
  case GC_OPT_INT_POS: case GC_OPT_INT_NONNEG:
    if (!(bad = parse_integer(value, o->kind == GC_OPT_INT_POS, &i))) *(int *)slot = (int)i;
    break;
  case GC_OPT_LONG_POS: case GC_OPT_LONG_NONNEG:
    if (!(bad = parse_integer(value, o->kind == GC_OPT_LONG_POS, &i))) *(long *)slot = (long)i;
    break;
  case GC_OPT_REAL_POS: case GC_OPT_REAL_NONNEG: case GC_OPT_UNIT:
    if (!(bad = parse_real(value, o->kind, &r))) *(double *)slot = r;
    break;
  case GC_OPT_SEED: bad = parse_seed(value, (uint64_t *)slot); break;
  case GC_OPT_SEED_OPT:
    bad = parse_seed(value, &((gc_opt_seed *)slot)->value);
    ((gc_opt_seed *)slot)->given = !bad;
    break;
  case GC_OPT_BACKEND:
    if (!gc_backend_find(value, &d)) return gc_cli_usage_error(prog, "%s", d.msg);
    *(const char **)slot = value;
    break;
  case GC_OPT_PLUGIN:
    if (!*value) bad = 1;
    else if (gc_call_load_plugin(value, &d)) return fprintf(stderr, "%s: %s\n", prog, d.msg), GC_EXIT_USAGE;
    break;
  default: return gc_cli_usage_error(prog, "%s: not a flag", typed);
  }
  return bad ? gc_cli_usage_error(prog, "%s takes %s, not '%s'", typed, kind_text(o->kind), value) : 0;
}

/* The flag the failed getopt_long call was about: by its value (optopt),
 * named as the user wrote it ("--out" or "-o") into typed. */
static int failed_flag(const flat_table *f, char **argv, char *typed, size_t size) {
  const char *a = argv[optind - 1];
  for (int k = 0; k < f->n; k++)
    if (optopt && optopt == (f->opt[k]->short_name ? f->opt[k]->short_name : LONG_ONLY + k)) {
      if (strncmp(a, "--", 2) == 0) snprintf(typed, size, "--%s", f->opt[k]->name);
      else snprintf(typed, size, "-%c", optopt);
      return k;
    }
  return -1;
}

/* "unknown option" or, for a prefix of several long names, "ambiguous". */
static int unknown_flag(const char *prog, const flat_table *f, const char *a) {
  if (optopt || strncmp(a, "--", 2) != 0) return gc_cli_usage_error(prog, "unknown option '-%c'", optopt ? optopt : '?');
  size_t len = strcspn(a + 2, "="), used = 0;
  char names[512] = "";
  int matches = 0;
  for (int k = 0; k < f->n; k++)
    if (strncmp(f->opt[k]->name, a + 2, len) == 0 && used + strlen(f->opt[k]->name) + 8 < sizeof names)
      used += (size_t)snprintf(names + used, sizeof names - used, "%s--%s", matches++ ? ", " : "", f->opt[k]->name);
  if (matches > 1) return gc_cli_usage_error(prog, "option '--%.*s' is ambiguous: %s", (int)len, a + 2, names);
  return gc_cli_usage_error(prog, "unknown option '--%.*s'", (int)len, a + 2);
}

static void add_arg(gc_opt_args *args, const char *a) {
  if (args->n < GC_OPT_MAX_ARGS) args->args[args->n] = a;
  args->n++;
}

/* getopt_long's view of the table: long options and the short-option string. */
static void getopt_tables(const flat_table *f, struct option *longs, char *shorts) {
  char *s = shorts;
  *s++ = '-', *s++ = ':';   /* arguments in order; ':' for a missing value */
  for (int k = 0; k < f->n; k++) {
    const gc_opt *o = f->opt[k];
    int val = o->short_name ? o->short_name : LONG_ONLY + k;
    longs[k] = (struct option){o->name, o->kind == GC_OPT_FLAG ? no_argument : required_argument, NULL, val};
    if (o->short_name) {
      *s++ = (char)o->short_name;
      if (o->kind != GC_OPT_FLAG) *s++ = ':';
    }
  }
  longs[f->n] = (struct option){0};
  *s = 0;
}

int gc_opt_parse(const gc_opt_spec *spec, void *opts, int argc, char **argv, gc_opt_args *args) {
  flat_table f = {.n = 0};
  memset(args, 0, sizeof *args);
  if (flatten(spec->table, 0, &f) || f.n == MAX_FLAGS) return gc_cli_usage_error(spec->prog, "too many flags");
  f.opt[f.n++] = &help_opt;
  struct option longs[MAX_FLAGS + 1];
  char shorts[3 * MAX_FLAGS + 3], typed[128];
  getopt_tables(&f, longs, shorts);
  opterr = 0;
  optind = 0;   /* glibc: start afresh */
  for (;;) {
    int index = -1, c = getopt_long(argc, argv, shorts, longs, &index);
    if (c == -1) break;
    if (c == 1) {
      add_arg(args, optarg);
      continue;
    }
    if (c == '?' || c == ':') {
      int k = failed_flag(&f, argv, typed, sizeof typed);
      if (k < 0) return unknown_flag(spec->prog, &f, argv[optind - 1]);
      if (c == ':') return gc_cli_usage_error(spec->prog, "%s needs %s", typed, kind_text(f.opt[k]->kind));
      return gc_cli_usage_error(spec->prog, "%s takes no value", typed);
    }
    int k = index;
    for (int j = 0; k < 0 && j < f.n; j++)
      if (f.opt[j]->short_name == c) k = j;
    if (k < 0) return unknown_flag(spec->prog, &f, argv[optind - 1]);
    if (f.opt[k] == &help_opt) {
      gc_opt_print_help(spec);
      return 1;
    }
    if (index >= 0) snprintf(typed, sizeof typed, "--%s", f.opt[k]->name);
    else snprintf(typed, sizeof typed, "-%c", c);
    int rc = store(spec->prog, f.opt[k], (char *)opts + f.offset[k], typed, optarg);
    if (rc) return rc;
  }
  for (int i = optind; i < argc; i++) add_arg(args, argv[i]);
  return 0;
}

/* ---- --help --------------------------------------------------------------- */

/* "the backend: interp (default), llvm" */
static void backend_help(char *buf, size_t size) {
  int n;
  const gc_backend *const *all = gc_backends(&n);
  size_t len = (size_t)snprintf(buf, size, "where to run:");
  for (int i = 0; i < n && len < size; i++)
    len += (size_t)snprintf(buf + len, size - len, "%s %s%s", i ? "," : "", all[i]->name,
                            strcmp(all[i]->name, gc_default_backend()) == 0 ? " (default)" : "");
}

static void print_flag(const gc_opt *o) {
  char left[128], help[256];
  int len = o->short_name ? snprintf(left, sizeof left, "  -%c, --%s", o->short_name, o->name)
                          : snprintf(left, sizeof left, "  --%s", o->name);
  if (o->value_name) len += snprintf(left + len, sizeof left - (size_t)len, " %s", o->value_name);
  const char *text = o->help;
  if (o->kind == GC_OPT_BACKEND && !text) backend_help(help, sizeof help), text = help;
  if (len >= HELP_COLUMN - 1) printf("%s\n%*s", left, HELP_COLUMN, "");
  else printf("%-*s", HELP_COLUMN, left);
  for (const char *p = text ? text : ""; *p;) {
    size_t n = strcspn(p, "\n");
    printf("%.*s\n", (int)n, p);
    p += n;
    if (*p == '\n' && *++p) printf("%*s", HELP_COLUMN, "");
  }
  if (!text || !*text) printf("\n");
}

/* The flags of table t (not its includes), then each include's section. */
static void print_table(const gc_opt *t, bool with_help) {
  for (const gc_opt *o = t; o->kind != GC_OPT_END; o++)
    if (o->kind != GC_OPT_INCLUDE) print_flag(o);
  if (with_help) print_flag(&help_opt);
  for (const gc_opt *o = t; o->kind != GC_OPT_END; o++)
    if (o->kind == GC_OPT_INCLUDE) {
      printf("\n%s:\n", o->name);
      print_table(o->include, false);
    }
}

void gc_opt_print_help(const gc_opt_spec *spec) {
  printf("usage: %s\n", spec->usage);
  if (spec->about) printf("\n%s", spec->about);
  printf("\noptions:\n");
  print_table(spec->table, true);
  if (spec->epilogue) printf("\n%s", spec->epilogue);
}
