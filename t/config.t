# Configuration that cannot be safe fails `httpd -t`, naming the directive,
# the file and the line, and saying what to write instead.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use File::Temp qw(tempdir);

my @bad = (
    # [ lines inside <Directory>, directive named, advice pattern ]
    [ ["APISecCORSAllowOrigin *", "APISecCORSAllowCredentials On"],
      'APISecCORSAllowCredentials', qr/exact origins/ ],
    [ ["APISecCORSAllowCredentials On", "APISecCORSAllowOrigin *"],
      'APISecCORSAllowOrigin', qr/exact origins/ ],
    [ ["APISecCORSAllowOrigin https://*.example.com"], 'APISecCORSAllowOrigin', qr/wildcard/i ],
    [ ["APISecCORSAllowOrigin null"], 'APISecCORSAllowOrigin', qr/real origins/ ],
    [ ["APISecCORSAllowOrigin https://app.example.com/"], 'APISecCORSAllowOrigin', qr/scheme:\/\/host/ ],
    [ ["APISecCORSAllowOrigin * https://app.example.com"], 'APISecCORSAllowOrigin', qr/not both/ ],
    [ ["APISecCORSMaxAge -5"], 'APISecCORSMaxAge', qr/seconds/ ],
    [ ["APISecCORSAllowMethods GET PO/ST"], 'APISecCORSAllowMethods', qr/PO\/ST/ ],
    [ ["APISecHSTS max-age=600 includeSubDomains preload"], 'APISecHSTS', qr/one year/ ],
    [ ["APISecHSTS max-age=600 always"], 'APISecHSTS', qr/max-age=N/ ],
    [ ["APISecHeader \"Bad Name\" x"], 'APISecHeader', qr/token/ ],
    [ ["APISecHeader X-Test \"a\x01b\""], 'APISecHeader', qr/control/ ],
    [ ["APISecHeader Strict-Transport-Security max-age=1"], 'APISecHeader', qr/APISecHSTS/ ],
    [ ["APISecHeader Access-Control-Allow-Origin *"], 'APISecHeader', qr/APISecCORS/ ],
    [ ["APISecCSP \"\""], 'APISecCSP', qr/default-src/ ],
    [ ["APISecRequireTLS sometimes"], 'APISecRequireTLS', qr/redirect, reject or off/ ],
    [ ["APISecRequireTLS reject port=8443"], 'APISecRequireTLS', qr/only redirect/ ],
    [ ["APISecRequireTLS redirect port=70000"], 'APISecRequireTLS', qr/port/ ],
    [ ["APISecAuditLog /tmp/audit.log"], 'APISecAuditLog', qr/not allowed in <Directory> context/ ],
    # AuthType JWT (keys made by t/make-keys in KEYS)
    [ ["APISecJWTAlgorithms none"], 'APISecJWTAlgorithms', qr/none/ ],
    [ ["APISecJWTAlgorithms ES256 None"], 'APISecJWTAlgorithms', qr/none/i ],
    [ ["APISecJWTAlgorithms XS256"], 'APISecJWTAlgorithms', qr/XS256/ ],
    [ ["APISecJWTAlgorithms HS256", "APISecJWTSecret file:KEYS/short.secret"],
      'APISecJWTSecret', qr/32 bytes|short/ ],
    [ ["APISecJWTSecret \"my-secret-value\""], 'APISecJWTSecret', qr/file:PATH or env:NAME/ ],
    [ ["APISecJWTSecret env:APISEC_NO_SUCH_VARIABLE"], 'APISecJWTSecret', qr/not set/ ],
    [ ["APISecJWTKey KEYS/missing.pem"], 'APISecJWTKey', qr/missing\.pem/ ],
    [ ["APISecJWTKey KEYS/hmac.secret"], 'APISecJWTKey', qr/hmac\.secret/ ],
    [ ["APISecJWTKey KEYS/rsa1024.pub.pem"], 'APISecJWTKey', qr/2048/ ],
    [ ["APISecJWTKey KEYS/rsa.pem"], 'APISecJWTKey', qr/rsa\.pem/ ],
    [ ["APISecJWTAlgorithms ES256", "APISecJWTKey kid=r KEYS/rsa.pub.pem"],
      'APISecJWTKey', qr/APISecJWTAlgorithms/ ],
    [ ["APISecJWTKey KEYS/ec384.pub.pem", "APISecJWTAlgorithms ES256"],
      'APISecJWTAlgorithms', qr/APISecJWTAlgorithms/ ],
    [ ["APISecOwnerPattern ^/users/"], 'APISecOwnerPattern', qr/capture/ ],
    [ ["APISecOwnerPattern \"^/users/(\""], 'APISecOwnerPattern', qr/compile/ ],
    [ ["APISecJWTCache 100"], 'APISecJWTCache', qr/cannot occur within|not allowed/ ],
    [ ["APISecJWTMaxSize 10"], 'APISecJWTMaxSize', qr/64 to 65536/ ],
    [ ["APISecJWTLeeway soon"], 'APISecJWTLeeway', qr/seconds/ ],
    [ ["APISecJWTCookie \"a b\""], 'APISecJWTCookie', qr/token/ ],
);

