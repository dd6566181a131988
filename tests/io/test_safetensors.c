/* safetensors: round trips, F16/BF16 conversion, and every malformed file
 * refused with a message (run under the sanitizer build too). */
#include "tests/testutil.h"
#include "io/safetensors.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

static char *temp_dir(void) {
  char *dir = strdup("/tmp/gc_st_test.XXXXXX");
  assert_non_null(mkdtemp(dir));
  return dir;
}

static void remove_dir(char *dir) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
  free(dir);
}

static gc_tensor *make(gc_dtype dt, int rank, const int64_t *dims) {
  gc_type t = gc_type_make(dt, rank, dims);
  gc_tensor *x = gc_tensor_new(&t);
  assert_non_null(x);
  for (int64_t i = 0; i < gc_tensor_numel(x); i++)
    gc_tensor_store(x, i, dt == GC_BOOL ? (double)(i % 3 == 0) : (double)(i * 7 - 5) / (dt == GC_F32 || dt == GC_F64 ? 4 : 1));
  return x;
}

/* A file image: 8-byte length of `header`, the header, then `data_len` bytes
 * of `data` (zeros when NULL).  Returns the image size. */
static size_t image(unsigned char *out, const char *header, const void *data, size_t data_len) {
  size_t h = strlen(header);
  assert_true(8 + h + data_len <= 4096);
  for (int i = 0; i < 8; i++) out[i] = (unsigned char)((uint64_t)h >> (8 * i));
  memcpy(out + 8, header, h);
  if (data) memcpy(out + 8 + h, data, data_len);
  else memset(out + 8 + h, 0, data_len);
  return 8 + h + data_len;
}

static unsigned char buf[4096];
static char *scratch; /* a directory for the files of the malformed-file tests */

