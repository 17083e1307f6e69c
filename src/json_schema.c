/* Validator: walks a json_tape tape against a compiled schema (see
 * json_schema.h). No allocation per value: the instance path is a fixed
 * array of tape indices, errors go into the caller's result, and the one
 * PCRE2 match block is made on the first pattern match of a call. */
#include "json_schema_int.h"

#include <apr_strings.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

/* Schema recursion ($ref, applicators) beyond this fails closed. */
#define MAX_RECURSION 256
/* Work budget per validation, in node visits, pattern matches and value
 * comparisons: nested anyOf/oneOf over a recursive $ref can take time
 * exponential in the depth; past the budget the body is rejected. */
#define BUDGET_PER_TOKEN 256
#define BUDGET_BASE 65536
/* Path segments kept for pointers; deeper ones end the pointer in "...". */
#define PATH_MAX_SEGS 64
/* Objects with at most this many members look them up once (v_object). */
#define FOUND_MAX 64

typedef struct {
    apr_uint32_t v; /* name token (key) or array index */
    int is_key;
} seg_t;

typedef struct {
    const apisec_schema_t *s;
    const apisec_json_tape_t *t;
    int strict;
    apr_pool_t *p;
    pcre2_general_context *gctx;
    pcre2_match_data *md;
    apisec_schema_result_t *res;
    int quiet; /* > 0 inside a speculative branch: record nothing */
    int depth;
    int exhausted;
    apr_size_t steps;
    apr_size_t max_steps;
    int plen;
    seg_t path[PATH_MAX_SEGS];
} vctx_t;

static void push_key(vctx_t *c, apr_uint32_t key)
{
    if (c->plen < PATH_MAX_SEGS) {
        c->path[c->plen].v = key;
        c->path[c->plen].is_key = 1;
    }
    c->plen++;
}

static void push_index(vctx_t *c, apr_uint32_t idx)
{
    if (c->plen < PATH_MAX_SEGS) {
        c->path[c->plen].v = idx;
        c->path[c->plen].is_key = 0;
    }
    c->plen++;
}

static void pop(vctx_t *c)
{
    c->plen--;
}

/* Records an error at the current path (plus extra, a missing member's
 * name, when not NULL). */
static void report(vctx_t *c, const char *msg, const char *extra,
                   apr_size_t extra_len)
{
    apisec_schema_error_t *e;
    apr_size_t pos = 0, cap = APISEC_SCHEMA_POINTER_MAX - 3;
    int k, ok = 1;

    if (c->quiet) {
        return;
    }
    if (c->res->count >= APISEC_SCHEMA_MAX_ERRORS) {
        c->res->truncated = 1;
        return;
    }
    e = &c->res->err[c->res->count++];
    e->message = msg;
    e->pointer[0] = '\0';
    for (k = 0; k < c->plen && ok; k++) {
        if (k >= PATH_MAX_SEGS) {
            ok = 0;
        }
        else if (c->path[k].is_key) {
            apr_size_t len;
            const char *name = apisec_json_tape_str(c->t, c->path[k].v, &len);

            ok = apisec_json_pointer_append(e->pointer, cap, &pos, name, len);
        }
        else {
            char num[16];
            int n = apr_snprintf(num, sizeof(num), "%u", c->path[k].v);

            ok = apisec_json_pointer_append(e->pointer, cap, &pos, num,
                                            (apr_size_t)n);
        }
    }
    if (ok && extra) {
        ok =
            apisec_json_pointer_append(e->pointer, cap, &pos, extra, extra_len);
    }
    if (!ok) {
        /* the cut may have split a UTF-8 sequence: drop an incomplete one */
        apr_size_t lead = pos;

        while (lead > 0
               && ((unsigned char)e->pointer[lead - 1] & 0xC0) == 0x80) {
            lead--;
        }
        if (lead > 0) {
            unsigned char b = (unsigned char)e->pointer[lead - 1];
            apr_size_t need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;

            if (lead - 1 + need > pos) {
                pos = lead - 1;
            }
        }
        memcpy(e->pointer + pos, "...", 4);
    }
}

static void *pmalloc(PCRE2_SIZE size, void *data)
{
    return apr_palloc(data, size);
}

static void pfree(void *block, void *data)
{
    (void)block; /* pool memory goes with the request pool */
    (void)data;
}

