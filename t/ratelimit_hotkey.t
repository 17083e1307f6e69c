# One hot key: 32 connections from one client address hit one limit at
# once, over memcached (where concurrent updates of one key used to lose
# compare-and-swap races and be refused) and over shm:
# - under the limit (half its rate): not one 429;
# - over it (ten times its rate): accepted within 1% of what the limit
#   allows (the documented sliding window counter run over the same
#   requests), never more than LIMIT in one of the rule's windows, and at
#   most LIMIT + 1 in a PERIOD from the first 429 (see ratelimit_accuracy.t).
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use ApisecServer qw(free_port start_memcached stop_pid start_httpd stop_httpd load access_log
                    window_allows max_per_window max_per_fixed_window);

my ($CLIENTS, $RATE, $SECS) = (32, 1000, 3);
my ($UNDER, $OVER) = (2000, 100); # per second

plan tests => 2 * 8;

sub diag { print STDERR "# $_[0]\n" }

sub run {
    my ($label, @store) = @_;
    my $p = free_port();
    my $s = start_httpd(ports => [$p], conf => [@store,
        "<Location /hot/under/>\n  APISecRateLimit $UNDER/1s\n</Location>",
        "<Location /hot/over/>\n  APISecRateLimit $OVER/1s\n</Location>"]);
    my $under = load(targets => [[$p, '/hot/under/ok']], clients => $CLIENTS, rate => $RATE, duration => $SECS);
    my $over = load(targets => [[$p, '/hot/over/ok']], clients => $CLIENTS, rate => $RATE, duration => $SECS);
    stop_httpd($s);
    my @log = sort { $a->[2] <=> $b->[2] } access_log($s);

    my @u = grep { $_->[4] eq '/hot/under/ok' } @log;
    my $u429 = grep { $_->[1] == 429 } @u;
    my $uother = grep { $_->[0] != 200 } @$under;
    my %upids = map { ("$_->[0]" => 1) } @u;
    my $urate = @u / $SECS;
    diag(sprintf "%s, under: %d requests (%.0f/s of a %d/s limit) from %d connections, %d processes, %d 429s",
         $label, scalar @u, $urate, $UNDER, $CLIENTS, scalar keys %upids, $u429);
    ok t_cmp($u429, 0, "$label: under the limit, no request of the hot key is refused");
    ok t_cmp($uother, 0, "$label: under the limit, every answer is 200");
    ok t_cmp(@u >= $RATE * $SECS / 3 && keys(%upids) >= 2 ? 'concurrent' : 'thin', 'concurrent',
             "$label: the key was hit hard, by several httpd processes");
    ok t_cmp(window_allows($UNDER, 1, map { $_->[2] } @u), scalar @u,
             "$label: the documented rule refuses none of these either");

    my @o = grep { $_->[4] eq '/hot/over/ok' } @log;
    my $acc = grep { $_->[1] == 200 } @o;
    my $want = window_allows($OVER, 1, map { $_->[2] } @o);
    my ($max, $wins) = max_per_window($OVER, 1, @o);
    diag(sprintf "%s, over: %d requests, accepted %d, the limit allows %d (%.2f%%), max %d/%d in %d windows",
         $label, scalar @o, $acc, $want, 100 * $acc / ($want || 1), $max, $OVER, $wins);
    ok t_cmp(abs($acc / ($want || 1) - 1) <= 0.01 ? 'within 1%' : "$acc of $want", 'within 1%',
             "$label: over the limit, accepted within 1% of what it allows");
    my ($maxfix, $nfix) = max_per_fixed_window($OVER, 1, @o);
    ok t_cmp($maxfix <= $OVER && $nfix >= 3 ? 'never over' : "$maxfix in a window ($nfix windows)", 'never over',
             "$label: never more than $OVER in one of the rule's windows");
    ok t_cmp($max <= $OVER + 1 && $wins >= 1 ? 'never over' : "$max in a window ($wins windows)", 'never over',
             "$label: at most $OVER + 1 in a PERIOD from the first 429");
    my %st; $st{$_->[0]}++ for grep { $_->[0] != 200 && $_->[0] != 429 } @$over;
    ok t_cmp(join(',', map { "$_ x$st{$_}" } sort keys %st), '',
             "$label: over the limit, every answer is 200 or 429");
}

{
    my $m = free_port();
    my $mpid = start_memcached($m);
    run('memcached', "APISecStore memcached 127.0.0.1:$m timeout=200");
    stop_pid($mpid);
}
run('shm');