static void write_bytes(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

/* Reading the image `img` (n bytes) must fail with a message containing
 * `want` and leave `out` untouched: parsed from memory, and read from a file,
 * where the message must also start with the file's path. */
static void expect_image_error(const unsigned char *img, size_t n, const char *want) {
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  gc_tensor_map_put(&m, "keep", make(GC_F32, 0, NULL));
  gc_diag d = {0};
  int rc = gc_safetensors_parse(img, n, &m, &d);
  if (rc != -1 || !strstr(d.msg, want))
    fail_msg("header %.*s: rc %d, message \"%s\", expected one containing \"%s\"",
             n > 8 ? (int)(n - 8) : 0, (const char *)img + 8, rc, d.msg, want);
  char path[300];
  snprintf(path, sizeof path, "%s/bad.safetensors", scratch);
  write_bytes(path, img, n);
  rc = gc_safetensors_read(path, &m, &d);
  if (rc != -1 || strncmp(d.msg, path, strlen(path)) != 0 || !strstr(d.msg, want))
    fail_msg("file: rc %d, message \"%s\", expected \"%s: ...%s...\"", rc, d.msg, path, want);
  assert_int_equal(m.n, 1);
  gc_tensor_map_clear(&m);
}

/* The same for a file made of `header` and `data_len` zero bytes. */
static void expect_error(const char *header, size_t data_len, const char *want) {
  size_t n = image(buf, header, NULL, data_len);
  expect_image_error(buf, n, want);
}

static int make_scratch(void **state) {
  (void)state;
  scratch = temp_dir();
  return 0;
}

static int remove_scratch(void **state) {
  (void)state;
  remove_dir(scratch);
  return 0;
}

/* ---- round trips -------------------------------------------------------- */

static void test_round_trip_every_dtype(void **state) {
  (void)state;
  char *dir = temp_dir(), path[300];
  snprintf(path, sizeof path, "%s/t.safetensors", dir);
  gc_tensor_map m, r;
  gc_tensor_map_init(&m);
  gc_tensor_map_init(&r);
  gc_tensor_map_put(&m, "w.f32", make(GC_F32, 2, (int64_t[]){2, 3}));
  gc_tensor_map_put(&m, "scalar.f64", make(GC_F64, 0, NULL));
  gc_tensor_map_put(&m, "a.i32", make(GC_I32, 1, (int64_t[]){5}));
  gc_tensor_map_put(&m, "empty.i64", make(GC_I64, 3, (int64_t[]){2, 0, 3}));
  gc_tensor_map_put(&m, "mask", make(GC_BOOL, 2, (int64_t[]){3, 3}));
  gc_tensor_map_put(&m, "empty.f32", make(GC_F32, 1, (int64_t[]){0}));
  gc_tensor_map_put(&m, "i64", make(GC_I64, 1, (int64_t[]){3}));
  gc_tensor_map_put(&m, "rank8", make(GC_F64, 8, (int64_t[]){1, 2, 1, 2, 1, 2, 1, 3}));
  gc_tensor_map_put(&m, "q\"uote\\d\n\xc3\xa9", make(GC_I32, 0, NULL));
  ((int64_t *)gc_tensor_map_get(&m, "i64")->data)[2] = INT64_MIN;
  gc_diag d = {0};
  assert_int_equal(gc_safetensors_write(path, &m, &d), 0);
  assert_int_equal(gc_safetensors_read(path, &r, &d), 0);
  assert_int_equal(r.n, m.n);
  for (int i = 0; i < m.n; i++) {
    assert_string_equal(r.names[i], m.names[i]); /* map order is kept */
    assert_true(gc_type_equal(&r.tensors[i]->type, &m.tensors[i]->type));
    assert_memory_equal(r.tensors[i]->data, m.tensors[i]->data, gc_tensor_bytes(m.tensors[i]));
  }
  assert_int_equal(((int64_t *)gc_tensor_map_get(&r, "i64")->data)[2], INT64_MIN);
  assert_close(gc_tensor_load(gc_tensor_map_get(&r, "w.f32"), 5), (5 * 7 - 5) / 4.0, 0);
  assert_close(gc_tensor_load(gc_tensor_map_get(&r, "mask"), 3), 1, 0);
  /* The data section starts 8-byte aligned, and the temp file is gone. */
  FILE *f = fopen(path, "rb");
  unsigned char len[8];
  assert_int_equal(fread(len, 1, 8, f), 8);
  fclose(f);
  assert_int_equal(len[0] % 8, 0);
  DIR *dp = opendir(dir);
  int files = 0;
  for (struct dirent *e; (e = readdir(dp));) files += e->d_name[0] != '.';
  closedir(dp);
  assert_int_equal(files, 1);
  gc_tensor_map_clear(&m);
  gc_tensor_map_clear(&r);
  remove_dir(dir);
}

static void test_exact_bytes(void **state) {
  (void)state;
  char *dir = temp_dir(), path[300];
  snprintf(path, sizeof path, "%s/x.safetensors", dir);
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  gc_tensor *a = make(GC_F32, 1, (int64_t[]){2});
  ((float *)a->data)[0] = 1.0f;
  ((float *)a->data)[1] = -2.0f;
  gc_tensor_map_put(&m, "a", a);
  gc_diag d;
  assert_int_equal(gc_safetensors_write(path, &m, &d), 0);
  /* 54 bytes of JSON padded with two spaces to 56 (8 + 56 = 64). */
  static const char header[] = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}  ";
  unsigned char want[80], got[100];
  size_t n = image(want, header, (const unsigned char[]){0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}, 8);
  assert_int_equal(n, 72);
  FILE *f = fopen(path, "rb");
  assert_int_equal(fread(got, 1, sizeof got, f), 72);
  fclose(f);
  assert_memory_equal(got, want, 72);
  gc_tensor_map_clear(&m);
  remove_dir(dir);
}

static void test_empty_map(void **state) {
  (void)state;
  char *dir = temp_dir(), path[300];
  snprintf(path, sizeof path, "%s/e.safetensors", dir);
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  gc_diag d;
  assert_int_equal(gc_safetensors_write(path, &m, &d), 0);
  assert_int_equal(gc_safetensors_read(path, &m, &d), 0);
  assert_int_equal(m.n, 0);
  remove_dir(dir);
}

