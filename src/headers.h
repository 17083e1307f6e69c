/* Security response headers: helmet's default set, and the checks that keep
 * an operator's own header names and values from breaking the response.
 * Nothing here knows httpd; the glue decides where the headers go. */
#ifndef APISEC_HEADERS_H
#define APISEC_HEADERS_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef struct {
    const char *name;
    const char *value;
} apisec_header_t;

/* helmet 8's default headers with helmet's values, HSTS excluded (it is only
 * sent on HTTPS responses, so it is kept apart: apisec_headers_hsts_default).
 */
const apisec_header_t *apisec_headers_defaults(int *count);
const char *apisec_headers_hsts_default(void);

/* NULL when NAME is an RFC 9110 token; otherwise a message. */
const char *apisec_headers_check_name(const char *name);
/* NULL when VALUE holds only visible ASCII, space and tab (no CR, LF, NUL or
 * other control characters that would split or corrupt the response). */
const char *apisec_headers_check_value(const char *value);

/* Parses `max-age=N [includeSubDomains] [preload]` (RFC 6797) into the header
 * value. preload follows the preload list's rules: it needs includeSubDomains
 * and a max-age of at least one year. Returns NULL or a message. */
const char *apisec_headers_hsts_parse(apr_pool_t *p, int argc,
                                      char *const argv[], const char **value);

#endif
