/* tools/nan_cli.h — the NaN-check flags gc-run and gc-train share
 * (--check-nans, --check-infs, --nan-dir), an option table over
 * gc_nan_options that a tool includes (GC_OPT_INCLUDE_TABLE). */
#ifndef GC_TOOLS_NAN_CLI_H
#define GC_TOOLS_NAN_CLI_H

#include "backends/backend.h"
#include "tools/options.h"

extern const gc_opt gc_cli_nan_options[];

#endif
