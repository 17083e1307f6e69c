# AuthType JWT: tokens minted by python3-jwt and Crypt::JWT are accepted for
# every algorithm; every known attack is a 401 with an RFC 6750 challenge.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use ApisecTest qw(req hdr json_body audit_lines);
use ApisecJWT qw(mint crypt_jwt b64 keyfile claims_ok forge);
use MIME::Base64 qw(encode_base64url);

my %alg_key = (
    RS256 => 'rsa', RS384 => 'rsa', RS512 => 'rsa',
    PS256 => 'rsa', PS384 => 'rsa', PS512 => 'rsa',
    ES256 => 'ec256', ES384 => 'ec384', ES512 => 'ec521',
    EdDSA => 'ed25519',
    HS256 => 'hmac', HS384 => 'hmac', HS512 => 'hmac',
);
my %kid = (rsa => 'rsa', ec256 => 'ec256', ec384 => 'ec384', ec521 => 'ec521',
           ed25519 => 'ed', hmac => 'hs');
my @algs = sort keys %alg_key;
my @crypt_algs = grep { $_ ne 'EdDSA' || eval { require Crypt::PK::Ed25519; 1 } } @algs;

sub get { my ($path, $token, @h) = @_;
          req(GET => $path, headers => [ ($token ? ("Authorization: Bearer $token") : ()), @h ]) }

my $es = mint('ES256', 'ec256', claims_ok(), { kid => 'ec256' });
my ($h64, $p64, $s64) = split /\./, $es;

