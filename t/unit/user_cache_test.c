/* Unit tests of src/user_cache.c: hits, keys, the TTL of the asking scope,
 * the bound and its eviction rule, rows too large, threads. */
#include "user_cache.h"
#include "tap.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <stdio.h>

#define SEC(n) apr_time_from_sec(n)

static apisec_user_row_t *row3(apr_pool_t *p, const char *id, const char *role,
                               const char *email)
{
    apisec_user_row_t *r = apr_palloc(p, sizeof(*r));

    r->ncols = 3;
    r->names = apr_palloc(p, sizeof(char *) * 3);
    r->values = apr_palloc(p, sizeof(char *) * 3);
    r->names[0] = "id";
    r->values[0] = id;
    r->names[1] = "role";
    r->values[1] = role;
    r->names[2] = "email";
    r->values[2] = email;
    return r;
}

static int get(apisec_user_cache_t *c, const void *q, const void *s,
               const char *user, apr_time_t now, int ttl, apr_pool_t *p,
               apisec_user_row_t **r)
{
    return apisec_user_cache_get(c, q, s, user, now, SEC(ttl), p, r);
}

typedef struct {
    apisec_user_cache_t *c;
    int q;
    int errors;
    apr_time_t now;
} worker_t;

static void *APR_THREAD_FUNC worker(apr_thread_t *t, void *data)
{
    worker_t *w = data;
    apr_pool_t *p;
    int i;

    apr_pool_create(&p, NULL);
    for (i = 0; i < 20000; ++i) {
        char user[16];
        apisec_user_row_t *r;
        snprintf(user, sizeof(user), "u%d", i % 50);
        if (get(w->c, &w->q, NULL, user, w->now, 60, p, &r)) {
            if (strcmp(r->values[0], user)) {
                ++w->errors;
            }
        }
        else {
            apisec_user_cache_put(w->c, &w->q, NULL, user, w->now,
                                  row3(p, apr_pstrdup(p, user), "r", "e"));
        }
        if (i % 1000 == 0) {
            apr_pool_clear(p);
        }
    }
    apr_pool_destroy(p);
    /* A plain return, not apr_thread_exit: pthread_exit skips the
     * epilogue that lifts AddressSanitizer's stack redzones, and ASan then
     * reports its own thread teardown as an overflow. */
    return NULL;
}

