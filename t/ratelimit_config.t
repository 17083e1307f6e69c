# Store and rate-limit configuration that cannot work fails `httpd -t`,
# naming the directive and saying what to write instead.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use File::Temp qw(tempdir);

my @bad = (
    # [ server-level lines, lines inside <Directory>, directive, advice ]
    [ [], ['APISecRateLimit 10/fortnight'], 'APISecRateLimit', qr/s, m, h or d|period/i ],
    [ [], ['APISecRateLimit ten/1m'], 'APISecRateLimit', qr/LIMIT|number/i ],
    [ [], ['APISecRateLimit 100'], 'APISecRateLimit', qr/LIMIT\/PERIOD/ ],
    [ [], ['APISecRateLimit 10/1m key=cookie'], 'APISecRateLimit', qr/ip, user or header/ ],
    [ [], ['APISecRateLimit 10/1m count=successes'], 'APISecRateLimit', qr/all or failures/ ],
    [ [], ['APISecRateLimit 10/1m name=a"b'], 'APISecRateLimit', qr/letters, digits/ ],
    [ [], ['APISecRateLimit 10/1m', 'APISecRateLimit 10/1m'], 'APISecRateLimit', qr/another name=/ ],
    [ [], ['APISecRateLimitHeaders draft-8'], 'APISecRateLimitHeaders', qr/ietf/ ],
    [ [], ['APISecRateLimitExempt 10.0.0.0/33'], 'APISecRateLimitExempt', qr/192\.0\.2\.0\/24/ ],
    [ ['APISecStore redis 127.0.0.1:6379'], [], 'APISecStore', qr/shm \[size=N\] or memcached/ ],
    [ ['APISecStore shm size=1k'], [], 'APISecStore', qr/size/ ],
    [ ['APISecStore memcached no-such-host.invalid:11211'], [], 'APISecStore',
      qr/no-such-host\.invalid.*IP address/ ],
    [ ['APISecStore memcached 127.0.0.1:11211 timeout=0'], [], 'APISecStore', qr/timeout/ ],
    [ ['APISecStoreFailure maybe'], [], 'APISecStoreFailure', qr/open .* or closed/ ],
    [ [], ['APISecStore shm'], 'APISecStore', qr/not allowed|cannot occur/ ],
);

plan tests => 2 + 2 * @bad + 2;

my $apxs = $ENV{APISEC_APXS} || 'apxs';
chomp(my $sbin = `$apxs -q SBINDIR`);
chomp(my $target = `$apxs -q TARGET`);
my $httpd = "$sbin/$target";
my $libexec = $ENV{APISEC_HTTPD_LIBEXECDIR};
my $module = $ENV{APISEC_MODULE};
my $dir = tempdir(CLEANUP => 1);

sub check {
    my ($top, $lines) = @_;
    my $conf = "$dir/httpd.conf";
    open my $f, '>', $conf or die;
    print $f "ServerRoot $dir\n",
             "LoadModule mpm_prefork_module $libexec/mod_mpm_prefork.so\n",
             "LoadModule authz_core_module $libexec/mod_authz_core.so\n",
             "LoadModule apisec_module $module\n",
             "ServerName localhost\nListen 127.0.0.1:1\nErrorLog $dir/error_log\n",
             "PidFile $dir/httpd.pid\n",
             map({ "$_\n" } @$top),
             "<Directory $dir>\n", map({ "  $_\n" } @$lines), "</Directory>\n";
    close $f;
    local $ENV{LD_PRELOAD} = $ENV{APISEC_ASAN_LIB} if $ENV{APISEC_ASAN_LIB};
    local $ENV{ASAN_OPTIONS} = 'detect_leaks=0' if $ENV{APISEC_ASAN_LIB};
    my $out = `$httpd -t -f $conf 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = check(['APISecStore shm size=2M', 'APISecStoreFailure closed',
                        'APISecRateLimit 1000/1h name=global'],
                       ['APISecRateLimit 10/1s', 'APISecRateLimit 100/1m key=header:X-API-Key methods=POST,PUT',
                        'APISecRateLimit 5/15m key=user count=failures name=login',
                        'APISecRateLimitHeaders draft-7', 'APISecRateLimitExempt 10.0.0.0/8 2001:db8::/32']);
ok t_cmp($rc == 0 ? 'accepted' : $out, 'accepted', 'a good configuration passes httpd -t');
($rc, $out) = check(['APISecStore memcached 127.0.0.1:11211 localhost:11212 timeout=50'], []);
ok t_cmp($rc == 0 ? 'accepted' : $out, 'accepted',
         'memcached need not run for httpd -t (only its names must resolve)');

for my $case (@bad) {
    my ($top, $lines, $directive, $advice) = @$case;
    my ($rc, $out) = check($top, $lines);
    my $what = join(' / ', @$top, @$lines);
    ok t_cmp($rc != 0 && $out =~ /\Q$directive\E/ ? 'refused, named' : "rc=$rc: $out",
             'refused, named', "$what: refused, naming $directive");
    ok t_cmp($out, $advice, "$what: says what to write");
}

{
    my ($rc, $out) = check(["<VirtualHost 127.0.0.1:1>", "APISecStore shm", "</VirtualHost>"], []);
    ok t_cmp($rc != 0 ? 'refused' : 'accepted', 'refused', 'APISecStore inside a virtual host is refused');
    ok t_cmp($out, qr/VirtualHost/, 'the message says where it may not be');
}
