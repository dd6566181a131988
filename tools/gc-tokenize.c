/* gc-tokenize: encode text into token ids with a Hugging Face tokenizer (or
 * a gc run's), or decode ids back into text.
 *
 *   gc-tokenize --tokenizer PATH [FILE]            ids of FILE (or stdin), one line
 *   gc-tokenize --tokenizer PATH --jsonl [FILE]    a JSON array of ids per JSON string line
 *   gc-tokenize --tokenizer PATH --decode [FILE]   ids (or, with --jsonl, arrays) to text
 *   gc-tokenize --tokenizer PATH --bench FILE      encoding speed, best of 3 */
#include "text/tokenizer.h"
#include "tools/cli.h"
#include "tools/options.h"
#include "base/clock.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const prog = "gc-tokenize";

typedef struct {
  const char *tokenizer;
  bool jsonl, decode, bench;
  const char *input;
} tok_options;

static const gc_opt flags[] = {
    GC_OPT("tokenizer", 't', GC_OPT_FILE, tok_options, tokenizer, "PATH",
           "a tokenizer.json, or a directory holding tokenizer.json,\n"
           "vocab.json + merges.txt or encoder.json + vocab.bpe (a gc run\n"
           "directory holds a tokenizer.json)"),
    GC_OPT("jsonl", 0, GC_OPT_FLAG, tok_options, jsonl, NULL,
           "read one JSON string per line, print one JSON array of ids per line\n"
           "(with --decode: arrays in, strings out; blank lines are skipped)"),
    GC_OPT("decode", 'd', GC_OPT_FLAG, tok_options, decode, NULL, "decode ids (space-separated) into text"),
    GC_OPT("bench", 0, GC_OPT_FLAG, tok_options, bench, NULL,
           "encode FILE three times and print the best:\n"
           "tokens= bytes= seconds= tokens_per_s= MB_per_s="),
    GC_OPT_TABLE_END,
};

static const gc_opt_spec spec = {
    .prog = "gc-tokenize",
    .usage = "gc-tokenize --tokenizer PATH [--jsonl] [--decode] [FILE]\n"
             "       gc-tokenize --tokenizer PATH --bench FILE",
    .about = "Encodes FILE (default stdin) into token ids as Hugging Face's tokenizers\n"
             "does (byte-level BPE: GPT-2, Qwen2, gc's own), printed as one line of\n"
             "space-separated numbers, or decodes ids back into text.\n",
    .table = flags,
    .epilogue = "exit status: 0 success, 1 an internal failure, 2 bad usage or input\n"
                "(an unsupported tokenizer is refused with one line naming the part)\n",
};

static int fail(const char *fmt, const char *a, const char *b) {
  fprintf(stderr, "%s: ", prog);
  fprintf(stderr, fmt, a, b);
  fputc('\n', stderr);
  return GC_EXIT_USAGE;
}

static void print_ids(const int32_t *ids, size_t n, bool json) {
  if (json) putchar('[');
  for (size_t i = 0; i < n; i++) printf(i ? (json ? ",%d" : " %d") : "%d", (int)ids[i]);
  puts(json ? "]" : "");
}

/* ---- one whole text ------------------------------------------------------------ */

static int encode_all(const gc_tokenizer *t, const char *text, size_t len) {
  int32_t *ids;
  size_t n;
  if (gc_tokenizer_encode(t, (const uint8_t *)text, len, &ids, &n)) return fail("%s%sencoding failed", "", "");
  print_ids(ids, n, false);
  free(ids);
  return 0;
}

/* Ids from text[0..len) separated by blanks/commas (brackets allowed with json). */
static int parse_ids(const char *text, size_t len, int32_t **ids, size_t *n) {
  size_t cap = 64;
  *n = 0;
  *ids = malloc(cap * sizeof **ids);
  const char *p = text, *end = text + len;
  while (*ids && p < end) {
    if (strchr(" \t\r\n,[]", *p)) {
      p++;
      continue;
    }
    char *e;
    errno = 0;
    long v = strtol(p, &e, 10);
    if (e == p || errno || v < 0 || v > INT32_MAX) return -1;
    if (*n == cap) *ids = realloc(*ids, (cap *= 2) * sizeof **ids);
    if (*ids) (*ids)[(*n)++] = (int32_t)v;
    p = e;
  }
  return *ids ? 0 : -1;
}

