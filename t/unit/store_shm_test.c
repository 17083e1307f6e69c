/* Unit tests of the shared-memory store: operations, expiry against an
 * injected clock, the eviction bound, reattachment, and exact totals when
 * several processes update the same keys at once. */
#include "store_shm.h"
#include "tap.h"

#include <apr_general.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILDREN 8
#define ROUNDS 5000
#define HOT_KEYS 4

static apr_time_t fake_now;

static apr_time_t fake_clock(void)
{
    return fake_now;
}

static apr_status_t put(apisec_store_t *s, const char *k, const char *v,
                        apr_uint32_t ttl)
{
    return apisec_store_set(s, k, strlen(k), v, strlen(v), ttl);
}

/* The value as a string, or NULL when not found. */
static const char *val(apr_pool_t *p, apisec_store_t *s, const char *k)
{
    unsigned char buf[APISEC_STORE_VALUE_MAX];
    apr_size_t n;

    if (apisec_store_get(s, k, strlen(k), buf, &n, NULL) != APR_SUCCESS) {
        return NULL;
    }
    return apr_pstrmemdup(p, (const char *)buf, n);
}

static void test_siphash(void)
{
    /* Reference vectors of SipHash-2-4-128, key 00..0f, messages 00..(n-1). */
    static const unsigned char want0[16] = {0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25,
                                            0xa8, 0xe6, 0x6d, 0xf6, 0x72, 0x14,
                                            0xc7, 0x55, 0x02, 0x93};
    static const unsigned char want8[16] = {0x3b, 0x62, 0xa9, 0xba, 0x62, 0x58,
                                            0xf5, 0x61, 0x0f, 0x83, 0xe2, 0x64,
                                            0xf3, 0x14, 0x97, 0xb4};
    static const unsigned char want15[16] = {0x54, 0x93, 0xe9, 0x99, 0x33, 0xb0,
                                             0xa8, 0x11, 0x7e, 0x08, 0xec, 0x0f,
                                             0x97, 0xcf, 0xc3, 0xd9};
    unsigned char key[16], msg[64], out[16];
    int i;

    for (i = 0; i < 16; ++i) {
        key[i] = (unsigned char)i;
    }
    for (i = 0; i < 64; ++i) {
        msg[i] = (unsigned char)i;
    }
    apisec_store_shm_hash128(key, msg, 0, out);
    tap_ok(memcmp(out, want0, 16) == 0, "siphash128 of the empty message");
    apisec_store_shm_hash128(key, msg, 8, out);
    tap_ok(memcmp(out, want8, 16) == 0, "siphash128 of an 8-byte message");
    apisec_store_shm_hash128(key, msg, 15, out);
    tap_ok(memcmp(out, want15, 16) == 0, "siphash128 of a 15-byte message");
    {
        /* The halves as numbers are the little-endian reading of those
         * bytes. */
        apr_uint64_t w[2], lo = 0, hi = 0;

        apisec_store_shm_hash128_words(key, msg, 15, w);
        for (i = 7; i >= 0; --i) {
            lo = lo << 8 | want15[i];
            hi = hi << 8 | want15[8 + i];
        }
        tap_ok(w[0] == lo && w[1] == hi,
               "siphash128 halves as numbers, little-endian");
    }
}

static void test_log_pace(void)
{
    apisec_store_logpace_t pace = {0, 0};
    apr_interval_time_t minute = apr_time_from_sec(60);
    apr_time_t t0 = apr_time_from_sec(1700000000);
    apr_uint64_t suppressed = 99;
    int i, logged = 0;

    tap_ok(apisec_store_log_due(&pace, t0, minute, &suppressed)
               && suppressed == 0,
           "the first failure is logged");
    for (i = 1; i <= 1000; ++i) {
        logged += apisec_store_log_due(&pace, t0 + i * 1000, minute, NULL);
    }
    tap_is_int(logged, 0, "1000 more within the interval are only counted");
    tap_ok(apisec_store_log_due(&pace, t0 + minute, minute, &suppressed)
               && suppressed == 1000,
           "the next after the interval is logged with the count");
    tap_ok(!apisec_store_log_due(&pace, t0 + minute + 1, minute, NULL),
           "and the pace starts again");
    tap_ok(apisec_store_log_due(&pace, t0, minute, &suppressed)
               && suppressed == 1,
           "a clock that went back logs rather than stays silent");
}

