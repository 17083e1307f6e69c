# Rate limits on the suite's server (shm store): 429 problem with
# Retry-After, the RateLimit header formats, keys (ip behind a trusted
# proxy, header, user), methods, count=failures, exemptions, merging down
# the tree, virtual hosts, and the metrics page.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use ApisecTest qw(req hdr json_body audit_lines);
use ApisecJWT qw(mint claims_ok);

plan tests => 64;

sub get { my ($path, @h) = @_; req(GET => $path, headers => \@h) }
sub via_proxy { my ($path, $ip, @h) = @_;
                req(GET => $path, vhost => 'apisec_proxy',
                    headers => [ "X-Forwarded-For: $ip", @h ]) }

# The limits here count in windows of one hour aligned to the clock: a run
# that crossed an hour's edge would see the previous hour weigh in, so one
# that would start in its last minute starts just after it.
sleep(3601 - time % 3600) if time % 3600 > 3540;
# Seconds to the hour's end, as the server computes them (to the second).
sub to_edge { 3600 - time % 3600 }

# --- key=ip, the 429 answer and the ietf fields ---
my @r = map { get('/rl/ip/echo.cgi') } 1 .. 3;
ok t_cmp(join(',', map { $_->{status} } @r), '200,200,200', 'the first 3 of 3/1h pass');
ok t_cmp(hdr($r[0], 'RateLimit-Policy'), qr/^"ip-3-3600s";q=3;w=3600$/,
         'RateLimit-Policy (ietf) names the limit, quota and window');
