/* Parser state shared by json_tape.c (structure, numbers, names) and
 * json_tape_string.c (strings and UTF-8). Not a public interface. */
#ifndef APISEC_JSON_TAPE_INT_H
#define APISEC_JSON_TAPE_INT_H

#include "json_tape.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

typedef struct {
    apr_uint32_t tok; /* the container's token */
    apr_uint32_t key; /* name token of the member being parsed (objects) */
    int in_member;    /* a member/element value is being parsed */
} level_t;

typedef struct {
    apr_pool_t *p;
    const unsigned char *b;
    apr_size_t len;
    apr_size_t pos;
    apisec_json_tok_t *tok;
    apr_uint32_t ntok;
    apr_uint32_t cap;
    char *dec; /* decode buffer, len + 1 bytes, made on first need */
    apr_size_t dec_used;
    level_t *stack;
    unsigned int depth;
    unsigned int max_depth;
    int allow_proto;
    apr_uint32_t *scratch; /* name indices for the duplicate check */
    apr_uint32_t scratch_cap;
    apisec_json_err_e code;
    apr_size_t err_off;
    apr_uint32_t err_key; /* duplicate name to add to the pointer, or 0 */
} parser_t;

static APR_INLINE int fail(parser_t *ps, apisec_json_err_e code, apr_size_t off)
{
    ps->code = code;
    ps->err_off = off;
    return -1;
}

static APR_INLINE int new_tok(parser_t *ps, apisec_json_type_e type,
                              apr_size_t off)
{
    apisec_json_tok_t *t;

    if (ps->ntok == ps->cap) {
        apr_uint32_t ncap = ps->cap * 2;
        apisec_json_tok_t *n = apr_palloc(ps->p, sizeof(*n) * ncap);

        if (!n) {
            return fail(ps, APISEC_JSON_ERR_NOMEM, off);
        }
        memcpy(n, ps->tok, sizeof(*n) * ps->ntok);
        ps->tok = n;
        ps->cap = ncap;
    }
    t = &ps->tok[ps->ntok];
    memset(t, 0, sizeof(*t));
    t->type = (apr_uint16_t)type;
    t->off = (apr_uint32_t)off;
    return (int)ps->ntok++;
}

static APR_INLINE int need_dec(parser_t *ps)
{
    if (!ps->dec) {
        ps->dec = apr_palloc(ps->p, ps->len + 1);
        if (!ps->dec) {
            return fail(ps, APISEC_JSON_ERR_NOMEM, ps->pos);
        }
    }
    return 0;
}

/* Bytes that need no attention inside a string: printable ASCII except the
 * quote and the backslash. */
static const unsigned char plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

#if defined(__GNUC__) && defined(__BYTE_ORDER__)                               \
    && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SWAR 1
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* High bit set in each byte of x that is not plain: '"', '\\', below 0x20
 * or above 0x7F. A byte's high bit after subtracting 1 (from x ^ '"' or
 * x ^ '\\') or 0x20 (from x) is set when it was the quote, the backslash
 * or a control byte, or when x's byte was above 0x7F anyway. The borrows
 * can flag a byte above the first flagged one falsely, never one below it,
 * so the lowest flag is exact, and only the lowest is used. */
static APR_INLINE apr_uint64_t special(apr_uint64_t x)
{
    apr_uint64_t q = x ^ (ONES * '"'), bs = x ^ (ONES * '\\');

    return ((q - ONES) | (bs - ONES) | (x - ONES * 0x20) | x) & HIGHS;
}
#endif

/* Index of the first byte at or after i that is not plain, or len. SSE2
 * (part of x86-64) takes 16 bytes a step: a signed compare with 0x20
 * catches both the control bytes and those above 0x7F; then 8 (SWAR), then
 * one at a time near the end of the body. */
static APR_INLINE apr_size_t plain_run(const unsigned char *b, apr_size_t i,
                                       apr_size_t len)
{
#ifdef __SSE2__
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'),
                  sp = _mm_set1_epi8(0x20);

    while (i + 16 <= len) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
        unsigned int m = (unsigned int)_mm_movemask_epi8(_mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)),
            _mm_cmplt_epi8(x, sp)));

        if (m) {
            return i + (apr_size_t)__builtin_ctz(m);
        }
        i += 16;
    }
#endif
#ifdef SWAR
    while (i + 8 <= len) {
        apr_uint64_t x, m;

        memcpy(&x, b + i, 8); /* one unaligned load */
        m = special(x);
        if (m) {
            return i + ((apr_size_t)__builtin_ctzll(m) >> 3);
        }
        i += 8;
    }
#endif
    while (i < len && plain[b[i]]) {
        i++;
    }
    return i;
}

int apisec_json_tape_scan_string_rest(parser_t *ps, int idx, apr_size_t start,
                                      apr_size_t i);

/* The string at ps->pos (at its quote): validates, decodes escapes, adds a
 * STRING token. Returns the token index or -1 (ps->code set). Inline for
 * the common string, printable ASCII without escapes; the rest (escapes,
 * UTF-8, errors) is in json_tape_string.c. */
ALWAYS_INLINE int apisec_json_tape_scan_string(parser_t *ps)
{
    const unsigned char *b = ps->b;
    const apr_size_t len = ps->len, start = ps->pos + 1;
    apr_size_t i = plain_run(b, start, len);
    int idx = new_tok(ps, APISEC_JSON_STRING, start);

    if (idx < 0) {
        return -1;
    }
    if (i < len && b[i] == '"') {
        apisec_json_tok_t *t = &ps->tok[idx];

        t->len = t->u.s.len = (apr_uint32_t)(i - start);
        t->u.s.off = (apr_uint32_t)start;
        ps->pos = i + 1;
        return idx;
    }
    return apisec_json_tape_scan_string_rest(ps, idx, start, i);
}

#endif
