#include "problem.h"

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

const char *apisec_percent_encode(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *u;
    char *enc, *o;

    for (u = (const unsigned char *)s; *u; ++u) {
        if (*u < 0x20 || *u >= 0x7f || *u == '%') {
            break;
        }
    }
    if (!*u) {
        return s;
    }
    enc = o = apr_palloc(p, strlen(s) * 3 + 1);
    for (u = (const unsigned char *)s; *u; ++u) {
        if (*u < 0x20 || *u >= 0x7f || *u == '%') {
            *o++ = '%';
            *o++ = hex[*u >> 4];
            *o++ = hex[*u & 15];
        }
        else {
            *o++ = (char)*u;
        }
    }
    *o = '\0';
    return enc;
}

json_t *apisec_json_string_safe(apr_pool_t *p, const char *s)
{
    json_t *j;

    if (!s) {
        return json_null();
    }
    j = json_string(s);
    return j ? j : json_string(apisec_percent_encode(p, s));
}

char *apisec_problem_json(apr_pool_t *p, int status, const char *title,
                          const char *detail, const char *request_id,
                          json_t *extra)
{
    json_t *o = json_object();
    char *text, *out = NULL;

    if (!o) {
        return NULL;
    }
    json_object_set_new(o, "type", json_string("about:blank"));
    json_object_set_new(o, "title", apisec_json_string_safe(p, title));
    json_object_set_new(o, "status", json_integer(status));
    if (detail) {
        json_object_set_new(o, "detail", apisec_json_string_safe(p, detail));
    }
    if (request_id) {
        json_object_set_new(o, "request_id",
                            apisec_json_string_safe(p, request_id));
    }
    if (extra) {
        json_object_update_missing(o, extra);
    }
    text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (text) {
        out = apr_pstrdup(p, text);
        free(text);
    }
    return out;
}
