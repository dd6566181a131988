/* gc-run: run a graph in the text IR (or a model's graph) once, on tensors
 * from safetensors files.
 *
 *   gc-run GRAPH.gcir --params P.safetensors --inputs I.safetensors
 *          --out O.safetensors [--grad OUTPUT] [--backend interp|llvm]
 *   gc-run model:NAME [--set K=V,...] [--batch B] [--seq T] [--init SEED] ...
 *
 * O holds every output by name and every updated param under its own name;
 * with --grad OUTPUT also "grad.<param>" for every float param.
 * Exit codes: 0 ok, 1 parse or run-time error, 2 usage error. */
#include "autodiff/autodiff.h"
#include "backends/backend.h"
#include "backends/runtime/bench.h"
#include "io/safetensors.h"
#include "ir/ir.h"
#include "tools/cli.h"
#include "tools/model_cli.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: gc-run GRAPH.gcir [--params P.safetensors] [--inputs I.safetensors]\n"
    "              --out O.safetensors [--grad OUTPUT] [--backend interp|llvm]\n"
    "       gc-run GRAPH.gcir|model:NAME --bench N [--random-inputs SEED] [--threads N]\n"
    "       gc-run model:NAME [model flags] [the same flags]\n"
    "\n"
    "Runs the graph once and writes its results to O: every output by name and\n"
    "every updated param under its own name.  With model:NAME the graph is that\n"
    "model's (forward + loss: outputs loss and logits), params are read by their\n"
    "Hugging Face names, and inputs HF forward() can default are defaulted.\n"
    "\n"
    "  --params P    the graph's params by name (optional if it has none)\n"
    "  --inputs I    the graph's inputs by name (optional if it has none)\n"
    "  --out O       where the results go (safetensors, replaced atomically)\n"
    "  --grad NAME   also write grad.<param>, the gradient of the scalar output\n"
    "                NAME with respect to every float param\n"
    "  --backend B   interp (default) or llvm\n"
    "  --threads N   worker threads (default: the cores available)\n"
    "  --bench N     run once to warm up, then N times, and print one line:\n"
    "                median_ms= min_ms= gflops= compile_ms= peak_rss_mb=\n"
    "                (--out is then optional)\n"
    "  --random-inputs SEED  fill the inputs I lacks: floats N(0,1); a model's\n"
    "                token ids and labels uniform in [0, vocab)\n"
    "\nmodel flags:\n" GC_CLI_MODEL_FLAGS_HELP
    "  --help        this text\n"
    "\n"
    "Exit status: 0 ok, 1 parse or run-time error, 2 usage error.\n";

static const char prog[] = "gc-run";

typedef struct {
  const char *graph, *params, *inputs, *out, *grad, *backend, *threads, *bench, *random_inputs;
  gc_cli_model_flags model;
  bool help;
} options;

/* ---- flags ------------------------------------------------------------- */

/* The option slot for "--name", NULL if there is none. */
static const char **flag_slot(options *o, const char *name, size_t len) {
  static const struct { const char *name; size_t offset; } flags[] = {
      {"params", offsetof(options, params)}, {"inputs", offsetof(options, inputs)},
      {"out", offsetof(options, out)},       {"grad", offsetof(options, grad)},
      {"backend", offsetof(options, backend)},  {"threads", offsetof(options, threads)},
      {"bench", offsetof(options, bench)},      {"random-inputs", offsetof(options, random_inputs)},
  };
  for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
    if (strlen(flags[i].name) == len && memcmp(flags[i].name, name, len) == 0)
      return (const char **)((char *)o + flags[i].offset);
  return gc_cli_model_flag(&o->model, name, len);
}

/* Accepts "--flag VALUE" and "--flag=VALUE".  0, or GC_EXIT_USAGE after
 * printing the complaint. */
