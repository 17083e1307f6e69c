#include "problem.h"

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

json_t *apisec_json_string_safe(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    json_t *j;
    char *enc, *o;

    if (!s) {
        return json_null();
    }
    j = json_string(s);
    if (j) {
        return j;
    }
    /* Not UTF-8: percent-encode every byte outside printable ASCII and '%'. */
    enc = o = apr_palloc(p, strlen(s) * 3 + 1);
    for (; *s; ++s) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c >= 0x7f || c == '%') {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
        else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    return json_string(enc);
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
