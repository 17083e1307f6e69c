# Keys from the identity provider: a real OpenID provider (panva's
# oidc-provider, t/oidc) on 127.0.0.1 issues RFC 9068 access tokens by
# client_credentials; httpd takes its keys from the provider's JWKS URL or
# through discovery. Tokens accepted; wrong audience, issuer, scope and type
# refused; a key rotation followed through one kid-miss refetch without
# touching httpd, and the old key's tokens no longer accepted (not even from
# the verified-token cache); https with a private CA, an untrusted
# certificate refused; provider down at startup: 503 with Retry-After, then
# 200 once it is up.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use ApisecServer qw(free_port start_httpd stop_httpd stop_pid one_request);
use ApisecOIDC qw(start_provider token fetches make_ca fake_token wait_until);

plan tests => 37;

my $dir = tempdir(CLEANUP => 1);
my $libexec = $ENV{APISEC_HTTPD_LIBEXECDIR};
my ($P, $P2, $PT, $PU, $PD) = map { free_port() } 1 .. 5;
my ($ca, $cert, $key) = make_ca($dir, 'good');
my (undef, $ucert, $ukey) = make_ca($dir, 'other');

my $prov = start_provider(port => $P, keys => "$dir/k1.json", kid => 'k1', log => "$dir/p1.log");
# A second issuer with the same key: only its iss differs.
my $prov2 = start_provider(port => $P2, keys => "$dir/k1.json", log => "$dir/p2.log");
my $provt = start_provider(port => $PT, keys => "$dir/kt.json", kid => 'kt', log => "$dir/pt.log",
                           cert => $cert, key => $key);
my $provu = start_provider(port => $PU, keys => "$dir/ku.json", kid => 'ku', log => "$dir/pu.log",
                           cert => $ucert, key => $ukey);

sub scope {
    my ($loc, @lines) = @_;
    return ("<Location $loc>", 'AuthType JWT', 'APISecJWTAlgorithms ES256',
            'APISecJWTAudience https://api.example/', 'APISecJWTType at+jwt',
            @lines, '</Location>');
}

my @common = ("LoadModule authn_core_module $libexec/mod_authn_core.so",
              "LoadModule authz_user_module $libexec/mod_authz_user.so",
              'LogLevel warn apisec:info', 'APISecJWKSMinRefetch 1s',
              "APISecJWKSCA $ca");
my $port = free_port();
my $s = start_httpd(ports => [$port], conf => [
    @common,
    scope('/url/', "APISecJWTKey http://127.0.0.1:$P/jwks",
          "APISecJWTIssuer http://127.0.0.1:$P", 'Require valid-user'),
    scope('/disc/', "APISecJWTIssuer http://127.0.0.1:$P", 'APISecJWTIssuerDiscovery On',
          'Require valid-user'),
    scope('/write/', "APISecJWTKey http://127.0.0.1:$P/jwks",
          "APISecJWTIssuer http://127.0.0.1:$P", 'Require jwt-scope write'),
    scope('/tls/', "APISecJWTKey https://127.0.0.1:$PT/jwks",
          "APISecJWTIssuer https://127.0.0.1:$PT", 'Require valid-user'),
    scope('/untrusted/', "APISecJWTKey https://127.0.0.1:$PU/jwks",
          "APISecJWTIssuer https://127.0.0.1:$PU", 'Require valid-user'),
]);

sub get {
    my ($path, $tok) = @_;
    return one_request($port, $path, $tok ? ("Authorization: Bearer $tok") : ());
}
sub error_log { open my $f, '<', "$s->{dir}/error_log" or return ''; local $/; <$f> }

my $t1 = token($P, scope => 'read');
my $r = wait_until(10, sub { my $x = get('/url/ok', $t1); $x->[0] == 200 ? $x : undef })
     || get('/url/ok', $t1);
ok t_cmp($r->[0], 200, 'URL form: a token of the provider is accepted');
$r = get('/disc/ok', $t1);
ok t_cmp($r->[0], 200, 'discovery: the same token is accepted through the issuer metadata');
ok t_cmp(fetches("$dir/p1.log", qr{^GET /\.well-known/openid-configuration}), 1,
         'discovery read the OpenID metadata once for the whole server');
