# APISecRequireTLS: 308 to https keeping path and query, 403 with reject,
# and X-Forwarded-Proto believed only from a proxy mod_remoteip trusts.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use ApisecTest qw(req hdr json_body port);

plan tests => 20;

my $tls_port = port('apisec_tls');

my $r = req(GET => '/tls/redirect/data.json?a=1&b=%2F');
ok t_cmp($r->{status}, 308, 'redirect: 308');
ok t_cmp(hdr($r, 'Location'), "https://127.0.0.1:$tls_port/tls/redirect/data.json?a=1&b=%2F",
         'redirect keeps path and query');
ok t_cmp(hdr($r, 'Content-Type'), 'application/problem+json', 'redirect body is a problem');
my $p = json_body($r);
ok t_cmp($p && $p->{status}, 308, 'problem status 308');
ok t_cmp($p && $p->{request_id}, qr/\S/, 'problem has a request id');

$r = req(POST => '/tls/redirect/data.json', data => '{"x":1}',
         headers => ['Content-Type: application/json']);
ok t_cmp($r->{status}, 308, 'POST redirected with 308 (method kept by clients)');

$r = req(GET => '/tls/redirect/data.json', https => 1);
ok t_cmp($r->{status}, 200, 'over HTTPS: served');

$r = req(GET => '/tls/reject/data.json?token=secret');
ok t_cmp($r->{status}, 403, 'reject: 403');
ok t_cmp(hdr($r, 'Content-Type'), 'application/problem+json', 'reject: problem+json');
$p = json_body($r);
ok t_cmp($p && $p->{detail}, 'This resource is only served over HTTPS.', 'reject: detail');
ok t_cmp(hdr($r, 'Location'), undef, 'reject: no Location');
ok t_cmp(hdr($r, 'Cache-Control'), 'no-store', 'reject: not cached');

$r = req(GET => '/tls/reject/data.json', https => 1);
ok t_cmp($r->{status}, 200, 'reject over HTTPS: served');

# A client that claims HTTPS itself is not believed.
$r = req(GET => '/tls/reject/data.json',
         headers => ['X-Forwarded-Proto: https', 'X-Forwarded-For: 203.0.113.9']);
ok t_cmp($r->{status}, 403, 'X-Forwarded-Proto from an untrusted client: ignored');
$r = req(GET => '/tls/redirect/data.json', headers => ['X-Forwarded-Proto: https']);
ok t_cmp($r->{status}, 308, 'X-Forwarded-Proto alone from an untrusted client: ignored');

# Through a proxy that mod_remoteip trusts (the apisec_proxy vhost trusts 127.0.0.1).
$r = req(GET => '/tls/reject/data.json', vhost => 'apisec_proxy',
         headers => ['X-Forwarded-Proto: https', 'X-Forwarded-For: 203.0.113.9']);
ok t_cmp($r->{status}, 200, 'trusted proxy saying https: served');
$r = req(GET => '/tls/reject/data.json', vhost => 'apisec_proxy',
         headers => ['X-Forwarded-Proto: http', 'X-Forwarded-For: 203.0.113.9']);
ok t_cmp($r->{status}, 403, 'trusted proxy saying http: refused');
$r = req(GET => '/tls/reject/data.json', vhost => 'apisec_proxy',
         headers => ['X-Forwarded-Proto: https, http', 'X-Forwarded-For: 203.0.113.9']);
ok t_cmp($r->{status}, 403, 'the nearest proxy (last value) decides');
$r = req(GET => '/api/data.json', vhost => 'apisec_proxy',
         headers => ['X-Forwarded-Proto: https', 'X-Forwarded-For: 203.0.113.9']);
ok t_cmp(hdr($r, 'Strict-Transport-Security'), qr/^max-age=63072000/,
         'HSTS sent when a trusted proxy says https');
$r = req(GET => '/api/data.json', headers => ['X-Forwarded-Proto: https']);
ok t_cmp(hdr($r, 'Strict-Transport-Security'), undef,
         'no HSTS when an untrusted client says https');
