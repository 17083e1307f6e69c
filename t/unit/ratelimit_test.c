/* Unit tests of the rate-limit core: the directive's argument, the sliding
 * window counter with an injected clock, the header fields of each format, and
 * accuracy when several processes share one limit through the shm store. */
#include "ratelimit.h"
#include "store_shm.h"
#include "tap.h"

#include <apr_general.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define SEC(n) apr_time_from_sec(n)

static apr_pool_t *pool;

static apisec_ratelimit_spec_t *spec_of(const char *line)
{
    apisec_ratelimit_spec_t *s = NULL;
    const char *err = apisec_ratelimit_spec_parse_line(pool, line, &s);

    if (err != NULL) {
        tap_diag("'%s': %s", line, err);
        return NULL;
    }
    return s;
}

static void test_parse_good(void)
{
    apisec_ratelimit_spec_t *s;

    s = spec_of("100/1m");
    tap_ok(s && s->limit == 100 && s->period == 60, "100/1m is 100 per 60 s");
    tap_ok(s && s->key == APISEC_RL_KEY_IP && s->count == APISEC_RL_COUNT_ALL
               && s->methods == NULL,
           "defaults are key=ip, count=all, every method");
    tap_is_str(s ? s->name : NULL, "ip-100-60s", "default name");
    tap_is_int(s ? s->interval : 0, 600000, "interval is PERIOD/LIMIT");
    s = spec_of("10/3600");
    tap_ok(s && s->period == 3600, "a plain PERIOD is seconds");
    s = spec_of("1/1d");
    tap_ok(s && s->period == 86400, "1d is 86400 s");
    s = spec_of("3/1h");
    tap_ok(s && s->period == 3600 && s->interval == 1200000000, "1h is 3600 s");
    s = spec_of("3/1s");
    tap_is_int(s ? s->interval : 0, 333334, "interval rounds up");
    s = spec_of("5/10s key=user methods=get,Post count=failures name=login");
    tap_ok(s && s->key == APISEC_RL_KEY_USER
               && s->count == APISEC_RL_COUNT_FAILURES,
           "key=user count=failures");
    tap_ok(s && s->methods->nelts == 2
               && apisec_ratelimit_method_applies(s, "GET")
               && apisec_ratelimit_method_applies(s, "POST")
               && !apisec_ratelimit_method_applies(s, "PUT"),
           "methods are upper-cased and matched");
    tap_is_str(s ? s->name : NULL, "login", "name=");
    s = spec_of("20/1m key=header:X-Api-Key");
    tap_ok(s && s->key == APISEC_RL_KEY_HEADER
               && strcmp(s->header, "X-Api-Key") == 0,
           "key=header:NAME");
    tap_ok(s && apisec_ratelimit_method_applies(s, "DELETE"),
           "no methods= applies to every method");
    s = spec_of("1000000/1s");
    tap_ok(s && s->interval == 1, "one per microsecond is the finest rate");
    s = spec_of("5/7d");
    tap_ok(s != NULL, "7d is the longest PERIOD");
}

static void bad(const char *line, const char *want, const char *name)
{
    apisec_ratelimit_spec_t *s = NULL;
    const char *err = apisec_ratelimit_spec_parse_line(pool, line, &s);

    if (!tap_ok(err != NULL && strstr(err, want) != NULL, "%s", name)) {
        tap_diag("'%s' gave: %s", line, err ? err : "(accepted)");
    }
}

static void test_parse_bad(void)
{
    bad("", "needs LIMIT/PERIOD", "nothing");
    bad("100", "LIMIT/PERIOD", "no slash");
    bad("0/1m", "LIMIT must be", "LIMIT 0");
    bad("-1/1m", "LIMIT must be", "negative LIMIT");
    bad("abc/1m", "LIMIT must be", "LIMIT not a number");
    bad("1000000001/1d", "LIMIT must be", "LIMIT too large");
    bad("99999999999999999999999/1s", "LIMIT must be", "LIMIT overflowing");
    bad("/1m", "LIMIT must be", "LIMIT empty");
    bad("100/", "PERIOD must be", "PERIOD empty");
    bad("100/0", "at least 1s", "PERIOD 0");
    bad("100/0s", "at least 1s", "PERIOD 0s");
    bad("100/1w", "unit must be s, m, h or d", "PERIOD unit w");
    bad("100/1M", "unit must be s, m, h or d", "PERIOD unit M");
    bad("100/m", "PERIOD must be", "PERIOD unit without a number");
    bad("100/1.5m", "PERIOD must be", "PERIOD with a fraction");
    bad("100/8d", "PERIOD must be", "PERIOD past 7d");
    bad("100/1m/2", "PERIOD must be", "two slashes");
    bad("2000000/1s", "one request per microsecond", "rate too fine");
    bad("100/1m key=host", "key must be", "unknown key type");
    bad("100/1m key=header:", "header name", "header key without a name");
    bad("100/1m key=header:X(y)", "header name", "header name not a token");
    bad("100/1m methods=", "methods must be", "empty methods");
    bad("100/1m methods=GET,,POST", "methods must be", "empty method");
    bad("100/1m methods=GET,", "methods must be", "trailing comma");
    bad("100/1m methods=GE/T", "methods must be", "method not a token");
    bad("100/1m count=some", "count must be", "unknown count");
    bad("100/1m name=", "name must be", "empty name");
    bad("100/1m name=a\"b", "name may hold only", "name with a quote");
    bad("100/1m burst=5", "unknown option 'burst=5'", "unknown option");
    bad("100/1m key=ip key=user", "key is given twice", "option twice");
    bad("100/1m ip", "unknown option", "option without =");
}

