#include "ratelimit.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <string.h>
#include <strings.h>

/* ---- APISecRateLimit argument ---- */

/* RFC 9110 tchar. */
static int is_token(const char *s)
{
    if (*s == '\0') {
        return 0;
    }
    for (; *s; ++s) {
        if (!apr_isalnum(*s) && !strchr("!#$%&'*+-.^_`|~", *s)) {
            return 0;
        }
    }
    return 1;
}

/* Decimal digits only, no sign, no overflow past MAX. */
static int parse_uint(const char *s, const char *end, apr_uint64_t max,
                      apr_uint64_t *out)
{
    apr_uint64_t n = 0;

    if (s == end) {
        return 0;
    }
    for (; s < end; ++s) {
        if (!apr_isdigit(*s)) {
            return 0;
        }
        n = n * 10 + (apr_uint64_t)(*s - '0');
        if (n > max) {
            return 0;
        }
    }
    *out = n;
    return 1;
}

static const char *parse_period(const char *s, apr_uint64_t *secs)
{
    apr_size_t n = strlen(s);
    apr_uint64_t mult = 1, v;

    if (n > 0 && apr_isalpha(s[n - 1])) {
        switch (s[n - 1]) {
        case 's':
            mult = 1;
            break;
        case 'm':
            mult = 60;
            break;
        case 'h':
            mult = 3600;
            break;
        case 'd':
            mult = 86400;
            break;
        default:
            return "PERIOD's unit must be s, m, h or d (as in 100/1m)";
        }
        --n;
    }
    if (!parse_uint(s, s + n, APISEC_RATELIMIT_PERIOD_MAX, &v)
        || v * mult > APISEC_RATELIMIT_PERIOD_MAX) {
        return "PERIOD must be a whole number of seconds, or of s, m, h or "
               "d, from 1s to 7d (as in 100/1m)";
    }
    if (v == 0) {
        return "PERIOD must be at least 1s";
    }
    *secs = v * mult;
    return NULL;
}

static const char *parse_rate(apisec_ratelimit_spec_t *spec, const char *arg)
{
    const char *slash = strchr(arg, '/');
    const char *err;

    if (slash == NULL) {
        return "the first argument must be LIMIT/PERIOD, as in 100/1m";
    }
    if (!parse_uint(arg, slash, APISEC_RATELIMIT_LIMIT_MAX, &spec->limit)
        || spec->limit == 0) {
        return "LIMIT must be a whole number from 1 to 1000000000 "
               "(as in 100/1m)";
    }
    if ((err = parse_period(slash + 1, &spec->period)) != NULL) {
        return err;
    }
    if (spec->limit > spec->period * APR_USEC_PER_SEC) {
        return "LIMIT/PERIOD must be at most one request per microsecond";
    }
    spec->interval = (apr_interval_time_t)((spec->period * APR_USEC_PER_SEC
                                            + spec->limit - 1)
                                           / spec->limit);
    return NULL;
}

static const char *parse_key(apr_pool_t *p, apisec_ratelimit_spec_t *spec,
                             const char *v)
{
    if (strcmp(v, "ip") == 0) {
        spec->key = APISEC_RL_KEY_IP;
    }
    else if (strcmp(v, "user") == 0) {
        spec->key = APISEC_RL_KEY_USER;
    }
    else if (strncmp(v, "header:", 7) == 0) {
        if (!is_token(v + 7)) {
            return "key=header:NAME needs a header name (an HTTP token)";
        }
        spec->key = APISEC_RL_KEY_HEADER;
        spec->header = apr_pstrdup(p, v + 7);
    }
    else {
        return "key must be ip, user or header:NAME";
    }
    return NULL;
}

static const char *parse_methods(apr_pool_t *p, apisec_ratelimit_spec_t *spec,
                                 const char *v)
{
    char *list = apr_pstrdup(p, v), *m, *last, *c;

    spec->methods = apr_array_make(p, 4, sizeof(const char *));
    for (m = apr_strtok(list, ",", &last); m;
         m = apr_strtok(NULL, ",", &last)) {
        if (!is_token(m)) {
            return "methods must be a comma-separated list of HTTP methods, "
                   "as in methods=GET,POST";
        }
        for (c = m; *c; ++c) {
            *c = (char)apr_toupper(*c);
        }
        APR_ARRAY_PUSH(spec->methods, const char *) = m;
    }
    if (spec->methods->nelts == 0 || v[strlen(v) - 1] == ',' || v[0] == ','
        || strstr(v, ",,") != NULL) {
        return "methods must be a comma-separated list of HTTP methods, "
               "as in methods=GET,POST";
    }
    return NULL;
}

