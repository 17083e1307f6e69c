// clang-format off
// FUZZ_SOURCES: src/ratelimit.c src/store.c src/store_shm.c src/store_memcached.c
// FUZZ_LIBS: -lapr-1 -lmemcached -lmemcachedutil -lcrypto
// clang-format on
/* libFuzzer target over the configuration parsers of the rate-limit and
 * store cores: the `APISecRateLimit` argument (first byte even), the shm
 * `size=` value (first byte 1 mod 4) and the `APISecStore memcached`
 * arguments (3 mod 4). An accepted rate limit must hold what the glue and
 * the header fields rely on; the sliding-window decision is then run over
 * it with counts and times from the input, and its answers must stay
 * within their bounds. */
#include "ratelimit.h"
#include "store_memcached.h"
#include "store_shm.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

static apr_pool_t *root;

static void check(int cond)
{
    if (!cond) {
        abort();
    }
}

/* Header values go out as they are: visible ASCII and spaces only. */
static void safe_value(const char *s)
{
    for (; *s; ++s) {
        check((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f);
    }
}

static int safe_headers(void *baton, const char *key, const char *value)
{
    (void)baton;
    safe_value(key);
    safe_value(value);
    return 1;
}

/* An application's own fields, of every name some format writes, and
 * one that none does. */
static apr_table_t *app_fields(apr_pool_t *p)
{
    static const char *const names[] = {
        "RateLimit",       "RateLimit-Policy",    "RateLimit-Limit",
        "RateLimit-Reset", "RateLimit-Remaining", "Retry-After",
        "X-App"};
    apr_table_t *t = apr_table_make(p, 8);
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
        apr_table_setn(t, names[i], "app");
    }
    return t;
}

/* KEY, written by the module, is gone from the application's fields. */
static int not_in(void *app, const char *key, const char *value)
{
    (void)value;
    check(apr_table_get((apr_table_t *)app, key) == NULL);
    return 1;
}

/* What one call of apisec_ratelimit_headers wrote, and the application's
 * fields it was given. */
typedef struct {
    apr_table_t *out;
    apr_table_t *app;
} fields_t;

/* KEY, one of the application's fields before the call, is still there
 * unless the module wrote a field of that name. */
static int kept_unless_written(void *baton, const char *key, const char *value)
{
    const fields_t *f = baton;

    (void)value;
    check(apr_table_get(f->out, key) != NULL
          || apr_table_get(f->app, key) != NULL);
    return 1;
}

static void spec_holds(const apisec_ratelimit_spec_t *s)
{
    const char *c;
    apr_uint64_t p_us = s->period * APR_USEC_PER_SEC;

    check(s->limit >= 1 && s->limit <= APISEC_RATELIMIT_LIMIT_MAX);
    check(s->period >= 1 && s->period <= APISEC_RATELIMIT_PERIOD_MAX);
    check(s->interval >= 1);
    /* T rounded up: LIMIT intervals cover PERIOD, by less than LIMIT us. */
    check((apr_uint64_t)s->interval * s->limit >= p_us);
    check((apr_uint64_t)s->interval * s->limit < p_us + s->limit);
    check(s->key != APISEC_RL_KEY_HEADER || (s->header && *s->header));
    check(s->name && *s->name && strlen(s->name) <= 80);
    check(s->id && strncmp(s->id, s->name, strlen(s->name)) == 0);
    for (c = s->name; *c; ++c) {
        check(*c != '"' && *c != '\\' && *c > 0x20 && *c < 0x7f);
    }
}

static apr_time_t time_of(const unsigned char *d, size_t n, size_t at)
{
    apr_uint64_t v = 0;
    size_t i;

    for (i = 0; i < 4; ++i) {
        v = (v << 8) | (at + i < n ? d[at + i] : 0);
    }
    return apr_time_from_sec(1700000000) + (apr_time_t)v * 1000;
}

static void run_window(apr_pool_t *p, const apisec_ratelimit_spec_t *s,
                       const unsigned char *d, size_t n)
{
    apisec_ratelimit_result_t r;
    apr_time_t now = time_of(d, n, 4);
    apr_uint64_t prev = n > 8 ? d[8] % (s->limit + 2) : 0;
    apr_uint64_t cur = n > 9 ? d[9] % (s->limit + 2) : 0;
    int f, counted, k;

    /* Counts from the input (one past LIMIT too, as a decrement not yet
     * landed leaves), then a peek, then two hits. */
    for (k = 0; k < 3; ++k) {
        counted =
            apisec_ratelimit_window(s, prev, cur, now, k == 1 ? 0 : 1, &r);
        check(r.remaining <= s->limit);
        check(r.reset <= 2 * s->period);
        check(r.allowed || r.retry_after >= 1);
        check(r.retry_after <= 2 * s->period);
        /* Counted only when it passes and costs; never past LIMIT. */
        check(!counted || (r.allowed && k != 1 && cur < s->limit));
        check(!r.allowed || r.remaining + cur + (counted ? 1 : 0) <= s->limit);
        for (f = APISEC_RL_HEADERS_OFF; f <= APISEC_RL_HEADERS_DRAFT6; ++f) {
            fields_t w = {apr_table_make(p, 8), app_fields(p)};

            apisec_ratelimit_headers(p, (apisec_ratelimit_headers_e)f, s, &r,
                                     w.out, w.app);
            apr_table_do(safe_headers, NULL, w.out, NULL);
            /* Each format replaces exactly the names it writes. */
            apr_table_do(not_in, w.app, w.out, NULL);
            apr_table_do(kept_unless_written, &w, app_fields(p), NULL);
            check((f == APISEC_RL_HEADERS_IETF || f == APISEC_RL_HEADERS_DRAFT7)
                  == (apr_table_get(w.out, "RateLimit") != NULL));
            check(r.allowed == (apr_table_get(w.out, "Retry-After") == NULL));
        }
        cur += counted ? 1 : 0;
    }
}

static int split(char *s, char **argv, int max)
{
    int n = 0;
    char *last, *tok;

    for (tok = apr_strtok(s, " ", &last); tok && n < max;
         tok = apr_strtok(NULL, " ", &last)) {
        argv[n++] = tok;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    apr_pool_t *p;
    apisec_ratelimit_spec_t *spec = NULL;
    apisec_store_memcached_conf_t *mc = NULL;
    apr_size_t bytes = 0;
    char *s, *argv[16];
    int argc;

    if (size < 1) {
        return 0;
    }
    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    apr_pool_create(&p, root);
    s = apr_pstrmemdup(p, (const char *)data + 1, size - 1);
    if (data[0] % 2 == 0) {
        if (apisec_ratelimit_spec_parse_line(p, s, &spec) == NULL) {
            spec_holds(spec);
            run_window(p, spec, data, size);
        }
    }
    else if (data[0] % 4 == 1) {
        if (apisec_store_shm_parse_size(s, &bytes) == NULL) {
            check(bytes >= APISEC_STORE_SHM_MIN_SIZE
                  && bytes <= APISEC_STORE_SHM_MAX_SIZE);
        }
    }
    else {
        argc = split(s, argv, 16);
        if (apisec_store_memcached_parse(p, argc, argv, &mc) == NULL) {
            check(mc->servers->nelts >= 1 && mc->timeout_ms >= 1
                  && mc->timeout_ms <= 60000);
        }
    }
    apr_pool_destroy(p);
    return 0;
}