/* ---- reading files written by others ------------------------------------- */

static void test_f16_bf16_conversion(void **state) {
  (void)state;
  /* F16: 1, -2, smallest subnormal 2^-24, largest subnormal 1023*2^-24,
   * inf, 0x3555 = 0.333251953125, -0; BF16: 1, 3.140625, -inf. */
  static const unsigned char data[] = {
      0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0xff, 0x03, 0x00, 0x7c, 0x55, 0x35, 0x00, 0x80, /* F16 */
      0x80, 0x3f, 0x49, 0x40, 0x80, 0xff,                                                 /* BF16 */
  };
  const char *header =
      "{\"__metadata__\":{\"format\":\"pt\"},"
      "\"h\":{\"dtype\":\"F16\",\"shape\":[7],\"data_offsets\":[0,14]},"
      "\"b\":{\"dtype\":\"BF16\",\"shape\":[1,3],\"data_offsets\":[14,20]}}   ";
  size_t n = image(buf, header, data, sizeof data);
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  gc_diag d = {0};
  assert_int_equal(gc_safetensors_parse(buf, n, &m, &d), 0);
  assert_int_equal(m.n, 2);
  assert_string_equal(m.names[0], "h");
  const gc_tensor *h = gc_tensor_map_get(&m, "h"), *b = gc_tensor_map_get(&m, "b");
  assert_int_equal(h->type.dtype, GC_F32);
  assert_int_equal(b->type.dtype, GC_F32);
  assert_int_equal(b->type.rank, 2);
  const float *hf = h->data, *bf = b->data;
  assert_true(hf[0] == 1.0f && hf[1] == -2.0f);
  assert_true(hf[2] == ldexpf(1, -24));
  assert_true(hf[3] == ldexpf(1023, -24));
  assert_true(isinf(hf[4]) && hf[4] > 0);
  assert_true(hf[5] == 0.333251953125f);
  assert_true(hf[6] == 0 && signbit(hf[6]));
  assert_true(bf[0] == 1.0f && bf[1] == 3.140625f && isinf(bf[2]) && bf[2] < 0);
  gc_tensor_map_clear(&m);
}

static void test_unusual_but_valid(void **state) {
  (void)state;
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  gc_diag d = {0};
  /* escaped and surrogate-pair names, bool bytes other than 0/1, zero-size
   * tensors sharing an offset, whitespace, offsets not in header order */
  const char *header =
      "{ \"b\\u00e9\\ud83d\\ude00\" : {\"shape\":[3],\"dtype\":\"BOOL\",\"data_offsets\":[4,7]},\n"
      "  \"z\":{\"dtype\":\"I32\",\"shape\":[0,2],\"data_offsets\":[4,4]},"
      "  \"s\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]} }";
  size_t n = image(buf, header, (const unsigned char[]){0xfe, 0xff, 0xff, 0xff, 0, 2, 255}, 7);
  assert_int_equal(gc_safetensors_parse(buf, n, &m, &d), 0);
  assert_int_equal(m.n, 3);
  assert_string_equal(m.names[0], "b\xc3\xa9\xf0\x9f\x98\x80");
  const uint8_t *mask = m.tensors[0]->data;
  assert_true(mask[0] == 0 && mask[1] == 1 && mask[2] == 1);
  assert_int_equal(gc_tensor_numel(m.tensors[1]), 0);
  assert_int_equal(((int32_t *)m.tensors[2]->data)[0], -2);
  gc_tensor_map_clear(&m);
}

/* ---- malformed files: one test per kind of damage ------------------------ */

#define T(body) "{\"w\":{" body "}}"
#define E(name, b, e) "\"" name "\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" #b "," #e "]}"

/* A file the writer made, cut short in the length prefix, in the header and
 * in the data. */
