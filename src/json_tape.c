/* Strict one-pass JSON parser into a token tape: see json_tape.h for what it
 * promises. Iterative (an explicit stack of open containers) so that the
 * depth limit, not the C stack, bounds nesting. */
#include "json_tape_int.h"

#include <apr_strings.h>
#include <float.h>
#include <stdlib.h>
#include <string.h>

static const char *const messages[] = {
    "ok",
    "body larger than the limit",
    "empty body",
    "unexpected end of JSON text",
    "unexpected character",
    "data after the JSON text",
    "invalid UTF-8",
    "control character in string",
    "invalid escape in string",
    "unpaired surrogate escape in string",
    "invalid number",
    "nesting too deep",
    "duplicate member name",
    "forbidden member name",
    "U+0000 in member name",
    "out of memory",
};

const char *apisec_json_strerror(apisec_json_err_e code)
{
    if ((unsigned int)code >= sizeof(messages) / sizeof(messages[0])) {
        return "unknown error";
    }
    return messages[code];
}

void apisec_json_opts_default(apisec_json_opts_t *opts)
{
    opts->max_bytes = 0;
    opts->max_depth = APISEC_JSON_DEFAULT_DEPTH;
    opts->allow_proto_names = 0;
}

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* JSON Schema's "integer" is about the value, so decide it exactly from the
 * digits: value = D * 10^(exp - nfrac); strip D's trailing zeros (tz). */
static int integral(const unsigned char *ip, apr_size_t ni,
                    const unsigned char *fp, apr_size_t nf, long exp)
{
    apr_size_t tz = 0, k;

    for (k = nf; k > 0 && fp[k - 1] == '0'; k--) {
        tz++;
    }
    if (k == 0) {
        apr_size_t j;

        for (j = ni; j > 0 && ip[j - 1] == '0'; j--) {
            tz++;
        }
        if (j == 0) {
            return 1; /* zero */
        }
    }
    return exp - (long)nf + (long)tz >= 0;
}

