package ApisecServer;
# Servers that t/ratelimit_*.t start and stop themselves, on free 127.0.0.1
# ports, each remembered by pid and stopped by pid: plain httpd servers with
# a generated configuration (the event MPM, several processes, an access
# log of pid, status and times), memcached, and a "black hole" that accepts
# connections and never answers. And a load driver: keep-alive clients that
# send paced requests and record each answer's status and times.
use strict;
use warnings;
use Exporter 'import';
use File::Temp qw(tempdir);
use IO::Socket::INET ();
use POSIX ();
use Time::HiRes qw(time sleep);

our @EXPORT_OK = qw(free_port start_memcached start_blackhole stop_pid start_httpd
                    stop_httpd load access_log one_request status_idle window_allows
                    max_per_window max_per_fixed_window);

# A port for a server this test starts. Two things made the old way (bind
# port 0, close, hand the number on) fail now and then: the kernel may give
# the same number to the next call, so one server got two equal Listen
# lines, and any client's connect() may take it from the ephemeral range
# before httpd binds it. So the ports come from 20000-29999, below the
# ephemeral range (32768-60999 on Debian) and above Apache::Test's own
# (8529 up), are never handed out twice in one test, and must bind now.
my %handed_out;
sub free_port {
    for (1 .. 1000) {
        my $p = 20000 + int(rand(10000));
        next if $handed_out{$p};
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $p,
                                      Proto => 'tcp', Listen => 1, ReuseAddr => 1) or next;
        close $s;
        $handed_out{$p} = 1;
        return $p;
    }
    die "no free port in 20000-29999";
}

sub wait_port {
    my ($port, $secs) = @_;
    my $end = time + ($secs || 10);
    while (time < $end) {
        my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 1);
        return 1 if $c;
        sleep 0.02;
    }
    return 0;
}

sub start_memcached {
    my $port = shift;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        { exec 'memcached', '-l', '127.0.0.1', '-p', $port, '-U', '0', '-t', '2', '-m', '16' }
        POSIX::_exit(127);
    }
    wait_port($port, 5) or die "memcached did not start on $port";
    return $pid;
}

# Accepts connections and holds them, never reading nor answering.
sub start_blackhole {
    my $port = shift;
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
                                  Listen => 128, ReuseAddr => 1) or die "blackhole: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        my @held;
        $SIG{TERM} = sub { POSIX::_exit(0) };
        while (my $c = $l->accept) { push @held, $c }
        POSIX::_exit(0);
    }
    close $l;
    return $pid;
}

sub stop_pid {
    my $pid = shift or return;
    kill 'TERM', $pid;
    for (1 .. 100) {
        return if waitpid($pid, POSIX::WNOHANG()) != 0;
        sleep 0.05;
    }
    kill 'KILL', $pid;
    waitpid($pid, 0);
}

