/* Unit tests of src/problem.c and src/audit.c: the JSON the module writes. */
#include "audit.h"
#include "problem.h"
#include "tap.h"

#include <apr_general.h>

int main(void)
{
    apr_pool_t *p;
    json_t *j, *extra;
    json_error_t jerr;
    char *text;
    apr_size_t len;
    apisec_audit_event_t ev = {0};

    apr_initialize();
    apr_pool_create(&p, NULL);

    text =
        apisec_problem_json(p, 403, "Forbidden", "Not allowed.", "abc", NULL);
    j = json_loads(text, 0, &jerr);
    tap_ok(j != NULL, "a problem is valid JSON");
    tap_is_str(json_string_value(json_object_get(j, "type")), "about:blank",
               "type is about:blank");
    tap_is_str(json_string_value(json_object_get(j, "title")), "Forbidden",
               "title is the reason phrase");
    tap_is_int(json_integer_value(json_object_get(j, "status")), 403,
               "status is a number");
    tap_is_str(json_string_value(json_object_get(j, "detail")), "Not allowed.",
               "detail is kept");
    tap_is_str(json_string_value(json_object_get(j, "request_id")), "abc",
               "request_id is kept");
    json_decref(j);

    extra = json_pack("{s:s, s:s}", "extra", "x", "status", "999");
    text = apisec_problem_json(p, 429, "Too Many Requests", NULL, NULL, extra);
    j = json_loads(text, 0, &jerr);
    tap_is_str(json_string_value(json_object_get(j, "extra")), "x",
               "extension members are added");
    tap_is_int(json_integer_value(json_object_get(j, "status")), 429,
               "an extension cannot overwrite a standard member");
    tap_ok(json_object_get(j, "detail") == NULL, "no detail when none given");
    json_decref(j);
    json_decref(extra);

    j = apisec_json_string_safe(p, "/a\xff\xfe%");
    tap_is_str(json_string_value(j), "/a%FF%FE%25",
               "bytes that are not UTF-8 are percent-encoded");
    json_decref(j);

    ev.time = apr_time_from_sec(1700000000) + 123000;
    ev.event = "cors_rejected";
    ev.request_id = "rid";
    ev.client = "127.0.0.1";
    ev.method = "OPTIONS";
    ev.path = "/api/x\xc0";
    ev.reason = "origin not allowed";
    text = apisec_audit_line(p, &ev, NULL, &len);
    tap_ok(text && len > 0 && text[len - 1] == '\n'
               && strchr(text, '\n') == text + len - 1,
           "an audit event is exactly one line");
    j = json_loads(text, 0, &jerr);
    tap_ok(j != NULL, "the line is valid JSON");
    tap_is_str(json_string_value(json_object_get(j, "time")),
               "2023-11-14T22:13:20.123Z", "time is ISO 8601 UTC with ms");
    tap_ok(json_is_null(json_object_get(j, "user")), "no user is null");
    tap_is_str(json_string_value(json_object_get(j, "path")), "/api/x%C0",
               "a non-UTF-8 path is percent-encoded");
    json_decref(j);

    {
        char longpath[3000];
        memset(longpath, 'a', sizeof(longpath) - 1);
        longpath[sizeof(longpath) - 1] = '\0';
        ev.path = longpath;
        text = apisec_audit_line(p, &ev, NULL, &len);
        j = json_loads(text, 0, &jerr);
        tap_is_int(strlen(json_string_value(json_object_get(j, "path"))),
                   APISEC_AUDIT_MAX_PATH + 3, "a long path is cut");
        json_decref(j);
    }

    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
