/* Audit events: one JSON object a line. The fields are fixed so that a
 * token, cookie, query string or body can never reach the log: callers pass
 * the path without its query, and reasons are fixed texts. */
#ifndef APISEC_AUDIT_H
#define APISEC_AUDIT_H

#include <apr_pools.h>
#include <apr_time.h>
#include <jansson.h>

typedef struct {
    apr_time_t time;
    const char *event; /* cors_rejected, tls_required, auth_failed, ... */
    const char *request_id;
    const char *client; /* client address */
    const char *host;   /* virtual host name */
    const char *user;   /* NULL when not known */
    const char *method;
    const char *path;   /* never with the query string */
    const char *reason; /* a fixed text */
} apisec_audit_event_t;

/* Longest path kept in an event; longer ones are cut and marked, so one line
 * stays a single atomic write. */
#define APISEC_AUDIT_MAX_PATH 1024

/* The event as one line of JSON ending in '\n', in pool memory; *len is its
 * length. EXTRA (may be NULL) adds members; it is not consumed. */
char *apisec_audit_line(apr_pool_t *p, const apisec_audit_event_t *ev,
                        json_t *extra, apr_size_t *len);

#endif