/* 1 match, 0 no match, -1 could not be evaluated (fails closed). */
static int re_match(vctx_t *c, const pcre2_code *re, const char *s,
                    apr_size_t len)
{
    int rc;

    c->steps++;
    if (!c->md) {
        if (!c->gctx) {
            c->gctx = pcre2_general_context_create(pmalloc, pfree, c->p);
        }
        c->md = c->gctx ? pcre2_match_data_create(1, c->gctx) : NULL;
        if (!c->md) {
            return -1;
        }
    }
    rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, PCRE2_NO_UTF_CHECK, c->md,
                     c->s->mctx);
    if (rc >= 0) {
        return 1;
    }
    return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

/* tmask (compile time) has bit t for each tape type t the type keyword
 * takes whole; an integer-valued number also passes "integer". */
ALWAYS_INLINE int type_ok(const snode_t *n, const apisec_json_tok_t *k)
{
    return ((n->tmask >> k->type) & 1)
           || (k->type == APISEC_JSON_NUMBER && (n->types & T_INTEGER)
               && (k->flags & APISEC_JSON_F_INTEGER));
}

static int v_node(vctx_t *c, const snode_t *n, apr_uint32_t i, int absorbed);

/* Evaluates n against i without recording errors. */
static int quietly(vctx_t *c, const snode_t *n, apr_uint32_t i, int absorbed)
{
    int ok;

    c->quiet++;
    ok = v_node(c, n, i, absorbed);
    c->quiet--;
    return ok;
}

ALWAYS_INLINE int v_number(vctx_t *c, const snode_t *n, double v)
{
    int ok = 1;

    if ((n->kw & K_MINIMUM) && v < n->minimum) {
        ok = 0, report(c, "number is below the minimum", NULL, 0);
    }
    if ((n->kw & K_MAXIMUM) && v > n->maximum) {
        ok = 0, report(c, "number is above the maximum", NULL, 0);
    }
    if ((n->kw & K_XMIN) && v <= n->xmin) {
        ok = 0, report(c, "number is not above the exclusive minimum", NULL, 0);
    }
    if ((n->kw & K_XMAX) && v >= n->xmax) {
        ok = 0, report(c, "number is not below the exclusive maximum", NULL, 0);
    }
    if (n->kw & K_MULTIPLE) {
        double q = v / n->multiple;

        /* relative tolerance: 0.0075 / 0.0001 is 74.99999999999999 */
        if (!isfinite(q)
            || fabs(q - nearbyint(q)) > 1e-9 * fmax(1.0, fabs(q))) {
            ok = 0,
            report(c, "number is not a multiple of multipleOf", NULL, 0);
        }
    }
    return ok;
}

ALWAYS_INLINE int v_string(vctx_t *c, const snode_t *n, apr_uint32_t i)
{
    apr_size_t len, cps;
    const char *s = apisec_json_tape_str(c->t, i, &len);
    int ok = 1, m;

    /* a string of len bytes has between (len + 3) / 4 and len code points:
     * count them only when those bounds do not decide */
    if (((n->kw & K_MINLEN) && (len + 3) / 4 < n->min_len)
        || ((n->kw & K_MAXLEN) && len > n->max_len)) {
        cps = apisec_json_utf8_len(s, len);
        if ((n->kw & K_MINLEN) && cps < n->min_len) {
            ok = 0, report(c, "string is shorter than minLength", NULL, 0);
        }
        if ((n->kw & K_MAXLEN) && cps > n->max_len) {
            ok = 0, report(c, "string is longer than maxLength", NULL, 0);
        }
    }
    if (n->pattern && (m = re_match(c, n->pattern, s, len)) != 1) {
        ok = 0, report(c,
                       m < 0 ? "pattern could not be evaluated"
                             : "string does not match the pattern",
                       NULL, 0);
    }
    if (n->format && c->s->assert_formats
        && !apisec_format_check(n->format, s, len)) {
        ok = 0, report(c, "string is not in the required format", NULL, 0);
    }
    return ok;
}

/* v_node for the commonest case, a scalar value against a leaf node (only
 * type and number or string keywords), without the call and the
 * bookkeeping that applicators and containers need; the same checks in
 * the same order, so the same errors. */
ALWAYS_INLINE int v_value(vctx_t *c, const snode_t *n, apr_uint32_t i)
{
    const apisec_json_tok_t *k = &c->t->tok[i];
    int ok = 1;

    if (!n->leaf || k->type < APISEC_JSON_STRING || c->depth >= MAX_RECURSION) {
        return v_node(c, n, i, 0);
    }
    if (c->exhausted || ++c->steps > c->max_steps) {
        c->exhausted = 1;
        return 0;
    }
    if ((n->kw & K_TYPE) && !type_ok(n, k)) {
        ok = 0, report(c, "value has the wrong type", NULL, 0);
        if (c->quiet) {
            return 0;
        }
    }
    if (k->type == APISEC_JSON_NUMBER) {
        if (n->checks & C_NUMBER) {
            ok &= v_number(c, n, k->u.num);
        }
    }
    else if (k->type == APISEC_JSON_STRING && (n->checks & C_STRING)) {
        ok &= v_string(c, n, i);
    }
    return ok;
}