ok t_cmp(fetches("$dir/p1.log"), 2, 'the JWKS was fetched once per source (URL and discovery)');

$r = get('/url/ok', token($P, resource => 'https://other.example/'));
ok t_cmp($r->[0], 401, 'a token for another audience is refused');
ok t_cmp($r->[2], qr/error="invalid_token"/, 'with an invalid_token challenge');
$r = get('/url/ok', token($P2));
ok t_cmp($r->[0], 401, 'a token of another issuer signed with the same key is refused');
$r = get('/write/ok', $t1);
ok t_cmp($r->[0], 403, 'a token without the scope is refused with 403');
ok t_cmp($r->[2], qr/insufficient_scope/, 'insufficient_scope');
$r = get('/write/ok', token($P, scope => 'read write'));
ok t_cmp($r->[0], 200, 'a token with the scope is accepted');

# The same claims and key, typ JWT instead of at+jwt (RFC 9068 2.1).
my $jwt_typ = do {
    my ($h, $p) = split /\./, $t1;
    my $out = `/usr/bin/python3 -c '
import json, sys, base64, jwt
k = json.load(open(sys.argv[1]))["keys"][0]
p = json.loads(base64.urlsafe_b64decode(sys.argv[2] + "=" * (-len(sys.argv[2]) % 4)))
key = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(k))
print(jwt.encode(p, key, algorithm="ES256", headers={"kid": k["kid"], "typ": "JWT"}))
' $dir/k1.json $p`;
    chomp $out; $out;
};
$r = get('/url/ok', $jwt_typ);
ok t_cmp($r->[0], 401, 'a token of typ JWT (not at+jwt) is refused');
ok t_cmp($r->[2], qr/typ|type/i, 'the challenge says the type is wrong');

# Rotation: the provider restarts with a new key; httpd is not touched.
for (1 .. 10) { get('/url/ok', $t1) }   # in the verified-token caches
my $before = fetches("$dir/p1.log");
stop_pid($prov);
$prov = start_provider(port => $P, keys => "$dir/k2.json", kid => 'k2', log => "$dir/p1b.log");
sleep 1.1;   # past APISecJWKSMinRefetch since the startup fetches
my $t2 = token($P);
$r = get('/url/ok', $t2);
ok t_cmp($r->[0], 200, 'rotation: a token of the new key is accepted without touching httpd');
ok t_cmp(fetches("$dir/p1b.log"), 1, 'through exactly one JWKS fetch (the kid-miss refetch)');
my @old = map { get('/url/ok', $t1)->[0] } 1 .. 20;
ok t_cmp(join(',', grep { $_ != 401 } @old), '',
         'the removed key\'s token is refused by every process, cache or not');
my @new = map { get('/url/ok', $t2)->[0] } 1 .. 20;
ok t_cmp(join(',', grep { $_ != 200 } @new), '', 'the new token is accepted by every process');
ok t_cmp(fetches("$dir/p1b.log"), 1, 'other processes took the new keys from shared memory');

# https with APISecJWKSCA; an untrusted certificate.
$r = get('/tls/ok', token($PT, cacert => $ca));
ok t_cmp($r->[0], 200, 'https: keys fetched with certificate verification against APISecJWKSCA');
$r = get('/untrusted/ok', fake_token('ku'));
ok t_cmp($r->[0], 503, 'a provider whose certificate is not trusted: 503');
ok t_cmp(fetches("$dir/pu.log"), 0, 'no JWKS was read from the untrusted provider');
ok t_cmp(error_log(), qr/AH20303: remote JWKS https:\/\/127\.0\.0\.1:$PU\/jwks .*cause tls/,
         'the failure is logged with its cause');


ok t_cmp(error_log(), qr/AH20304: remote JWKS http:\/\/127\.0\.0\.1:$P\/jwks \(unknown kid fetch\)/,
         'the refetch is logged with its reason');

