/* Strict one-pass JSON (RFC 8259) parser into a flat token tape.
 *
 * Request bodies are parsed on the hot path, so the parser makes a bounded
 * number of arena allocations per body (the tape, grown by doubling; one
 * decode buffer the size of the body, only when a string has escapes or a
 * number needs strtod; a scratch index array for big objects), never one
 * per value. Everything lives in the pool given to the parse.
 *
 * What an accepted tape promises:
 *  - the body is exactly one JSON text (any type), optionally surrounded by
 *    space, tab, CR, LF; no byte order mark;
 *  - every string is valid UTF-8 (no overlongs, no UTF-8 encoded surrogates,
 *    nothing above U+10FFFF), has no raw control characters, and its escapes
 *    decode to valid Unicode: a \uD800-\uDBFF escape must be followed by a
 *    \uDC00-\uDFFF escape, any other lone surrogate escape is rejected
 *    (it cannot be turned into UTF-8, and backends differ on what they do
 *    with it);
 *  - no object has two members whose decoded names are equal ("a" and
 *    "\u0061" are the same name); the check costs O(n log n) per object;
 *  - no member name contains U+0000 (C backends would truncate it, making
 *    "a\u0000x" and "a\u0000y" the same key); U+0000 in values is kept;
 *  - unless opts->allow_proto_names, no member is named __proto__,
 *    constructor or prototype (JavaScript prototype pollution);
 *  - nesting depth (each array or object adds one; the top value's container
 *    is depth 1) is at most opts->max_depth;
 *  - numbers follow the RFC 8259 grammar; any magnitude is accepted (the raw
 *    text is kept; as a double a huge one becomes +-HUGE_VAL, a tiny one 0).
 *
 * Layout: tokens in document order. An object's token is followed by, per
 * member, a STRING token for the name and then the value's tokens. For every
 * token apisec_json_tape_next() is the index just past it and all its
 * descendants, so siblings are skipped in O(1). Strings are decoded eagerly:
 * the parser has to decode names anyway for the duplicate check, the decoded
 * form is never longer than the raw one, and the validator then needs no
 * memory at all. A string without escapes points into the body itself, so the
 * body must outlive the tape. Decoded strings are not NUL-terminated.
 *
 * Numbers are converted eagerly. When the digits (without the point) fit in
 * 53 bits and the power of ten is within 10^+-22, one IEEE multiply or
 * divide gives the correctly rounded double, the same as strtod (Clinger's
 * fast path; needs FLT_EVAL_METHOD 0, as on x86-64 and arm64, else strtod
 * is used throughout). Other numbers go to strtod, which reads LC_NUMERIC:
 * httpd runs in the "C" locale; a process that changes LC_NUMERIC must not
 * use this.
 */
#ifndef APISEC_JSON_TAPE_H
#define APISEC_JSON_TAPE_H

#include <apr_pools.h>

/* For the few small functions of the per-token paths of the parser and the
 * validator that the compiler
 * would otherwise leave as calls. */
#if defined(__GNUC__)
#define ALWAYS_INLINE static APR_INLINE __attribute__((always_inline))
#else
#define ALWAYS_INLINE static APR_INLINE
#endif

typedef enum {
    APISEC_JSON_OBJECT = 1,
    APISEC_JSON_ARRAY,
    APISEC_JSON_STRING,
    APISEC_JSON_NUMBER,
    APISEC_JSON_TRUE,
    APISEC_JSON_FALSE,
    APISEC_JSON_NULL
} apisec_json_type_e;

/* Token flags. */
#define APISEC_JSON_F_ESCAPED 0x01   /* string: had escapes, decoded copy   */
#define APISEC_JSON_F_INTEGER 0x02   /* number: integral value (1.0, 1e2)   */
#define APISEC_JSON_F_PLAIN_INT 0x04 /* number: no fraction, no exponent    */

typedef struct {
    apr_uint16_t type;  /* apisec_json_type_e */
    apr_uint16_t flags; /* APISEC_JSON_F_* */
    apr_uint32_t off;   /* raw text in the body; strings: after the quote */
    apr_uint32_t len;   /* raw length; strings: without the quotes */
    union {
        struct {
            apr_uint32_t count; /* members (objects) or elements (arrays) */
            apr_uint32_t end;   /* index just past the last descendant */
        } c;
        struct {
            apr_uint32_t off; /* decoded text: in dec if ESCAPED, else body */
            apr_uint32_t len;
        } s;
        double num;
    } u;
} apisec_json_tok_t;

