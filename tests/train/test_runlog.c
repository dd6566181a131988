/* loss.csv, loss.svg and the progress display. */
#include "tests/testutil.h"
#include "train/progress.h"
#include "train/runlog.h"
#include "io/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  size_t got = fread(s, 1, (size_t)n, f);
  s[got] = 0;
  fclose(f);
  return s;
}

static void make_dir(char *tmpl) { assert_non_null(mkdtemp(tmpl)); }

static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[512];
  while (d && (e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path);
    }
  if (d) closedir(d);
  rmdir(dir);
}

static int count_files(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  while (d && (e = readdir(d))) n += e->d_name[0] != '.';
  if (d) closedir(d);
  return n;
}

static int count_substr(const char *s, const char *sub) {
  int n = 0;
  for (const char *p = strstr(s, sub); p; p = strstr(p + 1, sub)) n++;
  return n;
}

static const gc_runlog_row rows[5] = {
    {1, 2.5, NAN, 0.001, 1234.5},
    {2, 2.25, 2.375, 0.002, 2000},
    {3, 2, NAN, 0.003, 2100.25},
    {4, 1.75, 1.9375, 0.0025, 2200},
    {5, 1.5, NAN, 1e-05, 2300},
};
static const char *row_text[5] = {
    "1,2.5,,0.001,1234.5\n", "2,2.25,2.375,0.002,2000.0\n", "3,2,,0.003,2100.2\n",
    "4,1.75,1.9375,0.0025,2200.0\n", "5,1.5,,1e-05,2300.0\n",
};

static void test_csv(void **state) {
  (void)state;
  char dir[] = "/tmp/gc_runlog_XXXXXX", csv[300], want[1000];
  make_dir(dir);
  snprintf(csv, sizeof csv, "%s/loss.csv", dir);
  gc_diag d;
  gc_runlog log;
  assert_int_equal(gc_runlog_open(&log, dir, -1, &d), 0);
  strcpy(want, "step,train_loss,val_loss,lr,tokens_per_s\n");
  for (int i = 0; i < 5; i++) {
    assert_int_equal(gc_runlog_append(&log, &rows[i], &d), 0);
    strcat(want, row_text[i]);
    char *text = slurp(csv);   /* flushed: visible before close */
    assert_string_equal(text, want);
    free(text);
  }
  gc_runlog_close(&log);

  gc_runlog_row *got;
  size_t n;
  assert_int_equal(gc_runlog_read_csv(csv, &got, &n, &d), 0);
  assert_int_equal(n, 5);
  assert_int_equal(got[3].step, 4);
  assert_close(got[3].train_loss, 1.75, 0);
  assert_close(got[3].val_loss, 1.9375, 0);
  assert_true(isnan(got[2].val_loss));
  assert_close(got[4].lr, 1e-5, 0);
  assert_close(got[2].tokens_per_s, 2100.2, 1e-12);
  free(got);

  /* a crash cut the last row short: reading stops there, resuming drops it */
  FILE *f = fopen(csv, "a");
  fputs("6,1.2", f);
  fclose(f);
  assert_int_equal(gc_runlog_read_csv(csv, &got, &n, &d), 0);
  assert_int_equal(n, 5);
  free(got);
  /* resume at step 3: rows 4, 5 and the torn row go, new rows follow */
  assert_int_equal(gc_runlog_open(&log, dir, 3, &d), 0);
  gc_runlog_row r4 = {4, 1.8, NAN, 0.0025, 2150};
  assert_int_equal(gc_runlog_append(&log, &r4, &d), 0);
  gc_runlog_close(&log);
  char *text = slurp(csv);
  snprintf(want, sizeof want, "%s%s%s%s%s", GC_RUNLOG_HEADER "\n", row_text[0], row_text[1],
           row_text[2], "4,1.8,,0.0025,2150.0\n");
  assert_string_equal(text, want);
  free(text);
  assert_int_equal(count_files(dir), 1);   /* no temporary left behind */

  /* truncation keeps rows with step <= N */
  assert_int_equal(gc_runlog_truncate_csv(csv, 1, &d), 0);
  text = slurp(csv);
  snprintf(want, sizeof want, "%s%s", GC_RUNLOG_HEADER "\n", row_text[0]);
  assert_string_equal(text, want);
  free(text);
  assert_int_equal(gc_runlog_truncate_csv(csv, 0, &d), 0);
  text = slurp(csv);
  assert_string_equal(text, GC_RUNLOG_HEADER "\n");
  free(text);

  /* a fresh run replaces the old log */
  assert_int_equal(gc_runlog_truncate_csv(csv, 100, &d), 0);
  assert_int_equal(gc_runlog_open(&log, dir, -1, &d), 0);
  gc_runlog_close(&log);
  text = slurp(csv);
  assert_string_equal(text, GC_RUNLOG_HEADER "\n");
  free(text);

  /* not a loss.csv */
  f = fopen(csv, "w");
  fputs("a,b\n1,2\n", f);
  fclose(f);
  assert_int_equal(gc_runlog_read_csv(csv, &got, &n, &d), -1);
  assert_non_null(strstr(d.msg, "header"));
  assert_int_equal(gc_runlog_open(&log, dir, 5, &d), -1);
  remove_dir(dir);
}

