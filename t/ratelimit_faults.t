# The memcached store when memcached fails: absent at startup, killed under
# load, and a server that accepts connections and never answers. With
# APISecStoreFailure open no request fails and none waits past the store
# timeout (plus the request's own time); with closed the answer is a 503
# problem; once memcached is back, limits apply again within 2 s; no worker
# crashes or hangs (no segfault in the error log, scoreboard back to idle);
# failures are logged at most once per interval, not once per request.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use POSIX ();
use Time::HiRes qw(time sleep);
use ApisecServer qw(free_port start_memcached start_blackhole stop_pid start_httpd
                    stop_httpd load one_request status_idle);

plan tests => 20;

my $TIMEOUT_MS = 100;
# What a request may take beyond the store's timeout: its own service time,
# more under AddressSanitizer and on a loaded machine.
my $SLACK = $ENV{APISEC_ASAN_LIB} ? 0.4 : 0.2;
my $LIMIT_AT = $TIMEOUT_MS / 1000 + $SLACK;

sub diag { print STDERR "# $_[0]\n" }

# A server on two ports: the main one with APISecStoreFailure open (the
# default), a virtual host with closed. /lim/ allows 5 an hour, /big/ is
# never reached.
sub server_for {
    my $mport = shift;
    my ($po, $pc) = (free_port(), free_port());
    my $s = start_httpd(ports => [$po, $pc], conf => [
        "APISecStore memcached 127.0.0.1:$mport timeout=$TIMEOUT_MS",
        "<Location /lim/>", "APISecRateLimit 5/1h", "</Location>",
        "<Location /big/>", "APISecRateLimit 100000/1s", "</Location>",
        "<VirtualHost 127.0.0.1:$pc>", "ServerName localhost:$pc",
        "APISecStoreFailure closed", "</VirtualHost>",
    ]);
    return ($s, $po, $pc);
}

sub statuses { my %c; $c{ $_->[0] }++ for @_; join ',', map { "$_:$c{$_}" } sort keys %c }
sub slowest { my $m = 0; for (@_) { $m = $_->[1] if $_->[1] > $m } $m }
sub slowest_load { my $m = 0; for (@_) { $m = $_->[2] if $_->[2] > $m } $m }
sub log_lines {
    my ($s, $re) = @_;
    open my $f, '<', "$s->{dir}/error_log" or return 0;
    return scalar grep { $_ =~ $re } <$f>;
}

# --- memcached absent at startup, then started, then killed under load ---
my $m = free_port();
my ($s, $po, $pc) = server_for($m);

my @open = map { one_request($po, '/lim/ok') } 1 .. 12;
ok t_cmp(statuses(@open), '200:12', 'absent at startup, open: every request passes');
ok t_cmp(slowest(@open) < $LIMIT_AT ? 'in time' : slowest(@open), 'in time',
         "absent, open: none waits past the timeout (slowest ${\ sprintf '%.3f', slowest(@open)} s)");
my @closed = map { one_request($pc, '/lim/ok') } 1 .. 6;
ok t_cmp(statuses(@closed), '503:6', 'absent at startup, closed: 503');
ok t_cmp($closed[0][2], qr{Content-Type: application/problem\+json}i, 'the 503 is a problem');

my $mpid = start_memcached($m);
my $t0 = time;
my $back;
while (time - $t0 < 5) {
    my $r = one_request($po, '/lim/ok');
    if ($r->[0] == 429) { $back = time - $t0; last }
    sleep 0.05;
}
diag(sprintf 'memcached back: limits applied again after %.2f s', $back // -1);
ok t_cmp(defined $back && $back <= 2 ? 'within 2 s' : ($back // 'never'), 'within 2 s',
         'after memcached returns, limits apply again within 2 s');

# Killed under load: 8 clients at 200 req/s for 2 s, memcached killed at 0.7 s.
my $killer = fork // die;
if (!$killer) { sleep 0.9; kill 'KILL', $mpid; POSIX::_exit(0) }
my $res = load(targets => [[$po, '/big/ok']], clients => 8, rate => 200, duration => 2);
waitpid($killer, 0);
waitpid($mpid, 0);
ok t_cmp(statuses(@$res), qr/^200:\d+$/, 'killed under load, open: no request fails');
diag(sprintf 'killed under load: %d requests, slowest %.3f s', scalar @$res, slowest_load(@$res));
ok t_cmp(slowest_load(@$res) < $LIMIT_AT ? 'in time' : slowest_load(@$res), 'in time',
         'killed under load: none waits past the timeout');
ok t_cmp(statuses(map { one_request($pc, '/lim/ok') } 1 .. 4), '503:4', 'killed, closed: 503');
ok t_cmp(status_idle($po, 5), 1, 'the scoreboard is back to idle');
ok t_cmp(log_lines($s, qr/Segmentation|exit signal|AH00052/), 0, 'no worker crashed');
my $logged = log_lines($s, qr/AH20107/);
diag("store failures logged: $logged lines");
ok t_cmp($logged >= 1 && $logged <= 4 ? 'paced' : $logged, 'paced',
         'hundreds of failures, a few log lines (at most one per 10 s)');
stop_httpd($s);

# --- a server that accepts and never answers ---
my $bh = free_port();
my $bpid = start_blackhole($bh);
($s, $po, $pc) = server_for($bh);
@open = map { one_request($po, '/lim/ok') } 1 .. 6;
ok t_cmp(statuses(@open), '200:6', 'silent server, open: every request passes');
ok t_cmp(slowest(@open) < $LIMIT_AT ? 'in time' : slowest(@open), 'in time',
         sprintf('silent server, open: none waits past the timeout (slowest %.3f s)', slowest(@open)));
$res = load(targets => [[$po, '/big/ok']], clients => 8, rate => 200, duration => 1.5);
ok t_cmp(statuses(@$res), qr/^200:\d+$/, 'silent server under load, open: no request fails');
diag(sprintf 'silent server under load: %d requests, slowest %.3f s', scalar @$res, slowest_load(@$res));
ok t_cmp(slowest_load(@$res) < $LIMIT_AT ? 'in time' : slowest_load(@$res), 'in time',
         'silent server under load: none waits past the timeout');
@closed = map { one_request($pc, '/lim/ok') } 1 .. 4;
ok t_cmp(statuses(@closed), '503:4', 'silent server, closed: 503');
ok t_cmp(slowest(@closed) < $LIMIT_AT ? 'in time' : slowest(@closed), 'in time',
         'silent server, closed: the 503 comes within the timeout');
ok t_cmp(status_idle($po, 5), 1, 'the scoreboard is back to idle');
ok t_cmp(log_lines($s, qr/Segmentation|exit signal|AH00052/), 0, 'no worker crashed');
ok t_cmp(stop_httpd($s), 1, 'the server stops');
stop_pid($bpid);
