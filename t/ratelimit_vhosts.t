# Many virtual hosts, each with its own counters: 40 name-based hosts on one
# port, with the same limit and the same client, never share a budget. The
# key's namespace ("ServerName:port") is found per request in a table of the
# servers made at startup; with 41 servers in it, several share a home slot.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use IO::Socket::INET;
use ApisecServer qw(free_port start_httpd stop_httpd);

my $n = 40;
plan tests => 4;

sub get_host {
    my ($port, $host) = @_;
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5)
        or return 0;
    print $c "GET /rl/ok HTTP/1.1\r\nHost: $host\r\nConnection: close\r\n\r\n";
    local $/;
    my ($st) = (<$c> // '') =~ m{^HTTP/1\.1 (\d+)};
    return $st || 0;
}

my ($port, $main) = (free_port(), free_port());
my $s = start_httpd(ports => [$port, $main], conf => [
    "<Location /rl/>", "APISecRateLimit 1/1h", "</Location>",
    map { ("<VirtualHost 127.0.0.1:$port>", "ServerName v$_.test", "</VirtualHost>") } 1 .. $n,
]);
my @first = map { get_host($port, "v$_.test") } 1 .. $n;
my @second = map { get_host($port, "v$_.test") } 1 .. $n;
ok t_cmp(join(',', grep { $first[$_ - 1] != 200 } 1 .. $n), '',
         "the first request to each of $n virtual hosts passes its 1/1h (hosts listed did not)");
ok t_cmp(join(',', grep { $second[$_ - 1] != 429 } 1 .. $n), '',
         'the second to each is refused: each host counted its own (hosts listed were not)');
ok t_cmp(get_host($main, 'localhost') . ',' . get_host($main, 'localhost'), '200,429',
         'the main server (on a port without virtual hosts) has its own budget too');
ok t_cmp(stop_httpd($s), 1, 'the server stops');
