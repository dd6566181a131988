/* train/chat.h — chat (instruction) data: a .jsonl file whose lines are
 * {"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...]}.
 *
 * Each message is formatted as Qwen's ChatML, `<|im_start|>ROLE\nCONTENT<|im_end|>\n`
 * (no implicit system message), and encoded as Hugging Face encodes that
 * text: the special tokens split out, the text between them encoded piece by
 * piece.  The loss covers only each assistant message's content tokens (the
 * tokens of "ROLE\nCONTENT" that start inside CONTENT) and its `<|im_end|>`.
 * Conversations follow one another in one token stream.
 *
 * A tokenizer without `<|im_start|>` and `<|im_end|>` is refused.  Errors
 * name the file and line.  Arrays are malloc'd and owned by the caller. */
#ifndef GC_TRAIN_CHAT_H
#define GC_TRAIN_CHAT_H

#include "text/tokenizer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  int32_t *ids;
  uint8_t *loss;       /* loss[i]: ids[i] is a target of the loss */
  size_t n;
} gc_chat_stream;

/* Whether --data names chat data (its name ends in .jsonl). */
bool gc_chat_is_data(const char *path);

/* <|im_start|> and <|im_end|> of t; -1 + message naming the missing one. */
int gc_chat_tokens(const gc_tokenizer *t, int32_t *start, int32_t *end, gc_diag *d);

/* The whole file (text[0..len), read from `path`, which names errors). */
int gc_chat_encode(const gc_tokenizer *t, const char *path, const char *text, size_t len, gc_chat_stream *out,
                   gc_diag *d);
void gc_chat_stream_free(gc_chat_stream *s);

/* A prompt as one user turn, then an open assistant turn:
 * <|im_start|>user\nTEXT<|im_end|>\n<|im_start|>assistant\n */
int gc_chat_prompt(const gc_tokenizer *t, const char *text, int32_t **ids, size_t *n, gc_diag *d);

#endif
