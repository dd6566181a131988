/* tools/options.h — the command-line flags of every tool, from one table.
 *
 * A tool describes its flags as a table of gc_opt (long name, short name,
 * kind, where the value goes, help) and calls gc_opt_parse, which
 *   - builds the `struct option` array and the short-option string for
 *     getopt_long from the table, so "--flag value", "--flag=value" and
 *     "-o value" all work, options and arguments in any order, "--" ending
 *     the options;
 *   - parses and checks each value by its kind (a positive integer, a seed,
 *     a backend name, ...) and stores it at `offset` in the tool's options
 *     struct;
 *   - answers -h/--help with help generated from the same table (the usage
 *     lines, then each flag with its help);
 *   - reports an unknown flag, a missing or bad value in one line plus
 *     "Try 'PROG --help'" (gc_cli_usage_error), exit status 2.
 *
 * A table may include another (GC_OPT_INCLUDE): the model flags gc-opt and
 * gc-run share are one table in model_cli.c.  --backend and --threads are
 * one entry each (GC_OPT_BACKEND_ENTRY, GC_OPT_THREADS_ENTRY), and a
 * backend name is checked in one place, with gc_backend_find. */
#ifndef GC_TOOLS_OPTIONS_H
#define GC_TOOLS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
  GC_OPT_END,          /* ends a table */
  GC_OPT_FLAG,         /* no value; bool, set to true */
  GC_OPT_STRING,       /* const char *, any text */
  GC_OPT_FILE,         /* const char *, a path */
  GC_OPT_INT_POS,      /* int in [1, 1e9] */
  GC_OPT_INT_NONNEG,   /* int in [0, 1e9] */
  GC_OPT_LONG_POS,     /* long in [1, 1e9] */
  GC_OPT_LONG_NONNEG,  /* long in [0, 1e9] */
  GC_OPT_REAL_POS,     /* double, finite, > 0 */
  GC_OPT_REAL_NONNEG,  /* double, finite, >= 0 */
  GC_OPT_UNIT,         /* double in (0, 1] */
  GC_OPT_SEED,         /* uint64_t, a decimal integer */
  GC_OPT_SEED_OPT,     /* gc_opt_seed: a seed and whether it was given */
  GC_OPT_BACKEND,      /* const char *, a backend gc_backend_find knows */
  GC_OPT_PLUGIN,       /* no field: each one given is loaded at once
                        * (gc_call_load_plugin), in order; repeatable */
  GC_OPT_INCLUDE,      /* the flags of table `include`, stored at offset */
} gc_opt_kind;

/* A seed that may be absent (--init SEED, --random-inputs SEED). */
typedef struct {
  bool given;
  uint64_t value;
} gc_opt_seed;

typedef struct gc_opt {
  const char *name;               /* the long name, without "--"; for an
                                   * include: the heading of its section */
  int short_name;                 /* 'o' for -o, or 0 */
  gc_opt_kind kind;
  size_t offset;                  /* where the value goes in the options struct */
  const char *value_name;         /* in --help: "N", "FILE" ... */
  const char *help;               /* lines separated by '\n' */
  const struct gc_opt *include;   /* GC_OPT_INCLUDE: the included table */
} gc_opt;

#define GC_OPT(name, short_name, kind, type, field, value_name, help) \
  {name, short_name, kind, offsetof(type, field), value_name, help, NULL}
#define GC_OPT_INCLUDE_TABLE(heading, type, field, table) \
  {heading, 0, GC_OPT_INCLUDE, offsetof(type, field), NULL, NULL, table}
#define GC_OPT_TABLE_END {NULL, 0, GC_OPT_END, 0, NULL, NULL, NULL}

/* The one --backend entry (a const char * field; the help lists the
 * backends) and the one --threads entry (an int field, 0: the cores). */
#define GC_OPT_BACKEND_ENTRY(type, field) \
  GC_OPT("backend", 0, GC_OPT_BACKEND, type, field, "NAME", NULL)
#define GC_OPT_THREADS_ENTRY(type, field) \
  GC_OPT("threads", 0, GC_OPT_INT_NONNEG, type, field, "N", "worker threads (default 0: the cores available)")

/* The one --plugin entry: a shared library whose functions `call @name`
 * may name (docs/calls.md). */
#define GC_OPT_PLUGIN_ENTRY \
  {"plugin", 0, GC_OPT_PLUGIN, 0, "LIB.so", \
   "load a shared library whose functions `call @name` may\nname (repeatable; docs/calls.md)", NULL}

/* What a tool is, for gc_opt_parse and its --help. */
typedef struct {
  const char *prog;       /* "gc-run" */
  const char *usage;      /* the usage lines, each starting with PROG */
  const char *about;      /* a paragraph after them, or NULL */
  const gc_opt *table;
  const char *epilogue;   /* after the flags (exit statuses, notes), or NULL */
} gc_opt_spec;

enum { GC_OPT_MAX_ARGS = 8 };

/* The arguments that are not flags, in order. */
typedef struct {
  const char *args[GC_OPT_MAX_ARGS];   /* the first GC_OPT_MAX_ARGS */
  int n;                               /* how many there were in all */
} gc_opt_args;

/* Parses argv into `opts` (the struct the table's offsets point into;
 * fields of flags not given keep their values) and the other arguments
 * into `args`.  0: go on; 1: --help was printed (exit 0); GC_EXIT_USAGE
 * (2) after printing the error. */
int gc_opt_parse(const gc_opt_spec *spec, void *opts, int argc, char **argv, gc_opt_args *args);

/* The --help text of spec, printed to stdout. */
void gc_opt_print_help(const gc_opt_spec *spec);

#endif