static int parse_args(int argc, char **argv, options *o) {
  memset(o, 0, sizeof *o);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      o->help = true;
      return 0;
    }
    if (strcmp(a, "--train") == 0) {
      o->model.train = true;
      continue;
    }
    if (strncmp(a, "--", 2) != 0) {
      if (o->graph) return gc_cli_usage_error(prog, "more than one graph file ('%s' and '%s')", o->graph, a);
      o->graph = a;
      continue;
    }
    const char *eq = strchr(a + 2, '=');
    const char **slot = flag_slot(o, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
    if (!slot) return gc_cli_usage_error(prog, "unknown option '%s'", a);
    if (!eq && i + 1 >= argc) return gc_cli_usage_error(prog, "option '%s' needs a value", a);
    *slot = eq ? eq + 1 : argv[++i];
  }
  if (!o->graph) return gc_cli_usage_error(prog, "no graph file given");
  if (!o->out && !o->bench) return gc_cli_usage_error(prog, "--out is required (or --bench N)");
  if (!gc_cli_is_model(o->graph) && gc_cli_model_flags_used(&o->model))
    return gc_cli_usage_error(prog, "--set, --batch, --seq, --dec-seq, --init and --train go with model:NAME");
  gc_diag d = {0};
  if (o->backend && !gc_backend_find(o->backend, &d)) return gc_cli_usage_error(prog, "%s", d.msg);
  return 0;
}

/* ---- steps ------------------------------------------------------------- */

/* Reads, parses and verifies the graph; errors are printed. */
static gc_graph *load_graph(const char *path) {
  gc_graph *g = gc_cli_load_graph(path);
  gc_diag d = {0};
  if (g && gc_verify(g, &d) < 0) {
    gc_cli_print_diag(gc_cli_display_name(path), NULL, 0, &d);
    gc_graph_free(g);
    g = NULL;
  }
  return g;
}

/* Reads a tensor file into m; a NULL path leaves m empty. */
static int load_tensors(const char *path, gc_tensor_map *m) {
  gc_diag d = {0};
  if (!path || gc_safetensors_read(path, m, &d) == 0) return 0;
  fprintf(stderr, "gc-run: %s\n", d.msg);
  return -1;
}

/* One note per tensor the graph does not read. */
static void note_unused(const gc_graph *g, const gc_tensor_map *m, const char *kind,
                        int (*find)(const gc_graph *, const char *)) {
  for (int i = 0; i < m->n; i++)
    if (find(g, m->names[i]) < 0)
      fprintf(stderr, "gc-run: note: %s \"%s\" is not used by the graph\n", kind, m->names[i]);
}

/* Every output, then every updated param under its own name. */
static int collect_results(const gc_program *p, gc_tensor_map *results, gc_diag *d) {
  const gc_graph *g = gc_program_graph(p);
  if (gc_program_get_outputs(p, results, d)) return -1;
  gc_tensor_map params;
  gc_tensor_map_init(&params);
  int rc = gc_program_get_params(p, &params, d);
  for (int i = 0; rc == 0 && i < g->n_updates; i++) {
    const char *name = g->updates[i].name;
    if (gc_tensor_map_get(results, name))
      rc = gc_diag_set(d, "updated param \"%s\" has the name of an output; O cannot hold both", name);
    else gc_tensor_map_put(results, name, gc_tensor_map_take(&params, name));
  }
  gc_tensor_map_clear(&params);
  return rc;
}

static int positive_int(const char *flag, const char *s, long *v) {
  char *end;
  *v = s ? strtol(s, &end, 10) : 0;
  if (s && (!*s || *end || *v < 1 || *v > 1000000)) return gc_cli_usage_error(prog, "%s takes a positive integer, not '%s'", flag, s);
  return 0;
}

