# Users through mod_dbd, end to end, once with SQLite and once with a real
# PostgreSQL server on loopback: AuthType JWT verifies a python3-jwt token,
# APISecUserQuery looks its subject up through mod_dbd, and the echo CGI
# shows what reached the application. Known, unknown, inactive and deleted
# users; token_version against the token's ver; the row cache and its TTL;
# Require apisec-user; SQL injection in the subject; the database going
# away (503, no crash) and coming back; no token or hash in any log.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use File::Temp qw(tempdir tempfile);
use FindBin ();
use JSON::PP ();
use Time::HiRes qw(time sleep);
use ApisecServer qw(free_port start_httpd stop_httpd);
use ApisecDB qw(sqlite_users sqlite_exec pg_start pg_stop pg_kill pg_exec pg_users
                pg_dbd_params);
use ApisecJWT qw(mint claims_ok keyfile);

my @backends = qw(sqlite pgsql);
plan tests => 65 * @backends;

# A recognisable bcrypt-shaped hash: it must reach neither a log nor the
# application.
my $HASH = '$2y$12$' . 'Qz9' x 17 . 'Qz';
my @ROWS = (
    { id => 'u1', username => 'alice', role => 'admin', email => 'alice@example.com',
      password_hash => $HASH },
    { id => 'u2', username => 'bob', active => 0, role => 'admin' },
    { id => 'u3', username => 'carol', token_version => 2, role => 'editor' },
    { id => 'u4', username => 'dave', role => undef },
    { id => 'u5', username => 'erin', role => 'user' },
    { id => 'u6', username => 'frank', role => 'user' },
);
my $QUERY = 'SELECT id, username, active, token_version, role, email, password_hash '
          . 'FROM users WHERE id = %s';
my $ECHO = "$FindBin::Bin/htdocs/cgi/echo.cgi";
my $apxs = $ENV{APISEC_APXS} || 'apxs';
my $libexec = $ENV{APISEC_HTTPD_LIBEXECDIR};
my $json = JSON::PP->new;
my @tokens;   # every token sent, to look for in the logs

sub tok {
    my $t = mint('ES256', 'ec256', claims_ok(@_), { kid => 'ec256' });
    push @tokens, $t;
    return $t;
}

