/* train/runlog.c — loss.csv and its plot loss.svg (see runlog.h). */
#include "train/runlog.h"
#include "io/file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* a followed by b, malloc'd; NULL when out of memory */
static char *concat(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  char *s = malloc(la + lb + 1);
  if (!s) return NULL;
  memcpy(s, a, la);
  memcpy(s + la, b, lb + 1);
  return s;
}

/* ---- reading the CSV ------------------------------------------------------ */

static void chomp(char *line) {
  size_t n = strlen(line);
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
}

/* Parses a number field ending at ',' or the end; empty -> NAN when
 * allow_empty.  Advances *p past the separator.  0 on success. */
static int parse_field(char **p, double *out, int allow_empty) {
  char *s = *p, *end;
  if ((*s == ',' || *s == 0) && allow_empty) {
    *out = NAN;
  } else {
    errno = 0;
    *out = strtod(s, &end);
    if (end == s) return -1;
    s = end;
  }
  if (*s == ',') s++;
  else if (*s != 0) return -1;
  *p = s;
  return 0;
}

static int parse_row(char *line, gc_runlog_row *r) {
  char *end;
  errno = 0;
  r->step = strtol(line, &end, 10);
  if (end == line || *end != ',' || errno) return -1;
  char *p = end + 1;
  if (parse_field(&p, &r->train_loss, 0) < 0 || parse_field(&p, &r->val_loss, 1) < 0 ||
      parse_field(&p, &r->lr, 0) < 0)
    return -1;
  if (parse_field(&p, &r->tokens_per_s, 0) < 0) return -1;
  return *p == 0 ? 0 : -1;
}

/* Opens path and checks the header line; NULL (with a message) otherwise. */
static FILE *open_csv(const char *path, char **line, size_t *cap, gc_diag *d) {
  FILE *f = fopen(path, "r");
  if (!f) {
    gc_diag_set(d, "cannot open %s: %s", path, strerror(errno));
    return NULL;
  }
  if (getline(line, cap, f) < 0 || (chomp(*line), strcmp(*line, GC_RUNLOG_HEADER) != 0)) {
    gc_diag_set(d, "%s does not start with the header '%s'", path, GC_RUNLOG_HEADER);
    fclose(f);
    return NULL;
  }
  return f;
}

/* The next complete, well-formed row (its text left in *line); 0 at the end
 * or at a malformed or unterminated line. */
static int next_row(FILE *f, char **line, size_t *cap, gc_runlog_row *r) {
  ssize_t len = getline(line, cap, f);
  if (len <= 0 || (*line)[len - 1] != '\n') return 0;
  char *copy = strdup(*line);
  if (!copy) return 0;
  chomp(copy);
  int ok = parse_row(copy, r) == 0;
  free(copy);
  return ok;
}

int gc_runlog_read_csv(const char *path, gc_runlog_row **rows, size_t *n, gc_diag *d) {
  char *line = NULL;
  size_t cap = 0, count = 0, room = 0;
  gc_runlog_row *out = NULL, r;
  FILE *f = open_csv(path, &line, &cap, d);
  if (!f) {
    free(line);
    return -1;
  }
  while (next_row(f, &line, &cap, &r)) {
    if (count == room) {
      room = room ? room * 2 : 256;
      gc_runlog_row *grown = realloc(out, room * sizeof *out);
      if (!grown) {
        free(out), free(line), fclose(f);
        return gc_diag_set(d, "out of memory reading %s", path);
      }
      out = grown;
    }
    out[count++] = r;
  }
  free(line);
  fclose(f);
  *rows = out;
  *n = count;
  return 0;
}

int gc_runlog_truncate_csv(const char *path, long max_step, gc_diag *d) {
  char *text = NULL, *line = NULL;
  size_t text_len = 0, cap = 0;
  FILE *mem = open_memstream(&text, &text_len);
  if (!mem) return gc_diag_set(d, "out of memory");
  fputs(GC_RUNLOG_HEADER "\n", mem);
  if (access(path, F_OK) == 0) {
    FILE *f = open_csv(path, &line, &cap, d);
    if (!f) {
      fclose(mem), free(text), free(line);
      return -1;
    }
    gc_runlog_row r;
    while (next_row(f, &line, &cap, &r))
      if (r.step <= max_step) fputs(line, mem);
    fclose(f);
  }
  free(line);
  if (fclose(mem) != 0) {
    free(text);
    return gc_diag_set(d, "out of memory");
  }
  int rc = gc_write_file_atomic(path, text, text_len, d);
  free(text);
  return rc;
}

/* ---- the SVG plot ----------------------------------------------------------- */

