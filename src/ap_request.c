/* post_read_request: the request id, and removal of client-sent X-APISec-*
 * headers, which only the module may set (claims for proxied backends). */
#include "ap_glue.h"

#include "http_log.h"
#include "http_protocol.h"
#include "http_ssl.h"
#include "apr_strings.h"
#include "apr_lib.h"

APLOG_USE_MODULE(apisec);

#define NOTE_REQUEST_ID "apisec-request-id"

/* The header a CGI sees as HTTP_X_APISEC_* may arrive spelt with '_' too, so
 * both spellings count as ours. */
static int is_reserved_header(const char *name)
{
    static const char prefix[] = "x-apisec-";
    int i;

    for (i = 0; prefix[i]; ++i) {
        char c = (char)apr_tolower(name[i]);
        if (c == '_') {
            c = '-';
        }
        if (c != prefix[i]) {
            return 0;
        }
    }
    return 1;
}

int apisec_post_read_request(request_rec *r)
{
    const apr_array_header_t *h = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)h->elts;
    apr_array_header_t *names = NULL;
    int i;

    /* A walk over the entries, not apr_table_do: this runs on every
     * request, and almost never finds one. */
    for (i = 0; i < h->nelts; ++i) {
        if (e[i].key && (e[i].key[0] | 0x20) == 'x'
            && is_reserved_header(e[i].key)) {
            if (!names) {
                names = apr_array_make(r->pool, 2, sizeof(const char *));
            }
            APR_ARRAY_PUSH(names, const char *) = e[i].key;
        }
    }
    if (!names) {
        return DECLINED;
    }
    for (i = 0; i < names->nelts; ++i) {
        apr_table_unset(r->headers_in, APR_ARRAY_IDX(names, i, const char *));
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  APLOGNO(20001) "removed %d client-sent X-APISec-* header(s), "
                                 "request_id %s",
                  names->nelts, apisec_request_id(r));
    return DECLINED;
}

apisec_req_t *apisec_req(request_rec *r)
{
    apisec_req_t *st = ap_get_module_config(r->request_config, &apisec_module);

    if (!st) {
        st = apr_pcalloc(r->pool, sizeof(*st));
        ap_set_module_config(r->request_config, &apisec_module, st);
    }
    return st;
}

/* mod_unique_id's UNIQUE_ID when it is loaded; otherwise the log id another
 * module made, or 96 random bits of our own, kept as r->log_id so that %L in
 * ErrorLogFormat shows the same id. */
const char *apisec_request_id(request_rec *r)
{
    request_rec *top = r;
    const char *id;
    unsigned char raw[12];

    while (top->prev) {
        top = top->prev;
    }
    while (top->main) {
        top = top->main;
    }
    if ((id = apr_table_get(top->notes, NOTE_REQUEST_ID)) != NULL) {
        return id;
    }
    id = apr_table_get(top->subprocess_env, "UNIQUE_ID");
    if (!id) {
        id = top->log_id;
    }
    if (!id) {
        char *hex = apr_palloc(top->pool, sizeof(raw) * 2 + 1);
        if (apr_generate_random_bytes(raw, sizeof(raw)) != APR_SUCCESS) {
            memset(raw, 0, sizeof(raw));
        }
        ap_bin2hex(raw, sizeof(raw), hex);
        id = hex;
        top->log_id = id;
    }
    apr_table_setn(top->notes, NOTE_REQUEST_ID, id);
    return id;
}

/* X-Forwarded-Proto is believed only when mod_remoteip replaced the client
 * address, i.e. the peer is a proxy it trusts. The last value is the one the
 * nearest proxy wrote. */
static int trusted_forwarded_https(request_rec *r)
{
    const char *xfp, *last;

    if (!r->useragent_ip || !r->connection->client_ip
        || !strcmp(r->useragent_ip, r->connection->client_ip)) {
        return 0;
    }
    xfp = apr_table_get(r->headers_in, "X-Forwarded-Proto");
    if (!xfp) {
        return 0;
    }
    last = strrchr(xfp, ',');
    last = last ? last + 1 : xfp;
    while (*last == ' ' || *last == '\t') {
        ++last;
    }
    return !strncasecmp(last, "https", 5)
           && (last[5] == '\0' || last[5] == ' ' || last[5] == '\t');
}

int apisec_request_is_https(request_rec *r)
{
    return ap_ssl_conn_is_ssl(r->connection) || trusted_forwarded_https(r);
}
