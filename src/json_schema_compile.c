/* Schema compiler: jansson tree -> snode_t graph, at startup. Every keyword
 * is either compiled, explicitly ignored (annotations) or refused; see
 * json_schema.h for the list. */
#include "json_schema_int.h"

#include <apr_strings.h>
#include <apr_tables.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define DRAFT_2020_12 "https://json-schema.org/draft/2020-12/schema"

/* A match may not backtrack more than this; a pattern that needs more
 * fails closed (the value is rejected). */
#define MATCH_LIMIT 100000
#define HEAP_LIMIT_KIB 2048

typedef struct {
    apr_pool_t *p;
    unsigned int flags;
    snode_t *root;
    json_t *defs;
    const char **defnames;
    snode_t **defnodes;
    apr_size_t ndefs;
    apr_array_header_t *all; /* every node, for the strict pass */
    const char *err;
} cctx_t;

typedef int (*kw_fn)(cctx_t *cc, snode_t *n, json_t *v, const char *ptr);

static int bad(cctx_t *cc, const char *ptr, const char *what)
{
    cc->err = apr_psprintf(cc->p, "JSON schema: %s at %s", what,
                           *ptr ? ptr : "the top (\"\")");
    return -1;
}

/* ptr + "/" + RFC 6901 escaped key */
static const char *sub_ptr(cctx_t *cc, const char *ptr, const char *key)
{
    apr_size_t len = strlen(key), pos = strlen(ptr), cap = pos + 2 * len + 2;
    char *buf = apr_palloc(cc->p, cap);

    memcpy(buf, ptr, pos + 1);
    apisec_json_pointer_append(buf, cap, &pos, key, len);
    return buf;
}

static const char *idx_ptr(cctx_t *cc, const char *ptr, apr_size_t i)
{
    return apr_psprintf(cc->p, "%s/%" APR_SIZE_T_FMT, ptr, i);
}

static snode_t *new_node(cctx_t *cc)
{
    snode_t *n = apr_pcalloc(cc->p, sizeof(*n));

    n->boolean = -1;
    *(snode_t **)apr_array_push(cc->all) = n;
    return n;
}

static int compile_into(cctx_t *cc, json_t *s, const char *ptr, snode_t *n,
                        int top);

static int sub_schema(cctx_t *cc, json_t *v, const char *ptr,
                      const snode_t **out)
{
    snode_t *n = new_node(cc);

    *out = n;
    return compile_into(cc, v, ptr, n, 0);
}

static apr_status_t free_code(void *data)
{
    pcre2_code_free(data);
    return APR_SUCCESS;
}

static apr_status_t decref(void *data)
{
    json_decref(data);
    return APR_SUCCESS;
}

static int compile_re(cctx_t *cc, const char *src, const char *ptr,
                      pcre2_code **out)
{
    pcre2_compile_context *ctx = pcre2_compile_context_create(NULL);
    int code;
    PCRE2_SIZE off;
    pcre2_code *re;

    if (!ctx) {
        return bad(cc, ptr, "out of memory compiling a pattern");
    }
    /* ECMA-262 escapes \uHHHH and \u{H...}, and $ only at the very end */
    pcre2_set_compile_extra_options(ctx, PCRE2_EXTRA_ALT_BSUX);
    re = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
                       PCRE2_UTF | PCRE2_ALT_BSUX | PCRE2_DOLLAR_ENDONLY, &code,
                       &off, ctx);
    pcre2_compile_context_free(ctx);
    if (!re) {
        PCRE2_UCHAR msg[160];

        pcre2_get_error_message(code, msg, sizeof(msg));
        cc->err = apr_psprintf(cc->p,
                               "JSON schema: pattern at %s does not compile "
                               "(offset %lu): %s",
                               ptr, (unsigned long)off, (const char *)msg);
        return -1;
    }
    /* JIT is an optimisation only: without it the interpreter runs */
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    apr_pool_cleanup_register(cc->p, re, free_code, apr_pool_cleanup_null);
    *out = re;
    return 0;
}

static int get_count(cctx_t *cc, json_t *v, const char *ptr, apr_size_t *out)
{
    double d;

    /* 2020-12 allows an integer-valued number such as 2.0 */
    if (!json_is_number(v) || (d = json_number_value(v)) < 0 || d != floor(d)
        || d > 1e15) {
        return bad(cc, ptr, "needs a non-negative integer");
    }
    *out = (apr_size_t)d;
    return 0;
}

