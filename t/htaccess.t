# Shared hosting: a tenant's .htaccess may use what AllowOverride and
# AllowOverrideList give it, and nothing else.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use ApisecTest qw(req hdr error_log_has);

plan tests => 11;

my $r = req(GET => '/ht/fileinfo/data.json');
ok t_cmp($r->{status}, 200, 'FileInfo: served');
ok t_cmp(hdr($r, 'X-Frame-Options'), 'DENY', 'FileInfo: APISecHeader from .htaccess applies');
ok t_cmp(hdr($r, 'X-Content-Type-Options'), 'nosniff', 'FileInfo: APISecHeaders On from .htaccess applies');

$r = req(GET => '/ht/authcfg/data.json');
ok t_cmp($r->{status}, 403, 'AuthConfig: APISecRequireTLS from .htaccess applies');

$r = req(GET => '/ht/authcfg/headers/data.json');
ok t_cmp($r->{status}, 500, 'AuthConfig only: APISecHeaders in .htaccess is refused');

$r = req(GET => '/ht/list/data.json');
ok t_cmp($r->{status}, 200, 'AllowOverrideList: served');
ok t_cmp(hdr($r, 'Content-Security-Policy'), "default-src 'none'", 'AllowOverrideList: APISecCSP applies');

$r = req(GET => '/ht/list/denied/data.json');
ok t_cmp($r->{status}, 500, 'AllowOverrideList: a directive not listed is refused');

$r = req(GET => '/ht/none/data.json');
ok t_cmp($r->{status}, 200, 'AllowOverride None: served');
ok t_cmp(hdr($r, 'X-Content-Type-Options'), undef, 'AllowOverride None: .htaccess not read');

my $named = error_log_has(qr/APISecHeaders not allowed here/);
ok t_cmp($named, 1, 'the error log names the refused directive');
