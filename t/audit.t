# Audit events and request ids: one JSON line per event, the same request id
# as the problem answer and the error log, never a query string or cookie.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use ApisecTest qw(req hdr json_body audit_lines error_log_has);
use JSON::PP ();

plan tests => 16;

sub find_event {
    my $rid = shift;
    for (1 .. 50) {
        for my $l (audit_lines()) {
            my $e = eval { JSON::PP->new->decode($l) } or next;
            return ($e, $l) if ($e->{request_id} // '') eq $rid;
        }
        select undef, undef, undef, 0.1;
    }
    return;
}

my $r = req(GET => '/tls/reject/data.json?token=sekrit123',
            headers => ['Cookie: session=cookievalue42', 'Authorization: Bearer tokvalue99']);
my $p = json_body($r);
my $rid = $p && $p->{request_id};
ok t_cmp($rid, qr/^\S{16,}$/, 'the problem carries a request id');
my ($e, $line) = find_event($rid // '-');
ok t_cmp($e ? 'found' : 'missing', 'found', 'an audit line with that request id exists');
ok t_cmp($e && $e->{event}, 'tls_required', 'event tls_required');
ok t_cmp($e && $e->{path}, '/tls/reject/data.json', 'path without the query');
ok t_cmp($e && $e->{method}, 'GET', 'method');
ok t_cmp($e && $e->{client}, '127.0.0.1', 'client address');
ok t_cmp($e && $e->{time}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'ISO 8601 time');
ok t_cmp(($line // '') =~ /sekrit123|cookievalue42|tokvalue99/ ? 'leaked' : 'clean', 'clean', 'no query, cookie or token in the line');

$r = req(OPTIONS => '/api/data.json?x=hidden77', headers => [
    'Origin: https://evil.example.net', 'Access-Control-Request-Method: GET']);
$p = json_body($r);
($e, $line) = find_event($p->{request_id} // '-');
ok t_cmp($e && $e->{event}, 'cors_rejected', 'event cors_rejected');
ok t_cmp(defined $line && $line !~ /hidden77/ ? 'clean' : 'leaked or missing', 'clean', 'no query in the cors event');

# The id is mod_unique_id's when it is loaded: the same one the error log names.
my $found = error_log_has(qr/\Q$p->{request_id}\E/);
ok t_cmp($found, 1, 'the error log line names the request id');

# The module's 308 and 204 answers also carry the request id / no body.
$r = req(GET => '/tls/redirect/data.json');
$p = json_body($r);
ok t_cmp($p && $p->{type}, 'about:blank', 'problem type about:blank');
ok t_cmp($p && $p->{title}, 'Permanent Redirect', 'problem title is the reason phrase');
ok t_cmp(join(',', sort keys %{ $p || {} }), 'detail,request_id,status,title,type',
         'problem has exactly the RFC 9457 members and the request id');

# Every line in the file is one JSON object.
my @bad = grep { !eval { JSON::PP->new->decode($_); 1 } } audit_lines();
ok t_cmp(scalar(@bad), 0, 'every audit line is JSON');
ok t_cmp(scalar(grep { /\n./ } audit_lines()), 0, 'one event a line');
