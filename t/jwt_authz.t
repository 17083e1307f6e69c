# Authorization providers over the verified claims, and what reaches the
# application: Require jwt-scope / jwt-claim / jwt-owner, <RequireAny>,
# claims in the environment and (for proxied backends) in headers that a
# client cannot spoof.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use ApisecTest qw(req hdr json_body audit_lines);
use ApisecJWT qw(mint claims_ok);

plan tests => 30;

sub tok { mint('ES256', 'ec256', claims_ok(@_), { kid => 'ec256' }) }
# Scopes without APISecJWTAudience refuse tokens that carry an aud (RFC 7519
# 4.1.3: a recipient not named in aud must reject).
sub tok_noaud { tok(aud => undef, @_) }
sub get { my ($path, $token, @h) = @_;
          req(GET => $path, headers => [ "Authorization: Bearer $token", @h ]) }

# jwt-scope: every listed scope is needed.
my $r = get('/jwt/scope/echo.cgi', tok(scope => 'orders:read orders:write profile'));
ok t_cmp($r->{status}, 200, 'scope string with both scopes: granted');
$r = get('/jwt/scope/echo.cgi', tok(scp => ['orders:write', 'orders:read']));
ok t_cmp($r->{status}, 200, 'scp array with both scopes: granted');
$r = get('/jwt/scope/echo.cgi', tok(scope => 'orders:read'));
ok t_cmp($r->{status}, 403, 'one scope missing: 403');
ok t_cmp(hdr($r, 'WWW-Authenticate'),
         'Bearer realm="test api", error="insufficient_scope", scope="orders:read orders:write"',
         'insufficient_scope challenge naming the scopes');
ok t_cmp(hdr($r, 'Content-Type'), 'application/problem+json', '403 is problem+json');
my $p = json_body($r);
ok t_cmp($p && $p->{status}, 403, 'problem status 403');
ok t_cmp($p && $p->{request_id}, qr/\S/, 'problem request id');
$r = get('/jwt/scope/echo.cgi', tok(scope => 'orders:readorders:write'));
ok t_cmp($r->{status}, 403, 'scopes are whole words');
$r = get('/jwt/scope/echo.cgi', tok());
ok t_cmp($r->{status}, 403, 'no scope claim: 403');

# jwt-claim: a string or an array holding one of the values.
$r = get('/jwt/claim/echo.cgi', tok(role => 'editor'));
ok t_cmp($r->{status}, 200, 'claim value in the list: granted');
$r = get('/jwt/claim/echo.cgi', tok(role => ['viewer', 'admin']));
ok t_cmp($r->{status}, 200, 'claim array holding a value: granted');
$r = get('/jwt/claim/echo.cgi', tok(role => 'viewer'));
ok t_cmp($r->{status}, 403, 'other claim value: 403');
ok t_cmp(hdr($r, 'Content-Type'), 'application/problem+json', 'claim denial is problem+json');
$r = get('/jwt/claim/echo.cgi', tok(role => 'Admin'));
ok t_cmp($r->{status}, 403, 'values compare exactly');
$r = get('/jwt/claim/echo.cgi', tok(role => { admin => 1 }));
ok t_cmp($r->{status}, 403, 'an object is not a match');

# <RequireAny> of two providers.
ok t_cmp(get('/jwt/any/echo.cgi', tok(role => 'admin'))->{status}, 200, 'RequireAny: first provider');
ok t_cmp(get('/jwt/any/echo.cgi', tok(scope => 'support'))->{status}, 200, 'RequireAny: second provider');
ok t_cmp(get('/jwt/any/echo.cgi', tok(role => 'user', scope => 'other'))->{status}, 403, 'RequireAny: neither');

# jwt-owner: the path's owner must be the user.
ok t_cmp(get('/users/alice/echo.cgi', tok_noaud())->{status}, 200, 'owner: own resource');
$r = get('/users/bob/echo.cgi', tok_noaud());
ok t_cmp($r->{status}, 403, "owner: someone else's resource");
ok t_cmp(get('/users/alice2/echo.cgi', tok_noaud())->{status}, 403, 'owner: compared whole');
ok t_cmp(get('/users/bob/echo.cgi', tok_noaud(sub => 'bob'))->{status}, 200, 'owner: bob on his own');

my @denied = grep { /"authz_denied"/ } audit_lines();
ok t_cmp(scalar(@denied) >= 5 ? 'logged' : scalar(@denied), 'logged', 'authz_denied events written');

# What a proxied backend sees: the module's claim headers, never the client's.
$r = get('/jwt-proxied/echo.cgi', tok_noaud(role => "admin\r\nX-Evil: 1"),
         'X-APISec-Claim-Sub: root', 'X-APISec-Claim-Role: superuser');
my $j = json_body($r);
ok t_cmp($r->{status}, 200, 'proxied request authenticated');
my %h = %{ $j ? $j->{headers} : {} };
ok t_cmp(join('|', @{ $h{'x-apisec-claim-sub'} || [] }), 'alice', 'backend sees the sub from the token, once');
ok t_cmp(join('|', @{ $h{'x-apisec-claim-role'} || [] }), 'admin%0D%0AX-Evil: 1',
         'a claim with CR LF is percent-encoded, not a second header');
ok t_cmp($h{'x-evil'}, undef, 'no header injected');

# Claims in the environment for CGI and PHP.
$r = get('/jwt/echo.cgi', tok(role => 'admin', scope => 'a b', email => 'alice@example.com'));
$j = json_body($r);
ok t_cmp($j && $j->{env}{APISEC_CLAIM_SCOPE}, 'a b', 'APISEC_CLAIM_SCOPE');
ok t_cmp($j && $j->{env}{APISEC_CLAIM_EMAIL}, 'alice@example.com', 'APISEC_CLAIM_EMAIL');
$r = get('/jwt/echo.cgi', tok(role => ['x', 'y']));
$j = json_body($r);
ok t_cmp($j && $j->{env}{APISEC_CLAIM_ROLE}, '["x","y"]', 'an array claim is forwarded as JSON');