ok t_cmp(hdr($r[0], 'RateLimit'), qr/^"ip-3-3600s";r=2;t=\d+$/, 'RateLimit says 2 remain');
ok t_cmp(hdr($r[2], 'RateLimit'), qr/;r=0;/, 'none remain after the third');
my $no = get('/rl/ip/echo.cgi');
ok t_cmp($no->{status}, 429, 'the fourth is refused with 429');
my $edge = to_edge();
ok t_cmp(abs((hdr($no, 'Retry-After') // -1e6) - $edge) <= 2 ? 'to the edge' : hdr($no, 'Retry-After'),
         'to the edge', "Retry-After: the rest of the hour ($edge s), when the count of 3 weighs below 3");
ok t_cmp(hdr($no, 'Content-Type'), 'application/problem+json', 'the 429 is problem+json');
my $j = json_body($no) || {};
ok t_cmp($j->{status}, 429, 'problem status 429');
ok t_cmp(defined $j->{request_id} ? 1 : 0, 1, 'the problem carries the request id');
ok t_cmp(hdr($no, 'RateLimit'), qr/^"ip-3-3600s";r=0;t=\d+$/, 'the 429 carries the RateLimit fields too, once');
ok t_cmp(hdr($no, 'Retry-After'), qr/^\d+$/, 'and one Retry-After');
ok t_cmp(scalar(grep { /"rate_limited"/ } audit_lines()) > 0 ? 1 : 0, 1,
         'the refusal is an audit event');

# --- header formats ---
my $d7 = get('/rl/draft7/echo.cgi');
my $reset = 3600 + to_edge();
my ($d7r) = (hdr($d7, 'RateLimit') // '') =~ /^limit=2, remaining=1, reset=(\d+)$/;
ok t_cmp(defined $d7r && abs($d7r - $reset) <= 2 ? 'reset' : hdr($d7, 'RateLimit'), 'reset',
         "draft-7 RateLimit: limit=2, remaining=1, reset=$reset (this hour and the next)");
ok t_cmp(hdr($d7, 'RateLimit-Policy'), '2;w=3600', 'draft-7 RateLimit-Policy');
my $d6 = get('/rl/draft6/echo.cgi');
my @d6 = map { hdr($d6, "RateLimit-$_") // -1e6 } qw(Limit Remaining Reset);
ok t_cmp("$d6[0] $d6[1] " . (abs($d6[2] - $reset) <= 2 ? 'reset' : $d6[2]), '2 1 reset',
         'draft-6 RateLimit-Limit, -Remaining, -Reset');
my $off = get('/rl/hoff/echo.cgi');
ok t_cmp(join(' ', map { defined hdr($off, $_) ? $_ : () } qw(RateLimit RateLimit-Policy RateLimit-Limit)),
         '', 'off: no RateLimit fields');
$off = get('/rl/hoff/echo.cgi');
ok t_cmp($off->{status} . ' ' . (hdr($off, 'Retry-After') // '-'), qr/^429 \d+$/,
         'off: the 429 still has Retry-After');

# --- answers whose headers httpd or a backend replaces ---
my $e404 = get('/rl/err/nothing-here');
ok t_cmp($e404->{status} . ' ' . (hdr($e404, 'RateLimit') // '-'), qr/^404 "err";r=99;t=\d+$/,
         "httpd's 404 page carries the fields");
ok t_cmp(hdr($e404, 'RateLimit-Policy'), '"err";q=100;w=3600', 'and the policy');
my $head = req(HEAD => '/rl/err/echo.cgi?app_ratelimit=1');
ok t_cmp($head->{status} . ' ' . (hdr($head, 'RateLimit') // '-'), qr/^200 "err";r=98;t=\d+$/,
         "a HEAD answer carries them, in place of the CGI's own");
my $ed = get('/rl/errdoc/nothing-here');
ok t_cmp($ed->{status} . ' ' . (hdr($ed, 'RateLimit') // '-'), qr/^404 "errdoc";r=99;t=\d+$/,
         'an ErrorDocument page (an internal redirect) carries the first request\'s fields');
ok t_cmp($ed->{body}, qr/<html/i, 'and it is that document');
my $px = get('/rl/proxied/echo.cgi?app_ratelimit=1');
ok t_cmp($px->{status} . ' ' . (hdr($px, 'RateLimit') // '-'), qr/^200 "prx";r=99;t=\d+$/,
         "a proxied answer carries the module's fields, in place of the backend's");
ok t_cmp(hdr($px, 'RateLimit-Policy'), '"prx";q=100;w=3600', 'and its policy');

# --- several limits; merging down the tree ---
my $m1 = get('/rl/multi/inner/echo.cgi');
ok t_cmp(hdr($m1, 'RateLimit'), qr/^"tight";r=1;/, 'the most restrictive of three limits is reported');
my $m2 = get('/rl/multi/echo.cgi');
ok t_cmp($m2->{status}, 200, 'the parent scope shares the named limit');
my $m3 = get('/rl/multi/inner/echo.cgi');
ok t_cmp($m3->{status}, 429, "a child scope's own looser limit does not lift the parent's");
ok t_cmp(hdr($m3, 'RateLimit-Policy'), qr/^"tight"/, 'the 429 names the limit that refused');

# --- key=header ---
my @a = map { get('/rl/hdr/echo.cgi', 'X-API-Key: key-a') } 1 .. 3;
ok t_cmp(join(',', map { $_->{status} } @a), '200,200,429', 'key=header: key-a gets 2 of 2/1h');
ok t_cmp(get('/rl/hdr/echo.cgi', 'X-API-Key: key-b')->{status}, 200, 'key-b has its own budget');
my $nokey = get('/rl/hdr/echo.cgi');
ok t_cmp($nokey->{status} . ' ' . (defined hdr($nokey, 'RateLimit') ? 'fields' : 'none'),
         '200 none', 'a request without the header is not counted by that limit');

# --- methods= ---
ok t_cmp(join(',', map { get('/rl/methods/echo.cgi')->{status} } 1 .. 4), '200,200,200,200',
         'methods=POST,PUT: GETs are not limited');
my $p1 = req(POST => '/rl/methods/echo.cgi', data => '{}', headers => ['Content-Type: application/json']);
my $p2 = req(PUT => '/rl/methods/echo.cgi', data => '{}', headers => ['Content-Type: application/json']);
ok t_cmp("$p1->{status},$p2->{status}", '200,429', 'POST then PUT share the 1/1h limit');

# --- key=ip behind a trusted proxy (mod_remoteip) ---
my @x = map { via_proxy('/rl/xff/echo.cgi', '198.51.100.7') } 1 .. 3;
ok t_cmp(join(',', map { $_->{status} } @x), '200,200,429', 'X-Forwarded-For client 198.51.100.7 limited');
ok t_cmp(via_proxy('/rl/xff/echo.cgi', '198.51.100.8')->{status}, 200,
         'another forwarded client is counted apart');
ok t_cmp(get('/rl/xff/echo.cgi', 'X-Forwarded-For: 198.51.100.9')->{status}, 200,
         'without a trusted proxy the address is the peer (first request of 127.0.0.1)');
ok t_cmp(get('/rl/xff/echo.cgi', 'X-Forwarded-For: 198.51.100.10')->{status}, 200,
         'an untrusted X-Forwarded-For does not choose the key (second of 127.0.0.1)');
ok t_cmp(get('/rl/xff/echo.cgi', 'X-Forwarded-For: 198.51.100.11')->{status}, 429,
         'a forged header does not escape the limit');

# --- exempt ---
ok t_cmp(join(',', map { via_proxy('/rl/exempt/echo.cgi', '203.0.113.9')->{status} } 1 .. 4),
         '200,200,200,200', 'an exempt network is never limited');
ok t_cmp(defined hdr(via_proxy('/rl/exempt/echo.cgi', '203.0.113.9'), 'RateLimit') ? 1 : 0, 0,
         'an exempt client gets no RateLimit fields');
ok t_cmp(hdr(via_proxy('/rl/exempt/echo.cgi?app_ratelimit=1', '203.0.113.9'), 'RateLimit'),
         '"app";r=5;t=1', "where no limit of the module's applies, the application's field goes out as it is");
ok t_cmp(join(',', map { via_proxy('/rl/exempt/echo.cgi', '2001:db8::5')->{status} } 1 .. 3),
         '200,200,200', 'an exempt IPv6 network is never limited');
ok t_cmp(join(',', map { via_proxy('/rl/exempt/echo.cgi', '198.51.100.20')->{status} } 1 .. 2),
         '200,429', 'others are');

# --- two virtual hosts never share counters ---
ok t_cmp(get('/rl/vh/echo.cgi')->{status}, 200, 'main host: 1 of 1/1h');
ok t_cmp(get('/rl/vh/echo.cgi')->{status}, 429, 'main host: over');
ok t_cmp(req(GET => '/rl/vh/echo.cgi', vhost => 'apisec_proxy')->{status}, 200,
         'the same client, limit and path on another virtual host: its own counter');

# --- key=user (AuthType JWT) ---
my $alice = mint('ES256', 'ec256', claims_ok(), { kid => 'ec256' });
my $bob = mint('ES256', 'ec256', claims_ok(sub => 'bob'), { kid => 'ec256' });
my @u = map { get('/jwt/rluser/echo.cgi', "Authorization: Bearer $alice") } 1 .. 3;
ok t_cmp(join(',', map { $_->{status} } @u), '200,200,429', 'key=user: alice gets 2 of 2/1h');
ok t_cmp(get('/jwt/rluser/echo.cgi', "Authorization: Bearer $bob")->{status}, 200,
         'bob, from the same address, has his own budget');
ok t_cmp(get('/jwt/rluser/echo.cgi')->{status}, 401, 'no token: 401, not a user limit');

# --- count=failures ---
my $bad = mint('ES256', 'ec256', claims_ok(aud => 'api://elsewhere'), { kid => 'ec256' });
my @f = map { via_proxy('/jwt/rlfail/echo.cgi', '192.0.2.50', "Authorization: Bearer $bad") } 1 .. 3;
ok t_cmp(join(',', map { $_->{status} } @f), '401,401,401', 'three failures are answered 401');
ok t_cmp(hdr($f[0], 'RateLimit'), qr/^"ip-3-3600s-failures";r=3;t=\d+$/,
         'a 401 carries the fields of the failure limit');
ok t_cmp(hdr($f[2], 'RateLimit'), qr/^"ip-3-3600s-failures";r=1;t=\d+$/,
         'which count the failures before it');
my $blocked = via_proxy('/jwt/rlfail/echo.cgi', '192.0.2.50', "Authorization: Bearer $alice");
ok t_cmp($blocked->{status}, 429, 'after 3 failures of 3/1h even a good token is refused with 429');
ok t_cmp(hdr($blocked, 'Retry-After'), qr/^\d+$/, 'with Retry-After');
my @g = map { via_proxy('/jwt/rlfail/echo.cgi', '192.0.2.51', "Authorization: Bearer $alice") } 1 .. 6;
ok t_cmp(join(',', map { $_->{status} } @g), '200,200,200,200,200,200',
         'successes are not counted: six 200s, no block');
ok t_cmp(hdr($g[5], 'RateLimit'), qr/;r=3;/, 'the failure budget is still whole after 200s');
my $f2 = via_proxy('/jwt/rlfail/echo.cgi', '192.0.2.51', "Authorization: Bearer $bad");
ok t_cmp($f2->{status}, 401, 'one failure of that client');
ok t_cmp(hdr(via_proxy('/jwt/rlfail/echo.cgi', '192.0.2.51', "Authorization: Bearer $alice"), 'RateLimit'),
         qr/;r=2;/, 'counts one');

# --- metrics ---
my $met = get('/apisec-metrics');
ok t_cmp($met->{status}, 200, 'the metrics page answers');
ok t_cmp(hdr($met, 'Content-Type'), qr{^text/plain; version=0\.0\.4}, 'Prometheus text format');
ok t_cmp($met->{body}, qr/^apisec_ratelimit_limited_total\{name="ip-3-3600s"\} [1-9]/m,
         'requests limited per limit name');
ok t_cmp($met->{body}, qr/^apisec_store_operations_total\{backend="shm"\} [1-9]\d*$/m,
         'store operations counted');
ok t_cmp($met->{body}, qr/^apisec_store_latency_seconds_bucket\{le="\+Inf"\} [1-9]/m,
         'store latency histogram');
ok t_cmp($met->{body}, qr/^apisec_store_shm_bytes 1048576$/m, 'shm store memory');
