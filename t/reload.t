# Keys are read at startup, never per request, and a graceful restart reads
# them again: a new key file is used after `apachectl graceful` (SIGUSR1),
# and tokens of the replaced key are refused from then on.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use ApisecTest qw(req server_root);
use ApisecJWT qw(mint claims_ok keyfile);
use File::Copy qw(copy);

plan tests => 5;

sub status { req(GET => '/jwt/reload/echo.cgi', headers => ["Authorization: Bearer $_[0]"])->{status} }

my $old = mint('ES256', 'reload', claims_ok(), { kid => 'reload' });
ok t_cmp(status($old), 200, 'token of the configured key accepted');

system('openssl', 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256',
       '-out', keyfile('reload2.pem')) == 0 or die;
system('openssl', 'pkey', '-in', keyfile('reload2.pem'), '-pubout',
       '-out', keyfile('reload.pub.pem.new')) == 0 or die;
rename keyfile('reload.pub.pem.new'), keyfile('reload.pub.pem') or die;
my $new = mint('ES256', 'reload2', claims_ok(), { kid => 'reload' });
ok t_cmp(status($new), 401, 'a new key file is not read per request');

open my $pf, '<', server_root() . '/logs/httpd.pid' or die;
chomp(my $pid = <$pf>);
kill 'USR1', $pid or die "cannot signal httpd $pid";
my $after = 0;
for (1 .. 100) {
    $after = status($new);
    last if $after == 200;
    select undef, undef, undef, 0.1;
}
ok t_cmp($after, 200, 'after a graceful restart the new key is used');
ok t_cmp(status($old), 401, 'and the old key is gone');
ok t_cmp(status($new), 200, 'the server keeps serving');
