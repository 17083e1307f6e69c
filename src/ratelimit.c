#include "ratelimit.h"
#include "store_shm.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <openssl/evp.h>
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
    apisec_ratelimit_spec_set_id(p, s, spec_id(p, s));
    s->policy_ietf = apr_psprintf(p, "\"%s\";q=%" APR_UINT64_T_FMT
                                     ";w=%" APR_UINT64_T_FMT,
                                  s->name, s->limit, s->period);
    s->policy_draft = apr_psprintf(p, "%" APR_UINT64_T_FMT ";w=%" APR_UINT64_T_FMT,
                                   s->limit, s->period);
    s->rl_prefix = apr_pstrcat(p, "\"", s->name, "\";r=", NULL);
    s->rl_prefix_len = strlen(s->rl_prefix);
    *spec = s;
    return NULL;
}

void apisec_ratelimit_spec_set_id(apr_pool_t *p, apisec_ratelimit_spec_t *spec,
                                  const char *id)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0, i;
    char *tag = apr_palloc(p, 4 + 16 + 1 + 1);

    /* 64 bits tell apart the few limits one configuration holds; SHA-256
     * so that every server sharing memcached makes the same tag. Should
     * the digest fail (no memory), the tag is the id itself: longer keys,
     * the same limits. */
    spec->id = id;
    if (!EVP_Digest(id, strlen(id), md, &mdlen, EVP_sha256(), NULL)
        || mdlen < 8) {
        spec->key_tag = apr_pstrcat(p, ";rl;", id, ";", NULL);
        spec->key_tag_len = strlen(spec->key_tag);
        return;
    }
    memcpy(tag, ";rl;", 4);
    for (i = 0; i < 8; ++i) {
        tag[4 + 2 * i] = hex[md[i] >> 4];
        tag[5 + 2 * i] = hex[md[i] & 15];
    }
    tag[20] = ';';
    tag[21] = '\0';
    spec->key_tag = tag;
    spec->key_tag_len = 21;
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
                                 apr_size_t plen,
                                 const apisec_ratelimit_spec_t *spec,
                                 const char *client, apr_size_t *klen)
{
    /* The client value comes last: whatever bytes it holds, it cannot
     * reach into the fields before it. Its length is not bounded here: both
     * backends hash long keys, so a long header cannot make a key the store
     * refuses (which would let it pass as a store failure). */
    apr_size_t clen = strlen(client);
    char *k = apr_palloc(p, plen + spec->key_tag_len + clen + 1);

    memcpy(k, prefix, plen);
    memcpy(k + plen, spec->key_tag, spec->key_tag_len);
    memcpy(k + plen + spec->key_tag_len, client, clen + 1);
    *klen = plen + spec->key_tag_len + clen;
    return k;
}

/* ---- sliding window counter ---- */

/* 64 x 64 -> 128 bits: LIMIT (up to 1e9) times PERIOD in microseconds (up
 * to 6e11) does not fit 64 bits. */
__extension__ typedef unsigned __int128 u128_t;

static apr_uint64_t ceil_secs(apr_interval_time_t us)
{
    return us <= 0
               ? 0
               : (apr_uint64_t)((us + APR_USEC_PER_SEC - 1) / APR_USEC_PER_SEC);
}

apr_uint64_t apisec_ratelimit_window_of(const apisec_ratelimit_spec_t *spec,
                                        apr_time_t now)
{
    return (apr_uint64_t)now / (spec->period * APR_USEC_PER_SEC);
}

/* Requests the key may have in window terms at REM microseconds before the
 * window's end: LIMIT - floor(PREV * REM / PERIOD), at least 0. Rounding
 * the previous window's weight down lets the last request of a window
 * pass: with it rounded up (or compared exactly) a window after a busy one
 * would hold at most LIMIT - 1, and sustained overload would get 1% less
 * than LIMIT per PERIOD at a limit of 100. */
static apr_uint64_t room(const apisec_ratelimit_spec_t *spec, apr_uint64_t prev,
                         apr_uint64_t rem)
{
    apr_uint64_t p = spec->period * APR_USEC_PER_SEC, w;

    if (prev == 0 || rem == 0) {
        return spec->limit;
    }
    /* In 64 bits when the product fits (a 128-bit division is a call to
     * a slow helper, and this runs on every request). */
    if (prev <= APR_UINT64_MAX / rem) {
        w = prev * rem / p;
    }
    else {
        w = (apr_uint64_t)((u128_t)prev * rem / p);
    }
    return w >= spec->limit ? 0 : spec->limit - w;
}

