/* ir/lexer.h — tokens of the graph IR text form (internal to ir/).
 *
 * The lexer reads `len` bytes (the text need not be NUL-terminated) and hands
 * out one token at a time.  Positions are 1-based lines and byte columns.
 * Strings are decoded (escapes resolved) into the caller's scratch arena; a
 * NUL byte in one, raw or written \x00, is an error (names are C strings). */
#ifndef GC_IR_LEXER_H
#define GC_IR_LEXER_H

#include "ir.h"

typedef enum {
  TOK_EOF,
  TOK_IDENT,    /* [A-Za-z_][A-Za-z0-9_]*: ops, dtypes, keys, keywords */
  TOK_VALUE,    /* %name; text excludes the '%' */
  TOK_GLOBAL,   /* @name; text excludes the '@' */
  TOK_NUMBER,   /* ints, floats, inf, -inf, nan */
  TOK_STRING,   /* "..."; `str` holds the decoded bytes */
  TOK_PUNCT,    /* one of = , : { } [ ] ( ) and -> (punct '>'); `punct` holds it */
} tok_kind;

typedef struct {
  tok_kind kind;
  const char *text;  /* into the source */
  size_t len;
  int line, col;
  char punct;
  /* TOK_NUMBER */
  bool int_syntax;   /* written as an integer (no '.', exponent, inf, nan) */
  bool int_ok;       /* int_syntax and fits in int64 */
  int64_t ival;
  double fval;
  /* TOK_STRING */
  const char *str;
} token;

typedef struct {
  const char *text;
  size_t len, pos;
  int line, col;
  int end_line, end_col;   /* just past the previous token (EOF is placed here) */
  gc_arena *scratch;
} lexer;

void lexer_init(lexer *lx, const char *text, size_t len, gc_arena *scratch);
/* The next token into *t; -1 with d->msg/line/col set on a lexical error. */
int lexer_next(lexer *lx, token *t, gc_diag *d);
/* "%x", "'dot'", "'}'", "end of file" ... for messages. */
const char *token_describe(const token *t, char *buf, size_t size);

/* input/param carry their name, const its value, positionally (`param "w"`,
 * `const 0.5`); those fields are never written as `{key=...}`. */
static inline bool gc_text_positional(gc_op op) { return gc_op_is_fed(op) || op == GC_OP_CONST; }

/* The first of an op's schema fields written as `{key=...}`: none for the
 * positional ops; a call's callee is written `@name` before its operands. */
static inline int gc_text_first_key(gc_op op, int n_fields) {
  return gc_text_positional(op) ? n_fields : op == GC_OP_CALL ? 1 : 0;
}

#endif