static void test_parse_size(void)
{
    apr_size_t n = 0;

    tap_ok(apisec_store_shm_parse_size("65536", &n) == NULL && n == 65536,
           "size in bytes");
    tap_ok(apisec_store_shm_parse_size("64k", &n) == NULL && n == 65536,
           "size with k");
    tap_ok(apisec_store_shm_parse_size("2M", &n) == NULL && n == 2097152,
           "size with M");
    tap_ok(apisec_store_shm_parse_size("1G", &n) == NULL,
           "size of 1G is the maximum");
    tap_ok(apisec_store_shm_parse_size("2G", &n) != NULL, "size over 1G");
    tap_ok(apisec_store_shm_parse_size("1k", &n) != NULL, "size under 16K");
    tap_ok(apisec_store_shm_parse_size("12x", &n) != NULL, "size unit x");
    tap_ok(apisec_store_shm_parse_size("12kb", &n) != NULL, "size unit kb");
    tap_ok(apisec_store_shm_parse_size("", &n) != NULL, "size empty");
    tap_ok(apisec_store_shm_parse_size("-5", &n) != NULL, "size negative");
    tap_ok(apisec_store_shm_parse_size("99999999999999999999999", &n) != NULL,
           "size overflowing");
}

static void test_ops(apr_pool_t *p, apisec_store_t *s)
{
    unsigned char buf[APISEC_STORE_VALUE_MAX];
    char big[APISEC_STORE_VALUE_MAX + 1], longkey[10000];
    apr_size_t n;
    apr_uint64_t v = 0, cas = 0, cas2 = 0;

    tap_is_int(apisec_store_get(s, "k1", 2, buf, &n, NULL),
               APISEC_STORE_NOTFOUND, "get of an absent key is not found");
    tap_ok(!apisec_store_failed(APISEC_STORE_NOTFOUND),
           "not found is not a store failure");
    tap_ok(apisec_store_failed(APR_TIMEUP), "a timeout is a store failure");
    tap_is_int(put(s, "k1", "hello", 0), APR_SUCCESS, "set");
    tap_is_str(val(p, s, "k1"), "hello", "get returns what set stored");
    tap_is_int(put(s, "k1", "world", 0), APR_SUCCESS, "set replaces");
    tap_is_str(val(p, s, "k1"), "world", "get returns the replacement");
    tap_is_int(apisec_store_set(s, "k0", 2, "", 0, 0), APR_SUCCESS,
               "set of an empty value");
    tap_is_str(val(p, s, "k0"), "", "get of an empty value");

    tap_is_int(apisec_store_incr(s, "c", 1, 1, 10, 0, &v), APR_SUCCESS,
               "incr of an absent counter");
    tap_is_int(v, 10, "incr of an absent counter stores the initial value");
    apisec_store_incr(s, "c", 1, 5, 10, 0, &v);
    tap_is_int(v, 15, "incr adds the delta");
    tap_is_str(val(p, s, "c"), "15", "a counter reads as decimal text");
    tap_is_int(apisec_store_incr(s, "k1", 2, 1, 0, 0, &v), APR_EINVAL,
               "incr of a non-numeric value is refused");
    tap_is_int(apisec_store_incr_existing(s, "cx", 2, 1, &v),
               APISEC_STORE_NOTFOUND, "incr_existing of an absent counter");
    tap_is_int(apisec_store_get(s, "cx", 2, buf, &n, NULL),
               APISEC_STORE_NOTFOUND, "creates nothing");
    tap_ok(apisec_store_incr_existing(s, "c", 1, 0, &v) == APR_SUCCESS
               && v == 15,
           "incr_existing by 0 reads a counter");
    tap_ok(apisec_store_incr_existing(s, "c", 1, (apr_uint64_t)1 << 40, &v)
                   == APR_SUCCESS
               && v == ((apr_uint64_t)1 << 40) + 15,
           "incr_existing adds a 64-bit delta");
    tap_ok(apisec_store_decr(s, "c", 1, ((apr_uint64_t)1 << 40) + 5, &v)
                   == APR_SUCCESS
               && v == 10,
           "decr subtracts");
    tap_ok(apisec_store_decr(s, "c", 1, 11, &v) == APR_SUCCESS && v == 0,
           "decr stops at 0");
    tap_is_str(val(p, s, "c"), "0", "and stores it");
    tap_is_int(apisec_store_decr(s, "cx", 2, 1, &v), APISEC_STORE_NOTFOUND,
               "decr of an absent counter");
    tap_is_int(apisec_store_decr(s, "k1", 2, 1, &v), APR_EINVAL,
               "decr of a non-numeric value is refused");

    tap_is_int(apisec_store_cas(s, "a", 1, "1", 1, 0, 0), APR_SUCCESS,
               "cas 0 adds an absent key");
    tap_is_int(apisec_store_cas(s, "a", 1, "2", 1, 0, 0), APISEC_STORE_EXISTS,
               "cas 0 loses against a present key");
    apisec_store_get(s, "a", 1, buf, &n, &cas);
    tap_ok(cas != 0, "get returns a cas token");
    tap_is_int(apisec_store_cas(s, "a", 1, "3", 1, 0, cas), APR_SUCCESS,
               "cas with the current token stores");
    apisec_store_get(s, "a", 1, buf, &n, &cas2);
    tap_ok(cas2 != cas, "a store changes the token");
    tap_is_int(apisec_store_cas(s, "a", 1, "4", 1, 0, cas), APISEC_STORE_EXISTS,
               "cas with a stale token loses");
    tap_is_str(val(p, s, "a"), "3", "a lost cas leaves the value");
    tap_is_int(apisec_store_cas(s, "zz", 2, "4", 1, 0, cas),
               APISEC_STORE_NOTFOUND, "cas on an absent key is not found");

    tap_is_int(apisec_store_delete(s, "a", 1), APR_SUCCESS, "delete");
    tap_ok(val(p, s, "a") == NULL, "a deleted key is gone");
    tap_is_int(apisec_store_delete(s, "a", 1), APISEC_STORE_NOTFOUND,
               "delete of an absent key is not found");

    memset(big, 'x', sizeof(big));
    tap_is_int(apisec_store_set(s, "b", 1, big, sizeof(big), 0), APR_EINVAL,
               "a value over the maximum is refused");
    tap_is_int(apisec_store_set(s, "", 0, "x", 1, 0), APR_EINVAL,
               "an empty key is refused");
    memset(longkey, 'k', sizeof(longkey));
    tap_ok(
        apisec_store_set(s, longkey, sizeof(longkey), "L", 1, 0) == APR_SUCCESS
            && apisec_store_get(s, longkey, sizeof(longkey), buf, &n, NULL)
                   == APR_SUCCESS
            && apisec_store_get(s, longkey, sizeof(longkey) - 1, buf, &n, NULL)
                   == APISEC_STORE_NOTFOUND,
        "a 10000-byte key works and its prefix is another key");
    tap_is_int(apisec_store_set(s, "\0bin\xff", 5, "x", 1, 0), APR_SUCCESS,
               "a binary key is accepted");
    tap_is_int(apisec_store_get(s, "\0bin\xff", 4, buf, &n, NULL),
               APISEC_STORE_NOTFOUND, "a key's prefix is another key");
}