static int get_number(cctx_t *cc, json_t *v, const char *ptr, double *out)
{
    if (!json_is_number(v)) {
        return bad(cc, ptr, "needs a number");
    }
    *out = json_number_value(v);
    return 0;
}

static int kw_type(cctx_t *cc, snode_t *n, json_t *v, const char *ptr)
{
    static const char *const names[] = {"null",   "boolean", "object", "array",
                                        "number", "string",  "integer"};
    apr_size_t k, count = json_is_array(v) ? json_array_size(v) : 1;

    if (!json_is_string(v) && !json_is_array(v)) {
        return bad(cc, ptr, "type needs a string or an array of strings");
    }
    for (k = 0; k < count; k++) {
        json_t *e = json_is_array(v) ? json_array_get(v, k) : v;
        unsigned int b = 0, m;

        for (m = 0; m < 7 && json_is_string(e); m++) {
            if (strcmp(json_string_value(e), names[m]) == 0) {
                b = 1u << m;
            }
        }
        if (!b || (n->types & b)) {
            return bad(cc, ptr, "type names an unknown or repeated type");
        }
        n->types |= b;
    }
    n->kw |= K_TYPE;
    return 0;
}

static int kw_enum(cctx_t *cc, snode_t *n, json_t *v, const char *ptr)
{
    apr_size_t k;

    if (!json_is_array(v)) {
        return bad(cc, ptr, "enum needs an array");
    }
    json_incref(v);
    apr_pool_cleanup_register(cc->p, v, decref, apr_pool_cleanup_null);
    n->nenums = json_array_size(v);
    n->enums = apr_palloc(cc->p, sizeof(*n->enums) * (n->nenums + 1));
    for (k = 0; k < n->nenums; k++) {
        n->enums[k] = json_array_get(v, k);
    }
    n->kw |= K_ENUM;
    return 0;
}

static int kw_const(cctx_t *cc, snode_t *n, json_t *v, const char *ptr)
{
    (void)ptr;
    json_incref(v);
    apr_pool_cleanup_register(cc->p, v, decref, apr_pool_cleanup_null);
    n->cnst = v;
    n->kw |= K_CONST;
    return 0;
}

static int prop_cmp(const void *a, const void *b)
{
    const sprop_t *x = a, *y = b;

    if (x->len != y->len) {
        return x->len < y->len ? -1 : 1;
    }
    return memcmp(x->name, y->name, x->len);
}

static int kw_properties(cctx_t *cc, snode_t *n, json_t *v, const char *ptr)
{
    const char *key;
    json_t *sv;
    apr_size_t k = 0;

    if (!json_is_object(v)) {
        return bad(cc, ptr, "properties needs an object");
    }
    n->nprops = json_object_size(v);
    n->props = apr_pcalloc(cc->p, sizeof(*n->props) * (n->nprops + 1));
    json_object_foreach(v, key, sv)
    {
        n->props[k].name = apr_pstrdup(cc->p, key);
        n->props[k].len = strlen(key);
        n->props[k].order = k;
        if (sub_schema(cc, sv, sub_ptr(cc, ptr, key), &n->props[k].schema)
            < 0) {
            return -1;
        }
        k++;
    }
    qsort(n->props, n->nprops, sizeof(*n->props), prop_cmp);
    return 0;
}

static int kw_pattern_props(cctx_t *cc, snode_t *n, json_t *v, const char *ptr)
{
    const char *key;
    json_t *sv;
    apr_size_t k = 0;

    if (!json_is_object(v)) {
        return bad(cc, ptr, "patternProperties needs an object");
    }
    n->npats = json_object_size(v);
    n->pats = apr_pcalloc(cc->p, sizeof(*n->pats) * (n->npats + 1));
    json_object_foreach(v, key, sv)
    {
        const char *kp = sub_ptr(cc, ptr, key);

        if (compile_re(cc, key, kp, &n->pats[k].re) < 0
            || sub_schema(cc, sv, kp, &n->pats[k].schema) < 0) {
            return -1;
        }
        k++;
    }
    return 0;
}