# A graceful restart: the new generation of children fetches the keys again
# and serves; the old ones stop (their fetcher threads end with them).
{
    my $apxs = $ENV{APISEC_APXS} || 'apxs';
    chomp(my $sbin = `$apxs -q SBINDIR`);
    chomp(my $target = `$apxs -q TARGET`);
    local $ENV{LD_PRELOAD} = $ENV{APISEC_ASAN_LIB} if $ENV{APISEC_ASAN_LIB};
    my $n0 = fetches("$dir/p1b.log");
    system("$sbin/$target -f $s->{dir}/httpd.conf -k graceful") == 0 or die 'graceful failed';
    $r = wait_until(15, sub { my $x = get('/url/ok', $t2);
                              $x->[0] == 200 && fetches("$dir/p1b.log") > $n0 ? $x : undef });
    ok t_cmp($r ? $r->[0] : 0, 200, 'after a graceful restart: keys fetched again, tokens accepted');
}
stop_httpd($s);

# Provider down when httpd starts: 503 + Retry-After, never 401 nor a hang;
# then 200 once it is up, no restart.
my $dport = free_port();
my $d = start_httpd(ports => [$dport], conf => [
    @common, 'APISecJWKSRefresh 2s 1h', 'APISecJWKSMaxStale 4s',
    '<Location /metrics>', 'SetHandler apisec-metrics', '</Location>',
    scope('/down/', "APISecJWTKey http://127.0.0.1:$PD/jwks",
          "APISecJWTIssuer http://127.0.0.1:$PD", 'Require valid-user'),
]);
$r = one_request($dport, '/down/ok', 'Authorization: Bearer ' . fake_token('kd'));
ok t_cmp($r->[0], 503, 'provider down at startup: 503');
ok t_cmp($r->[2], qr/^Retry-After: \d+\r?$/m, 'with Retry-After');
ok t_cmp($r->[2], qr{^Content-Type: application/problem\+json}m, 'as problem+json');
ok t_cmp($r->[2] =~ /WWW-Authenticate/ ? 'blames the token' : 'no challenge', 'no challenge',
         'no 401 challenge that blames the token');
ok t_cmp($r->[1] < 1, 1, 'answered at once (connection refused is known)');
my $provd = start_provider(port => $PD, keys => "$dir/kd.json", kid => 'kd', log => "$dir/pd.log");
my $td = token($PD);
my $t0 = time;
$r = wait_until(15, sub { my $x = one_request($dport, '/down/ok', "Authorization: Bearer $td");
                          $x->[0] == 200 ? $x : undef });
ok t_cmp($r ? $r->[0] : 0, 200, 'once the provider is up: 200, without a restart');
diag(sprintf('keys arrived %.1f s after the provider started', time - $t0));
# The provider goes away: the last good keys serve up to APISecJWKSMaxStale
# after the last successful fetch, then 503.
stop_pid($provd);
my $gone = time;
$r = one_request($dport, '/down/ok', "Authorization: Bearer $td");
ok t_cmp($r->[0], 200, 'provider gone: the last good keys still serve');
$r = wait_until(15, sub { my $x = one_request($dport, '/down/ok', "Authorization: Bearer $td");
                          $x->[0] == 503 ? $x : undef });
ok t_cmp($r ? $r->[0] : 0, 503, 'past APISecJWKSMaxStale: 503');
ok t_cmp($r ? $r->[2] : '', qr/^Retry-After: \d+\r?$/m, 'with Retry-After');
my $stale = time - $gone;
ok t_cmp($stale > 1 && $stale < 8, 1, 'after about MaxStale (4 s) from the last good fetch');
diag(sprintf('stale after %.1f s without the provider (MaxStale 4 s, refresh every 2 s)', $stale));
my $mb = `curl -s http://127.0.0.1:$dport/metrics`;
ok t_cmp($mb, qr/apisec_jwks_fetch_failures_total\{source="http:\/\/127\.0\.0\.1:$PD\/jwks",cause="connect"\} [1-9]/,
         'the failed fetches are counted by cause in the metrics');
ok t_cmp($mb, qr/apisec_jwks_unavailable_total\{source="[^"]+"\} [1-9]/, 'and the 503 answers');
open my $el, '<', "$d->{dir}/error_log"; my $dlog = do { local $/; <$el> };
ok t_cmp($dlog, qr/AH20303: .*cause connect.*no keys yet/, 'the failure at startup is logged with its cause');
stop_httpd($d);
ok t_cmp(scalar(() = $dlog =~ /segfault|AH00052/g), 0, 'no child crashed');

stop_pid($_) for $prov, $prov2, $provt, $provu;
sub diag { print STDERR "# $_[0]\n" }