/* ---- sliding window counter with an injected clock ---- */

/* The two counts a store keeps, rolled over as the store does. */
typedef struct {
    apr_uint64_t k, prev, cur;
} state_t;

static int hit_cost(const apisec_ratelimit_spec_t *s, state_t *st,
                    apr_time_t now, unsigned cost, apisec_ratelimit_result_t *r)
{
    apr_uint64_t k = apisec_ratelimit_window_of(s, now);

    if (k != st->k) {
        st->prev = k == st->k + 1 ? st->cur : 0;
        st->cur = 0;
        st->k = k;
    }
    if (apisec_ratelimit_window(s, st->prev, st->cur, now, cost, r)) {
        ++st->cur;
    }
    return r->allowed;
}

static int hit(const apisec_ratelimit_spec_t *s, state_t *st, apr_time_t now,
               apisec_ratelimit_result_t *r)
{
    return hit_cost(s, st, now, 1, r);
}

/* A minute's edge: 28333333 * 60. */
#define EDGE SEC(1699999980)

static void test_window_values(void)
{
    apisec_ratelimit_spec_t *s = spec_of("10/1m"); /* 6 s a request */
    apisec_ratelimit_result_t r;
    apr_time_t t0 = EDGE;
    state_t st = {0, 0, 0};
    int i, ok = 1, n;

    tap_is_int(apisec_ratelimit_window_of(s, t0 + SEC(59)),
               apisec_ratelimit_window_of(s, t0), "windows are aligned");
    hit(s, &st, t0, &r);
    tap_ok(r.allowed && r.remaining == 9 && r.reset == 120,
           "first request: remaining 9, reset 120 (the window and the next)");
    for (i = 2; i <= 10; ++i) {
        ok &= hit(s, &st, t0 + SEC(1), &r)
              && r.remaining == (apr_uint64_t)(10 - i);
    }
    tap_ok(ok, "a burst of LIMIT passes, remaining counts down");
    hit(s, &st, t0 + SEC(1), &r);
    tap_ok(!r.allowed, "LIMIT+1 in the burst is refused");
    tap_is_int(r.remaining, 0, "remaining of a refused request");
    tap_is_int(r.reset, 119, "reset of a refused request");
    tap_is_int(r.retry_after, 60,
               "retry after the window's end (and a microsecond)");
    tap_ok(!hit(s, &st, t0 + SEC(60), &r),
           "at the window's edge the previous window weighs in full: no "
           "second burst");
    tap_is_int(r.retry_after, 1, "retry after its weight drops below 10");
    tap_ok(hit(s, &st, t0 + SEC(60) + 1, &r), "then one passes");
    tap_ok(!hit(s, &st, t0 + SEC(61), &r), "and the next waits");
    tap_is_int(r.retry_after, 6,
               "for one interval from the edge (5 s and 1 us, rounded up)");
    hit(s, &st, t0 + SEC(63), &r);
    tap_is_int(r.retry_after, 4, "retry-after counts down");
    hit(s, &st, t0 + SEC(65) + 1, &r);
    tap_is_int(r.retry_after, 1, "retry-after rounds up");
    tap_ok(hit(s, &st, t0 + SEC(67), &r), "passes once the interval is over");
    tap_ok(!hit(s, &st, t0 + SEC(67), &r), "and only one");
    for (n = 0, i = 0; i < 10; ++i) {
        n += hit(s, &st, t0 + SEC(90), &r);
    }
    tap_is_int(n, 3,
               "half-way into the window half of the previous one weighs: "
               "10 - 5 - 2 = 3 pass");
    tap_is_int(apisec_ratelimit_window(s, st.prev, st.cur, t0 + SEC(91), 0, &r),
               0, "a peek is never counted");
    tap_ok(r.allowed && r.remaining == 1,
           "a peek reports what would pass (one, at 29 s of 60 left)");
    tap_ok(hit(s, &st, t0 + SEC(91), &r) && r.remaining == 0, "it passes");
    apisec_ratelimit_window(s, st.prev, st.cur, t0 + SEC(91), 0, &r);
    tap_ok(!r.allowed && r.remaining == 0, "then a peek reports a refusal");
    tap_ok(hit(s, &st, t0 + SEC(240), &r) && r.remaining == 9,
           "a key idle for a window is fresh again");
    tap_is_int(apisec_ratelimit_window(s, 0, 0, t0, 0, &r), 0,
               "a peek of a fresh key");
    tap_ok(r.allowed && r.remaining == 10 && r.reset == 0,
           "reports a full allowance without consuming it");
}