static int kw_required(cctx_t *cc, snode_t *n, json_t *v, const char *ptr)
{
    apr_size_t k, j;

    if (!json_is_array(v)) {
        return bad(cc, ptr, "required needs an array of strings");
    }
    n->nrequired = json_array_size(v);
    n->required = apr_pcalloc(cc->p, sizeof(*n->required) * (n->nrequired + 1));
    for (k = 0; k < n->nrequired; k++) {
        json_t *e = json_array_get(v, k);

        if (!json_is_string(e)) {
            return bad(cc, ptr, "required needs an array of strings");
        }
        n->required[k].name =
            apr_pstrmemdup(cc->p, json_string_value(e), json_string_length(e));
        n->required[k].len = json_string_length(e);
        for (j = 0; j < k; j++) {
            if (prop_cmp(&n->required[j], &n->required[k]) == 0) {
                return bad(cc, ptr, "required lists a name twice");
            }
        }
    }
    return 0;
}

static int schema_list(cctx_t *cc, json_t *v, const char *ptr, slist_t *out)
{
    apr_size_t k;

    if (!json_is_array(v) || json_array_size(v) == 0) {
        return bad(cc, ptr, "needs a non-empty array of schemas");
    }
    out->n = json_array_size(v);
    out->v = apr_pcalloc(cc->p, sizeof(*out->v) * out->n);
    for (k = 0; k < out->n; k++) {
        if (sub_schema(cc, json_array_get(v, k), idx_ptr(cc, ptr, k),
                       &out->v[k])
            < 0) {
            return -1;
        }
    }
    return 0;
}

static int kw_ref(cctx_t *cc, snode_t *n, json_t *v, const char *ptr)
{
    const char *r = json_string_value(v);
    apr_size_t k;
    char *name, *o;

    if (!r) {
        return bad(cc, ptr, "$ref needs a string");
    }
    if (strcmp(r, "#") == 0) {
        n->ref = cc->root;
        return 0;
    }
    if (strncmp(r, "#/$defs/", 8) != 0 || strchr(r + 8, '/') || strchr(r, '%')
        || !r[8]) {
        return bad(cc, ptr,
                   "$ref may only be \"#\" or \"#/$defs/NAME\" in the same "
                   "document");
    }
    /* RFC 6901 unescaping of the one reference token */
    name = o = apr_pstrdup(cc->p, r + 8);
    for (k = 8; r[k]; k++) {
        if (r[k] == '~' && (r[k + 1] == '0' || r[k + 1] == '1')) {
            *o++ = (r[k + 1] == '0') ? '~' : '/';
            k++;
        }
        else {
            *o++ = r[k];
        }
    }
    *o = '\0';
    for (k = 0; k < cc->ndefs; k++) {
        if (strcmp(cc->defnames[k], name) == 0) {
            n->ref = cc->defnodes[k];
            return 0;
        }
    }
    return bad(cc, ptr, "$ref names a $defs entry that does not exist");
}

static int kw_format(cctx_t *cc, snode_t *n, json_t *v, const char *ptr)
{
    if (!json_is_string(v)
        || (n->format = apisec_format_lookup(json_string_value(v)))
               == APISEC_FORMAT_NONE) {
        return bad(cc, ptr,
                   "format is not one of email, uuid, date-time, date, "
                   "ipv4, ipv6, uri");
    }
    if (cc->flags & APISEC_SCHEMA_FORMAT_ANNOTATION) {
        n->format = APISEC_FORMAT_NONE;
    }
    return 0;
}

static int kw_pattern(cctx_t *cc, snode_t *n, json_t *v, const char *ptr)
{
    if (!json_is_string(v)) {
        return bad(cc, ptr, "pattern needs a string");
    }
    return compile_re(cc, json_string_value(v), ptr, &n->pattern);
}

