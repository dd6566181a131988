/* backends/nan_report.h — where a NaN was born (--check-nans).
 *
 * The report gc_compile installs in a program checked for NaNs
 * (backends/runtime/nan_check.h): the kernel that made the first bad value
 * is replayed node by node in the interpreter on the operands it read, and
 * the first node whose inputs are finite and whose output is not is named
 * as the program's dump prints it, with its line in that dump, its inputs
 * at the bad element, how many values are bad, and for a backward node the
 * forward node it is the gradient of.  Into the directory (gc-nan/ unless
 * told) go the dump (nan-program.gcir), the kernel as a program of its own
 * whose inputs are its operands (nan-kernel.gcir) and those operands
 * (nan-inputs.safetensors): `gc-run nan-kernel.gcir --inputs
 * nan-inputs.safetensors` makes the same NaN.  Always returns -1, the
 * report in d. */
#ifndef GC_BACKENDS_NAN_REPORT_H
#define GC_BACKENDS_NAN_REPORT_H

#include "backends/runtime/nan_check.h"

int gc_nan_report(const gc_nan_found *f, gc_diag *d);

#endif
