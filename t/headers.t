# Security headers (helmet's default set) on every response of a scope:
# static, CGI, proxied, 404, 500 and the module's own answers.
use strict;
use warnings;
use Apache::Test qw(plan ok have_module);
use Apache::TestUtil qw(t_cmp);
use ApisecTest qw(req hdr);

my %helmet = (
    'Content-Security-Policy' => "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests",
    'Cross-Origin-Opener-Policy' => 'same-origin',
    'Cross-Origin-Resource-Policy' => 'same-origin',
    'Origin-Agent-Cluster' => '?1',
    'Referrer-Policy' => 'no-referrer',
    'X-Content-Type-Options' => 'nosniff',
    'X-DNS-Prefetch-Control' => 'off',
    'X-Download-Options' => 'noopen',
    'X-Frame-Options' => 'SAMEORIGIN',
    'X-Permitted-Cross-Domain-Policies' => 'none',
    'X-XSS-Protection' => '0',
);
my @names = sort keys %helmet;

my @cases = (
    [ 'static 200',          'GET', '/any/data.json',    200 ],
    [ 'static 404',          'GET', '/any/missing.json', 404 ],
    [ 'CGI 200',             'GET', '/cgi/echo.cgi',     200 ],
    [ 'CGI 500',             'GET', '/cgi/fail.cgi',     500 ],
    [ 'proxied 200',         'GET', '/proxied/echo.cgi', 200 ],
    [ 'proxied 404',         'GET', '/proxied/nothing.cgi', 404 ],
    [ 'module 403 (TLS)',    'GET', '/tls/reject/data.json', 403 ],
    [ 'HEAD static',         'HEAD', '/any/data.json',   200 ],
);

plan tests => @cases * (2 + @names + 1) + 14;

for my $c (@cases) {
    my ($what, $method, $path, $status) = @$c;
    my $res = req($method, $path);
    ok t_cmp($res->{status}, $status, "$what: status");
    for my $n (@names) {
        ok t_cmp(hdr($res, $n), $helmet{$n}, "$what: $n");
    }
    ok t_cmp(hdr($res, 'X-Powered-By'), undef, "$what: no X-Powered-By");
    ok t_cmp(hdr($res, 'Strict-Transport-Security'), undef,
             "$what: no HSTS over plain HTTP");
}

# The application's own values are replaced, not duplicated.
my $cgi = req(GET => '/cgi/echo.cgi');
ok t_cmp(scalar @{ $cgi->{headers}{'x-frame-options'} }, 1,
         'CGI X-Frame-Options is sent once');

# Overrides in a child scope; the rest is inherited.
my $custom = req(GET => '/api/custom/data.json');
ok t_cmp(hdr($custom, 'X-Frame-Options'), 'DENY', 'APISecHeader overrides a default');
ok t_cmp(hdr($custom, 'Referrer-Policy'), undef, 'APISecHeader NAME off leaves it unset');
ok t_cmp(hdr($custom, 'Permissions-Policy'), 'geolocation=()', 'APISecHeader adds a header');
ok t_cmp(hdr($custom, 'Content-Security-Policy'), "default-src 'none'; frame-ancestors 'none'",
         'APISecCSP sets the policy');
ok t_cmp(hdr($custom, 'X-Content-Type-Options'), 'nosniff', 'other defaults are inherited');

my $off = req(GET => '/api/off/data.json');
ok t_cmp(hdr($off, 'X-Frame-Options'), undef, 'APISecHeaders Off: no X-Frame-Options');
ok t_cmp(hdr($off, 'Content-Security-Policy'), undef, 'APISecHeaders Off: no CSP');

my $none = req(GET => '/index.html');
ok t_cmp(hdr($none, 'X-Frame-Options'), undef, 'outside any APISec scope: untouched');

# HSTS over HTTPS only.
my $tls = req(GET => '/any/data.json', https => 1);
ok t_cmp($tls->{status}, 200, 'HTTPS request served');
ok t_cmp(hdr($tls, 'Strict-Transport-Security'), 'max-age=31536000; includeSubDomains',
         'HTTPS: helmet HSTS');
my $tls_api = req(GET => '/api/data.json', https => 1);
ok t_cmp(hdr($tls_api, 'Strict-Transport-Security'), 'max-age=63072000; includeSubDomains; preload',
         'HTTPS: APISecHSTS value');
my $tls_404 = req(GET => '/api/missing.json', https => 1);
ok t_cmp(hdr($tls_404, 'Strict-Transport-Security'), 'max-age=63072000; includeSubDomains; preload',
         'HTTPS 404: HSTS too');
my $tls_custom = req(GET => '/api/custom/data.json', https => 1);
ok t_cmp(hdr($tls_custom, 'Strict-Transport-Security'), undef, 'APISecHSTS off');