# start_httpd(ports => [P, ...], server_name => 'localhost:P', conf => [lines])
sub start_httpd {
    my %o = @_;
    my $apxs = $ENV{APISEC_APXS} || 'apxs';
    chomp(my $sbin = `$apxs -q SBINDIR`);
    chomp(my $target = `$apxs -q TARGET`);
    my $libexec = $ENV{APISEC_HTTPD_LIBEXECDIR};
    my $dir = tempdir(CLEANUP => 1);
    mkdir "$dir/htdocs";
    open my $h, '>', "$dir/htdocs/ok" or die; print $h "ok\n"; close $h;
    my @ports = @{ $o{ports} };
    my $name = $o{server_name} || "localhost:$ports[0]";
    open my $f, '>', "$dir/httpd.conf" or die;
    print $f map { "$_\n" } (
        "ServerRoot $dir",
        "DefaultRuntimeDir $dir",
        "LoadModule mpm_event_module $libexec/mod_mpm_event.so",
        "LoadModule authz_core_module $libexec/mod_authz_core.so",
        "LoadModule authz_host_module $libexec/mod_authz_host.so",
        "LoadModule status_module $libexec/mod_status.so",
        "LoadModule alias_module $libexec/mod_alias.so",
        "LoadModule apisec_module $ENV{APISEC_MODULE}",
        "ServerName $name",
        (map { "Listen 127.0.0.1:$_" } @ports),
        "PidFile $dir/httpd.pid",
        "ErrorLog $dir/error_log",
        "LogLevel warn",
        "DocumentRoot $dir/htdocs",
        "StartServers 3", "ServerLimit 4", "ThreadsPerChild 16",
        "MaxRequestWorkers 64", "MinSpareThreads 16", "MaxSpareThreads 64",
        "KeepAliveTimeout 30", "MaxKeepAliveRequests 0",
        "ExtendedStatus On",
        'LogFormat "%P %>s %{begin:usec}t %D %U" rl',
        "CustomLog $dir/access_log rl",
        "<Location /server-status>", "SetHandler server-status", "</Location>",
        "AliasMatch ^/.*/ok\$ $dir/htdocs/ok",
        @{ $o{conf} || [] });
    close $f;
    local $ENV{LD_PRELOAD} = $ENV{APISEC_ASAN_LIB} if $ENV{APISEC_ASAN_LIB};
    my $out = `$sbin/$target -f $dir/httpd.conf -k start 2>&1`;
    die "httpd did not start: $out" if $?;
    wait_port($_, 10) or die "httpd not listening on $_: " . `cat $dir/error_log` for @ports;
    my $pid;
    for (1 .. 100) {
        my $pf;
        last if open($pf, '<', "$dir/httpd.pid") && defined($pid = <$pf>);
        sleep 0.05;
    }
    chomp $pid;
    return { pid => $pid, dir => $dir, ports => \@ports };
}

sub stop_httpd {
    my $s = shift or return;
    kill 'TERM', $s->{pid};
    for (1 .. 200) { return 1 unless kill 0, $s->{pid}; sleep 0.05 }
    kill 'KILL', $s->{pid};
    return 0;
}

# [pid, status, begin_us, duration_us, path] for each logged request.
sub access_log {
    my $s = shift;
    open my $f, '<', "$s->{dir}/access_log" or return ();
    return map { [split ' '] } <$f>;
}

# One request on a fresh connection: [status, seconds, headers text].
sub one_request {
    my ($port, $path, @h) = @_;
    my $t0 = time;
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5)
        or return [0, time - $t0, ''];
    print $c "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n",
             (map { "$_\r\n" } @h), "\r\n";
    local $/;
    my $resp = <$c> // '';
    my ($st) = $resp =~ m{^HTTP/1\.1 (\d+)};
    my ($head) = split /\r\n\r\n/, $resp, 2;
    return [$st || 0, time - $t0, $head // ''];
}

# Polls mod_status until one worker (the status request) is busy.
sub status_idle {
    my ($port, $secs) = @_;
    my $end = time + ($secs || 5);
    while (time < $end) {
        my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 2);
        if ($c) {
            print $c "GET /server-status?auto HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
            local $/;
            my $r = <$c> // '';
            return 1 if $r =~ /^BusyWorkers: 1$/m;
        }
        sleep 0.1;
    }
    return 0;
}

# One request on a keep-alive connection: the status, or -1 when the
# server closes the connection after it (the caller reconnects), 0 on error.
sub exchange {
    my ($c, $path) = @_;
    print $c "GET $path HTTP/1.1\r\nHost: localhost\r\n\r\n" or return 0;
    my $line = <$c>;
    return 0 unless defined $line && $line =~ m{^HTTP/1\.1 (\d+)};
    my ($st, $len, $close) = ($1, 0, 0);
    while (defined(my $hl = <$c>)) {
        last if $hl eq "\r\n";
        $len = $1 if $hl =~ /^Content-Length:\s*(\d+)/i;
        $close = 1 if $hl =~ /^Connection:\s*close/i;
    }
    my $body = '';
    read($c, $body, $len) if $len;
    return $close ? -$st : $st;
}

