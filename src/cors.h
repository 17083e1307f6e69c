/* CORS origin allowlist: parsing operators' origins at startup and matching a
 * request's Origin against them. Exact origins only; wildcard subdomains and
 * the "null" origin are refused because each turns the allowlist into
 * something an attacker can satisfy. */
#ifndef APISEC_CORS_H
#define APISEC_CORS_H

#include <apr_pools.h>
#include <apr_tables.h>

/* Checks one configured origin and writes its canonical form (lower-case
 * scheme and host, default port dropped) to *canonical. "*" is returned as
 * is. Returns NULL, or a message that says what to write instead. */
const char *apisec_cors_origin_parse(apr_pool_t *p, const char *origin,
                                     const char **canonical);

/* 1 when ORIGIN (as the browser sent it) is exactly one of ALLOWED
 * (an array of canonical origins), else 0. */
int apisec_cors_origin_allowed(const apr_array_header_t *allowed,
                               const char *origin);

/* Checks a list of methods or header names (RFC 9110 tokens) and joins them
 * with ", " into *joined. Returns NULL or a message. */
const char *apisec_cors_token_list(apr_pool_t *p, int argc, char *const argv[],
                                   const char **joined);

#endif
