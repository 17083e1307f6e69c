/* Format checkers (see json_format.h for what each accepts). Hand-written
 * scanners rather than regexes: no allocation, no backtracking. */
#include "json_format.h"

#include <string.h>

static int digit(char c)
{
    return c >= '0' && c <= '9';
}

static int hexdig(char c)
{
    return digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static int alpha(char c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

/* n decimal digits at s as a number, or -1. */
static int num(const char *s, int n)
{
    int v = 0, k;

    for (k = 0; k < n; k++) {
        if (!digit(s[k])) {
            return -1;
        }
        v = v * 10 + (s[k] - '0');
    }
    return v;
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static apr_uint64_t rd8(const char *s)
{
    apr_uint64_t v;

    memcpy(&v, s, 8);
    return v;
}

static apr_uint64_t rd4(const char *s)
{
    apr_uint32_t v;

    memcpy(&v, s, 4);
    return v;
}

/* High bit of each byte of x (all below 0x80) that lies in [lo, hi]: adding
 * 0x80 - lo sets it when the byte is at least lo, adding 0x7F - hi when it
 * is above hi; no byte carries into the next. */
static apr_uint64_t in_range(apr_uint64_t x, unsigned int lo, unsigned int hi)
{
    return (x + ONES * (0x80 - lo)) & ~(x + ONES * (0x7F - hi)) & HIGHS;
}

/* Are all eight bytes of x hex digits? A word at a time: uuids are checked
 * once per request per uuid, and byte loops showed in the profile. */
static int hex8(apr_uint64_t x)
{
    if (x & HIGHS) {
        return 0;
    }
    return (in_range(x, '0', '9') | in_range(x | (ONES * 0x20), 'a', 'f'))
           == HIGHS;
}

static int check_uuid(const char *s, apr_size_t len)
{
    if (len != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-'
        || s[23] != '-') {
        return 0;
    }
    /* 8-4-4-4-12: the two 4-digit groups side by side in one word, the
     * last group as two overlapping words */
    return hex8(rd8(s)) && hex8(rd4(s + 9) | (rd4(s + 14) << 32))
           && hex8(rd4(s + 19) | (rd4(s + 24) << 32)) && hex8(rd8(s + 28));
}

static int check_date(const char *s, apr_size_t len)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d, max;

    if (len != 10 || s[4] != '-' || s[7] != '-') {
        return 0;
    }
    y = num(s, 4);
    m = num(s + 5, 2);
    d = num(s + 8, 2);
    if (y < 0 || m < 1 || m > 12 || d < 1) {
        return 0;
    }
    max = mdays[m - 1];
    if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) {
        max = 29;
    }
    return d <= max;
}

static int check_date_time(const char *s, apr_size_t len)
{
    apr_size_t k = 19;
    int h, mi, sec, oh = 0, om = 0, sign = 0, utc;

    if (len < 20 || !check_date(s, 10) || (s[10] != 'T' && s[10] != 't')
        || s[13] != ':' || s[16] != ':') {
        return 0;
    }
    h = num(s + 11, 2);
    mi = num(s + 14, 2);
    sec = num(s + 17, 2);
    if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60) {
        return 0;
    }
    if (s[k] == '.') {
        apr_size_t f = ++k;

        while (k < len && digit(s[k])) {
            k++;
        }
        if (k == f) {
            return 0;
        }
    }
    if (k + 1 == len && (s[k] == 'Z' || s[k] == 'z')) {
        sign = 0;
    }
    else if (k + 6 == len && (s[k] == '+' || s[k] == '-') && s[k + 3] == ':') {
        sign = (s[k] == '+') ? 1 : -1;
        oh = num(s + k + 1, 2);
        om = num(s + k + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59) {
            return 0;
        }
    }
    else {
        return 0;
    }
    if (sec == 60) {
        /* a leap second is inserted at 23:59:60 UTC */
        utc = ((h * 60 + mi - sign * (oh * 60 + om)) % 1440 + 1440) % 1440;
        if (utc != 23 * 60 + 59) {
            return 0;
        }
    }
    return 1;
}

/* Dotted quad at s[0..len). */
static int check_ipv4(const char *s, apr_size_t len)
{
    apr_size_t k = 0;
    int part;

    for (part = 0; part < 4; part++) {
        apr_size_t st = k;
        int v = 0;

        if (part && (k >= len || s[k++] != '.')) {
            return 0;
        }
        st = k;
        while (k < len && digit(s[k]) && k - st < 3) {
            v = v * 10 + (s[k++] - '0');
        }
        if (k == st || v > 255 || (s[st] == '0' && k - st > 1)) {
            return 0;
        }
    }
    return k == len;
}

static int check_ipv6(const char *s, apr_size_t len)
{
    apr_size_t k = 0;
    int groups = 0, gap = 0;

    if (len < 2) {
        return 0;
    }
    if (s[0] == ':') {
        if (s[1] != ':') {
            return 0;
        }
        gap = 1;
        k = 2;
        if (k == len) {
            return 1;
        }
    }
    while (k < len) {
        apr_size_t st = k;

        while (k < len && hexdig(s[k]) && k - st < 4) {
            k++;
        }
        if (k < len && s[k] == '.') {
            /* embedded IPv4 takes the last 32 bits */
            if (!check_ipv4(s + st, len - st)) {
                return 0;
            }
            groups += 2;
            k = len;
            break;
        }
        if (k == st) {
            return 0;
        }
        groups++;
        if (k == len) {
            break;
        }
        if (s[k] != ':') {
            return 0;
        }
        k++;
        if (k < len && s[k] == ':') {
            if (gap) {
                return 0;
            }
            gap = 1;
            k++;
            if (k == len) {
                break;
            }
        }
        else if (k == len) {
            return 0; /* trailing single colon */
        }
    }
    return gap ? groups <= 7 : groups == 8;
}

