/* Chat data as ChatML token streams with an assistant-only loss mask. */
#include "train/chat.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool gc_chat_is_data(const char *path) {
  size_t n = path ? strlen(path) : 0;
  return n >= 6 && strcmp(path + n - 6, ".jsonl") == 0;
}

int gc_chat_tokens(const gc_tokenizer *t, int32_t *start, int32_t *end, gc_diag *d) {
  *start = gc_tokenizer_special_id(t, "<|im_start|>");
  *end = gc_tokenizer_special_id(t, "<|im_end|>");
  if (*start < 0 || *end < 0)
    return gc_diag_set(d, "the tokenizer has no %s token: chat data and --chat need <|im_start|> and <|im_end|>",
                       *start < 0 ? "<|im_start|>" : "<|im_end|>");
  return 0;
}

typedef struct {
  gc_chat_stream s;
  size_t cap;
} stream;

static int push(stream *st, int32_t id, uint8_t loss) {
  if (st->s.n == st->cap) {
    size_t cap = st->cap ? 2 * st->cap : 4096;
    int32_t *ids = realloc(st->s.ids, cap * sizeof *ids);
    if (ids) st->s.ids = ids;
    uint8_t *l = realloc(st->s.loss, cap);
    if (l) st->s.loss = l;
    if (!ids || !l) return -1;
    st->cap = cap;
  }
  st->s.ids[st->s.n] = id;
  st->s.loss[st->s.n++] = loss;
  return 0;
}

/* Encodes text[0..len) onto st; a token counts for the loss when `loss` and
 * it starts at or after byte `from` of the text. */
static int push_text(stream *st, const gc_tokenizer *t, const char *text, size_t len, bool loss, size_t from) {
  int32_t *ids = NULL;
  size_t n = 0, at = 0;
  if (len && gc_tokenizer_encode(t, (const uint8_t *)text, len, &ids, &n)) return -1;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    size_t bytes = 0;
    gc_tokenizer_token_bytes(t, ids[i], &bytes);
    rc = push(st, ids[i], loss && at >= from);
    at += bytes;
  }
  free(ids);
  return rc;
}

/* One message: <|im_start|>ROLE\nCONTENT<|im_end|>\n */
static int push_message(stream *st, const gc_tokenizer *t, int32_t start, int32_t end, const char *role,
                        const char *content, size_t content_len) {
  size_t rlen = strlen(role), len = rlen + 1 + content_len;
  char *piece = malloc(len + 1);
  if (!piece) return -1;
  memcpy(piece, role, rlen);
  piece[rlen] = '\n';
  memcpy(piece + rlen + 1, content, content_len);
  bool assistant = strcmp(role, "assistant") == 0;
  int rc = push(st, start, 0);
  if (rc == 0) rc = push_text(st, t, piece, len, assistant, rlen + 1);
  if (rc == 0) rc = push(st, end, assistant);
  if (rc == 0) rc = push_text(st, t, "\n", 1, false, 0);
  free(piece);
  return rc;
}

static int encode_line(stream *st, const gc_tokenizer *t, int32_t start, int32_t end, const char *path, int line,
                       const char *text, size_t len, gc_diag *d) {
  json_error_t e;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
  if (!root) return gc_diag_set(d, "%s:%d:%d: %s", path, line, e.column, e.text);
  const json_t *msgs = json_object_get(root, "messages");
  int rc = json_is_array(msgs) && json_array_size(msgs) > 0
               ? 0
               : gc_diag_set(d, "%s:%d: not {\"messages\": [{\"role\": ..., \"content\": ...}, ...]}", path, line);
  size_t i;
  const json_t *m;
  json_array_foreach(msgs, i, m) {
    if (rc) break;
    const char *role = json_string_value(json_object_get(m, "role"));
    const json_t *content = json_object_get(m, "content");
    if (!role || (strcmp(role, "system") && strcmp(role, "user") && strcmp(role, "assistant")))
      rc = gc_diag_set(d, "%s:%d: message %zu: role must be \"system\", \"user\" or \"assistant\"", path, line, i);
    else if (!json_is_string(content))
      rc = gc_diag_set(d, "%s:%d: message %zu: \"content\" must be a string", path, line, i);
    else if (push_message(st, t, start, end, role, json_string_value(content), json_string_length(content)))
      rc = gc_diag_set(d, "out of memory encoding %s", path);
  }
  json_decref(root);
  return rc;
}

int gc_chat_encode(const gc_tokenizer *t, const char *path, const char *text, size_t len, gc_chat_stream *out,
                   gc_diag *d) {
  stream st = {{0}, 0};
  int32_t start, end;
  int rc = gc_chat_tokens(t, &start, &end, d);
  int line = 0;
  for (size_t at = 0; rc == 0 && at < len; line++) {
    const char *nl = memchr(text + at, '\n', len - at);
    size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
    size_t k = 0;
    while (k < n && (text[at + k] == ' ' || text[at + k] == '\t' || text[at + k] == '\r')) k++;
    if (k < n) rc = encode_line(&st, t, start, end, path, line + 1, text + at, n, d);
    at += n + 1;
  }
  if (rc == 0 && st.s.n == 0) rc = gc_diag_set(d, "%s: no conversations", path);
  if (rc) gc_chat_stream_free(&st.s);
  else *out = st.s;
  return rc;
}

void gc_chat_stream_free(gc_chat_stream *s) {
  free(s->ids);
  free(s->loss);
  memset(s, 0, sizeof *s);
}

int gc_chat_prompt(const gc_tokenizer *t, const char *text, int32_t **ids, size_t *n, gc_diag *d) {
  stream st = {{0}, 0};
  int32_t start, end;
  if (gc_chat_tokens(t, &start, &end, d)) return -1;
  if (push_message(&st, t, start, end, "user", text, strlen(text)) || push(&st, start, 0) ||
      push_text(&st, t, "assistant\n", 10, false, 0)) {
    gc_chat_stream_free(&st.s);
    return gc_diag_set(d, "out of memory");
  }
  free(st.s.loss);
  *ids = st.s.ids;
  *n = st.s.n;
  return 0;
}
