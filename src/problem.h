/* RFC 9457 problem details: the body of every answer the module makes
 * itself. Only the fields given here go out, so a caller cannot leak a
 * library message or a path by accident: detail is always a fixed text. */
#ifndef APISEC_PROBLEM_H
#define APISEC_PROBLEM_H

#include <apr_pools.h>
#include <jansson.h>

#define APISEC_PROBLEM_CONTENT_TYPE "application/problem+json"

/* Returns the JSON text (no trailing newline) in pool memory, or NULL when
 * memory runs out. type is "about:blank", so title is the HTTP reason
 * phrase (RFC 9457 section 4.2.1). EXTRA, when not NULL, holds extension
 * members to add; it is not consumed. */
char *apisec_problem_json(apr_pool_t *p, int status, const char *title,
                          const char *detail, const char *request_id,
                          json_t *extra);

/* S with controls, DEL, '%' and bytes over 0x7f percent-encoded: printable
 * ASCII that can go in a header or a log as is. S itself when nothing needs
 * encoding. */
const char *apisec_percent_encode(apr_pool_t *p, const char *s);

/* A JSON string for any bytes: valid UTF-8 goes as is, anything else is
 * percent-encoded byte by byte, so attacker bytes can neither break the JSON
 * nor be dropped silently. */
json_t *apisec_json_string_safe(apr_pool_t *p, const char *s);

#endif
