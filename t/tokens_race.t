# Refresh rotation is atomic across processes and servers: two httpd servers
# share one memcached (APISecStore memcached); the same refresh token is
# presented 24 times at once, alternately to each server. Exactly one
# request may rotate it; every other one is a reuse, which revokes the
# family, so the winner's new refresh token and all access tokens of the
# family are dead afterwards. Then memcached is stopped: revocation checks,
# refresh and login fail closed (503). Then the same race with the shm store
# and several processes of one server.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use Cwd qw(abs_path);
use File::Temp qw(tempdir);
use JSON::PP ();
use POSIX ();
use Time::HiRes ();
use IO::Socket::INET ();
use ApisecDB qw(sqlite_users);
use ApisecServer qw(free_port start_httpd stop_httpd start_memcached stop_pid);

plan tests => 15;
my $N = 24;

my $keys = abs_path('t/conf/keys');
my $dir = tempdir(CLEANUP => 1);
chmod 0755, $dir;
my $db = "$dir/users.db";
my $h = `htpasswd -nbB -C 4 x race-pw`; $h =~ s/\s+$//; $h =~ s/^x://;
sqlite_users($db, { id => 'r1', username => 'racer', password_hash => $h });
chmod 0644, $db;
my $libexec = $ENV{APISEC_HTTPD_LIBEXECDIR};

sub server {
    my ($port, @store) = @_;
    return start_httpd(ports => [$port], server_name => 'race.test:80', conf => [
        "LoadModule dbd_module $libexec/mod_dbd.so",
        "LoadModule authn_core_module $libexec/mod_authn_core.so",
        "LoadModule authz_user_module $libexec/mod_authz_user.so",
        @store, "DBDriver sqlite3", "DBDParams $db",
        "APISecAuditLog $dir/audit-$port.log",
        "APISecTokenSigningKey kid=r $keys/ec256.pem",
        "APISecTokenIssuer https://issuer.test",
        "APISecLoginQuery \"SELECT id, password_hash FROM users WHERE username = %s\"",
        "<Location /login>", "SetHandler apisec-login", "</Location>",
        "<Location /refresh>", "SetHandler apisec-refresh", "</Location>",
        "<Location /api/>", "AuthType JWT", "APISecJWTAlgorithms ES256",
        "APISecJWTKey $keys/ec256.pub.pem", "APISecJWTIssuer https://issuer.test",
        "APISecJWTRevocation On", "Require valid-user", "</Location>",
    ]);
}

sub curl {
    my ($port, @a) = @_;
    my $path = pop @a;
    open my $c, '-|', 'curl', '-sS', '-D', '-', '--max-time', '10', @a, "http://127.0.0.1:$port$path"
        or die;
    local $/; my $out = <$c> // ''; close $c;
    my ($st) = $out =~ m{^HTTP/\S+ (\d+)};
    return [$st // 0, $out];
}
sub login { curl($_[0], '-H', 'Content-Type: application/json', '--data-binary',
                 '{"username":"racer","password":"race-pw"}', '/login') }
sub cookie_of { $_[0][1] =~ /^Set-Cookie: __Host-apisec-refresh=([A-Za-z0-9_-]{43});/mi ? $1 : '' }
sub token_of { $_[0][1] =~ /"access_token":"([^"]+)"/ ? $1 : '' }
sub refresh { my ($port, $c) = @_; curl($port, '-X', 'POST', '-H', "Cookie: __Host-apisec-refresh=$c", '/refresh') }

# All at once: each child waits for the same instant, then refreshes.
sub race {
    my ($cookie, @ports) = @_;
    my $at = Time::HiRes::time() + 0.5;
    my @pids;
    for my $i (0 .. $N - 1) {
        my $pid = fork // die;
        if (!$pid) {
            my $port = $ports[$i % @ports];
            # Connected and written in one go at the same instant, so the
            # requests overlap inside the servers.
            my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port) or POSIX::_exit(1);
            my $req = "POST /refresh HTTP/1.1\r\nHost: race.test\r\nContent-Length: 0\r\n"
                    . "Cookie: __Host-apisec-refresh=$cookie\r\nConnection: close\r\n\r\n";
            Time::HiRes::sleep($at - Time::HiRes::time()) if $at > Time::HiRes::time();
            syswrite $c, $req;
            local $/; my $out = <$c> // '';
            my $r = [$out =~ m{^HTTP/1\.1 (\d+)} ? $1 : 0, $out];
            open my $f, '>', "$dir/race.$i" or POSIX::_exit(1);
            print $f "$r->[0] ", cookie_of($r), "\n";
            close $f;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    waitpid($_, 0) for @pids;
    my @res = map { open my $f, '<', "$dir/race.$_" or die; my $l = <$f>; chomp $l; [split ' ', $l] } 0 .. $N - 1;
    return @res;
}

sub check {
    my ($name, $ports) = @_;
    my $l = login($ports->[0]);
    my $tok = token_of($l);
    my @res = race(cookie_of($l), @$ports);
    my @won = grep { $_->[0] == 200 } @res;
    ok t_cmp(scalar(@won), 1, "$name: exactly one of $N concurrent uses rotates");
    ok t_cmp(join(' ', sort map { $_->[0] } grep { $_->[0] != 200 } @res), join(' ', ('401') x ($N - 1)),
             "$name: the others are refused (401)");
    ok t_cmp(@won ? refresh($ports->[-1], $won[0][1])->[0] : 'none', 401,
             "$name: the reuse revoked the family: the winner's new token is dead");
    ok t_cmp(curl($ports->[-1], '-H', "Authorization: Bearer $tok", '/api/ok')->[0], 401,
             "$name: and the family's access token is refused");
    my $events = 0;
    for my $p (@$ports) {
        open my $f, '<', "$dir/audit-$p.log" or next;
        $events += grep { /"event":"token_reuse"/ } <$f>;
    }
    ok t_cmp($events >= 1 ? 'audited' : 'none', 'audited', "$name: token_reuse audited");
    unlink "$dir/audit-$_.log" for @$ports;
}

my $mport = free_port();
my $mc = start_memcached($mport);
my ($p1, $p2) = (free_port(), free_port());
my $s1 = server($p1, "APISecStore memcached 127.0.0.1:$mport");
my $s2 = server($p2, "APISecStore memcached 127.0.0.1:$mport");
check('two servers, one memcached', [$p1, $p2]);
# Revocation and refresh fail closed: memcached gone, no pass.
my $before = login($p1);
stop_pid($mc);
my $api = curl($p1, '-H', 'Authorization: Bearer ' . token_of($before), '/api/ok');
ok t_cmp($api->[0], 503, 'memcached down: a token under APISecJWTRevocation is a 503, not a pass');
ok t_cmp(refresh($p2, cookie_of($before))->[0], 503, 'memcached down: refresh is a 503');
ok t_cmp(login($p1)->[0], 503, 'memcached down: login (its family cannot be written) is a 503');
ok t_cmp(stop_httpd($s1) && stop_httpd($s2), 1, 'the memcached servers stop');

my $p3 = free_port();
my $s3 = server($p3);
check('one server, shm, several processes', [$p3]);
ok t_cmp(stop_httpd($s3), 1, 'the shm server stops');