int apisec_ratelimit_window(const apisec_ratelimit_spec_t *spec,
                            apr_uint64_t prev, apr_uint64_t cur, apr_time_t now,
                            unsigned cost, apisec_ratelimit_result_t *res)
{
    apr_uint64_t p = spec->period * APR_USEC_PER_SEC;
    apr_uint64_t rem = p - (apr_uint64_t)now % p; /* 1..p */
    apr_uint64_t have = room(spec, prev, rem), after, at;
    apr_interval_time_t wait;

    memset(res, 0, sizeof(*res));
    res->now = now;
    res->limit = spec->limit;
    res->period = spec->period;
    res->allowed = cur < have;
    after = cur + (res->allowed && cost ? 1 : 0);
    res->remaining = have > after ? have - after : 0;
    /* Everything counted has left the estimate once the current window's
     * count has weighed its last in the next one. */
    res->reset = after > 0  ? ceil_secs((apr_interval_time_t)(rem + p))
                 : prev > 0 ? ceil_secs((apr_interval_time_t)rem)
                            : 0;
    if (res->allowed) {
        return cost != 0;
    }
    if (cur < spec->limit) {
        /* Later in this window (PREV > 0, or it would have passed), once
         * floor(PREV * REM' / PERIOD) <= LIMIT - CUR - 1, that is
         * PREV * REM' < (LIMIT - CUR) * PERIOD. */
        at = (apr_uint64_t)(((u128_t)(spec->limit - cur) * p - 1) / prev);
        wait = (apr_interval_time_t)(rem - (at < rem ? at : rem - 1));
    }
    else {
        /* In the next window, where CUR weighs as PREV does now. */
        at = (apr_uint64_t)(((u128_t)spec->limit * p - 1) / cur);
        wait = (apr_interval_time_t)(rem + p - (at < p ? at : p));
    }
    res->retry_after = ceil_secs(wait > 0 ? wait : 1);
    return 0;
}

/* ---- over the shm store: both counts in one entry, under its lock ---- */

/* 16 bytes: the window number (8), then PREV and CUR (4 each: LIMIT fits
 * 32 bits, and no count passes it), in the machine's byte order: only this
 * machine's shm table holds them. */
static void state_encode(apr_uint64_t k, apr_uint64_t prev, apr_uint64_t cur,
                         unsigned char b[16])
{
    apr_uint32_t p32 = (apr_uint32_t)prev, c32 = (apr_uint32_t)cur;

    memcpy(b, &k, 8);
    memcpy(b + 8, &p32, 4);
    memcpy(b + 12, &c32, 4);
}

/* The counts as seen from window K: a state of window K-1 has its CUR
 * become PREV; anything older, or not ours, is a fresh key. */
static void state_decode(const unsigned char *b, apr_size_t n, apr_uint64_t k,
                         apr_uint64_t *prev, apr_uint64_t *cur)
{
    apr_uint64_t sk;
    apr_uint32_t sp, sc;

    *prev = *cur = 0;
    if (b == NULL || n != 16) {
        return;
    }
    memcpy(&sk, b, 8);
    memcpy(&sp, b + 8, 4);
    memcpy(&sc, b + 12, 4);
    if (sk == k) {
        *prev = sp;
        *cur = sc;
    }
    else if (sk + 1 == k) {
        *prev = sc;
    }
}

/* A window's count is needed until the end of the next window. */
static apr_uint32_t window_ttl(const apisec_ratelimit_spec_t *spec,
                               apr_time_t now)
{
    apr_uint64_t p = spec->period * APR_USEC_PER_SEC;

    return (apr_uint32_t)ceil_secs(
               (apr_interval_time_t)(2 * p - (apr_uint64_t)now % p))
           + 1;
}

typedef struct {
    const apisec_ratelimit_spec_t *spec;
    apr_time_t now;
    unsigned cost;
    apisec_ratelimit_result_t *res;
} window_baton_t;

static int window_update(void *baton, apr_time_t store_now,
                         const unsigned char *old, apr_size_t oldlen,
                         unsigned char *nv, apr_size_t *nlen, apr_uint32_t *ttl)
{
    window_baton_t *b = baton;
    apr_time_t now = b->now ? b->now : store_now;
    apr_uint64_t k = apisec_ratelimit_window_of(b->spec, now), prev, cur;

    state_decode(old, oldlen, k, &prev, &cur);
    if (!apisec_ratelimit_window(b->spec, prev, cur, now, b->cost, b->res)) {
        return 0;
    }
    state_encode(k, prev, cur + 1, nv);
    *nlen = 16;
    *ttl = window_ttl(b->spec, now);
    return 1;
}

