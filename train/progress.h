/* train/progress.h — the progress display of a long-running command.
 *
 * On a terminal, one line is redrawn in place ("\r", the line, then
 * clear-to-end-of-line "\033[K"); otherwise (a pipe or a file, as isatty
 * tells) every update is a plain line.  A line looks like
 *
 *   step  120/2000  loss 2.4312  lr 9.6e-04  5,210 tok/s  elapsed 1m12s  eta 18m47s
 *
 * The ETA is (total - step) divided by the mean step rate of this process
 * (steps done since gc_progress_start over the time since), so a resumed run
 * does not count the steps it skipped.  Times are passed in by the caller
 * (gc_now_seconds) so the display itself is deterministic and testable.
 *
 * The formatting functions write into a caller buffer (always
 * NUL-terminated, truncated if short) and return it. */
#ifndef GC_PROGRESS_H
#define GC_PROGRESS_H

#include "base/clock.h"   /* gc_now_seconds */

#include <stddef.h>
#include <stdio.h>

typedef struct {
  FILE *out;
  int is_tty;          /* redraw in place; set from isatty, may be overridden */
  long first_step;     /* steps already done when this process started */
  long total;
  double t0;           /* gc_now_seconds() at start */
  int line_open;       /* a redrawn line is on screen without its newline */
} gc_progress;

void gc_progress_start(gc_progress *p, FILE *out, long first_step, long total, double now);
/* Shows `step` steps done (1-based count) of total. */
void gc_progress_update(gc_progress *p, long step, double loss, double lr, double tokens_per_s,
                        double now);
/* Prints a line of its own (e.g. a validation line) without garbling the
 * progress line; the next update redraws it below. */
void gc_progress_message(gc_progress *p, const char *line);
/* Ends the redrawn line with a newline, if one is open. */
void gc_progress_finish(gc_progress *p);

/* 5 -> "5s", 72 -> "1m12s", 3725 -> "1h02m05s" (rounded to the second;
 * negative or non-finite -> "?"). */
char *gc_format_duration(double seconds, char *buf, size_t size);
/* Rounded to an integer with thousands separators: 5210.4 -> "5,210". */
char *gc_format_count(double x, char *buf, size_t size);
/* The progress line above; eta < 0 or non-finite prints "eta ?". */
char *gc_format_progress(char *buf, size_t size, long step, long total, double loss, double lr,
                         double tokens_per_s, double elapsed, double eta);
/* "val  step 200  loss 2.0100  ppl 7.46  bpb 1.234": loss is the mean over
 * tokens in nats, ppl = exp(loss), bpb = total_nats / ln 2 / n_bytes where
 * n_bytes is the byte length the evaluated tokens decode to (bpb is left
 * out when n_bytes <= 0). */
char *gc_format_val(char *buf, size_t size, long step, double loss, double total_nats,
                    double n_bytes);

#endif
