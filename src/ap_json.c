/* JSON request bodies (APISecJSON, issue 5). In fixups, after
 * authentication and authorization, so that only admitted clients ever make
 * the server read a body: the body is read (Content-Length or chunked) into
 * one buffer of at most APISecJSONMaxBody bytes, parsed by the strict tape
 * parser (json_tape.c) and checked by the compiled schema (json_schema.c).
 * A body that passes is kept and the input filter below hands exactly those
 * bytes to whatever handler runs next (PHP, CGI, mod_proxy), which reads it
 * as if the module were not there: Content-Length and Transfer-Encoding are
 * left as the client sent them. Requests in scopes without APISecJSON, and
 * requests without a body other than POST/PUT/PATCH, are not touched.
 *
 * Memory per request: the body (at most the limit, grown by doubling for a
 * chunked body, so under twice the limit in all) and the tape, which lives
 * in a subpool destroyed as soon as the body has been checked. */
#include "ap_glue.h"
#include "config.h"
#include "json_schema.h"
#include "json_tape.h"
#include "problem.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"
#include "apr_lib.h"

APLOG_USE_MODULE(apisec);

/* In r->pool's userdata: an internal redirect keeps the pool, so the body
 * read for the first request is handed on to the one it redirects to. */
#define STATE_KEY "apisec-json-body"
#define FIRST_BUF 8192

typedef struct {
    char *buf;
    apr_size_t len;
    apr_size_t pos; /* bytes handed on so far */
} body_t;

#define DETAIL_TYPE                                                            \
    "The request body must be JSON (application/json or a +json media type)."
#define DETAIL_ENCODING "The request body must not be content-encoded."
#define DETAIL_SIZE "The request body is larger than this resource accepts."
#define DETAIL_SYNTAX "The request body is not valid JSON."
#define DETAIL_SCHEMA                                                          \
    "The request body does not match the schema of this resource."
#define DETAIL_READ "The request body could not be read."

/* "application/json" or "TYPE/SUBTYPE+json", any case, with no charset
 * parameter other than utf-8 (RFC 8259 section 8.1 knows no other). */
int apisec_json_media_type(apr_pool_t *p, const char *ct)
{
    char *mt, *params, *slash, *tok, *last;
    apr_size_t n;

    /* the usual value, without the copy and the parse below */
    if (strcasecmp(ct, "application/json") == 0) {
        return 1;
    }
    mt = apr_pstrdup(p, ct);

    if ((params = strchr(mt, ';'))) {
        *params++ = '\0';
    }
    while (apr_isspace(*mt)) {
        ++mt;
    }
    n = strlen(mt);
    while (n && apr_isspace(mt[n - 1])) {
        mt[--n] = '\0';
    }
    ap_str_tolower(mt);
    slash = strchr(mt, '/');
    if (!slash || slash == mt || strchr(slash + 1, '/') || strpbrk(mt, " \t")) {
        return 0;
    }
    if (strcmp(mt, "application/json")
        && (n - (apr_size_t)(slash + 1 - mt) < 6
            || strcmp(mt + n - 5, "+json"))) {
        return 0;
    }
    for (tok = params ? apr_strtok(params, ";", &last) : NULL; tok;
         tok = apr_strtok(NULL, ";", &last)) {
        char *v;
        while (apr_isspace(*tok)) {
            ++tok;
        }
        if (strncasecmp(tok, "charset=", 8)) {
            continue;
        }
        v = tok + 8;
        n = strlen(v);
        while (n && apr_isspace(v[n - 1])) {
            v[--n] = '\0';
        }
        if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
            v[n - 1] = '\0';
            ++v;
        }
        if (strcasecmp(v, "utf-8")) {
            return 0;
        }
    }
    return 1;
}

/* The schema rule for this method: the one that lists it, else the scope's
 * default (a rule without methods), else none. */
static const apisec_schema_t *schema_for(const apisec_dir_conf_t *c,
                                         request_rec *r)
{
    const apisec_schema_t *dflt = NULL;
    int i;

    if (!c->json_schemas) {
        return NULL;
    }
    for (i = 0; i < c->json_schemas->nelts; ++i) {
        const apisec_json_schema_rule_t *rule =
            &APR_ARRAY_IDX(c->json_schemas, i, apisec_json_schema_rule_t);
        if (!rule->methods) {
            dflt = rule->schema;
        }
        else if (r->method_number < 64
                 && (rule->methods & (AP_METHOD_BIT << r->method_number))) {
            return rule->schema;
        }
    }
    return dflt;
}