# GET with curl: { status, headers => { lc name => value }, body, json }.
sub fetch {
    my ($port, $path, $token) = @_;
    my @cmd = ('curl', '-s', '-i', '--max-time', '15', "http://127.0.0.1:$port$path");
    push @cmd, '-H', "Authorization: Bearer $token" if defined $token;
    open my $p, '-|', @cmd or die "curl: $!";
    local $/;
    my $out = <$p> // '';
    close $p;
    my ($head, $body) = split /\r\n\r\n/, $out, 2;
    my ($status) = ($head // '') =~ m{^HTTP/\S+ (\d+)};
    my %h;
    for (split /\r\n/, $head // '') { $h{ lc $1 } = $2 if /^([^:]+):\s*(.*)$/ }
    my $j = eval { $json->decode($body // '') };
    return { status => $status || 0, headers => \%h, body => $body // '', json => $j };
}

sub env_of { my $r = shift; return ($r->{json} && $r->{json}{env}) || {} }

sub slurp {
    my $f = shift;
    open my $h, '<', $f or return '';
    local $/;
    return scalar <$h>;
}

# Audit lines written since OFFSET (bytes), polled: the line may follow the
# answer by a moment.
sub audit_since {
    my ($s, $offset, $re) = @_;
    for (1 .. 50) {
        my $a = slurp("$s->{dir}/audit.log");
        my @l = grep { $_ =~ $re } split /\n/, substr($a, $offset);
        return @l if @l;
        sleep 0.1;
    }
    return ();
}

sub audit_size { my $s = shift; return -s "$s->{dir}/audit.log" || 0 }

# Polls until GET gives STATUS (the database coming back); the last answer.
sub wait_status {
    my ($port, $path, $token, $want, $secs) = @_;
    my $end = time + $secs;
    my $r;
    while (1) {
        $r = fetch($port, $path, $token);
        return $r if $r->{status} == $want || time > $end;
        sleep 0.2;
    }
}

sub server_conf {
    my @dbd = @_;
    my $keys = keyfile('ec256.pub.pem');
    return (
        "LoadModule dbd_module $libexec/mod_dbd.so",
        "LoadModule authn_core_module $libexec/mod_authn_core.so",
        "LoadModule authz_user_module $libexec/mod_authz_user.so",
        "LoadModule cgid_module $libexec/mod_cgid.so",
        # One process, so that the row cache seen by one request is the one
        # the next request sees.
        "StartServers 1", "ServerLimit 1", "ThreadsPerChild 16", "MaxRequestWorkers 16",
        "MinSpareThreads 1", "MaxSpareThreads 16",
        "LogLevel info apisec:debug dbd:debug",
        "APISecAuditLog audit.log",
        @dbd,
        # Idle connections are dropped after a second, so a removed SQLite
        # file is noticed soon; enough connections for every thread.
        "DBDExptime 1", "DBDMax 16",
        "ScriptAliasMatch ^/u/ $ECHO",
        "<Location /u/>",
        "  AuthType JWT", "  AuthName users",
        "  APISecJWTAlgorithms ES256",
        "  APISecJWTKey kid=ec256 $keys",
        "  APISecJWTIssuer https://issuer.test",
        "  APISecJWTAudience api://test",
        "  APISecUserQuery \"$QUERY\"",
        "  Require valid-user",
        "</Location>",
        "<Location /u/cached/>", "  APISecUserCacheTTL 2", "</Location>",
        "<Location /u/admin/>", "  Require apisec-user role admin", "</Location>",
        "<Location /u/staff/>", "  Require apisec-user role admin editor", "</Location>",
        "<Location /u/off/>", "  APISecUserQuery off", "</Location>",
        "<Location /u/multi/>",
        "  APISecUserQuery \"SELECT id, role FROM users WHERE id = %s OR role = 'admin'\"",
        "</Location>",
    );
}

sub run_backend {
    my $kind = shift;
    my $dir = tempdir(CLEANUP => 1);
    my ($db, $pg, $exec, @dbd);
    if ($kind eq 'sqlite') {
        $db = sqlite_users("$dir/users.db", @ROWS);
        $exec = sub { sqlite_exec($db, $_[0]) };
        @dbd = ('DBDriver sqlite3', "DBDParams $db");
    }
    else {
        $pg = pg_start();
        pg_users($pg, @ROWS);
        $exec = sub { pg_exec($pg, $_[0]) };
        @dbd = ('DBDriver pgsql', 'DBDParams "' . pg_dbd_params($pg) . '"');
    }
    my $port = free_port();
    my $s = start_httpd(ports => [$port], conf => [server_conf(@dbd)]);
    my $k = "$kind:";

    # A known, active user: the application gets the row.
    my $r = fetch($port, '/u/me', tok(sub => 'u1'));
    my %e = %{ env_of($r) };
    ok t_cmp($r->{status}, 200, "$k known active user: 200");
    ok t_cmp($e{REMOTE_USER}, 'u1', "$k REMOTE_USER is the token's subject");
    ok t_cmp($e{APISEC_USER_ID}, 'u1', "$k APISEC_USER_ID");
    ok t_cmp($e{APISEC_USER_USERNAME}, 'alice', "$k APISEC_USER_USERNAME");
    ok t_cmp($e{APISEC_USER_ROLE}, 'admin', "$k APISEC_USER_ROLE");
    ok t_cmp($e{APISEC_USER_EMAIL}, 'alice@example.com', "$k APISEC_USER_EMAIL");
    ok t_cmp(join(',', grep { /PASSWORD|HASH/ } sort keys %e), '',
             "$k the password hash is not exported");
    ok t_cmp(join(',', grep { /^APISEC_USER_(ACTIVE|TOKEN_VERSION)$/ } sort keys %e), '',
             "$k active and token_version are checked, not exported");
    ok t_cmp(index($r->{body}, $HASH), -1, "$k the hash is nowhere in what the application got");

    my $r4 = fetch($port, '/u/me', tok(sub => 'u4'));
    ok t_cmp(($r4->{status} == 200 && !exists env_of($r4)->{APISEC_USER_ROLE}) ? 'unset' : 'set',
             'unset', "$k a NULL column is not exported");

    # Refusals: the same 401 as any refused token, the reason in the audit.
    my $a0 = audit_size($s);
    $r = fetch($port, '/u/me', tok(sub => 'nobody'));
    ok t_cmp($r->{status}, 401, "$k unknown user: 401");
    ok t_cmp($r->{headers}{'content-type'}, 'application/problem+json', "$k 401 is problem+json");
    ok t_cmp($r->{json} && $r->{json}{status}, 401, "$k problem status 401");
    ok t_cmp($r->{headers}{'www-authenticate'} // '', qr/^Bearer realm="users", error="invalid_token"/,
             "$k RFC 6750 challenge");
    ok t_cmp(scalar(audit_since($s, $a0, qr/"event":"auth_failed".*"reason":"unknown user"/)), 1,
             "$k audit auth_failed: unknown user");

    $a0 = audit_size($s);
    $r = fetch($port, '/u/me', tok(sub => 'u2'));
    ok t_cmp($r->{status}, 401, "$k inactive user: 401");
    ok t_cmp(scalar(audit_since($s, $a0, qr/"auth_failed".*"user inactive"/)), 1,
             "$k audit auth_failed: user inactive");
    ok t_cmp(index($r->{body}, 'inactive'), -1, "$k the client is not told which refusal it was");

    # token_version against ver: carol is at 2.
    $a0 = audit_size($s);
    ok t_cmp(fetch($port, '/u/me', tok(sub => 'u3', ver => 1))->{status}, 401,
             "$k ver 1 below token_version 2: 401");
    ok t_cmp(scalar(audit_since($s, $a0, qr/"auth_failed".*"token version revoked"/)), 1,
             "$k audit auth_failed: token version revoked");
    ok t_cmp(fetch($port, '/u/me', tok(sub => 'u3'))->{status}, 401,
             "$k no ver (counts as 0) below token_version 2: 401");
    my $old = tok(sub => 'u3', ver => 2);
    ok t_cmp(fetch($port, '/u/me', $old)->{status}, 200, "$k ver 2 at token_version 2: 200");
    ok t_cmp(fetch($port, '/u/me', tok(sub => 'u3', ver => '2'))->{status}, 401,
             "$k ver as a string: 401");
    $exec->("UPDATE users SET token_version = 3 WHERE id = 'u3'");
    ok t_cmp(fetch($port, '/u/me', $old)->{status}, 401,
             "$k token_version bumped to 3: the ver 2 token dies");
    ok t_cmp(fetch($port, '/u/me', tok(sub => 'u3', ver => 3))->{status}, 200,
             "$k a token with the new ver passes");
    ok t_cmp(fetch($port, '/u/me', tok(sub => 'u1', ver => 7))->{status}, 200,
             "$k a ver above token_version passes");

    # Deleted mid-session, cache off: refused at once.
    my $erin = tok(sub => 'u5');
    ok t_cmp(fetch($port, '/u/me', $erin)->{status}, 200, "$k erin: 200");
    $exec->("DELETE FROM users WHERE id = 'u5'");
    ok t_cmp(fetch($port, '/u/me', $erin)->{status}, 401,
             "$k erin deleted, cache off: 401 on the next request");
    $exec->("UPDATE users SET active = 0 WHERE id = 'u4'");
    ok t_cmp(fetch($port, '/u/me', tok(sub => 'u4'))->{status}, 401,
             "$k dave deactivated: 401 on the next request");

    # Cache on (TTL 2 s): the row is reused until the TTL, then gone.
    my $frank = tok(sub => 'u6');
    $r = fetch($port, '/u/cached/me', $frank);
    my $t0 = time;
    ok t_cmp($r->{status}, 200, "$k frank through the cache: 200");
    ok t_cmp(env_of($r)->{APISEC_USER_USERNAME}, 'frank', "$k the row came from the database");
    $exec->("DELETE FROM users WHERE id = 'u6'");
    $r = fetch($port, '/u/cached/me', $frank);
    my $dt = time - $t0;
    ok t_cmp($dt < 2 ? $r->{status} : 'too slow', 200,
             "$k frank deleted, within the TTL: still 200 (the cached row)");
    ok t_cmp(env_of($r)->{APISEC_USER_USERNAME}, 'frank', "$k the cached row reaches the application");
    ok t_cmp(fetch($port, '/u/me', $frank)->{status}, 401,
             "$k a scope without the cache sees the deletion at once");
    sleep 2.1 - (time - $t0) if time - $t0 < 2.1;
    ok t_cmp(fetch($port, '/u/cached/me', $frank)->{status}, 401,
             "$k after the TTL the deletion is seen: 401");
    ok t_cmp(fetch($port, '/u/cached/me', tok(sub => 'nobody'))->{status}, 401,
             "$k unknown user through the cache: 401");

    # Require apisec-user.
    $a0 = audit_size($s);
    ok t_cmp(fetch($port, '/u/admin/x', tok(sub => 'u1'))->{status}, 200,
             "$k Require apisec-user role admin: alice (admin) 200");
    $r = fetch($port, '/u/admin/x', tok(sub => 'u3', ver => 3));
    ok t_cmp($r->{status}, 403, "$k Require apisec-user role admin: carol (editor) 403");
    ok t_cmp($r->{headers}{'content-type'}, 'application/problem+json', "$k 403 is problem+json");
    ok t_cmp(scalar(audit_since($s, $a0, qr/"event":"authz_denied".*"user column value not accepted"/)),
             1, "$k audit authz_denied");
    ok t_cmp(fetch($port, '/u/staff/x', tok(sub => 'u3', ver => 3))->{status}, 200,
             "$k Require apisec-user role admin editor: carol 200");
    $exec->("INSERT INTO users (id, username, password_hash, role) VALUES ('u7', 'gina', '!', NULL)");
    ok t_cmp(fetch($port, '/u/staff/x', tok(sub => 'u7'))->{status}, 403,
             "$k a NULL role matches no value: 403");
    ok t_cmp(fetch($port, '/u/off/x', tok(sub => 'nobody'))->{status}, 200,
             "$k APISecUserQuery off in a child scope: no lookup");

    ok t_cmp(fetch($port, '/u/multi/x', tok(sub => 'u1'))->{status}, 503,
             "$k a query that returns two rows for one user: 503");

    # SQL injection in the subject: a parameter of a prepared statement.
    my @inject = ("u1' OR '1'='1", "' OR 1=1 --", "u1'; DELETE FROM users; --",
                  "x' UNION SELECT id, username, active, token_version, role, email, "
                  . "password_hash FROM users WHERE id = 'u1", 'u1" OR "1"="1', "u1\\' OR 1=1 --",
                  'u1%');
    my ($before) = $exec->('SELECT count(*) FROM users;') =~ /(\d+)/;
    my @st = map { fetch($port, '/u/me', tok(sub => $_))->{status} } @inject;
    ok t_cmp(join(',', @st), join(',', (401) x @inject), "$k SQL injection in sub: each 401");
    ok t_cmp(fetch($port, '/u/me', tok(sub => 'u1'))->{status}, 200,
             "$k and the table is intact (alice still 200)");
    my ($count) = $exec->('SELECT count(*) FROM users;') =~ /(\d+)/;
    ok t_cmp($count, $before, "$k no row was deleted ($before rows)");

    # The database goes away: 503 with Retry-After, never a pass nor a 500.
    my $alice = tok(sub => 'u1');
    if ($kind eq 'sqlite') {
        chmod 0000, $db;
        sleep 1.2;   # the pooled connection expires (DBDExptime 1)
        $r = fetch($port, '/u/me', $alice);
    }
    else {
        pg_kill($pg);
        $r = fetch($port, '/u/me', $alice);
    }
    ok t_cmp($r->{status}, 503, "$k database unreachable: 503");
    ok t_cmp($r->{headers}{'retry-after'}, '5', "$k with Retry-After");
    ok t_cmp($r->{headers}{'content-type'}, 'application/problem+json', "$k 503 is problem+json");
    ok t_cmp(index($r->{body}, 'APISEC_USER'), -1, "$k the application was not run");
    my @down = map { fetch($port, '/u/me', $alice)->{status} } 1 .. 5;
    ok t_cmp(join(',', @down), '503,503,503,503,503', "$k every request while it is down: 503");
    ok t_cmp(fetch($port, '/u/me', tok(sub => 'nobody'))->{status}, 503,
             "$k an unknown user while it is down: 503, not 401");
    ok t_cmp(fetch($port, '/u/cached/me', $alice)->{status}, 503,
             "$k nor does the cache let anyone through without a row");

    if ($kind eq 'sqlite') {
        chmod 0644, $db;
    }
    else {
        pg_start($pg);
    }
    $r = wait_status($port, '/u/me', $alice, 200, 15);
    ok t_cmp($r->{status}, 200, "$k database back: 200 again");

    if ($kind eq 'sqlite') {
        # Removed, then put back.
        rename $db, "$db.away" or die;
        sleep 1.2;
        ok t_cmp(fetch($port, '/u/me', $alice)->{status}, 503, "$k database file removed: 503");
        rename "$db.away", $db or die;
        ok t_cmp(wait_status($port, '/u/me', $alice, 200, 10)->{status}, 200,
                 "$k database file back: 200");
        # A query error on a live connection: the table renamed away.
        $exec->('ALTER TABLE users RENAME TO users_away');
        ok t_cmp(fetch($port, '/u/me', $alice)->{status}, 503, "$k query error (no table): 503");
        $exec->('ALTER TABLE users_away RENAME TO users');
        ok t_cmp(fetch($port, '/u/me', $alice)->{status}, 200,
                 "$k table back: 200 at once (the statement is prepared again)");
    }
    else {
        # A fast shutdown and restart, as for maintenance.
        pg_stop($pg);
        ok t_cmp(fetch($port, '/u/me', $alice)->{status}, 503, "$k PostgreSQL stopped: 503");
        pg_start($pg);
        ok t_cmp(wait_status($port, '/u/me', $alice, 200, 15)->{status}, 200,
                 "$k PostgreSQL restarted: 200");
        # A query error on a live connection: the column the query names is gone.
        $exec->('ALTER TABLE users RENAME COLUMN email TO mail');
        ok t_cmp(fetch($port, '/u/me', $alice)->{status}, 503, "$k query error (no column): 503");
        $exec->('ALTER TABLE users RENAME COLUMN mail TO email');
        ok t_cmp(wait_status($port, '/u/me', $alice, 200, 5)->{status}, 200, "$k column back: 200");
    }

    # A graceful restart: mod_dbd's pools and the statement are made anew.
    my $gen = () = slurp("$s->{dir}/error_log") =~ /resuming normal operations/g;
    kill 'USR1', $s->{pid};
    my $end = time + 15;
    my $now_gen = $gen;
    while (time < $end) {
        $now_gen = () = slurp("$s->{dir}/error_log") =~ /resuming normal operations/g;
        last if $now_gen > $gen;
        sleep 0.1;
    }
    ok t_cmp($now_gen, $gen + 1, "$k graceful restart done");
    ok t_cmp(wait_status($port, '/u/cached/me', $alice, 200, 10)->{status}, 200,
             "$k after a graceful restart: 200 (cache on)");

    # No crash, and the logs hold no token and no hash.
    my $err = slurp("$s->{dir}/error_log");
    ok t_cmp(scalar(() = $err =~ /exit signal|Segmentation|AddressSanitizer|child pid \d+ exit/g), 0,
             "$k no worker crashed");
    ok t_cmp($err =~ /AH20401/ ? 'logged' : 'not logged', 'logged', "$k the failures were logged (AH20401)");
    my $logs = $err . slurp("$s->{dir}/access_log") . slurp("$s->{dir}/audit.log");
    ok t_cmp(scalar(grep { index($logs, $_) >= 0 || index($logs, (split /\./, $_)[2]) >= 0 } @tokens),
             0, "$k no token in the error, access or audit log");
    ok t_cmp(index($logs, $HASH), -1, "$k no password hash in any log");
    stop_httpd($s);
    pg_stop($pg) if $pg;
}

run_backend($_) for @backends;