static void test_expiry(apr_pool_t *p, apisec_store_t *s)
{
    apr_uint64_t v = 0;

    fake_now = apr_time_from_sec(1000000);
    apisec_store_shm_set_clock(s, fake_clock);
    put(s, "e", "v", 10);
    fake_now += apr_time_from_sec(9);
    tap_is_str(val(p, s, "e"), "v", "an entry is live before its ttl");
    fake_now += apr_time_from_sec(1);
    tap_ok(val(p, s, "e") == NULL, "an entry is gone at its ttl");

    apisec_store_incr(s, "ce", 2, 1, 1, 10, &v);
    fake_now += apr_time_from_sec(5);
    apisec_store_incr(s, "ce", 2, 1, 1, 100, &v);
    tap_is_int(v, 2, "incr within the ttl counts on");
    fake_now += apr_time_from_sec(5);
    apisec_store_incr(s, "ce", 2, 1, 1, 10, &v);
    tap_is_int(v, 1, "incr keeps the first expiry, then starts over");
    tap_is_int(apisec_store_cas(s, "e", 1, "n", 1, 0, 0), APR_SUCCESS,
               "cas 0 adds over an expired entry");
}

static void test_reattach(apr_pool_t *p, void *base, apr_size_t size,
                          apr_global_mutex_t *m)
{
    apisec_store_t *s;
    int fresh = -1;

    tap_is_int(apisec_store_shm_attach(p, base, size, m, &fresh, &s),
               APR_SUCCESS, "reattach");
    tap_is_int(fresh, 0, "a valid table is kept on reattach");
    tap_is_str(val(p, s, "k1"), "world", "entries survive a reattach");
    tap_is_int(apisec_store_shm_attach(p, base, size - 4096, m, &fresh, &s),
               APR_SUCCESS, "attach with another size");
    tap_is_int(fresh, 1, "a size mismatch reinitialises");
    tap_ok(val(p, s, "k1") == NULL, "reinitialised table is empty");
    ((apr_uint32_t *)base)[0] ^= 1;
    apisec_store_shm_attach(p, base, size - 4096, m, &fresh, &s);
    tap_is_int(fresh, 1, "a bad magic reinitialises");
}

