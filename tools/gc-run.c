/* gc-run: run a graph in the text IR (or a model's graph) once, on tensors
 * from safetensors files.
 *
 *   gc-run GRAPH.gcir --params P.safetensors --inputs I.safetensors
 *          -o O.safetensors [--grad OUTPUT] [--backend NAME] [--bench N]
 *   gc-run model:NAME [--set K=V,...] [--batch B] [--seq T] [--init SEED] ...
 *
 * O holds every output by name and every updated param under its own name;
 * with --grad OUTPUT also "grad.<param>" for every float param.
 * Exit codes: 0 ok, 1 parse or run-time error, 2 usage error. */
#include "autodiff/autodiff.h"
#include "backends/backend.h"
#include "backends/runtime/bench.h"
#include "frontend/builder.h"
#include "io/safetensors.h"
#include "ir/ir.h"
#include "tools/cli.h"
#include "tools/model_cli.h"
#include "tools/nan_cli.h"
#include "tools/options.h"
#include "tools/pass_cli.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *graph, *params, *inputs, *out, *grad, *backend;
  int threads, bench;                   /* 0: the cores; 0: run once */
  bool profile, compile_only;
  gc_opt_seed random_inputs;
  gc_cli_model_flags model;
  gc_cli_pass_flags passes;
  gc_nan_options nans;
} options;

static const char prog[] = "gc-run";

static const gc_opt flags[] = {
    GC_OPT("params", 0, GC_OPT_FILE, options, params, "P", "the graph's params by name (optional if it has none)"),
    GC_OPT("inputs", 0, GC_OPT_FILE, options, inputs, "I", "the graph's inputs by name (optional if it has none)"),
    GC_OPT("out", 'o', GC_OPT_FILE, options, out, "O", "where the results go (safetensors, replaced atomically)"),
    GC_OPT("grad", 0, GC_OPT_STRING, options, grad, "NAME",
           "also write grad.<param>, the gradient of the scalar output\n"
           "NAME with respect to every float param"),
    GC_OPT_BACKEND_ENTRY(options, backend),
    GC_OPT_PLUGIN_ENTRY,
    GC_OPT_THREADS_ENTRY(options, threads),
    GC_OPT("bench", 0, GC_OPT_INT_POS, options, bench, "N",
           "run once to warm up, then N times, and print one line:\n"
           "median_ms= min_ms= gflops= compile_ms= peak_rss_mb=\n"
           "(--out is then optional)"),
    GC_OPT("profile", 0, GC_OPT_FLAG, options, profile, NULL,
           "with --bench: time each kernel and print the slowest with their\n"
           "label, MFLOP, GFLOP/s and GB/s (llvm backend)"),
    GC_OPT("compile-only", 0, GC_OPT_FLAG, options, compile_only, NULL,
           "compile, print one line: compile_ms= peak_rss_mb= (llvm:\n"
           "kernels= compiled= cached=) and stop: no params are read\n"
           "or initialised, nothing runs (--out is then optional)"),
    GC_OPT("random-inputs", 0, GC_OPT_SEED_OPT, options, random_inputs, "SEED",
           "fill the inputs I lacks: floats N(0,1); a model's\n"
           "token ids and labels uniform in [0, vocab)"),
    GC_OPT_INCLUDE_TABLE("model flags (with model:NAME)", options, model, gc_cli_model_options),
    GC_OPT_INCLUDE_TABLE("NaN checks", options, nans, gc_cli_nan_options),
    GC_OPT_INCLUDE_TABLE("compiler flags", options, passes, gc_cli_pass_options),
    GC_OPT_INCLUDE_TABLE("llvm backend flags", options, passes, gc_cli_llvm_options),
    GC_OPT_TABLE_END,
};

