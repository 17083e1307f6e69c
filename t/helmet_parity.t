# Parity with helmet itself: the headers helmet 8's default middleware sets
# (run from t/node with Node.js) are exactly what APISecHeaders On sends, and
# what helmet removes (X-Powered-By) is removed. Over HTTPS, so HSTS counts.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use ApisecTest qw(req hdr);
use FindBin ();
use JSON::PP ();

my $dir = "$FindBin::Bin/node";
my $json = `cd $dir && node helmet-defaults.js`;
my $helmet = eval { JSON::PP->new->decode($json) } || {};
my @names = sort keys %$helmet;

plan tests => 2 + 2 * @names;

ok t_cmp(scalar(@names) >= 12 ? 'helmet ran' : "helmet gave: $json", 'helmet ran',
         'helmet (t/node) reports its default headers');
my $r = req(GET => '/cgi/echo.cgi', https => 1);
ok t_cmp($r->{status}, 200, 'CGI over HTTPS answered');
for my $name (@names) {
    my $want = $helmet->{$name};
    ok t_cmp(hdr($r, $name), $want, defined $want ? "$name as helmet sets it" : "$name removed as helmet does");
    # And over plain HTTP: the same, except HSTS which must not be sent.
    my $plain = req(GET => '/cgi/echo.cgi');
    my $want_plain = $name eq 'Strict-Transport-Security' ? undef : $want;
    ok t_cmp(hdr($plain, $name), $want_plain, "$name over plain HTTP");
}