static void test_eviction(apr_pool_t *p, void *base, apr_global_mutex_t *m)
{
    apisec_store_t *s;
    apisec_store_shm_stats_t st;
    apr_uint64_t evictions;
    char key[32];
    int i, kept = 0;

    apisec_store_shm_attach(p, base, APISEC_STORE_SHM_MIN_SIZE, m, NULL, &s);
    apisec_store_shm_set_clock(s, fake_clock);
    fake_now = apr_time_from_sec(2000000);
    for (i = 0; i < 12; ++i) {
        apr_snprintf(key, sizeof(key), "long-%d", i);
        put(s, key, "L", 3600);
    }
    for (i = 0; i < 20000; ++i) {
        apr_snprintf(key, sizeof(key), "short-%d", i);
        put(s, key, "S", 10);
    }
    apisec_store_shm_stats(s, &st);
    tap_ok(st.live <= st.slots,
           "live entries never exceed the slots (%" APR_UINT64_T_FMT
           " of %" APR_UINT64_T_FMT ")",
           st.live, st.slots);
    tap_is_int(st.bytes, APISEC_STORE_SHM_MIN_SIZE,
               "memory is the segment's size");
    tap_ok(st.evictions >= 20000 - st.slots,
           "a full window evicts (%" APR_UINT64_T_FMT ")", st.evictions);
    for (i = 0; i < 12; ++i) {
        apr_snprintf(key, sizeof(key), "long-%d", i);
        kept += val(p, s, key) != NULL;
    }
    tap_is_int(kept, 12, "the entries expiring soonest are evicted first");

    fake_now += apr_time_from_sec(11);
    evictions = st.evictions;
    /* 22 live entries in 226 slots: a window of 8 all live, which would
     * evict, is a one-in-a-million draw of the random secret. */
    for (i = 0; i < 10; ++i) {
        apr_snprintf(key, sizeof(key), "new-%d", i);
        put(s, key, "N", 10);
    }
    apisec_store_shm_stats(s, &st);
    tap_is_int(st.evictions, evictions, "expired slots are reused first");
}

typedef enum { HAMMER_INCR, HAMMER_CAS, HAMMER_UPDATE } hammer_e;

static int add_one(void *baton, apr_time_t now, const unsigned char *old,
                   apr_size_t oldlen, unsigned char *nv, apr_size_t *nlen,
                   apr_uint32_t *ttl)
{
    unsigned n = 0;

    (void)baton;
    (void)now;
    if (old != NULL && oldlen == sizeof(n)) {
        memcpy(&n, old, sizeof(n));
    }
    ++n;
    memcpy(nv, &n, sizeof(n));
    *nlen = sizeof(n);
    *ttl = 0;
    return 1;
}

/* One increment of KEY by get + cas, retried until it wins. */
static int cas_incr(apisec_store_t *s, const char *key)
{
    unsigned char buf[APISEC_STORE_VALUE_MAX];
    apr_size_t n;
    apr_uint64_t cas;
    unsigned v;
    apr_status_t rv;

    for (;;) {
        rv = apisec_store_get(s, key, strlen(key), buf, &n, &cas);
        if (rv == APISEC_STORE_NOTFOUND) {
            v = 1;
            cas = 0;
        }
        else if (rv == APR_SUCCESS && n == sizeof(v)) {
            memcpy(&v, buf, sizeof(v));
            ++v;
        }
        else {
            return 0;
        }
        rv = apisec_store_cas(s, key, strlen(key), &v, sizeof(v), 0, cas);
        if (rv == APR_SUCCESS) {
            return 1;
        }
        if (apisec_store_failed(rv)) {
            return 0;
        }
    }
}