/* Refuses before (or while) reading: the rest of the body is never read,
 * so the connection cannot be kept. */
static int refuse_unread(request_rec *r, int status, const char *reason,
                         const char *detail)
{
    r->connection->keepalive = AP_CONN_CLOSE;
    apisec_audit_extra(r, "body_rejected", reason, NULL);
    return apisec_send_problem_extra(r, status, detail, NULL);
}

/* Reads the whole body into *out, never holding more than max bytes: asks
 * the filters for at most one byte past the limit at a time. Returns OK, or
 * the status to answer (413 when the body passes the limit). */
static int read_body(request_rec *r, apr_off_t max, apr_off_t clen, body_t *out)
{
    apr_bucket_brigade *bb =
        apr_brigade_create(r->pool, r->connection->bucket_alloc);
    /* A chunked body's buffer is made when its first bytes come. */
    apr_size_t cap = (apr_size_t)clen;
    int eos = 0;

    out->buf = cap ? apr_palloc(r->pool, cap) : "";
    out->len = out->pos = 0;
    while (!eos) {
        apr_off_t want = max + 1 - (apr_off_t)out->len;
        apr_bucket *b;
        apr_status_t rv;

        if (want > HUGE_STRING_LEN) {
            want = HUGE_STRING_LEN;
        }
        rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                            APR_BLOCK_READ, want);
        if (rv != APR_SUCCESS) {
            apr_brigade_destroy(bb);
            ap_log_rerror(APLOG_MARK, APLOG_INFO, rv, r,
                          APLOGNO(20202) "APISecJSON: reading the request "
                                         "body failed, request_id %s",
                          apisec_request_id(r));
            return ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
        }
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
             b = APR_BUCKET_NEXT(b)) {
            const char *data;
            apr_size_t n;

            if (APR_BUCKET_IS_EOS(b)) {
                eos = 1;
                break;
            }
            if (APR_BUCKET_IS_METADATA(b)) {
                continue;
            }
            rv = apr_bucket_read(b, &data, &n, APR_BLOCK_READ);
            if (rv != APR_SUCCESS) {
                apr_brigade_destroy(bb);
                ap_log_rerror(APLOG_MARK, APLOG_INFO, rv, r,
                              APLOGNO(20203) "APISecJSON: reading the request "
                                             "body failed, request_id %s",
                              apisec_request_id(r));
                return HTTP_BAD_REQUEST;
            }
            if ((apr_off_t)(out->len + n) > max) {
                apr_brigade_destroy(bb);
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
            if (out->len + n > cap) {
                /* Only a chunked body (or one longer than it said, which
                 * HTTP_IN does not let through) grows: doubling keeps the
                 * copies few and the total under twice the limit. */
                apr_size_t ncap =
                    cap * 2 > out->len + n ? cap * 2 : out->len + n;
                char *nbuf;
                if (ncap < FIRST_BUF) {
                    ncap = FIRST_BUF;
                }
                if ((apr_off_t)ncap > max) {
                    ncap = (apr_size_t)max;
                }
                nbuf = apr_palloc(r->pool, ncap);
                memcpy(nbuf, out->buf, out->len);
                out->buf = nbuf;
                cap = ncap;
            }
            memcpy(out->buf + out->len, data, n);
            out->len += n;
        }
        apr_brigade_cleanup(bb);
    }
    apr_brigade_destroy(bb);
    return OK;
}

static void push_error(json_t *arr, json_t *ptrs, apr_pool_t *p,
                       const char *pointer, const char *message)
{
    json_t *e = json_object();
    json_t *ps = apisec_json_string_safe(p, pointer);

    if (e && ps) {
        json_object_set(e, "pointer", ps);
        json_object_set_new(e, "message", json_string(message));
        json_array_append_new(arr, e);
        json_array_append(ptrs, ps);
    }
    else {
        json_decref(e);
    }
    json_decref(ps);
}