static const char *parse_name(apisec_ratelimit_spec_t *spec, const char *v)
{
    const char *c;

    if (*v == '\0' || strlen(v) > APISEC_RATELIMIT_NAME_MAX) {
        return "name must be 1 to 64 characters";
    }
    /* It goes into a structured-field string and a metrics label. */
    for (c = v; *c; ++c) {
        if (!apr_isalnum(*c) && *c != '-' && *c != '_' && *c != '.') {
            return "name may hold only letters, digits, '-', '_' and '.'";
        }
    }
    spec->name = v;
    return NULL;
}

static const char *default_name(apr_pool_t *p,
                                const apisec_ratelimit_spec_t *spec)
{
    static const char *const keys[] = {"ip", "user", "header"};

    return apr_psprintf(p, "%s-%" APR_UINT64_T_FMT "-%" APR_UINT64_T_FMT "s%s",
                        keys[spec->key], spec->limit, spec->period,
                        spec->count == APISEC_RL_COUNT_FAILURES ? "-failures"
                                                                : "");
}

/* Everything that tells two limits apart, so that limits differing only
 * in methods, header or count never share a state, and a changed rate
 * starts afresh instead of reading a TAT made for another interval. ';'
 * is in no name, token or number. */
static const char *spec_id(apr_pool_t *p, const apisec_ratelimit_spec_t *s)
{
    const char *methods = "*";
    int i;

    if (s->methods != NULL) {
        methods = "";
        for (i = 0; i < s->methods->nelts; ++i) {
            methods =
                apr_pstrcat(p, methods, i ? "," : "",
                            APR_ARRAY_IDX(s->methods, i, const char *), NULL);
        }
    }
    return apr_psprintf(
        p, "%s;%" APR_UINT64_T_FMT "/%" APR_UINT64_T_FMT ";%d:%s;%d;%s",
        s->name, s->limit, s->period, (int)s->key, s->header ? s->header : "",
        (int)s->count, methods);
}

static const char *parse_option(apr_pool_t *p, apisec_ratelimit_spec_t *spec,
                                const char *arg, unsigned *seen)
{
    static const char *const opts[] = {"key=", "methods=", "count=", "name="};
    unsigned i;

    for (i = 0; i < 4; ++i) {
        if (strncmp(arg, opts[i], strlen(opts[i])) == 0) {
            break;
        }
    }
    if (i == 4) {
        return apr_psprintf(p,
                            "unknown option '%s': expected key=, "
                            "methods=, count= or name=",
                            arg);
    }
    if (*seen & (1u << i)) {
        return apr_psprintf(p, "%.*s is given twice", (int)strlen(opts[i]) - 1,
                            opts[i]);
    }
    *seen |= 1u << i;
    arg += strlen(opts[i]);
    switch (i) {
    case 0:
        return parse_key(p, spec, arg);
    case 1:
        return parse_methods(p, spec, arg);
    case 2:
        if (strcmp(arg, "all") == 0) {
            spec->count = APISEC_RL_COUNT_ALL;
        }
        else if (strcmp(arg, "failures") == 0) {
            spec->count = APISEC_RL_COUNT_FAILURES;
        }
        else {
            return "count must be all or failures";
        }
        return NULL;
    default:
        return parse_name(spec, apr_pstrdup(p, arg));
    }
}

