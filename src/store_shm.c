/* Shared-memory table behind the store interface.
 *
 * Locking: one apr_global_mutex for the whole table. Every operation holds
 * it for a scan of at most PROBE slots and a copy of at most 32 bytes: no
 * system call, no allocation, a few hundred nanoseconds. At that length one
 * lock is not what limits httpd (a request costs ~45 us), while stripes
 * would need several mutexes the glue must create and reattach, and atomics
 * alone cannot update a slot's hash, expiry and value together. Linux's
 * default process mutex (pthread, robust in APR 1.7) is released when a
 * process dies holding it, so a crashed child does not wedge the others. */
#include "store_shm.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <string.h>

#define SHM_MAGIC 0x61706973u /* "apis" */
#define SHM_VERSION 2u
#define PROBE APISEC_STORE_SHM_PROBE

typedef struct {
    apr_uint32_t magic;
    apr_uint32_t version;
    apr_uint64_t size;
    apr_uint64_t nslots;
    unsigned char secret[16];
    apr_uint64_t cas_seq;
    apr_uint64_t evictions;
    apr_uint64_t reserved; /* keeps the header at 64 bytes */
} shm_header_t;

/* 64 bytes, one cache line (the slots start on a line): a lookup of a key
 * at its home slot reads one line. TAG packs the compare-and-swap token
 * (56 bits, from 1) above the value's length (8 bits); 0 marks an empty
 * slot. */
typedef struct {
    apr_uint64_t hash[2];
    apr_time_t expires; /* 0: no expiry */
    apr_uint64_t tag;
    unsigned char val[APISEC_STORE_VALUE_MAX];
} shm_slot_t;

/* A slot that grew past a line would double the lines a lookup reads. */
typedef char apisec_shm_slot_is_one_line[sizeof(shm_slot_t) == 64 ? 1 : -1];

#define SLOT_ALIGN 64
#define CAS_MASK (((apr_uint64_t)1 << 56) - 1)
#define SLOT_CAS(s) ((s)->tag >> 8)
#define SLOT_VLEN(s) ((apr_size_t)((s)->tag & 0xff))

typedef struct {
    shm_header_t *hdr;
    shm_slot_t *slots;
    apr_global_mutex_t *mutex;
    apisec_store_clock_fn *clock;
} shm_store_t;

/* ---- SipHash-2-4-128 (Aumasson and Bernstein), written from the paper ---- */

#define ROTL(x, b) (apr_uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

/* Little-endian 8 bytes. On a little-endian machine one unaligned load
 * (memcpy, which compilers turn into a mov): the hash runs on every
 * request, and the byte loop was most of its cost. */
static apr_uint64_t load64(const unsigned char *p)
{
    apr_uint64_t v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&v, p, 8);
#else
    int i;

    for (i = 7; i >= 0; --i) {
        v = (v << 8) | p[i];
    }
#endif
    return v;
}

static void store64(unsigned char *p, apr_uint64_t v)
{
    int i;

    for (i = 0; i < 8; ++i) {
        p[i] = (unsigned char)(v >> (8 * i));
    }
}

/* One SipRound on four locals: a macro, so that the rounds unroll into
 * straight-line code on registers (as a function over an array with a
 * round count, each round also paid a loop and memory traffic). */
#define SIPROUND                                                               \
    do {                                                                       \
        v0 += v1;                                                              \
        v1 = ROTL(v1, 13);                                                     \
        v1 ^= v0;                                                              \
        v0 = ROTL(v0, 32);                                                     \
        v2 += v3;                                                              \
        v3 = ROTL(v3, 16);                                                     \
        v3 ^= v2;                                                              \
        v0 += v3;                                                              \
        v3 = ROTL(v3, 21);                                                     \
        v3 ^= v0;                                                              \
        v2 += v1;                                                              \
        v1 = ROTL(v1, 17);                                                     \
        v1 ^= v2;                                                              \
        v2 = ROTL(v2, 32);                                                     \
    } while (0)

