/* Unit tests of src/token_cache.c: hits on the exact token only, scopes,
 * expiry, the bound, memos per policy, entries outliving eviction, and many
 * threads at once. */
#include "token_cache.h"
#include "tap.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <stdio.h>
#include <stdlib.h>

static apr_time_t now, later;
static json_t *hdr, *cls;
static apisec_jwt_times_t times;
static int scope_a, scope_b;

static const char *token_of(apr_pool_t *p, int i)
{
    /* Like a JWT: the signature (the part that differs) at the end. */
    return apr_psprintf(p,
                        "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.sig-%08d-"
                        "abcdefghijklmnopqrstuvwxyz",
                        i);
}

static apisec_token_entry_t *put(apisec_token_cache_t *c, const char *t,
                                 const void *scope, apr_time_t exp)
{
    return apisec_token_cache_put(c, t, strlen(t), scope, exp, hdr, cls, &times,
                                  7);
}

static apisec_token_entry_t *get(apisec_token_cache_t *c, const char *t,
                                 const void *scope, apr_time_t at)
{
    return apisec_token_cache_get(c, t, strlen(t), scope, at, NULL, NULL, NULL);
}

/* Memos as a caller makes them: here a policy name and a result. */
typedef struct {
    char policy[16];
    int result;
} memo_t;

static void *memo(const char *policy, int result)
{
    memo_t *m = calloc(1, sizeof(*m));

    snprintf(m->policy, sizeof(m->policy), "%s", policy);
    m->result = result;
    return m;
}

static int memo_for(const void *m, const void *policy)
{
    return !strcmp(((const memo_t *)m)->policy, policy);
}

static const memo_t *memo_of(apisec_token_cache_t *c, const char *t,
                             const void *scope, const char *policy)
{
    const void *m = NULL;
    apisec_token_entry_t *e = apisec_token_cache_get(c, t, strlen(t), scope,
                                                     now, memo_for, policy, &m);

    apisec_token_entry_release(e);
    return e ? m : NULL;
}

static void test_basics(apr_pool_t *p)
{
    apisec_token_cache_t *c = apisec_token_cache_create(p, 64);
    const char *t1 = token_of(p, 1), *t2 = token_of(p, 2);
    apisec_token_entry_t *e;
    char *twin;

    tap_ok(c != NULL, "a cache of 64 tokens is made");
    tap_ok(!get(c, t1, &scope_a, now), "an unknown token misses");
    e = put(c, t1, &scope_a, later);
    tap_ok(e != NULL, "put gives the new entry");
    apisec_token_entry_release(e);
    e = get(c, t1, &scope_a, now);
    tap_ok(e != NULL, "a remembered token hits");
    tap_is_str(e ? json_string_value(json_object_get(e->claims, "sub")) : "",
               "alice", "the hit gives the claims");
    tap_is_str(e ? json_string_value(json_object_get(e->header, "alg")) : "",
               "ES256", "and the header");
    tap_ok(e && e->times.has_exp && e->times.exp == 2e9 && e->alg == 7,
           "and the time claims and algorithm it was put with");
    apisec_token_entry_release(e);

    tap_ok(!get(c, t1, &scope_b, now),
           "the same token for another key set misses");
    tap_ok(!get(c, t2, &scope_a, now), "another token misses");

    /* Same length and same last 32 bytes: the same set, and the hash
     * cannot tell them apart; only the full compare does. */
    twin = apr_pstrdup(p, t1);
    twin[0] = 'X';
    tap_ok(!get(c, twin, &scope_a, now),
           "a token differing only before its last 32 bytes misses");
    tap_ok(!apisec_token_cache_get(c, t1, strlen(t1) - 1, &scope_a, now, NULL,
                                   NULL, NULL),
           "a prefix of a remembered token misses");
    tap_ok(!get(c, apr_pstrcat(p, "a", t1, NULL), &scope_a, now),
           "a remembered token with a byte before it misses");

    tap_ok(!get(c, t1, &scope_a, later),
           "an entry is never used at its token's exp");
    tap_ok(!get(c, t1, &scope_a, now), "and it is gone once found expired");
    tap_is_int(apisec_token_cache_count(c), 0, "its slot is free again");

    e = put(c, t2, &scope_a, later);
    apisec_token_entry_release(e);
    e = put(c, t2, &scope_b, later);
    apisec_token_entry_release(e);
    tap_is_int(apisec_token_cache_count(c), 2,
               "one token verified with two key sets: two entries");
    e = put(c, t2, &scope_a, later + 1);
    apisec_token_entry_release(e);
    tap_is_int(apisec_token_cache_count(c), 2,
               "putting a remembered token again replaces its entry");
}

