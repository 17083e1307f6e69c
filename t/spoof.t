# Client-sent X-APISec-* request headers never reach the application, in any
# spelling, whether or not the scope configures the module.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use ApisecTest qw(req json_body);
use JSON::PP ();

plan tests => 11;

for my $path ('/cgi/echo.cgi', '/backend/echo.cgi', '/proxied/echo.cgi') {
    my $r = req(GET => $path, headers => [
        'X-APISec-Claim-Sub: admin',
        'x-apisec-user-role: root',
        'X-APISEC-CLAIM-SCOPE: admin',
        'X-Other: kept',
    ]);
    my $j = json_body($r);
    ok t_cmp($r->{status}, 200, "$path: served");
    ok t_cmp(ref($j && $j->{env}), 'HASH', "$path: the application answered with its environment");
    my @leaked = grep { /^HTTP_X_APISEC/i } keys %{ $j ? $j->{env} : {} };
    ok t_cmp(scalar(@leaked), 0, "$path: no X-APISec-* header reached the application");
}

# The CGI does see other headers (the test above can fail).
my $r = req(GET => '/cgi/echo.cgi', headers => ['X-Other: kept']);
my $j = json_body($r);
ok t_cmp($j && $j->{env}{HTTP_X_OTHER}, 'kept', 'other headers reach the CGI');

# The underscore spelling is dropped too (CGI would map it to the same variable).
$r = req(GET => '/cgi/echo.cgi', headers => ['X_APISec_Claim_Sub: admin']);
$j = json_body($r);
my @leaked = grep { /APISEC/i } keys %{ $j ? $j->{env} : {} };
ok t_cmp(scalar(@leaked), 0, 'X_APISec_* spelling dropped');
