/* gc-opt: read a graph in the text IR (or build a model's), check it, print it.
 *
 *   gc-opt FILE.gcir [-o OUT] [--grad OUTPUT]
 *   gc-opt model:NAME [--set K=V,...] [--batch B] [--seq T] [--grad OUTPUT]
 *
 * The program is three steps — load, transform, emit — each its own
 * function, so new inputs (model:NAME), transformations (--grad, pass
 * pipelines) and outputs slot in as options without touching main(). */
#include "autodiff/autodiff.h"
#include "tools/cli.h"
#include "tools/model_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const prog = "gc-opt";

typedef struct {
  const char *input;   /* a .gcir path, "-" for stdin, or model:NAME */
  const char *output;  /* NULL: stdout */
  const char *grad;    /* append the backward graph of this output */
  gc_cli_model_flags model;
} opt_options;

static void print_usage(FILE *f) {
  fprintf(f,
          "usage: %s FILE.gcir [-o OUT] [--grad OUTPUT]\n"
          "       %s model:NAME [model flags] [-o OUT] [--grad OUTPUT]\n"
          "\n"
          "Reads a graph in the gc text IR (FILE '-' reads stdin), or builds the\n"
          "training graph (forward + loss) of a model from models/, verifies it and\n"
          "prints it in canonical form (values renumbered %%0, %%1, ...).\n"
          "\n"
          "options:\n"
          "  -o OUT        write the graph to OUT instead of stdout\n"
          "  --grad NAME   append the backward graph of the scalar output NAME; each\n"
          "                gradient becomes an output \"grad.<param>\"\n"
          "  -h, --help    show this help and exit\n"
          "\n"
          "model flags:\n" GC_CLI_MODEL_FLAGS_HELP
          "\n"
          "exit status: 0 success, 1 the graph or a file is bad, 2 bad usage\n",
          prog, prog);
}

/* The value of an option taking one: "-o OUT". */
static const char *option_value(int argc, char **argv, int *i) {
  if (*i + 1 >= argc) return NULL;
  return argv[++*i];
}

/* 0: run; 1: done (help printed); GC_EXIT_USAGE: bad usage (reported). */
static int parse_args(int argc, char **argv, opt_options *o) {
  memset(o, 0, sizeof *o);
  bool only_files = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!only_files && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
      print_usage(stdout);
      return 1;
    } else if (!only_files && strcmp(a, "--") == 0) {
      only_files = true;
    } else if (!only_files && strcmp(a, "-o") == 0) {
      if (!(o->output = option_value(argc, argv, &i))) return gc_cli_usage_error(prog, "-o needs a file name");
    } else if (!only_files && strcmp(a, "--train") == 0) {
      o->model.train = true;
    } else if (!only_files && strncmp(a, "--", 2) == 0 && a[2]) {
      const char *eq = strchr(a + 2, '=');
      size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
      const char **slot = len == 4 && strncmp(a + 2, "grad", 4) == 0 ? &o->grad
                                                                     : gc_cli_model_flag(&o->model, a + 2, len);
      if (!slot) return gc_cli_usage_error(prog, "unknown option '%s'", a);
      if (!eq && i + 1 >= argc) return gc_cli_usage_error(prog, "option '%s' needs a value", a);
      *slot = eq ? eq + 1 : argv[++i];
    } else if (!only_files && a[0] == '-' && a[1]) {
      return gc_cli_usage_error(prog, "unknown option '%s'", a);
    } else if (o->input) {
      return gc_cli_usage_error(prog, "more than one input ('%s' and '%s')", o->input, a);
    } else {
      o->input = a;
    }
  }
  if (!o->input) return gc_cli_usage_error(prog, "no input file");
  if (!gc_cli_is_model(o->input) && gc_cli_model_flags_used(&o->model))
    return gc_cli_usage_error(prog, "--set, --batch, --seq, --dec-seq, --init and --train go with model:NAME");
  return 0;
}

/* The graph, from a file or a model; NULL after reporting (exit code in *rc). */
static gc_graph *load_input(const opt_options *o, int *rc) {
  *rc = GC_EXIT_ERROR;
  if (!gc_cli_is_model(o->input)) return gc_cli_load_graph(o->input);
  gc_cli_model m;
  int r = gc_cli_model_build(prog, o->input, &o->model, NULL, &m);
  if (r) {
    *rc = r;
    return NULL;
  }
  gc_graph *g = m.graph;
  m.graph = NULL;
  gc_cli_model_free(&m);
  return g;
}

/* Checks (and, later, rewrites) the graph; reports its own errors. */
static int transform(gc_graph *g, const opt_options *o) {
  gc_diag d = {.line = 0};
  if (gc_verify(g, &d) || (o->grad && gc_grad_outputs(g, o->grad, &d) < 0)) {
    gc_cli_print_diag(gc_cli_display_name(o->input), NULL, 0, &d);
    return -1;
  }
  return 0;
}

static int emit(const gc_graph *g, const opt_options *o) {
  char err[1024];
  char *text = gc_print(g);
  if (!text) {
    fprintf(stderr, "%s: error: out of memory printing the graph\n", prog);
    return -1;
  }
  int rc = gc_cli_write_file(o->output, text, strlen(text), err, sizeof err);
  if (rc) fprintf(stderr, "%s: error: %s\n", prog, err);
  free(text);
  return rc;
}

int main(int argc, char **argv) {
  opt_options o;
  int rc = parse_args(argc, argv, &o);
  if (rc) return rc == 1 ? GC_EXIT_OK : rc;
  gc_graph *g = load_input(&o, &rc);
  if (!g) return rc;
  rc = transform(g, &o) || emit(g, &o) ? GC_EXIT_ERROR : GC_EXIT_OK;
  gc_graph_free(g);
  return rc;
}
