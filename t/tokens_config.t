# Token configuration that cannot be safe fails `httpd -t` with the
# directive, file and line: bad or public keys, short secrets, keys in a
# directory section (never from .htaccess), bad lifetimes and lockouts, a
# login query without mod_dbd. And an HS256 server: its token verifies with
# the secret in python3-jwt, and its JWKS publishes no oct key.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use Cwd qw(abs_path);
use File::Temp qw(tempdir);
use JSON::PP ();
use ApisecDB qw(sqlite_users);
use ApisecServer qw(free_port start_httpd stop_httpd);

my $keys = abs_path('t/conf/keys');
my $dir = tempdir(CLEANUP => 1);
chmod 0755, $dir;
open my $sf, '>', "$dir/short.secret" or die; print $sf "x" x 31, "\n"; close $sf;
open my $gf, '>', "$dir/good.secret" or die; print $gf "s3cr3t-" x 6, "\n"; close $gf;
chmod 0644, "$dir/short.secret", "$dir/good.secret";
my $libexec = $ENV{APISEC_HTTPD_LIBEXECDIR};
my $dbd = "LoadModule dbd_module $libexec/mod_dbd.so";

my @bad = (
    # [ server-level lines, lines inside <Directory>, directive, advice ]
    [ ["APISecTokenSigningKey $keys/ec256.pub.pem"], [], qr/no unencrypted PEM private key/ ],
    [ ["APISecTokenSigningKey $keys/rsa1024.pem"], [], qr/shorter than 2048/ ],
    [ ["APISecTokenSigningKey $dir/nope.pem"], [], qr/cannot be read/ ],
    [ ["APISecTokenSigningKey alg=PS256 $keys/ec256.pem"], [], qr/does not fit the alg/ ],
    [ ["APISecTokenSigningKey alg=none $keys/rsa.pem"], [], qr/unknown alg=/ ],
    [ ["APISecTokenSigningKey file:$dir/short.secret"], [], qr/shorter than 32 bytes/ ],
    [ ["APISecTokenSigningKey env:APISEC_NO_SUCH_VAR"], [], qr/APISEC_NO_SUCH_VAR is not set/ ],
    [ ["APISecTokenSigningKey kid=a $keys/ec256.pem", "APISecTokenSigningKey kid=a $keys/rsa.pem"], [],
      qr/different kid/ ],
    [ [], ["APISecTokenSigningKey $keys/ec256.pem"], qr/not allowed in <Directory> context/ ],
    [ [], ["APISecLoginQuery \"SELECT id, password_hash FROM users WHERE username = %s\""],
      qr/not allowed in <Directory> context/ ],
    [ ["APISecTokenLifetime 10"], [], qr/from 60 s to 1d/ ],
    [ ["APISecTokenLifetime 2d"], [], qr/from 60 s to 1d/ ],
    [ ["APISecRefreshLifetime forever"], [], qr/from 60 s to 90d/ ],
    [ ["APISecLoginLockout 5"], [], qr/N\/PERIOD/ ],
    [ ["APISecLoginLockout 0/1m"], [], qr/N from 1 to 1000/ ],
    [ ["APISecTokenClaims role sub"], [], qr/sub is set by the module itself/ ],
    [ ["APISecLoginQuery \"SELECT id, password_hash FROM users WHERE username = %s\""], [],
      qr/load mod_dbd/ ],
    [ [$dbd, "APISecLoginQuery \"SELECT id, password_hash FROM users\""], [], qr/exactly one %s/ ],
    [ [$dbd, "APISecLoginQuery \"DELETE FROM users WHERE username = %s\""], [], qr/must be a SELECT/ ],
);

# A token handler in a server that cannot sign, or cannot find users.
my @handlers = (
    ['SetHandler apisec-login', ["APISecTokenIssuer https://issuer.test"], 'APISecTokenSigningKey'],
    ['SetHandler apisec-refresh', ["APISecTokenSigningKey kid=ec KEYS/ec256.pem"], 'APISecLoginQuery'],
    ['SetHandler apisec-jwks', [], 'APISecTokenSigningKey'],
);

plan tests => 1 + 2 * @bad + @handlers + 4;

my $apxs = $ENV{APISEC_APXS} || 'apxs';
chomp(my $sbin = `$apxs -q SBINDIR`);
chomp(my $target = `$apxs -q TARGET`);
my $httpd = "$sbin/$target";
my $module = $ENV{APISEC_MODULE};

