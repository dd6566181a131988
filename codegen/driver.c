/* The loop IR's stages and their driver (see driver.h). */
#include "codegen/driver.h"
#include "io/file.h"
#include "base/clock.h"
#include "base/namelist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const gc_stage all_stages[] = {
#define GC_STAGE(name, description) {#name, description, gc_stage_##name},
#include "codegen/stages.def"
#undef GC_STAGE
};
enum { N_STAGES = sizeof all_stages / sizeof *all_stages };
_Static_assert(N_STAGES <= sizeof ((gc_codegen_times *)0)->ms / sizeof(double), "gc_codegen_times holds every stage");

const gc_stage *gc_stages(int *n) {
  *n = N_STAGES;
  return all_stages;
}

const gc_stage *gc_stage_find(const char *name) {
  for (int i = 0; i < N_STAGES; i++)
    if (strcmp(all_stages[i].name, name) == 0) return &all_stages[i];
  return NULL;
}

const char *gc_stage_listed(const char *names) {
  for (int i = 0; i < N_STAGES; i++)
    if (gc_pass_listed(names, all_stages[i].name)) return all_stages[i].name;
  return NULL;
}

int gc_stage_names_check(const char *names, gc_diag *d) {
  char buf[2048];
  const char *list[64];
  int n = gc_pass_names(names, buf, sizeof buf, list, 64, d);
  for (int i = 0; i < n; i++) {
    if (gc_pass_find(list[i]) || gc_stage_find(list[i])) continue;
    char passes[512] = "", stages[256] = "";
    int np;
    const gc_pass *p = gc_passes(&np);
    for (int k = 0; k < np; k++) gc_namelist_add(passes, sizeof passes, ", ", p[k].name);
    for (int k = 0; k < N_STAGES; k++) gc_namelist_add(stages, sizeof stages, ", ", all_stages[k].name);
    return gc_diag_set(d, "unknown pass or stage '%s' (passes: %s; stages: %s)", list[i], passes, stages);
  }
  return n < 0 ? -1 : 0;
}

/* ---- dumps ------------------------------------------------------------------ */

static void print(FILE *out, const char *when, const char *stage, const gc_codegen_kernel *k, const char *text) {
  fprintf(out, "# IR %s %s: k%d%s%s\n%s", when, stage, k->display, k->label ? " " : "", k->label ? k->label : "",
          text);
}

/* After stage i: print it where asked, write the dump file.  *last is the
 * text last printed (for --print-ir-after-change). */
static int dump_after(const gc_codegen_kernel *k, int i, const gc_pass_options *po, FILE *out, char **last,
                      gc_diag *d) {
  const char *name = all_stages[i].name;
  bool asked = po->print_after_all || gc_pass_listed(po->print_after, name);
  if (!asked && !po->dump_dir && !po->print_after_change) return 0;
  char *text = gc_loop_print(k->fn);
  if (!text) return gc_diag_set(d, "out of memory printing the loop IR");
  if (asked || (po->print_after_change && (!*last || strcmp(*last, text) != 0))) print(out, "after", name, k, text);
  int rc = 0;
  if (po->dump_dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/k%d-%d-after-%s.loop", po->dump_dir, k->display, i + 1, name);
    rc = gc_write_file_atomic(path, text, strlen(text), d);
  }
  free(*last);
  *last = text;
  return rc;
}

/* ---- running ------------------------------------------------------------------- */

int gc_codegen_run(gc_codegen_kernel *k, const gc_pass_options *po, gc_codegen_times *times, gc_diag *d) {
  gc_pass_options none;
  if (!po) gc_pass_options_init(&none), po = &none;
  FILE *out = po->out ? po->out : stderr;
  char *last = NULL;
  int rc = 0;
  for (int i = 0; rc == 0 && i < N_STAGES; i++) {
    const gc_stage *s = &all_stages[i];
    if (k->fn && (po->print_before_all || gc_pass_listed(po->print_before, s->name))) {
      char *text = gc_loop_print(k->fn);
      if (!text) return free(last), gc_diag_set(d, "out of memory printing the loop IR");
      print(out, "before", s->name, k, text);
      free(text);
    }
    double t0 = gc_now_ms();
    rc = s->run(k, d);
    if (times) times->ms[i] += gc_now_ms() - t0;
    if (rc) {
      char msg[sizeof d->msg];
      snprintf(msg, sizeof msg, "%s", d->msg);
      rc = gc_diag_set(d, "stage %s of k%d: %s", s->name, k->display, msg);
      break;
    }
    if (i == 0 && k->lowered) k->lowered(k, k->arg);
    if (gc_loop_verify(k->fn, d)) {
      char msg[sizeof d->msg];
      snprintf(msg, sizeof msg, "%s", d->msg);
      char *text = gc_loop_print(k->fn);
      if (text) fprintf(out, "# IR after %s (which broke it): k%d\n%s", s->name, k->display, text);
      free(text);
      rc = gc_diag_set(d, "stage %s broke the loop IR of k%d: %s", s->name, k->display, msg);
      break;
    }
    rc = dump_after(k, i, po, out, &last, d);
  }
  free(last);
  return rc;
}

void gc_codegen_report(const gc_codegen_times *times, const gc_pass_options *po) {
  if (!po || !po->time_passes) return;
  FILE *out = po->out ? po->out : stderr;
  for (int i = 0; i < N_STAGES; i++) fprintf(out, "time-passes: %-10s %9.3f ms\n", all_stages[i].name, times->ms[i]);
}