static void test_truncated_file(void **state) {
  (void)state;
  char path[300];
  snprintf(path, sizeof path, "%s/whole.safetensors", scratch);
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  gc_tensor_map_put(&m, "a", make(GC_F32, 1, (int64_t[]){4}));
  gc_tensor_map_put(&m, "b", make(GC_I64, 1, (int64_t[]){2}));
  gc_diag d = {0};
  assert_int_equal(gc_safetensors_write(path, &m, &d), 0);
  gc_tensor_map_clear(&m);
  unsigned char whole[512];
  FILE *f = fopen(path, "rb");
  size_t n = fread(whole, 1, sizeof whole, f);
  fclose(f);
  size_t data_at = 8 + whole[0]; /* the header is shorter than 256 bytes */
  assert_int_equal(n, data_at + 32);
  expect_image_error(whole, 0, "too short (0 bytes) to be a safetensors file");
  expect_image_error(whole, 5, "too short (5 bytes) to be a safetensors file");
  expect_image_error(whole, 8, "runs past the end of the file (8 bytes)");
  expect_image_error(whole, 30, "runs past the end of the file (30 bytes)");
  expect_image_error(whole, data_at + 4,
                     "tensor \"a\": data_offsets [0, 16] run past the end of the data (4 bytes; truncated file?)");
  expect_image_error(whole, n - 1, "tensor \"b\": data_offsets [16, 32] run past the end of the data (31 bytes");
}

static void test_header_length_past_end(void **state) {
  (void)state;
  size_t n = image(buf, "{}", NULL, 0);
  buf[0] = 200;
  expect_image_error(buf, n, "header length 200 runs past the end of the file (10 bytes)");
  buf[0] = 3; /* one byte too many */
  expect_image_error(buf, n, "header length 3 runs past the end of the file (10 bytes)");
  buf[0] = 2, buf[5] = 1;
  expect_image_error(buf, n, "header length 1099511627778 is absurd");
  memset(buf, 0xff, 8);
  expect_image_error(buf, n, "is absurd (the limit is 100000000 bytes)");
}

static void test_overlapping_offsets(void **state) {
  (void)state;
  expect_error("{" E("a", 0, 8) "," E("b", 4, 12) "}", 12, "tensor \"b\": data_offsets [4, 12] overlap tensor \"a\"'s [0, 8]");
  expect_error("{" E("a", 0, 8) "," E("b", 0, 8) "}", 8, "overlap");
  expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}," E("b", 4, 12) "}", 16,
               "tensor \"b\": data_offsets [4, 12] overlap tensor \"a\"'s [0, 16]");
  expect_error("{" E("a", 0, 8) ",\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}", 8,
               "tensor \"z\": data_offsets [4, 4] overlap tensor \"a\"'s");
}

static void test_offsets_out_of_range(void **state) {
  (void)state;
  /* past the end of the data */
  expect_error(T("\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]"), 12, "tensor \"w\": data_offsets [0, 16] run past the end of the data (12 bytes");
  expect_error("{" E("a", 0, 8) "," E("b", 16, 24) "}", 8, "tensor \"b\": data_offsets [16, 24] run past the end of the data (8 bytes");
  /* end < begin */
  expect_error(T("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]"), 8, "tensor \"w\": data_offsets [8, 0] are reversed");
  expect_error(T("\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[5,4]"), 8, "tensor \"w\": data_offsets [5, 4] are reversed");
  /* gaps: bytes that belong to no tensor */
  expect_error("{" E("a", 0, 8) "," E("b", 12, 20) "}", 20, "tensor \"b\": data bytes [8, 12) before it belong to no tensor");
  expect_error("{" E("a", 4, 12) "}", 12, "tensor \"a\": data bytes [0, 4)");
  expect_error("{" E("a", 0, 8) "}", 12, "data bytes [8, 12) at the end belong to no tensor");
  expect_error("{}", 1, "data bytes [0, 1)");
}

/* Offsets and dims are 64-bit integers: read exactly (not through a double),
 * and a number beyond int64 is refused, naming the tensor. */
