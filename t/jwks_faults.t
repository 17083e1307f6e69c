# Remote key sets when the network misbehaves: a provider that accepts
# connections and never answers (every request finishes within
# APISecJWKSTimeout plus a margin; other locations keep serving), hostile
# or broken JWKS answers (oversized, malformed, an oct key, a 1024-bit RSA
# key, a redirect to another host: ignored, logged, the last good keys
# kept), and a flood of requests with random kids from many processes that
# makes at most a handful of provider requests (counted in the provider's
# own request log).
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use File::Temp qw(tempdir);
use IO::Socket::INET ();
use POSIX ();
use Time::HiRes qw(time sleep);
use ApisecServer qw(free_port start_httpd stop_httpd stop_pid one_request start_blackhole);
use ApisecOIDC qw(start_provider token fetches start_hostile set_mode fake_token wait_until);

plan tests => 37;

my $MARGIN = $ENV{APISEC_ASAN_LIB} ? 1.0 : 0.5;
my $dir = tempdir(CLEANUP => 1);
chmod 0755, $dir;
my $libexec = $ENV{APISEC_HTTPD_LIBEXECDIR};
my ($P, $H, $BH) = map { free_port() } 1 .. 3;

my $prov = start_provider(port => $P, keys => "$dir/k1.json", kid => 'k1', log => "$dir/p.log");
system("curl -s -o $dir/good.json http://127.0.0.1:$P/jwks") == 0 or die;
set_mode($dir, 'good');
my $hostile = start_hostile($H, $dir);
my $bh = start_blackhole($BH);

sub scope {
    my ($loc, $url, @algs) = @_;
    return ("<Location $loc>", 'AuthType JWT', "APISecJWTAlgorithms @algs",
            "APISecJWTKey $url", "APISecJWTIssuer http://127.0.0.1:$P",
            'APISecJWTAudience https://api.example/', 'Require valid-user', '</Location>');
}
my $port = free_port();
my $s = start_httpd(ports => [$port], conf => [
    "LoadModule authn_core_module $libexec/mod_authn_core.so",
    "LoadModule authz_user_module $libexec/mod_authz_user.so",
    'LogLevel warn apisec:info', 'APISecJWKSMinRefetch 1s', 'APISecJWKSTimeout 1s',
    '<Location /metrics>', 'SetHandler apisec-metrics', '</Location>',
    scope('/h/', "http://127.0.0.1:$H/jwks", qw(ES256 RS256 HS256)),
    scope('/bh/', "http://127.0.0.1:$BH/jwks", 'ES256'),
    # Discovery through RFC 8414 only, and metadata naming another issuer.
    '<Location /rfc8414/>', 'AuthType JWT', 'APISecJWTAlgorithms ES256',
    "APISecJWTIssuer http://127.0.0.1:$H", 'APISecJWTIssuerDiscovery On',
    'APISecJWTAudience https://api.example/', 'Require valid-user', '</Location>',
    '<Location /mismatch/>', 'AuthType JWT', 'APISecJWTAlgorithms ES256',
    "APISecJWTIssuer http://127.0.0.1:$H/t2", 'APISecJWTIssuerDiscovery On',
    'APISecJWTAudience https://api.example/', 'Require valid-user', '</Location>',
]);
sub get { my ($path, $tok) = @_; one_request($port, $path, $tok ? ("Authorization: Bearer $tok") : ()) }
sub error_log { open my $f, '<', "$s->{dir}/error_log" or return ''; local $/; <$f> }
sub hostile_log { fetches("$dir/requests", $_[0]) }
sub sign {
    my ($alg, $key, $kid) = @_;
    my $t = `/usr/bin/python3 $FindBin::Bin/oidc/hostile.py sign $alg $key $kid http://127.0.0.1:$P https://api.example/`;
    chomp $t; return $t;
}
use FindBin ();

# The provider's key, served by the hostile server while it behaves.
my $t = token($P);
my $r = wait_until(10, sub { my $x = get('/h/ok', $t); $x->[0] == 200 ? $x : undef });
ok t_cmp($r ? $r->[0] : 0, 200, 'good answer: the provider\'s token is accepted');

# The provider's key, a token naming the hostile server as its issuer.
my $th = `/usr/bin/python3 -c '
import json, sys, time, jwt
k = json.load(open(sys.argv[1]))["keys"][0]
key = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(k))
now = int(time.time())
print(jwt.encode({"iss": sys.argv[2], "aud": "https://api.example/", "sub": "s",
                  "iat": now, "exp": now + 300}, key, algorithm="ES256",
                 headers={"kid": k["kid"], "typ": "at+jwt"}))
' $dir/k1.json http://127.0.0.1:$H`;
chomp $th;
ok t_cmp(get('/rfc8414/ok', $th)->[0], 200, 'discovery: RFC 8414 metadata when there is no OpenID metadata');
ok t_cmp(hostile_log(qr{^GET /\.well-known/openid-configuration$}) >= 1
         && hostile_log(qr{^GET /\.well-known/oauth-authorization-server$}) >= 1, 1,
         'the OpenID metadata was asked first, then RFC 8414\'s');