static const gc_opt_spec spec = {
    .prog = prog,
    .usage = "gc-run GRAPH.gcir [--params P.safetensors] [--inputs I.safetensors]\n"
             "              -o|--out O.safetensors [--grad OUTPUT] [--backend NAME]\n"
             "       gc-run GRAPH.gcir ... --check-nans|--check-infs [--nan-dir DIR] [--out O.safetensors]\n"
             "       gc-run GRAPH.gcir|model:NAME --bench N [--random-inputs SEED] [--threads N]\n"
             "       gc-run model:NAME [model flags] [the same flags]",
    .about = "Runs the graph once and writes its results to O: every output by name and\n"
             "every updated param under its own name.  With model:NAME the graph is that\n"
             "model's (forward + loss: outputs loss and logits), params are read by their\n"
             "Hugging Face names, and inputs HF forward() can default are defaulted.\n"
             "NAME may be a Hugging Face model directory (config.json, model.safetensors\n"
             "or its shards): without --params its own weights are used.\n",
    .table = flags,
    .epilogue = "Exit status: 0 ok, 1 parse or run-time error, 2 usage error.\n",
};

/* 0: run; 1: done (help printed); GC_EXIT_USAGE after printing the complaint. */
static int parse_args(int argc, char **argv, options *o) {
  memset(o, 0, sizeof *o);
  gc_opt_args args;
  int rc = gc_opt_parse(&spec, o, argc, argv, &args);
  if (rc) return rc;
  if (args.n == 0) return gc_cli_usage_error(prog, "no graph file given");
  if (args.n > 1) return gc_cli_usage_error(prog, "more than one graph file ('%s' and '%s')", args.args[0], args.args[1]);
  o->graph = args.args[0];
  if (!o->out && !o->bench && !o->compile_only && !o->nans.check_nans && !o->nans.check_infs)
    return gc_cli_usage_error(prog, "--out is required (or --bench N, --compile-only, or --check-nans)");
  if (o->compile_only && (o->out || o->bench))
    return gc_cli_usage_error(prog, "--compile-only runs nothing: it takes neither --out nor --bench");
  gc_cli_model_flags model_only = o->model;
  model_only.init.given = false;   /* --init goes with a .gcir file too */
  if (!gc_cli_is_model(o->graph) && gc_cli_model_flags_used(&model_only))
    return gc_cli_usage_error(prog, "--set, --batch, --seq, --dec-seq and --train go with model:NAME");
  return 0;
}

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

/* --init SEED for a .gcir file: every param `params` lacks, drawn as an nn
 * block's weight is by default (floats normal, std 0.02; others zeros),
 * from the seed and the param's name (gc_init_params). */
