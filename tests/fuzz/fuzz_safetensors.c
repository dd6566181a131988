/* tests/fuzz/fuzz_safetensors.c — the libFuzzer harness of the safetensors
 * reader (io/safetensors.c; docs/fuzzing.md).
 *
 * Whatever the bytes, gc_safetensors_parse either refuses them with a
 * message, leaving the map empty, or gives tensors that
 *   - each hold numel × dtype size bytes, all readable (the sanitizers
 *     check every byte is inside its allocation and initialised),
 *   - fit in the file: their bytes never add up to more than it holds,
 *   - write back (gc_safetensors_write) and read back (gc_safetensors_read)
 *     as the same names in the same order with the same types and bits.
 * The files written go to a temporary directory under $TMPDIR, removed at
 * exit. */
#include "io/safetensors.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[4096], path[4200];
static volatile unsigned sink; /* where every tensor's bytes are summed */

static void fail(const char *what, const char *name) {
  fprintf(stderr, "fuzz_safetensors: %s%s%s\n", what, name ? ": " : "", name ? name : "");
  abort();
}

static void remove_dir(void) {
  unlink(path);
  rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/gc-fuzz-safetensors.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) fail("cannot make a temporary directory", dir);
  snprintf(path, sizeof path, "%s/t.safetensors", dir);
  atexit(remove_dir);
  return 0;
}

/* Reads every byte of the tensor; returns their sum, so nothing is skipped. */
static unsigned touch(const gc_tensor *t) {
  const unsigned char *p = t->data;
  unsigned sum = 0;
  for (size_t i = 0; i < gc_tensor_bytes(t); i++) sum += p[i];
  return sum;
}

static void check_same(const gc_tensor_map *a, const gc_tensor_map *b) {
  if (a->n != b->n) fail("the file written back holds a different number of tensors", NULL);
  for (int i = 0; i < a->n; i++) {
    const gc_tensor *x = a->tensors[i], *y = b->tensors[i];
    if (strcmp(a->names[i], b->names[i]) != 0) fail("a tensor reads back under another name", a->names[i]);
    if (!gc_type_equal(&x->type, &y->type)) fail("a tensor reads back with another type", a->names[i]);
    if (memcmp(x->data, y->data, gc_tensor_bytes(x)) != 0) fail("a tensor reads back with other bits", a->names[i]);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  gc_diag d = {0};
  if (gc_safetensors_parse(data, size, &m, &d) < 0) {
    if (!d.msg[0]) fail("refused without a message", NULL);
    if (m.n) fail("a refused file left tensors in the map", NULL);
    return 0;
  }
  size_t total = 0;
  for (int i = 0; i < m.n; i++) {
    const gc_tensor *t = m.tensors[i];
    if (!t) fail("a tensor is missing", m.names[i]);
    total += gc_tensor_bytes(t) / gc_dtype_size(t->type.dtype);
    sink += touch(t);
  }
  if (total > size) fail("the tensors hold more elements than the file has bytes", NULL);
  gc_tensor_map back;
  gc_tensor_map_init(&back);
  if (gc_safetensors_write(path, &m, &d) < 0) fail("cannot write the tensors back", d.msg);
  if (gc_safetensors_read(path, &back, &d) < 0) fail("the file written back does not read", d.msg);
  check_same(&m, &back);
  gc_tensor_map_clear(&back);
  gc_tensor_map_clear(&m);
  return 0;
}