plan tests => 6 + 4 * @bad;

my $apxs = $ENV{APISEC_APXS} || 'apxs';
chomp(my $sbin = `$apxs -q SBINDIR`);
chomp(my $target = `$apxs -q TARGET`);
my $httpd = "$sbin/$target";
my $libexec = $ENV{APISEC_HTTPD_LIBEXECDIR};
my $module = $ENV{APISEC_MODULE};
my $dir = tempdir(CLEANUP => 1);
use FindBin ();
system("$FindBin::Bin/make-keys", "$dir/keys") == 0 or die "make-keys failed";
for my $case (@bad) { s{KEYS}{$dir/keys}g for @{ $case->[0] } }

our @top;   # lines at server level, before the <Directory> section

sub check {
    my @lines = @_;
    my $conf = "$dir/httpd.conf";
    open my $f, '>', $conf or die;
    print $f "ServerRoot $dir\n",
             "LoadModule mpm_prefork_module $libexec/mod_mpm_prefork.so\n",
             "LoadModule authz_core_module $libexec/mod_authz_core.so\n",
             "LoadModule authn_core_module $libexec/mod_authn_core.so\n",
             "LoadModule authz_user_module $libexec/mod_authz_user.so\n",
             "LoadModule apisec_module $module\n",
             "ServerName localhost\nListen 127.0.0.1:1\nErrorLog $dir/error_log\n",
             "PidFile $dir/httpd.pid\n",
             map({ "$_\n" } @top),
             "<Directory $dir>\n";
    print $f "  $_\n" for @lines;
    print $f "</Directory>\n";
    close $f;
    # Under the AddressSanitizer build, httpd needs its runtime preloaded.
    local $ENV{LD_PRELOAD} = $ENV{APISEC_ASAN_LIB} if $ENV{APISEC_ASAN_LIB};
    local $ENV{ASAN_OPTIONS} = 'detect_leaks=0' if $ENV{APISEC_ASAN_LIB};
    my $out = `$httpd -t -f $conf 2>&1`;
    return ($? >> 8, $out, $conf);
}

my ($rc, $out) = check('APISecHeaders On', 'APISecCORSAllowOrigin https://app.example.com',
                       'APISecCORSAllowCredentials On', 'APISecHSTS max-age=31536000 includeSubDomains preload',
                       'APISecRequireTLS redirect port=8443');
ok t_cmp($rc, 0, 'a good configuration passes httpd -t');
ok t_cmp($out, qr/Syntax OK/, 'httpd says Syntax OK');

{
    local @top = ('APISecHeaders On', 'APISecRequireTLS redirect',
                  'APISecCORSAllowOrigin https://app.example.com');
    my ($rc, $out) = check('APISecHeaders Off');
    ok t_cmp($rc == 0 ? 'accepted' : $out, 'accepted',
             'headers, CORS and TLS enforcement are allowed server-wide');
}

# AuthType JWT needs an allowlist in its section or an enclosing one.
{
    my ($rc, $out, $conf) = check('AuthType JWT', 'Require valid-user');
    ok t_cmp($rc != 0 ? 'refused' : 'accepted', 'refused', 'AuthType JWT without APISecJWTAlgorithms refused');
    ok t_cmp($out, qr/AuthType JWT on line 12 of \Q$conf\E needs APISecJWTAlgorithms/,
             'the message names the file and line of AuthType JWT');
    local @top = ('APISecJWTAlgorithms ES256');
    ($rc, $out) = check('AuthType JWT', "APISecJWTKey $dir/keys/ec256.pub.pem", 'Require valid-user');
    ok t_cmp($rc == 0 ? 'accepted' : $out, 'accepted', 'an allowlist in an enclosing scope is enough');
}

for my $case (@bad) {
    my ($lines, $directive, $advice) = @$case;
    my ($rc, $out, $conf) = check(@$lines);
    my $line = 11 + @$lines;   # the bad line is the last one in the section
    ok t_cmp($rc != 0 ? 'refused' : 'accepted', 'refused', "refused: @$lines");
    ok t_cmp($out, qr/\Q$directive\E/, "names $directive");
    ok t_cmp($out, qr/line $line of \Q$conf\E/, "names the file and line $line");
    ok t_cmp($out, $advice, "says what to write instead");
}