const char *apisec_ratelimit_spec_parse(apr_pool_t *p, int argc,
                                        char *const argv[],
                                        apisec_ratelimit_spec_t **spec)
{
    apisec_ratelimit_spec_t *s;
    const char *err;
    unsigned seen = 0;
    int i;

    if (argc < 1) {
        return "needs LIMIT/PERIOD, as in 100/1m";
    }
    s = apr_pcalloc(p, sizeof(*s));
    s->key = APISEC_RL_KEY_IP;
    s->count = APISEC_RL_COUNT_ALL;
    if ((err = parse_rate(s, argv[0])) != NULL) {
        return err;
    }
    for (i = 1; i < argc; ++i) {
        if ((err = parse_option(p, s, argv[i], &seen)) != NULL) {
            return err;
        }
    }
    if (s->name == NULL) {
        s->name = default_name(p, s);
    }
    s->id = spec_id(p, s);
    *spec = s;
    return NULL;
}

const char *apisec_ratelimit_spec_parse_line(apr_pool_t *p, const char *line,
                                             apisec_ratelimit_spec_t **spec)
{
    apr_array_header_t *args = apr_array_make(p, 8, sizeof(char *));
    char *copy = apr_pstrdup(p, line), *w, *last;

    for (w = apr_strtok(copy, " \t", &last); w;
         w = apr_strtok(NULL, " \t", &last)) {
        APR_ARRAY_PUSH(args, char *) = w;
    }
    return apisec_ratelimit_spec_parse(p, args->nelts,
                                       (char *const *)args->elts, spec);
}

int apisec_ratelimit_method_applies(const apisec_ratelimit_spec_t *spec,
                                    const char *method)
{
    int i;

    if (spec->methods == NULL) {
        return 1;
    }
    for (i = 0; i < spec->methods->nelts; ++i) {
        if (strcmp(APR_ARRAY_IDX(spec->methods, i, const char *), method)
            == 0) {
            return 1;
        }
    }
    return 0;
}

const char *apisec_ratelimit_key(apr_pool_t *p, const char *prefix,
                                 const apisec_ratelimit_spec_t *spec,
                                 const char *client, apr_size_t *klen)
{
    /* The client value comes last: whatever bytes it holds, it cannot
     * reach into the fields before it. Its length is not bounded here: both
     * backends hash long keys, so a long header cannot make a key the store
     * refuses (which would let it pass as a store failure). */
    const char *k = apr_pstrcat(p, prefix, ";rl;", spec->id, ";", client, NULL);

    *klen = strlen(k);
    return k;
}

/* ---- GCRA ---- */

static apr_uint64_t ceil_secs(apr_interval_time_t us)
{
    return us <= 0
               ? 0
               : (apr_uint64_t)((us + APR_USEC_PER_SEC - 1) / APR_USEC_PER_SEC);
}

int apisec_ratelimit_gcra(const apisec_ratelimit_spec_t *spec, int have_tat,
                          apr_time_t tat, apr_time_t now, unsigned cost,
                          apr_time_t *new_tat, apisec_ratelimit_result_t *res)
{
    apr_interval_time_t t = spec->interval;
    /* The burst window: LIMIT intervals, PERIOD rounded up to whole T. */
    apr_interval_time_t w = t * (apr_interval_time_t)spec->limit;
    apr_time_t base = have_tat && tat > now ? tat : now;
    apr_time_t next;

    /* A TAT further ahead than the burst window is never written from this
     * clock: it comes from a clock that stepped back, or from a server whose
     * clock runs ahead. Counting from now + W keeps every answer within one
     * PERIOD instead of blocking for as long as the clocks disagree. */
    if (base - now > w) {
        base = now + w;
    }
    next = base + t * (apr_interval_time_t)(cost ? cost : 1);
    memset(res, 0, sizeof(*res));
    res->now = now;
    res->limit = spec->limit;
    res->period = spec->period;
    res->allowed = next - now <= w;
    if (!res->allowed) {
        res->remaining = (apr_uint64_t)((w - (base - now)) / t);
        res->reset = ceil_secs(base - now);
        res->retry_after = ceil_secs(next - w - now);
        return 0;
    }
    if (cost == 0) {
        res->remaining = (apr_uint64_t)((w - (base - now)) / t);
        res->reset = ceil_secs(base - now);
        return 0;
    }
    res->remaining = (apr_uint64_t)((w - (next - now)) / t);
    res->reset = ceil_secs(next - now);
    *new_tat = next;
    return 1;
}

