/* Refresh tokens: cookie parsing, records, the rotation decision; see
 * refresh.h. */
#include "refresh.h"
#include "b64url.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

int apisec_refresh_random(unsigned char *buf, apr_size_t len)
{
    return RAND_bytes(buf, (int)len) == 1;
}

char *
apisec_refresh_token_text(apr_pool_t *p,
                          const unsigned char raw[APISEC_REFRESH_TOKEN_LEN])
{
    return apisec_b64url_encode(p, raw, APISEC_REFRESH_TOKEN_LEN);
}

static int is_b64url(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Decodes 43 base64url characters to 32 bytes, canonical only (the last
 * character carries 4 bits, the other 2 must be zero). */
static int decode_token(const char *s, apr_size_t n,
                        unsigned char raw[APISEC_REFRESH_TOKEN_LEN])
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    apr_uint32_t acc = 0;
    int bits = 0;
    apr_size_t i, o = 0;

    if (n != APISEC_REFRESH_TOKEN_TEXT) {
        return 0;
    }
    for (i = 0; i < n; ++i) {
        const char *c;
        if (!is_b64url((unsigned char)s[i])
            || !(c = memchr(alphabet, s[i], 64))) {
            return 0;
        }
        acc = (acc << 6) | (apr_uint32_t)(c - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw[o++] = (unsigned char)(acc >> bits);
        }
    }
    return o == APISEC_REFRESH_TOKEN_LEN && (acc & ((1u << bits) - 1)) == 0;
}

apisec_refresh_cookie_e
apisec_refresh_parse_cookie(const char *header, const char *name,
                            unsigned char raw[APISEC_REFRESH_TOKEN_LEN])
{
    apr_size_t nlen = strlen(name);
    const char *q = header;
    int found = 0, bad = 0;

    if (!header) {
        return APISEC_REFRESH_NONE;
    }
    while (*q) {
        const char *end, *v;
        while (*q == ' ' || *q == '\t' || *q == ';') {
            ++q;
        }
        if (!*q) {
            break;
        }
        end = strchr(q, ';');
        if (!end) {
            end = q + strlen(q);
        }
        if ((apr_size_t)(end - q) > nlen && !strncmp(q, name, nlen)
            && q[nlen] == '=') {
            apr_size_t vlen;
            v = q + nlen + 1;
            vlen = (apr_size_t)(end - v);
            while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t')) {
                --vlen;
            }
            /* RFC 6265 allows the value in double quotes. */
            if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
                ++v;
                vlen -= 2;
            }
            if (found++ || !decode_token(v, vlen, raw)) {
                bad = 1;
            }
        }
        q = end;
    }
    if (bad) {
        memset(raw, 0, APISEC_REFRESH_TOKEN_LEN);
        return APISEC_REFRESH_BAD;
    }
    return found ? APISEC_REFRESH_FOUND : APISEC_REFRESH_NONE;
}

void apisec_refresh_hash(const unsigned char raw[APISEC_REFRESH_TOKEN_LEN],
                         unsigned char out[32])
{
    unsigned int n = 32;

    EVP_Digest(raw, APISEC_REFRESH_TOKEN_LEN, out, &n, EVP_sha256(), NULL);
}

static void put64(unsigned char *o, apr_uint64_t v)
{
    int i;

    for (i = 7; i >= 0; --i) {
        o[i] = (unsigned char)v;
        v >>= 8;
    }
}

static apr_uint64_t get64(const unsigned char *in)
{
    apr_uint64_t v = 0;
    int i;

    for (i = 0; i < 8; ++i) {
        v = (v << 8) | in[i];
    }
    return v;
}

void apisec_refresh_token_encode(
    const apisec_refresh_token_rec_t *t,
    unsigned char out[APISEC_REFRESH_TOKEN_REC_LEN])
{
    memcpy(out, t->family, APISEC_REFRESH_FAMILY_LEN);
    put64(out + APISEC_REFRESH_FAMILY_LEN, t->gen);
}

int apisec_refresh_token_decode(const unsigned char *in, apr_size_t len,
                                apisec_refresh_token_rec_t *t)
{
    if (len != APISEC_REFRESH_TOKEN_REC_LEN) {
        return 0;
    }
    memcpy(t->family, in, APISEC_REFRESH_FAMILY_LEN);
    t->gen = get64(in + APISEC_REFRESH_FAMILY_LEN);
    return 1;
}

void apisec_refresh_family_encode(
    const apisec_refresh_family_rec_t *f,
    unsigned char out[APISEC_REFRESH_FAMILY_REC_LEN])
{
    put64(out, f->gen);
    put64(out + 8, (apr_uint64_t)f->ver);
    out[16] = f->live ? 1 : 0;
    out[17] = (unsigned char)(f->user_len >> 8);
    out[18] = (unsigned char)f->user_len;
    memcpy(out + 19, f->id_hash, sizeof(f->id_hash));
}

int apisec_refresh_family_decode(const unsigned char *in, apr_size_t len,
                                 apisec_refresh_family_rec_t *f)
{
    if (len != APISEC_REFRESH_FAMILY_REC_LEN || in[16] > 1) {
        return 0;
    }
    f->gen = get64(in);
    f->ver = (apr_int64_t)get64(in + 8);
    f->live = in[16];
    f->user_len = ((apr_size_t)in[17] << 8) | in[18];
    memcpy(f->id_hash, in + 19, sizeof(f->id_hash));
    return f->user_len <= APISEC_REFRESH_USER_MAX;
}

void apisec_refresh_id_hash(const char *id, unsigned char out[12])
{
    unsigned char md[32];
    unsigned int n = sizeof(md);

    EVP_Digest(id, strlen(id), md, &n, EVP_sha256(), NULL);
    memcpy(out, md, 12);
}

apisec_refresh_decision_e
apisec_refresh_decide(const apisec_refresh_token_rec_t *t,
                      const apisec_refresh_family_rec_t *f)
{
    if (!f || !f->live) {
        return APISEC_REFRESH_DEAD;
    }
    if (t->gen != f->gen) {
        return APISEC_REFRESH_REUSE;
    }
    return APISEC_REFRESH_ROTATE;
}