static void test_offsets_are_64_bit(void **state) {
  (void)state;
  expect_error(T("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,9007199254740993]"), 8,
               "tensor \"w\": data_offsets [0, 9007199254740993] run past the end of the data (8 bytes");
  expect_error(T("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,9223372036854775807]"), 8,
               "data_offsets [0, 9223372036854775807] run past");
  expect_error(T("\"dtype\":\"F32\",\"shape\":[4294967296],\"data_offsets\":[0,17179869184]"), 8,
               "data_offsets [0, 17179869184] run past");
  expect_error(T("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,9223372036854775808]"), 8,
               "tensor \"w\": invalid JSON at byte 69 of the header: an integer does not fit in 64 bits");
  expect_error(T("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,18446744073709551615]"), 8,
               "tensor \"w\": invalid JSON at byte 70 of the header: an integer does not fit in 64 bits");
}

static void test_wrong_dtype(void **state) {
  (void)state;
  expect_error(T("\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]"), 2, "tensor \"w\": dtype \"U8\" is not supported (F32, F64, I32, I64, BOOL, F16, BF16)");
  expect_error(T("\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]"), 8, "tensor \"w\": dtype \"f32\"");
  expect_error(T("\"dtype\":\"F32 \",\"shape\":[2],\"data_offsets\":[0,8]"), 8, "tensor \"w\": dtype \"F32 \" is not supported");
  expect_error(T("\"dtype\":\"\",\"shape\":[2],\"data_offsets\":[0,8]"), 8, "tensor \"w\": dtype \"\" is not supported");
  expect_error(T("\"dtype\":5,\"shape\":[2],\"data_offsets\":[0,8]"), 8, "tensor \"w\": \"dtype\" must be a string");
  expect_error(T("\"dtype\":null,\"shape\":[2],\"data_offsets\":[0,8]"), 8, "tensor \"w\": \"dtype\" must be a string");
  expect_error(T("\"dtype\":[\"F32\"],\"shape\":[2],\"data_offsets\":[0,8]"), 8, "tensor \"w\": \"dtype\" must be a string");
}

static void test_shape_size_mismatch(void **state) {
  (void)state;
  expect_error(T("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]"), 12, "tensor \"w\": data_offsets [0, 12] hold 12 bytes, but F32 [2] needs 8");
  expect_error(T("\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,4]"), 4, "hold 4 bytes, but F64 [] needs 8");
  expect_error(T("\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,8]"), 8, "tensor \"w\": data_offsets [0, 8] hold 8 bytes, but F16 [3] needs 6");
  expect_error(T("\"dtype\":\"BOOL\",\"shape\":[2,2],\"data_offsets\":[0,5]"), 5, "but BOOL [2,2] needs 4");
  expect_error(T("\"dtype\":\"I32\",\"shape\":[2,0],\"data_offsets\":[0,4]"), 4, "but I32 [2,0] needs 0");
}

static void test_duplicate_keys(void **state) {
  (void)state;
  expect_error("{" E("a", 0, 8) "," E("a", 8, 16) "}", 16, "tensor \"a\": the name appears twice in the header");
  /* a long name (jansson's own message would leave it out), an escaped
   * spelling of the same name, and strings holding brackets and quotes
   * before the duplicate */
  expect_error("{" E("model.layers.0.self_attn.q_proj.weight", 0, 8) "," E("model.layers.0.self_attn.q_proj.weight", 8, 16) "}", 16,
               "tensor \"model.layers.0.self_attn.q_proj.weight\": the name appears twice in the header");
  expect_error("{" E("b\xc3\xa9", 0, 8) "," E("b\\u00e9", 8, 16) "}", 16, "tensor \"b\xc3\xa9\": the name appears twice");
  expect_error("{\"x\\\"[{\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0],\"k\":\"}]\"}," E("a", 0, 8) "," E("a", 8, 16) "}", 16,
               "tensor \"a\": the name appears twice");
  /* inside a tensor's entry, and inside the metadata */
  expect_error(T("\"dtype\":\"F32\",\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,8]"), 8, "tensor \"w\": key \"dtype\" appears twice");
  expect_error("{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", 0, "\"__metadata__\": key \"k\" appears twice");
  expect_error("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "\"__metadata__\": the name appears twice");
}

