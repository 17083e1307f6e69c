# The user lookup's configuration: what cannot work fails `httpd -t` at the
# directive's line, saying what to write instead: APISecUserQuery without
# mod_dbd, or in a server without a DBDriver, or with a query that is not a
# SELECT with one unquoted %s; bad cache values; Require apisec-user without
# a value or on a secret column. And the query is not allowed in .htaccess.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use File::Temp qw(tempdir);
use ApisecServer qw(free_port start_httpd stop_httpd);
use ApisecDB qw(sqlite_users);

my $apxs = $ENV{APISEC_APXS} || 'apxs';
chomp(my $sbin = `$apxs -q SBINDIR`);
chomp(my $target = `$apxs -q TARGET`);
my $httpd = "$sbin/$target";
my $libexec = $ENV{APISEC_HTTPD_LIBEXECDIR};
my $dir = tempdir(CLEANUP => 1);
my $db = sqlite_users("$dir/users.db", { id => 'u1' });
my $Q = '"SELECT id, role FROM users WHERE id = %s"';
my $DBD = "LoadModule dbd_module $libexec/mod_dbd.so";
my @DRV = ('DBDriver sqlite3', "DBDParams $db");

# Writes a configuration of TOP lines, then a <Directory> of DIR lines, then
# BOTTOM lines; returns (exit code, output, the config's lines).
sub check {
    my ($top, $lines, $bottom) = @_;
    my $conf = "$dir/httpd.conf";
    my @all = ("ServerRoot $dir",
               "LoadModule mpm_prefork_module $libexec/mod_mpm_prefork.so",
               "LoadModule authz_core_module $libexec/mod_authz_core.so",
               "LoadModule authn_core_module $libexec/mod_authn_core.so",
               "LoadModule apisec_module $ENV{APISEC_MODULE}",
               "ServerName localhost", "Listen 127.0.0.1:1", "ErrorLog $dir/error_log",
               "PidFile $dir/httpd.pid",
               @$top, "<Directory $dir>", (map { "  $_" } @$lines), "</Directory>",
               @{ $bottom || [] });
    open my $f, '>', $conf or die;
    print $f map { "$_\n" } @all;
    close $f;
    local $ENV{LD_PRELOAD} = $ENV{APISEC_ASAN_LIB} if $ENV{APISEC_ASAN_LIB};
    local $ENV{ASAN_OPTIONS} = 'detect_leaks=0' if $ENV{APISEC_ASAN_LIB};
    my $out = `$httpd -t -f $conf 2>&1`;
    return ($? >> 8, $out, \@all, $conf);
}

my @good = (
    [ 'query, TTL and Require apisec-user with mod_dbd and SQLite',
      [$DBD, @DRV], ["APISecUserQuery $Q", 'APISecUserCacheTTL 30',
                     'Require apisec-user role admin editor'] ],
    [ 'DBDriver written after the query', [$DBD], ["APISecUserQuery $Q"], [@DRV] ],
    [ 'mod_dbd loaded after the query (LoadModule runs as the file is read)', [],
      ["APISecUserQuery $Q"], [$DBD, @DRV] ],
    [ 'DBDriver inside <IfModule dbd_module>',
      [$DBD, '<IfModule dbd_module>', @DRV, '</IfModule>'], ["APISecUserQuery $Q"] ],
    [ 'query and DBDriver in the same virtual host',
      [$DBD, '<VirtualHost 127.0.0.1:1>', @DRV, '<Location /api/>', "APISecUserQuery $Q",
       '</Location>', '</VirtualHost>'], [] ],
    [ 'APISecUserQuery off, TTL off, cache size at the top',
      [$DBD, @DRV, 'APISecUserCacheSize 50000'], ['APISecUserQuery off', 'APISecUserCacheTTL off'] ],
);

