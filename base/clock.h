/* base/clock.h — the time that measures: a monotonic clock in seconds, for
 * timing passes, compiles, runs and training steps (never the date). */
#ifndef GC_BASE_CLOCK_H
#define GC_BASE_CLOCK_H

/* Seconds since an arbitrary fixed point (CLOCK_MONOTONIC). */
double gc_now_seconds(void);

/* The same in milliseconds. */
static inline double gc_now_ms(void) { return 1e3 * gc_now_seconds(); }

#endif