static int decode_ids(const gc_tokenizer *t, const char *text, size_t len, bool json, char *where) {
  int32_t *ids;
  size_t n, out_len;
  uint8_t *out = NULL;
  int rc = 0;
  if (parse_ids(text, len, &ids, &n)) rc = fail("%s: not a list of token ids%s", where, "");
  else if (gc_tokenizer_decode(t, ids, n, &out, &out_len)) rc = fail("%s: an id is not a token%s", where, "");
  if (rc == 0 && json) {
    json_t *s = json_stringn_nocheck((const char *)out, out_len);
    char *dump = json_dumps(s, JSON_ENCODE_ANY);
    puts(dump);
    free(dump);
    json_decref(s);
  } else if (rc == 0) {
    fwrite(out, 1, out_len, stdout);
  }
  free(ids);
  free(out);
  return rc;
}

/* ---- --jsonl --------------------------------------------------------------------- */

static int jsonl(const gc_tokenizer *t, const tok_options *o, char *text, size_t len) {
  int line_no = 0;
  for (char *p = text, *nl; p < text + len; p = nl + 1) {
    nl = memchr(p, '\n', (size_t)(text + len - p));
    if (!nl) nl = text + len;
    line_no++;
    char where[4200];
    snprintf(where, sizeof where, "%s:%d", gc_cli_display_name(o->input ? o->input : "-"), line_no);
    size_t n = (size_t)(nl - p);
    if (n == 0 || (n == 1 && *p == '\r')) continue;
    if (o->decode) {
      if (decode_ids(t, p, n, true, where)) return GC_EXIT_USAGE;
      continue;
    }
    json_error_t err;
    json_t *s = json_loadb(p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!json_is_string(s)) {
      json_decref(s);
      return fail("%s: expected a JSON string (%s)", where, s ? "another JSON value" : err.text);
    }
    int32_t *ids;
    size_t n_ids;
    int rc = gc_tokenizer_encode(t, (const uint8_t *)json_string_value(s), json_string_length(s), &ids, &n_ids);
    json_decref(s);
    if (rc) return fail("%s: encoding failed%s", where, "");
    print_ids(ids, n_ids, true);
    free(ids);
  }
  return 0;
}

/* ---- --bench ------------------------------------------------------------------------ */

static int bench(const gc_tokenizer *t, const char *text, size_t len) {
  double best = 1e30;
  size_t n = 0;
  for (int rep = 0; rep < 3; rep++) {
    int32_t *ids;
    double t0 = gc_now_seconds();
    if (gc_tokenizer_encode(t, (const uint8_t *)text, len, &ids, &n)) return fail("%s%sencoding failed", "", "");
    double dt = gc_now_seconds() - t0;
    free(ids);
    if (dt < best) best = dt;
  }
  printf("tokens=%zu bytes=%zu seconds=%.4f tokens_per_s=%.0f MB_per_s=%.2f\n", n, len, best, (double)n / best,
         (double)len / best / 1e6);
  return 0;
}

int main(int argc, char **argv) {
  tok_options o = {0};
  gc_opt_args args;
  int rc = gc_opt_parse(&spec, &o, argc, argv, &args);
  if (rc) return rc == 1 ? GC_EXIT_OK : rc;
  if (!o.tokenizer) return gc_cli_usage_error(prog, "--tokenizer PATH is required");
  if (args.n > 1) return gc_cli_usage_error(prog, "more than one input ('%s' and '%s')", args.args[0], args.args[1]);
  o.input = args.n ? args.args[0] : NULL;
  if (o.bench && (!o.input || o.decode || o.jsonl))
    return gc_cli_usage_error(prog, "--bench needs a FILE and goes without --decode and --jsonl");
  gc_diag d = {0};
  gc_tokenizer *t = gc_tokenizer_open(o.tokenizer, &d);
  if (!t) return fail("%s%s", d.msg, "");
  char errbuf[4300];
  size_t len;
  char *text = gc_cli_read_file(o.input ? o.input : "-", &len, errbuf, sizeof errbuf);
  if (!text) rc = fail("%s%s", errbuf, "");
  else if (o.bench) rc = bench(t, text, len);
  else if (o.jsonl) rc = jsonl(t, &o, text, len);
  else if (o.decode) rc = decode_ids(t, text, len, false, (char *)gc_cli_display_name(o.input ? o.input : "-"));
  else rc = encode_all(t, text, len);
  free(text);
  gc_tokenizer_free(t);
  if (fflush(stdout) != 0) rc = rc ? rc : GC_EXIT_ERROR;
  return rc;
}
