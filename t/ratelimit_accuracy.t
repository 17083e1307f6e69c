# Accuracy of one limit under ten times its rate, from many concurrent
# clients spread over all httpd processes, for several periods: with the shm
# store, with one memcached, and with two httpd servers sharing two
# memcached servers (one global limit). Counted from the servers' access
# logs (when each request began, and how long it took):
# - accepted within 1% of what the limit allows: the documented sliding
#   window counter (README, "Algorithm") run over the same requests in the
#   order and at the times they began (ApisecServer::window_allows);
# - in each of the rule's windows (aligned to the epoch) at most LIMIT
#   accepted, and in every window of one PERIOD counted from the first 429
#   after the burst (when the allowance is used up) at most LIMIT + 1: a
#   request that comes a little after room opened leaves that room to the
#   next, which can fall into the next PERIOD (README, "Algorithm"); both
#   among the requests decided inside the window for certain (begun and
#   answered in it: a decision lies between the two, and a loaded machine
#   can put tens of milliseconds between them).
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp t_debug);
use ApisecServer qw(free_port start_memcached stop_pid start_httpd stop_httpd load access_log
                    window_allows max_per_window max_per_fixed_window);

my ($LIMIT, $PERIOD, $RATE, $SECS, $CLIENTS) = (100, 1, 1000, 3, 12);

plan tests => 3 * 6;

my $limit_line = "<Location /acc/>\n  APISecRateLimit $LIMIT/${PERIOD}s\n</Location>";

sub analyse {
    my ($label, $res, @servers) = @_;
    my @e = sort { $a->[2] <=> $b->[2] } grep { $_->[4] eq '/acc/ok' } map { access_log($_) } @servers;
    my ($t0, $tl) = ($e[0][2], $e[-1][2]);
    my $accepted = grep { $_->[1] == 200 } @e;
    my $expected = window_allows($LIMIT, $PERIOD, map { $_->[2] } @e);
    my $ratio = $accepted / $expected;
    my ($maxwin, $wins, $first429) = max_per_window($LIMIT, $PERIOD, @e);
    my $early429 = grep { $_->[1] == 429 && $_->[2] + $_->[3] < ($first429 // 0) } @e;
    my %pids = map { ("$_->[0]" => 1) } @e;
    my $offered = @e / (($tl - $t0) / 1e6) / ($LIMIT / $PERIOD);
    my %other; $other{$_->[0]}++ for grep { $_->[0] != 200 && $_->[0] != 429 } @$res;
    # Status 0: the client saw no answer (connect failure, or none in 5 s).
    my $other = join(',', map { "$_ x$other{$_}" } sort keys %other);
    t_debug(sprintf "%s: %d requests, %.1fx the limit, %d processes; accepted %d of %d allowed (%.2f%%); "
            . "max %d in %d windows from the first 429", $label, scalar @e, $offered, scalar keys %pids,
            $accepted, $expected, 100 * $ratio, $maxwin, $wins);
    diag(sprintf "%s: accepted %d, the limit allows %d (%.2f%%), offered %.1fx, max %d/%d per window "
         . "(%d windows), %d processes, %d 429s during the burst",
         $label, $accepted, $expected, 100 * $ratio, $offered, $maxwin, $LIMIT, $wins, scalar keys %pids, $early429);
    diag(sprintf "%s: busiest of the rule's windows %d/%d", $label, (max_per_fixed_window($LIMIT, $PERIOD, @e))[0], $LIMIT);
    ok t_cmp(abs($ratio - 1) <= 0.01 ? 'within 1%' : sprintf('%.2f%%', 100 * $ratio), 'within 1%',
             "$label: accepted within 1% of what the limit allows");
    my ($maxfix, $nfix) = max_per_fixed_window($LIMIT, $PERIOD, @e);
    ok t_cmp($maxfix <= $LIMIT && $nfix >= 3 ? 'never over' : "$maxfix in a window ($nfix windows)",
             'never over', "$label: never more than $LIMIT in one of the rule's windows");
    ok t_cmp($maxwin <= $LIMIT + 1 && $wins >= 1 ? 'never over' : "$maxwin in a window ($wins windows)",
             'never over', "$label: at most $LIMIT + 1 in a PERIOD from the first 429");
    ok t_cmp($offered >= 5 ? 'overloaded' : sprintf('%.1fx', $offered), 'overloaded',
             "$label: offered at least 5x the limit (asked for 10x)");
    ok t_cmp(scalar(keys %pids) >= 2 ? 'several' : 'one', 'several', "$label: several httpd processes served");
    ok t_cmp($other, '', "$label: every answer is 200 or 429");
}

sub diag { print STDERR "# $_[0]\n" }

{
    my $p = free_port();
    my $s = start_httpd(ports => [$p], conf => [$limit_line]);
    my $res = load(targets => [[$p, '/acc/ok']], clients => $CLIENTS, rate => $RATE, duration => $SECS);
    stop_httpd($s);
    analyse('shm', $res, $s);
}
{
    my $m = free_port();
    my $mpid = start_memcached($m);
    my $p = free_port();
    my $s = start_httpd(ports => [$p], conf => ["APISecStore memcached 127.0.0.1:$m timeout=200", $limit_line]);
    my $res = load(targets => [[$p, '/acc/ok']], clients => $CLIENTS, rate => $RATE, duration => $SECS);
    stop_httpd($s);
    stop_pid($mpid);
    analyse('one memcached', $res, $s);
}
{
    my @m = (free_port(), free_port());
    my @mpid = map { start_memcached($_) } @m;
    my $store = "APISecStore memcached 127.0.0.1:$m[0] 127.0.0.1:$m[1] timeout=200";
    my $pa = free_port();
    my $a = start_httpd(ports => [$pa], conf => [$store, $limit_line]);
    my $pb = free_port();
    # The same ServerName: the same key namespace, so one global limit.
    my $b = start_httpd(ports => [$pb], server_name => "localhost:$pa", conf => [$store, $limit_line]);
    my $res = load(targets => [[$pa, '/acc/ok'], [$pb, '/acc/ok']], clients => $CLIENTS,
                   rate => $RATE, duration => $SECS);
    stop_httpd($_) for $a, $b;
    stop_pid($_) for @mpid;
    analyse('two servers, two memcached', $res, $a, $b);
}
