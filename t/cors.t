# CORS with an exact origin allowlist: actual requests, preflights,
# credentials, Vary, and a backend that tries to allow every origin.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use ApisecTest qw(req hdr json_body);

plan tests => 44;

my $ok_origin = 'https://app.example.com';
my $bad_origin = 'https://evil.example.net';

# Actual request from an allowed origin.
my $r = req(GET => '/api/data.json', headers => ["Origin: $ok_origin"]);
ok t_cmp($r->{status}, 200, 'allowed origin: 200');
ok t_cmp(hdr($r, 'Access-Control-Allow-Origin'), $ok_origin, 'allowed origin is echoed exactly');
ok t_cmp(hdr($r, 'Access-Control-Allow-Credentials'), 'true', 'credentials allowed when configured');
ok t_cmp(hdr($r, 'Access-Control-Expose-Headers'), 'X-Request-Id', 'exposed headers');
ok t_cmp(hdr($r, 'Vary'), qr/\bOrigin\b/, 'Vary: Origin');
ok t_cmp(hdr($r, 'Access-Control-Allow-Methods'), undef, 'no preflight headers on actual requests');

# The second allowed origin, with a port.
$r = req(GET => '/api/data.json', headers => ['Origin: http://localhost:3000']);
ok t_cmp(hdr($r, 'Access-Control-Allow-Origin'), 'http://localhost:3000', 'second origin allowed');

# Disallowed origins get no CORS headers at all, but still Vary.
for my $o ($bad_origin, 'https://app.example.com.evil.net', 'null',
           'https://app.example.com, https://evil.example.net', 'http://app.example.com') {
    $r = req(GET => '/api/data.json', headers => ["Origin: $o"]);
    ok t_cmp(hdr($r, 'Access-Control-Allow-Origin'), undef, "no Allow-Origin for '$o'");
    ok t_cmp(hdr($r, 'Access-Control-Allow-Credentials'), undef, "no Allow-Credentials for '$o'");
}
ok t_cmp(hdr($r, 'Vary'), qr/\bOrigin\b/, 'Vary: Origin for a disallowed origin');

# No Origin: Vary all the same (a cache must not serve one origin's answer to another).
$r = req(GET => '/api/data.json');
ok t_cmp(hdr($r, 'Vary'), qr/\bOrigin\b/, 'Vary: Origin without Origin');
ok t_cmp(hdr($r, 'Access-Control-Allow-Origin'), undef, 'no Allow-Origin without Origin');

# On errors too.
$r = req(GET => '/api/missing.json', headers => ["Origin: $ok_origin"]);
ok t_cmp($r->{status}, 404, '404 from an allowed origin');
ok t_cmp(hdr($r, 'Access-Control-Allow-Origin'), $ok_origin, 'Allow-Origin on the 404');

# Preflight from an allowed origin: 204 from the module.
$r = req(OPTIONS => '/api/data.json', headers => [
    "Origin: $ok_origin", 'Access-Control-Request-Method: POST',
    'Access-Control-Request-Headers: authorization, content-type']);
ok t_cmp($r->{status}, 204, 'preflight: 204');
ok t_cmp(hdr($r, 'Access-Control-Allow-Origin'), $ok_origin, 'preflight: Allow-Origin');
ok t_cmp(hdr($r, 'Access-Control-Allow-Methods'), 'GET, POST, DELETE', 'preflight: methods');
ok t_cmp(hdr($r, 'Access-Control-Allow-Headers'), 'Authorization, Content-Type, X-Trace', 'preflight: headers');
ok t_cmp(hdr($r, 'Access-Control-Max-Age'), '600', 'preflight: max-age');
ok t_cmp(hdr($r, 'Access-Control-Allow-Credentials'), 'true', 'preflight: credentials');
ok t_cmp(hdr($r, 'Vary'), qr/\bOrigin\b/, 'preflight: Vary');
ok t_cmp($r->{body}, '', 'preflight: no body');
ok t_cmp(hdr($r, 'X-Content-Type-Options'), 'nosniff', 'preflight: security headers too');

# Preflight from a disallowed origin: 403 problem, no CORS headers.
$r = req(OPTIONS => '/api/data.json', headers => [
    "Origin: $bad_origin", 'Access-Control-Request-Method: DELETE']);
ok t_cmp($r->{status}, 403, 'disallowed preflight: 403');
ok t_cmp(hdr($r, 'Content-Type'), 'application/problem+json', 'disallowed preflight: problem+json');
my $p = json_body($r);
ok t_cmp($p && $p->{status}, 403, 'problem status');
ok t_cmp($p && $p->{title}, 'Forbidden', 'problem title');
ok t_cmp(hdr($r, 'Access-Control-Allow-Origin'), undef, 'disallowed preflight: no Allow-Origin');
ok t_cmp(hdr($r, 'Access-Control-Allow-Methods'), undef, 'disallowed preflight: no Allow-Methods');
ok t_cmp(hdr($r, 'Vary'), qr/\bOrigin\b/, 'disallowed preflight: Vary');

# A plain OPTIONS (no Access-Control-Request-Method) is not a preflight.
$r = req(OPTIONS => '/api/data.json', headers => ["Origin: $ok_origin"]);
ok t_cmp($r->{status}, 200, 'plain OPTIONS goes to httpd');

# '*' without credentials.
$r = req(GET => '/any/data.json', headers => ["Origin: $bad_origin"]);
ok t_cmp(hdr($r, 'Access-Control-Allow-Origin'), '*', "'*' answers *, not the origin");
ok t_cmp(hdr($r, 'Access-Control-Allow-Credentials'), undef, "'*' never with credentials");

# A backend that allows every origin is overruled.
$r = req(GET => '/proxied/echo.cgi', headers => ["Origin: $bad_origin"]);
ok t_cmp($r->{status}, 200, 'proxied request served');
ok t_cmp(hdr($r, 'Access-Control-Allow-Origin'), undef, "backend's Allow-Origin: * removed");
$r = req(GET => '/proxied/echo.cgi', headers => ["Origin: $ok_origin"]);
ok t_cmp(hdr($r, 'Access-Control-Allow-Origin'), $ok_origin, 'proxied: allowed origin, once');
