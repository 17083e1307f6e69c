# A slow client cannot make the server hold more than APISecJSONMaxBody:
# a chunked body sent 1 KiB at a time is answered 413 as soon as it passes
# the 10k limit, and the connection is closed there (the rest is never
# read); a Content-Length over the limit is answered before any body byte
# is sent. 127.0.0.1 only, every wait bounded.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use ApisecTest qw(port);
use IO::Select ();
use IO::Socket::INET ();
use Time::HiRes qw(time sleep);

plan tests => 8;

sub connect_server {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => port(),
                                  Proto => 'tcp', Timeout => 5) or die "connect: $!";
    return $s;
}

# Reads what the server sent until it closes or 5 s pass.
sub read_answer {
    my $s = shift;
    my ($buf, $end) = ('', time + 5);
    my $sel = IO::Select->new($s);
    while (time < $end) {
        last unless $sel->can_read($end - time);
        my $n = sysread($s, my $chunk, 65536);
        last unless $n;
        $buf .= $chunk;
    }
    return $buf;
}

{
    my $s = connect_server();
    print $s "POST /json/sha256.cgi HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           . "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    my $chunk = 'x' x 1024;
    my $sel = IO::Select->new($s);
    my ($sent, $answered) = (0, 0);
    print $s sprintf("%x\r\n%s\r\n", 1 + 1023, '[' . ('1,' x 511) . '1');
    $sent = 1;
    # Up to 100 KiB, 1 KiB every 20 ms, looking for the answer after each.
    while ($sent < 100) {
        if ($sel->can_read(0.02)) { $answered = 1; last }
        last unless print $s sprintf("%x\r\n%s\r\n", length $chunk, $chunk);
        ++$sent;
    }
    my $answer = read_answer($s);
    ok t_cmp($answer =~ m{^HTTP/1\.1 413 } ? 1 : 0, 1, 'slow chunked body over the limit: 413');
    ok t_cmp($answered || $answer ne '' ? 1 : 0, 1, 'the 413 came while the client was still sending');
    ok t_cmp($sent <= 13 ? 1 : 0, 1, "the 413 came once the limit was passed ($sent KiB sent, limit 10 KiB)");
    ok t_cmp($answer =~ m{\r\nConnection: close\r\n}i ? 1 : 0, 1, 'the connection is closed, the rest unread');
    close $s;
}

{
    my $s = connect_server();
    my $t0 = time;
    print $s "POST /json/sha256.cgi HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           . "Content-Type: application/json\r\nContent-Length: 1048576\r\n\r\n";
    my $answer = read_answer($s);
    ok t_cmp($answer =~ m{^HTTP/1\.1 413 } ? 1 : 0, 1, 'Content-Length over the limit: 413 before any body byte');
    ok t_cmp(time - $t0 < 4 ? 1 : 0, 1, 'Content-Length over the limit: answered at once');
    close $s;
}

# Expect: 100-continue with a body over the limit: the client is told 413
# and never asked for the body.
{
    my $s = connect_server();
    print $s "POST /json/sha256.cgi HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           . "Content-Type: application/json\r\nContent-Length: 20000\r\nExpect: 100-continue\r\n\r\n";
    my $answer = read_answer($s);
    ok t_cmp($answer =~ m{^HTTP/1\.1 413 } ? 1 : 0, 1, 'Expect: 100-continue over the limit: 413');
    ok t_cmp($answer =~ m{100 Continue} ? 1 : 0, 0, 'Expect: 100-continue over the limit: no 100 Continue');
    close $s;
}