void apisec_store_shm_hash128_words(const unsigned char key[16],
                                    const void *data, apr_size_t len,
                                    apr_uint64_t out[2])
{
    const unsigned char *m = data;
    apr_uint64_t k0 = load64(key), k1 = load64(key + 8), b, w;
    apr_uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
    apr_uint64_t v1 = k1 ^ 0x646f72616e646f6dULL ^ 0xee;
    apr_uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
    apr_uint64_t v3 = k1 ^ 0x7465646279746573ULL;
    apr_size_t i, tail = len & 7;

    for (i = 0; i + 8 <= len; i += 8) {
        w = load64(m + i);
        v3 ^= w;
        SIPROUND;
        SIPROUND;
        v0 ^= w;
    }
    b = (apr_uint64_t)(len & 0xff) << 56;
    for (i = 0; i < tail; ++i) {
        b |= (apr_uint64_t)m[len - tail + i] << (8 * i);
    }
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xee;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    out[0] = v0 ^ v1 ^ v2 ^ v3;
    v1 ^= 0xdd;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    out[1] = v0 ^ v1 ^ v2 ^ v3;
}

void apisec_store_shm_hash128(const unsigned char key[16], const void *data,
                              apr_size_t len, unsigned char out[16])
{
    apr_uint64_t h[2];

    apisec_store_shm_hash128_words(key, data, len, h);
    store64(out, h[0]);
    store64(out + 8, h[1]);
}

/* ---- table ---- */

static void key_hash(const shm_store_t *st, const void *key, apr_size_t klen,
                     apr_uint64_t h[2])
{
    apisec_store_shm_hash128_words(st->hdr->secret, key, klen, h);
}

static int live(const shm_slot_t *s, apr_time_t now)
{
    return s->tag != 0 && (s->expires == 0 || s->expires > now);
}

/* The home slot: the hash scaled to 0..nslots-1 by a multiply (Lemire's
 * reduction), not a division, which costs tens of cycles. */
static apr_uint64_t home_of(const shm_store_t *st, const apr_uint64_t h[2])
{
    __extension__ typedef unsigned __int128 u128_t;

    return (apr_uint64_t)(((u128_t)h[0] * st->hdr->nslots) >> 64);
}

/* Slot I (0..PROBE-1) of the window that starts at HOME, wrapping. */
static shm_slot_t *window_slot(shm_store_t *st, apr_uint64_t home, int i)
{
    apr_uint64_t j = home + (apr_uint64_t)i;

    return &st->slots[j >= st->hdr->nslots ? j - st->hdr->nslots : j];
}

static shm_slot_t *find(shm_store_t *st, const apr_uint64_t h[2],
                        apr_time_t now)
{
    apr_uint64_t home = home_of(st, h);
    int i;

    for (i = 0; i < PROBE; ++i) {
        shm_slot_t *s = window_slot(st, home, i);
        if (s->hash[0] == h[0] && s->hash[1] == h[1] && live(s, now)) {
            return s;
        }
    }
    return NULL;
}

/* Where a key not live in its window goes: the first empty or expired
 * slot, else the live one that expires soonest (no expiry counts as
 * latest), which is evicted. */
static shm_slot_t *place(shm_store_t *st, const apr_uint64_t h[2],
                         apr_time_t now)
{
    shm_slot_t *victim = NULL;
    apr_uint64_t home = home_of(st, h);
    int i;

    for (i = 0; i < PROBE; ++i) {
        shm_slot_t *s = window_slot(st, home, i);
        if (!live(s, now)) {
            return s;
        }
        if (victim == NULL
            || (s->expires != 0
                && (victim->expires == 0 || s->expires < victim->expires))) {
            victim = s;
        }
    }
    ++st->hdr->evictions;
    return victim;
}

static apr_time_t expiry(apr_time_t now, apr_uint32_t ttl)
{
    return ttl == 0 ? 0 : now + apr_time_from_sec((apr_time_t)ttl);
}

static void write_slot(shm_store_t *st, shm_slot_t *s, const apr_uint64_t h[2],
                       const void *val, apr_size_t vlen, apr_time_t expires)
{
    apr_uint64_t cas;

    s->hash[0] = h[0];
    s->hash[1] = h[1];
    s->expires = expires;
    if (vlen > 0) {
        memcpy(s->val, val, vlen);
    }
    cas = ++st->hdr->cas_seq & CAS_MASK;
    if (cas == 0) { /* 2^56 writes later; 0 means empty */
        cas = ++st->hdr->cas_seq & CAS_MASK;
    }
    s->tag = cas << 8 | (apr_uint64_t)vlen;
}

static apr_status_t lock(shm_store_t *st)
{
    return apr_global_mutex_lock(st->mutex);
}