/* Tags nest and close: a small well-formedness check for our own output
 * (no comments, CDATA or entities in it). */
static void assert_tags_balanced(const char *s) {
  char stack[64][32];
  int depth = 0;
  for (const char *p = strchr(s, '<'); p; p = strchr(p + 1, '<')) {
    const char *end = strchr(p, '>');
    assert_non_null(end);
    assert_null(memchr(p + 1, '<', (size_t)(end - p - 1)));
    char name[32];
    int closing = p[1] == '/';
    size_t k = 0;
    for (const char *q = p + 1 + closing; *q != ' ' && *q != '>' && *q != '/' && k < 31; q++)
      name[k++] = *q;
    name[k] = 0;
    if (closing) {
      assert_true(depth > 0);
      assert_string_equal(stack[--depth], name);
    } else if (end[-1] != '/') {
      assert_true(depth < 64);
      strcpy(stack[depth++], name);
    }
  }
  assert_int_equal(depth, 0);
}

/* The coordinates of the n-th polyline's points, as "x,y" pairs. */
static int polyline_points(const char *svg, int which, double *xs, double *ys, int max) {
  const char *p = svg;
  for (int i = 0; i <= which; i++) {
    p = strstr(p, "<polyline");
    assert_non_null(p);
    p++;
  }
  p = strstr(p, "points=\"") + 8;
  int n = 0;
  while (*p != '"') {
    char *end;
    xs[n] = strtod(p, &end);
    assert_true(*end == ',');
    ys[n] = strtod(end + 1, &end);
    n++;
    assert_true(n <= max);
    p = end;
    while (*p == ' ') p++;
  }
  return n;
}

static void test_svg(void **state) {
  (void)state;
  char dir[] = "/tmp/gc_runlog_XXXXXX", svg_path[300];
  make_dir(dir);
  snprintf(svg_path, sizeof svg_path, "%s/loss.svg", dir);
  gc_diag d;
  gc_runlog log;
  assert_int_equal(gc_runlog_open(&log, dir, -1, &d), 0);
  assert_int_equal(gc_runlog_plot(&log, &d), 0);   /* no rows yet: axes, empty lines */
  char *empty = slurp(svg_path);
  assert_int_equal(count_substr(empty, "<polyline"), 2);
  assert_tags_balanced(empty);
  int old_fd = open(svg_path, O_RDONLY);
  assert_true(old_fd >= 0);

  for (int i = 0; i < 5; i++) assert_int_equal(gc_runlog_append(&log, &rows[i], &d), 0);
  assert_int_equal(gc_runlog_plot(&log, &d), 0);
  gc_runlog_close(&log);
  char *svg = slurp(svg_path);
  assert_int_equal(strncmp(svg, "<svg", 4), 0);
  assert_non_null(strstr(svg, "xmlns=\"http://www.w3.org/2000/svg\""));
  assert_string_equal(svg + strlen(svg) - 7, "</svg>\n");
  assert_tags_balanced(svg);
  assert_int_equal(count_substr(svg, "<polyline"), 2);
  assert_non_null(strstr(svg, ">train<"));
  assert_non_null(strstr(svg, ">validation<"));
  assert_non_null(strstr(svg, ">step<"));
  double xs[8], ys[8], vx[8], vy[8];
  assert_int_equal(polyline_points(svg, 0, xs, ys, 8), 5);   /* train: every step */
  assert_int_equal(polyline_points(svg, 1, vx, vy, 8), 2);   /* val: steps 2 and 4 */
  /* linear axes: x steps evenly apart, y decreasing loss goes down the page */
  for (int i = 1; i < 5; i++) {
    assert_close(xs[i] - xs[i - 1], xs[1] - xs[0], 1e-2);
    assert_close(ys[i] - ys[i - 1], ys[1] - ys[0], 1e-2);
    assert_true(ys[i] > ys[i - 1]);   /* svg y grows downwards */
  }
  assert_close(vx[0], xs[1], 1e-9);
  assert_close(vx[1], xs[3], 1e-9);
  for (int i = 0; i < 5; i++) assert_true(xs[i] >= 0 && xs[i] <= 800 && ys[i] >= 0 && ys[i] <= 480);

  /* atomic: the old file was replaced by rename, not rewritten in place,
   * so a reader holding it still sees the complete old plot */
  struct stat old_st, new_st;
  assert_int_equal(fstat(old_fd, &old_st), 0);
  assert_int_equal(stat(svg_path, &new_st), 0);
  assert_true(old_st.st_ino != new_st.st_ino);
  char buf[64] = {0};
  assert_true(read(old_fd, buf, 4) == 4);
  assert_string_equal(buf, "<svg");
  assert_int_equal((long)old_st.st_size, (long)strlen(empty));
  close(old_fd);
  assert_int_equal(count_files(dir), 2);   /* loss.csv, loss.svg: no temporaries */
  free(svg);
  free(empty);

  /* a failing atomic write leaves nothing and says why */
  assert_int_equal(gc_write_file_atomic("/nonexistent-dir/x.svg", "x", 1, &d), -1);
  assert_non_null(strstr(d.msg, "/nonexistent-dir/x.svg"));
  remove_dir(dir);
}

