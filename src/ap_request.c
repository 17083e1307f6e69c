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

static int collect_reserved(void *rec, const char *key, const char *value)
{
    if (is_reserved_header(key)) {
        APR_ARRAY_PUSH((apr_array_header_t *)rec, const char *) = key;
    }
    return 1;
}

int apisec_post_read_request(request_rec *r)
{
    apr_array_header_t *names;
    int i;

    names = apr_array_make(r->pool, 2, sizeof(const char *));
    apr_table_do(collect_reserved, names, r->headers_in, NULL);
    for (i = 0; i < names->nelts; ++i) {
        apr_table_unset(r->headers_in, APR_ARRAY_IDX(names, i, const char *));
    }
    if (names->nelts) {
        ap_log_rerror(
            APLOG_MARK, APLOG_DEBUG, 0, r,
            APLOGNO(20001) "removed %d client-sent X-APISec-* header(s), "
                           "request_id %s",
            names->nelts, apisec_request_id(r));
    }
    return DECLINED;
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
