# How per-directory settings reach a request when the main server has no
# directive of the module's outside sections: the merge then hands on the
# section's configuration as it is. With and without such directives, a
# virtual host inherits the main server's, keeps its own, and a section
# under it adds to what it inherits.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use ApisecServer qw(free_port start_httpd stop_httpd one_request);

plan tests => 8;

sub header {
    my ($head, $name) = @_;
    return $head =~ /^\Q$name\E:\s*(.*?)\r?$/mi ? $1 : undef;
}

# Main server: APISecHeaders On outside any section. Vhost 1 has nothing of
# the module's; vhost 2 only a section that overrides one header.
my ($p0, $p1, $p2) = (free_port(), free_port(), free_port());
my $s = start_httpd(ports => [$p0, $p1, $p2], conf => [
    "APISecHeaders On",
    "<VirtualHost 127.0.0.1:$p1>", "ServerName one.test", "</VirtualHost>",
    "<VirtualHost 127.0.0.1:$p2>", "ServerName two.test",
    "<Location /deny/>", "APISecHeader X-Frame-Options DENY", "</Location>",
    "</VirtualHost>",
]);
my $main = one_request($p0, '/ok')->[2];
my $one = one_request($p1, '/ok')->[2];
my $two = one_request($p2, '/deny/ok')->[2];
ok t_cmp(header($main, 'X-Content-Type-Options'), 'nosniff', 'main server: its own APISecHeaders On');
ok t_cmp(header($one, 'X-Content-Type-Options'), 'nosniff',
         'a virtual host without directives of the module inherits the main server\'s');
ok t_cmp(header($two, 'X-Frame-Options'), 'DENY', 'a section under it overrides one header');
ok t_cmp(header($two, 'Referrer-Policy'), 'no-referrer', 'and inherits the rest');
ok t_cmp(stop_httpd($s), 1, 'the first server stops');

# Main server without any: a virtual host's own setting is all there is.
my ($q0, $q1) = (free_port(), free_port());
$s = start_httpd(ports => [$q0, $q1], conf => [
    "<VirtualHost 127.0.0.1:$q1>", "ServerName one.test", "APISecHeaders On", "</VirtualHost>",
]);
ok t_cmp(header(one_request($q0, '/ok')->[2], 'X-Content-Type-Options'), undef,
         'main server without directives of the module: no headers');
ok t_cmp(header(one_request($q1, '/ok')->[2], 'X-Content-Type-Options'), 'nosniff',
         'its virtual host with APISecHeaders On: headers');
ok t_cmp(stop_httpd($s), 1, 'the second server stops');
