# The shm store survives a graceful restart: a client over its limit stays
# over it once the new generation of children serves. The metrics counters
# survive too (they stay monotonic for Prometheus).
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use IO::Socket::INET ();
use Time::HiRes qw(time sleep);
use ApisecServer qw(free_port start_httpd stop_httpd one_request);

plan tests => 5;

sub generation {
    my $port = shift;
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 2) or return -1;
    print $c "GET /server-status?auto HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    local $/;
    my $body = <$c> // '';
    return $body =~ /^ParentServerConfigGeneration: (\d+)/m ? $1 : -1;
}

sub limited_total {
    my $port = shift;
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 2) or return -1;
    print $c "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    local $/;
    my $body = <$c> // '';
    return $body =~ /^apisec_ratelimit_limited_total\{name="r"\} (\d+)/m ? $1 : 0;
}

my $p = free_port();
my $s = start_httpd(ports => [$p], conf => [
    "<Location /r/>", "APISecRateLimit 2/1h name=r", "</Location>",
    "<Location /metrics>", "SetHandler apisec-metrics", "</Location>",
]);
my @st = map { one_request($p, '/r/ok')->[0] } 1 .. 3;
ok t_cmp("@st", '200 200 429', 'before the restart: 2 of 2/1h, then 429');
my $gen = generation($p);
my $before = limited_total($p);

kill 'USR1', $s->{pid};   # apachectl graceful
my $t0 = time;
my $now = $gen;
while (time - $t0 < 10) {
    $now = generation($p);
    last if $now > $gen;
    sleep 0.1;
}
ok t_cmp($now > $gen ? 'restarted' : "generation $now", 'restarted', 'a graceful restart happened');
my $after = one_request($p, '/r/ok');
ok t_cmp($after->[0], 429, 'after the restart the client is still over its limit');
ok t_cmp(limited_total($p) > $before ? 'kept' : 'reset', 'kept', 'the metrics counters survive the restart');
ok t_cmp(stop_httpd($s), 1, 'the server stops');
