# Login, access tokens, refresh rotation, reuse detection, logout, JWKS and
# revocation (issue 6), end to end: a real httpd of our own with mod_dbd and
# SQLite, users hashed by `htpasswd -B` and the `argon2` tool, curl as the
# client (several loopback source addresses), python3-jwt as an independent
# verifier of our tokens against our JWKS.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use Cwd qw(abs_path);
use File::Temp qw(tempdir);
use JSON::PP ();
use Time::HiRes qw(time);
use ApisecServer qw(free_port start_httpd stop_httpd);
use ApisecDB qw(sqlite_users);

plan tests => 73;

my $keys = abs_path('t/conf/keys');
my $dir = tempdir(CLEANUP => 1);
chmod 0755, $dir;
my $db = "$dir/users.db";
my $json = JSON::PP->new->canonical;

sub bcrypt { my ($pw, $cost) = @_; my $h = `htpasswd -nbB -C $cost x '$pw'`; $h =~ s/\s+$//; $h =~ s/^x://; $h }
sub argon2 { my $pw = shift; my $h = `printf %s '$pw' | argon2 saltsaltsalt1234 -id -t 2 -m 10 -p 1 -e`; chomp $h; $h }
my %pw = (alice => 'alice-pw-9f3k', bob => 'bob-pw-argon-77', carol => 'carol-pw-x1',
          tim => 'tim-pw-timing', lock => 'lock-pw-z9', dave => 'dave-pw-r2');
my %hash = (alice => bcrypt($pw{alice}, 5), bob => argon2($pw{bob}), carol => bcrypt($pw{carol}, 5),
            tim => bcrypt($pw{tim}, 10), lock => bcrypt($pw{lock}, 5), dave => bcrypt($pw{dave}, 5));
# The one users schema (t/data/users.sql), through the users harness.
my $n = 0;
sqlite_users($db, map { { id => 'u-' . ++$n . "-$_", username => $_, password_hash => $hash{$_},
                          active => $_ eq 'carol' ? 0 : 1, token_version => 3, role => 'reader',
                          email => "$_\@example.test" } } sort keys %hash);
chmod 0644, $db;

my ($p, $p2) = (free_port(), free_port());
my $libexec = $ENV{APISEC_HTTPD_LIBEXECDIR};
my $query = 'SELECT id, password_hash, role, email, token_version, active FROM users WHERE username = %s';
my $s = start_httpd(ports => [$p, $p2], conf => [
    "LoadModule dbd_module $libexec/mod_dbd.so",
    "LoadModule authn_core_module $libexec/mod_authn_core.so",
    "LoadModule authz_user_module $libexec/mod_authz_user.so",
    "StartServers 1", "ServerLimit 1", "MaxRequestWorkers 16", "MinSpareThreads 1",
    "MaxSpareThreads 16", "LogLevel info",
    "DBDriver sqlite3", "DBDParams $db",
    "APISecAuditLog $dir/audit.log",
    "APISecTokenSigningKey kid=t1 $keys/ec256.pem",
    "APISecTokenSigningKey kid=old $keys/ed25519.pem",
    "APISecTokenIssuer https://issuer.test",
    "APISecTokenAudience https://api.test",
    "APISecTokenClaims role email",
    "APISecLoginQuery \"$query\"",
    "<Location /login>", "SetHandler apisec-login", "</Location>",
    "<Location /refresh>", "SetHandler apisec-refresh", "</Location>",
    "<Location /logout>", "SetHandler apisec-logout", "</Location>",
    "<Location /jwks>", "SetHandler apisec-jwks", "</Location>",
    "<Location /api/>", "AuthType JWT", "AuthName api", "APISecJWTAlgorithms ES256",
    "APISecJWTKey $keys/ec256.pub.pem", "APISecJWTIssuer https://issuer.test",
    "APISecJWTAudience https://api.test", "APISecJWTRevocation On", "Require valid-user",
    "</Location>",
    # The same API with the user looked up (APISecUserQuery): token_version.
    "<Location /api/users/>",
    "APISecUserQuery \"SELECT id, role, active, token_version FROM users WHERE id = %s\"",
    "</Location>",
    # The same site on a second port, with per-account lockout.
    "<VirtualHost 127.0.0.1:$p2>", "ServerName lock.test",
    "APISecLoginQuery \"$query\"", "APISecLoginLockout 3/1h", "</VirtualHost>",
]);

# One curl request: [status, headers, body, seconds].
sub req {
    my ($port, $method, $path, %o) = @_;
    my $bf = "$dir/body.$$"; my $hf = "$dir/head.$$";
    my @a = ('-sS', '-o', $bf, '-D', $hf, '-w', '%{http_code} %{time_total}', '-X', $method);
    push @a, '--interface', $o{from} if $o{from};
    push @a, '-H', $_ for @{ $o{h} || [] };
    if (defined $o{body}) {
        open my $f, '>', "$dir/req.$$" or die; print $f $o{body}; close $f;
        push @a, '-H', 'Content-Type: ' . ($o{type} || 'application/json'), '--data-binary', "\@$dir/req.$$";
    }
    open my $c, '-|', 'curl', @a, "http://127.0.0.1:$port$path" or die;
    my ($st, $secs) = split ' ', (<$c> // '0 0');
    close $c;
    local $/;
    open my $h, '<', $hf; my $head = <$h> // ''; close $h;
    open my $b, '<', $bf; my $body = <$b> // ''; close $b;
    return [$st, $head, $body, $secs];
}
sub login { my ($u, $pw, %o) = @_; req($o{port} || $p, 'POST', '/login', %o, body => $json->encode({username => $u, password => $pw})) }
sub cookie_of { $_[0][1] =~ /^Set-Cookie: __Host-apisec-refresh=([A-Za-z0-9_-]{43});/mi ? $1 : '' }
sub token_of { my $j = eval { decode_json_($_[0][2]) }; $j ? $j->{access_token} // '' : '' }
sub decode_json_ { JSON::PP->new->decode($_[0]) }
sub api { my $t = shift; req($p, 'GET', '/api/ok', h => ["Authorization: Bearer $t"])->[0] }
sub refresh { my $c = shift; req($p, 'POST', '/refresh', h => ["Cookie: __Host-apisec-refresh=$c"]) }
sub no_id { my $b = shift; $b =~ s/"request_id":"[^"]*"//; $b }
sub audit_events { open my $f, '<', "$dir/audit.log" or return (); map { decode_json_($_) } <$f> }

# Login with bcrypt ($2y$ from htpasswd -B) and argon2id (argon2 tool).
my $al = login('alice', $pw{alice});
ok t_cmp($al->[0], 200, 'bcrypt (htpasswd -B) login answers 200');
my $ans = eval { decode_json_($al->[2]) } || {};
ok t_cmp(join(',', sort keys %$ans), 'access_token,expires_in,token_type', 'answer has access_token, token_type, expires_in');
ok t_cmp("$ans->{token_type} $ans->{expires_in}", 'Bearer 900', 'Bearer, 15 minutes by default');
ok t_cmp($al->[1] =~ /^Cache-Control: no-store\r?$/mi ? 1 : 0, 1, 'Cache-Control: no-store');
my ($setc) = $al->[1] =~ /^(Set-Cookie: __Host-apisec-refresh=.*?)\r?$/mi;
$setc //= '';
ok t_cmp(join(' ', map { $setc =~ /;\s*\Q$_\E(;|$)/i ? $_ : "no-$_" } qw(Path=/ Secure HttpOnly SameSite=Strict)),
         'Path=/ Secure HttpOnly SameSite=Strict', 'refresh cookie: __Host-, Path=/, Secure, HttpOnly, SameSite=Strict');
ok t_cmp($setc =~ /Domain=/i ? 1 : 0, 0, 'no Domain (a __Host- cookie must not have one)');
my $rt1 = cookie_of($al);
ok t_cmp(length $rt1, 43, 'the refresh token is 256 bits of base64url');
ok t_cmp(login('bob', $pw{bob})->[0], 200, 'argon2id (argon2 tool) login answers 200');
my $bt = bcrypt($pw{dave}, 5); $bt =~ s/^\$2y\$/\$2b\$/;
system('sqlite3', $db, "UPDATE users SET password_hash = '$bt' WHERE username = 'dave'");
ok t_cmp(login('dave', $pw{dave})->[0], 200, 'a $2b$ bcrypt hash logs in too');

# The token: python3-jwt verifies it against our JWKS.
my $tok = token_of($al);
my $jw = req($p, 'GET', '/jwks');
ok t_cmp($jw->[0], 200, 'GET /jwks answers 200');
ok t_cmp($jw->[1] =~ /^Cache-Control: public, max-age=(\d+)\r?$/mi ? 'max-age' : 'none', 'max-age', 'the JWKS has a max-age');
my $set = eval { decode_json_($jw->[2]) } || {keys => []};
ok t_cmp(join(',', map { "$_->{kid}:$_->{kty}" } @{ $set->{keys} }), 't1:EC,old:OKP', 'both signing keys published, by kid');
ok t_cmp(scalar(grep { exists $_->{d} || $_->{kty} eq 'oct' } @{ $set->{keys} }), 0, 'no private member, no oct key');
open my $jf, '>', "$dir/jwks.json" or die; print $jf $jw->[2]; close $jf;
my $py = <<'PY';
import json, sys, jwt
ks = jwt.PyJWKSet.from_dict(json.load(open(sys.argv[1])))
tok = sys.argv[2]
h = jwt.get_unverified_header(tok)
key = [k for k in ks.keys if k.key_id == h["kid"]][0]
c = jwt.decode(tok, key.key, algorithms=["ES256"], audience="https://api.test", issuer="https://issuer.test")
print(h["typ"], h["alg"], c["sub"], c["role"], c["email"], c["ver"], len(c["jti"]) > 0, c["exp"] - c["iat"], "sid" in c)
PY
open my $pf, '>', "$dir/v.py" or die; print $pf $py; close $pf;
my $v = `/usr/bin/python3 $dir/v.py $dir/jwks.json $tok 2>&1`; chomp $v;
ok t_cmp($v, 'at+jwt ES256 u-1-alice reader alice@example.test 3 True 900 True',
         'python3-jwt verifies the token with our JWKS: typ, alg, sub, claims columns, ver, jti, 15m, sid');
ok t_cmp(api($tok), 200, 'the access token is accepted by AuthType JWT of the same server');

# Wrong password and unknown user: same status, same body, same time.
my $w = login('alice', 'not-the-password');
my $u = login('nobody-here', 'not-the-password');
ok t_cmp("$w->[0] $u->[0]", '401 401', 'wrong password and unknown user: 401 both');
ok t_cmp(no_id($w->[2]), no_id($u->[2]), 'the same body (but the request id)');
ok t_cmp($w->[2] =~ /"detail":"The user name or the password is wrong\."/ ? 1 : 0, 1, 'a generic detail');
ok t_cmp(login('carol', $pw{carol})->[0], 401, 'an inactive user is refused');
ok t_cmp(no_id(login('carol', $pw{carol})->[2]), no_id($w->[2]), 'with the same body');
{
    # Alternate, so the process's dummy follows tim's cost (10). The machine
    # is shared: a measurement disturbed by other load is taken again, up to
    # three times. A real difference (no hash for unknown users: a ratio
    # near 0.1) fails all three.
    my ($ratio, $mw, $mu);
    my $med = sub { my @s = sort { $a <=> $b } @_; $s[@s / 2] };
    for my $try (1 .. 3) {
        my (@wt, @ut);
        for my $i (1 .. 11) {
            push @wt, login('tim', "wrong-$try-$i")->[3];
            push @ut, login("ghost-$try-$i", "wrong-$i")->[3];
        }
        ($mw, $mu) = ($med->(@wt), $med->(@ut));
        $ratio = $mu / $mw;
        print "# median wrong password ${mw}s, unknown user ${mu}s, ratio $ratio\n";
        last if $ratio > 0.75 && $ratio < 1.33;
    }
    ok t_cmp($ratio > 0.75 && $ratio < 1.33 ? 'same' : "ratio $ratio", 'same',
             'unknown user costs the time of a wrong password (medians of 11, within a third)');
    ok t_cmp($mw > 0.02 ? 'hashed' : "too fast: $mw", 'hashed', 'and that time is a bcrypt of cost 10');
}

# SQL injection attempts are only user names.
for my $inj ("alice' OR '1'='1", "' OR 1=1 --", "alice'; DROP TABLE users; --", 'alice" OR ""="') {
    my $r = login($inj, $pw{alice});
    ok t_cmp($r->[0], 401, "injection attempt refused: $inj");
}
ok t_cmp(`sqlite3 $db 'SELECT count(*) FROM users'` + 0, 6, 'the users table is intact');

# Bodies.
ok t_cmp(req($p, 'GET', '/login')->[0], 405, 'GET /login: 405');
ok t_cmp(req($p, 'POST', '/login', body => '{"username":"alice","password":"x"}', type => 'text/plain')->[0], 415, 'not JSON: 415');
ok t_cmp(req($p, 'POST', '/login', body => '{"username":"alice","password":"x"')->[0], 400, 'malformed JSON: 400');
ok t_cmp(req($p, 'POST', '/login', body => '{"username":"alice","username":"bob","password":"x"}')->[0], 400, 'duplicate member: 400');
ok t_cmp(req($p, 'POST', '/login', body => $json->encode({username => 'alice', password => $pw{alice}, admin => JSON::PP::true}))->[0], 400, 'an extra member: 400');
ok t_cmp(req($p, 'POST', '/login', body => '{"username":"alice","password":1}')->[0], 400, 'a number as password: 400');
ok t_cmp(req($p, 'POST', '/login', body => $json->encode({username => 'a' x 5000, password => 'x'}))->[0], 413, 'over 4 KB: 413');
ok t_cmp(req($p, 'POST', '/login', body => '{"username":"alice\u0000","password":"x"}')->[0], 400, 'NUL in the user name: 400');

# Refresh rotation.
my $r1 = refresh($rt1);
my $rt2 = cookie_of($r1);
ok t_cmp($r1->[0], 200, 'refresh with the current token: 200');
ok t_cmp(length($rt2) == 43 && $rt2 ne $rt1 ? 'rotated' : 'same', 'rotated', 'a new refresh token');
my $tok2 = token_of($r1);
ok t_cmp(api($tok2), 200, 'the refreshed access token is accepted');
my $r2 = refresh($rt2);
my $rt3 = cookie_of($r2);
ok t_cmp($r2->[0], 200, 'the second refresh: 200');
ok t_cmp(req($p, 'POST', '/refresh')->[0], 401, 'refresh without a cookie: 401');
ok t_cmp(refresh('A' x 43)->[0], 401, 'an unknown refresh token: 401');
ok t_cmp(req($p, 'GET', '/refresh', h => ["Cookie: __Host-apisec-refresh=$rt3"])->[0], 405, 'GET /refresh: 405');

# With the user looked up, a token_version bump ends every access token
# issued before it (their ver is lower); a login after it gets a new ver.
sub user_api { my $t = shift; req($p, 'GET', '/api/users/ok', h => ["Authorization: Bearer $t"])->[0] }
my $tv = login('dave', $pw{dave});
ok t_cmp(user_api(token_of($tv)), 200, "the user-checked API accepts dave's token");
system('sqlite3', $db, "UPDATE users SET token_version = token_version + 1 WHERE username = 'dave'");
ok t_cmp(user_api(token_of($tv)), 401, 'after a token_version bump the earlier access token is refused');
ok t_cmp(user_api(token_of(login('dave', $pw{dave}))), 200, 'a token from a login after the bump is accepted');

# A user deleted, or made inactive, mid-session: the next refresh ends it.
my $dv = login('dave', $pw{dave});
system('sqlite3', $db, "UPDATE users SET active = 0 WHERE username = 'dave'");
ok t_cmp(refresh(cookie_of($dv))->[0], 401, 'a user made inactive cannot refresh');
system('sqlite3', $db, "UPDATE users SET active = 1 WHERE username = 'dave'");
my $dv2 = login('dave', $pw{dave});
system('sqlite3', $db, "DELETE FROM users WHERE username = 'dave'");
ok t_cmp(refresh(cookie_of($dv2))->[0], 401, 'a deleted user cannot refresh');
ok t_cmp(api(token_of($dv2)), 401, "and the deleted user's access token is refused (family ended)");

# Reuse of an old token kills the family and its access tokens.
my $reuse = refresh($rt1);
ok t_cmp($reuse->[0], 401, 'the first, used refresh token again: 401');
ok t_cmp(scalar(grep { $_->{event} eq 'token_reuse' } audit_events()), 1, 'audited as token_reuse');
ok t_cmp(refresh($rt3)->[0], 401, 'the current token of that family is dead too');
ok t_cmp(api(token_of($r2)) . ' ' . api($tok2) . ' ' . api($tok), '401 401 401', "every access token of the family is refused");

# Logout.
my $l = login('alice', $pw{alice});
my ($lt, $lr) = (token_of($l), cookie_of($l));
ok t_cmp(api($lt), 200, 'a fresh login works');
my $lo = req($p, 'POST', '/logout', h => ["Authorization: Bearer $lt", "Cookie: __Host-apisec-refresh=$lr"]);
ok t_cmp($lo->[0], 204, 'logout: 204');
ok t_cmp($lo->[1] =~ /^Set-Cookie: __Host-apisec-refresh=;.*Max-Age=0/mi ? 1 : 0, 1, 'logout clears the cookie');
ok t_cmp(api($lt), 401, 'after logout the access token is refused');
ok t_cmp(refresh($lr)->[0], 401, 'after logout the refresh token is refused');
ok t_cmp(req($p, 'POST', '/logout')->[0], 401, 'logout without tokens: 401');
my $bl = login('bob', $pw{bob});
ok t_cmp(req($p, 'POST', '/logout', h => ['Authorization: Bearer ' . token_of($bl)])->[0], 204, 'logout with the access token only');
ok t_cmp(refresh(cookie_of($bl))->[0], 401, 'kills its family (the refresh token) too');

# Lockout: 3 failures from 3 addresses lock the account for everyone.
my @from = map { "127.0.0.$_" } 2 .. 5;
my @st = map { login('lock', "bad-$_", port => $p2, from => $from[$_])->[0] } 0 .. 2;
ok t_cmp("@st", '401 401 401', 'three failures from three addresses');
my $lk = login('lock', $pw{lock}, port => $p2, from => $from[3]);
ok t_cmp($lk->[0], 429, 'the right password from a fourth address: locked (429)');
my @ev = audit_events();
my %clients = map { $_->{client} => 1 } grep { $_->{event} eq 'login_failed' && ($_->{username} // '') eq 'lock' } @ev;
ok t_cmp(join(' ', sort keys %clients), join(' ', @from), 'the failures came from four client addresses');
ok t_cmp(scalar(grep { $_->{event} eq 'lockout' && $_->{username} eq 'lock' } @ev), 1, 'one lockout event');
my $other = login('alice', $pw{alice}, port => $p2);
ok t_cmp($other->[0], 200, 'other accounts are not locked');
# Sessions belong to the issuer: the other virtual host's token works here,
# and a logout here ends its family there.
ok t_cmp(api(token_of($other)), 200, "the other virtual host's token (same issuer) is accepted here");
ok t_cmp(req($p, 'POST', '/logout', h => ['Authorization: Bearer ' . token_of($other)])->[0], 204, 'logged out here');
ok t_cmp(req($p2, 'POST', '/refresh', h => ['Cookie: __Host-apisec-refresh=' . cookie_of($other)])->[0], 401,
         'and its refresh token is dead on the other virtual host');

# Nothing secret in any log.
ok t_cmp(stop_httpd($s), 1, 'the server stops');
my $logs = '';
for my $f ("$s->{dir}/error_log", "$s->{dir}/access_log", "$dir/audit.log") {
    open my $fh, '<', $f or next; local $/; $logs .= <$fh>;
}
my @secrets = (values %pw, (map { substr($_, 7) } values %hash), $tok, $tok2, $rt1, $rt2, $rt3, $lt, $lr);
my @leaks = grep { index($logs, $_) >= 0 } @secrets;
ok t_cmp(scalar(@leaks), 0, 'no password, hash, access or refresh token in the error, access or audit log');
ok t_cmp(length($logs) > 1000 && $logs =~ /login_failed/ ? 1 : 0, 1, 'the logs were written (the grep is not vacuous)');

# The database unreachable: 503.
my $p3 = free_port();
my $s3 = start_httpd(ports => [$p3], conf => [
    "LoadModule dbd_module $libexec/mod_dbd.so",
    "DBDriver sqlite3", "DBDParams $dir/missing/dir/users.db",
    "APISecTokenSigningKey $keys/ec256.pem",
    "APISecLoginQuery \"$query\"",
    "<Location /login>", "SetHandler apisec-login", "</Location>",
]);
my $d = login('alice', $pw{alice}, port => $p3);
ok t_cmp($d->[0], 503, 'database unreachable: 503');
ok t_cmp($d->[2] =~ /sqlite|missing|users\.db/i ? 'leak' : 'clean', 'clean', 'the 503 names no internals');
stop_httpd($s3);