static int check_hostname(const char *s, apr_size_t len)
{
    apr_size_t k = 0, lab = 0;

    if (len == 0 || len > 253) {
        return 0;
    }
    for (k = 0; k <= len; k++) {
        if (k == len || s[k] == '.') {
            if (lab == 0 || lab > 63 || s[k - 1] == '-' || s[k - lab] == '-') {
                return 0;
            }
            lab = 0;
        }
        else if (alpha(s[k]) || digit(s[k]) || s[k] == '-') {
            lab++;
        }
        else {
            return 0;
        }
    }
    return 1;
}

static int atext(char c)
{
    return alpha(c) || digit(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

static int check_email(const char *s, apr_size_t len)
{
    apr_size_t k = 0;
    const char *d;
    apr_size_t dlen;

    if (len == 0 || len > 254) {
        return 0;
    }
    if (s[0] == '"') {
        for (k = 1; k < len && s[k] != '"'; k++) {
            if (s[k] == '\\') {
                k++;
                if (k >= len || s[k] < 0x20 || s[k] > 0x7E) {
                    return 0;
                }
            }
            else if (s[k] < 0x20 || s[k] > 0x7E) {
                return 0;
            }
        }
        if (k >= len || k == 1) {
            return 0;
        }
        k++;
    }
    else {
        for (; k < len && s[k] != '@'; k++) {
            if (s[k] == '.') {
                if (k == 0 || s[k - 1] == '.' || k + 1 >= len
                    || s[k + 1] == '@') {
                    return 0;
                }
            }
            else if (!atext(s[k])) {
                return 0;
            }
        }
        if (k == 0) {
            return 0;
        }
    }
    if (k >= len || s[k] != '@' || k > 64) {
        return 0;
    }
    d = s + k + 1;
    dlen = len - k - 1;
    if (dlen >= 2 && d[0] == '[' && d[dlen - 1] == ']') {
        if (dlen > 7 && memcmp(d + 1, "IPv6:", 5) == 0) {
            return check_ipv6(d + 6, dlen - 7);
        }
        return check_ipv4(d + 1, dlen - 2);
    }
    return check_hostname(d, dlen);
}

static int uri_char(char c)
{
    return alpha(c) || digit(c) || (c && strchr("-._~!$&'()*+,;=:@/?", c));
}

static int check_uri(const char *s, apr_size_t len)
{
    apr_size_t k = 0;
    int frag = 0;

    if (len == 0 || !alpha(s[0])) {
        return 0;
    }
    while (k < len
           && (alpha(s[k]) || digit(s[k]) || s[k] == '+' || s[k] == '-'
               || s[k] == '.')) {
        k++;
    }
    if (k >= len || s[k] != ':') {
        return 0;
    }
    for (k++; k < len; k++) {
        char c = s[k];

        if (c == '%') {
            if (k + 2 >= len || !hexdig(s[k + 1]) || !hexdig(s[k + 2])) {
                return 0;
            }
            k += 2;
        }
        else if (c == '#') {
            if (frag++) {
                return 0;
            }
        }
        else if (c == '[' || c == ']') {
            /* IP literal host: only right after "//" (and userinfo) */
            const char *a = memchr(s, ':', len);

            if (frag || !a || a + 3 > s + len || a[1] != '/' || a[2] != '/') {
                return 0;
            }
        }
        else if (!uri_char(c)) {
            return 0;
        }
    }
    return 1;
}

static const struct {
    const char *name;
    apisec_format_e fmt;
} formats[] = {
    {"email", APISEC_FORMAT_EMAIL},
    {"uuid", APISEC_FORMAT_UUID},
    {"date-time", APISEC_FORMAT_DATE_TIME},
    {"date", APISEC_FORMAT_DATE},
    {"ipv4", APISEC_FORMAT_IPV4},
    {"ipv6", APISEC_FORMAT_IPV6},
    {"uri", APISEC_FORMAT_URI},
};

apisec_format_e apisec_format_lookup(const char *name)
{
    apr_size_t k;

    for (k = 0; k < sizeof(formats) / sizeof(formats[0]); k++) {
        if (strcmp(name, formats[k].name) == 0) {
            return formats[k].fmt;
        }
    }
    return APISEC_FORMAT_NONE;
}

int apisec_format_check(apisec_format_e fmt, const char *s, apr_size_t len)
{
    switch (fmt) {
    case APISEC_FORMAT_EMAIL:
        return check_email(s, len);
    case APISEC_FORMAT_UUID:
        return check_uuid(s, len);
    case APISEC_FORMAT_DATE_TIME:
        return check_date_time(s, len);
    case APISEC_FORMAT_DATE:
        return check_date(s, len);
    case APISEC_FORMAT_IPV4:
        return check_ipv4(s, len);
    case APISEC_FORMAT_IPV6:
        return check_ipv6(s, len);
    case APISEC_FORMAT_URI:
        return check_uri(s, len);
    default:
        return 1;
    }
}