static void test_non_object_header(void **state) {
  (void)state;
  expect_error("[]", 0, "header: expected a JSON object, got an array");
  expect_error("[{\"w\":{}}]", 0, "header: expected a JSON object, got an array");
  expect_error("3", 0, "header: expected a JSON object, got a number");
  expect_error("\"w\"", 0, "header: expected a JSON object, got a string");
  expect_error("null", 0, "header: expected a JSON object, got null");
  expect_error("true  ", 0, "header: expected a JSON object, got a boolean");
  /* and an entry that is not an object */
  expect_error("{\"w\":3}", 0, "tensor \"w\": expected an object");
  expect_error("{\"w\":[0,0]}", 0, "tensor \"w\": expected an object");
}

static void test_bad_shape_entries(void **state) {
  (void)state;
  expect_error(T("\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]"), 0, "tensor \"w\": shape dim 0 is negative (-1)");
  expect_error(T("\"dtype\":\"F32\",\"shape\":[2,-9223372036854775808],\"data_offsets\":[0,0]"), 0, "tensor \"w\": shape dim 1 is negative");
  expect_error(T("\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]"), 4, "tensor \"w\": shape dim 0 is not an integer");
  expect_error(T("\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]"), 4, "tensor \"w\": shape dim 0 is not an integer");
  expect_error(T("\"dtype\":\"F32\",\"shape\":[1e0],\"data_offsets\":[0,4]"), 4, "tensor \"w\": shape dim 0 is not an integer");
  expect_error(T("\"dtype\":\"F32\",\"shape\":[2,\"3\"],\"data_offsets\":[0,4]"), 4, "shape dim 1 is not an integer");
  expect_error(T("\"dtype\":\"F32\",\"shape\":[null],\"data_offsets\":[0,4]"), 4, "shape dim 0 is not an integer");
  expect_error(T("\"dtype\":\"F32\",\"shape\":[[2]],\"data_offsets\":[0,8]"), 8, "shape dim 0 is not an integer");
  expect_error(T("\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]"), 4,
               "tensor \"w\": invalid JSON at byte 49 of the header: an integer does not fit in 64 bits");
  expect_error(T("\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,4]"), 4, "tensor \"w\": shape's element count overflows");
  expect_error(T("\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]"), 4, "tensor \"w\": rank 9 exceeds the maximum 8");
  expect_error(T("\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]"), 8, "tensor \"w\": \"shape\" must be a list");
  expect_error(T("\"dtype\":\"F32\",\"shape\":{},\"data_offsets\":[0,8]"), 8, "tensor \"w\": \"shape\" must be a list");
}

static void test_missing_or_mistyped_keys(void **state) {
  (void)state;
  expect_error(T("\"shape\":[2],\"data_offsets\":[0,8]"), 8, "tensor \"w\": missing \"dtype\"");
  expect_error(T("\"dtype\":\"F32\",\"data_offsets\":[0,8]"), 8, "tensor \"w\": missing \"shape\"");
  expect_error(T("\"dtype\":\"F32\",\"shape\":[2]"), 8, "tensor \"w\": missing \"data_offsets\"");
  expect_error(T("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,9]"), 8, "tensor \"w\": \"data_offsets\" must be a list of two integers");
  expect_error(T("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":\"0,8\""), 8, "tensor \"w\": \"data_offsets\" must be a list of two integers");
  expect_error(T("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]"), 8, "tensor \"w\": \"data_offsets\" must be two non-negative integers");
  expect_error(T("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.0]"), 8, "tensor \"w\": \"data_offsets\" must be two non-negative integers");
}