static void test_failures_block(void)
{
    apisec_ratelimit_spec_t *s = spec_of("5/1m count=failures");
    apisec_ratelimit_result_t r;
    apr_time_t t0 = EDGE + SEC(10);
    state_t st = {0, 0, 0};
    int i, open = 1;

    for (i = 0; i < 5; ++i) {
        open &= hit_cost(s, &st, t0, 0, &r);
        hit(s, &st, t0, &r); /* the 401 is counted */
    }
    tap_ok(open, "a peek lets requests through before LIMIT failures");
    hit_cost(s, &st, t0, 0, &r);
    tap_ok(!r.allowed && r.retry_after == 51,
           "after LIMIT failures the key is blocked until the next window "
           "(retry after 51 s: %d)",
           (int)r.retry_after);
}

typedef struct {
    int n;              /* requests that passed */
    apr_time_t last;    /* time of the last request sent */
    apr_time_t refused; /* time of the first refusal */
    int nref;           /* refusals logged */
} run_t;

static apr_time_t refusals[20000];

/* Requests every STEP from T0 to T0+DUR; logs what passes. */
static run_t overload(const apisec_ratelimit_spec_t *s, state_t *st,
                      apr_time_t t0, apr_interval_time_t dur,
                      apr_interval_time_t step, apr_time_t *log, int max)
{
    apisec_ratelimit_result_t r;
    run_t run = {0, 0, 0, 0};
    apr_time_t t;

    for (t = t0; t < t0 + dur; t += step) {
        run.last = t;
        if (hit(s, st, t, &r)) {
            if (run.n < max) {
                log[run.n] = t;
            }
            ++run.n;
        }
        else {
            if (run.refused == 0) {
                run.refused = t;
            }
            if (run.nref < 20000) {
                refusals[run.nref++] = t;
            }
        }
    }
    return run;
}

/* What the limit lets through under overload from a fresh start at T0
 * (early enough in its window for the burst to fill) to LAST: LIMIT in the
 * first window, then LIMIT per PERIOD, spread evenly from the next
 * window's start. */
static long long allowed_until(const apisec_ratelimit_spec_t *s, apr_time_t t0,
                               apr_time_t last)
{
    apr_time_t p = SEC((apr_time_t)s->period);
    apr_time_t next = (t0 / p + 1) * p;

    return (long long)s->limit
           + (last > next
                  ? (long long)((last - next) * (apr_time_t)s->limit / p)
                  : 0);
}

/* Largest count of passed requests (LOG, sorted) in a half-open window of
 * LEN opening just after a refusal r (FROM, sorted), [r + 1us, r + 1us +
 * LEN): from a refusal on the key's allowance is used up, and at most
 * LIMIT pass in any PERIOD. */
static int max_in_window(const apr_time_t *log, int n, const apr_time_t *from,
                         int nfrom, apr_interval_time_t len)
{
    int i, lo = 0, hi = 0, best = 0;

    for (i = 0; i < nfrom; ++i) {
        while (lo < n && log[lo] < from[i] + 1) {
            ++lo;
        }
        if (hi < lo) {
            hi = lo;
        }
        while (hi < n && log[hi] < from[i] + 1 + len) {
            ++hi;
        }
        if (hi - lo > best) {
            best = hi - lo;
        }
    }
    return best;
}

static void test_window_overload(void)
{
    apisec_ratelimit_spec_t *s = spec_of("100/1m");
    apr_time_t t0 = EDGE, log[2000];
    apr_interval_time_t step = 60000; /* 10 times the allowed rate */
    state_t st = {0, 0, 0};
    int n, k, exact = 1, idx = 0;
    long long want;
    run_t run;

    run = overload(s, &st, t0, SEC(600), step, log, 2000);
    n = run.n;
    want = allowed_until(s, t0, run.last);
    tap_ok(n >= want - 1 && n <= want + 1,
           "10 periods at 10x: the burst plus LIMIT per PERIOD (%d of %lld)", n,
           want);
    for (k = 1; k < 10; ++k) {
        int c = 0;

        for (idx = 0; idx < n; ++idx) {
            c += log[idx] >= t0 + SEC(60 * k)
                 && log[idx] < t0 + SEC(60 * k + 60);
        }
        exact &= c == 100;
    }
    tap_ok(exact, "every fixed window after the first holds exactly LIMIT");
    tap_ok(max_in_window(log, n, refusals, run.nref, SEC(60)) <= 100,
           "at most LIMIT in any PERIOD from a refusal on");
    memset(&st, 0, sizeof(st));
    run = overload(s, &st, t0 + SEC(5) + 7, SEC(600), 7777, log, 2000);
    want = allowed_until(s, t0 + SEC(5) + 7, run.last);
    tap_ok(run.n >= want - 1 && run.n <= want + 1,
           "the same at another phase and rate (%d of %lld)", run.n, want);
    tap_ok(max_in_window(log, run.n, refusals, run.nref, SEC(60)) <= 100,
           "and at most LIMIT in any PERIOD from a refusal on");
}

