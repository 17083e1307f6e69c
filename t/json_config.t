# JSON directives that cannot be enforced fail `httpd -t`, naming the
# directive, the file and the line: a schema file that cannot be read, that
# is not JSON, or that uses a keyword the validator does not enforce; bad
# sizes, depths and methods; two schemas for one method.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use File::Temp qw(tempdir);
use FindBin ();

my $schemas = "$FindBin::Bin/conf/schemas";
my @bad = (
    # [ lines inside <Directory>, directive named, what it says ]
    [ ["APISecJSONSchema $schemas/missing.json"], 'APISecJSONSchema', qr/missing\.json: cannot be read/ ],
    [ ["APISecJSONSchema $schemas/bad_syntax.json"], 'APISecJSONSchema', qr/not a readable JSON file/ ],
    [ ["APISecJSONSchema $schemas/bad_keyword.json"], 'APISecJSONSchema', qr/contentEncoding/ ],
    [ ["APISecJSONSchema FETCH $schemas/order.json"], 'APISecJSONSchema', qr/FETCH is not an HTTP method/ ],
    [ ["APISecJSONSchema POST $schemas/order.json", "APISecJSONSchema PUT POST $schemas/order_open.json"],
      'APISecJSONSchema', qr/already covers/ ],
    [ ["APISecJSONSchema $schemas/order.json", "APISecJSONSchema $schemas/order_open.json"],
      'APISecJSONSchema', qr/already covers/ ],
    [ ["APISecJSONMaxBody 0"], 'APISecJSONMaxBody', qr/from 1 byte to 1G/ ],
    [ ["APISecJSONMaxBody 10x"], 'APISecJSONMaxBody', qr/10k or 2M/ ],
    [ ["APISecJSONMaxBody 2G"], 'APISecJSONMaxBody', qr/from 1 byte to 1G/ ],
    [ ["APISecJSONMaxDepth 0"], 'APISecJSONMaxDepth', qr/from 1 to 4096/ ],
    [ ["APISecJSON maybe"], 'APISecJSON', qr/On or Off|must be On or Off/ ],
);

plan tests => 2 + 4 * @bad;

my $apxs = $ENV{APISEC_APXS} || 'apxs';
chomp(my $sbin = `$apxs -q SBINDIR`);
chomp(my $target = `$apxs -q TARGET`);
my $httpd = "$sbin/$target";
my $libexec = $ENV{APISEC_HTTPD_LIBEXECDIR};
my $module = $ENV{APISEC_MODULE};
my $dir = tempdir(CLEANUP => 1);

sub check {
    my @lines = @_;
    my $conf = "$dir/httpd.conf";
    open my $f, '>', $conf or die;
    print $f "ServerRoot $dir\n",
             "LoadModule mpm_prefork_module $libexec/mod_mpm_prefork.so\n",
             "LoadModule authz_core_module $libexec/mod_authz_core.so\n",
             "LoadModule apisec_module $module\n",
             "ServerName localhost\nListen 127.0.0.1:1\nErrorLog $dir/error_log\n",
             "PidFile $dir/httpd.pid\n",
             "<Directory $dir>\n";
    print $f "  $_\n" for @lines;
    print $f "</Directory>\n";
    close $f;
    local $ENV{LD_PRELOAD} = $ENV{APISEC_ASAN_LIB} if $ENV{APISEC_ASAN_LIB};
    local $ENV{ASAN_OPTIONS} = 'detect_leaks=0' if $ENV{APISEC_ASAN_LIB};
    my $out = `$httpd -t -f $conf 2>&1`;
    return ($? >> 8, $out, $conf);
}

my ($rc, $out) = check('APISecJSON On', 'APISecJSONMaxBody 64k', 'APISecJSONMaxDepth 16',
                       "APISecJSONSchema POST PUT $schemas/order.json",
                       "APISecJSONSchema $schemas/order_open.json", 'APISecJSONStrict On');
ok t_cmp($rc, 0, 'a good JSON configuration passes httpd -t');
ok t_cmp($out, qr/Syntax OK/, 'httpd says Syntax OK');

for my $case (@bad) {
    my ($lines, $directive, $says) = @$case;
    my ($rc, $out, $conf) = check(@$lines);
    my $line = 9 + @$lines;   # the bad line is the last one in the section
    ok t_cmp($rc != 0 ? 'refused' : 'accepted', 'refused', "refused: @$lines");
    ok t_cmp($out, qr/\Q$directive\E/, "names $directive");
    ok t_cmp($out, qr/line $line of \Q$conf\E/, "names the file and line $line");
    ok t_cmp($out, $says, "says why");
}