int main(void)
{
    apr_pool_t *p;
    apisec_user_cache_t *c, *small;
    apisec_user_row_t *r = NULL;
    apr_time_t t0 = apr_time_now();
    int qa, qb, sa, sb, i, n, kept;
    char big[APISEC_USER_CACHE_ROW_MAX + 10];
    apr_thread_t *th[4];
    worker_t w[4];
    apr_status_t trv;

    apr_initialize();
    apr_pool_create(&p, NULL);
    c = apisec_user_cache_create(p, 64);
    tap_ok(c != NULL, "a cache of 64 rows is made");

    tap_ok(!get(c, &qa, &sa, "alice", t0, 60, p, &r), "an unknown user misses");
    tap_ok(apisec_user_cache_put(c, &qa, &sa, "alice", t0,
                                 row3(p, "alice", "admin", NULL)),
           "a row is stored");
    tap_ok(get(c, &qa, &sa, "alice", t0 + SEC(1), 60, p, &r), "it hits");
    tap_is_int(r->ncols, 3, "with its three columns");
    tap_is_str(r->names[1], "role", "names come back");
    tap_is_str(r->values[1], "admin", "values come back");
    tap_ok(r->values[2] == NULL, "a NULL stays NULL");
    tap_ok(!get(c, &qb, &sa, "alice", t0, 60, p, &r),
           "the same user of another query misses");
    tap_ok(!get(c, &qa, &sb, "alice", t0, 60, p, &r),
           "the same user of another server (database) misses");
    tap_ok(!get(c, &qa, &sa, "Alice", t0, 60, p, &r),
           "users are compared exactly");
    tap_ok(!get(c, &qa, &sa, "alic", t0, 60, p, &r), "a prefix misses");

    tap_ok(get(c, &qa, &sa, "alice", t0 + SEC(59), 60, p, &r),
           "a row is used until its TTL");
    tap_ok(!get(c, &qa, &sa, "alice", t0 + SEC(60), 60, p, &r),
           "not at TTL seconds after it was read");
    tap_ok(!get(c, &qa, &sa, "alice", t0 + SEC(10), 5, p, &r),
           "a scope with a shorter TTL does not get an older row");
    tap_ok(!get(c, &qa, &sa, "alice", t0 + SEC(1), 0, p, &r),
           "TTL 0 never hits");
    tap_ok(!get(c, &qa, &sa, "alice", t0 - SEC(5), 60, p, &r),
           "a clock set back does not make a row live longer");

    apisec_user_cache_put(c, &qa, &sa, "alice", t0 + SEC(100),
                          row3(p, "alice", "user", "a@example.com"));
    tap_ok(get(c, &qa, &sa, "alice", t0 + SEC(101), 60, p, &r)
               && !strcmp(r->values[1], "user"),
           "a new row of a key replaces the old one");
    tap_is_int(apisec_user_cache_count(c), 1, "and takes the same slot");

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    tap_ok(!apisec_user_cache_put(c, &qa, &sa, "alice", t0 + SEC(200),
                                  row3(p, "alice", big, NULL)),
           "a row over APISEC_USER_CACHE_ROW_MAX bytes is not stored");
    tap_ok(!get(c, &qa, &sa, "alice", t0 + SEC(201), 600, p, &r),
           "and the older row of its key is gone too");
    tap_is_int(apisec_user_cache_count(c), 0, "the cache is empty again");

    /* The bound: 4 slots, one set. The fifth row replaces the one read
     * longest ago, whichever was used last. */
    small = apisec_user_cache_create(p, 3);
    for (i = 0; i < 4; ++i) {
        char u[8];
        snprintf(u, sizeof(u), "u%d", i);
        apisec_user_cache_put(small, &qa, &sa, apr_pstrdup(p, u),
                              t0 + SEC(10 - i), row3(p, "x", "r", NULL));
    }
    tap_is_int(apisec_user_cache_count(small), 4,
               "a cache asked for 3 rows holds 4 (one set)");
    tap_ok(get(small, &qa, &sa, "u3", t0 + SEC(11), 60, p, &r),
           "u3 (read at +7s) is there");
    apisec_user_cache_put(small, &qa, &sa, "u4", t0 + SEC(11),
                          row3(p, "x", "r", NULL));
    tap_is_int(apisec_user_cache_count(small), 4, "the bound holds");
    tap_ok(!get(small, &qa, &sa, "u3", t0 + SEC(12), 60, p, &r),
           "the row read longest ago (u3) was replaced");
    tap_ok(get(small, &qa, &sa, "u0", t0 + SEC(12), 60, p, &r)
               && get(small, &qa, &sa, "u4", t0 + SEC(12), 60, p, &r),
           "the others stay");

    /* Many users: never more than the slots, and the latest always hit. */
    kept = 1;
    for (i = 0; i < 1000; ++i) {
        char u[16];
        snprintf(u, sizeof(u), "user-%d", i);
        apisec_user_cache_put(c, &qa, &sa, u, t0 + i, row3(p, u, "r", NULL));
        kept &=
            get(c, &qa, &sa, u, t0 + i, 60, p, &r) && !strcmp(r->values[0], u);
    }
    tap_ok(kept, "each new row hits right after it is stored");
    n = apisec_user_cache_count(c);
    tap_ok(n <= 64 && n >= 60, "1000 users fill at most the 64 slots (%d)", n);

    /* Threads: no torn rows. */
    for (i = 0; i < 4; ++i) {
        w[i].c = c;
        w[i].errors = 0;
        w[i].now = t0;
        apr_thread_create(&th[i], NULL, worker, &w[i], p);
    }
    n = 0;
    for (i = 0; i < 4; ++i) {
        apr_thread_join(&trv, th[i]);
        n += w[i].errors;
    }
    tap_is_int(n, 0, "4 threads, 80000 lookups: every hit is the right row");

    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
