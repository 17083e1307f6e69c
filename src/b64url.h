/* Strict base64url for JOSE (RFC 7515 section 2: RFC 4648 section 5 with the
 * padding omitted). The decoder accepts exactly one encoding of a byte string:
 * only [A-Za-z0-9_-], no '=' padding, no whitespace, no length that leaves a
 * single trailing character, and zero unused bits in the last character.
 * Anything else is rejected, so a token has one spelling and a signature
 * cannot be "re-spelt" past a cache or a comparison. */
#ifndef APISEC_B64URL_H
#define APISEC_B64URL_H

#include <apr_pools.h>
#include <apr_errno.h>

/* Upper bound of the decoded length of INLEN characters (exact for input
 * that decodes). */
#define APISEC_B64URL_DECODED_MAX(inlen) ((((inlen) + 3) / 4) * 3)

/* Decodes IN[0..INLEN) into pool memory. On success *OUT holds *OUTLEN bytes
 * followed by a NUL (not counted), so a decoded JSON text can be passed on
 * as is. Returns APR_SUCCESS, or APR_EINVAL for input that is not canonical
 * base64url (nothing is allocated then beyond a scratch buffer). */
apr_status_t apisec_b64url_decode(apr_pool_t *p, const char *in,
                                  apr_size_t inlen, unsigned char **out,
                                  apr_size_t *outlen);

/* Encodes LEN bytes as unpadded base64url, NUL-terminated, in pool memory. */
char *apisec_b64url_encode(apr_pool_t *p, const unsigned char *in,
                           apr_size_t len);

#endif
