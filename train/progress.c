/* train/progress.c — progress lines (see progress.h). */
#include "train/progress.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#define CLEAR_TO_EOL "\033[K"

char *gc_format_duration(double seconds, char *buf, size_t size) {
  if (!isfinite(seconds) || seconds < 0 || seconds > 1e12) {
    snprintf(buf, size, "?");
    return buf;
  }
  long s = lround(seconds);
  if (s < 60) snprintf(buf, size, "%lds", s);
  else if (s < 3600) snprintf(buf, size, "%ldm%02lds", s / 60, s % 60);
  else snprintf(buf, size, "%ldh%02ldm%02lds", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

char *gc_format_count(double x, char *buf, size_t size) {
  if (!isfinite(x) || fabs(x) > 1e18) {
    snprintf(buf, size, "?");
    return buf;
  }
  char digits[32], out[48];
  long long v = llround(fabs(x));
  int n = snprintf(digits, sizeof digits, "%lld", v), o = 0;
  if (x < 0 && v != 0) out[o++] = '-';
  for (int i = 0; i < n; i++) {
    if (i > 0 && (n - i) % 3 == 0) out[o++] = ',';
    out[o++] = digits[i];
  }
  out[o] = 0;
  snprintf(buf, size, "%s", out);
  return buf;
}

char *gc_format_progress(char *buf, size_t size, long step, long total, double loss, double lr,
                         double tokens_per_s, double elapsed, double eta) {
  char width_probe[32], rate[48], el[32], left[32];
  int width = snprintf(width_probe, sizeof width_probe, "%ld", total);
  snprintf(buf, size, "step %*ld/%ld  loss %.4f  lr %.1e  %s tok/s  elapsed %s  eta %s", width,
           step, total, loss, lr, gc_format_count(tokens_per_s, rate, sizeof rate),
           gc_format_duration(elapsed, el, sizeof el), gc_format_duration(eta, left, sizeof left));
  return buf;
}

char *gc_format_val(char *buf, size_t size, long step, double loss, double total_nats,
                    double n_bytes) {
  int n = snprintf(buf, size, "val  step %ld  loss %.4f  ppl %.2f", step, loss, exp(loss));
  if (n_bytes > 0 && n >= 0 && (size_t)n < size)
    snprintf(buf + n, size - (size_t)n, "  bpb %.3f", total_nats / log(2.0) / n_bytes);
  return buf;
}

void gc_progress_start(gc_progress *p, FILE *out, long first_step, long total, double now) {
  p->out = out;
  p->is_tty = isatty(fileno(out));
  p->first_step = first_step;
  p->total = total;
  p->t0 = now;
  p->line_open = 0;
}

void gc_progress_update(gc_progress *p, long step, double loss, double lr, double tokens_per_s,
                        double now) {
  double elapsed = now - p->t0;
  long done = step - p->first_step;
  double eta = done > 0 && elapsed > 0 ? (double)(p->total - step) * elapsed / (double)done : -1;
  char line[256];
  gc_format_progress(line, sizeof line, step, p->total, loss, lr, tokens_per_s, elapsed, eta);
  if (p->is_tty) {
    fprintf(p->out, "\r%s" CLEAR_TO_EOL, line);
    p->line_open = 1;
  } else {
    fprintf(p->out, "%s\n", line);
  }
  fflush(p->out);
}

void gc_progress_message(gc_progress *p, const char *line) {
  if (p->line_open) fputs("\r" CLEAR_TO_EOL, p->out);
  p->line_open = 0;
  fprintf(p->out, "%s\n", line);
  fflush(p->out);
}

void gc_progress_finish(gc_progress *p) {
  if (p->line_open) fputc('\n', p->out);
  p->line_open = 0;
  fflush(p->out);
}
