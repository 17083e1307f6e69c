/* Verified-token cache: see token_cache.h. */
#include "token_cache.h"

#include <apr_general.h>
#include <apr_thread_mutex.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 4

/* Bytes of the token's end that pick its set: they lie in the signature
 * for every algorithm (the shortest, HS256, has 43), which differs between
 * any two tokens an issuer signs and which nobody without the signing key
 * can choose. */
#define HASHED_TAIL 32
#define CHUNKS (HASHED_TAIL / 4 + 1) /* 32-bit chunks and the length */

struct apisec_token_cache_t {
    apisec_token_entry_t **slots; /* NULL: empty */
    unsigned sets;                /* slots / WAYS */
    apr_thread_mutex_t *mutex;
    /* Random per process: which tokens share a set cannot be known
     * outside the process, so nobody can aim many tokens at one set. */
    apr_uint64_t a[CHUNKS], b;
};

static void entry_free(apisec_token_entry_t *e)
{
    unsigned i;

    for (i = 0; i < e->nmemos; ++i) {
        free(e->memos[i]);
    }
    json_decref(e->header);
    json_decref(e->claims);
    free(e);
}

void apisec_token_entry_release(apisec_token_entry_t *e)
{
    if (e && __atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        entry_free(e);
    }
}

static apisec_token_entry_t *hold(apisec_token_entry_t *e)
{
    __atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
    return e;
}

static apr_status_t release_all(void *data)
{
    apisec_token_cache_t *c = data;
    unsigned i;

    for (i = 0; i < c->sets * WAYS; ++i) {
        apisec_token_entry_release(c->slots[i]);
        c->slots[i] = NULL;
    }
    return APR_SUCCESS;
}

apisec_token_cache_t *apisec_token_cache_create(apr_pool_t *p, int entries)
{
    apisec_token_cache_t *c;

    if (entries < WAYS) {
        entries = WAYS;
    }
    c = apr_pcalloc(p, sizeof(*c));
    c->sets = (unsigned)(entries + WAYS - 1) / WAYS;
    c->slots = apr_pcalloc(p, sizeof(*c->slots) * c->sets * WAYS);
    if (apr_generate_random_bytes((unsigned char *)c->a, sizeof(c->a))
            != APR_SUCCESS
        || apr_generate_random_bytes((unsigned char *)&c->b, sizeof(c->b))
               != APR_SUCCESS
        || apr_thread_mutex_create(&c->mutex, APR_THREAD_MUTEX_DEFAULT, p)
               != APR_SUCCESS) {
        return NULL;
    }
    apr_pool_cleanup_register(p, c, release_all, apr_pool_cleanup_null);
    return c;
}

/* Vector multiply-shift hashing (Thorup, "High speed hashing for integers
 * and strings", 2015): strongly universal for random a[], b, and a few
 * multiplications where SipHash of the same bytes costs some hundred
 * instructions. It only picks the set; matches() decides. */
static apisec_token_entry_t **set_of(apisec_token_cache_t *c, const char *token,
                                     apr_size_t len)
{
    apr_uint32_t x[CHUNKS] = {0};
    apr_size_t n = len < HASHED_TAIL ? len : HASHED_TAIL;
    apr_uint64_t h = c->b;
    int i;

    memcpy(x, token + len - n, n);
    x[CHUNKS - 1] = (apr_uint32_t)len;
    for (i = 0; i < CHUNKS; ++i) {
        h += c->a[i] * x[i];
    }
    /* The high 32 bits are the hash; scaled to 0..sets-1 without a
     * division. */
    return &c->slots[((h >> 32) * c->sets >> 32) * WAYS];
}

static int matches(const apisec_token_entry_t *e, const char *token,
                   apr_size_t len, const void *scope)
{
    return e && e->len == len && e->scope == scope
           && memcmp(e->token, token, len) == 0;
}

apisec_token_entry_t *apisec_token_cache_get(apisec_token_cache_t *c,
                                             const char *token, apr_size_t len,
                                             const void *scope, apr_time_t now,
                                             apisec_token_memo_match_fn *match,
                                             const void *arg, const void **memo)
{
    apisec_token_entry_t **set = set_of(c, token, len), *e = NULL,
                         *stale = NULL;
    unsigned i, m;

    if (memo) {
        *memo = NULL;
    }
    apr_thread_mutex_lock(c->mutex);
    for (i = 0; i < WAYS; ++i) {
        if (!matches(set[i], token, len, scope)) {
            continue;
        }
        if (set[i]->expires <= now) {
            /* Gone with its token's exp: the slot is free again. */
            stale = set[i];
            set[i] = NULL;
            break;
        }
        e = hold(set[i]);
        for (m = 0; match && m < e->nmemos; ++m) {
            if (match(e->memos[m], arg)) {
                *memo = e->memos[m];
                break;
            }
        }
        break;
    }
    apr_thread_mutex_unlock(c->mutex);
    /* Freed outside the lock: freeing trees is the slow part. */
    apisec_token_entry_release(stale);
    return e;
}

apisec_token_entry_t *
apisec_token_cache_put(apisec_token_cache_t *c, const char *token,
                       apr_size_t len, const void *scope, apr_time_t expires,
                       json_t *header, json_t *claims,
                       const apisec_jwt_times_t *times, int alg)
{
    apisec_token_entry_t **set = set_of(c, token, len), **victim = NULL, *old,
                         *e;
    apr_time_t now = apr_time_now();
    int i;

    e = malloc(sizeof(*e) + len);
    if (!e) {
        return NULL;
    }
    memset(e, 0, sizeof(*e));
    e->header = json_incref(header);
    e->claims = json_incref(claims);
    e->times = *times;
    e->alg = alg;
    e->scope = scope;
    e->expires = expires;
    e->refs = 2; /* the cache's and the caller's */
    e->len = len;
    memcpy(e->token, token, len);
    e->token[len] = '\0';

    apr_thread_mutex_lock(c->mutex);
    for (i = 0; i < WAYS && !victim; ++i) {
        if (!set[i] || matches(set[i], token, len, scope)
            || set[i]->expires <= now) {
            victim = &set[i];
        }
    }
    if (!victim) {
        /* The one whose token expires first has the least life left. */
        victim = &set[0];
        for (i = 1; i < WAYS; ++i) {
            if (set[i]->expires < (*victim)->expires) {
                victim = &set[i];
            }
        }
    }
    old = *victim;
    *victim = e;
    apr_thread_mutex_unlock(c->mutex);
    apisec_token_entry_release(old);
    return e;
}

int apisec_token_entry_add_memo(apisec_token_cache_t *c,
                                apisec_token_entry_t *e, void *memo)
{
    int added = 0;

    apr_thread_mutex_lock(c->mutex);
    if (e->nmemos < APISEC_TOKEN_MEMOS) {
        e->memos[e->nmemos++] = memo;
        added = 1;
    }
    apr_thread_mutex_unlock(c->mutex);
    return added;
}

int apisec_token_cache_count(apisec_token_cache_t *c)
{
    unsigned i;
    int n = 0;

    apr_thread_mutex_lock(c->mutex);
    for (i = 0; i < c->sets * WAYS; ++i) {
        n += c->slots[i] != NULL;
    }
    apr_thread_mutex_unlock(c->mutex);
    return n;
}
