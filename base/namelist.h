/* base/namelist.h — the list of known names in an "unknown X" message:
 *
 *   char known[256] = "";
 *   for (each entry) gc_namelist_add(known, sizeof known, ", ", entry->name);
 *   gc_diag_set(d, "unknown backend '%s' (known: %s)", name, known);
 */
#ifndef GC_BASE_NAMELIST_H
#define GC_BASE_NAMELIST_H

#include <stddef.h>

/* Append `name` to the NUL-terminated list in buf, after `sep` unless the
 * list is empty; a list that does not fit is cut short (always
 * NUL-terminated). */
void gc_namelist_add(char *buf, size_t size, const char *sep, const char *name);

#endif