/* ---- leases: counted requests a process may pass without a round trip ----
 *
 * A process that asks memcached for one request of a key far from its
 * limit may ask for several: the counter is raised by all of them at once,
 * so every request let through was counted before it passed (never more
 * than the limit), and the process passes the rest of its lease locally,
 * in this window only. The lease is a sixteenth of the room left (at most
 * LEASE_MAX), and none below LEASE_MIN: within 256 requests of its room a
 * key is counted one request at a time, exactly as without leases, so a
 * key at its limit never has requests counted earlier than they pass. What
 * a process leased and did not use by the window's end stays counted. */

#define LEASE_MAX 64
#define LEASE_SHARE 16
#define LEASE_MIN 16
/* The table is 4-way set associative: with one slot a key, keys whose
 * hashes meet would take each other's leases in turn (a fifth of 1,000
 * keys in 4,096 slots), each time at two round trips. */
#define LEASE_WAYS 4

typedef struct {
    apr_uint64_t h[2];   /* SipHash-128 of the key; 0, 0: empty */
    apr_uint64_t window; /* the window the lease is of */
    apr_uint64_t left;   /* leased, not yet used */
    apr_uint64_t prev;   /* the previous window's count, when read */
    apr_uint64_t count;  /* the counter's value, as last read */
    int have_prev;
} lease_t;

struct apisec_ratelimit_local {
    apr_thread_mutex_t *mutex; /* NULL without threads */
    unsigned char secret[16];
    apr_uint64_t mask; /* slots - 1 */
    lease_t *slots;
};

apr_status_t apisec_ratelimit_local_create(apr_pool_t *p, unsigned slots,
                                           apisec_ratelimit_local_t **local)
{
    apisec_ratelimit_local_t *l = apr_pcalloc(p, sizeof(*l));
    apr_uint64_t n = 1;
    apr_status_t rv;

    while ((n < slots && n < ((apr_uint64_t)1 << 20)) || n < LEASE_WAYS) {
        n <<= 1;
    }
    l->mask = n - 1;
    l->slots = apr_pcalloc(p, sizeof(*l->slots) * (apr_size_t)n);
    /* Keyed like the shm table: a client cannot aim two keys at one
     * slot (which would only cost leases, never pass a request). */
    if ((rv = apr_generate_random_bytes(l->secret, sizeof(l->secret)))
        != APR_SUCCESS) {
        return rv;
    }
#if APR_HAS_THREADS
    if ((rv = apr_thread_mutex_create(&l->mutex, APR_THREAD_MUTEX_DEFAULT, p))
        != APR_SUCCESS) {
        return rv;
    }
#endif
    *local = l;
    return APR_SUCCESS;
}

static void local_lock(apisec_ratelimit_local_t *l)
{
#if APR_HAS_THREADS
    if (l->mutex != NULL) {
        apr_thread_mutex_lock(l->mutex);
    }
#endif
}

static void local_unlock(apisec_ratelimit_local_t *l)
{
#if APR_HAS_THREADS
    if (l->mutex != NULL) {
        apr_thread_mutex_unlock(l->mutex);
    }
#endif
}

static lease_t *lease_find(apisec_ratelimit_local_t *l, const apr_uint64_t h[2])
{
    lease_t *set =
        &l->slots[(h[0] & l->mask) & ~(apr_uint64_t)(LEASE_WAYS - 1)];
    int i;

    for (i = 0; i < LEASE_WAYS; ++i) {
        if (set[i].h[0] == h[0] && set[i].h[1] == h[1]) {
            return &set[i];
        }
    }
    return NULL;
}

/* Where a new lease goes: an empty way, else one of an older window, else
 * one used up, else the way the hash picks (its lease is dropped: counted,
 * never used, which errs on the side of the limit). */