/* A client idle until just before a fixed window's edge sends a burst
 * there and another just after: with fixed windows both would pass. */
static void test_no_double_burst(void)
{
    apisec_ratelimit_spec_t *s = spec_of("100/1m");
    apisec_ratelimit_result_t r;
    apr_time_t edge = EDGE + SEC(60);
    state_t st = {0, 0, 0};
    int i, first = 0, second = 0;

    for (i = 0; i < 100; ++i) {
        first += hit(s, &st, edge - SEC(1), &r);
    }
    for (i = 0; i < 200; ++i) {
        second += hit(s, &st, edge + SEC(1), &r);
    }
    tap_is_int(first, 100, "a burst before the edge passes");
    tap_is_int(second, 2,
               "after the edge only the refill passes (the previous window "
               "weighs floor(100 * 59/60) = 98)");
}

static void test_restrictive(void)
{
    apisec_ratelimit_result_t a = {1, 10, 60, 5, 30, 0, 0};
    apisec_ratelimit_result_t b = {1, 100, 60, 50, 10, 0, 0};
    apisec_ratelimit_result_t c = {0, 100, 60, 0, 60, 4, 0};
    apisec_ratelimit_result_t d = {0, 100, 60, 0, 60, 9, 0};

    tap_ok(apisec_ratelimit_more_restrictive(&a, &b), "fewer remaining wins");
    tap_ok(!apisec_ratelimit_more_restrictive(&b, &a), "and not the reverse");
    tap_ok(apisec_ratelimit_more_restrictive(&c, &a), "refused wins");
    tap_ok(apisec_ratelimit_more_restrictive(&d, &c), "longer retry wins");
}

static void test_headers(void)
{
    apisec_ratelimit_spec_t *s = spec_of("100/1m name=api");
    apisec_ratelimit_result_t ok = {1, 100, 60, 42, 35, 0, 0};
    apisec_ratelimit_result_t no = {0, 100, 60, 0, 60, 1, 0};
    apisec_ratelimit_headers_e f = APISEC_RL_HEADERS_OFF;
    apr_table_t *t = apr_table_make(pool, 8);

    apisec_ratelimit_headers(pool, APISEC_RL_HEADERS_IETF, s, &ok, t, NULL);
    tap_is_str(apr_table_get(t, "RateLimit"), "\"api\";r=42;t=35",
               "ietf RateLimit");
    tap_is_str(apr_table_get(t, "RateLimit-Policy"), "\"api\";q=100;w=60",
               "ietf RateLimit-Policy");
    tap_ok(apr_table_get(t, "Retry-After") == NULL,
           "no Retry-After on an allowed request");
    {
        apr_table_t *app = apr_table_make(pool, 2);

        apr_table_setn(app, "RateLimit", "\"app\";r=5;t=1");
        apr_table_setn(app, "X-Other", "kept");
        apisec_ratelimit_headers(pool, APISEC_RL_HEADERS_IETF, s, &ok, t, app);
        tap_ok(apr_table_get(app, "RateLimit") == NULL
                   && apr_table_get(app, "X-Other") != NULL,
               "the application's RateLimit field is removed, nothing else");
        tap_is_str(apr_table_get(t, "RateLimit"), "\"api\";r=42;t=35",
                   "and the module's is set");
    }
    t = apr_table_make(pool, 8);
    apisec_ratelimit_headers(pool, APISEC_RL_HEADERS_DRAFT7, s, &ok, t, NULL);
    tap_is_str(apr_table_get(t, "RateLimit"),
               "limit=100, remaining=42, reset=35", "draft-7 RateLimit");
    tap_is_str(apr_table_get(t, "RateLimit-Policy"), "100;w=60",
               "draft-7 RateLimit-Policy");
    t = apr_table_make(pool, 8);
    apisec_ratelimit_headers(pool, APISEC_RL_HEADERS_DRAFT6, s, &ok, t, NULL);
    tap_is_str(apr_table_get(t, "RateLimit-Limit"), "100", "draft-6 Limit");
    tap_is_str(apr_table_get(t, "RateLimit-Remaining"), "42",
               "draft-6 Remaining");
    tap_is_str(apr_table_get(t, "RateLimit-Reset"), "35", "draft-6 Reset");
    tap_is_str(apr_table_get(t, "RateLimit-Policy"), "100;w=60",
               "draft-6 Policy");
    {
        /* The numbers' text at every length a pair of digits changes. */
        static const apr_uint64_t v[] = {0, 7, 10, 99, 100, 101, 999999,
                                         1000000, APR_UINT64_MAX};
        static const char *const want[] = {
            "0",      "7",       "10",     "99", "100", "101",
            "999999", "1000000", "18446744073709551615"};
        int i, good = 1;

        for (i = 0; i < (int)(sizeof(v) / sizeof(v[0])); ++i) {
            apisec_ratelimit_result_t r = ok;

            r.remaining = v[i];
            t = apr_table_make(pool, 8);
            apisec_ratelimit_headers(pool, APISEC_RL_HEADERS_DRAFT6, s, &r, t,
                                     NULL);
            if (strcmp(apr_table_get(t, "RateLimit-Remaining"), want[i])) {
                tap_diag("remaining %s, want %s",
                         apr_table_get(t, "RateLimit-Remaining"), want[i]);
                good = 0;
            }
        }
        tap_ok(good, "numbers in decimal, 0 to 2^64-1");
    }
    t = apr_table_make(pool, 8);
    apisec_ratelimit_headers(pool, APISEC_RL_HEADERS_OFF, s, &no, t, NULL);
    tap_is_int(apr_table_elts(t)->nelts, 1, "off sends only Retry-After");
    tap_is_str(apr_table_get(t, "Retry-After"), "1", "Retry-After on refusal");
    tap_ok(apisec_ratelimit_headers_parse("draft-7", &f) == NULL
               && f == APISEC_RL_HEADERS_DRAFT7,
           "format draft-7");
    tap_ok(apisec_ratelimit_headers_parse("IETF", &f) == NULL
               && f == APISEC_RL_HEADERS_IETF,
           "format names ignore case");
    tap_ok(apisec_ratelimit_headers_parse("draft-8", &f) != NULL,
           "unknown format");
}