/* One dispatcher for the simple keywords keeps the table short. */
static int kw_simple(cctx_t *cc, snode_t *n, const char *key, json_t *v,
                     const char *ptr)
{
    static const struct {
        const char *name;
        unsigned int bit;
        int is_count;
        size_t off;
    } simple[] = {
        {"minimum", K_MINIMUM, 0, offsetof(snode_t, minimum)},
        {"maximum", K_MAXIMUM, 0, offsetof(snode_t, maximum)},
        {"exclusiveMinimum", K_XMIN, 0, offsetof(snode_t, xmin)},
        {"exclusiveMaximum", K_XMAX, 0, offsetof(snode_t, xmax)},
        {"multipleOf", K_MULTIPLE, 0, offsetof(snode_t, multiple)},
        {"minLength", K_MINLEN, 1, offsetof(snode_t, min_len)},
        {"maxLength", K_MAXLEN, 1, offsetof(snode_t, max_len)},
        {"minItems", K_MINITEMS, 1, offsetof(snode_t, min_items)},
        {"maxItems", K_MAXITEMS, 1, offsetof(snode_t, max_items)},
        {"minProperties", K_MINPROPS, 1, offsetof(snode_t, min_props)},
        {"maxProperties", K_MAXPROPS, 1, offsetof(snode_t, max_props)},
    };
    apr_size_t k;

    for (k = 0; k < sizeof(simple) / sizeof(simple[0]); k++) {
        if (strcmp(key, simple[k].name) == 0) {
            char *field = (char *)n + simple[k].off;
            int rc = simple[k].is_count
                         ? get_count(cc, v, ptr, (apr_size_t *)(void *)field)
                         : get_number(cc, v, ptr, (double *)(void *)field);

            if (rc == 0 && simple[k].bit == K_MULTIPLE && !(n->multiple > 0)) {
                return bad(cc, ptr, "multipleOf needs a number above 0");
            }
            n->kw |= simple[k].bit;
            return rc;
        }
    }
    return 1; /* not a simple keyword */
}

static int kw_schema_valued(cctx_t *cc, snode_t *n, const char *key, json_t *v,
                            const char *ptr)
{
    static const struct {
        const char *name;
        size_t off;
    } one[] = {
        {"additionalProperties", offsetof(snode_t, addl)},
        {"propertyNames", offsetof(snode_t, pnames)},
        {"items", offsetof(snode_t, items)},
        {"contains", offsetof(snode_t, contains)},
        {"not", offsetof(snode_t, not_)},
        {"if", offsetof(snode_t, if_)},
        {"then", offsetof(snode_t, then_)},
        {"else", offsetof(snode_t, else_)},
    };
    static const struct {
        const char *name;
        size_t off;
    } list[] = {
        {"prefixItems", offsetof(snode_t, prefix)},
        {"allOf", offsetof(snode_t, all)},
        {"anyOf", offsetof(snode_t, any)},
        {"oneOf", offsetof(snode_t, one)},
    };
    apr_size_t k;

    for (k = 0; k < sizeof(one) / sizeof(one[0]); k++) {
        if (strcmp(key, one[k].name) == 0) {
            return sub_schema(
                cc, v, ptr, (const snode_t **)(void *)((char *)n + one[k].off));
        }
    }
    for (k = 0; k < sizeof(list) / sizeof(list[0]); k++) {
        if (strcmp(key, list[k].name) == 0) {
            return schema_list(cc, v, ptr,
                               (slist_t *)(void *)((char *)n + list[k].off));
        }
    }
    return 1;
}

static const struct {
    const char *name;
    kw_fn fn;
} keywords[] = {
    {"type", kw_type},
    {"enum", kw_enum},
    {"const", kw_const},
    {"properties", kw_properties},
    {"patternProperties", kw_pattern_props},
    {"required", kw_required},
    {"$ref", kw_ref},
    {"format", kw_format},
    {"pattern", kw_pattern},
};

static const char *const annotations[] = {
    "title",      "description", "default",   "examples", "$comment",
    "deprecated", "readOnly",    "writeOnly", NULL};