static apr_status_t unlock(shm_store_t *st, apr_status_t rv)
{
    apr_status_t urv = apr_global_mutex_unlock(st->mutex);

    return rv == APR_SUCCESS && urv != APR_SUCCESS ? urv : rv;
}

/* The start of every operation: the key's hash, the lock, and the clock
 * read under it (so one key's operations see times in the order they ran),
 * and the key's live slot or NULL in *FOUND. On failure the lock is not
 * held. */
static apr_status_t enter(shm_store_t *st, const void *key, apr_size_t klen,
                          apr_uint64_t hh[2], apr_time_t *now,
                          shm_slot_t **found)
{
    apr_status_t rv;

    key_hash(st, key, klen, hh);
#if defined(__GNUC__)
    /* The key's home line is seldom in cache (a busy server touches a lot
     * of memory between two requests of one client): its load starts now
     * and overlaps the lock's, instead of following it. */
    __builtin_prefetch(window_slot(st, home_of(st, hh), 0), 1);
#endif
    if ((rv = lock(st)) != APR_SUCCESS) {
        return rv;
    }
    *now = st->clock();
    *found = find(st, hh, *now);
    return APR_SUCCESS;
}

/* ---- operations ---- */

/* Counters are decimal text, as in memcached, so get() reads the same bytes
 * from either backend. */
static int parse_counter(const shm_slot_t *s, apr_uint64_t *v)
{
    apr_uint64_t n = 0;
    apr_size_t i, vlen = SLOT_VLEN(s);

    if (vlen == 0 || vlen > 20) {
        return 0;
    }
    for (i = 0; i < vlen; ++i) {
        unsigned d = (unsigned)(s->val[i] - '0');
        if (d > 9 || n > (APR_UINT64_MAX - d) / 10) {
            return 0;
        }
        n = n * 10 + d;
    }
    *v = n;
    return 1;
}

static apr_status_t shm_incr(void *h, const void *key, apr_size_t klen,
                             apr_uint64_t delta, apr_uint64_t initial,
                             apr_uint32_t ttl, apr_uint64_t *value)
{
    shm_store_t *st = h;
    apr_time_t now;
    apr_uint64_t hh[2], v;
    shm_slot_t *s;
    apr_time_t expires;
    char buf[24];
    apr_status_t rv;

    if ((rv = enter(st, key, klen, hh, &now, &s)) != APR_SUCCESS) {
        return rv;
    }
    if (s != NULL) {
        if (!parse_counter(s, &v)) {
            return unlock(st, APR_EINVAL);
        }
        v += delta; /* wraps at 2^64 like memcached */
        expires = s->expires;
    }
    else {
        s = place(st, hh, now);
        v = initial;
        expires = expiry(now, ttl);
    }
    apr_snprintf(buf, sizeof(buf), "%" APR_UINT64_T_FMT, v);
    write_slot(st, s, hh, buf, strlen(buf), expires);
    *value = v;
    return unlock(st, APR_SUCCESS);
}

static apr_status_t shm_adjust(void *h, const void *key, apr_size_t klen,
                               apr_uint64_t delta, int down,
                               apr_uint64_t *value)
{
    shm_store_t *st = h;
    apr_time_t now;
    apr_uint64_t hh[2], v;
    shm_slot_t *s;
    char buf[24];
    apr_status_t rv;

    if ((rv = enter(st, key, klen, hh, &now, &s)) != APR_SUCCESS) {
        return rv;
    }
    if (s == NULL) {
        return unlock(st, APISEC_STORE_NOTFOUND);
    }
    if (!parse_counter(s, &v)) {
        return unlock(st, APR_EINVAL);
    }
    v = down ? (v > delta ? v - delta : 0) : v + delta;
    apr_snprintf(buf, sizeof(buf), "%" APR_UINT64_T_FMT, v);
    write_slot(st, s, hh, buf, strlen(buf), s->expires);
    *value = v;
    return unlock(st, APR_SUCCESS);
}