static void test_key(void)
{
    apisec_ratelimit_spec_t *s = spec_of("100/1m name=api");
    apr_size_t n;
    const char *k = apisec_ratelimit_key(pool, "vh1", 3, s, "10.0.0.1", &n);

    apisec_ratelimit_spec_t *get = spec_of("100/1m name=api methods=GET");
    apisec_ratelimit_spec_t *hdr = spec_of("100/1m key=header:X-A");
    apisec_ratelimit_spec_t *hdr2 = spec_of("100/1m key=header:X-B");
    char *longv = apr_palloc(pool, 10001);
    apr_size_t n2;

    tap_is_str(s->id, "api;100/60;0:;0;*", "the limit's id");
    /* The tag is the first 8 bytes of the id's SHA-256 in hex, the same on
     * every server: printf 'api;100/60;0:;0;*' | sha256sum gives
     * 40c80bb3adbeba24f02c... */
    tap_is_str(k, "vh1;rl;40c80bb3adbeba24;10.0.0.1",
               "store key layout: namespace, tag of the id, client");
    tap_is_int(strlen(s->key_tag), 21, "the tag is 21 bytes");
    tap_is_int(n, strlen(k), "store key length");
    tap_ok(strcmp(k, apisec_ratelimit_key(pool, "vh1", 3, get, "10.0.0.1", &n2))
               != 0,
           "limits differing in methods= have their own keys");
    tap_ok(strcmp(apisec_ratelimit_key(pool, "vh1", 3, hdr, "v", &n2),
                  apisec_ratelimit_key(pool, "vh1", 3, hdr2, "v", &n2))
               != 0,
           "limits on different headers have their own keys");
    memset(longv, 'a', 10000);
    longv[10000] = '\0';
    apisec_ratelimit_key(pool, "vh1", 3, hdr, longv, &n2);
    tap_ok(n2 > 10000, "a long client value is kept whole in the key");
}

/* ---- accuracy across processes over the shm store ---- */

#define PROCS 8
#define RL_LIMIT 200 /* per second: T = 5 ms */
#define RUN_SECS 4
#define LOG_MAX 2000

typedef struct {
    apr_time_t log[PROCS][LOG_MAX]; /* the clock each pass saw */
    apr_time_t ref[PROCS][LOG_MAX]; /* the clock each refusal saw */
    int n[PROCS];
    int nref[PROCS];
    apr_time_t last[PROCS];
} shared_run_t;

/* Child I sends at START + (k * PROCS + I) * STEP: all together ten times
 * the limit's rate, interleaved. */
