# The verified-token cache remembers, per token and policy, what the checks
# that do not depend on the time gave (iss, aud, typ, required claims, the
# algorithm list, the user and the forwarded claims). One token sent in turn
# to scopes that share its key set but not its policy must get each scope's
# own answer every time, whichever scope saw it first, also when the policy
# comes from an .htaccess (read again for every request); and the time
# checks run on every request. One server process, so every request after
# the first finds the token in the same cache.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use ApisecJWT qw(mint claims_ok keyfile);
use ApisecServer qw(free_port start_httpd stop_httpd);
use File::Temp qw(tempdir);
use IO::Socket::INET ();

plan tests => 30;

my $port = free_port();
my $libexec = $ENV{APISEC_HTTPD_LIBEXECDIR};
my ($ec, $rsa) = (keyfile('ec256.pub.pem'), keyfile('rsa.pub.pem'));
# Two directories whose .htaccess give the audience (AllowOverride needs a
# <Directory> without a pattern, so they live outside the server's root).
my $ht = tempdir(CLEANUP => 1);
for my $d (qw(ht1 ht2)) {
    mkdir "$ht/$d" or die;
    open my $f, '>', "$ht/$d/data" or die; print $f "data\n"; close $f;
    open $f, '>', "$ht/$d/.htaccess" or die;
    print $f 'APISecJWTAudience ', ($d eq 'ht1' ? 'api://test' : 'api://other'), "\n";
    close $f;
}
my $s = start_httpd(ports => [$port], conf => [
    "LoadModule headers_module $libexec/mod_headers.so",
    "LoadModule authn_core_module $libexec/mod_authn_core.so",
    "LoadModule authz_user_module $libexec/mod_authz_user.so",
    # One process: one cache.
    'StartServers 1', 'ServerLimit 1', 'ThreadsPerChild 16', 'MaxRequestWorkers 16',
    'MinSpareThreads 1', 'MaxSpareThreads 16',
    '<Location /c/>',
    '  AuthType JWT', '  AuthName cache',
    '  APISecJWTAlgorithms ES256 RS256',
    "  APISecJWTKey kid=ec256 $ec", "  APISecJWTKey kid=rsa $rsa",
    '  APISecJWTIssuer https://issuer.test', '  APISecJWTAudience api://test',
    '  APISecJWTLeeway 0',
    '  APISecJWTForward role',
    '  Require valid-user',
    '  Header always set X-User "expr=%{REMOTE_USER}"',
    '  Header always set X-Role "%{APISEC_CLAIM_ROLE}e"',
    '  Header always set X-Email "%{APISEC_CLAIM_EMAIL}e"',
    '</Location>',
    '<Location /c/aud/>', '  APISecJWTAudience api://other', '</Location>',
    '<Location /c/iss/>', '  APISecJWTIssuer https://other.test', '</Location>',
    '<Location /c/user/>', '  APISecJWTUserClaim email', '  APISecJWTForward email', '</Location>',
    '<Location /c/alg/>', '  APISecJWTAlgorithms RS256', '</Location>',
    '<Location /c/req/>', '  APISecJWTRequire exp jti', '</Location>',
    '<Location /c/typ/>', '  APISecJWTType at+jwt', '</Location>',
    '<Location /c/life/>', '  APISecJWTMaxLifetime 60', '</Location>',
    # The key set from the server's configuration, the audience from each
    # directory's .htaccess.
    "Alias /ht1 $ht/ht1", "Alias /ht2 $ht/ht2",
    "<Directory $ht>",
    '  AllowOverride AuthConfig',
    '  AuthType JWT', '  AuthName cache',
    '  APISecJWTAlgorithms ES256',
    "  APISecJWTKey kid=ec256 $ec",
    '  APISecJWTIssuer https://issuer.test',
    '  Require valid-user',
    '  Header always set X-User "expr=%{REMOTE_USER}"',
    '</Directory>',
]);
# One keep-alive connection: [status, X-User, X-Role, X-Email].
my $conn;
sub get {
    my ($path, $token) = @_;
    for my $try (1, 2) {
        $conn ||= IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port) or die;
        print $conn "GET $path HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer $token\r\n\r\n";
        my ($head, $line) = ('');
        while (defined($line = <$conn>)) { last if $line eq "\r\n"; $head .= $line }
        if (!$head) { $conn = undef; next }
        my ($len) = $head =~ /^Content-Length: (\d+)/mi;
        read $conn, my $body, $len if $len;
        my ($status) = $head =~ m{^HTTP/1\.1 (\d+)};
        my %h = map { my ($v) = $head =~ /^$_: ([^\r]*)/mi; ($_ => $v // '') } qw(X-User X-Role X-Email);
        return join ' ', $status, map { $h{$_} eq '(null)' ? '' : $h{$_} } qw(X-User X-Role X-Email);
    }
    die "no answer for $path";
}

my $t = mint('ES256', 'ec256', claims_ok(role => 'admin', email => 'alice@example.test',
                                         exp => '+600', iat => '-5'), { kid => 'ec256' });

# Twice round the scopes, each time the same answers.
for my $round (1, 2) {
    ok t_cmp(get('/c/ok', $t), '200 alice admin ', "round $round: accepted where the policy fits");
    ok t_cmp(get('/c/aud/ok', $t), '401   ', "round $round: refused where another audience is required");
    ok t_cmp(get('/c/iss/ok', $t), '401   ', "round $round: refused where another issuer is required");
    ok t_cmp(get('/c/user/ok', $t), '200 alice@example.test  alice@example.test',
             "round $round: another user claim and forward list give their own user and claims");
    ok t_cmp(get('/c/alg/ok', $t), '401   ', "round $round: refused where its algorithm is not listed");
    ok t_cmp(get('/c/req/ok', $t), '401   ', "round $round: refused where a claim it lacks is required");
    ok t_cmp(get('/c/typ/ok', $t), '401   ', "round $round: refused where another type is required");
    ok t_cmp(get('/c/life/ok', $t), '401   ', "round $round: refused where its lifetime is too long");
    ok t_cmp(get('/ht1/data', $t), '200 alice  ', "round $round: .htaccess audience that fits: accepted");
    ok t_cmp(get('/ht2/data', $t), '401   ', "round $round: .htaccess audience that does not: refused");
}

# Seen first where it is refused, then where it fits.
my $u = mint('ES256', 'ec256', claims_ok(sub => 'bob', role => 'ops'), { kid => 'ec256' });
ok t_cmp(get('/c/aud/ok', $u), '401   ', 'a new token refused first');
ok t_cmp(get('/c/ok', $u), '200 bob ops ', 'then accepted where it fits');
ok t_cmp(get('/c/aud/ok', $u), '401   ', 'and still refused where it does not');

# An .htaccess that changes between requests is what the next request gets.
open my $f, '>', "$ht/ht2/.htaccess" or die;
print $f "APISecJWTAudience api://test\n"; close $f;
ok t_cmp(get('/ht2/data', $t), '200 alice  ', 'an edited .htaccess applies to a cached token');

# Time checks on every request: nbf in the future is refused while cached
# elsewhere; a token past exp (leeway 0) is refused once its time is up.
my $soon = mint('ES256', 'ec256', claims_ok(exp => '+2'), { kid => 'ec256' });
ok t_cmp(get('/c/ok', $soon), '200 alice  ', 'a short-lived token accepted');
ok t_cmp(get('/c/ok', $soon), '200 alice  ', 'and again, from the cache');
sleep 3;
ok t_cmp(get('/c/ok', $soon), '401   ', 'and refused once expired');

my $later = mint('ES256', 'ec256', claims_ok(nbf => '+3', exp => '+600'), { kid => 'ec256' });
ok t_cmp(get('/c/ok', $later), '401   ', 'a token not yet valid is refused');
my $ok = 0;
for (1 .. 50) { $ok = get('/c/ok', $later) =~ /^200/ and last; select undef, undef, undef, 0.2 }
ok t_cmp($ok, 1, 'and accepted once its nbf has come');
ok t_cmp(get('/c/ok', $later), '200 alice  ', 'and from then on');

stop_httpd($s);