sub check {
    my ($top, $lines) = @_;
    my $conf = "$dir/httpd.conf";
    open my $f, '>', $conf or die;
    my @pre = ("ServerRoot $dir", "LoadModule mpm_prefork_module $libexec/mod_mpm_prefork.so",
               "LoadModule authz_core_module $libexec/mod_authz_core.so");
    my @dbd = grep { /dbd_module/ } @$top;
    my @rest = grep { !/dbd_module/ } @$top;
    my @all = (@pre, @dbd, "LoadModule apisec_module $module",
               "ServerName localhost", "Listen 127.0.0.1:1", "ErrorLog $dir/error_log",
               "PidFile $dir/httpd.pid", @rest, "<Directory $dir>", @$lines, "</Directory>");
    print $f map { "$_\n" } @all;
    close $f;
    my ($line) = grep { $all[$_ - 1] =~ /^APISec/ } reverse 1 .. @all;
    local $ENV{LD_PRELOAD} = $ENV{APISEC_ASAN_LIB} if $ENV{APISEC_ASAN_LIB};
    local $ENV{ASAN_OPTIONS} = 'detect_leaks=0' if $ENV{APISEC_ASAN_LIB};
    my $out = `$httpd -t -f $conf 2>&1`;
    return ($? >> 8, $out, $line, $conf);
}

my ($rc, $out) = check([$dbd, "APISecTokenSigningKey kid=ec $keys/ec256.pem",
                        "APISecTokenSigningKey alg=PS256 $keys/rsa.pem",
                        "APISecTokenSigningKey kid=ed $keys/ed25519.pem",
                        "APISecTokenSigningKey kid=hs file:$dir/good.secret",
                        "APISecTokenIssuer https://issuer.test", "APISecTokenAudience a b",
                        "APISecTokenLifetime 5m", "APISecRefreshLifetime 30d",
                        "APISecTokenClaims role email", "APISecLoginLockout 5/15m",
                        "APISecLoginQuery \"SELECT id, password_hash FROM users WHERE username = %s\""],
                       ["APISecJWTRevocation On"]);
ok t_cmp($rc == 0 ? 'accepted' : $out, 'accepted', 'a good configuration passes httpd -t');

for my $case (@bad) {
    my ($top, $lines, $advice) = @$case;
    my ($rc, $out, $line, $conf) = check($top, $lines);
    my $what = join(' / ', grep { !/dbd_module/ } @$top, @$lines);
    my ($directive) = join(' ', @$top, @$lines) =~ /(APISec\w+)(?!.*APISec)/;
    ok t_cmp($rc != 0 && $out =~ /line \Q$line\E of \Q$conf\E/ && $out =~ /\Q$directive\E/
             ? 'refused, named' : "rc=$rc line $line: $out",
             'refused, named', "$what: refused, naming $directive, file and line");
    ok t_cmp($out, $advice, "$what: says what is wrong");
}

for my $case (@handlers) {
    my ($sh, $top, $needs) = @$case;
    s/KEYS/$keys/ for @$top;
    my ($rc, $out, undef, $conf) = check([$dbd, @$top], [$sh]);
    open my $cf, '<', $conf or die;
    my @l = <$cf>;
    my ($n) = grep { $l[$_ - 1] =~ /^\Q$sh\E$/ } 1 .. @l;
    ok t_cmp($rc != 0 && $out =~ /\Q$sh\E on line $n of \Q$conf\E needs $needs/
             ? 'refused' : "rc=$rc: $out", 'refused', "$sh without $needs: refused at startup, naming file and line");
}

# HS256: the secret signs, python3-jwt verifies with it, nothing published.
my $p = free_port();
my $db = "$dir/users.db";
my $h = `htpasswd -nbB -C 4 x hs-pw`; $h =~ s/\s+$//; $h =~ s/^x://;
sqlite_users($db, { id => 'h1', username => 'hs', password_hash => $h });
chmod 0644, $db;
my $s = start_httpd(ports => [$p], conf => [
    $dbd, "DBDriver sqlite3", "DBDParams $db",
    "APISecTokenSigningKey kid=hs file:$dir/good.secret",
    "APISecTokenIssuer https://issuer.test",
    "APISecLoginQuery \"SELECT id, password_hash FROM users WHERE username = %s\"",
    "<Location /login>", "SetHandler apisec-login", "</Location>",
    "<Location /jwks>", "SetHandler apisec-jwks", "</Location>",
]);
my $ans = `curl -sS -H 'Content-Type: application/json' --data-binary '{"username":"hs","password":"hs-pw"}' http://127.0.0.1:$p/login`;
my $tok = eval { JSON::PP->new->decode($ans)->{access_token} } // '';
my $secret = "s3cr3t-" x 6;
my $v = `/usr/bin/python3 -c 'import jwt,sys; c=jwt.decode(sys.argv[1], sys.argv[2], algorithms=["HS256"], issuer="https://issuer.test"); print(jwt.get_unverified_header(sys.argv[1])["kid"], c["sub"])' $tok $secret 2>&1`;
chomp $v;
ok t_cmp($v, 'hs h1', 'HS256 token from file:SECRET verifies with python3-jwt');
my $jwks = `curl -sS http://127.0.0.1:$p/jwks`;
ok t_cmp($jwks, '{"keys":[]}', 'the JWKS never publishes a secret');
ok t_cmp(stop_httpd($s), 1, 'the server stops');
ok t_cmp(`grep -c s3cr3t $s->{dir}/error_log` + 0, 0, 'the secret is not in the error log');