my $rm = get('/mismatch/ok', $th);
ok t_cmp($rm->[0], 503, 'metadata naming another issuer: no keys, 503');
ok t_cmp(error_log(), qr{AH20303: remote JWKS http://127\.0\.0\.1:$H/\.well-known/oauth-authorization-server/t2 .*issuer differs from APISecJWTIssuer \(cause discovery\)},
         'logged with the cause');
ok t_cmp(hostile_log(qr{^GET /jwks-good$}), 1, 'the jwks_uri of the wrong issuer was not fetched');

my $n = 0;
# Each hostile answer is fetched through a kid-miss refetch.
sub hostile {
    my ($mode) = @_;
    set_mode($dir, $mode);
    sleep 1.1;   # past APISecJWKSMinRefetch
    my $before = hostile_log(qr{^GET /jwks$});
    get('/h/ok', fake_token('trigger-' . ++$n));
    return hostile_log(qr{^GET /jwks$}) - $before;
}

ok t_cmp(hostile('oversized'), 1, 'oversized answer fetched once');
ok t_cmp(error_log(), qr/AH20303: .*answer larger than 256 KB \(cause too_large\); keeping the last good keys/,
         'oversized: refused while receiving, logged');
ok t_cmp(get('/h/ok', $t)->[0], 200, 'oversized: the last good keys are kept');

hostile('malformed');
ok t_cmp(error_log(), qr/AH20303: .*: not JSON \(cause invalid\); keeping the last good keys/,
         'malformed: refused and logged');
ok t_cmp(get('/h/ok', $t)->[0], 200, 'malformed: the last good keys are kept');

hostile('oct');
ok t_cmp(error_log(), qr/AH20302: remote JWKS .*: key 1 \(kid hs\) ignored: symmetric \(oct\) key in a remote set/,
         'oct key: ignored with a log line');
ok t_cmp(get('/h/ok', sign('HS256', "$dir/hs.secret", 'hs'))->[0], 401,
         'oct key: a token signed with the published secret is refused');
ok t_cmp(get('/h/ok', $t)->[0], 200, 'oct key: the good keys still serve');

hostile('rsa1024');
ok t_cmp(error_log(), qr/AH20302: remote JWKS .*: key 1 \(kid weak\) ignored: .*2048/,
         '1024-bit RSA key: ignored with a log line');
ok t_cmp(get('/h/ok', sign('RS256', "$dir/weak.pem", 'weak'))->[0], 401,
         '1024-bit RSA key: a token signed with it is refused');
ok t_cmp(get('/h/ok', $t)->[0], 200, '1024-bit RSA key: the good keys still serve');

hostile('redirect');
ok t_cmp(error_log(), qr/AH20303: .*redirect to another host not followed \(cause redirect\)/,
         'redirect to another host: not followed, logged');
ok t_cmp(hostile_log(qr{^GET /jwks-good}), 1, 'the other host was never asked (one fetch so far: RFC 8414\'s jwks_uri)');
ok t_cmp(get('/h/ok', $t)->[0], 200, 'redirect: the last good keys are kept');
hostile('redirect-same');
ok t_cmp(hostile_log(qr{^GET /jwks-good}) >= 2, 1, 'a redirect on the same host is followed');
ok t_cmp(get('/h/ok', $t)->[0], 200, 'and its keys serve');

# The provider hangs while keys are loaded: requests with unknown kids wait
# for the one refetch at most the timeout, then get 401 (the keys there
# are); known kids are not held up at all.
set_mode($dir, 'hang');
sleep 1.1;
my $hout = "$dir/hang.times";
my @hk;
for my $i (1 .. 4) {
    my $pid = fork // die;
    if (!$pid) {
        my $x = get('/h/ok', fake_token("hang-$i"));
        open my $f, '>>', $hout; printf $f "%d %.3f\n", $x->[0], $x->[1]; close $f;
        POSIX::_exit(0);
    }
    push @hk, $pid;
}
sleep 0.2;
my @known = map { get('/h/ok', $t) } 1 .. 5;
waitpid($_, 0) for @hk;
open my $hf, '<', $hout; my @hang = map { [split] } <$hf>;
ok t_cmp(join(',', sort map { $_->[0] } @hang), '401,401,401,401',
         'hung provider: unknown kids answered 401 with the keys there are');
my ($hslow) = sort { $b <=> $a } map { $_->[1] } @hang;
ok t_cmp($hslow <= 1 + $MARGIN, 1, "and none waited past the timeout plus $MARGIN s");
diag(sprintf 'hung provider: slowest unknown-kid request %.2f s (timeout 1 s)', $hslow);
my ($kslow) = sort { $b <=> $a } map { $_->[1] } @known;
ok t_cmp(join(',', map { $_->[0] } @known) . ($kslow < 0.5 ? '' : ' slow'), '200,200,200,200,200',
         'known kids were answered at once meanwhile');
set_mode($dir, 'good');

my $metrics = `curl -s http://127.0.0.1:$port/metrics`;
ok t_cmp($metrics, qr/apisec_jwks_fetch_failures_total\{source="http:\/\/127\.0\.0\.1:$H\/jwks",cause="too_large"\} 1/,
         'metrics: the oversized answer counted');
ok t_cmp($metrics, qr/apisec_jwks_keys_ignored_total\{source="http:\/\/127\.0\.0\.1:$H\/jwks"\} [2-9]/,
         'metrics: ignored keys counted');

# The black hole: concurrent requests, each within the timeout plus a
# margin, while another location keeps serving.
my $out = "$dir/bh.times";
my @kids;
for my $i (1 .. 6) {
    my $pid = fork // die;
    if (!$pid) {
        my $x = get('/bh/ok', fake_token('bh'));
        open my $f, '>>', $out; printf $f "%d %.3f\n", $x->[0], $x->[1]; close $f;
        POSIX::_exit(0);
    }
    push @kids, $pid;
}
my @other;
my $end = time + 1.5;
while (time < $end) { push @other, get('/h/ok', $t) }
waitpid($_, 0) for @kids;
open my $bf, '<', $out; my @bh = map { [split] } <$bf>;
ok t_cmp(scalar(@bh), 6, 'every request to the black-holed provider got an answer');
ok t_cmp(join(',', map { $_->[0] } grep { $_->[0] != 503 } @bh), '', 'each a 503');
my ($slow) = sort { $b <=> $a } map { $_->[1] } @bh;
ok t_cmp($slow <= 1 + $MARGIN, 1, "the slowest within the timeout plus $MARGIN s");
diag(sprintf 'black hole: slowest %.2f s (timeout 1 s)', $slow);
ok t_cmp(join(',', grep { $_ != 200 } map { $_->[0] } @other), '', 'the other location kept serving');
my ($oslow) = sort { $b <=> $a } map { $_->[1] } @other;
ok t_cmp($oslow < 0.5, 1, 'and answered at once meanwhile');
ok t_cmp(error_log(), qr/AH20303: remote JWKS http:\/\/127\.0\.0\.1:$BH\/jwks .*cause timeout/,
         'the hung fetch is logged as a timeout');
stop_httpd($s);

# A flood with random kids, default APISecJWKSMinRefetch (60 s), from many
# connections over several processes.
my $fport = free_port();
my $f = start_httpd(ports => [$fport], conf => [
    "LoadModule authn_core_module $libexec/mod_authn_core.so",
    "LoadModule authz_user_module $libexec/mod_authz_user.so",
    scope('/p/', "http://127.0.0.1:$P/jwks", 'ES256'),
]);
wait_until(10, sub { one_request($fport, '/p/ok', "Authorization: Bearer $t")->[0] == 200 });
my $fbefore = fetches("$dir/p.log");
my $CLIENTS = 8;
my $EACH = 400;
my @pids;
for my $c (1 .. $CLIENTS) {
    my $pid = fork // die;
    if (!$pid) {
        my %st;
        my $conn;
        for my $i (1 .. $EACH) {
            my $tok = $i % 2 ? $t : fake_token(sprintf 'rnd-%d-%d-%d', $$, $i, int rand 1e9);
            $conn ||= IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $fport, Timeout => 5);
            print $conn "GET /p/ok HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer $tok\r\n\r\n";
            my $line = <$conn> // '';
            my ($code) = $line =~ m{^HTTP/1\.1 (\d+)};
            my ($len, $close) = (0, 0);
            while (defined(my $h = <$conn>)) {
                last if $h eq "\r\n";
                $len = $1 if $h =~ /^Content-Length:\s*(\d+)/i;
                $close = 1 if $h =~ /^Connection:\s*close/i;
            }
            read($conn, my $body, $len) if $len;
            undef $conn if $close || !$code;
            $st{ ($i % 2 ? 'good' : 'rnd') . '-' . ($code || 0) }++;
        }
        open my $o, '>', "$dir/flood.$c"; print $o join(" ", map { "$_=$st{$_}" } sort keys %st), "\n"; close $o;
        POSIX::_exit(0);
    }
    push @pids, $pid;
}
waitpid($_, 0) for @pids;
my %tot;
for my $c (1 .. $CLIENTS) {
    open my $o, '<', "$dir/flood.$c" or next;
    for (split ' ', scalar <$o>) { my ($k, $v) = split /=/; $tot{$k} += $v }
}
my $half = $CLIENTS * $EACH / 2;
ok t_cmp($tot{'good-200'} || 0, $half, "flood: all $half good tokens accepted");
ok t_cmp($tot{'rnd-401'} || 0, $half, "flood: all $half random-kid tokens refused with 401");
my $pids = () = do { my %p; $p{ $_->[0] }++ for ApisecServer::access_log($f); keys %p };
my $made = fetches("$dir/p.log") - $fbefore;
ok t_cmp($made <= 2, 1, 'flood: at most a handful of provider requests');
diag("flood: " . ($CLIENTS * $EACH) . " requests over $pids processes made $made JWKS fetches");
stop_httpd($f);
ok t_cmp(scalar(() = error_log() =~ /segfault|AH00052/g), 0, 'no child crashed');

stop_pid($_) for $prov, $hostile, $bh;
sub diag { print STDERR "# $_[0]\n" }