typedef struct {
    const apisec_json_tok_t *tok;
    apr_uint32_t ntok;
    const char *body; /* the caller's buffer */
    apr_size_t len;
    const char *dec; /* decoded strings, NULL when none had escapes */
} apisec_json_tape_t;

typedef enum {
    APISEC_JSON_OK = 0,
    APISEC_JSON_ERR_TOO_LARGE,
    APISEC_JSON_ERR_EMPTY,
    APISEC_JSON_ERR_TRUNCATED,
    APISEC_JSON_ERR_SYNTAX,
    APISEC_JSON_ERR_TRAILING,
    APISEC_JSON_ERR_UTF8,
    APISEC_JSON_ERR_CONTROL,
    APISEC_JSON_ERR_ESCAPE,
    APISEC_JSON_ERR_SURROGATE,
    APISEC_JSON_ERR_NUMBER,
    APISEC_JSON_ERR_DEPTH,
    APISEC_JSON_ERR_DUPLICATE,
    APISEC_JSON_ERR_FORBIDDEN_NAME,
    APISEC_JSON_ERR_NUL_IN_NAME,
    APISEC_JSON_ERR_NOMEM
} apisec_json_err_e;

typedef struct {
    apisec_json_err_e code;
    const char *msg;   /* static text, never built from the body */
    apr_size_t offset; /* byte offset of the offending byte */
    /* RFC 6901 pointer (unescaped, pool memory) to the innermost value being
     * parsed, "" for the top; NULL when no place applies (size limit). Names
     * in it are valid UTF-8 and contain no NUL. */
    const char *pointer;
} apisec_json_error_t;

typedef struct {
    apr_size_t max_bytes;   /* 0: no limit (bodies over 4 GiB always fail) */
    unsigned int max_depth; /* 0: default; above APISEC_JSON_MAX_DEPTH: that */
    int allow_proto_names;  /* 0: reject __proto__/constructor/prototype */
} apisec_json_opts_t;

#define APISEC_JSON_DEFAULT_DEPTH 32
#define APISEC_JSON_MAX_DEPTH 4096

/* Fills opts with the defaults: no size limit, depth 32, names rejected. */
void apisec_json_opts_default(apisec_json_opts_t *opts);

/* Parses buf[0..len) (not NUL-terminated) into *tape, allocated from p.
 * opts may be NULL for the defaults. On failure returns the code, fills err
 * (when not NULL) and leaves *tape NULL. */
apisec_json_err_e apisec_json_tape_parse(apr_pool_t *p, const char *buf,
                                         apr_size_t len,
                                         const apisec_json_opts_t *opts,
                                         apisec_json_tape_t **tape,
                                         apisec_json_error_t *err);

/* Static message for a code. */
const char *apisec_json_strerror(apisec_json_err_e code);

/* Index just past token i and all its descendants. */
static APR_INLINE apr_uint32_t
apisec_json_tape_next(const apisec_json_tape_t *t, apr_uint32_t i)
{
    const apisec_json_tok_t *k = &t->tok[i];

    return (k->type == APISEC_JSON_OBJECT || k->type == APISEC_JSON_ARRAY)
               ? k->u.c.end
               : i + 1;
}

/* Decoded bytes of string token i (valid UTF-8, not NUL-terminated). */
static APR_INLINE const char *apisec_json_tape_str(const apisec_json_tape_t *t,
                                                   apr_uint32_t i,
                                                   apr_size_t *len)
{
    const apisec_json_tok_t *k = &t->tok[i];

    *len = k->u.s.len;
    return ((k->flags & APISEC_JSON_F_ESCAPED) ? t->dec : t->body) + k->u.s.off;
}

/* Number of Unicode code points in a valid UTF-8 string. */
apr_size_t apisec_json_utf8_len(const char *s, apr_size_t len);

/* Appends an RFC 6901 reference token (~ and / escaped) to buf at *pos,
 * never past cap (cap includes room for a NUL, always written). Returns 0
 * when it had to truncate. Used by the parser's and validator's pointers. */
int apisec_json_pointer_append(char *buf, apr_size_t cap, apr_size_t *pos,
                               const char *name, apr_size_t len);

#endif