/* Exact powers of ten as doubles (10^22 is the last one). */
static const double pow10_exact[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#define MANT_EXACT (1ULL << 53)

/* The value of number token t. mant holds its digits without the point
 * (exact unless trunc: more digits than fit), e10 the power of ten to
 * apply. When mant and 10^|e10| are both exact doubles, one IEEE multiply
 * or divide rounds correctly, so the result is what strtod gives (Clinger's
 * fast path); only the other numbers (long mantissas, big exponents) go to
 * strtod. Needs double arithmetic without extended precision. */
static int number_value(parser_t *ps, apisec_json_tok_t *t, apr_uint64_t mant,
                        int trunc, long e10)
{
    const char *s = (const char *)ps->b + t->off;
    char small[64], *buf = small;

#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
    if (!trunc && mant <= MANT_EXACT && e10 >= -22 && e10 <= 22) {
        double v = (double)mant;

        v = e10 < 0 ? v / pow10_exact[-e10] : v * pow10_exact[e10];
        t->u.num = (s[0] == '-') ? -v : v;
        return 0;
    }
#else
    (void)mant, (void)trunc, (void)e10;
#endif
    if (t->len >= sizeof(small)) {
        /* strtod needs a terminator; the decode buffer is always long enough
         * and this does not consume it */
        if (need_dec(ps) < 0) {
            return -1;
        }
        buf = ps->dec + ps->dec_used;
    }
    memcpy(buf, s, t->len);
    buf[t->len] = '\0';
    t->u.num = strtod(buf, NULL);
    return 0;
}

static int parse_number(parser_t *ps)
{
    const unsigned char *b = ps->b;
    apr_size_t i = ps->pos, ni, nf = 0;
    const unsigned char *ip, *fp = NULL;
    long exp = 0;
    int idx, plain_int = 1, trunc = 0;
    apr_uint64_t mant = 0;
    apisec_json_tok_t *t;

    if (b[i] == '-') {
        i++;
    }
    ip = b + i;
    if (i < ps->len && b[i] == '0') {
        i++;
    }
    else if (i < ps->len && b[i] >= '1' && b[i] <= '9') {
        while (i < ps->len && is_digit(b[i])) {
            if (mant < MANT_EXACT) {
                mant = mant * 10 + (b[i] - '0');
            }
            else {
                trunc = 1;
            }
            i++;
        }
    }
    else {
        return fail(ps, APISEC_JSON_ERR_NUMBER, i);
    }
    ni = (apr_size_t)(b + i - ip);
    if (i < ps->len && b[i] == '.') {
        plain_int = 0;
        fp = b + ++i;
        while (i < ps->len && is_digit(b[i])) {
            if (mant < MANT_EXACT) {
                mant = mant * 10 + (b[i] - '0');
            }
            else {
                trunc = 1;
            }
            i++;
        }
        nf = (apr_size_t)(b + i - fp);
        if (!nf) {
            return fail(ps, APISEC_JSON_ERR_NUMBER, i);
        }
    }
    if (i < ps->len && (b[i] == 'e' || b[i] == 'E')) {
        int neg = 0;
        apr_size_t es;

        plain_int = 0;
        i++;
        if (i < ps->len && (b[i] == '+' || b[i] == '-')) {
            neg = (b[i] == '-');
            i++;
        }
        es = i;
        while (i < ps->len && is_digit(b[i])) {
            if (exp < 1000000000L) { /* saturate: only the sign matters then */
                exp = exp * 10 + (b[i] - '0');
            }
            i++;
        }
        if (i == es) {
            return fail(ps, APISEC_JSON_ERR_NUMBER, i);
        }
        exp = neg ? -exp : exp;
    }
    idx = new_tok(ps, APISEC_JSON_NUMBER, ps->pos);
    if (idx < 0) {
        return -1;
    }
    t = &ps->tok[idx];
    t->len = (apr_uint32_t)(i - ps->pos);
    if (plain_int) {
        t->flags |= APISEC_JSON_F_PLAIN_INT | APISEC_JSON_F_INTEGER;
    }
    else if (integral(ip, ni, fp, nf, exp)) {
        t->flags |= APISEC_JSON_F_INTEGER;
    }
    if (number_value(ps, t, mant, trunc, exp - (long)nf) < 0) {
        return -1;
    }
    ps->pos = i;
    return idx;
}

static int parse_literal(parser_t *ps)
{
    static const struct {
        const char *text;
        apr_size_t len;
        apisec_json_type_e type;
    } lits[] = {{"true", 4, APISEC_JSON_TRUE},
                {"false", 5, APISEC_JSON_FALSE},
                {"null", 4, APISEC_JSON_NULL}};
    apr_size_t k, avail = ps->len - ps->pos;
    int idx;

    for (k = 0; k < 3; k++) {
        if (lits[k].text[0] == (char)ps->b[ps->pos]) {
            break;
        }
    }
    if (k == 3) {
        return fail(ps, APISEC_JSON_ERR_SYNTAX, ps->pos);
    }
    if (avail < lits[k].len
        || memcmp(ps->b + ps->pos, lits[k].text, lits[k].len) != 0) {
        apr_size_t j;

        for (j = 0; j < avail && j < lits[k].len; j++) {
            if (ps->b[ps->pos + j] != (unsigned char)lits[k].text[j]) {
                return fail(ps, APISEC_JSON_ERR_SYNTAX, ps->pos + j);
            }
        }
        return fail(ps, APISEC_JSON_ERR_TRUNCATED, ps->len);
    }
    idx = new_tok(ps, lits[k].type, ps->pos);
    if (idx < 0) {
        return -1;
    }
    ps->tok[idx].len = (apr_uint32_t)lits[k].len;
    ps->pos += lits[k].len;
    return idx;
}

static const char *name_of(const parser_t *ps, apr_uint32_t i)
{
    const apisec_json_tok_t *k = &ps->tok[i];

    return ((k->flags & APISEC_JSON_F_ESCAPED) ? ps->dec : (const char *)ps->b)
           + k->u.s.off;
}

/* Name order for the duplicate check: length, bytes, then token index so
 * that equal names sort by position and the report is deterministic. */
static int name_cmp(const parser_t *ps, apr_uint32_t a, apr_uint32_t b)
{
    const apisec_json_tok_t *x = &ps->tok[a], *y = &ps->tok[b];
    int c;

    if (x->u.s.len != y->u.s.len) {
        return x->u.s.len < y->u.s.len ? -1 : 1;
    }
    c = memcmp(name_of(ps, a), name_of(ps, b), x->u.s.len);
    if (c) {
        return c;
    }
    return a < b ? -1 : (a > b);
}

static APR_INLINE int same_name(const parser_t *ps, apr_uint32_t a,
                                apr_uint32_t b)
{
    const char *x, *y;
    apr_size_t len = ps->tok[a].u.s.len;

    if (len != ps->tok[b].u.s.len) {
        return 0;
    }
    if (len == 0) {
        return 1;
    }
    x = name_of(ps, a);
    y = name_of(ps, b);
    /* names of one object that have the same length mostly differ at the
     * first or the last byte: no call for those */
    return x[0] == y[0] && x[len - 1] == y[len - 1] && memcmp(x, y, len) == 0;
}

/* Heapsort: O(n log n) whatever names an attacker picks, no allocation. */
static void sift(const parser_t *ps, apr_uint32_t *a, apr_size_t root,
                 apr_size_t n)
{
    for (;;) {
        apr_size_t c = 2 * root + 1;
        apr_uint32_t tmp;

        if (c >= n) {
            return;
        }
        if (c + 1 < n && name_cmp(ps, a[c], a[c + 1]) < 0) {
            c++;
        }
        if (name_cmp(ps, a[root], a[c]) >= 0) {
            return;
        }
        tmp = a[root];
        a[root] = a[c];
        a[c] = tmp;
        root = c;
    }
}

static void heapsort_names(const parser_t *ps, apr_uint32_t *a, apr_size_t n)
{
    apr_size_t k;

    for (k = n / 2; k > 0; k--) {
        sift(ps, a, k - 1, n);
    }
    for (k = n; k > 1; k--) {
        apr_uint32_t tmp = a[0];

        a[0] = a[k - 1];
        a[k - 1] = tmp;
        sift(ps, a, 0, k - 1);
    }
}

#define SMALL_OBJECT 16
#define TAPE_START_MAX 65536

/* Returns the name token of the first member (in document order) whose name
 * an earlier member already has, or 0. */
static apr_uint32_t find_duplicate(parser_t *ps, apr_uint32_t obj)
{
    apr_uint32_t n = ps->tok[obj].u.c.count, k, m, key = obj + 1, dup = 0;
    apr_uint32_t small[SMALL_OBJECT], *keys = small;
    /* small objects: the pairwise loop compares names only when their
     * lengths agree, and those are at hand here */
    apr_uint32_t sig[SMALL_OBJECT];

    if (n < 2) {
        return 0;
    }
    if (n > SMALL_OBJECT) {
        if (n > ps->scratch_cap) {
            ps->scratch = apr_palloc(ps->p, sizeof(*ps->scratch) * n * 2);
            if (!ps->scratch) {
                ps->scratch_cap = 0;
                return (apr_uint32_t)-1;
            }
            ps->scratch_cap = n * 2;
        }
        keys = ps->scratch;
    }
    for (m = 0; m < n; m++) {
        keys[m] = key;
        if (n <= SMALL_OBJECT) {
            sig[m] = ps->tok[key].u.s.len;
        }
        key = (ps->tok[key + 1].type == APISEC_JSON_OBJECT
               || ps->tok[key + 1].type == APISEC_JSON_ARRAY)
                  ? ps->tok[key + 1].u.c.end
                  : key + 2;
    }
    if (n <= SMALL_OBJECT) {
        for (m = 1; m < n; m++) {
            for (k = 0; k < m; k++) {
                if (sig[k] == sig[m] && same_name(ps, keys[k], keys[m])) {
                    return keys[m];
                }
            }
        }
        return 0;
    }
    heapsort_names(ps, keys, n);
    for (m = 1; m < n; m++) {
        /* keys[m] repeats an earlier name: the second of its run is the
         * first repeat in document order for that name */
        if (same_name(ps, keys[m - 1], keys[m])
            && (m < 2 || !same_name(ps, keys[m - 2], keys[m - 1]))) {
            if (!dup || keys[m] < dup) {
                dup = keys[m];
            }
        }
    }
    return dup;
}

static int forbidden_name(const char *s, apr_size_t len)
{
    /* most names of these lengths differ from all three in the first byte
     * or the third */
    if (!(s[0] == '_' || s[0] == 'c' || s[0] == 'p')
        || !(s[2] == 'p' || s[2] == 'n' || s[2] == 'o')) {
        return 0;
    }
    return (len == 9 && memcmp(s, "__proto__", 9) == 0)
           || (len == 11 && memcmp(s, "constructor", 11) == 0)
           || (len == 9 && memcmp(s, "prototype", 9) == 0);
}

/* Closes the top container (pos at its closing bracket). */
static int close_container(parser_t *ps)
{
    level_t *lv = &ps->stack[ps->depth - 1];
    apisec_json_tok_t *t = &ps->tok[lv->tok];

    t->u.c.end = ps->ntok;
    t->len = (apr_uint32_t)(ps->pos + 1 - t->off);
    if (t->type == APISEC_JSON_OBJECT) {
        apr_uint32_t dup = find_duplicate(ps, lv->tok);

        if (dup == (apr_uint32_t)-1) {
            return fail(ps, APISEC_JSON_ERR_NOMEM, ps->pos);
        }
        if (dup) {
            ps->err_key = dup;
            return fail(ps, APISEC_JSON_ERR_DUPLICATE, ps->tok[dup].off - 1);
        }
    }
    ps->depth--;
    ps->pos++;
    return 0;
}

/* Skips JSON whitespace at pos; compact bodies mostly have none, and every
 * byte above the space is not whitespace. */
#define SKIP_WS()                                                              \
    do {                                                                       \
        while (pos < len && b[pos] <= ' ' && is_ws(b[pos])) {                  \
            pos++;                                                             \
        }                                                                      \
    } while (0)

/* Calls a helper that works on ps->pos, and takes its position back. */
#define AT_POS(call)                                                           \
    do {                                                                       \
        ps->pos = pos;                                                         \
        if ((call) < 0) {                                                      \
            return -1;                                                         \
        }                                                                      \
        pos = ps->pos;                                                         \
    } while (0)

/* The whole grammar in one loop, the position in a local: a value is due,
 * then separators and closing brackets, then a member name and its colon.
 * Each step is small, so keeping the state in registers rather than going
 * through ps and a call per step is most of the parser's speed. The stack
 * (ps->stack, each level's token, current member name and in_member) is
 * kept exactly as error_pointer() reads it. */
static int run(parser_t *ps)
{
    const unsigned char *b = ps->b;
    const apr_size_t len = ps->len;
    apr_size_t pos = ps->pos;
    level_t *lv;
    int idx;

    SKIP_WS();
    if (pos == len) {
        return fail(ps, APISEC_JSON_ERR_EMPTY, len);
    }
    for (;;) {
        unsigned char c;

        /* a value is due at pos, whitespace skipped */
        if (pos >= len) {
            return fail(ps, APISEC_JSON_ERR_TRUNCATED, len);
        }
        c = b[pos];
        if (c == '"') {
            AT_POS(apisec_json_tape_scan_string(ps));
        }
        else if (c == '{' || c == '[') {
            int obj = (c == '{');

            if (ps->depth >= ps->max_depth) {
                return fail(ps, APISEC_JSON_ERR_DEPTH, pos);
            }
            idx =
                new_tok(ps, obj ? APISEC_JSON_OBJECT : APISEC_JSON_ARRAY, pos);
            if (idx < 0) {
                return -1;
            }
            lv = &ps->stack[ps->depth++];
            lv->tok = (apr_uint32_t)idx;
            lv->key = 0;
            lv->in_member = 0;
            pos++;
            SKIP_WS();
            if (pos >= len) {
                return fail(ps, APISEC_JSON_ERR_TRUNCATED, len);
            }
            if (b[pos] == (obj ? '}' : ']')) {
                AT_POS(close_container(ps));
            }
            else if (obj) {
                goto member;
            }
            else {
                lv->in_member = 1;
                continue;
            }
        }
        else if (c == '-' || is_digit(c)) {
            AT_POS(parse_number(ps));
        }
        else {
            AT_POS(parse_literal(ps));
        }
        /* a value is complete: separators and closing brackets until the
         * next value is due or the text is complete */
        for (;;) {
            apisec_json_tok_t *ct;

            if (ps->depth == 0) {
                SKIP_WS();
                if (pos != len) {
                    return fail(ps, APISEC_JSON_ERR_TRAILING, pos);
                }
                ps->pos = pos;
                return 0;
            }
            lv = &ps->stack[ps->depth - 1];
            ct = &ps->tok[lv->tok];
            if (lv->in_member) {
                ct->u.c.count++;
                lv->in_member = 0;
            }
            SKIP_WS();
            if (pos >= len) {
                return fail(ps, APISEC_JSON_ERR_TRUNCATED, len);
            }
            c = b[pos];
            if (c == ',') {
                pos++;
                SKIP_WS();
                if (ct->type == APISEC_JSON_OBJECT) {
                    goto member;
                }
                lv->in_member = 1;
                break;
            }
            if (c != (ct->type == APISEC_JSON_OBJECT ? '}' : ']')) {
                return fail(ps, APISEC_JSON_ERR_SYNTAX, pos);
            }
            AT_POS(close_container(ps));
        }
        continue;

    member:
        /* at pos (whitespace skipped): a member name of lv's object, the
         * colon, whitespace */
        if (pos >= len) {
            return fail(ps, APISEC_JSON_ERR_TRUNCATED, len);
        }
        if (b[pos] != '"') {
            return fail(ps, APISEC_JSON_ERR_SYNTAX, pos);
        }
        ps->pos = pos;
        idx = apisec_json_tape_scan_string(ps);
        if (idx < 0) {
            return -1;
        }
        pos = ps->pos;
        {
            const apisec_json_tok_t *t = &ps->tok[idx];
            apr_size_t nlen = t->u.s.len;

            /* a raw NUL is a control character the scanner refuses: only
             * an escape can have made one */
            if ((t->flags & APISEC_JSON_F_ESCAPED)
                && memchr(ps->dec + t->u.s.off, '\0', nlen)) {
                return fail(ps, APISEC_JSON_ERR_NUL_IN_NAME, t->off - 1);
            }
            lv->key = (apr_uint32_t)idx;
            if (!ps->allow_proto && (nlen == 9 || nlen == 11)
                && forbidden_name(name_of(ps, (apr_uint32_t)idx), nlen)) {
                lv->in_member = 1; /* so the pointer names the member */
                return fail(ps, APISEC_JSON_ERR_FORBIDDEN_NAME, t->off - 1);
            }
        }
        SKIP_WS();
        if (pos >= len) {
            return fail(ps, APISEC_JSON_ERR_TRUNCATED, len);
        }
        if (b[pos] != ':') {
            return fail(ps, APISEC_JSON_ERR_SYNTAX, pos);
        }
        pos++;
        SKIP_WS();
        lv->in_member = 1;
    }
}

int apisec_json_pointer_append(char *buf, apr_size_t cap, apr_size_t *pos,
                               const char *name, apr_size_t len)
{
    apr_size_t o = *pos, k;
    int ok = 1;

    if (cap == 0) {
        return 0;
    }
    if (o + 1 < cap) {
        buf[o++] = '/';
    }
    else {
        ok = 0;
    }
    for (k = 0; ok && k < len; k++) {
        char c = name[k];
        int two = (c == '~' || c == '/');

        if (o + 1 + two >= cap) {
            ok = 0;
            break;
        }
        if (two) {
            buf[o++] = '~';
            buf[o++] = (c == '~') ? '0' : '1';
        }
        else {
            buf[o++] = c;
        }
    }
    buf[o] = '\0';
    *pos = o;
    return ok;
}

static const char *error_pointer(parser_t *ps)
{
    apr_size_t cap = 1, pos = 0;
    unsigned int d;
    char *buf;

    for (d = 0; d < ps->depth; d++) {
        cap += 24;
        if (ps->tok[ps->stack[d].tok].type == APISEC_JSON_OBJECT
            && ps->stack[d].in_member) {
            cap += 2 * (apr_size_t)ps->tok[ps->stack[d].key].u.s.len;
        }
    }
    if (ps->err_key) {
        cap += 2 * (apr_size_t)ps->tok[ps->err_key].u.s.len + 2;
    }
    buf = apr_palloc(ps->p, cap);
    if (!buf) {
        return NULL;
    }
    buf[0] = '\0';
    for (d = 0; d < ps->depth; d++) {
        const level_t *lv = &ps->stack[d];
        const apisec_json_tok_t *ct = &ps->tok[lv->tok];

        if (!lv->in_member) {
            break;
        }
        if (ct->type == APISEC_JSON_OBJECT) {
            apisec_json_pointer_append(buf, cap, &pos, name_of(ps, lv->key),
                                       ps->tok[lv->key].u.s.len);
        }
        else {
            char num[16];
            int n = apr_snprintf(num, sizeof(num), "%u", ct->u.c.count);

            apisec_json_pointer_append(buf, cap, &pos, num, (apr_size_t)n);
        }
    }
    if (ps->err_key) {
        apisec_json_pointer_append(buf, cap, &pos, name_of(ps, ps->err_key),
                                   ps->tok[ps->err_key].u.s.len);
    }
    return buf;
}

static apisec_json_err_e report(parser_t *ps, apisec_json_error_t *err,
                                int with_pointer)
{
    if (err) {
        err->code = ps->code;
        err->msg = apisec_json_strerror(ps->code);
        err->offset = ps->err_off;
        err->pointer = with_pointer ? error_pointer(ps) : NULL;
    }
    return ps->code;
}

apisec_json_err_e apisec_json_tape_parse(apr_pool_t *p, const char *buf,
                                         apr_size_t len,
                                         const apisec_json_opts_t *opts,
                                         apisec_json_tape_t **tape,
                                         apisec_json_error_t *err)
{
    apisec_json_opts_t defaults;
    parser_t ps;
    apisec_json_tape_t *t;

    *tape = NULL;
    if (!opts) {
        apisec_json_opts_default(&defaults);
        opts = &defaults;
    }
    memset(&ps, 0, sizeof(ps));
    ps.p = p;
    ps.b = (const unsigned char *)buf;
    ps.len = len;
    ps.max_depth =
        opts->max_depth ? opts->max_depth : APISEC_JSON_DEFAULT_DEPTH;
    if (ps.max_depth > APISEC_JSON_MAX_DEPTH) {
        ps.max_depth = APISEC_JSON_MAX_DEPTH;
    }
    ps.allow_proto = opts->allow_proto_names;
    if ((opts->max_bytes && len > opts->max_bytes) || len >= 0xFFFFFFF0u) {
        fail(&ps, APISEC_JSON_ERR_TOO_LARGE,
             opts->max_bytes && len > opts->max_bytes ? opts->max_bytes : 0);
        return report(&ps, err, 0);
    }
    /* compact bodies have a token every 10 to 15 bytes: most never grow
     * the tape; a big body starts at 64k tokens (1.5 MiB) and grows only
     * if it has that many */
    ps.cap = (apr_uint32_t)(len / 8 + 16);
    if (ps.cap > TAPE_START_MAX) {
        ps.cap = TAPE_START_MAX;
    }
    ps.tok = apr_palloc(p, sizeof(*ps.tok) * ps.cap);
    ps.stack = apr_palloc(p, sizeof(*ps.stack) * ps.max_depth);
    if (!ps.tok || !ps.stack) {
        fail(&ps, APISEC_JSON_ERR_NOMEM, 0);
        return report(&ps, err, 0);
    }
    if (run(&ps) < 0) {
        return report(&ps, err, ps.code != APISEC_JSON_ERR_NOMEM);
    }
    t = apr_palloc(p, sizeof(*t));
    if (!t) {
        fail(&ps, APISEC_JSON_ERR_NOMEM, 0);
        return report(&ps, err, 0);
    }
    t->tok = ps.tok;
    t->ntok = ps.ntok;
    t->body = buf;
    t->len = len;
    t->dec = ps.dec;
    *tape = t;
    return APISEC_JSON_OK;
}
