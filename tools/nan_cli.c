/* The NaN-check flags (see nan_cli.h and docs/debugging.md). */
#include "tools/nan_cli.h"

#include <stddef.h>

#define NAN_OPT(name, kind, field, value, help) GC_OPT(name, 0, kind, gc_nan_options, field, value, help)
const gc_opt gc_cli_nan_options[] = {
    NAN_OPT("check-nans", GC_OPT_FLAG, check_nans, NULL,
            "after each kernel, check its results for NaN; at the first,\n"
            "stop and name the node that made it (replayed in the\n"
            "interpreter) and write a reproducer into --nan-dir"),
    NAN_OPT("check-infs", GC_OPT_FLAG, check_infs, NULL, "as --check-nans, for NaN and +-Inf"),
    NAN_OPT("nan-dir", GC_OPT_FILE, dir, "DIR",
            "where a NaN's reproducer goes (default gc-nan): nan-program.gcir,\n"
            "nan-kernel.gcir and nan-inputs.safetensors for gc-run"),
    GC_OPT_TABLE_END,
};
#undef NAN_OPT
