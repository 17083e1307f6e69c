/* Checkers for the JSON Schema formats mod_apisec asserts. Each takes
 * decoded string bytes (not NUL-terminated) and answers 1 (valid) or 0.
 * ASCII only: internationalised forms (idn-email, iri) are not accepted.
 *  email     RFC 5321 Mailbox: dot-atom or quoted local part, '@', a host
 *            name (LDH labels of 1-63, at most 253 octets) or an address
 *            literal [a.b.c.d] / [IPv6:...]; at most 254 octets in all
 *  uuid      RFC 9562 text form 8-4-4-4-12 hex digits, any case, any version
 *  date      RFC 3339 full-date, days checked per month and leap year
 *  date-time RFC 3339 date-time: 'T'/'t', seconds required, optional
 *            fraction, 'Z'/'z' or +hh:mm/-hh:mm; second 60 only when the
 *            time in UTC is 23:59
 *  ipv4      dotted quad, 0-255, no leading zeros
 *  ipv6      RFC 4291 section 2.2 text forms (::, embedded IPv4), no zone
 *  uri       RFC 3986 absolute URI (scheme ':' ...), optional fragment;
 *            only the characters RFC 3986 allows, well-formed %XX escapes,
 *            brackets only around the host */
#ifndef APISEC_JSON_FORMAT_H
#define APISEC_JSON_FORMAT_H

#include <apr.h>

typedef enum {
    APISEC_FORMAT_NONE = 0,
    APISEC_FORMAT_EMAIL,
    APISEC_FORMAT_UUID,
    APISEC_FORMAT_DATE_TIME,
    APISEC_FORMAT_DATE,
    APISEC_FORMAT_IPV4,
    APISEC_FORMAT_IPV6,
    APISEC_FORMAT_URI
} apisec_format_e;

/* The format for a keyword value, or APISEC_FORMAT_NONE when unsupported. */
apisec_format_e apisec_format_lookup(const char *name);

int apisec_format_check(apisec_format_e fmt, const char *s, apr_size_t len);

#endif