/* The stored value: the TAT as 8 bytes, big-endian, microseconds since the
 * epoch, so every server reads the same bytes the same way. Servers sharing
 * memcached must keep their clocks in step (NTP): the skew between them
 * shifts when one sees a key's allowance refill. */
static void tat_encode(apr_time_t tat, unsigned char b[8])
{
    int i;

    for (i = 7; i >= 0; --i) {
        b[i] = (unsigned char)((apr_uint64_t)tat & 0xff);
        tat = (apr_time_t)((apr_uint64_t)tat >> 8);
    }
}

static int tat_decode(const unsigned char *b, apr_size_t n, apr_time_t *tat)
{
    apr_uint64_t v = 0;
    apr_size_t i;

    if (b == NULL || n != 8) {
        return 0; /* absent, or not ours: treated as a fresh key */
    }
    for (i = 0; i < 8; ++i) {
        v = (v << 8) | b[i];
    }
    *tat = (apr_time_t)v;
    return 1;
}

/* Kept a second past the TAT: after that the state equals a fresh key. */
static apr_uint32_t tat_ttl(apr_time_t tat, apr_time_t now)
{
    return (apr_uint32_t)ceil_secs(tat - now) + 1;
}

typedef struct {
    const apisec_ratelimit_spec_t *spec;
    apr_time_t now;
    unsigned cost;
    apisec_ratelimit_result_t *res;
} gcra_baton_t;

static int gcra_update(void *baton, const unsigned char *old, apr_size_t oldlen,
                       unsigned char *nv, apr_size_t *nlen, apr_uint32_t *ttl)
{
    gcra_baton_t *b = baton;
    apr_time_t tat = 0, next, now = b->now ? b->now : apr_time_now();
    int have = tat_decode(old, oldlen, &tat);

    if (!apisec_ratelimit_gcra(b->spec, have, tat, now, b->cost, &next,
                               b->res)) {
        return 0;
    }
    tat_encode(next, nv);
    *nlen = 8;
    *ttl = tat_ttl(next, now);
    return 1;
}

/* Contention: every try lost to another process writing the same key, so
 * the key is being hit faster than the store answers. The answer is the
 * same every time (refused, retry after one interval), which errs on the
 * side of the limit and keeps a hot key from spinning. */
static void contended(const apisec_ratelimit_spec_t *spec,
                      apisec_ratelimit_result_t *res)
{
    res->allowed = 0;
    res->contended = 1;
    res->remaining = 0;
    res->retry_after = ceil_secs(spec->interval);
}

static apr_status_t check_cas(apisec_store_t *store,
                              const apisec_ratelimit_spec_t *spec,
                              const void *key, apr_size_t klen, apr_time_t now,
                              unsigned cost, apisec_ratelimit_result_t *res)
{
    unsigned char buf[APISEC_STORE_VALUE_MAX], nv[8];
    apr_size_t n = 0;
    apr_uint64_t cas = 0;
    apr_time_t tat = 0, next, t;
    apr_status_t rv;
    int i, have;

    for (i = 0; i < APISEC_RATELIMIT_CAS_TRIES; ++i) {
        rv = apisec_store_get(store, key, klen, buf, &n, &cas);
        if (apisec_store_failed(rv)) {
            return rv;
        }
        /* Read after the get: a write that wins against us happened
         * before it, so its time is earlier than ours. */
        t = now ? now : apr_time_now();
        have = rv == APR_SUCCESS && tat_decode(buf, n, &tat);
        if (rv != APR_SUCCESS) {
            cas = 0;
        }
        if (!apisec_ratelimit_gcra(spec, have, tat, t, cost, &next, res)) {
            return APR_SUCCESS;
        }
        tat_encode(next, nv);
        rv = apisec_store_cas(store, key, klen, nv, sizeof(nv),
                              tat_ttl(next, t), cas);
        if (rv == APR_SUCCESS || apisec_store_failed(rv)) {
            return rv;
        }
    }
    contended(spec, res);
    return APR_SUCCESS;
}