static int v_array(vctx_t *c, const snode_t *n, apr_uint32_t i)
{
    apr_uint32_t count = c->t->tok[i].u.c.count, k, e;
    int ok = 1, found = 0;

    if ((n->kw & K_MINITEMS) && count < n->min_items) {
        ok = 0, report(c, "array has fewer items than minItems", NULL, 0);
    }
    if ((n->kw & K_MAXITEMS) && count > n->max_items) {
        ok = 0, report(c, "array has more items than maxItems", NULL, 0);
    }
    if (n->kw & K_UNIQUE) {
        int u = apisec_schema_unique(c->t, i, c->p, &c->steps, c->max_steps);

        if (u == -2) {
            c->exhausted = 1;
            return 0;
        }
        if (u <= 0) {
            ok = 0,
            report(c, u < 0 ? "out of memory" : "array items are not unique",
                   NULL, 0);
        }
    }
    if (!ok && c->quiet) {
        return 0;
    }
    for (k = 0, e = i + 1; k < count; k++, e = apisec_json_tape_next(c->t, e)) {
        const snode_t *sub = k < n->prefix.n ? n->prefix.v[k] : n->items;

        if (sub) {
            push_index(c, k);
            ok &= v_value(c, sub, e);
            pop(c);
            if (!ok && c->quiet) {
                return 0;
            }
        }
        if (n->contains && !found) {
            found = quietly(c, n->contains, e, 0);
        }
    }
    if (n->contains && !found) {
        ok = 0, report(c, "no array item matches contains", NULL, 0);
    }
    return ok;
}

