/* Helpers shared by the cmocka suites (header only). */
#ifndef GC_TESTUTIL_H
#define GC_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* |a-b| <= tol * max(1, |a|, |b|) */
static inline int gc_close(double a, double b, double tol) {
  double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
  if (m < 1) m = 1;
  if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
  if (isinf(a) || isinf(b)) return a == b;
  return fabs(a - b) <= tol * m;
}

#define assert_close(a, b, tol)                                                          \
  do {                                                                                   \
    double a_ = (a), b_ = (b);                                                           \
    if (!gc_close(a_, b_, (tol))) fail_msg("%s = %.17g, expected %.17g (tol %g)", #a, a_, b_, (double)(tol)); \
  } while (0)

static inline int gc_by_name_(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of dir's files ending in `suffix`, sorted, into names[max]
 * (each malloc'd: the caller frees them); their count.  A test of text cases
 * (tests/passes/cases, tests/codegen/cases) reads its folder with this. */
static inline int gc_case_files(const char *dir, const char *suffix, char **names, int max) {
  DIR *dp = opendir(dir);
  if (!dp) fail_msg("cannot open %s", dir);
  int n = 0;
  size_t k = strlen(suffix);
  for (struct dirent *e; (e = readdir(dp)) && n < max;)
    if (strlen(e->d_name) > k && strcmp(e->d_name + strlen(e->d_name) - k, suffix) == 0) names[n++] = strdup(e->d_name);
  closedir(dp);
  qsort(names, (size_t)n, sizeof *names, gc_by_name_);
  return n;
}

#endif