my @bad = (
    # [ what, top lines, directory lines, the offending directive, advice ]
    [ 'mod_dbd not loaded', [], ["APISecUserQuery $Q"], 'APISecUserQuery',
      qr/needs mod_dbd \(LoadModule dbd_module/ ],
    [ 'no DBDriver', [$DBD], ["APISecUserQuery $Q"], 'APISecUserQuery',
      qr/no database for this server: add DBDriver and DBDParams/ ],
    [ 'DBDriver only in another virtual host',
      [$DBD, '<VirtualHost 127.0.0.1:1>', @DRV, '</VirtualHost>'], ["APISecUserQuery $Q"],
      'APISecUserQuery', qr/no database for this server/ ],
    [ 'a DELETE', [$DBD, @DRV], ['APISecUserQuery "DELETE FROM users WHERE id = %s"'],
      'APISecUserQuery', qr/must be a SELECT/ ],
    [ 'no %s', [$DBD, @DRV], ['APISecUserQuery "SELECT id FROM users"'],
      'APISecUserQuery', qr/needs %s where the user goes/ ],
    [ 'two %s', [$DBD, @DRV], ['APISecUserQuery "SELECT id FROM users WHERE id = %s OR username = %s"'],
      'APISecUserQuery', qr/exactly one %s/ ],
    [ 'a quoted %s', [$DBD, @DRV], ["APISecUserQuery \"SELECT id FROM users WHERE id = '%s'\""],
      'APISecUserQuery', qr/without quotes/ ],
    [ '%d', [$DBD, @DRV], ['APISecUserQuery "SELECT id FROM users WHERE id = %d"'],
      'APISecUserQuery', qr/only % in the query/ ],
    [ 'TTL not a number', [], ['APISecUserCacheTTL forever'], 'APISecUserCacheTTL',
      qr/seconds from 1 to 86400, or off/ ],
    [ 'TTL over a day', [], ['APISecUserCacheTTL 90000'], 'APISecUserCacheTTL', qr/1 to 86400/ ],
    [ 'cache size too small', ['APISecUserCacheSize 2'], [], 'APISecUserCacheSize',
      qr/from 4 to 1000000/ ],
    [ 'cache size in a virtual host',
      ['<VirtualHost 127.0.0.1:1>', 'APISecUserCacheSize 100', '</VirtualHost>'], [],
      'APISecUserCacheSize', qr/VirtualHost/ ],
    [ 'cache size in a directory', [], ['APISecUserCacheSize 100'], 'APISecUserCacheSize',
      qr/not allowed in <Directory> context/ ],
    [ 'Require apisec-user without a value', [], ['Require apisec-user role'],
      'apisec-user', qr/needs a column name and at least one value/ ],
    [ 'Require apisec-user on the password hash', [], ['Require apisec-user password_hash x'],
      'apisec-user', qr/password_hash holds a secret/ ],
);

plan tests => @good + 3 * @bad + 3;

for my $case (@good) {
    my ($what, $top, $lines, $bottom) = @$case;
    my ($rc, $out) = check($top, $lines, $bottom);
    ok t_cmp($rc == 0 ? 'accepted' : $out, 'accepted', "$what: passes httpd -t");
}

for my $case (@bad) {
    my ($what, $top, $lines, $directive, $advice, $bottom) = @$case;
    my ($rc, $out, $all, $conf) = check($top, $lines, $bottom);
    my ($n) = grep { $all->[$_] =~ /\Q$directive\E/ } 0 .. $#$all;
    ok t_cmp($rc != 0 && $out =~ /\Q$directive\E/ ? 'refused, named' : "rc=$rc: $out",
             'refused, named', "$what: refused, naming $directive");
    ok t_cmp($out, qr/line \Q@{[ $n + 1 ]}\E of \Q$conf\E/, "$what: the file and line");
    ok t_cmp($out, $advice, "$what: says what to write");
}

# .htaccess: the query is the operator's, even under AllowOverride All.
my $port = free_port();
my $s = start_httpd(ports => [$port], conf => [
    $DBD, @DRV,
    "LoadModule authn_core_module $libexec/mod_authn_core.so",
    "<Directory $dir/ht>", 'AllowOverride All', 'Require all granted', '</Directory>',
    "Alias /ht/ $dir/ht/",
]);
mkdir "$dir/ht";
open my $h, '>', "$dir/ht/.htaccess" or die;
print $h "APISecUserQuery $Q\n";
close $h;
open $h, '>', "$dir/ht/x.txt" or die;
print $h "x\n";
close $h;
my $st = `curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/ht/x.txt`;
ok t_cmp($st, 500, 'APISecUserQuery in .htaccess: the request fails (500, as httpd does)');
my $log = '';
for (1 .. 50) {
    $log = do { local (@ARGV, $/) = ("$s->{dir}/error_log"); <> } // '';
    last if $log =~ /APISecUserQuery not allowed here/;
    select undef, undef, undef, 0.1;
}
ok t_cmp($log, qr/APISecUserQuery not allowed here/, 'the error log names the directive');
ok t_cmp($log, qr/\.htaccess/, 'and the .htaccess file');
stop_httpd($s);