/* Differentiates if asked, compiles, runs (or benchmarks), writes the results. */
static int run(gc_graph *g, const options *o, gc_tensor_map *params, const gc_tensor_map *inputs) {
  gc_diag d = {0};
  gc_tensor_map results;
  gc_tensor_map_init(&results);
  gc_compile_options co;
  gc_compile_options_init(&co);
  co.backend = o->backend;
  long threads = 0, bench = 0;
  if (positive_int("--threads", o->threads, &threads) || positive_int("--bench", o->bench, &bench)) return GC_EXIT_USAGE;
  co.threads = (int)threads;
  gc_program *p = NULL;
  int rc = -1;
  if (o->grad && gc_grad_outputs(g, o->grad, &d) < 0) goto done;
  if (!(p = gc_compile(g, &co, &d))) goto done;
  if (gc_program_set_params(p, params, true, &d) || gc_program_feed(p, inputs, &d)) goto done;
  if (bench) {
    gc_bench_result b;
    if (gc_program_bench(p, (int)bench, &b, &d)) goto done;
    gc_bench_print(stdout, &b);
  } else if (gc_program_run(p, &d)) {
    goto done;
  }
  rc = 0;
  if (o->out && (collect_results(p, &results, &d) || gc_safetensors_write(o->out, &results, &d))) rc = -1;
done:
  if (rc < 0) fprintf(stderr, "gc-run: %s\n", d.msg);
  gc_program_free(p);
  gc_tensor_map_clear(&results);
  return rc < 0 ? GC_EXIT_ERROR : GC_EXIT_OK;
}

/* --random-inputs SEED: what the inputs file lacks, drawn from SEED; for a
 * model, the token ids and labels first (the rest HF defaults after). */
static int random_inputs(const options *o, const gc_graph *g, const gc_cli_model *m, gc_tensor_map *inputs,
                         bool tokens_only) {
  if (!o->random_inputs) return 0;
  char *end;
  unsigned long long seed = strtoull(o->random_inputs, &end, 10);
  if (!*o->random_inputs || *end) return gc_cli_usage_error(prog, "--random-inputs takes a seed, not '%s'", o->random_inputs);
  static const char *const tokens[] = {"input_ids", "labels", "decoder_input_ids", NULL};
  int64_t vocab = m->graph ? m->config.family->vocab_size(m->config.config) : 0;
  gc_diag d = {0};
  if (gc_random_inputs(g, inputs, seed, vocab, tokens_only ? tokens : NULL, &d)) {
    fprintf(stderr, "gc-run: %s\n", d.msg);
    return GC_EXIT_ERROR;
  }
  return 0;
}

/* The graph and its params/inputs: from a .gcir file and tensor files, or
 * from a model and its HF-named tensors.  0, or an exit code. */
static int load(const options *o, gc_graph **g, gc_cli_model *m, gc_tensor_map *params, gc_tensor_map *inputs) {
  gc_tensor_map file;
  gc_tensor_map_init(&file);
  if (load_tensors(o->params, &file) || load_tensors(o->inputs, inputs)) {
    gc_tensor_map_clear(&file);
    return GC_EXIT_ERROR;
  }
  int rc = 0;
  if (gc_cli_is_model(o->graph)) {
    rc = gc_cli_model_build(prog, o->graph, &o->model, inputs, m);
    if (!rc) rc = random_inputs(o, m->graph, m, inputs, true);
    if (!rc) rc = gc_cli_model_feed(prog, m, &file, params, inputs);
    if (!rc) *g = m->graph;
  } else if (!(*g = load_graph(o->graph))) {
    rc = GC_EXIT_ERROR;
  } else {
    note_unused(*g, &file, "param", gc_graph_find_param);
    note_unused(*g, inputs, "input", gc_graph_find_input);
    for (int i = 0; i < file.n; i++) gc_tensor_map_put(params, file.names[i], gc_tensor_clone(file.tensors[i]));
  }
  if (!rc) rc = random_inputs(o, *g, m, inputs, false);
  gc_tensor_map_clear(&file);
  return rc;
}

int main(int argc, char **argv) {
  options o;
  if (parse_args(argc, argv, &o) != 0) return GC_EXIT_USAGE;
  if (o.help) {
    fputs(usage, stdout);
    return GC_EXIT_OK;
  }
  gc_graph *g = NULL;
  gc_cli_model m = {0};
  gc_tensor_map params, inputs;
  gc_tensor_map_init(&params);
  gc_tensor_map_init(&inputs);
  int rc = load(&o, &g, &m, &params, &inputs);
  if (!rc) rc = run(g, &o, &params, &inputs);
  gc_tensor_map_clear(&params);
  gc_tensor_map_clear(&inputs);
  if (m.graph) gc_cli_model_free(&m);
  else gc_graph_free(g);
  return rc;
}
