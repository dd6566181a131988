/* gc-opt: read a graph in the text IR (or build a model's), check it, print it.
 *
 *   gc-opt FILE.gcir [-o OUT] [--grad OUTPUT]
 *   gc-opt model:NAME [--set K=V,...] [--batch B] [--seq T] [--grad OUTPUT]
 *
 * The flags are the table below (tools/options.h); the model flags are the
 * table gc-run includes too.
 * The program is three steps — load, transform, emit — each its own
 * function, so new inputs (model:NAME), transformations (--grad, pass
 * pipelines) and outputs slot in as options without touching main(). */
#include "autodiff/autodiff.h"
#include "tools/cli.h"
#include "tools/model_cli.h"
#include "tools/options.h"
#include "tools/pass_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const prog = "gc-opt";

typedef struct {
  const char *input;   /* a .gcir path, "-" for stdin, or model:NAME */
  const char *output;  /* NULL: stdout */
  const char *grad;    /* append the backward graph of this output */
  gc_cli_model_flags model;
  gc_cli_pass_flags passes;
} opt_options;

static const gc_opt flags[] = {
    GC_OPT("out", 'o', GC_OPT_FILE, opt_options, output, "OUT", "write the graph to OUT instead of stdout"),
    GC_OPT("grad", 0, GC_OPT_STRING, opt_options, grad, "NAME",
           "append the backward graph of the scalar output NAME; each\n"
           "gradient becomes an output \"grad.<param>\""),
    GC_OPT_PLUGIN_ENTRY,
    GC_OPT_INCLUDE_TABLE("model flags (with model:NAME)", opt_options, model, gc_cli_model_options),
    GC_OPT_INCLUDE_TABLE("compiler flags", opt_options, passes, gc_cli_pass_options),
    GC_OPT_TABLE_END,
};

static const gc_opt_spec spec = {
    .prog = "gc-opt",
    .usage = "gc-opt FILE.gcir [-o OUT] [--grad OUTPUT]\n"
             "       gc-opt model:NAME [model flags] [-o OUT] [--grad OUTPUT]",
    .about = "Reads a graph in the gc text IR (FILE '-' reads stdin), or builds the\n"
             "training graph (forward + loss) of a model from models/ (NAME a preset or a\n"
             "Hugging Face model directory's path), verifies it, runs\n"
             "the pass pipeline on it (--passes; dumps go to stderr) and prints the\n"
             "result in canonical form (values renumbered %0, %1, ...).  Every form it\n"
             "prints, kernels and plans included, is a program gc-run runs.\n",
    .table = flags,
    .epilogue = "exit status: 0 success, 1 the graph or a file is bad, 2 bad usage\n",
};

/* 0: run; 1: done (help printed); GC_EXIT_USAGE: bad usage (reported). */
static int parse_args(int argc, char **argv, opt_options *o) {
  memset(o, 0, sizeof *o);
  gc_opt_args args;
  int rc = gc_opt_parse(&spec, o, argc, argv, &args);
  if (rc) return rc;
  if (args.n == 0) return gc_cli_usage_error(prog, "no input file");
  if (args.n > 1) return gc_cli_usage_error(prog, "more than one input ('%s' and '%s')", args.args[0], args.args[1]);
  o->input = args.args[0];
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

/* Checks the graph, appends the backward graph if asked, runs the passes;
 * reports its own errors.  The graph it returns replaces g (NULL: failed). */
static gc_graph *transform(gc_graph *g, const opt_options *o, int *rc) {
  gc_diag d = {.line = 0};
  gc_pass_options po;
  *rc = GC_EXIT_ERROR;
  if (gc_cli_pass_setup(prog, &o->passes, NULL, stderr, &po, NULL)) {
    *rc = GC_EXIT_USAGE;
    return gc_graph_free(g), NULL;
  }
  if (gc_verify(g, &d) || (o->grad && gc_grad_outputs(g, o->grad, &d) < 0)) {
    gc_cli_print_diag(gc_cli_display_name(o->input), NULL, 0, &d);
    return gc_graph_free(g), NULL;
  }
  if (!(g = gc_run_passes(g, o->passes.passes, &po, &d))) {   /* the passes free g on failure */
    gc_cli_print_diag(gc_cli_display_name(o->input), NULL, 0, &d);
    return NULL;
  }
  if (gc_cli_emit_dot(prog, &o->passes, g)) return gc_graph_free(g), NULL;
  return g;
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
  if (!(g = transform(g, &o, &rc))) return rc;
  rc = emit(g, &o) ? GC_EXIT_ERROR : GC_EXIT_OK;
  gc_graph_free(g);
  return rc ? rc : gc_cli_close_stdout(prog);   /* a failure already said why */
}
