#include "token_cache.h"

#include <apr_thread_mutex.h>
#include <openssl/evp.h>
#include <string.h>

#define WAYS 4

typedef struct {
    unsigned char digest[APISEC_TOKEN_DIGEST_LEN];
    const void *scope;
    apr_time_t expires;
    json_t *header; /* NULL: empty slot */
    json_t *claims;
} entry_t;

struct apisec_token_cache_t {
    entry_t *slots;
    unsigned sets; /* slots / WAYS */
    apr_thread_mutex_t *mutex;
    EVP_MD *sha256; /* fetched once: a fetch per digest costs as much as
                       hashing a token */
};

static apr_status_t release_all(void *data)
{
    apisec_token_cache_t *c = data;
    unsigned i;

    EVP_MD_free(c->sha256);
    c->sha256 = NULL;
    for (i = 0; i < c->sets * WAYS; ++i) {
        json_decref(c->slots[i].header);
        json_decref(c->slots[i].claims);
        c->slots[i].header = c->slots[i].claims = NULL;
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
    c->slots = apr_pcalloc(p, sizeof(entry_t) * c->sets * WAYS);
    if (apr_thread_mutex_create(&c->mutex, APR_THREAD_MUTEX_DEFAULT, p)
            != APR_SUCCESS
        || !(c->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL))) {
        return NULL;
    }
    apr_pool_cleanup_register(p, c, release_all, apr_pool_cleanup_null);
    return c;
}

int apisec_token_cache_digest(apisec_token_cache_t *c, const char *token,
                              apr_size_t len,
                              unsigned char digest[APISEC_TOKEN_DIGEST_LEN])
{
    unsigned int n = 0;

    return EVP_Digest(token, len, digest, &n, c->sha256, NULL) == 1
           && n == APISEC_TOKEN_DIGEST_LEN;
}

static entry_t *set_of(apisec_token_cache_t *c, const unsigned char *digest)
{
    unsigned h;

    /* The digest is uniform: its first bytes are as good as any hash. */
    memcpy(&h, digest, sizeof(h));
    return &c->slots[(h % c->sets) * WAYS];
}

static int matches(const entry_t *e, const unsigned char *digest,
                   const void *scope)
{
    return e->header && e->scope == scope
           && memcmp(e->digest, digest, APISEC_TOKEN_DIGEST_LEN) == 0;
}

int apisec_token_cache_get(apisec_token_cache_t *c,
                           const unsigned char digest[APISEC_TOKEN_DIGEST_LEN],
                           const void *scope, apr_time_t now, json_t **header,
                           json_t **claims)
{
    entry_t *set = set_of(c, digest);
    int i, hit = 0;

    apr_thread_mutex_lock(c->mutex);
    for (i = 0; i < WAYS; ++i) {
        if (matches(&set[i], digest, scope) && set[i].expires > now) {
            *header = json_incref(set[i].header);
            *claims = json_incref(set[i].claims);
            hit = 1;
            break;
        }
    }
    apr_thread_mutex_unlock(c->mutex);
    return hit;
}

void apisec_token_cache_put(apisec_token_cache_t *c,
                            const unsigned char digest[APISEC_TOKEN_DIGEST_LEN],
                            const void *scope, apr_time_t expires,
                            json_t *header, json_t *claims)
{
    entry_t *set = set_of(c, digest), *victim = NULL, old;
    apr_time_t now = apr_time_now();
    int i;

    apr_thread_mutex_lock(c->mutex);
    for (i = 0; i < WAYS && !victim; ++i) {
        if (matches(&set[i], digest, scope) || !set[i].header
            || set[i].expires <= now) {
            victim = &set[i];
        }
    }
    if (!victim) {
        /* The one whose token expires first has the least life left. */
        victim = &set[0];
        for (i = 1; i < WAYS; ++i) {
            if (set[i].expires < victim->expires) {
                victim = &set[i];
            }
        }
    }
    old = *victim;
    memcpy(victim->digest, digest, APISEC_TOKEN_DIGEST_LEN);
    victim->scope = scope;
    victim->expires = expires;
    victim->header = json_incref(header);
    victim->claims = json_incref(claims);
    apr_thread_mutex_unlock(c->mutex);
    /* Released outside the lock: freeing a tree is the slow part. */
    json_decref(old.header);
    json_decref(old.claims);
}

int apisec_token_cache_count(apisec_token_cache_t *c)
{
    unsigned i;
    int n = 0;

    apr_thread_mutex_lock(c->mutex);
    for (i = 0; i < c->sets * WAYS; ++i) {
        n += c->slots[i].header != NULL;
    }
    apr_thread_mutex_unlock(c->mutex);
    return n;
}
