/* train/runlog.h — a training run's log files: loss.csv and loss.svg.
 *
 * loss.csv has the header `step,train_loss,val_loss,lr,tokens_per_s` and one
 * row per step, appended and flushed as the step ends, so a crash loses at
 * most the row being written.  val_loss is empty on steps without an
 * evaluation.  On resume, rows after the resumed step are dropped
 * (gc_runlog_truncate_csv) so the file again describes exactly one run.
 *
 * loss.svg is a self-contained line plot of train and validation loss
 * against step (linear axes with ticks and labels, a legend), regenerated
 * from the CSV whenever the caller asks and replaced atomically: a reader
 * sees the old plot or the new one, never half a file.
 *
 * Ownership: gc_runlog_open fills a caller-provided gc_runlog that
 * gc_runlog_close releases.  gc_runlog_read_csv returns a malloc'd array the
 * caller frees; gc_runlog_svg a malloc'd string the caller frees. */
#ifndef GC_RUNLOG_H
#define GC_RUNLOG_H

#include <stdio.h>

#include "ir/ir.h"

#define GC_RUNLOG_HEADER "step,train_loss,val_loss,lr,tokens_per_s"

typedef struct {
  long step;
  double train_loss;
  double val_loss;        /* NAN when the step had no evaluation (empty field) */
  double lr;
  double tokens_per_s;
} gc_runlog_row;

typedef struct {
  FILE *csv;              /* open for appending */
  char *csv_path, *svg_path;
} gc_runlog;

/* Opens DIR/loss.csv (DIR must exist).  resume_step < 0 starts afresh (an
 * existing file is replaced by just the header); otherwise rows with step >
 * resume_step are dropped first (a missing file is created). */
int gc_runlog_open(gc_runlog *log, const char *dir, long resume_step, gc_diag *d);
/* Appends one row and flushes it to the OS. */
int gc_runlog_append(gc_runlog *log, const gc_runlog_row *row, gc_diag *d);
/* Regenerates DIR/loss.svg from DIR/loss.csv. */
int gc_runlog_plot(gc_runlog *log, gc_diag *d);
void gc_runlog_close(gc_runlog *log);

/* The rows of a loss.csv (header checked; a malformed or unterminated line,
 * such as a row cut short by a crash, ends the read). */
int gc_runlog_read_csv(const char *path, gc_runlog_row **rows, size_t *n, gc_diag *d);
/* Rewrites the CSV (atomically) keeping the header and rows with step <=
 * max_step; a missing file becomes just the header. */
int gc_runlog_truncate_csv(const char *path, long max_step, gc_diag *d);
/* The SVG document for these rows, NUL-terminated; NULL when out of memory. */
char *gc_runlog_svg(const gc_runlog_row *rows, size_t n);
int gc_runlog_write_svg(const char *csv_path, const char *svg_path, gc_diag *d);

#endif