static void test_bad_json(void **state) {
  (void)state;
  expect_error("", 0, "header: invalid JSON at byte 0: unexpected end of the header");
  expect_error("{\"w\":", 0, "tensor \"w\": invalid JSON at byte 5 of the header: unexpected end");
  expect_error("{\"w\":{}", 0, "JSON");
  expect_error("{\"w\":{},}", 0, "header: invalid JSON at byte 9");
  expect_error("{'w':{}}", 0, "JSON");
  expect_error("{\"w\":{}} x", 0, "header: invalid JSON at byte 10: text after the value");
  expect_error("{\"w\x01\":{}}", 0, "control character");
  expect_error("{\"w\xff\":{}}", 0, "invalid UTF-8");
  expect_error("{\"\\ud800\":{}}", 0, "invalid Unicode");
  expect_error("{\"\\q\":{}}", 0, "invalid escape");
  expect_error("{\"w\":[01]}", 0, "tensor \"w\": invalid JSON");
  expect_error("{\"a\\u0000b\":{}}", 0, "NUL");
  expect_error("{\"w\":{\"dtype\":\"F\\u00002\"}}", 0, "tensor \"w\": invalid JSON");
  expect_error("{\"__metadata__\":{\"k\":1}}", 0, "\"__metadata__\" value \"k\" must be a string");
  expect_error("{\"__metadata__\":[]}", 0, "\"__metadata__\" must be an object");
  /* nesting deeper than jansson reads */
  static char deep[3100];
  memcpy(deep, "{\"w\":", 5);
  memset(deep + 5, '[', 3000);
  deep[3005] = 0;
  expect_error(deep, 0, "tensor \"w\": invalid JSON at byte 2053 of the header: nested too deep");
}

#undef E
#undef T

/* Every prefix of a valid file is refused (or, for the whole file, read). */
static void test_every_truncation(void **state) {
  (void)state;
  const char *header = "{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                       "\"b\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[16,18]}}";
  size_t n = image(buf, header, NULL, 18);
  for (size_t len = 0; len <= n; len++) {
    unsigned char *copy = malloc(len ? len : 1); /* exact size, so ASan sees overreads */
    memcpy(copy, buf, len);
    gc_tensor_map m;
    gc_tensor_map_init(&m);
    gc_diag d;
    assert_int_equal(gc_safetensors_parse(copy, len, &m, &d), len == n ? 0 : -1);
    assert_int_equal(m.n, len == n ? 2 : 0);
    gc_tensor_map_clear(&m);
    free(copy);
  }
}

/* Random byte mutations of a valid file (a fixed LCG, so the run is the same
 * every time): each parse either succeeds with tiling tensors or fails with a
 * message; the sanitizer build checks that nothing is read out of bounds. */
static void test_mutations(void **state) {
  (void)state;
  const char *header = "{\"__metadata__\":{\"a\":\"b\"},"
                       "\"a\":{\"dtype\":\"F16\",\"shape\":[2,1],\"data_offsets\":[0,4]},"
                       "\"b\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[4,12]}}";
  unsigned char orig[256];
  size_t n = image(orig, header, NULL, 12);
  uint64_t rng = 12345;
  for (int iter = 0; iter < 3000; iter++) {
    unsigned char *copy = malloc(n);
    memcpy(copy, orig, n);
    int flips = 1 + iter % 3;
    for (int k = 0; k < flips; k++) {
      rng = rng * 6364136223846793005u + 1442695040888963407u;
      size_t at = (size_t)(rng >> 33) % n;
      copy[at] = (unsigned char)(rng >> 20);
    }
    gc_tensor_map m;
    gc_tensor_map_init(&m);
    gc_diag d = {0};
    int rc = gc_safetensors_parse(copy, n, &m, &d);
    if (rc == 0) {
      size_t bytes = 0;
      for (int i = 0; i < m.n; i++) bytes += gc_tensor_bytes(m.tensors[i]);
      assert_true(bytes <= 2 * n); /* F16 doubles in size */
    } else {
      assert_int_equal(rc, -1);
      assert_true(d.msg[0] != 0);
      assert_int_equal(m.n, 0);
    }
    gc_tensor_map_clear(&m);
    free(copy);
  }
}