static void test_bound(apr_pool_t *p)
{
    apisec_token_cache_t *c = apisec_token_cache_create(p, 64);
    apisec_token_entry_t *held, *e;
    const char *first = token_of(p, 100);
    int i, hits;

    held = put(c, first, &scope_a, later);
    /* 10,000 distinct tokens through 64 slots. */
    for (i = 1; i < 10000; ++i) {
        apisec_token_entry_release(
            put(c, token_of(p, 100 + i), &scope_a, later + i));
    }
    tap_ok(apisec_token_cache_count(c) <= 64, "never more entries than slots");
    tap_ok(apisec_token_cache_count(c) >= 48, "and the slots are used");
    for (hits = 0, i = 9990; i < 10000; ++i) {
        if ((e = get(c, token_of(p, 100 + i), &scope_a, now))) {
            ++hits;
            apisec_token_entry_release(e);
        }
    }
    tap_ok(hits >= 5, "most of the newest tokens are still there (%d/10)",
           hits);
    tap_ok(!get(c, first, &scope_a, now), "the first one was evicted");
    tap_ok(held->len == strlen(first) && !memcmp(held->token, first, held->len)
               && json_object_size(held->claims) == 1,
           "an evicted entry stays whole while a request holds it");
    apisec_token_entry_release(held);
    tap_is_int(json_object_size(cls), 1, "the cache shares, not copies");

    /* An expired entry is the first to go. */
    c = apisec_token_cache_create(p, 4);
    apisec_token_entry_release(put(c, token_of(p, 1), &scope_a, later));
    apisec_token_entry_release(put(c, token_of(p, 2), &scope_a, now - 1));
    apisec_token_entry_release(put(c, token_of(p, 3), &scope_a, later));
    apisec_token_entry_release(put(c, token_of(p, 4), &scope_a, later));
    apisec_token_entry_release(put(c, token_of(p, 5), &scope_a, later));
    for (hits = 0, i = 1; i <= 5; ++i) {
        if ((e = get(c, token_of(p, i), &scope_a, now))) {
            ++hits;
            apisec_token_entry_release(e);
        }
    }
    tap_is_int(hits, 4, "a full set takes a new token in an expired slot");
    tap_ok(!get(c, token_of(p, 2), &scope_a, now), "the expired one");
}

static void test_memos(apr_pool_t *p)
{
    apisec_token_cache_t *c = apisec_token_cache_create(p, 64);
    const char *t = token_of(p, 1), *u = token_of(p, 2);
    apisec_token_entry_t *e = put(c, t, &scope_a, later);
    void *extra;
    const memo_t *m;

    tap_ok(memo_of(c, t, &scope_a, "A") == NULL,
           "a new entry has no memo for a policy");
    tap_ok(apisec_token_entry_add_memo(c, e, memo("A", 1)), "a memo is added");
    m = memo_of(c, t, &scope_a, "A");
    tap_ok(m && m->result == 1, "the memo is found under its policy");
    tap_ok(memo_of(c, t, &scope_a, "B") == NULL,
           "and not under another policy");
    tap_ok(memo_of(c, t, &scope_b, "A") == NULL,
           "nor for the same token under another key set");
    tap_ok(apisec_token_entry_add_memo(c, e, memo("B", 2)),
           "a second policy gets its own memo");
    m = memo_of(c, t, &scope_a, "B");
    tap_ok(m && m->result == 2, "each policy finds its own");
    m = memo_of(c, t, &scope_a, "A");
    tap_ok(m && m->result == 1, "the first one is unchanged");
    apisec_token_entry_release(put(c, u, &scope_a, later));
    tap_ok(memo_of(c, u, &scope_a, "A") == NULL,
           "another token has no memo of its own yet");
    tap_ok(apisec_token_entry_add_memo(c, e, memo("C", 3))
               && apisec_token_entry_add_memo(c, e, memo("D", 4)),
           "up to %d memos an entry", APISEC_TOKEN_MEMOS);
    extra = memo("E", 5);
    tap_ok(!apisec_token_entry_add_memo(c, e, extra),
           "one more is refused and stays the caller's");
    free(extra);
    apisec_token_entry_release(e);
    apisec_token_entry_release(put(c, t, &scope_a, later));
    tap_ok(memo_of(c, t, &scope_a, "A") == NULL,
           "a token put again starts without memos");
}

