/* The libcurl GET of remote key sets: verification of the certificate and
 * host name (system CAs or APISecJWKSCA), https (or http, which the
 * configuration allows only to loopback), a deadline for the whole fetch,
 * the 256 KB cap applied while receiving, no compression (libcurl asks for
 * none unless told), and redirects followed by hand, only to the same
 * scheme, host and port. */
#include "ap_jwks.h"
#include "ap_jwks_int.h"
#include "jwks_remote.h"

#include "apr_strings.h"

#include <curl/curl.h>

#define MAX_REDIRECTS 3

const char *const apisec_jwks_cause_names[CAUSE_COUNT] = {
    "connect",  "timeout",   "tls",     "http_status", "too_large",
    "redirect", "discovery", "invalid", "other"};

apr_status_t apisec_jwks_http_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? APR_SUCCESS
                                                             : APR_EGENERAL;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    apisec_jwks_body_t *b = ud;
    apr_size_t k = size * n;

    if (b->len + k > APISEC_JWKS_MAX_DOC) {
        b->too_large = 1;
        return 0; /* libcurl stops: CURLE_WRITE_ERROR */
    }
    memcpy(b->buf + b->len, data, k);
    b->len += k;
    return k;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    apisec_jwks_body_t *b = ud;
    apr_size_t k = size * n;

    if (k > 14 && !strncasecmp(data, "Cache-Control:", 14)) {
        char *v = apr_pstrmemdup(b->pool, data + 14, k - 14);
        char *e = v + strlen(v);
        while (e > v && (e[-1] == '\r' || e[-1] == '\n')) {
            *--e = '\0';
        }
        b->cache_control = v;
    }
    return k;
}

/* Whether A and B have the same scheme, host and port. */
static int same_origin(const char *a, const char *b)
{
    CURLU *ua = curl_url(), *ub = curl_url();
    char *pa[3] = {NULL, NULL, NULL}, *pb[3] = {NULL, NULL, NULL};
    static const CURLUPart parts[3] = {CURLUPART_SCHEME, CURLUPART_HOST,
                                       CURLUPART_PORT};
    int same = ua && ub && !curl_url_set(ua, CURLUPART_URL, a, 0)
               && !curl_url_set(ub, CURLUPART_URL, b, 0);
    int i;

    for (i = 0; same && i < 3; ++i) {
        same = !curl_url_get(ua, parts[i], &pa[i], CURLU_DEFAULT_PORT)
               && !curl_url_get(ub, parts[i], &pb[i], CURLU_DEFAULT_PORT)
               && !strcasecmp(pa[i], pb[i]);
    }
    for (i = 0; i < 3; ++i) {
        curl_free(pa[i]);
        curl_free(pb[i]);
    }
    curl_url_cleanup(ua);
    curl_url_cleanup(ub);
    return same;
}

const char *apisec_jwks_http_get(apr_pool_t *p, const char *url,
                                 apr_time_t deadline, apisec_jwks_body_t *b,
                                 cause_e *cause, long *status)
{
    const apisec_jwks_conf_t *c = apisec_jwks_conf();
    char errbuf[CURL_ERROR_SIZE];
    int hops;

    b->pool = p;
    b->buf = apr_palloc(p, APISEC_JWKS_MAX_DOC);
    for (hops = 0;; ++hops) {
        CURL *h = curl_easy_init();
        CURLcode rc;
        char *loc = NULL;
        apr_interval_time_t left = deadline - apr_time_now();
        const char *err = NULL;

        if (!h) {
            *cause = CAUSE_OTHER;
            return "libcurl cannot make a handle";
        }
        b->len = 0;
        b->too_large = 0;
        b->cache_control = NULL;
        errbuf[0] = '\0';
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                         (long)(left > 1000 ? left / 1000 : 1));
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        if (c->ca) {
            curl_easy_setopt(h, CURLOPT_CAINFO, c->ca);
        }
        curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                         (curl_off_t)APISEC_JWKS_MAX_DOC);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, b);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "mod_apisec");
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        rc = curl_easy_perform(h);
        *status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
        if (rc != CURLE_OK) {
            *cause = b->too_large || rc == CURLE_FILESIZE_EXCEEDED
                         ? CAUSE_TOO_LARGE
                     : rc == CURLE_OPERATION_TIMEDOUT ? CAUSE_TIMEOUT
                     : rc == CURLE_PEER_FAILED_VERIFICATION
                             || rc == CURLE_SSL_CONNECT_ERROR
                             || rc == CURLE_SSL_CACERT_BADFILE
                         ? CAUSE_TLS
                     : rc == CURLE_COULDNT_CONNECT
                             || rc == CURLE_COULDNT_RESOLVE_HOST
                         ? CAUSE_CONNECT
                         : CAUSE_OTHER;
            err =
                *cause == CAUSE_TOO_LARGE
                    ? "answer larger than 256 KB"
                    : apr_pstrdup(p, *errbuf ? errbuf : curl_easy_strerror(rc));
        }
        else if (*status >= 300 && *status < 400) {
            curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc);
            if (!loc || hops >= MAX_REDIRECTS) {
                *cause = CAUSE_REDIRECT;
                err = "too many redirects";
            }
            else if (!same_origin(url, loc)) {
                *cause = CAUSE_REDIRECT;
                err = "redirect to another host not followed";
            }
            else {
                url = apr_pstrdup(p, loc);
            }
        }
        else if (*status != 200) {
            *cause = CAUSE_STATUS;
            err = apr_psprintf(p, "HTTP status %ld", *status);
        }
        curl_easy_cleanup(h);
        if (err || !loc) {
            return err;
        }
    }
}