/* 400 with the errors; the audit event gets the pointers only. Both are
 * built before the caller destroys the tape's pool. */
static int reject_body(request_rec *r, const char *reason, const char *detail,
                       json_t *errors, json_t *pointers, int truncated)
{
    json_t *extra = json_object();
    json_t *audit = json_object();
    int rc;

    if (extra) {
        json_object_set(extra, "errors", errors);
        if (truncated) {
            json_object_set_new(extra, "errors_truncated", json_true());
        }
    }
    if (audit) {
        json_object_set(audit, "pointers", pointers);
    }
    apisec_audit_extra(r, "body_rejected", reason, audit);
    rc = apisec_send_problem_extra(r, HTTP_BAD_REQUEST, detail, extra);
    json_decref(extra);
    json_decref(audit);
    return rc;
}

/* Parses and checks the body. Returns OK, or DONE once the answer went.
 * The jansson arrays of an answer are made only for a rejected body: an
 * accepted one costs the parse and the validation, nothing else. */
static int check_body(request_rec *r, const apisec_dir_conf_t *c,
                      const body_t *body)
{
    apisec_json_opts_t opts;
    apisec_json_error_t jerr;
    apisec_json_tape_t *tape = NULL;
    apisec_schema_result_t *res;
    const apisec_schema_t *schema = schema_for(c, r);
    json_t *errors = NULL, *pointers = NULL;
    apr_pool_t *tp;
    int rc = OK, i;

    if (apr_pool_create(&tp, r->pool) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_tag(tp, "apisec_json_tape");
    apisec_json_opts_default(&opts);
    opts.max_bytes = body->len + 1;
    if (c->json_max_depth != APISEC_UNSET) {
        opts.max_depth = (unsigned int)c->json_max_depth;
    }
    if (apisec_json_tape_parse(tp, body->buf, body->len, &opts, &tape, &jerr)
        != APISEC_JSON_OK) {
        if (jerr.code == APISEC_JSON_ERR_NOMEM || !(errors = json_array())
            || !(pointers = json_array())) {
            rc = HTTP_INTERNAL_SERVER_ERROR;
        }
        else {
            push_error(errors, pointers, tp, jerr.pointer ? jerr.pointer : "",
                       jerr.msg);
            rc = reject_body(r, "invalid_json", DETAIL_SYNTAX, errors, pointers,
                             0);
        }
    }
    else if (schema && (res = apr_palloc(tp, sizeof(*res)))
             && !apisec_schema_validate(schema, tape, c->json_strict == 1, tp,
                                        res)) {
        if (!(errors = json_array()) || !(pointers = json_array())) {
            rc = HTTP_INTERNAL_SERVER_ERROR;
        }
        else {
            for (i = 0; i < res->count; ++i) {
                push_error(errors, pointers, tp, res->err[i].pointer,
                           res->err[i].message);
            }
            rc = reject_body(r, "schema", DETAIL_SCHEMA, errors, pointers,
                             res->truncated);
        }
    }
    json_decref(errors);
    json_decref(pointers);
    apr_pool_destroy(tp);
    return rc;
}

static int is_body_method(int m)
{
    return m == M_POST || m == M_PUT || m == M_PATCH;
}

int apisec_json_fixups(request_rec *r)
{
    const apisec_dir_conf_t *c = apisec_dir_conf(r);
    body_t *st = NULL;
    const char *te, *cl, *ct, *ce;
    apr_off_t clen = 0, max;
    int present, rc;

    /* A subrequest has no body of its own. */
    if (r->main) {
        return DECLINED;
    }
    /* Only an internal redirect (r->prev) can find a state: the request
     * that redirected here read and checked the body; hand on what is
     * left. */
    if (r->prev) {
        apr_pool_userdata_get((void **)&st, STATE_KEY, r->pool);
    }
    if (st) {
        ap_add_input_filter(APISEC_JSON_FILTER, st, r, r->connection);
        return DECLINED;
    }
    if (c->json != 1) {
        return DECLINED;
    }
    te = apr_table_get(r->headers_in, "Transfer-Encoding");
    cl = apr_table_get(r->headers_in, "Content-Length");
    if (te) {
        /* httpd accepts no Transfer-Encoding but chunked (and drops any
         * Content-Length beside it). */
        present = 1;
        clen = 0;
    }
    else if (cl) {
        if (!ap_parse_strict_length(&clen, cl)) {
            return HTTP_BAD_REQUEST;
        }
        present = clen > 0;
    }
    else {
        present = 0;
    }
    if (!present && !is_body_method(r->method_number)) {
        return DECLINED;
    }

    ce = apr_table_get(r->headers_in, "Content-Encoding");
    if (ce && strcasecmp(ce, "identity")) {
        /* A compressed body would be checked as the bytes it is, not as
         * what an inflating filter would make of it. */
        return refuse_unread(r, HTTP_UNSUPPORTED_MEDIA_TYPE, "content_encoding",
                             DETAIL_ENCODING);
    }
    ct = apr_table_get(r->headers_in, "Content-Type");
    if (!ct || !apisec_json_media_type(r->pool, ct)) {
        return refuse_unread(r, HTTP_UNSUPPORTED_MEDIA_TYPE, "media_type",
                             DETAIL_TYPE);
    }
    max = c->json_max_body != APISEC_UNSET ? c->json_max_body
                                           : APISEC_JSON_DEFAULT_MAX_BODY;
    if (clen > max) {
        return refuse_unread(r, HTTP_REQUEST_ENTITY_TOO_LARGE, "too_large",
                             DETAIL_SIZE);
    }

    st = apr_pcalloc(r->pool, sizeof(*st));
    /* Read even when no body was announced: a POST without Content-Length
     * or chunking has none in HTTP/1.1 (HTTP_IN answers EOS at once) but may
     * have one in HTTP/2, and no body may go by unchecked. */
    rc = read_body(r, max, clen, st);
    if (rc == HTTP_REQUEST_ENTITY_TOO_LARGE) {
        return refuse_unread(r, rc, "too_large", DETAIL_SIZE);
    }
    if (rc != OK) {
        /* The client's connection or framing failed: httpd answers (and
         * closes), as for any handler that reads a body. */
        apisec_problem_on_error(r, DETAIL_READ);
        return rc;
    }
    if ((rc = check_body(r, c, st)) != OK) {
        return rc;
    }
    apr_pool_userdata_setn(st, STATE_KEY, NULL, r->pool);
    ap_add_input_filter(APISEC_JSON_FILTER, st, r, r->connection);
    return DECLINED;
}

/* Hands on the kept body: the bytes asked for (READBYTES), a line
 * (GETLINE), all of it (EXHAUSTIVE), or a look without consuming
 * (SPECULATIVE); then EOS, as the HTTP_IN filter below would. */
apr_status_t apisec_json_body_filter(ap_filter_t *f, apr_bucket_brigade *bb,
                                     ap_input_mode_t mode,
                                     apr_read_type_e block, apr_off_t readbytes)
{
    body_t *st = f->ctx;
    apr_size_t n;

    if (mode != AP_MODE_READBYTES && mode != AP_MODE_GETLINE
        && mode != AP_MODE_EXHAUSTIVE && mode != AP_MODE_SPECULATIVE) {
        return ap_get_brigade(f->next, bb, mode, block, readbytes);
    }
    n = st->len - st->pos;
    if (n && (mode == AP_MODE_READBYTES || mode == AP_MODE_SPECULATIVE)
        && readbytes > 0 && (apr_off_t)n > readbytes) {
        n = (apr_size_t)readbytes;
    }
    if (n && mode == AP_MODE_GETLINE) {
        const char *nl = memchr(st->buf + st->pos, '\n', n);
        if (nl) {
            n = (apr_size_t)(nl - (st->buf + st->pos)) + 1;
        }
    }
    if (n) {
        /* A pool bucket: copied to the heap should anything keep it past
         * the request's pool. */
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_pool_create(st->buf + st->pos, n,
                                                           f->r->pool,
                                                           f->c->bucket_alloc));
    }
    if (mode == AP_MODE_SPECULATIVE) {
        if (!n) {
            APR_BRIGADE_INSERT_TAIL(bb,
                                    apr_bucket_eos_create(f->c->bucket_alloc));
        }
        return APR_SUCCESS;
    }
    st->pos += n;
    if (st->pos == st->len) {
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(f->c->bucket_alloc));
    }
    return APR_SUCCESS;
}