apr_status_t apisec_ratelimit_check(apisec_store_t *store,
                                    const apisec_ratelimit_spec_t *spec,
                                    const void *key, apr_size_t klen,
                                    apr_time_t now, unsigned cost,
                                    apisec_ratelimit_result_t *res)
{
    gcra_baton_t b;

    if (store->ops->update == NULL) {
        return check_cas(store, spec, key, klen, now, cost, res);
    }
    b.spec = spec;
    b.now = now;
    b.cost = cost;
    b.res = res;
    return apisec_store_update(store, key, klen, gcra_update, &b);
}

int apisec_ratelimit_more_restrictive(const apisec_ratelimit_result_t *a,
                                      const apisec_ratelimit_result_t *b)
{
    if (a->allowed != b->allowed) {
        return !a->allowed;
    }
    if (!a->allowed && a->retry_after != b->retry_after) {
        return a->retry_after > b->retry_after;
    }
    if (a->remaining != b->remaining) {
        return a->remaining < b->remaining;
    }
    return a->reset > b->reset;
}

/* ---- RateLimit header fields ---- */

const char *apisec_ratelimit_headers_parse(const char *arg,
                                           apisec_ratelimit_headers_e *fmt)
{
    if (strcasecmp(arg, "ietf") == 0) {
        *fmt = APISEC_RL_HEADERS_IETF;
    }
    else if (strcasecmp(arg, "draft-7") == 0) {
        *fmt = APISEC_RL_HEADERS_DRAFT7;
    }
    else if (strcasecmp(arg, "draft-6") == 0) {
        *fmt = APISEC_RL_HEADERS_DRAFT6;
    }
    else if (strcasecmp(arg, "off") == 0) {
        *fmt = APISEC_RL_HEADERS_OFF;
    }
    else {
        return "must be ietf, draft-7, draft-6 or off";
    }
    return NULL;
}

void apisec_ratelimit_headers(apr_pool_t *p, apisec_ratelimit_headers_e fmt,
                              const apisec_ratelimit_spec_t *spec,
                              const apisec_ratelimit_result_t *res,
                              apr_table_t *out)
{
    if (!res->allowed) {
        apr_table_setn(out, "Retry-After",
                       apr_psprintf(p, "%" APR_UINT64_T_FMT, res->retry_after));
    }
    switch (fmt) {
    case APISEC_RL_HEADERS_IETF:
        /* Structured fields (RFC 9651): a list of policy items, each a
         * quoted name with parameters; spec->name holds no '"' or '\'. */
        apr_table_setn(out, "RateLimit-Policy",
                       apr_psprintf(p,
                                    "\"%s\";q=%" APR_UINT64_T_FMT
                                    ";w=%" APR_UINT64_T_FMT,
                                    spec->name, res->limit, res->period));
        apr_table_setn(out, "RateLimit",
                       apr_psprintf(p,
                                    "\"%s\";r=%" APR_UINT64_T_FMT
                                    ";t=%" APR_UINT64_T_FMT,
                                    spec->name, res->remaining, res->reset));
        break;
    case APISEC_RL_HEADERS_DRAFT7:
        apr_table_setn(out, "RateLimit",
                       apr_psprintf(p,
                                    "limit=%" APR_UINT64_T_FMT
                                    ", remaining=%" APR_UINT64_T_FMT
                                    ", reset=%" APR_UINT64_T_FMT,
                                    res->limit, res->remaining, res->reset));
        apr_table_setn(
            out, "RateLimit-Policy",
            apr_psprintf(p, "%" APR_UINT64_T_FMT ";w=%" APR_UINT64_T_FMT,
                         res->limit, res->period));
        break;
    case APISEC_RL_HEADERS_DRAFT6:
        apr_table_setn(out, "RateLimit-Limit",
                       apr_psprintf(p, "%" APR_UINT64_T_FMT, res->limit));
        apr_table_setn(out, "RateLimit-Remaining",
                       apr_psprintf(p, "%" APR_UINT64_T_FMT, res->remaining));
        apr_table_setn(out, "RateLimit-Reset",
                       apr_psprintf(p, "%" APR_UINT64_T_FMT, res->reset));
        apr_table_setn(
            out, "RateLimit-Policy",
            apr_psprintf(p, "%" APR_UINT64_T_FMT ";w=%" APR_UINT64_T_FMT,
                         res->limit, res->period));
        break;
    case APISEC_RL_HEADERS_OFF:
        break;
    }
}