static lease_t *lease_victim(apisec_ratelimit_local_t *l,
                             const apr_uint64_t h[2], apr_uint64_t k)
{
    lease_t *set =
        &l->slots[(h[0] & l->mask) & ~(apr_uint64_t)(LEASE_WAYS - 1)];
    lease_t *best = &set[h[1] % LEASE_WAYS];
    int i, rank = 3, r;

    for (i = 0; i < LEASE_WAYS; ++i) {
        r = set[i].h[0] == 0     ? 0
            : set[i].window != k ? 1
            : set[i].left == 0   ? 2
                                 : 3;
        if (r < rank) {
            rank = r;
            best = &set[i];
        }
    }
    return best;
}

/* The lease to ask for: a sixteenth of the room the counts last read
 * leave now, 1 to LEASE_MAX; 1 when nothing is known. */
static apr_uint64_t lease_size(const apisec_ratelimit_spec_t *spec,
                               apr_uint64_t prev, apr_uint64_t count,
                               apr_time_t now)
{
    apr_uint64_t p = spec->period * APR_USEC_PER_SEC;
    apr_uint64_t have = room(spec, prev, p - (apr_uint64_t)now % p);
    apr_uint64_t n = have > count ? (have - count) / LEASE_SHARE : 0;

    return n < LEASE_MIN ? 1 : n > LEASE_MAX ? LEASE_MAX : n;
}

/* ---- over counters (memcached): one increment per request ----
 *
 * One counter per key and window, KEY ";" k, created by the first
 * increment of the window (memcached's increment with an initial value,
 * expiring when the window no longer weighs). The previous window's count
 * is read only when it decides the answer: a request that would pass even
 * if the previous window had been full (PREV = LIMIT, the most it can
 * hold) passes without it. So a key far from its limit costs one
 * increment; near it, a process reads PREV once per window (and keeps it
 * with its leases; without them, each such request reads it). */

static char *window_key(apr_pool_t *p, const void *key, apr_size_t klen,
                        apr_uint64_t k, apr_size_t *len)
{
    char num[22], *e = num + sizeof(num), *out;
    apr_size_t n;

    do {
        *--e = (char)('0' + k % 10);
        k /= 10;
    } while (k != 0);
    *--e = ';';
    n = (apr_size_t)(num + sizeof(num) - e);
    out = apr_palloc(p, klen + n + 1);
    memcpy(out, key, klen);
    memcpy(out + klen, e, n);
    out[klen + n] = '\0';
    *len = klen + n;
    return out;
}

/* A window's count, 0 when absent. */
static apr_status_t read_count(apr_pool_t *p, apisec_store_t *store,
                               const void *key, apr_size_t klen, apr_uint64_t k,
                               apr_uint64_t *count)
{
    unsigned char buf[APISEC_STORE_VALUE_MAX];
    apr_size_t n = 0, i, plen;
    apr_uint64_t v = 0;
    const char *pkey = window_key(p, key, klen, k, &plen);
    apr_status_t rv = apisec_store_get(store, pkey, plen, buf, &n, NULL);

    *count = 0;
    if (rv == APISEC_STORE_NOTFOUND) {
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < n && i < 20 && buf[i] >= '0' && buf[i] <= '9'; ++i) {
        v = v * 10 + (apr_uint64_t)(buf[i] - '0');
    }
    *count = v;
    return APR_SUCCESS;
}