enum { SVG_W = 800, SVG_H = 480, PLOT_L = 72, PLOT_R = 24, PLOT_T = 44, PLOT_B = 56 };
#define TRAIN_COLOR "#1f77b4"
#define VAL_COLOR "#ff7f0e"

typedef struct {
  double lo, hi, tick;   /* lo and hi are multiples of tick */
} axis;

/* 1, 2 or 5 times a power of ten, giving about `target` intervals. */
static double nice_tick(double range, int target) {
  double raw = range / target;
  double mag = pow(10, floor(log10(raw)));
  double f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

static axis make_axis(double min, double max, int target, double min_tick) {
  if (!(max > min)) {
    double pad = min != 0 ? fabs(min) * 0.05 : 0.5;
    min -= pad;
    max += pad;
  }
  axis a;
  a.tick = nice_tick(max - min, target);
  if (a.tick < min_tick) a.tick = min_tick;
  a.lo = floor(min / a.tick) * a.tick;
  a.hi = ceil(max / a.tick) * a.tick;
  if (!(a.hi > a.lo)) a.hi = a.lo + a.tick;
  return a;
}

static double map_x(const axis *a, double v) {
  return PLOT_L + (v - a->lo) / (a->hi - a->lo) * (SVG_W - PLOT_L - PLOT_R);
}
static double map_y(const axis *a, double v) {
  return SVG_H - PLOT_B - (v - a->lo) / (a->hi - a->lo) * (SVG_H - PLOT_T - PLOT_B);
}

static void data_ranges(const gc_runlog_row *rows, size_t n, axis *x, axis *y) {
  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    double s = (double)rows[i].step;
    xmin = fmin(xmin, s), xmax = fmax(xmax, s);
    double v[2] = {rows[i].train_loss, rows[i].val_loss};
    for (int k = 0; k < 2; k++)
      if (isfinite(v[k])) ymin = fmin(ymin, v[k]), ymax = fmax(ymax, v[k]);
  }
  if (!isfinite(xmin)) xmin = 0, xmax = 1;
  if (!isfinite(ymin)) ymin = 0, ymax = 1;
  *x = make_axis(xmin, xmax, 8, 1);
  *y = make_axis(ymin, ymax, 6, 0);
}

static void svg_axes(FILE *f, const axis *x, const axis *y) {
  double l = PLOT_L, r = SVG_W - PLOT_R, t = PLOT_T, b = SVG_H - PLOT_B;
  int nx = (int)lround((x->hi - x->lo) / x->tick), ny = (int)lround((y->hi - y->lo) / y->tick);
  fprintf(f, "<g stroke=\"#dddddd\" stroke-width=\"1\">\n");
  for (int i = 0; i <= nx; i++) {
    double px = map_x(x, x->lo + i * x->tick);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", px, t, px, b);
  }
  for (int i = 0; i <= ny; i++) {
    double py = map_y(y, y->lo + i * y->tick);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", l, py, r, py);
  }
  fprintf(f, "</g>\n<g stroke=\"black\" stroke-width=\"1\">\n");
  for (int i = 0; i <= nx; i++) {
    double px = map_x(x, x->lo + i * x->tick);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", px, b, px, b + 5);
  }
  for (int i = 0; i <= ny; i++) {
    double py = map_y(y, y->lo + i * y->tick);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", l - 5, py, l, py);
  }
  fprintf(f, "</g>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
             "stroke=\"black\"/>\n", l, t, r - l, b - t);
  fprintf(f, "<g text-anchor=\"middle\">\n");
  for (int i = 0; i <= nx; i++)
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%.6g</text>\n", map_x(x, x->lo + i * x->tick),
            b + 19, x->lo + i * x->tick);
  fprintf(f, "</g>\n<g text-anchor=\"end\">\n");
  for (int i = 0; i <= ny; i++)
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%.6g</text>\n", l - 8,
            map_y(y, y->lo + i * y->tick) + 4, y->lo + i * y->tick);
  fprintf(f, "</g>\n");
  fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">step</text>\n", (l + r) / 2,
          SVG_H - 14);
  fprintf(f, "<text transform=\"translate(18,%.1f) rotate(-90)\" text-anchor=\"middle\">"
             "loss</text>\n", (t + b) / 2);
  fprintf(f, "<text x=\"%.1f\" y=\"26\" text-anchor=\"middle\" font-size=\"16\">"
             "training loss</text>\n", (l + r) / 2);
}

/* One polyline through the finite values of one column (val = 1 for
 * val_loss), plus dots for the validation points, which may be few. */
