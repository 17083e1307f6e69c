/* Strict base64url: see b64url.h.
 *
 * OpenSSL's EVP_DecodeBlock does the arithmetic, but it is a lenient MIME
 * decoder: it skips leading and trailing whitespace, understands only the
 * '+' '/' alphabet, wants '=' padding to a multiple of four, and never looks
 * at the unused low bits of the last character. So this file checks by hand,
 * before handing anything to OpenSSL:
 *   - every character is in the base64url alphabet (rejects '+', '/', '=',
 *     whitespace, NUL and everything else);
 *   - the length modulo 4 is not 1 (no byte string encodes to that);
 *   - the unused bits of the last character are zero (RFC 4648 section 3.5:
 *     otherwise "AB" and "AA" would both decode to one zero byte);
 * then translates to the standard alphabet, fills the last quantum with 'A'
 * (zero bits, which the check above guarantees are all we drop) and cuts
 * the output back to its true length. */
#include "b64url.h"

#include <string.h>
#include <openssl/evp.h>

/* Value of a base64url character, or -1. */
static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

/* The by-hand checks described at the top of the file. */
static int canonical(const char *in, apr_size_t inlen)
{
    apr_size_t i;
    int last = 0;

    if (inlen % 4 == 1) {
        return 0;
    }
    for (i = 0; i < inlen; i++) {
        last = b64url_value((unsigned char)in[i]);
        if (last < 0) {
            return 0;
        }
    }
    switch (inlen % 4) {
    case 2: /* 12 bits carry 8: the low 4 must be zero */
        return (last & 0x0f) == 0;
    case 3: /* 18 bits carry 16: the low 2 must be zero */
        return (last & 0x03) == 0;
    default:
        return 1;
    }
}

apr_status_t apisec_b64url_decode(apr_pool_t *p, const char *in,
                                  apr_size_t inlen, unsigned char **out,
                                  apr_size_t *outlen)
{
    apr_size_t padded, i, n;
    unsigned char *std, *buf;
    int got;

    *out = NULL;
    *outlen = 0;
    if (!canonical(in, inlen)) {
        return APR_EINVAL;
    }
    /* EVP_DecodeBlock takes an int length. */
    if (inlen > (apr_size_t)0x3ffffff0) {
        return APR_EINVAL;
    }
    padded = (inlen + 3) / 4 * 4;
    std = apr_palloc(p, padded + 1);
    for (i = 0; i < inlen; i++) {
        char c = in[i];
        std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    for (; i < padded; i++) {
        std[i] = 'A';
    }
    std[padded] = '\0';
    buf = apr_palloc(p, padded / 4 * 3 + 1);
    got = padded ? EVP_DecodeBlock(buf, std, (int)padded) : 0;
    if (got < 0 || (apr_size_t)got != padded / 4 * 3) {
        return APR_EINVAL;
    }
    n = inlen / 4 * 3 + (inlen % 4 == 2 ? 1 : inlen % 4 == 3 ? 2 : 0);
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return APR_SUCCESS;
}

char *apisec_b64url_encode(apr_pool_t *p, const unsigned char *in,
                           apr_size_t len)
{
    apr_size_t cap = (len + 2) / 3 * 4 + 1, i, n;
    unsigned char *buf = apr_palloc(p, cap);
    int got;

    if (len > (apr_size_t)0x3ffffff0) {
        return NULL;
    }
    got = len ? EVP_EncodeBlock(buf, in, (int)len) : 0;
    if (got < 0) {
        return NULL;
    }
    n = (apr_size_t)got;
    while (n > 0 && buf[n - 1] == '=') {
        n--;
    }
    for (i = 0; i < n; i++) {
        if (buf[i] == '+') {
            buf[i] = '-';
        }
        else if (buf[i] == '/') {
            buf[i] = '_';
        }
    }
    buf[n] = '\0';
    return (char *)buf;
}