static void test_format(void **state) {
  (void)state;
  char b[200];
  assert_string_equal(gc_format_duration(0, b, sizeof b), "0s");
  assert_string_equal(gc_format_duration(5, b, sizeof b), "5s");
  assert_string_equal(gc_format_duration(59.4, b, sizeof b), "59s");
  assert_string_equal(gc_format_duration(72, b, sizeof b), "1m12s");
  assert_string_equal(gc_format_duration(3599.6, b, sizeof b), "1h00m00s");
  assert_string_equal(gc_format_duration(3725, b, sizeof b), "1h02m05s");
  assert_string_equal(gc_format_duration(90061, b, sizeof b), "25h01m01s");
  assert_string_equal(gc_format_duration(-1, b, sizeof b), "?");
  assert_string_equal(gc_format_duration(NAN, b, sizeof b), "?");
  assert_string_equal(gc_format_count(5210.4, b, sizeof b), "5,210");
  assert_string_equal(gc_format_count(999, b, sizeof b), "999");
  assert_string_equal(gc_format_count(1000, b, sizeof b), "1,000");
  assert_string_equal(gc_format_count(1234567, b, sizeof b), "1,234,567");
  assert_string_equal(gc_format_count(0, b, sizeof b), "0");
  assert_string_equal(gc_format_progress(b, sizeof b, 120, 2000, 2.4312, 9.6e-4, 5210, 72, 1127),
                      "step  120/2000  loss 2.4312  lr 9.6e-04  5,210 tok/s  elapsed 1m12s  "
                      "eta 18m47s");
  assert_string_equal(gc_format_progress(b, sizeof b, 3, 10, 1, 0.01, 0, 0, -1),
                      "step  3/10  loss 1.0000  lr 1.0e-02  0 tok/s  elapsed 0s  eta ?");
  /* bpb: 1250 ln 2 nats over 1000 bytes = 1.25 bits per byte; ppl = e^2.01 */
  assert_string_equal(gc_format_val(b, sizeof b, 200, 2.01, 1250 * log(2.0), 1000),
                      "val  step 200  loss 2.0100  ppl 7.46  bpb 1.250");
  assert_string_equal(gc_format_val(b, sizeof b, 7, 0, 0, 0), "val  step 7  loss 0.0000  ppl 1.00");
}

static void test_progress_display(void **state) {
  (void)state;
  FILE *f = tmpfile();
  gc_progress p;
  gc_progress_start(&p, f, 100, 1100, 10.0);   /* resumed at step 100 */
  assert_int_equal(p.is_tty, 0);
  /* 50 steps in 10 s: 5 steps/s, 950 left -> 190 s */
  gc_progress_update(&p, 150, 2.5, 1e-3, 4000, 20.0);
  char want[1024], line[256];
  gc_format_progress(line, sizeof line, 150, 1100, 2.5, 1e-3, 4000, 10, 190);
  assert_non_null(strstr(line, "elapsed 10s  eta 3m10s"));
  snprintf(want, sizeof want, "%s\n", line);
  /* on a terminal: redrawn in place, messages clear it first */
  p.is_tty = 1;
  gc_progress_update(&p, 200, 2.0, 1e-3, 4000, 30.0);   /* 100 steps / 20 s, 900 left */
  gc_format_progress(line, sizeof line, 200, 1100, 2.0, 1e-3, 4000, 20, 180);
  snprintf(want + strlen(want), sizeof want - strlen(want), "\r%s\033[K", line);
  gc_progress_message(&p, "val  step 200  loss 2.0000  ppl 7.39");
  strcat(want, "\r\033[Kval  step 200  loss 2.0000  ppl 7.39\n");
  gc_progress_update(&p, 201, 2.0, 1e-3, 4000, 30.2);
  gc_format_progress(line, sizeof line, 201, 1100, 2.0, 1e-3, 4000, 20.2, 899 * 20.2 / 101);
  snprintf(want + strlen(want), sizeof want - strlen(want), "\r%s\033[K", line);
  gc_progress_finish(&p);
  strcat(want, "\n");
  gc_progress_finish(&p);   /* nothing open: nothing printed */
  fflush(f);
  rewind(f);
  char got[1024] = {0};
  size_t n = fread(got, 1, sizeof got - 1, f);
  got[n] = 0;
  assert_string_equal(got, want);
  fclose(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_csv),
      cmocka_unit_test(test_svg),
      cmocka_unit_test(test_format),
      cmocka_unit_test(test_progress_display),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