static int hammer_child(apisec_store_t *s, apr_global_mutex_t *m, apr_pool_t *p,
                        hammer_e how, int id)
{
    char key[16];
    apr_uint64_t v;
    int i;

    if (apr_global_mutex_child_init(&m, NULL, p) != APR_SUCCESS) {
        return 2;
    }
    for (i = 0; i < ROUNDS; ++i) {
        apr_snprintf(key, sizeof(key), "hot-%d", (i + id) % HOT_KEYS);
        if ((how == HAMMER_INCR
             && apisec_store_incr(s, key, strlen(key), 1, 1, 0, &v))
            || (how == HAMMER_CAS && !cas_incr(s, key))
            || (how == HAMMER_UPDATE
                && apisec_store_update(s, key, strlen(key), add_one, NULL))) {
            return 1;
        }
    }
    return 0;
}

static void test_processes(apr_pool_t *p, apisec_store_t *s,
                           apr_global_mutex_t *m, hammer_e how,
                           const char *name)
{
    pid_t pids[CHILDREN];
    int i, ok = 1, st, exact = 1;
    char key[16];
    unsigned char buf[APISEC_STORE_VALUE_MAX];
    apr_size_t n;

    apisec_store_shm_set_clock(s, NULL);
    for (i = 0; i < CHILDREN; ++i) {
        pids[i] = fork();
        if (pids[i] == 0) {
            _exit(hammer_child(s, m, p, how, i));
        }
        ok &= pids[i] > 0;
    }
    for (i = 0; i < CHILDREN; ++i) {
        if (pids[i] > 0) {
            ok &= waitpid(pids[i], &st, 0) == pids[i] && WIFEXITED(st)
                  && WEXITSTATUS(st) == 0;
        }
    }
    tap_ok(ok, "%d processes ran %s without a store error", CHILDREN, name);
    for (i = 0; i < HOT_KEYS; ++i) {
        apr_uint64_t total = 0;
        unsigned u;

        apr_snprintf(key, sizeof(key), "hot-%d", i);
        if (apisec_store_get(s, key, strlen(key), buf, &n, NULL)
            != APR_SUCCESS) {
            exact = 0;
            continue;
        }
        if (how == HAMMER_INCR) {
            buf[n] = '\0';
            total = apr_strtoi64((const char *)buf, NULL, 10);
        }
        else if (n == sizeof(u)) {
            memcpy(&u, buf, sizeof(u));
            total = u;
        }
        if (total != (apr_uint64_t)CHILDREN * ROUNDS / HOT_KEYS) {
            tap_diag("%s: %s is %" APR_UINT64_T_FMT, name, key, total);
            exact = 0;
        }
        apisec_store_delete(s, key, strlen(key));
    }
    tap_ok(exact, "%s totals are exact (%d per key)", name,
           CHILDREN * ROUNDS / HOT_KEYS);
}

int main(void)
{
    apr_pool_t *p;
    apr_shm_t *shm;
    apr_global_mutex_t *m;
    apisec_store_t *s = NULL;
    apr_size_t size = 256 * 1024;
    int fresh = -1;

    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&p, NULL);
    test_siphash();
    test_log_pace();
    test_parse_size();
    if (!tap_ok(apr_shm_create(&shm, size, NULL, p) == APR_SUCCESS,
                "anonymous shared memory")
        || !tap_ok(apr_global_mutex_create(&m, NULL, APR_LOCK_DEFAULT, p)
                       == APR_SUCCESS,
                   "global mutex")) {
        return tap_done();
    }
    tap_is_int(apisec_store_shm_attach(p, apr_shm_baseaddr_get(shm), size, m,
                                       &fresh, &s),
               APR_SUCCESS, "attach");
    tap_is_int(fresh, 1, "a new segment is initialised");
    tap_is_int(apisec_store_shm_attach(p, apr_shm_baseaddr_get(shm), 100, m,
                                       &fresh, &s),
               APR_EINVAL, "a segment under the minimum is refused");
    apisec_store_shm_attach(p, apr_shm_baseaddr_get(shm), size, m, NULL, &s);
    test_ops(p, s);
    test_reattach(p, apr_shm_baseaddr_get(shm), size, m);
    apisec_store_shm_attach(p, apr_shm_baseaddr_get(shm), size, m, NULL, &s);
    test_expiry(p, s);
    test_processes(p, s, m, HAMMER_INCR, "incr");
    test_processes(p, s, m, HAMMER_CAS, "get+cas");
    test_processes(p, s, m, HAMMER_UPDATE, "update");
    test_eviction(p, apr_shm_baseaddr_get(shm), m);
    apr_global_mutex_destroy(m);
    apr_shm_destroy(shm);
    apr_pool_destroy(p);
    return tap_done();
}
