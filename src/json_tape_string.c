/* Strings for the tape parser: UTF-8 validation (RFC 3629), escapes and
 * surrogate pairs, decoding into the parse's one decode buffer.
 *
 * Strings are most of a request body's bytes, so runs of plain bytes
 * (printable ASCII other than the quote and the backslash) are skipped
 * eight at a time (SWAR, json_tape_int.h); UTF-8 is validated only where a byte
 * with the high bit set stops the run, one sequence at a time. */
#include "json_tape_int.h"

/* Length of the well-formed UTF-8 sequence at s (RFC 3629 table 3-7), or 0.
 * Only called for a lead byte >= 0x80. */
static int utf8_seq(const unsigned char *s, apr_size_t avail)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    int n, i;

    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    }
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) {
            lo = 0xA0; /* overlong */
        }
        else if (c == 0xED) {
            hi = 0x9F; /* surrogates */
        }
    }
    else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) {
            lo = 0x90; /* overlong */
        }
        else if (c == 0xF4) {
            hi = 0x8F; /* above U+10FFFF */
        }
    }
    else {
        return 0;
    }
    if (avail < (apr_size_t)n) {
        return 0;
    }
    if (s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (i = 2; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
    }
    return n;
}

apr_size_t apisec_json_utf8_len(const char *s, apr_size_t len)
{
    apr_size_t i, n = 0;

    for (i = 0; i < len; i++) {
        n += (((unsigned char)s[i] & 0xC0) != 0x80);
    }
    return n;
}

/* One more than the value of a hex digit, 0 for any other byte. */
static const unsigned char hex1[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
    ['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['A'] = 11, ['B'] = 12,
    ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16, ['a'] = 11, ['b'] = 12,
    ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16};

static int hex4(parser_t *ps, apr_size_t i, unsigned int *cp)
{
    unsigned int v = 0;
    int k;

    if (i + 4 <= ps->len) {
        /* four lookups; on a bad digit the loop below finds which */
        const unsigned char *h = ps->b + i;
        unsigned int a = hex1[h[0]], b = hex1[h[1]], c = hex1[h[2]],
                     d = hex1[h[3]];

        if (a && b && c && d) {
            *cp = ((a - 1) << 12) | ((b - 1) << 8) | ((c - 1) << 4) | (d - 1);
            return 0;
        }
    }
    for (k = 0; k < 4; k++, i++) {
        unsigned char c;

        if (i >= ps->len) {
            return fail(ps, APISEC_JSON_ERR_TRUNCATED, ps->len);
        }
        c = ps->b[i];
        if (c >= '0' && c <= '9') {
            v = v * 16 + (c - '0');
        }
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
            v = v * 16 + ((c | 0x20) - 'a' + 10);
        }
        else {
            return fail(ps, APISEC_JSON_ERR_ESCAPE, i);
        }
    }
    *cp = v;
    return 0;
}

static char *put_utf8(char *o, unsigned int cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    }
    else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* \uXXXX at i (i at the backslash); on success *ni is past it (and past a
 * low surrogate escape that pairs with it). */
static int unicode_escape(parser_t *ps, apr_size_t i, unsigned int *cp,
                          apr_size_t *ni)
{
    unsigned int hi, lo;

    if (hex4(ps, i + 2, &hi) < 0) {
        return -1;
    }
    if (hi >= 0xDC00 && hi <= 0xDFFF) {
        return fail(ps, APISEC_JSON_ERR_SURROGATE, i);
    }
    if (hi < 0xD800 || hi > 0xDBFF) {
        *cp = hi;
        *ni = i + 6;
        return 0;
    }
    /* a high surrogate escape must be followed by a low one */
    if (i + 6 >= ps->len) {
        return fail(ps, APISEC_JSON_ERR_TRUNCATED, ps->len);
    }
    if (ps->b[i + 6] != '\\') {
        return fail(ps, APISEC_JSON_ERR_SURROGATE, i);
    }
    if (i + 7 >= ps->len) {
        return fail(ps, APISEC_JSON_ERR_TRUNCATED, ps->len);
    }
    if (ps->b[i + 7] != 'u') {
        return fail(ps, APISEC_JSON_ERR_SURROGATE, i);
    }
    if (hex4(ps, i + 8, &lo) < 0) {
        return -1;
    }
    if (lo < 0xDC00 || lo > 0xDFFF) {
        return fail(ps, APISEC_JSON_ERR_SURROGATE, i);
    }
    *cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    *ni = i + 12;
    return 0;
}

