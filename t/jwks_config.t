# Configuration of remote key sets that cannot be safe fails `httpd -t`,
# naming the directive, file and line; a URL in a tenant's .htaccess is
# refused (SSRF) unless the operator's APISecJWKSAllow lists its prefix, and
# then works like one from the server's configuration.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use File::Temp qw(tempdir);
use FindBin ();
use ApisecServer qw(free_port start_httpd stop_httpd stop_pid one_request);
use ApisecOIDC qw(start_provider token wait_until);

my $dir = tempdir(CLEANUP => 1);
chmod 0755, $dir;
system("$FindBin::Bin/make-keys", "$dir/keys") == 0 or die "make-keys failed";

my @bad = (
    # [ server-level lines, lines inside <Directory>, directive, advice ]
    [ [], ["APISecJWTKey ftp://idp.example/jwks"], 'APISecJWTKey', qr/https:\/\// ],
    [ [], ["APISecJWTKey http://idp.example/jwks"], 'APISecJWTKey', qr/loopback/ ],
    [ [], ["APISecJWTKey http://127.0.0.1.evil.example/jwks"], 'APISecJWTKey', qr/loopback/ ],
    [ [], ["APISecJWTKey kid=a https://idp.example/jwks"], 'APISecJWTKey', qr/carry their own kid/ ],
    [ [], ["APISecJWTKey https://user:pw\@idp.example/jwks"], 'APISecJWTKey', qr/user or password/ ],
    [ [], ["APISecJWTKey https://idp.example/jwks", "APISecJWTKey KEYS/ec256.pub.pem"],
      'APISecJWTKey', qr/not both/ ],
    [ [], ["APISecJWTKey KEYS/ec256.pub.pem", "APISecJWTKey https://idp.example/jwks"],
      'APISecJWTKey', qr/not both/ ],
    [ [], ["APISecJWTKey https://a.example/jwks", "APISecJWTKey https://b.example/jwks"],
      'APISecJWTKey', qr/one provider per scope/ ],
    [ [], ["APISecJWTIssuerDiscovery On"], 'APISecJWTIssuerDiscovery', qr/exactly one APISecJWTIssuer/ ],
    [ [], ["APISecJWTIssuer https://a.example https://b.example", "APISecJWTIssuerDiscovery On"],
      'APISecJWTIssuerDiscovery', qr/exactly one APISecJWTIssuer/ ],
    [ [], ["APISecJWTIssuer http://idp.example", "APISecJWTIssuerDiscovery On"],
      'APISecJWTIssuerDiscovery', qr/loopback/ ],
    [ [], ["APISecJWKSRefresh 5m 24h"], 'APISecJWKSRefresh', qr/cannot occur within|not allowed/ ],
    [ [], ["APISecJWKSAllow https://idp.example/"], 'APISecJWKSAllow', qr/cannot occur within|not allowed/ ],
    [ ["APISecJWKSRefresh 1h 5m"], [], 'APISecJWKSRefresh', qr/MIN <= MAX/ ],
    [ ["APISecJWKSRefresh 5x 1h"], [], 'APISecJWKSRefresh', qr/durations/ ],
    [ ["APISecJWKSTimeout 0"], [], 'APISecJWKSTimeout', qr/100ms to 60s/ ],
    [ ["APISecJWKSTimeout forever"], [], 'APISecJWKSTimeout', qr/100ms to 60s/ ],
    [ ["APISecJWKSMinRefetch 0s"], [], 'APISecJWKSMinRefetch', qr/1s to 1d/ ],
    [ ["APISecJWKSMaxStale 90d"], [], 'APISecJWKSMaxStale', qr/1s to 30d/ ],
    [ ["APISecJWKSCA KEYS/no-such-ca.pem"], [], 'APISecJWKSCA', qr/PEM certificates/ ],
    [ ["APISecJWKSAllow http://idp.example/"], [], 'APISecJWKSAllow', qr/loopback/ ],
    [ ["APISecJWKSAllow https://idp.example"], [], 'APISecJWKSAllow', qr/scheme:\/\/host\// ],
);
for my $case (@bad) { s{KEYS}{$dir/keys}g for @{ $case->[0] }, @{ $case->[1] } }

plan tests => 2 + 4 * @bad + 6;

my $apxs = $ENV{APISEC_APXS} || 'apxs';
chomp(my $sbin = `$apxs -q SBINDIR`);
chomp(my $target = `$apxs -q TARGET`);
my $libexec = $ENV{APISEC_HTTPD_LIBEXECDIR};

# httpd -t of a configuration: (exit code, output, file, first line of the
# section's body).
sub check {
    my ($top, $lines) = @_;
    my $conf = "$dir/httpd.conf";
    my @head = ("ServerRoot $dir",
                "LoadModule mpm_prefork_module $libexec/mod_mpm_prefork.so",
                "LoadModule authz_core_module $libexec/mod_authz_core.so",
                "LoadModule authn_core_module $libexec/mod_authn_core.so",
                "LoadModule authz_user_module $libexec/mod_authz_user.so",
                "LoadModule apisec_module $ENV{APISEC_MODULE}",
                "ServerName localhost", "Listen 127.0.0.1:1", "ErrorLog $dir/error_log",
                "PidFile $dir/httpd.pid", @$top, "<Directory $dir>");
    open my $f, '>', $conf or die;
    print $f map { "$_\n" } @head, @$lines, "</Directory>";
    close $f;
    local $ENV{LD_PRELOAD} = $ENV{APISEC_ASAN_LIB} if $ENV{APISEC_ASAN_LIB};
    local $ENV{ASAN_OPTIONS} = 'detect_leaks=0' if $ENV{APISEC_ASAN_LIB};
    my $out = `$sbin/$target -t -f $conf 2>&1`;
    return ($? >> 8, $out, $conf, scalar(@head) + 1);
}

my ($rc, $out) = check(["APISecJWKSRefresh 1m 12h", "APISecJWKSTimeout 500ms",
                        "APISecJWKSMinRefetch 30s", "APISecJWKSMaxStale 2d",
                        "APISecJWKSCA $dir/keys/ec256.pub.pem",
                        "APISecJWKSAllow https://idp.example/tenants/ http://127.0.0.1:8080/"],
                       ["AuthType JWT", "APISecJWTAlgorithms ES256 RS256",
                        "APISecJWTKey https://idp.example/realms/x/certs",
                        "Require valid-user",
                        "<Files api>", "APISecJWTIssuer https://idp.example/realms/x",
                        "APISecJWTIssuerDiscovery On", "</Files>"]);
ok t_cmp($rc, 0, 'a good configuration of remote keys passes httpd -t');
ok t_cmp($out, qr/Syntax OK/, 'httpd says Syntax OK');

for my $case (@bad) {
    my ($top, $lines, $directive, $advice) = @$case;
    my ($rc, $out, $conf, $first) = check($top, $lines);
    # The bad line is the last one at its level.
    my $line = @$lines ? $first + @$lines - 1 : $first - 2;
    ok t_cmp($rc != 0 ? 'refused' : 'accepted', 'refused', "refused: @$top @$lines");
    ok t_cmp($out, qr/\Q$directive\E/, "names $directive");
    ok t_cmp($out, qr/line $line of \Q$conf\E/, "names the file and line $line");
    ok t_cmp($out, $advice, "says what to write instead");
}

# .htaccess: a tenant's URL is refused unless APISecJWKSAllow lists it.
my $P = free_port();
my $prov = start_provider(port => $P, keys => "$dir/k.json", kid => 'k', log => "$dir/p.log");
for my $d (qw(allowed denied)) {
    mkdir "$dir/$d";
    open my $f, '>', "$dir/$d/data.txt" or die; print $f "data\n"; close $f;
    my $url = $d eq 'allowed' ? "http://127.0.0.1:$P/jwks" : "http://127.0.0.1:$P/elsewhere/jwks";
    open my $h, '>', "$dir/$d/.htaccess" or die;
    print $h "AuthType JWT\nAPISecJWTAlgorithms ES256\nAPISecJWTKey $url\nAPISecJWTAudience https://api.example/\n"
           . "APISecJWTIssuer http://127.0.0.1:$P\nRequire valid-user\n";
    close $h;
}
my $port = free_port();
my $s = start_httpd(ports => [$port], conf => [
    "LoadModule authn_core_module $libexec/mod_authn_core.so",
    "LoadModule authz_user_module $libexec/mod_authz_user.so",
    "APISecJWKSAllow http://127.0.0.1:$P/jwks", 'APISecJWKSMinRefetch 1s',
    "Alias /ht/ $dir/", "<Directory $dir>", 'AllowOverride AuthConfig', 'Require all granted',
    '</Directory>',
]);
my $t = token($P);
my $r = wait_until(10, sub { my $x = one_request($port, '/ht/allowed/data.txt', "Authorization: Bearer $t");
                             $x->[0] == 200 ? $x : undef });
ok t_cmp($r ? $r->[0] : 0, 200, '.htaccess: a URL under an APISecJWKSAllow prefix works');
$r = one_request($port, '/ht/denied/data.txt', "Authorization: Bearer $t");
ok t_cmp($r->[0], 500, '.htaccess: a URL outside the allowed prefixes is refused');
open my $el, '<', "$s->{dir}/error_log"; my $log = do { local $/; <$el> };
ok t_cmp($log, qr/APISecJWTKey: keys from a URL are not allowed in \.htaccess files \(\Q$dir\E\/denied\/\.htaccess, line 3\)/,
         'the error log names the directive, the file and the line');
ok t_cmp(scalar(() = do { open my $p, '<', "$dir/p.log"; grep { m{^GET /elsewhere} } <$p> }), 0,
         'the refused URL was never fetched');
for (1 .. 5) { one_request($port, '/ht/allowed/data.txt', "Authorization: Bearer $t") }
ok t_cmp(scalar(() = do { open my $p, '<', "$dir/p.log"; grep { m{^GET /jwks} } <$p> }), 1,
         '.htaccess keys are fetched once for the whole server (a shared slot)');
stop_httpd($s);
ok t_cmp(scalar(() = $log =~ /segfault|AH00052/g), 0, 'no child crashed');
stop_pid($prov);
