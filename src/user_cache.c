#include "user_cache.h"

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <string.h>

#define WAYS 4

/* A row is packed into DATA as: the user, NUL; then per column its name,
 * NUL, a byte 1 (value follows, NUL-terminated) or 0 (SQL NULL). */
typedef struct {
    const void *query;
    const void *server;
    apr_time_t fetched; /* 0: empty */
    apr_uint32_t hash;
    apr_uint16_t len;
    apr_uint16_t ncols;
    char data[APISEC_USER_CACHE_ROW_MAX];
} slot_t;

struct apisec_user_cache_t {
    slot_t *slots;
    unsigned sets;
    apr_thread_mutex_t *mutex;
};

apisec_user_cache_t *apisec_user_cache_create(apr_pool_t *p, int entries)
{
    apisec_user_cache_t *c = apr_pcalloc(p, sizeof(*c));

    if (entries < WAYS) {
        entries = WAYS;
    }
    c->sets = (unsigned)(entries + WAYS - 1) / WAYS;
    c->slots = apr_pcalloc(p, sizeof(slot_t) * c->sets * WAYS);
    if (apr_thread_mutex_create(&c->mutex, APR_THREAD_MUTEX_DEFAULT, p)
        != APR_SUCCESS) {
        return NULL;
    }
    return c;
}

/* FNV-1a over the user, mixed with the two scope addresses. The user is
 * the subject of a verified token, so nobody but the issuer picks it. */
static apr_uint32_t hash_of(const void *query, const void *server,
                            const char *user)
{
    apr_uint32_t h = 2166136261u;
    apr_uintptr_t a = (apr_uintptr_t)query ^ ((apr_uintptr_t)server << 7);
    const unsigned char *s;

    for (s = (const unsigned char *)user; *s; ++s) {
        h = (h ^ *s) * 16777619u;
    }
    h ^= (apr_uint32_t)(a ^ (a >> 29));
    return h * 16777619u;
}

static int same_key(const slot_t *e, const void *query, const void *server,
                    apr_uint32_t h, const char *user)
{
    return e->fetched && e->hash == h && e->query == query
           && e->server == server && !strcmp(e->data, user);
}

static int unpack(const slot_t *e, apr_pool_t *p, apisec_user_row_t **out)
{
    apisec_user_row_t *row = apr_palloc(p, sizeof(*row));
    char *d = apr_pmemdup(p, e->data, e->len), *end = d + e->len;
    int i;

    row->ncols = e->ncols;
    row->names = apr_palloc(p, sizeof(char *) * (e->ncols + 1));
    row->values = apr_palloc(p, sizeof(char *) * (e->ncols + 1));
    d += strlen(d) + 1; /* the user */
    for (i = 0; i < e->ncols; ++i) {
        if (d >= end) {
            return 0;
        }
        row->names[i] = d;
        d += strlen(d) + 1;
        if (d >= end) {
            return 0;
        }
        if (*d++) {
            row->values[i] = d;
            d += strlen(d) + 1;
        }
        else {
            row->values[i] = NULL;
        }
    }
    *out = row;
    return 1;
}

int apisec_user_cache_get(apisec_user_cache_t *c, const void *query,
                          const void *server, const char *user, apr_time_t now,
                          apr_interval_time_t ttl, apr_pool_t *p,
                          apisec_user_row_t **row)
{
    apr_uint32_t h = hash_of(query, server, user);
    slot_t *set = &c->slots[(h % c->sets) * WAYS];
    int i, hit = 0;

    if (ttl <= 0) {
        return 0;
    }
    apr_thread_mutex_lock(c->mutex);
    for (i = 0; i < WAYS; ++i) {
        slot_t *e = &set[i];
        if (same_key(e, query, server, h, user)) {
            hit = e->fetched <= now && now - e->fetched < ttl
                  && unpack(e, p, row);
            break;
        }
    }
    apr_thread_mutex_unlock(c->mutex);
    return hit;
}

/* Packs ROW after USER into BUF; the length, or 0 when it does not fit. */
static apr_size_t pack(char *buf, const char *user,
                       const apisec_user_row_t *row)
{
    apr_size_t len = 0, n;
    int i;

#define PUT(s)                                                                 \
    do {                                                                       \
        n = strlen(s) + 1;                                                     \
        if (len + n > APISEC_USER_CACHE_ROW_MAX) {                             \
            return 0;                                                          \
        }                                                                      \
        memcpy(buf + len, (s), n);                                             \
        len += n;                                                              \
    } while (0)

    PUT(user);
    for (i = 0; i < row->ncols; ++i) {
        PUT(row->names[i] ? row->names[i] : "");
        if (len + 1 > APISEC_USER_CACHE_ROW_MAX) {
            return 0;
        }
        buf[len++] = row->values[i] ? 1 : 0;
        if (row->values[i]) {
            PUT(row->values[i]);
        }
    }
#undef PUT
    return len;
}

int apisec_user_cache_put(apisec_user_cache_t *c, const void *query,
                          const void *server, const char *user,
                          apr_time_t fetched, const apisec_user_row_t *row)
{
    apr_uint32_t h = hash_of(query, server, user);
    slot_t *set = &c->slots[(h % c->sets) * WAYS], *victim = NULL;
    char buf[APISEC_USER_CACHE_ROW_MAX];
    apr_size_t len;
    int i;

    if (row->ncols > 0xffff) {
        len = 0;
    }
    else {
        len = pack(buf, user, row);
    }
    apr_thread_mutex_lock(c->mutex);
    for (i = 0; i < WAYS; ++i) {
        slot_t *e = &set[i];
        if (same_key(e, query, server, h, user)) {
            victim = e;
            break;
        }
        if (!victim || (victim->fetched && e->fetched < victim->fetched)) {
            victim = e;
        }
    }
    if (!len) {
        /* Too large to keep: an older row of the same key must not stay
         * behind it. */
        if (same_key(victim, query, server, h, user)) {
            victim->fetched = 0;
        }
    }
    else {
        victim->query = query;
        victim->server = server;
        victim->hash = h;
        victim->fetched = fetched > 0 ? fetched : 1;
        victim->len = (apr_uint16_t)len;
        victim->ncols = (apr_uint16_t)row->ncols;
        memcpy(victim->data, buf, len);
    }
    apr_thread_mutex_unlock(c->mutex);
    return len > 0;
}

int apisec_user_cache_count(apisec_user_cache_t *c)
{
    unsigned i;
    int n = 0;

    apr_thread_mutex_lock(c->mutex);
    for (i = 0; i < c->sets * WAYS; ++i) {
        n += c->slots[i].fetched != 0;
    }
    apr_thread_mutex_unlock(c->mutex);
    return n;
}
