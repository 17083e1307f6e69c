/* Parser state shared by json_tape.c (structure, numbers, names) and
 * json_tape_string.c (strings and UTF-8). Not a public interface. */
#ifndef APISEC_JSON_TAPE_INT_H
#define APISEC_JSON_TAPE_INT_H

#include "json_tape.h"

#include <string.h>

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

/* The string at ps->pos (at its quote): validates, decodes escapes, adds a
 * STRING token. Returns the token index or -1 (ps->code set). */
int apisec_json_tape_scan_string(parser_t *ps);

#endif
