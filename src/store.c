#include "store.h"

int apisec_store_failed(apr_status_t rv)
{
    return rv != APR_SUCCESS && rv != APISEC_STORE_NOTFOUND
           && rv != APISEC_STORE_EXISTS;
}

/* Checked here once, so that a caller bug shows as APR_EINVAL rather than
 * as an outage. */
static int key_ok(const void *key, apr_size_t klen)
{
    return key != NULL && klen > 0; /* no upper bound: backends hash */
}

static apr_status_t count(apisec_store_t *s, apr_status_t rv)
{
    ++s->stats.ops;
    if (apisec_store_failed(rv)) {
        ++s->stats.failures;
        s->stats.last_failure = rv;
    }
    return rv;
}

apr_status_t apisec_store_incr(apisec_store_t *s, const void *key,
                               apr_size_t klen, apr_uint64_t delta,
                               apr_uint64_t initial, apr_uint32_t ttl,
                               apr_uint64_t *value)
{
    if (!key_ok(key, klen) || value == NULL) {
        return APR_EINVAL;
    }
    return count(
        s, s->ops->incr(s->handle, key, klen, delta, initial, ttl, value));
}

static apr_status_t adjust(apisec_store_t *s, const void *key, apr_size_t klen,
                           apr_uint64_t delta, int down, apr_uint64_t *value)
{
    if (!key_ok(key, klen) || value == NULL) {
        return APR_EINVAL;
    }
    return count(s, s->ops->adjust(s->handle, key, klen, delta, down, value));
}

apr_status_t apisec_store_incr_existing(apisec_store_t *s, const void *key,
                                        apr_size_t klen, apr_uint64_t delta,
                                        apr_uint64_t *value)
{
    return adjust(s, key, klen, delta, 0, value);
}

apr_status_t apisec_store_decr(apisec_store_t *s, const void *key,
                               apr_size_t klen, apr_uint64_t delta,
                               apr_uint64_t *value)
{
    return adjust(s, key, klen, delta, 1, value);
}

apr_status_t apisec_store_get(apisec_store_t *s, const void *key,
                              apr_size_t klen, unsigned char *val,
                              apr_size_t *vlen, apr_uint64_t *cas)
{
    if (!key_ok(key, klen) || val == NULL || vlen == NULL) {
        return APR_EINVAL;
    }
    return count(s, s->ops->get(s->handle, key, klen, val, vlen, cas));
}

apr_status_t apisec_store_set(apisec_store_t *s, const void *key,
                              apr_size_t klen, const void *val, apr_size_t vlen,
                              apr_uint32_t ttl)
{
    if (!key_ok(key, klen) || (val == NULL && vlen > 0)
        || vlen > APISEC_STORE_VALUE_MAX) {
        return APR_EINVAL;
    }
    return count(s, s->ops->set(s->handle, key, klen, val, vlen, ttl));
}

apr_status_t apisec_store_cas(apisec_store_t *s, const void *key,
                              apr_size_t klen, const void *val, apr_size_t vlen,
                              apr_uint32_t ttl, apr_uint64_t cas)
{
    if (!key_ok(key, klen) || (val == NULL && vlen > 0)
        || vlen > APISEC_STORE_VALUE_MAX) {
        return APR_EINVAL;
    }
    return count(s, s->ops->cas(s->handle, key, klen, val, vlen, ttl, cas));
}

apr_status_t apisec_store_delete(apisec_store_t *s, const void *key,
                                 apr_size_t klen)
{
    if (!key_ok(key, klen)) {
        return APR_EINVAL;
    }
    return count(s, s->ops->del(s->handle, key, klen));
}

apr_status_t apisec_store_update(apisec_store_t *s, const void *key,
                                 apr_size_t klen, apisec_store_update_fn *fn,
                                 void *baton)
{
    if (s->ops->update == NULL) {
        return APR_ENOTIMPL;
    }
    if (!key_ok(key, klen) || fn == NULL) {
        return APR_EINVAL;
    }
    return count(s, s->ops->update(s->handle, key, klen, fn, baton));
}

int apisec_store_log_due(apisec_store_logpace_t *pace, apr_time_t now,
                         apr_interval_time_t interval, apr_uint64_t *suppressed)
{
    /* A clock that went backwards (now < last) logs again rather than
     * staying silent until the clock catches up. */
    if (pace->last_logged == 0 || now < pace->last_logged
        || now - pace->last_logged >= interval) {
        if (suppressed != NULL) {
            *suppressed = pace->suppressed;
        }
        pace->last_logged = now;
        pace->suppressed = 0;
        return 1;
    }
    ++pace->suppressed;
    return 0;
}