/* The rest of a string from i (at the first backslash), decoding into dec. */
static int string_escaped(parser_t *ps, apisec_json_tok_t *t, apr_size_t start,
                          apr_size_t i)
{
    const unsigned char *b = ps->b;
    char *o, *o0;

    if (need_dec(ps) < 0) {
        return -1;
    }
    o0 = o = ps->dec + ps->dec_used;
    memcpy(o, b + start, i - start);
    o += i - start;
    for (;;) {
        unsigned char c;
        apr_size_t e = plain_run(b, i, ps->len);

        memcpy(o, b + i, e - i);
        o += e - i;
        i = e;
        if (i >= ps->len) {
            return fail(ps, APISEC_JSON_ERR_TRUNCATED, ps->len);
        }
        c = b[i];
        if (c == '"') {
            break;
        }
        if (c == '\\') {
            unsigned int cp;
            apr_size_t ni;

            if (i + 1 >= ps->len) {
                return fail(ps, APISEC_JSON_ERR_TRUNCATED, ps->len);
            }
            switch (b[i + 1]) {
            case '"':
                *o++ = '"';
                break;
            case '\\':
                *o++ = '\\';
                break;
            case '/':
                *o++ = '/';
                break;
            case 'b':
                *o++ = '\b';
                break;
            case 'f':
                *o++ = '\f';
                break;
            case 'n':
                *o++ = '\n';
                break;
            case 'r':
                *o++ = '\r';
                break;
            case 't':
                *o++ = '\t';
                break;
            case 'u':
                if (unicode_escape(ps, i, &cp, &ni) < 0) {
                    return -1;
                }
                o = put_utf8(o, cp);
                i = ni;
                continue;
            default:
                return fail(ps, APISEC_JSON_ERR_ESCAPE, i);
            }
            i += 2;
        }
        else if (c < 0x20) {
            return fail(ps, APISEC_JSON_ERR_CONTROL, i);
        }
        else {
            int n = utf8_seq(b + i, ps->len - i);

            if (!n) {
                return fail(ps, APISEC_JSON_ERR_UTF8, i);
            }
            memcpy(o, b + i, n);
            o += n;
            i += n;
        }
    }
    t->flags |= APISEC_JSON_F_ESCAPED;
    t->len = (apr_uint32_t)(i - start);
    t->u.s.off = (apr_uint32_t)ps->dec_used;
    t->u.s.len = (apr_uint32_t)(o - o0);
    ps->dec_used += (apr_size_t)(o - o0);
    ps->pos = i + 1;
    return 0;
}

/* The rest of string token idx (see apisec_json_tape_scan_string): i is
 * the first byte after start that is not plain. */
int apisec_json_tape_scan_string_rest(parser_t *ps, int idx, apr_size_t start,
                                      apr_size_t i)
{
    const unsigned char *b = ps->b;
    apisec_json_tok_t *t = &ps->tok[idx];

    for (;;) {
        unsigned char c;

        if (i >= ps->len) {
            return fail(ps, APISEC_JSON_ERR_TRUNCATED, ps->len);
        }
        c = b[i];
        if (c == '"') {
            break;
        }
        if (c == '\\') {
            return string_escaped(ps, t, start, i) < 0 ? -1 : idx;
        }
        if (c < 0x20) {
            return fail(ps, APISEC_JSON_ERR_CONTROL, i);
        }
        else {
            int n = utf8_seq(b + i, ps->len - i);

            if (!n) {
                return fail(ps, APISEC_JSON_ERR_UTF8, i);
            }
            i = plain_run(b, i + n, ps->len);
        }
    }
    t->len = (apr_uint32_t)(i - start);
    t->u.s.off = (apr_uint32_t)start;
    t->u.s.len = t->len;
    ps->pos = i + 1;
    return idx;
}