static apr_status_t check_counters(apr_pool_t *p, apisec_store_t *store,
                                   apisec_ratelimit_local_t *local,
                                   const apisec_ratelimit_spec_t *spec,
                                   const void *key, apr_size_t klen,
                                   apr_time_t now, unsigned cost,
                                   apisec_ratelimit_result_t *res)
{
    apr_uint64_t k, v = 0, ask = cost ? 1 : 0, got, used, room_now, dummy;
    apr_uint64_t h[2] = {0, 0}, prev = 0, pp;
    lease_t *l = NULL;
    apr_size_t wlen;
    const char *wkey;
    apr_status_t rv;
    int have_prev = 0;

    if (now == 0) {
        now = apr_time_now();
    }
    k = apisec_ratelimit_window_of(spec, now);
    if (local != NULL) {
        apisec_store_shm_hash128_words(local->secret, key, klen, h);
        h[0] |= 1; /* never the empty mark */
        local_lock(local);
        l = lease_find(local, h);
        if (l != NULL && l->window == k) {
            have_prev = l->have_prev;
            prev = l->prev;
            pp = have_prev ? prev : spec->limit;
            if (l->left > 0) {
                /* Counted already: passes without a round trip. */
                l->left -= cost ? 1 : 0;
                used = l->count - l->left - (cost ? 1 : 0);
                apisec_ratelimit_window(spec, pp, used, now, cost, res);
                res->allowed = 1;
                local_unlock(local);
                return APR_SUCCESS;
            }
            if (cost) {
                ask = lease_size(spec, pp, l->count, now);
            }
        }
        else if (cost) {
            ask = lease_size(spec, spec->limit, 0, now);
        }
        local_unlock(local);
    }
    wkey = window_key(p, key, klen, k, &wlen);
    rv = cost ? apisec_store_incr(store, wkey, wlen, ask, ask,
                                  window_ttl(spec, now), &v)
              : apisec_store_incr_existing(store, wkey, wlen, 0, &v);
    if (rv == APISEC_STORE_EXISTS && cost) {
        /* Another process created the counter between memcached's miss
         * and its add (memcached answers NOT_STORED): it is there now. */
        rv = apisec_store_incr_existing(store, wkey, wlen, ask, &v);
    }
    if (rv == APISEC_STORE_NOTFOUND && !cost) {
        v = 0, rv = APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        /* No decision without a count: "not found" or "exists" here is a
         * store failure, so that APISecStoreFailure decides. */
        return apisec_store_failed(rv) ? rv : APR_EGENERAL;
    }
    /* The count includes this request's increment (and its lease), and
     * perhaps those of refused requests not yet taken back: that errs
     * below the limit. */
    used = v - ask;
    if (!apisec_ratelimit_window(spec, have_prev ? prev : spec->limit, used,
                                 now, cost, res)
        && !have_prev) {
        /* Refused as if the previous window had been full: what it held
         * decides, so it is read. */
        if ((rv = read_count(p, store, key, klen, k - 1, &prev))
            != APR_SUCCESS) {
            if (cost) {
                (void)apisec_store_decr(store, wkey, wlen, ask, &dummy);
            }
            return rv;
        }
        have_prev = 1;
        apisec_ratelimit_window(spec, prev, used, now, cost, res);
    }
    pp = have_prev ? prev : spec->limit;
    if (!cost) {
        return APR_SUCCESS;
    }
    if (!res->allowed) {
        /* Refused: the increment is taken back, so the count is of
         * requests let through. Should that fail, the count stays too
         * high, which errs on the side of the limit; it is counted. */
        (void)apisec_store_decr(store, wkey, wlen, ask, &dummy);
        got = 0;
    }
    else {
        got = ask;
    }
    if (got > 1) {
        /* Keep what a share of the room left now allows (at least this
         * request, which passed), and give back the rest. */
        apr_uint64_t per = spec->period * APR_USEC_PER_SEC;

        room_now = room(spec, pp, per - (apr_uint64_t)now % per);
        got = room_now > used ? (room_now - used) / LEASE_SHARE : 0;
        got = got < LEASE_MIN ? 1 : got > ask ? ask : got;
        /* Should the give-back fail, the rest stays counted and unused,
         * which errs on the side of the limit; it is counted. */
        if (got < ask) {
            (void)apisec_store_decr(store, wkey, wlen, ask - got, &dummy);
        }
    }
    if (local != NULL) {
        apr_uint64_t count = v - (ask - got);

        local_lock(local);
        l = lease_find(local, h);
        if (l != NULL && l->window == k) {
            /* Another thread's lease of the same key: the two add up. */
            l->left += got > 0 ? got - 1 : 0;
            l->count = count > l->count ? count : l->count;
        }
        else {
            if (l == NULL) {
                l = lease_victim(local, h, k);
            }
            l->h[0] = h[0];
            l->h[1] = h[1];
            l->window = k;
            l->left = got > 0 ? got - 1 : 0;
            l->count = count;
            l->have_prev = 0;
        }
        if (have_prev) {
            l->prev = prev;
            l->have_prev = 1;
        }
        local_unlock(local);
    }
    return APR_SUCCESS;
}

