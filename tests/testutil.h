/* Helpers shared by the cmocka suites (header only). */
#ifndef GC_TESTUTIL_H
#define GC_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>

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

#endif
