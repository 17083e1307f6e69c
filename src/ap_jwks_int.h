/* Internals of the remote key set glue shared by ap_jwks.c (shared memory,
 * scheduling, requests) and ap_jwks_http.c (the libcurl GET); no other file
 * includes this. */
#ifndef APISEC_AP_JWKS_INT_H
#define APISEC_AP_JWKS_INT_H

#include "apr_pools.h"
#include "apr_time.h"

/* Why a fetch failed, as counted in the metrics. */
typedef enum {
    CAUSE_CONNECT,
    CAUSE_TIMEOUT,
    CAUSE_TLS,
    CAUSE_STATUS,
    CAUSE_TOO_LARGE,
    CAUSE_REDIRECT,
    CAUSE_DISCOVERY,
    CAUSE_INVALID,
    CAUSE_OTHER,
    CAUSE_COUNT
} cause_e;

extern const char *const apisec_jwks_cause_names[CAUSE_COUNT];

/* An answer: at most APISEC_JWKS_MAX_DOC bytes of body in a buffer from
 * POOL, and the Cache-Control header (NULL when absent). */
typedef struct {
    char *buf;
    apr_size_t len;
    int too_large;
    const char *cache_control;
    apr_pool_t *pool;
} apisec_jwks_body_t;

/* libcurl's global initialisation, once in post_config (before threads). */
apr_status_t apisec_jwks_http_init(void);

/* GETs URL before DEADLINE into *B with the APISecJWKSCA of the server.
 * NULL, or a message for the log with *CAUSE set; *STATUS is the HTTP
 * status (0 if none). A redirect is followed only to the same scheme, host
 * and port, at most 3 times. */
const char *apisec_jwks_http_get(apr_pool_t *p, const char *url,
                                 apr_time_t deadline, apisec_jwks_body_t *b,
                                 cause_e *cause, long *status);

#endif