static int init_missing_params(const gc_graph *g, uint64_t seed, gc_tensor_map *params) {
  gc_init_table *rules = calloc(1, sizeof *rules);
  gc_diag d = {0};
  int rc = rules ? 0 : gc_diag_set(&d, "out of memory");
  for (int i = 0; rc == 0 && i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    if (n->op == GC_OP_PARAM && gc_dtype_is_float(n->type.dtype))
      gc_init_table_set(rules, n->attrs.name.name, gc_init_normal(0.02));
  }
  if (rc == 0) rc = gc_init_params(g, rules, seed, params, &d);
  gc_init_table_free(rules);
  if (rc) fprintf(stderr, "gc-run: %s\n", d.msg);
  return rc;
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

/* Differentiates if asked, compiles, runs (or benchmarks), writes the results. */
static int run(gc_graph *g, const options *o, gc_tensor_map *params, const gc_tensor_map *inputs) {
  gc_diag d = {0};
  gc_tensor_map results;
  gc_tensor_map_init(&results);
  gc_compile_options co;
  gc_compile_options_init(&co);
  gc_pass_options po;
  if (gc_cli_pass_setup(prog, &o->passes, o->backend ? o->backend : gc_default_backend(), stderr, &po, &co.llvm)) return GC_EXIT_USAGE;
  co.backend = o->backend;
  co.threads = o->threads;
  co.passes = o->passes.passes;
  co.profile = o->profile;
  co.pass_options = &po;
  co.nans = o->nans;
  gc_program *p = NULL;
  int rc = -1;
  if (o->grad && gc_grad_outputs(g, o->grad, &d) < 0) goto done;
  if (!(p = gc_compile(g, &co, &d))) goto done;
  if (gc_cli_emit_dot(prog, &o->passes, gc_program_graph(p))) goto done;
  if (o->compile_only) {
    gc_bench_print_compile(stdout, p);
    rc = 0;
    goto done;
  }
  if (gc_program_adopt_params(p, params, true, &d) || gc_program_feed(p, inputs, &d)) goto done;
  if (o->bench) {
    gc_bench_result b;
    if (gc_program_bench(p, o->bench, &b, &d)) goto done;
    gc_bench_print(stdout, &b);
    if (o->profile) gc_program_profile(p, stdout, getenv("GC_PROFILE_TOP") ? atoi(getenv("GC_PROFILE_TOP")) : 25);
  } else if (gc_program_run(p, &d)) {
    goto done;
  }
  rc = 0;
  if (o->out && (collect_results(p, &results, &d) || gc_safetensors_write(o->out, &results, &d))) rc = -1;
done:
  if (rc < 0 && d.line > 0 && o->graph) fprintf(stderr, "gc-run: %s:%d:%d: %s\n", o->graph, d.line, d.col, d.msg);
  else if (rc < 0) fprintf(stderr, "gc-run: %s\n", d.msg);
  if (rc < 0 && strncmp(d.msg, "param \"", 7) == 0 && strstr(d.msg, "\" is missing") && !o->model.init.given)
    fprintf(stderr, "gc-run: --init SEED initialises the params the file lacks\n");
  gc_program_free(p);
  gc_tensor_map_clear(&results);
  return rc < 0 ? GC_EXIT_ERROR : GC_EXIT_OK;
}

/* --random-inputs SEED: what the inputs file lacks, drawn from SEED; for a
 * model, the token ids and labels first (the rest HF defaults after). */
static int random_inputs(const options *o, const gc_graph *g, const gc_cli_model *m, gc_tensor_map *inputs,
                         bool tokens_only) {
  if (!o->random_inputs.given) return 0;
  static const char *const tokens[] = {"input_ids", "labels", "decoder_input_ids", NULL};
  int64_t vocab = m->graph ? m->config.family->vocab_size(m->config.config) : 0;
  gc_diag d = {0};
  if (gc_random_inputs(g, inputs, o->random_inputs.value, vocab, tokens_only ? tokens : NULL, &d)) {
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
    if (!rc && !o->compile_only) rc = random_inputs(o, m->graph, m, inputs, true);
    if (!rc && !o->compile_only) rc = gc_cli_model_feed(prog, m, &file, params, inputs);
    if (!rc) *g = m->graph;
  } else if (!(*g = load_graph(o->graph))) {
    rc = GC_EXIT_ERROR;
  } else {
    note_unused(*g, &file, "param", gc_graph_find_param);
    note_unused(*g, inputs, "input", gc_graph_find_input);
    for (int i = 0; i < file.n; i++) gc_tensor_map_put(params, file.names[i], gc_tensor_clone(file.tensors[i]));
    if (o->model.init.given && !o->compile_only && init_missing_params(*g, o->model.init.value, params))
      rc = GC_EXIT_ERROR;
  }
  if (!rc && !o->compile_only) rc = random_inputs(o, *g, m, inputs, false);
  gc_tensor_map_clear(&file);
  return rc;
}

int main(int argc, char **argv) {
  options o;
  int rc = parse_args(argc, argv, &o);
  if (rc) return rc == 1 ? GC_EXIT_OK : rc;
  gc_graph *g = NULL;
  gc_cli_model m = {0};
  gc_tensor_map params, inputs;
  gc_tensor_map_init(&params);
  gc_tensor_map_init(&inputs);
  rc = load(&o, &g, &m, &params, &inputs);
  if (!rc) rc = run(g, &o, &params, &inputs);
  gc_tensor_map_clear(&params);
  gc_tensor_map_clear(&inputs);
  if (m.graph) gc_cli_model_free(&m);
  else gc_graph_free(g);
  return rc ? rc : gc_cli_close_stdout(prog);   /* a failure already said why */
}