static int keyword(cctx_t *cc, snode_t *n, const char *key, json_t *v,
                   const char *ptr, int top)
{
    apr_size_t k;
    int rc;

    for (k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++) {
        if (strcmp(key, keywords[k].name) == 0) {
            return keywords[k].fn(cc, n, v, ptr);
        }
    }
    if ((rc = kw_simple(cc, n, key, v, ptr)) <= 0
        || (rc = kw_schema_valued(cc, n, key, v, ptr)) <= 0) {
        return rc;
    }
    if (strcmp(key, "uniqueItems") == 0) {
        if (!json_is_boolean(v)) {
            return bad(cc, ptr, "uniqueItems needs true or false");
        }
        n->kw |= json_is_true(v) ? K_UNIQUE : 0;
        return 0;
    }
    for (k = 0; annotations[k]; k++) {
        if (strcmp(key, annotations[k]) == 0) {
            return 0;
        }
    }
    if (top && strcmp(key, "$defs") == 0) {
        return 0; /* compiled before the rest */
    }
    if (top && strcmp(key, "$id") == 0 && json_is_string(v)) {
        return 0;
    }
    if (top && strcmp(key, "$schema") == 0) {
        const char *s = json_string_value(v);

        if (s
            && (strcmp(s, DRAFT_2020_12) == 0
                || strcmp(s, DRAFT_2020_12 "#") == 0)) {
            return 0;
        }
        return bad(cc, ptr, "$schema must be " DRAFT_2020_12);
    }
    cc->err = apr_psprintf(
        cc->p, "JSON schema: unsupported keyword \"%s\" at %s", key, ptr);
    return -1;
}

static int compile_into(cctx_t *cc, json_t *s, const char *ptr, snode_t *n,
                        int top)
{
    const char *key;
    json_t *v;

    if (json_is_boolean(s)) {
        n->boolean = json_is_true(s);
        return 0;
    }
    if (!json_is_object(s)) {
        return bad(cc, ptr, "a schema must be an object or a boolean");
    }
    json_object_foreach(s, key, v)
    {
        if (keyword(cc, n, key, v, sub_ptr(cc, ptr, key), top) < 0) {
            return -1;
        }
    }
    return 0;
}

static int compile_defs(cctx_t *cc, json_t *schema)
{
    json_t *defs =
        json_is_object(schema) ? json_object_get(schema, "$defs") : NULL;
    const char *key;
    json_t *v;
    apr_size_t k = 0;

    if (!defs) {
        return 0;
    }
    if (!json_is_object(defs)) {
        return bad(cc, "/$defs", "$defs needs an object");
    }
    cc->ndefs = json_object_size(defs);
    cc->defnames = apr_pcalloc(cc->p, sizeof(*cc->defnames) * (cc->ndefs + 1));
    cc->defnodes = apr_pcalloc(cc->p, sizeof(*cc->defnodes) * (cc->ndefs + 1));
    /* nodes first, so that definitions can refer to each other */
    json_object_foreach(defs, key, v)
    {
        cc->defnames[k] = apr_pstrdup(cc->p, key);
        cc->defnodes[k++] = new_node(cc);
    }
    k = 0;
    json_object_foreach(defs, key, v)
    {
        if (compile_into(cc, v, sub_ptr(cc, "/$defs", key), cc->defnodes[k++],
                         0)
            < 0) {
            return -1;
        }
    }
    return 0;
}

/* Strict mode needs to know whether a node, or a subschema that applies to
 * the same value, names members. Bounded walk: $ref cycles stop at depth. */
static int names_members(const snode_t *n, int depth)
{
    apr_size_t k;

    if (!n || depth > 32 || n->boolean >= 0) {
        return 0;
    }
    if (n->nprops || n->npats || names_members(n->ref, depth + 1)
        || names_members(n->then_, depth + 1)
        || names_members(n->else_, depth + 1)) {
        return 1;
    }
    for (k = 0; k < n->all.n; k++) {
        if (names_members(n->all.v[k], depth + 1)) {
            return 1;
        }
    }
    for (k = 0; k < n->any.n; k++) {
        if (names_members(n->any.v[k], depth + 1)) {
            return 1;
        }
    }
    for (k = 0; k < n->one.n; k++) {
        if (names_members(n->one.v[k], depth + 1)) {
            return 1;
        }
    }
    return 0;
}

static apr_status_t free_mctx(void *data)
{
    pcre2_match_context_free(data);
    return APR_SUCCESS;
}

