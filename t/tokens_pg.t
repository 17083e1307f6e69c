# Login, refresh and logout with users in a real PostgreSQL server (started
# on loopback by t/lib/ApisecDB.pm), through mod_dbd's pgsql driver; the
# database stopped: 503, never a pass; started again: logins work again.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use Cwd qw(abs_path);
use JSON::PP ();
use ApisecServer qw(free_port start_httpd stop_httpd);
use ApisecDB qw(pg_start pg_stop pg_users pg_exec pg_query pg_dbd_params);

plan tests => 12;

my $keys = abs_path('t/conf/keys');
my $libexec = $ENV{APISEC_HTTPD_LIBEXECDIR};
sub bcrypt { my ($pw, $cost) = @_; my $h = `htpasswd -nbB -C $cost x '$pw'`; $h =~ s/\s+$//; $h =~ s/^x://; $h }
sub argon2 { my $pw = shift; my $h = `printf %s '$pw' | argon2 saltsaltsalt1234 -id -t 2 -m 10 -p 1 -e`; chomp $h; $h }

my $pg = pg_start();
pg_users($pg, { id => 'pg-1', username => 'alice', password_hash => bcrypt('alice-pg-pw', 5),
                role => 'admin', token_version => 2 },
              { id => 'pg-2', username => 'bob', password_hash => argon2('bob-pg-pw') });
my $p = free_port();
my $s = start_httpd(ports => [$p], conf => [
    "LoadModule dbd_module $libexec/mod_dbd.so",
    "LoadModule authn_core_module $libexec/mod_authn_core.so",
    "LoadModule authz_user_module $libexec/mod_authz_user.so",
    "DBDriver pgsql", "DBDParams \"" . pg_dbd_params($pg) . "\"",
    "APISecTokenSigningKey kid=pg $keys/rsa.pem",
    "APISecTokenIssuer https://issuer.test",
    "APISecTokenClaims role",
    "APISecLoginQuery \"SELECT id, password_hash, role, token_version FROM users WHERE username = %s\"",
    "<Location /login>", "SetHandler apisec-login", "</Location>",
    "<Location /refresh>", "SetHandler apisec-refresh", "</Location>",
    "<Location /jwks>", "SetHandler apisec-jwks", "</Location>",
    "<Location /api/>", "AuthType JWT", "APISecJWTAlgorithms RS256",
    "APISecJWTKey $keys/rsa.pub.pem", "APISecJWTIssuer https://issuer.test",
    "APISecJWTRevocation On", "Require valid-user", "</Location>",
]);

sub req {
    my ($method, $path, $body, @h) = @_;
    my @a = ('-sS', '-D', '-', '-X', $method, '--max-time', '20');
    push @a, '-H', $_ for @h;
    push @a, '-H', 'Content-Type: application/json', '--data-binary', $body if defined $body;
    open my $c, '-|', 'curl', @a, "http://127.0.0.1:$p$path" or die;
    local $/; my $out = <$c> // ''; close $c;
    my ($head, $b) = split /\r\n\r\n/, $out, 2;
    my ($st) = ($head // '') =~ m{^HTTP/\S+ (\d+)};
    return [$st // 0, $head // '', $b // ''];
}
sub login { req('POST', '/login', JSON::PP->new->encode({username => $_[0], password => $_[1]})) }
sub token_of { my $j = eval { JSON::PP->new->decode($_[0][2]) }; $j ? $j->{access_token} // '' : '' }
sub cookie_of { $_[0][1] =~ /^Set-Cookie: __Host-apisec-refresh=([A-Za-z0-9_-]{43});/mi ? $1 : '' }

my $a = login('alice', 'alice-pg-pw');
print map { "# $_" } `tail -4 $s->{dir}/error_log` if $a->[0] != 200;
ok t_cmp($a->[0], 200, 'PostgreSQL: bcrypt login');
ok t_cmp(login('bob', 'bob-pg-pw')->[0], 200, 'PostgreSQL: argon2id login');
ok t_cmp(login('alice', 'wrong')->[0], 401, 'PostgreSQL: wrong password 401');
ok t_cmp(login("alice' OR 'a'='a", 'alice-pg-pw')->[0], 401, 'PostgreSQL: injection attempt 401');
my $tok = token_of($a);
open my $jf, '>', "/tmp/apisec-pg-jwks.$$" or die;
print $jf req('GET', '/jwks')->[2]; close $jf;
my $v = `/usr/bin/python3 -c '
import json, sys, jwt
k = jwt.PyJWKSet.from_dict(json.load(open(sys.argv[1]))).keys[0]
c = jwt.decode(sys.argv[2], k.key, algorithms=["RS256"], issuer="https://issuer.test")
print(jwt.get_unverified_header(sys.argv[2])["kid"], c["sub"], c["role"], c["ver"])' /tmp/apisec-pg-jwks.$$ $tok 2>&1`;
unlink "/tmp/apisec-pg-jwks.$$";
chomp $v;
ok t_cmp($v, 'pg pg-1 admin 2', 'RS256 token verified by python3-jwt: kid, sub, role, ver from PostgreSQL');
ok t_cmp(req('GET', '/api/ok', undef, "Authorization: Bearer $tok")->[0], 200, 'the token opens AuthType JWT');
my $r = req('POST', '/refresh', undef, 'Cookie: __Host-apisec-refresh=' . cookie_of($a));
ok t_cmp($r->[0], 200, 'PostgreSQL: refresh rotates');
pg_exec($pg, "UPDATE users SET token_version = 3 WHERE id = 'pg-1'");
ok t_cmp(req('POST', '/refresh', undef, 'Cookie: __Host-apisec-refresh=' . cookie_of($r))->[0], 401,
         'a token_version bump ends the refresh family');
ok t_cmp((pg_query($pg, 'SELECT count(*) FROM users'))[0][0], 2, 'the users table is intact');

pg_stop($pg);
my $d = login('alice', 'alice-pg-pw');
ok t_cmp($d->[0], 503, 'PostgreSQL stopped: 503');
ok t_cmp($d->[2] =~ /"status":503/ && $d->[2] !~ /pgsql|postgres|connect/i ? 'clean' : $d->[2], 'clean',
         'a problem answer that names no internals');
pg_start($pg);
my $ok = 0;
for (1 .. 50) { last if ($ok = login('alice', 'alice-pg-pw')->[0]) == 200; select undef, undef, undef, 0.2 }
ok t_cmp($ok, 200, 'PostgreSQL back: logins work again');
stop_httpd($s);
pg_stop($pg);
