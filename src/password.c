/* bcrypt and argon2id verification; see password.h. */
#include "password.h"

#include <apr_md5.h>
#include <apr_strings.h>
#include <argon2.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#define BCRYPT_MIN_COST 4
#define BCRYPT_MAX_COST 17
#define ARGON2_MAX_M (1024u * 1024u) /* KiB: 1 GiB */
#define ARGON2_MAX_T 64u
#define ARGON2_MAX_P 64u

typedef struct {
    int kind; /* 1 bcrypt, 2 argon2id */
    int cost;
    unsigned m, t, p;
    apr_size_t saltlen, hashlen; /* argon2id, decoded bytes */
} params_t;

/* Length of unpadded standard base64 text starting at S (up to '$'/end),
 * or 0 if it holds another character. */
static apr_size_t b64_run(const char *s, const char **end)
{
    const char *q = s;

    while ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z')
           || (*q >= '0' && *q <= '9') || *q == '+' || *q == '/') {
        ++q;
    }
    *end = q;
    return (apr_size_t)(q - s);
}

static int parse(const char *h, params_t *pp)
{
    memset(pp, 0, sizeof(*pp));
    if (!h) {
        return 0;
    }
    if ((!strncmp(h, "$2y$", 4) || !strncmp(h, "$2b$", 4))) {
        /* $2y$NN$ + 22 salt + 31 hash characters */
        if (strlen(h) != 60 || h[6] != '$' || h[4] < '0' || h[4] > '9'
            || h[5] < '0' || h[5] > '9') {
            return 0;
        }
        pp->kind = 1;
        pp->cost = (h[4] - '0') * 10 + (h[5] - '0');
        return pp->cost >= BCRYPT_MIN_COST && pp->cost <= BCRYPT_MAX_COST;
    }
    if (!strncmp(h, "$argon2id$v=19$", 15)) {
        const char *q = h + 15, *e;
        int n = 0;
        apr_size_t sl, hl;
        if (sscanf(q, "m=%u,t=%u,p=%u%n", &pp->m, &pp->t, &pp->p, &n) != 3
            || q[n] != '$') {
            return 0;
        }
        q += n + 1;
        sl = b64_run(q, &e);
        if (*e != '$') {
            return 0;
        }
        hl = b64_run(e + 1, &q);
        if (*q || !sl || !hl) {
            return 0;
        }
        pp->kind = 2;
        pp->saltlen = sl * 3 / 4;
        pp->hashlen = hl * 3 / 4;
        return pp->m >= 8 && pp->m <= ARGON2_MAX_M && pp->t >= 1
               && pp->t <= ARGON2_MAX_T && pp->p >= 1 && pp->p <= ARGON2_MAX_P
               && pp->saltlen >= 8 && pp->saltlen <= 64 && pp->hashlen >= 16
               && pp->hashlen <= 64;
    }
    return 0;
}

apisec_pw_result_e apisec_password_verify(const char *password, apr_size_t len,
                                          const char *hash)
{
    params_t pp;

    if (!parse(hash, &pp) || memchr(password, '\0', len)) {
        return APISEC_PW_UNSUPPORTED;
    }
    if (pp.kind == 1) {
        char h[61];
        memcpy(h, hash, 61);
        /* $2b$ is $2y$ under another name; APR's bcrypt knows only $2y$
         * and would pass $2b$ to crypt(3). */
        h[2] = 'y';
        return apr_password_validate(password, h) == APR_SUCCESS
                   ? APISEC_PW_OK
                   : APISEC_PW_MISMATCH;
    }
    return argon2id_verify(hash, password, len) == ARGON2_OK
               ? APISEC_PW_OK
               : APISEC_PW_MISMATCH;
}

const char *apisec_password_params(apr_pool_t *p, const char *hash)
{
    params_t pp;

    if (!parse(hash, &pp)) {
        return NULL;
    }
    if (pp.kind == 1) {
        return apr_psprintf(p, "$2y$%02d$", pp.cost);
    }
    return apr_psprintf(p, "$argon2id$v=19$m=%u,t=%u,p=%u$%lu$%lu", pp.m, pp.t,
                        pp.p, (unsigned long)pp.saltlen,
                        (unsigned long)pp.hashlen);
}

const char *apisec_password_dummy(apr_pool_t *p, const char *hash)
{
    params_t pp;
    unsigned char pw[24], salt[64];
    char pwtxt[49];
    int i;

    if (!parse(hash, &pp) || RAND_bytes(pw, sizeof(pw)) != 1
        || RAND_bytes(salt, sizeof(salt)) != 1) {
        return NULL;
    }
    for (i = 0; i < (int)sizeof(pw); ++i) {
        snprintf(pwtxt + 2 * i, 3, "%02x", pw[i]);
    }
    if (pp.kind == 1) {
        char out[61];
        if (apr_bcrypt_encode(pwtxt, (unsigned)pp.cost, salt, 16, out,
                              sizeof(out))
            != APR_SUCCESS) {
            return NULL;
        }
        return apr_pstrdup(p, out);
    }
    else {
        size_t n = argon2_encodedlen(pp.t, pp.m, pp.p, (uint32_t)pp.saltlen,
                                     (uint32_t)pp.hashlen, Argon2_id);
        char *out = apr_palloc(p, n);
        if (argon2id_hash_encoded(pp.t, pp.m, pp.p, pwtxt, strlen(pwtxt), salt,
                                  pp.saltlen, pp.hashlen, out, n)
            != ARGON2_OK) {
            return NULL;
        }
        return out;
    }
}