/* Each client process holds leases of its own, as an httpd child does. */
static int with_leases;

static int client(apisec_store_t *st, const apisec_ratelimit_spec_t *s,
                  apr_global_mutex_t *m, apr_pool_t *p, shared_run_t *sh, int i,
                  apr_time_t start, const char *key)
{
    apisec_ratelimit_local_t *local = NULL;
    apr_interval_time_t step = APR_USEC_PER_SEC / (10 * RL_LIMIT);
    apisec_ratelimit_result_t r;
    apr_time_t target, now;
    long k;

    if (apr_global_mutex_child_init(&m, NULL, p) != APR_SUCCESS
        || (with_leases
            && apisec_ratelimit_local_create(p, 64, &local) != APR_SUCCESS)) {
        return 2;
    }
    for (k = 0;; ++k) {
        target = start + (k * PROCS + i) * step;
        if (target >= start + SEC(RUN_SECS)) {
            return 0;
        }
        now = apr_time_now();
        if (now < target) {
            apr_sleep(target - now); /* pacing the load, not waiting on state */
        }
        if (apisec_ratelimit_check(p, st, local, s, key, strlen(key), 0, 1, &r)
            != APR_SUCCESS) {
            return 1;
        }
        now = r.now;
        sh->last[i] = now;
        if (r.allowed && sh->n[i] < LOG_MAX) {
            sh->log[i][sh->n[i]++] = now;
        }
        else if (!r.allowed && sh->nref[i] < LOG_MAX) {
            sh->ref[i][sh->nref[i]++] = now;
        }
    }
}

static int cmp_time(const void *a, const void *b)
{
    apr_time_t x = *(const apr_time_t *)a, y = *(const apr_time_t *)b;

    return x < y ? -1 : x > y;
}