static APR_INLINE const sprop_t *find_prop(const snode_t *n, const char *s,
                                           apr_size_t len)
{
    apr_size_t lo = 0, hi = n->nprops;

    if (n->phash) {
        apr_uint32_t h = apisec_schema_name_hash(s, len), e;

        while ((e = n->phash[h & n->pmask])) {
            const sprop_t *p = &n->props[e - 1];

            if (p->len == len && apisec_bytes_eq(p->name, s, len)) {
                return p;
            }
            h++;
        }
        return NULL;
    }

    while (lo < hi) {
        apr_size_t mid = (lo + hi) / 2;
        const sprop_t *p = &n->props[mid];
        int cmp =
            p->len != len ? (p->len < len ? -1 : 1) : memcmp(p->name, s, len);

        if (cmp == 0) {
            return p;
        }
        if (cmp < 0) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return NULL;
}

/* Strict mode: does n, or a subschema applying to the same value, name the
 * member? Errors in patterns count as naming it (the pattern error itself
 * is reported where the pattern applies). */
static int named(vctx_t *c, const snode_t *n, const char *s, apr_size_t len,
                 int depth)
{
    apr_size_t k;

    if (!n || depth > 32 || !n->names_members) {
        return 0;
    }
    if (find_prop(n, s, len)) {
        return 1;
    }
    for (k = 0; k < n->npats; k++) {
        if (re_match(c, n->pats[k].re, s, len) != 0) {
            return 1;
        }
    }
    if (named(c, n->ref, s, len, depth + 1)
        || named(c, n->then_, s, len, depth + 1)
        || named(c, n->else_, s, len, depth + 1)) {
        return 1;
    }
    for (k = 0; k < n->all.n; k++) {
        if (named(c, n->all.v[k], s, len, depth + 1)) {
            return 1;
        }
    }
    for (k = 0; k < n->any.n; k++) {
        if (named(c, n->any.v[k], s, len, depth + 1)) {
            return 1;
        }
    }
    for (k = 0; k < n->one.n; k++) {
        if (named(c, n->one.v[k], s, len, depth + 1)) {
            return 1;
        }
    }
    return 0;
}

/* One member: propertyNames, then the schemas that apply to its value.
 * p is its entry in n's properties (find_prop), NULL when none. */
ALWAYS_INLINE int v_member(vctx_t *c, const snode_t *n, apr_uint32_t key,
                           const sprop_t *p, int enforce)
{
    apr_size_t len, k;
    const char *s = apisec_json_tape_str(c->t, key, &len);
    int ok = 1, matched = (p != NULL);

    push_key(c, key);
    if (n->pnames && !quietly(c, n->pnames, key, 0)) {
        ok = 0,
        report(c, "member name is not allowed by propertyNames", NULL, 0);
    }
    if (p && (ok || !c->quiet)) {
        ok &= v_value(c, p->schema, key + 1);
    }
    for (k = 0; k < n->npats && (ok || !c->quiet); k++) {
        int m = re_match(c, n->pats[k].re, s, len);

        if (m < 0) {
            ok = 0, report(c, "pattern could not be evaluated", NULL, 0);
        }
        else if (m) {
            matched = 1;
            ok &= v_value(c, n->pats[k].schema, key + 1);
        }
    }
    if (!matched && (ok || !c->quiet)) {
        if (n->addl && n->addl->boolean == 0) {
            ok = 0, report(c, "member is not allowed", NULL, 0);
        }
        else if (n->addl) {
            ok &= v_value(c, n->addl, key + 1);
        }
        else if (enforce && !named(c, n, s, len, 0)) {
            ok = 0, report(c, "member is not allowed (strict)", NULL, 0);
        }
    }
    pop(c);
    return ok;
}

static int v_object(vctx_t *c, const snode_t *n, apr_uint32_t i, int enforce)
{
    apr_uint32_t count = c->t->tok[i].u.c.count, k, key;
    int ok = 1;

    if ((n->kw & K_MINPROPS) && count < n->min_props) {
        ok = 0,
        report(c, "object has fewer members than minProperties", NULL, 0);
    }
    if ((n->kw & K_MAXPROPS) && count > n->max_props) {
        ok = 0,
        report(c, "object has more members than maxProperties", NULL, 0);
    }
    if (n->nprops && (!n->nrequired || n->req_in_props) && count <= FOUND_MAX) {
        /* one walk looks every member up and sees the required ones; the
         * errors still come in the same order: required first */
        const sprop_t *found[FOUND_MAX];
        apr_uint32_t keys[FOUND_MAX];
        apr_uint64_t seen = 0;

        const sprop_t *guess = n->pfirst;

        for (k = 0, key = i + 1; k < count; k++) {
            apr_size_t len;
            const char *s = apisec_json_tape_str(c->t, key, &len);

            found[k] = guess && guess->len == len
                               && apisec_bytes_eq(guess->name, s, len)
                           ? guess
                           : find_prop(n, s, len);
            guess = found[k] ? found[k]->next : NULL;
            keys[k] = key;
            if (found[k]) {
                seen |= found[k]->reqbit;
            }
            key = apisec_json_tape_next(c->t, key + 1);
        }
        for (k = 0; k < n->nrequired && (ok || !c->quiet); k++) {
            if (!(seen & ((apr_uint64_t)1 << k))) {
                ok = 0, report(c, "required member is missing",
                               n->required[k].name, n->required[k].len);
            }
        }
        for (k = 0; k < count && (ok || !c->quiet); k++) {
            ok &= v_member(c, n, keys[k], found[k], enforce);
        }
        return ok;
    }
    for (k = 0; k < n->nrequired && (ok || !c->quiet); k++) {
        if (!apisec_schema_member(c->t, i, n->required[k].name,
                                  n->required[k].len)) {
            ok = 0, report(c, "required member is missing", n->required[k].name,
                           n->required[k].len);
        }
    }
    if (!n->nprops && !n->npats && !n->addl && !n->pnames && !enforce) {
        return ok;
    }
    for (k = 0, key = i + 1; k < count && (ok || !c->quiet); k++) {
        apr_size_t len;
        const char *s = apisec_json_tape_str(c->t, key, &len);

        ok &= v_member(c, n, key, find_prop(n, s, len), enforce);
        key = apisec_json_tape_next(c->t, key + 1);
    }
    return ok;
}

/* allOf, anyOf, oneOf, not, if/then/else, $ref: all apply to the same value.
 * absorbed: a schema that names members is checking this object, so these
 * subschemas must not apply strict mode on their own. */
static int v_applicators(vctx_t *c, const snode_t *n, apr_uint32_t i,
                         int absorbed)
{
    apr_size_t k, hits = 0;
    int ok = 1;

    for (k = 0; k < n->all.n && (ok || !c->quiet); k++) {
        ok &= v_node(c, n->all.v[k], i, absorbed);
    }
    if (n->any.n && (ok || !c->quiet)) {
        for (k = 0; k < n->any.n && !hits; k++) {
            hits += quietly(c, n->any.v[k], i, absorbed);
        }
        if (!hits) {
            ok = 0,
            report(c, "value matches none of the anyOf schemas", NULL, 0);
        }
    }
    if (n->one.n && (ok || !c->quiet)) {
        for (k = 0, hits = 0; k < n->one.n && hits < 2; k++) {
            hits += quietly(c, n->one.v[k], i, absorbed);
        }
        if (hits != 1) {
            ok = 0,
            report(c, "value must match exactly one oneOf schema", NULL, 0);
        }
    }
    if (n->not_ && (ok || !c->quiet) && quietly(c, n->not_, i, absorbed)) {
        ok = 0, report(c, "value matches a schema it must not (not)", NULL, 0);
    }
    if (n->if_ && (ok || !c->quiet)) {
        const snode_t *branch =
            quietly(c, n->if_, i, absorbed) ? n->then_ : n->else_;

        if (branch) {
            ok &= v_node(c, branch, i, absorbed);
        }
    }
    if (n->ref && (ok || !c->quiet)) {
        ok &= v_node(c, n->ref, i, absorbed);
    }
    return ok;
}

static int v_node(vctx_t *c, const snode_t *n, apr_uint32_t i, int absorbed)
{
    const apisec_json_tok_t *k = &c->t->tok[i];
    int ok = 1, enforce;

    if (c->exhausted || ++c->steps > c->max_steps) {
        c->exhausted = 1;
        return 0;
    }
    if (n->boolean >= 0) {
        if (!n->boolean) {
            report(c, "no value is allowed here", NULL, 0);
        }
        return n->boolean;
    }
    if (c->depth >= MAX_RECURSION) {
        report(c, "schema recursion too deep", NULL, 0);
        return 0;
    }
    c->depth++;
    if ((n->kw & K_TYPE) && !type_ok(n, k)) {
        ok = 0, report(c, "value has the wrong type", NULL, 0);
    }
    if ((n->kw & K_CONST) && !apisec_schema_eq_json(c->t, i, n->cnst)) {
        ok = 0, report(c, "value is not the allowed constant", NULL, 0);
    }
    if (n->kw & K_ENUM) {
        apr_size_t e;

        for (e = 0;
             e < n->nenums && !apisec_schema_eq_json(c->t, i, n->enums[e]);
             e++) {
        }
        if (e == n->nenums) {
            ok = 0,
            report(c, "value is not one of the allowed values", NULL, 0);
        }
    }
    if (!ok && c->quiet) {
        c->depth--;
        return 0;
    }
    /* only the keywords the node has (n->checks, made at compile time);
     * tests rather than a switch: a jump table's indirect branch is
     * mispredicted more often, and containers come first here since
     * v_value takes most scalars */
    if (k->type == APISEC_JSON_OBJECT) {
        enforce = c->strict && !absorbed && n->names_members && !n->addl;
        ok &= v_object(c, n, i, enforce);
    }
    else if (k->type == APISEC_JSON_ARRAY) {
        ok &= v_array(c, n, i);
    }
    else if (k->type == APISEC_JSON_NUMBER) {
        if (n->checks & C_NUMBER) {
            ok &= v_number(c, n, k->u.num);
        }
    }
    else if (k->type == APISEC_JSON_STRING && (n->checks & C_STRING)) {
        ok &= v_string(c, n, i);
    }
    if ((n->checks & C_APPLICATORS) && (ok || !c->quiet)) {
        ok &= v_applicators(c, n, i, absorbed || n->names_members);
    }
    c->depth--;
    return ok;
}

int apisec_schema_validate(const apisec_schema_t *s,
                           const apisec_json_tape_t *t, int strict,
                           apr_pool_t *p, apisec_schema_result_t *res)
{
    vctx_t c;
    int ok;

    res->count = 0;
    res->truncated = 0;
    memset(&c, 0, offsetof(vctx_t, path));
    c.s = s;
    c.t = t;
    c.strict = strict;
    c.p = p;
    c.res = res;
    c.max_steps = (apr_size_t)t->ntok * BUDGET_PER_TOKEN + BUDGET_BASE;
    ok = v_node(&c, s->root, 0, 0);
    if (c.exhausted || c.steps > c.max_steps) {
        /* fail closed, and say why in the last slot */
        apisec_schema_error_t *e =
            &res->err[res->count < APISEC_SCHEMA_MAX_ERRORS
                          ? res->count++
                          : APISEC_SCHEMA_MAX_ERRORS - 1];

        e->pointer[0] = '\0';
        e->message = "validation exceeded its work budget";
        return 0;
    }
    if (!ok && res->count == 0) {
        /* cannot happen: every failure reports; fail closed regardless */
        res->count = 1;
        res->err[0].pointer[0] = '\0';
        res->err[0].message = "value is not valid";
    }
    return ok && res->count == 0;
}
