/* Remote key sets: what mod_apisec accepts from an identity provider's
 * network, and when it asks again. No httpd headers, no I/O: the glue
 * (ap_jwks.c) fetches with libcurl and hands the answers here.
 *
 * What this core promises:
 * - A JWKS answer becomes a key set only if it is at most
 *   APISEC_JWKS_MAX_DOC bytes of JSON holding {"keys":[...]} with at least
 *   one usable signing key. Keys that cannot be trusted from the network
 *   are dropped, each with a static reason the glue logs: every symmetric
 *   (oct) key (a secret that was published is no secret), use other than
 *   "sig", key_ops without "verify", unknown kty, RSA under 2048 bits,
 *   curves and algorithms the jwk core refuses, a kid seen twice.
 * - A discovery document (OpenID Connect Discovery 1.0, RFC 8414) yields
 *   its jwks_uri only when its issuer equals the configured one exactly
 *   and the jwks_uri is an acceptable URL (apisec_jwks_url_check).
 * - URLs: https, or http to a loopback address only; no user:password,
 *   no fragment.
 * - Timing: refresh after the answer's Cache-Control max-age bounded by
 *   MIN and MAX (no-store, no-cache or none: MIN); after a failure, again
 *   after MIN_REFETCH doubling per failure, at most MIN; a key set is
 *   served until MAX_STALE after the last successful fetch.
 */
#ifndef APISEC_JWKS_REMOTE_H
#define APISEC_JWKS_REMOTE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "jwk.h"

#define APISEC_JWKS_MAX_DOC (256 * 1024)
#define APISEC_JWKS_MAX_URL 2048

/* One dropped key: its position in "keys", its kid (NULL when none, or not
 * a string) and why. The kid is the provider's text: the glue escapes it
 * before logging. */
typedef struct {
    int index;
    const char *kid;
    const char *reason;
} apisec_jwks_dropped_t;

/* Parses a JWKS answer into a new key set made in POOL. Returns NULL and
 * sets *SET, or a static message (the set is then not made). *DROPPED (if
 * not NULL) receives an array of apisec_jwks_dropped_t, also on failure. */
const char *apisec_jwks_parse(apr_pool_t *pool, const char *doc, apr_size_t len,
                              apisec_jwk_set_t **set,
                              apr_array_header_t **dropped);

/* Checks a discovery document against ISSUER and returns its jwks_uri
 * (copied into POOL) in *JWKS_URI; NULL or a static message. */
const char *apisec_jwks_discovery_parse(apr_pool_t *pool, const char *doc,
                                        apr_size_t len, const char *issuer,
                                        const char **jwks_uri);

/* The two well-known URLs of ISSUER: OpenID Connect Discovery's
 * (issuer + "/.well-known/openid-configuration") and RFC 8414's (the
 * well-known part inserted between host and path). NULL or a message. */
const char *apisec_jwks_discovery_urls(apr_pool_t *pool, const char *issuer,
                                       const char **oidc, const char **oauth);

/* NULL when URL may be fetched (see the top); else a static message. */
const char *apisec_jwks_url_check(const char *url);

/* Whether URL starts with PREFIX, compared so that "https://a.example"
 * does not admit "https://a.example.evil": the prefix must end with '/'
 * or the URL must continue with '/' (or end) right after it. */
int apisec_jwks_url_allowed(const char *url, const char *prefix);

/* Seconds of Cache-Control max-age in HEADER (may be NULL), bounded by
 * MIN and MAX; MIN when absent, no-store or no-cache. */
apr_interval_time_t apisec_jwks_refresh_after(const char *header,
                                              apr_interval_time_t min,
                                              apr_interval_time_t max);

/* Time to wait after the FAILURES-th failure in a row (1, 2, ...). */
apr_interval_time_t apisec_jwks_retry_after(int failures,
                                            apr_interval_time_t min_refetch,
                                            apr_interval_time_t refresh_min);

/* Whether keys fetched at FETCHED (0: never) may still serve at NOW. */
int apisec_jwks_usable(apr_time_t fetched, apr_time_t now,
                       apr_interval_time_t max_stale);

/* Pacing shared by processes: *NEXT (in shared memory) is the earliest
 * time the next claim may succeed. Returns 1 for exactly one caller per
 * GAP (the one whose compare-and-swap moves *NEXT to NOW + GAP), else 0. */
int apisec_jwks_pace(apr_uint64_t *next, apr_time_t now,
                     apr_interval_time_t gap);

#endif