static apr_status_t shm_get(void *h, const void *key, apr_size_t klen,
                            unsigned char *val, apr_size_t *vlen,
                            apr_uint64_t *cas)
{
    shm_store_t *st = h;
    apr_time_t now;
    apr_uint64_t hh[2];
    shm_slot_t *s;
    apr_status_t rv;

    if ((rv = enter(st, key, klen, hh, &now, &s)) != APR_SUCCESS) {
        return rv;
    }
    if (s == NULL) {
        return unlock(st, APISEC_STORE_NOTFOUND);
    }
    memcpy(val, s->val, SLOT_VLEN(s));
    *vlen = SLOT_VLEN(s);
    if (cas != NULL) {
        *cas = SLOT_CAS(s);
    }
    return unlock(st, APR_SUCCESS);
}

static apr_status_t shm_set(void *h, const void *key, apr_size_t klen,
                            const void *val, apr_size_t vlen, apr_uint32_t ttl)
{
    shm_store_t *st = h;
    apr_time_t now;
    apr_uint64_t hh[2];
    shm_slot_t *s;
    apr_status_t rv;

    if ((rv = enter(st, key, klen, hh, &now, &s)) != APR_SUCCESS) {
        return rv;
    }
    if (s == NULL) {
        s = place(st, hh, now);
    }
    write_slot(st, s, hh, val, vlen, expiry(now, ttl));
    return unlock(st, APR_SUCCESS);
}

static apr_status_t shm_cas(void *h, const void *key, apr_size_t klen,
                            const void *val, apr_size_t vlen, apr_uint32_t ttl,
                            apr_uint64_t cas)
{
    shm_store_t *st = h;
    apr_time_t now;
    apr_uint64_t hh[2];
    shm_slot_t *s;
    apr_status_t rv;

    if ((rv = enter(st, key, klen, hh, &now, &s)) != APR_SUCCESS) {
        return rv;
    }
    if (cas == 0) {
        if (s != NULL) {
            return unlock(st, APISEC_STORE_EXISTS);
        }
        s = place(st, hh, now);
    }
    else if (s == NULL) {
        return unlock(st, APISEC_STORE_NOTFOUND);
    }
    else if (SLOT_CAS(s) != cas) {
        return unlock(st, APISEC_STORE_EXISTS);
    }
    write_slot(st, s, hh, val, vlen, expiry(now, ttl));
    return unlock(st, APR_SUCCESS);
}

static apr_status_t shm_del(void *h, const void *key, apr_size_t klen)
{
    shm_store_t *st = h;
    apr_time_t now;
    apr_uint64_t hh[2];
    shm_slot_t *s;
    apr_status_t rv;

    if ((rv = enter(st, key, klen, hh, &now, &s)) != APR_SUCCESS) {
        return rv;
    }
    if (s == NULL) {
        return unlock(st, APISEC_STORE_NOTFOUND);
    }
    memset(s, 0, sizeof(*s));
    return unlock(st, APR_SUCCESS);
}

static apr_status_t shm_update(void *h, const void *key, apr_size_t klen,
                               apisec_store_update_fn *fn, void *baton)
{
    shm_store_t *st = h;
    apr_time_t now;
    apr_uint64_t hh[2];
    unsigned char nv[APISEC_STORE_VALUE_MAX];
    apr_size_t nlen = 0;
    apr_uint32_t ttl = 0;
    shm_slot_t *s;
    apr_status_t rv;

    if ((rv = enter(st, key, klen, hh, &now, &s)) != APR_SUCCESS) {
        return rv;
    }
    if (fn(baton, now, s ? s->val : NULL, s ? SLOT_VLEN(s) : 0, nv, &nlen,
           &ttl)) {
        if (nlen > APISEC_STORE_VALUE_MAX) {
            return unlock(st, APR_EINVAL);
        }
        if (s == NULL) {
            s = place(st, hh, now);
        }
        write_slot(st, s, hh, nv, nlen, expiry(now, ttl));
    }
    return unlock(st, APR_SUCCESS);
}

static const apisec_store_ops_t shm_ops = {"shm",      shm_incr,  shm_get,
                                           shm_set,    shm_cas,   shm_del,
                                           shm_update, shm_adjust};

/* ---- segment ---- */

/* The slots start at the first cache line after the header (apr_shm's
 * base is not line-aligned); every process maps the segment at the same
 * address (children inherit it), so all agree on where. */
static shm_slot_t *slots_of(shm_header_t *hdr)
{
    apr_uintptr_t a = (apr_uintptr_t)(hdr + 1);

    return (shm_slot_t *)((a + SLOT_ALIGN - 1) & ~(apr_uintptr_t)(SLOT_ALIGN - 1));
}

