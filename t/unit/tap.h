/* Minimal TAP producer for the C unit tests of the cores: prove reads the
 * output, so each test binary prints "ok N - name" / "not ok N - name" and
 * a plan at the end. Kept in one header so a test is a single .c file. */
#ifndef APISEC_TAP_H
#define APISEC_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

static int tap_ok(int cond, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), unused));

static int tap_ok(int cond, const char *fmt, ...)
{
    va_list ap;

    ++tap_count;
    if (!cond) {
        ++tap_failed;
    }
    printf("%sok %d - ", cond ? "" : "not ", tap_count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    return cond;
}

#define tap_is_int(got, want, name)                                          \
    do {                                                                     \
        long long tap_g_ = (long long)(got), tap_w_ = (long long)(want);     \
        if (!tap_ok(tap_g_ == tap_w_, "%s", (name))) {                       \
            printf("#   got: %lld\n#   expected: %lld\n", tap_g_, tap_w_);   \
        }                                                                    \
    } while (0)

#define tap_is_str(got, want, name)                                          \
    do {                                                                     \
        const char *tap_g_ = (got), *tap_w_ = (want);                        \
        int tap_eq_ = (tap_g_ && tap_w_) ? strcmp(tap_g_, tap_w_) == 0       \
                                         : tap_g_ == tap_w_;                 \
        if (!tap_ok(tap_eq_, "%s", (name))) {                                \
            printf("#   got: '%s'\n#   expected: '%s'\n",                    \
                   tap_g_ ? tap_g_ : "(null)", tap_w_ ? tap_w_ : "(null)");  \
        }                                                                    \
    } while (0)

static void tap_diag(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), unused));

static void tap_diag(const char *fmt, ...)
{
    va_list ap;

    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

/* Prints the plan and returns the exit status for main(). */
static int tap_done(void) __attribute__((unused));
static int tap_done(void)
{
    printf("1..%d\n", tap_count);
    return tap_failed ? 1 : 0;
}

#endif
