/* base/namelist.c — see namelist.h. */
#include "base/namelist.h"

#include <stdio.h>
#include <string.h>

void gc_namelist_add(char *buf, size_t size, const char *sep, const char *name) {
  if (size == 0) return;
  size_t k = strnlen(buf, size);
  if (k + 1 >= size) return;
  snprintf(buf + k, size - k, "%s%s", k ? sep : "", name);
}
