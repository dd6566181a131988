/* The registry of model families, generated from registry.def. */
#include "models/model.h"

#include <string.h>

#define GC_MODEL_FAMILY(name) extern const gc_model_family gc_family_##name;
#include "models/registry.def"
#undef GC_MODEL_FAMILY

static const gc_model_family *const families[] = {
#define GC_MODEL_FAMILY(name) &gc_family_##name,
#include "models/registry.def"
#undef GC_MODEL_FAMILY
};

const gc_model_family *const *gc_model_families(int *n) {
  *n = (int)(sizeof families / sizeof families[0]);
  return families;
}

const gc_model_family *gc_model_family_find(const char *name) {
  for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
    if (strcmp(families[i]->name, name) == 0) return families[i];
  return NULL;
}