/* The hash table of n's properties and which of them are required. */
static void index_props(apr_pool_t *p, snode_t *n)
{
    apr_size_t k, j;
    apr_uint32_t size = 4;
    sprop_t **byorder;

    if (!n->nprops) {
        return;
    }
    while (size < 2 * n->nprops) {
        size *= 2;
    }
    n->phash = apr_pcalloc(p, sizeof(*n->phash) * size);
    n->pmask = size - 1;
    /* the schema's order, for the guess in v_object */
    byorder = apr_palloc(p, sizeof(*byorder) * n->nprops);
    for (k = 0; k < n->nprops; k++) {
        byorder[n->props[k].order] = &n->props[k];
    }
    n->pfirst = byorder[0];
    for (k = 0; k + 1 < n->nprops; k++) {
        byorder[k]->next = byorder[k + 1];
    }
    for (k = 0; k < n->nprops; k++) {
        apr_uint32_t h =
            apisec_schema_name_hash(n->props[k].name, n->props[k].len);

        while (n->phash[h & n->pmask]) {
            h++;
        }
        n->phash[h & n->pmask] = (apr_uint32_t)k + 1;
    }
    n->req_in_props = n->nrequired <= 64;
    for (k = 0; k < n->nrequired && n->req_in_props; k++) {
        for (j = 0; j < n->nprops; j++) {
            if (n->props[j].len == n->required[k].len
                && memcmp(n->props[j].name, n->required[k].name,
                          n->required[k].len)
                       == 0) {
                n->props[j].reqbit |= (apr_uint64_t)1 << k;
                break;
            }
        }
        if (j == n->nprops) {
            n->req_in_props = 0;
        }
    }
}

apr_status_t apisec_schema_compile(apr_pool_t *p, json_t *schema,
                                   unsigned int flags, apisec_schema_t **out,
                                   const char **errmsg)
{
    cctx_t cc;
    apisec_schema_t *s;
    int k;

    *out = NULL;
    *errmsg = NULL;
    memset(&cc, 0, sizeof(cc));
    cc.p = p;
    cc.flags = flags;
    cc.all = apr_array_make(p, 64, sizeof(snode_t *));
    cc.root = new_node(&cc);
    if (!schema || compile_defs(&cc, schema) < 0
        || compile_into(&cc, schema, "", cc.root, 1) < 0) {
        *errmsg = cc.err ? cc.err : "JSON schema: no schema";
        return APR_EINVAL;
    }
    for (k = 0; k < cc.all->nelts; k++) {
        snode_t *n = APR_ARRAY_IDX(cc.all, k, snode_t *);

        n->names_members = names_members(n, 0);
        index_props(p, n);
        n->checks =
            ((n->kw & (K_MINIMUM | K_MAXIMUM | K_XMIN | K_XMAX | K_MULTIPLE))
                 ? C_NUMBER
                 : 0)
            | ((n->kw & (K_MINLEN | K_MAXLEN)) || n->pattern || n->format
                   ? C_STRING
                   : 0)
            | (n->all.n || n->any.n || n->one.n || n->not_ || n->if_ || n->ref
                   ? C_APPLICATORS
                   : 0);
        n->tmask = ((n->types & T_OBJECT) ? 1u << APISEC_JSON_OBJECT : 0)
                   | ((n->types & T_ARRAY) ? 1u << APISEC_JSON_ARRAY : 0)
                   | ((n->types & T_STRING) ? 1u << APISEC_JSON_STRING : 0)
                   | ((n->types & T_NUMBER) ? 1u << APISEC_JSON_NUMBER : 0)
                   | ((n->types & T_NULL) ? 1u << APISEC_JSON_NULL : 0)
                   | ((n->types & T_BOOLEAN)
                          ? (1u << APISEC_JSON_TRUE) | (1u << APISEC_JSON_FALSE)
                          : 0);
        n->leaf = n->boolean < 0 && !(n->checks & C_APPLICATORS)
                  && !(n->kw & (K_CONST | K_ENUM));
    }
    s = apr_pcalloc(p, sizeof(*s));
    s->root = cc.root;
    s->assert_formats = !(flags & APISEC_SCHEMA_FORMAT_ANNOTATION);
    s->mctx = pcre2_match_context_create(NULL);
    if (!s->mctx) {
        *errmsg = "JSON schema: out of memory";
        return APR_ENOMEM;
    }
    apr_pool_cleanup_register(p, s->mctx, free_mctx, apr_pool_cleanup_null);
    pcre2_set_match_limit(s->mctx, MATCH_LIMIT);
    pcre2_set_heap_limit(s->mctx, HEAP_LIMIT_KIB);
    *out = s;
    return APR_SUCCESS;
}
