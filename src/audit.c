#include "audit.h"
#include "problem.h"

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

static void set_str(apr_pool_t *p, json_t *o, const char *k, const char *v)
{
    if (v) {
        json_object_set_new(o, k, apisec_json_string_safe(p, v));
    }
}

char *apisec_audit_line(apr_pool_t *p, const apisec_audit_event_t *ev,
                        json_t *extra, apr_size_t *len)
{
    char ts[64];
    apr_time_exp_t tm;
    apr_size_t tslen;
    json_t *o;
    char *text, *out;
    const char *path = ev->path;

    apr_time_exp_gmt(&tm, ev->time);
    apr_strftime(ts, &tslen, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    ts[tslen] = '\0';
    if (path && strlen(path) > APISEC_AUDIT_MAX_PATH) {
        path = apr_pstrcat(p, apr_pstrmemdup(p, path, APISEC_AUDIT_MAX_PATH),
                           "...", NULL);
    }
    o = json_object();
    if (!o) {
        return NULL;
    }
    json_object_set_new(
        o, "time",
        json_string(apr_psprintf(p, "%s.%03dZ", ts, tm.tm_usec / 1000)));
    set_str(p, o, "event", ev->event);
    set_str(p, o, "request_id", ev->request_id);
    set_str(p, o, "client", ev->client);
    set_str(p, o, "host", ev->host);
    json_object_set_new(o, "user",
                        ev->user ? apisec_json_string_safe(p, ev->user)
                                 : json_null());
    set_str(p, o, "method", ev->method);
    set_str(p, o, "path", path);
    set_str(p, o, "reason", ev->reason);
    if (extra) {
        json_object_update_missing(o, extra);
    }
    text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text) {
        return NULL;
    }
    out = apr_pstrcat(p, text, "\n", NULL);
    free(text);
    *len = strlen(out);
    return out;
}