static void accuracy(apr_pool_t *p, apisec_store_t *st, apr_global_mutex_t *m,
                     shared_run_t *sh, const char *how)
{
    apisec_ratelimit_spec_t *s = spec_of("200/1s");
    /* From a window's start, so that the burst fills its first window. */
    apr_time_t start = (apr_time_now() / SEC(1) + 1) * SEC(1), last = 0;
    apr_time_t *all = apr_pcalloc(p, sizeof(sh->log));
    apr_time_t *refs = apr_pcalloc(p, sizeof(sh->ref));
    pid_t pids[PROCS];
    int i, j, n = 0, nref = 0, ok = 1, status;
    long long want;

    memset(sh, 0, sizeof(*sh));
    for (i = 0; i < PROCS; ++i) {
        pids[i] = fork();
        if (pids[i] == 0) {
            _exit(client(st, s, m, p, sh, i, start, how));
        }
        ok &= pids[i] > 0;
    }
    for (i = 0; i < PROCS; ++i) {
        ok &= pids[i] > 0 && waitpid(pids[i], &status, 0) == pids[i]
              && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    tap_ok(ok, "%s: %d processes at 10x the rate, no store error", how, PROCS);
    for (i = 0; i < PROCS; ++i) {
        for (j = 0; j < sh->n[i]; ++j) {
            all[n++] = sh->log[i][j];
        }
        for (j = 0; j < sh->nref[i]; ++j) {
            refs[nref++] = sh->ref[i][j];
        }
        last = sh->last[i] > last ? sh->last[i] : last;
    }
    qsort(all, (size_t)n, sizeof(*all), cmp_time);
    qsort(refs, (size_t)nref, sizeof(*refs), cmp_time);
    want = allowed_until(s, all[0], last);
    tap_diag("%s: %d passed, the limit allows %lld (%.3f%%)", how, n, want,
             100.0 * (double)(n - want) / (double)want);
    tap_ok(n <= want + 1, "%s: never more than the limit allows", how);
    tap_ok(n >= want - want / 100, "%s: within 1%% of what it allows", how);
    j = max_in_window(all, n, refs, nref, SEC(1));
    tap_diag("%s: busiest 1 s window from a refusal on: %d", how, j);
    tap_ok(j <= RL_LIMIT, "%s: at most LIMIT in any PERIOD from a refusal on",
           how);
}

static int passes(apr_pool_t *p, apisec_store_t *st,
                  apisec_ratelimit_local_t *l, const apisec_ratelimit_spec_t *s,
                  const char *key, apr_time_t now, apr_uint64_t *ops)
{
    apisec_ratelimit_result_t r;
    apr_uint64_t ops0 = st->stats.ops;

    apisec_ratelimit_check(p, st, l, s, key, strlen(key), now, 1, &r);
    *ops = st->stats.ops - ops0;
    return r.allowed;
}

/* Leases over counters: far from the limit one operation serves many
 * requests; near it, one each; and never more than the limit, whichever
 * process holds what. */
static void test_leases(apr_pool_t *p, apisec_store_t *st)
{
    apisec_ratelimit_spec_t *wide = spec_of("1000/1m name=wide");
    apisec_ratelimit_spec_t *tight = spec_of("20/1m name=tight");
    apisec_ratelimit_spec_t *shared = spec_of("1000/1m name=shared");
    apisec_ratelimit_local_t *a, *b;
    apisec_ratelimit_result_t r;
    apr_time_t t0 = EDGE + SEC(600);
    apr_uint64_t ops, total = 0;
    int i, n = 0, ok = 1;

    if (!tap_ok(apisec_ratelimit_local_create(p, 64, &a) == APR_SUCCESS
                    && apisec_ratelimit_local_create(p, 64, &b) == APR_SUCCESS,
                "two processes' leases")) {
        return;
    }
    ok = passes(p, st, a, wide, "lw", t0, &ops);
    tap_ok(ok && ops == 2,
           "at a window's start the previous window's count decides: one "
           "increment and one read (%d ops)",
           (int)ops);
    ok = passes(p, st, a, wide, "lw", t0, &ops);
    tap_ok(ok && ops == 1, "then one increment leases 62 (999/16)");
    for (i = 0; i < 61; ++i) {
        ok &= passes(p, st, a, wide, "lw", t0, &ops);
        total += ops;
    }
    tap_ok(ok && total == 0, "the next 61 pass without the store");
    ok = passes(p, st, a, wide, "lw", t0, &ops);
    tap_ok(ok && ops == 1, "then one increment leases the next (%d ops)",
           (int)ops);
    apisec_ratelimit_check(p, st, a, wide, "lw", 2, t0, 1, &r);
    tap_ok(r.allowed && r.remaining == 1000 - 65,
           "remaining counts what this process used (%d)", (int)r.remaining);
    tap_ok(passes(p, st, a, wide, "lw2", t0 + SEC(59), &ops) && ops == 1,
           "late in a window a key far from its limit passes whatever the "
           "previous window held: one increment");
    tap_ok(passes(p, st, a, wide, "lw", t0 + SEC(60), &ops) && ops == 2,
           "a lease is of one window: the next window starts over");

    for (total = 0, i = 0; i < 20; ++i) {
        n += passes(p, st, a, tight, "lt", t0, &ops);
        total += ops;
    }
    tap_ok(n == 20 && total == 21,
           "near the limit a lease is one request (20 of 20/1m: %d ops)",
           (int)total);
    tap_ok(!passes(p, st, a, tight, "lt", t0, &ops) && ops == 2,
           "the 21st is refused and taken back");

    for (n = 0, i = 0; i < 3000; ++i) {
        n += passes(p, st, i % 2 ? a : b, shared, "ls", t0 + SEC(1), &ops);
    }
    tap_is_int(n, 1000, "two processes leasing one key: exactly the limit");
}

/* memcached answers NOT_STORED to an increment that would create a counter
 * another process created in the same instant. */
static const apisec_store_ops_t *real_ops;
static int lose_next;

static apr_status_t racing_incr(void *h, const void *key, apr_size_t klen,
                                apr_uint64_t delta, apr_uint64_t initial,
                                apr_uint32_t ttl, apr_uint64_t *value)
{
    if (lose_next) {
        lose_next = 0;
        real_ops->incr(h, key, klen, 5, 5, ttl, value); /* the other's */
        return APISEC_STORE_EXISTS;
    }
    return real_ops->incr(h, key, klen, delta, initial, ttl, value);
}

static void test_create_race(apr_pool_t *p, apisec_store_t *counters)
{
    apisec_store_ops_t ops = *counters->ops;
    apisec_store_t st = *counters;
    apisec_ratelimit_spec_t *s = spec_of("6/1m name=race");
    apisec_ratelimit_result_t r;
    apr_time_t t = EDGE + SEC(1200) + SEC(59);

    real_ops = counters->ops;
    ops.incr = racing_incr;
    st.ops = &ops;
    lose_next = 1;
    memset(&r, 0xff, sizeof(r));
    tap_is_int(apisec_ratelimit_check(p, &st, NULL, s, "kr", 2, t, 1, &r),
               APR_SUCCESS,
               "a counter created by another process meanwhile: "
               "the increment is made on it");
    tap_ok(r.allowed && r.remaining == 0,
           "and the decision counts the other's 5 (remaining %d)",
           (int)r.remaining);
    apisec_ratelimit_check(p, &st, NULL, s, "kr", 2, t, 1, &r);
    tap_ok(!r.allowed, "the next is over the limit");
}

static void test_store(apr_pool_t *p)
{
    apr_size_t size = 64 * 1024;
    apr_shm_t *shm, *shm_run;
    apr_global_mutex_t *m;
    apisec_store_t *st, counters;
    apisec_store_ops_t ops;
    apisec_ratelimit_spec_t *s = spec_of("3/1m");
    apisec_ratelimit_result_t r;
    apr_time_t t0 = EDGE;
    apr_uint64_t ops0;
    int i, passed = 0;

    if (!tap_ok(apr_shm_create(&shm, size, NULL, p) == APR_SUCCESS
                    && apr_shm_create(&shm_run, sizeof(shared_run_t), NULL, p)
                           == APR_SUCCESS
                    && apr_global_mutex_create(&m, NULL, APR_LOCK_DEFAULT, p)
                           == APR_SUCCESS
                    && apisec_store_shm_attach(p, apr_shm_baseaddr_get(shm),
                                               size, m, NULL, &st)
                           == APR_SUCCESS,
                "shm store for the rate limits")) {
        return;
    }
    /* The same store without update(): the path memcached takes. */
    ops = *st->ops;
    ops.update = NULL;
    counters = *st;
    counters.ops = &ops;

    for (i = 0; i < 5; ++i) {
        apisec_ratelimit_check(p, st, NULL, s, "k1", 2, t0, 1, &r);
        passed += r.allowed;
    }
    tap_is_int(passed, 3, "over the store's update: the burst is LIMIT");
    passed = 0;
    ops0 = counters.stats.ops;
    apisec_ratelimit_check(p, &counters, NULL, s, "k2", 2, t0, 1, &r);
    tap_is_int(counters.stats.ops - ops0, 2,
               "over counters at a window's start: an increment that creates "
               "the counter, and a read of the previous count (2 operations)");
    passed = r.allowed;
    ops0 = counters.stats.ops;
    apisec_ratelimit_check(p, &counters, NULL, s, "k2", 2, t0, 1, &r);
    tap_is_int(counters.stats.ops - ops0, 2,
               "without leases the next one reads it again");
    passed += r.allowed;
    for (i = 0; i < 3; ++i) {
        apisec_ratelimit_check(p, &counters, NULL, s, "k2", 2, t0, 1, &r);
        passed += r.allowed;
    }
    tap_is_int(passed, 3, "over counters: the burst is LIMIT");
    ops0 = counters.stats.ops;
    apisec_ratelimit_check(p, &counters, NULL, s, "k2", 2, t0, 1, &r);
    tap_ok(!r.allowed && counters.stats.ops - ops0 == 3,
           "a refused request takes its increment back (3 operations)");
    ops0 = counters.stats.ops;
    apisec_ratelimit_check(p, &counters, NULL, s, "k3", 2, t0 + SEC(59), 1, &r);
    tap_ok(r.allowed && counters.stats.ops - ops0 == 1,
           "late in a window, one increment: the previous count cannot "
           "decide (3 - floor(3 * 1/60) = 3)");
    apisec_ratelimit_check(p, &counters, NULL, s, "k2", 2, t0 + SEC(70), 0, &r);
    tap_ok(r.allowed && r.remaining == 1,
           "over counters: a peek in the next window sees the previous "
           "count weigh (floor(3 * 50/60) = 2 of 3)");
    apisec_ratelimit_check(p, &counters, NULL, s, "k2", 2, t0 + SEC(70), 1, &r);
    tap_ok(r.allowed && r.remaining == 0, "one passes");
    apisec_ratelimit_check(p, &counters, NULL, s, "k2", 2, t0 + SEC(70), 1, &r);
    tap_ok(!r.allowed && r.retry_after == 11,
           "over counters: refused again, retry after 11 s (%d)",
           (int)r.retry_after);
    apisec_ratelimit_check(p, st, NULL, s, "k1", 2, t0 + SEC(70), 1, &r);
    tap_ok(r.allowed && r.remaining == 0,
           "over the update: the same answers as over counters");
    apisec_ratelimit_check(p, st, NULL, s, "k1", 2, t0 + SEC(70), 1, &r);
    tap_ok(!r.allowed && r.retry_after == 11, "refused, retry after 11 s");

    accuracy(p, st, m, apr_shm_baseaddr_get(shm_run), "shm update");
    accuracy(p, &counters, m, apr_shm_baseaddr_get(shm_run), "shm counters");
    with_leases = 1;
    accuracy(p, &counters, m, apr_shm_baseaddr_get(shm_run),
             "shm counters, leases");
    with_leases = 0;
    test_leases(p, &counters);
    test_create_race(p, &counters);
    apr_global_mutex_destroy(m);
    apr_shm_destroy(shm_run);
    apr_shm_destroy(shm);
}

int main(void)
{
    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    test_parse_good();
    test_parse_bad();
    test_window_values();
    test_failures_block();
    test_window_overload();
    test_no_double_burst();
    test_restrictive();
    test_headers();
    test_key();
    test_store(pool);
    apr_pool_destroy(pool);
    return tap_done();
}