/* ---- file errors -------------------------------------------------------- */

static void test_file_errors(void **state) {
  (void)state;
  char *dir = temp_dir(), path[300];
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  gc_tensor_map_put(&m, "a", make(GC_F32, 1, (int64_t[]){2}));
  gc_diag d;
  /* no such directory */
  snprintf(path, sizeof path, "%s/nodir/x.safetensors", dir);
  assert_int_equal(gc_safetensors_write(path, &m, &d), -1);
  assert_non_null(strstr(d.msg, path));
  assert_non_null(strstr(d.msg, "No such file or directory"));
  /* the target is a directory: rename fails, the temp file is removed */
  snprintf(path, sizeof path, "%s/sub", dir);
  assert_int_equal(mkdir(path, 0755), 0);
  assert_int_equal(gc_safetensors_write(path, &m, &d), -1);
  assert_non_null(strstr(d.msg, path));
  assert_non_null(strstr(d.msg, "directory"));
  DIR *dp = opendir(dir);
  int files = 0;
  for (struct dirent *e; (e = readdir(dp));) files += e->d_name[0] != '.';
  closedir(dp);
  assert_int_equal(files, 1);
  /* reading: missing file, a directory, a garbage file */
  gc_tensor_map r;
  gc_tensor_map_init(&r);
  snprintf(path, sizeof path, "%s/missing.safetensors", dir);
  assert_int_equal(gc_safetensors_read(path, &r, &d), -1);
  assert_non_null(strstr(d.msg, path));
  snprintf(path, sizeof path, "%s/sub", dir);
  assert_int_equal(gc_safetensors_read(path, &r, &d), -1);
  assert_non_null(strstr(d.msg, "not a regular file"));
  snprintf(path, sizeof path, "%s/junk.safetensors", dir);
  FILE *f = fopen(path, "wb");
  fputs("hello", f);
  fclose(f);
  assert_int_equal(gc_safetensors_read(path, &r, &d), -1);
  assert_non_null(strstr(d.msg, path));
  assert_non_null(strstr(d.msg, "too short"));
  assert_int_equal(r.n, 0);
  /* a map holding an invalid tensor is refused before any file is made */
  gc_tensor_map_put(&m, "bad", NULL);
  snprintf(path, sizeof path, "%s/bad.safetensors", dir);
  assert_int_equal(gc_safetensors_write(path, &m, &d), -1);
  assert_non_null(strstr(d.msg, "tensor \"bad\""));
  assert_int_equal(access(path, F_OK), -1);
  gc_tensor_map_clear(&m);
  remove_dir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_every_dtype),
      cmocka_unit_test(test_exact_bytes),
      cmocka_unit_test(test_empty_map),
      cmocka_unit_test(test_f16_bf16_conversion),
      cmocka_unit_test(test_unusual_but_valid),
      cmocka_unit_test(test_truncated_file),
      cmocka_unit_test(test_header_length_past_end),
      cmocka_unit_test(test_overlapping_offsets),
      cmocka_unit_test(test_offsets_out_of_range),
      cmocka_unit_test(test_offsets_are_64_bit),
      cmocka_unit_test(test_wrong_dtype),
      cmocka_unit_test(test_shape_size_mismatch),
      cmocka_unit_test(test_duplicate_keys),
      cmocka_unit_test(test_non_object_header),
      cmocka_unit_test(test_bad_shape_entries),
      cmocka_unit_test(test_missing_or_mistyped_keys),
      cmocka_unit_test(test_bad_json),
      cmocka_unit_test(test_every_truncation),
      cmocka_unit_test(test_mutations),
      cmocka_unit_test(test_file_errors),
  };
  return cmocka_run_group_tests(tests, make_scratch, remove_scratch);
}