my @attacks = (
    [ 'alg none',  join('.', b64({alg => 'none', typ => 'JWT'}), $p64, '') ],
    [ 'alg None',  join('.', b64({alg => 'None'}), $p64, '') ],
    [ 'alg NONE',  join('.', b64({alg => 'NONE', kid => 'hs'}), $p64, '') ],
    [ 'alg nOnE with a signature', join('.', b64({alg => 'nOnE'}), $p64, $s64) ],
    [ 'empty signature', "$h64.$p64." ],
    [ 'signature of another token', join('.', $h64, b64(claims_ok(sub => 'mallory')), $s64) ],
    [ 'HS256 signed with the RSA public key PEM',
      forge(header => {alg => 'HS256', kid => 'rsa'}, claims => claims_ok(),
            hmac_key => do { open my $f, '<', keyfile('rsa.pub.pem'); local $/; <$f> }) ],
    [ 'HS256 with the RSA PEM and no kid',
      forge(header => {alg => 'HS256'}, claims => claims_ok(),
            hmac_key => do { open my $f, '<', keyfile('rsa.pub.pem'); local $/; <$f> }) ],
    [ 'ES256 with r = s = 0', forge(header => {alg => 'ES256', kid => 'ec256'},
                                    claims => claims_ok(), sig => "\0" x 64) ],
    [ 'ES256 signature in DER form', "$h64.$p64." . encode_base64url("\x30\x06\x02\x01\x01\x02\x01\x01") ],
    [ 'kid path traversal', mint('HS256', 'hmac', claims_ok(), { kid => '../../../../etc/passwd' }) ],
    [ 'kid naming a URL', mint('HS256', 'hmac', claims_ok(), { kid => 'https://evil.example/k' }) ],
    [ 'header jwk', mint('ES256', 'ec256', claims_ok(), { kid => 'ec256',
        jwk => { kty => 'EC', crv => 'P-256', x => 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
                 y => 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' } }) ],
    [ 'header jku', mint('ES256', 'ec256', claims_ok(), { kid => 'ec256', jku => 'https://evil.example/jwks' }) ],
    [ 'header x5u', mint('ES256', 'ec256', claims_ok(), { kid => 'ec256', x5u => 'https://evil.example/cert' }) ],
    [ 'header x5c', mint('ES256', 'ec256', claims_ok(), { kid => 'ec256', x5c => ['MIIB'] }) ],
    [ 'unknown crit', mint('ES256', 'ec256', claims_ok(), { kid => 'ec256', crit => ['exp'], exp => 1 }) ],
    [ 'b64 false crit', mint('ES256', 'ec256', claims_ok(), { kid => 'ec256', crit => ['b64'], b64 => JSON::PP::false() }) ],
    [ 'expired', mint('ES256', 'ec256', claims_ok(exp => '-100'), { kid => 'ec256' }) ],
    [ 'not yet valid', mint('ES256', 'ec256', claims_ok(nbf => '+600'), { kid => 'ec256' }) ],
    [ 'issued in the future', mint('ES256', 'ec256', claims_ok(iat => '+600'), { kid => 'ec256' }) ],
    [ 'exp not a number', mint('ES256', 'ec256', { %{ claims_ok() }, exp => 'tomorrow' }, { kid => 'ec256' }) ],
    [ 'no exp', mint('ES256', 'ec256', claims_ok(exp => undef), { kid => 'ec256' }) ],
    [ 'wrong iss', mint('ES256', 'ec256', claims_ok(iss => 'https://evil.test'), { kid => 'ec256' }) ],
    [ 'wrong aud', mint('ES256', 'ec256', claims_ok(aud => 'api://elsewhere'), { kid => 'ec256' }) ],
    [ 'aud array without ours', mint('ES256', 'ec256', claims_ok(aud => ['a', 'b']), { kid => 'ec256' }) ],
    [ 'wrong key for the kid', mint('ES256', 'ec256', claims_ok(), { kid => 'ec384' }) ],
    [ 'unknown kid', mint('ES256', 'ec256', claims_ok(), { kid => 'nope' }) ],
    [ 'padded base64', "$h64.$p64=.$s64" ],
    [ 'standard base64 alphabet', do { (my $t = $es) =~ tr/-_/+\//; $t =~ /[+\/]/ ? $t : "$h64+.$p64.$s64" } ],
    [ 'extra segment', "$es.abc" ],
    [ 'two segments', "$h64.$p64" ],
    [ 'JWE (five parts)', join('.', b64({alg => 'RSA-OAEP', enc => 'A256GCM'}), 'a', 'b', 'c', 'd') ],
    [ 'header not an object', join('.', b64('"ES256"'), $p64, $s64) ],
    [ 'payload not an object', join('.', $h64, b64('[1,2]'), $s64) ],
    [ 'duplicate header member', join('.', b64('{"alg":"ES256","alg":"none","kid":"ec256"}'), $p64, $s64) ],
    [ 'oversized', mint('HS256', 'hmac', claims_ok(pad => 'x' x 5000), { kid => 'hs' }) ],
    [ 'garbage', 'not-a-token' ],
    [ 'no subject', mint('ES256', 'ec256', claims_ok(sub => undef), { kid => 'ec256' }) ],
    [ 'subject not a string', mint('ES256', 'ec256', claims_ok(sub => ['root']), { kid => 'ec256' }) ],
);

plan tests => 4 * @algs + 2 * @crypt_algs + 3 * @attacks + 27;

for my $alg (@algs) {
    my $key = $alg_key{$alg};
    my $t = mint($alg, $key, claims_ok(role => 'admin'), { kid => $kid{$key} });
    my $r = get('/jwt/echo.cgi', $t);
    my $j = json_body($r);
    ok t_cmp($r->{status}, 200, "python3-jwt $alg accepted");
    ok t_cmp($j && $j->{env}{REMOTE_USER}, 'alice', "$alg: REMOTE_USER from sub");
    ok t_cmp($j && $j->{env}{APISEC_CLAIM_ROLE}, 'admin', "$alg: claim forwarded in env");
    # Again: the verified-token cache answers the same way.
    ok t_cmp(get('/jwt/echo.cgi', $t)->{status}, 200, "$alg: accepted again (cache)");
}
for my $alg (@crypt_algs) {
    my $key = $alg_key{$alg};
    my $t = crypt_jwt($alg, $key, claims_ok(), $kid{$key});
    my $r = get('/jwt/echo.cgi', $t);
    ok t_cmp($r->{status}, 200, "Crypt::JWT $alg accepted");
    ok t_cmp(json_body($r) && json_body($r)->{env}{APISEC_CLAIM_SUB}, 'alice', "Crypt::JWT $alg: sub");
}

for my $a (@attacks) {
    my ($what, $token) = @$a;
    my $r = get('/jwt/echo.cgi', $token);
    ok t_cmp($r->{status}, 401, "attack rejected: $what");
    ok t_cmp(hdr($r, 'WWW-Authenticate'), qr/^Bearer realm="test api", error="invalid_token", error_description="[a-z ]+"$/,
             "$what: RFC 6750 challenge with a generic description");
    ok t_cmp(hdr($r, 'Content-Type'), 'application/problem+json', "$what: problem+json");
}

# A JWKS file (written by python3-jwt): use, key_ops and alg are respected.
ok t_cmp(get('/jwt/jwks/echo.cgi', mint('RS256', 'rsa', claims_ok(), { kid => 'jwks-rsa' }))->{status},
         200, 'JWKS: RSA key');
ok t_cmp(get('/jwt/jwks/echo.cgi', mint('ES256', 'ec256', claims_ok(), { kid => 'jwks-ec' }))->{status},
         200, 'JWKS: EC key with key_ops verify');
ok t_cmp(get('/jwt/jwks/echo.cgi', mint('EdDSA', 'ed25519', claims_ok(), { kid => 'jwks-ed' }))->{status},
         200, 'JWKS: Ed25519 key');
ok t_cmp(get('/jwt/jwks/echo.cgi', mint('PS256', 'rsa', claims_ok(), { kid => 'jwks-rsa' }))->{status},
         401, "JWKS: the key's alg RS256 refuses a PS256 token");
ok t_cmp(get('/jwt/jwks/echo.cgi', mint('ES384', 'ec384', claims_ok(), { kid => 'jwks-enc' }))->{status},
         401, 'JWKS: a use=enc key never verifies');

# A certificate as the key.
my $t = mint('RS256', 'rsa', claims_ok(), { kid => 'rsacert' });
ok t_cmp(get('/jwt/echo.cgi', $t)->{status}, 200, 'key from an X.509 certificate');

# No token: the challenge without an error code.
my $r = get('/jwt/echo.cgi');
ok t_cmp($r->{status}, 401, 'no token: 401');
ok t_cmp(hdr($r, 'WWW-Authenticate'), 'Bearer realm="test api"', 'no token: challenge without error');
my $p = json_body($r);
ok t_cmp($p && $p->{status}, 401, 'no token: problem body');

# Descriptions are generic, never a library message.
$r = get('/jwt/echo.cgi', mint('ES256', 'ec256', claims_ok(exp => '-100'), { kid => 'ec256' }));
ok t_cmp(hdr($r, 'WWW-Authenticate'), qr/error_description="token expired"/, 'expired: "token expired"');
$r = get('/jwt/echo.cgi', "$h64.$p64." . encode_base64url('x' x 64));
ok t_cmp(hdr($r, 'WWW-Authenticate'), qr/error_description="signature invalid"/, 'bad signature: "signature invalid"');

# Two tokens in one request.
$r = get('/jwt/cookie/echo.cgi', $es, "Cookie: access_token=$es");
ok t_cmp($r->{status}, 401, 'header and cookie: 401');
$r = req(GET => '/jwt/echo.cgi', headers => ["Authorization: Bearer $es", "Authorization: Bearer $es"]);
ok t_cmp($r->{status}, 401, 'two Authorization headers: 401');
$r = req(GET => '/jwt/cookie/echo.cgi', headers => ["Cookie: access_token=$es; access_token=$es"]);
ok t_cmp($r->{status}, 401, 'two cookies: 401');
$r = req(GET => '/jwt/cookie/echo.cgi', headers => ["Cookie: theme=dark; access_token=$es"]);
ok t_cmp($r->{status}, 200, 'token from the cookie');
$r = req(GET => '/jwt/echo.cgi', headers => ["Cookie: access_token=$es"]);
ok t_cmp($r->{status}, 401, 'cookie not configured here: not read');

# Explicit typing and lifetime.
$r = get('/jwt/typ/echo.cgi', mint('ES256', 'ec256', claims_ok(), { kid => 'ec256', typ => 'at+jwt' }));
ok t_cmp($r->{status}, 200, 'typ at+jwt accepted');
$r = get('/jwt/typ/echo.cgi', mint('ES256', 'ec256', claims_ok(), { kid => 'ec256', typ => 'application/at+jwt' }));
ok t_cmp($r->{status}, 200, 'typ application/at+jwt accepted');
$r = get('/jwt/typ/echo.cgi', $es);
ok t_cmp($r->{status}, 401, 'typ JWT refused where at+jwt is required');
$r = get('/jwt/typ/echo.cgi', mint('ES256', 'ec256', claims_ok(exp => '+7200', iat => '-5'), { kid => 'ec256', typ => 'at+jwt' }));
ok t_cmp($r->{status}, 401, 'lifetime over APISecJWTMaxLifetime refused');

# Per-scope algorithm list and required claims.
$r = get('/jwt/strict/echo.cgi', mint('RS256', 'rsa', claims_ok(jti => 'j1'), { kid => 'rsa' }));
ok t_cmp($r->{status}, 401, 'RS256 refused where only ES256 is listed');
$r = get('/jwt/strict/echo.cgi', mint('ES256', 'ec256', claims_ok(jti => 'j1'), { kid => 'ec256' }));
ok t_cmp($r->{status}, 200, 'ES256 with jti accepted where it is required');
$r = get('/jwt/strict/echo.cgi', $es);
ok t_cmp($r->{status}, 401, 'missing required jti refused');

# The cache never outlives the token: leeway 0, exp in 2 s.
my $short = mint('ES256', 'ec256', claims_ok(jti => 'j2', exp => '+2'), { kid => 'ec256' });
ok t_cmp(get('/jwt/strict/echo.cgi', $short)->{status}, 200, 'short-lived token accepted');
sleep 3;
ok t_cmp(get('/jwt/strict/echo.cgi', $short)->{status}, 401, 'and refused once expired, cached or not');

# Audit events for failures, with the reason and never the token.
my @events = grep { /"auth_failed"/ } audit_lines();
ok t_cmp(scalar(@events) >= @attacks ? 'logged' : scalar(@events), 'logged', 'auth_failed events written');
ok t_cmp(scalar(grep { index($_, $s64) >= 0 || index($_, $p64) >= 0 } @events), 0, 'no token in the audit log');