/* Threads hit, miss, put and evict on a small cache at once: every entry
 * handed out is the token asked for (run under ASan/TSan to see more). */
#define THREADS 8
#define ROUNDS 20000
static apisec_token_cache_t *shared;
static const char *tokens[40];
static volatile int wrong;

static void *APR_THREAD_FUNC worker(apr_thread_t *th, void *arg)
{
    unsigned seed = (unsigned)(apr_uintptr_t)arg;
    int i;

    for (i = 0; i < ROUNDS; ++i) {
        const char *t = tokens[(seed = seed * 1103515245 + 12345) >> 16 & 31];
        apisec_token_entry_t *e = get(shared, t, &scope_a, now);
        if (!e) {
            /* Trees of its own, as a request's are: jansson's reference
             * counts are only safe when a tree is not shared by threads. */
            json_t *h = json_deep_copy(hdr), *cl = json_deep_copy(cls);
            e = apisec_token_cache_put(shared, t, strlen(t), &scope_a, later, h,
                                       cl, &times, 7);
            json_decref(h);
            json_decref(cl);
        }
        if (e && (e->len != strlen(t) || memcmp(e->token, t, e->len))) {
            __atomic_add_fetch(&wrong, 1, __ATOMIC_RELAXED);
        }
        if (e && !(i & 7)) {
            void *m = memo("A", 1);
            if (!apisec_token_entry_add_memo(shared, e, m)) {
                free(m);
            }
        }
        apisec_token_entry_release(e);
    }
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

static void test_threads(apr_pool_t *p)
{
    apr_thread_t *th[THREADS];
    apr_status_t rv;
    int i, started = 0;

    shared = apisec_token_cache_create(p, 16);
    for (i = 0; i < 32; ++i) {
        tokens[i] = token_of(p, 1000 + i);
    }
    for (i = 0; i < THREADS; ++i) {
        started += apr_thread_create(&th[i], NULL, worker,
                                     (void *)(apr_uintptr_t)(i + 1), p)
                   == APR_SUCCESS;
    }
    for (i = 0; i < THREADS; ++i) {
        apr_thread_join(&rv, th[i]);
    }
    tap_is_int(started, THREADS, "8 threads ran");
    tap_is_int(wrong, 0, "every entry handed out was the token asked for");
    tap_ok(apisec_token_cache_count(shared) <= 16,
           "and the cache kept its bound");
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    /* The cache reads the clock itself when it looks for expired slots. */
    now = apr_time_now();
    later = now + apr_time_from_sec(600);
    hdr = json_pack("{s:s}", "alg", "ES256");
    cls = json_pack("{s:s}", "sub", "alice");
    memset(&times, 0, sizeof(times));
    times.has_exp = 1;
    times.exp = 2e9;

    test_basics(p);
    test_bound(p);
    test_memos(p);
    test_threads(p);

    apr_pool_destroy(p);
    json_decref(hdr);
    json_decref(cls);
    apr_terminate();
    return tap_done();
}