static void svg_series(FILE *f, const gc_runlog_row *rows, size_t n, int val, const axis *x,
                       const axis *y) {
  const char *color = val ? VAL_COLOR : TRAIN_COLOR;
  fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" "
             "stroke-linejoin=\"round\" points=\"", color, val ? "2" : "1.5");
  int first = 1;
  for (size_t i = 0; i < n; i++) {
    double v = val ? rows[i].val_loss : rows[i].train_loss;
    if (!isfinite(v)) continue;
    fprintf(f, "%s%.1f,%.1f", first ? "" : " ", map_x(x, (double)rows[i].step), map_y(y, v));
    first = 0;
  }
  fprintf(f, "\"/>\n");
  if (!val) return;
  fprintf(f, "<g fill=\"%s\">\n", color);
  for (size_t i = 0; i < n; i++)
    if (isfinite(rows[i].val_loss))
      fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>\n", map_x(x, (double)rows[i].step),
              map_y(y, rows[i].val_loss));
  fprintf(f, "</g>\n");
}

static void svg_legend(FILE *f) {
  double r = SVG_W - PLOT_R - 10, t = PLOT_T + 10;
  fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"120\" height=\"48\" fill=\"white\" "
             "stroke=\"#999999\"/>\n", r - 120, t);
  const char *names[2] = {"train", "validation"}, *colors[2] = {TRAIN_COLOR, VAL_COLOR};
  for (int k = 0; k < 2; k++) {
    double y = t + 16 + 18 * k;
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
               "stroke-width=\"2\"/>\n", r - 110, y, r - 84, y, colors[k]);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", r - 76, y + 4, names[k]);
  }
}

char *gc_runlog_svg(const gc_runlog_row *rows, size_t n) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return NULL;
  axis x, y;
  data_ranges(rows, n, &x, &y);
  fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
             "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
          SVG_W, SVG_H, SVG_W, SVG_H);
  fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", SVG_W, SVG_H);
  svg_axes(f, &x, &y);
  svg_series(f, rows, n, 0, &x, &y);
  svg_series(f, rows, n, 1, &x, &y);
  svg_legend(f);
  fprintf(f, "</svg>\n");
  if (fclose(f) != 0) {
    free(text);
    return NULL;
  }
  return text;
}

int gc_runlog_write_svg(const char *csv_path, const char *svg_path, gc_diag *d) {
  gc_runlog_row *rows = NULL;
  size_t n = 0;
  if (gc_runlog_read_csv(csv_path, &rows, &n, d) < 0) return -1;
  char *svg = gc_runlog_svg(rows, n);
  free(rows);
  if (!svg) return gc_diag_set(d, "out of memory drawing %s", svg_path);
  int rc = gc_write_file_atomic(svg_path, svg, strlen(svg), d);
  free(svg);
  return rc;
}

/* ---- the run log -------------------------------------------------------------- */

int gc_runlog_open(gc_runlog *log, const char *dir, long resume_step, gc_diag *d) {
  memset(log, 0, sizeof *log);
  log->csv_path = concat(dir, "/loss.csv");
  log->svg_path = concat(dir, "/loss.svg");
  if (!log->csv_path || !log->svg_path) {
    gc_runlog_close(log);
    return gc_diag_set(d, "out of memory");
  }
  int rc = resume_step < 0
               ? gc_write_file_atomic(log->csv_path, GC_RUNLOG_HEADER "\n",
                                      strlen(GC_RUNLOG_HEADER "\n"), d)
               : gc_runlog_truncate_csv(log->csv_path, resume_step, d);
  if (rc == 0 && !(log->csv = fopen(log->csv_path, "a")))
    rc = gc_diag_set(d, "cannot open %s: %s", log->csv_path, strerror(errno));
  if (rc < 0) gc_runlog_close(log);
  return rc;
}

int gc_runlog_append(gc_runlog *log, const gc_runlog_row *r, gc_diag *d) {
  char val[64] = "";
  if (!isnan(r->val_loss)) snprintf(val, sizeof val, "%.6g", r->val_loss);
  fprintf(log->csv, "%ld,%.6g,%s,%.6g,%.1f\n", r->step, r->train_loss, val, r->lr,
          r->tokens_per_s);
  if (fflush(log->csv) != 0 || ferror(log->csv))
    return gc_diag_set(d, "cannot write %s: %s", log->csv_path, strerror(errno));
  return 0;
}

int gc_runlog_plot(gc_runlog *log, gc_diag *d) {
  return gc_runlog_write_svg(log->csv_path, log->svg_path, d);
}

void gc_runlog_close(gc_runlog *log) {
  if (log->csv) fclose(log->csv);
  free(log->csv_path);
  free(log->svg_path);
  memset(log, 0, sizeof *log);
}