apr_status_t apisec_ratelimit_check(apr_pool_t *p, apisec_store_t *store,
                                    apisec_ratelimit_local_t *local,
                                    const apisec_ratelimit_spec_t *spec,
                                    const void *key, apr_size_t klen,
                                    apr_time_t now, unsigned cost,
                                    apisec_ratelimit_result_t *res)
{
    window_baton_t b;

    if (store->ops->update == NULL) {
        return check_counters(p, store, local, spec, key, klen, now, cost, res);
    }
    b.spec = spec;
    b.now = now;
    b.cost = cost;
    b.res = res;
    return apisec_store_update(store, key, klen, window_update, &b);
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

/* The header values are built per response: from pieces whose lengths
 * are known, in one allocation, since apr_psprintf's formatter (and
 * apr_pstrcat's strlen of each piece) cost several times this. */
typedef struct {
    const char *s;
    apr_size_t n;
} piece_t;

#define LIT(s)                                                                 \
    {                                                                          \
        s, sizeof(s) - 1                                                       \
    }

/* Decimal text of V in BUF (room for 21), as a piece: two digits a
 * division, from a table of the pairs, since a division a digit was half
 * the cost of the fields' text. */
static piece_t num(char *buf, apr_uint64_t v)
{
    static const char pairs[] = "00010203040506070809"
                                "10111213141516171819"
                                "20212223242526272829"
                                "30313233343536373839"
                                "40414243444546474849"
                                "50515253545556575859"
                                "60616263646566676869"
                                "70717273747576777879"
                                "80818283848586878889"
                                "90919293949596979899";
    char *e = buf + 21;
    piece_t pc;
    unsigned d;

    while (v >= 100) {
        d = (unsigned)(v % 100) * 2;
        v /= 100;
        e -= 2;
        e[0] = pairs[d];
        e[1] = pairs[d + 1];
    }
    if (v >= 10) {
        d = (unsigned)v * 2;
        e -= 2;
        e[0] = pairs[d];
        e[1] = pairs[d + 1];
    }
    else {
        *--e = (char)('0' + v);
    }
    pc.s = e;
    pc.n = (apr_size_t)(buf + 21 - e);
    return pc;
}

static const char *join(apr_pool_t *p, const piece_t *pc, int n)
{
    apr_size_t len = 0;
    char *out, *o;
    int i;

    for (i = 0; i < n; ++i) {
        len += pc[i].n;
    }
    o = out = apr_palloc(p, len + 1);
    for (i = 0; i < n; ++i) {
        memcpy(o, pc[i].s, pc[i].n);
        o += pc[i].n;
    }
    *o = '\0';
    return out;
}

static void put(apr_table_t *out, apr_table_t *clear, const char *name,
                const char *value)
{
    /* CLEAR is most often empty: then no call at all. */
    if (clear != NULL && !apr_is_empty_table(clear)) {
        apr_table_unset(clear, name);
    }
    apr_table_setn(out, name, value);
}

void apisec_ratelimit_headers(apr_pool_t *p, apisec_ratelimit_headers_e fmt,
                              const apisec_ratelimit_spec_t *spec,
                              const apisec_ratelimit_result_t *res,
                              apr_table_t *out, apr_table_t *clear)
{
    char b1[21], b2[21], b3[21];
    piece_t rem = num(b1, res->remaining), reset = num(b2, res->reset);

    if (!res->allowed) {
        piece_t ra = num(b3, res->retry_after);

        put(out, clear, "Retry-After", join(p, &ra, 1));
    }
    /* The policies are the spec's, made when it was parsed. */
    switch (fmt) {
    case APISEC_RL_HEADERS_IETF: {
        /* Structured fields (RFC 9651): a list of policy items, each a
         * quoted name with parameters; spec->name holds no '"' or '\\'. */
        piece_t start = {spec->rl_prefix, spec->rl_prefix_len};
        piece_t rl[] = {start, rem, LIT(";t="), reset};

        put(out, clear, "RateLimit-Policy", spec->policy_ietf);
        put(out, clear, "RateLimit", join(p, rl, 4));
        break;
    }
    case APISEC_RL_HEADERS_DRAFT7: {
        char b4[21];
        piece_t limit = num(b4, res->limit);
        piece_t rl[] = {LIT("limit="), limit,           LIT(", remaining="),
                        rem,           LIT(", reset="), reset};

        put(out, clear, "RateLimit", join(p, rl, 6));
        put(out, clear, "RateLimit-Policy", spec->policy_draft);
        break;
    }
    case APISEC_RL_HEADERS_DRAFT6: {
        char b4[21];
        piece_t limit = num(b4, res->limit);

        put(out, clear, "RateLimit-Limit", join(p, &limit, 1));
        put(out, clear, "RateLimit-Remaining", join(p, &rem, 1));
        put(out, clear, "RateLimit-Reset", join(p, &reset, 1));
        put(out, clear, "RateLimit-Policy", spec->policy_draft);
        break;
    }
    case APISEC_RL_HEADERS_OFF:
        break;
    }
}
