/* tools/cli.h — what the command-line programs share: reading and writing
 * whole files ("-" is stdin/stdout), loading a .gcir graph with caret-style
 * errors, and reporting usage errors.  Exit codes are the same in every tool. */
#ifndef GC_TOOLS_CLI_H
#define GC_TOOLS_CLI_H

#include <stddef.h>

#include "ir/ir.h"

enum { GC_EXIT_OK = 0, GC_EXIT_ERROR = 1, GC_EXIT_USAGE = 2 };

/* The whole of `path` ("-" reads stdin) in a malloc'd buffer the caller
 * frees; it is NUL-terminated, the NUL not counted in *len.  NULL on failure,
 * with "PATH: reason" in errbuf. */
char *gc_cli_read_file(const char *path, size_t *len, char *errbuf, size_t size);

/* Write `len` bytes to `path` ("-" or NULL writes stdout), as every output
 * file is written (gc_write_file_atomic: a file replaced atomically, a
 * symlink's target in its place, a device or FIFO written into).  0, or -1
 * with "cannot write PATH: reason" in errbuf. */
int gc_cli_write_file(const char *path, const char *data, size_t len, char *errbuf, size_t size);

/* At exit: stdout flushed and closed; a write that failed on the way (a
 * full disk, /dev/full) is an error: "PROG: error: cannot write <stdout>:
 * reason" and GC_EXIT_ERROR, else 0. */
int gc_cli_close_stdout(const char *prog);

/* "PROG: MESSAGE\nTry 'PROG --help' for more information.\n" on stderr;
 * returns GC_EXIT_USAGE so callers can `return gc_cli_usage_error(...)`. */
int gc_cli_usage_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An error on stderr: "FILE:LINE:COL: error: MSG", the source line and a
 * caret when `d` has a position in `text` (text may be NULL), else
 * "FILE: error: MSG". */
void gc_cli_print_diag(const char *file, const char *text, size_t len, const gc_diag *d);

/* Read, parse and verify (gc_verify) a .gcir file ("-" is stdin).  NULL
 * after printing the error on stderr, pointing at the line either way. */
gc_graph *gc_cli_load_graph(const char *path);

/* gc_cli_load_graph that also hands over the file's text (NUL-terminated,
 * *len bytes; the caller frees it, also after a failure, when it is
 * non-NULL), so that a later error about a node (gc_verify after a pass)
 * can be printed with gc_cli_print_diag pointing at its line. */
gc_graph *gc_cli_load_graph_source(const char *path, char **text, size_t *len);

/* How a path is named in messages: "<stdin>" for "-". */
const char *gc_cli_display_name(const char *path);

#endif