static apr_uint64_t slot_count(shm_header_t *hdr, apr_size_t size)
{
    apr_size_t used = (apr_size_t)((char *)slots_of(hdr) - (char *)hdr);

    return (size - used) / sizeof(shm_slot_t);
}

static apr_status_t init_table(shm_header_t *hdr, apr_size_t size)
{
    apr_status_t rv;

    memset(hdr, 0, size);
    rv = apr_generate_random_bytes(hdr->secret, sizeof(hdr->secret));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    hdr->size = size;
    hdr->nslots = slot_count(hdr, size);
    hdr->version = SHM_VERSION;
    hdr->magic = SHM_MAGIC; /* last: a half-made table is never "valid" */
    return APR_SUCCESS;
}

apr_status_t apisec_store_shm_attach(apr_pool_t *p, void *base, apr_size_t size,
                                     apr_global_mutex_t *mutex, int *fresh,
                                     apisec_store_t **store)
{
    shm_header_t *hdr = base;
    shm_store_t *st;
    apisec_store_t *s;
    int init;
    apr_status_t rv;

    if (base == NULL || mutex == NULL || size < APISEC_STORE_SHM_MIN_SIZE
        || size > APISEC_STORE_SHM_MAX_SIZE) {
        return APR_EINVAL;
    }
    if ((rv = apr_global_mutex_lock(mutex)) != APR_SUCCESS) {
        return rv;
    }
    init = hdr->magic != SHM_MAGIC || hdr->version != SHM_VERSION
           || hdr->size != size
           || hdr->nslots != slot_count(hdr, size);
    rv = init ? init_table(hdr, size) : APR_SUCCESS;
    apr_global_mutex_unlock(mutex);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    st = apr_pcalloc(p, sizeof(*st));
    st->hdr = hdr;
    st->slots = slots_of(hdr);
    st->mutex = mutex;
    st->clock = apr_time_now;
    s = apr_pcalloc(p, sizeof(*s));
    s->ops = &shm_ops;
    s->handle = st;
    *store = s;
    if (fresh != NULL) {
        *fresh = init;
    }
    return APR_SUCCESS;
}

void apisec_store_shm_set_clock(apisec_store_t *store,
                                apisec_store_clock_fn *now_fn)
{
    ((shm_store_t *)store->handle)->clock = now_fn ? now_fn : apr_time_now;
}

apr_status_t apisec_store_shm_stats(apisec_store_t *store,
                                    apisec_store_shm_stats_t *stats)
{
    shm_store_t *st = store->handle;
    apr_time_t now = st->clock();
    apr_uint64_t i, n = 0;
    apr_status_t rv;

    if ((rv = lock(st)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < st->hdr->nslots; ++i) {
        n += live(&st->slots[i], now) ? 1 : 0;
    }
    stats->slots = st->hdr->nslots;
    stats->live = n;
    stats->evictions = st->hdr->evictions;
    stats->bytes = (apr_size_t)st->hdr->size;
    return unlock(st, APR_SUCCESS);
}

const char *apisec_store_shm_parse_size(const char *arg, apr_size_t *size)
{
    apr_uint64_t n = 0, mult = 1;
    const char *s = arg;

    if (!apr_isdigit(*s)) {
        return "the size must be a number of bytes, optionally with K, M or G";
    }
    for (; apr_isdigit(*s); ++s) {
        n = n * 10 + (apr_uint64_t)(*s - '0');
        if (n > APISEC_STORE_SHM_MAX_SIZE) {
            return "the size must be at most 1G";
        }
    }
    switch (apr_toupper(*s)) {
    case '\0':
        break;
    case 'K':
        mult = 1024;
        break;
    case 'M':
        mult = (apr_uint64_t)1024 * 1024;
        break;
    case 'G':
        mult = (apr_uint64_t)1024 * 1024 * 1024;
        break;
    default:
        return "the size must be a number of bytes, optionally with K, M or G";
    }
    if (*s != '\0' && s[1] != '\0') {
        return "the size must be a number of bytes, optionally with K, M or G";
    }
    if (n * mult > APISEC_STORE_SHM_MAX_SIZE) {
        return "the size must be at most 1G";
    }
    if (n * mult < APISEC_STORE_SHM_MIN_SIZE) {
        return "the size must be at least 16K";
    }
    *size = (apr_size_t)(n * mult);
    return NULL;
}