# load(targets => [[port, path], ...], clients => N, rate => total/s,
#      duration => s): each client keeps one connection to its target
#      (clients are spread over the targets in turn) and sends at
#      rate/clients a second. Returns [status, sent_at, seconds] per request.
sub load {
    my %o = @_;
    my $n = $o{clients};
    my $gap = $n / $o{rate};
    my $dir = tempdir(CLEANUP => 1);
    my $start = time + 0.2;
    my @pids;
    for my $i (0 .. $n - 1) {
        my $pid = fork // die "fork: $!";
        if ($pid) { push @pids, $pid; next }
        my ($port, $path) = @{ $o{targets}[ $i % @{ $o{targets} } ] };
        open my $out, '>', "$dir/$i" or POSIX::_exit(1);
        my $c;
        my $next = $start + $gap * $i / $n;
        my $end = $start + $o{duration};
        while ($next < $end) {
            my $now = time;
            sleep($next - $now) if $next > $now;
            my $t0 = time;
            $next += $gap;
            $c ||= IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5);
            my $st = 0;
            # A read never blocks past 5 s: a stuck server fails the request.
            my $ok = eval {
                local $SIG{ALRM} = sub { die "timeout\n" };
                alarm 5;
                $st = exchange($c, $path) if $c;
                alarm 0;
                1;
            };
            alarm 0;
            undef $c if !$ok || $st <= 0;
            $st = $ok ? abs($st) : 0;
            printf $out "%d %.6f %.6f\n", $st, $t0, time - $t0;
        }
        close $out;
        POSIX::_exit(0);
    }
    waitpid($_, 0) for @pids;
    my @res;
    for my $i (0 .. $n - 1) {
        open my $f, '<', "$dir/$i" or next;
        push @res, map { [split ' '] } <$f>;
    }
    return \@res;
}

# What LIMIT/PERIOD lets through of requests at TIMES (microseconds since
# the epoch, in order): the sliding window counter of README "Algorithm",
# written again from its definition, so the tests check the module against
# the documented rule rather than against itself.
sub window_allows {
    my ($limit, $period, @times) = @_;
    my $p = $period * 1e6;
    my ($k, $prev, $cur, $n) = (-2, 0, 0, 0);
    for my $t (@times) {
        my $w = int($t / $p);
        if ($w != $k) { ($prev, $cur) = ($w == $k + 1 ? $cur : 0, 0); $k = $w }
        my $rem = $p - ($t - $w * $p);
        if (int($prev * $rem / $p) + $cur + 1 <= $limit) { ++$cur; ++$n }
    }
    return $n;
}

# The busiest window of one PERIOD, counted in steps of PERIOD from the
# first 429 after LIMIT requests passed (when the allowance is used up),
# among the requests decided inside the window for certain (begun and
# answered in it: a decision lies between the two, and a loaded machine can
# put tens of milliseconds between them). ENTRIES are access_log() rows in
# order of their begin times. Returns (max, windows, first 429's end).
sub max_per_window {
    my ($limit, $period, @e) = @_;
    my ($first429, $seen) = (undef, 0);
    for (@e) {
        $seen++ if $_->[1] == 200;
        if ($_->[1] == 429 && $seen >= $limit) { $first429 = $_->[2] + $_->[3]; last }
    }
    my ($maxwin, $wins) = (0, 0);
    my $tl = $e[-1][2];
    for (my $w = $first429 // $tl; $w + $period * 1e6 <= $tl; $w += $period * 1e6) {
        my $n = grep { $_->[1] == 200 && $_->[2] >= $w && $_->[2] + $_->[3] < $w + $period * 1e6 } @e;
        $maxwin = $n if $n > $maxwin;
        ++$wins;
    }
    return ($maxwin, $wins, $first429);
}

# The busiest of the rule's own windows (aligned to the epoch) among the
# requests decided inside one for certain: at most LIMIT each, exactly.
sub max_per_fixed_window {
    my ($limit, $period, @e) = @_;
    my $p = $period * 1e6;
    my %n;
    for (grep { $_->[1] == 200 } @e) {
        my $k = int($_->[2] / $p);
        ++$n{$k} if $_->[2] + $_->[3] < ($k + 1) * $p;
    }
    my ($max) = sort { $b <=> $a } values %n;
    return ($max // 0, scalar keys %n);
}

1;
