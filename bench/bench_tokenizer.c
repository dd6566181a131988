/* bench/bench_tokenizer.c — times gc's own BPE training, encoding and
 * decoding on a corpus (default: data/tinyshakespeare.txt, vocab 512 with
 * <|endoftext|>).  A benchmark, not a test: it prints figures.  Encoding with
 * Hugging Face's tokenizers beside tiktoken's is bench/tokenizer_vs_peers.sh.
 *
 *   build/bin/bench_tokenizer [corpus.txt] [vocab_size]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/tokenizer.h"
#include "base/clock.h"

static uint8_t *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return buf;
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "data/tinyshakespeare.txt";
  int vocab = argc > 2 ? atoi(argv[2]) : 512;
  size_t len;
  uint8_t *text = slurp(path, &len);
  if (!text) {
    fprintf(stderr, "bench_tokenizer: cannot read %s\n", path);
    return 1;
  }
  const char *specials[] = {"<|endoftext|>"};
  gc_diag d = {0};

  double t0 = gc_now_seconds();
  gc_tokenizer *t = gc_bpe_train(text, len, vocab, specials, 1, &d);
  double t1 = gc_now_seconds();
  if (!t) {
    fprintf(stderr, "bench_tokenizer: %s\n", d.msg);
    return 1;
  }
  int32_t *ids;
  size_t n;
  if (gc_tokenizer_encode(t, text, len, &ids, &n) < 0) return 1;
  double t2 = gc_now_seconds();
  uint8_t *back;
  size_t back_len;
  if (gc_tokenizer_decode(t, ids, n, &back, &back_len) < 0) return 1;
  double t3 = gc_now_seconds();
  int same = back_len == len && memcmp(back, text, len) == 0;

  printf("corpus      %s (%zu bytes)\n", path, len);
  printf("vocab       %d asked, %d built (%d merges)\n", vocab, gc_tokenizer_vocab_size(t),
         gc_tokenizer_n_merges(t));
  printf("train       %.3f s\n", t1 - t0);
  printf("encode      %.3f s  (%zu tokens, %.2f bytes/token)\n", t2 - t1, n, (double)len / (double)n);
  printf("decode      %.3f s  (round trip %s)\n", t3 - t2, same ? "exact" : "MISMATCH");
  printf("last merges:");
  for (int id = gc_tokenizer_vocab_size(t) - 9; id < gc_tokenizer_vocab_size(t) - 1; id++) {
    size_t bl;
    const uint8_t *b = gc_tokenizer_token_bytes(t, id, &bl);
    printf(" \"%.*s\"", (int)bl, (const char *)b);
  }
  printf("\n");
  free(ids);
  free(back);
  free(text);
  gc_tokenizer_free(t);
  return same ? 0 : 1;
}
