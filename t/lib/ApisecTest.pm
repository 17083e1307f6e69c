package ApisecTest;
# Helpers for the mod_apisec Apache::Test suite: requests go through curl (a
# real client, and exact control over the headers sent), answers come back
# as { status, headers => { lower-case name => [values] }, body }.
use strict;
use warnings;

use Apache::Test ();
use Apache::TestUtil ();
use File::Temp qw(tempfile);
use JSON::PP ();
use Exporter 'import';

our @EXPORT_OK = qw(req port hdr json_body audit_lines server_root error_log_has);

sub port {
    my $vhost = shift;
    my $vars = Apache::Test::vars();
    return $vhost ? $vars->{"${vhost}_port"} : $vars->{port};
}

sub server_root { Apache::Test::vars()->{serverroot} }

# req(GET => '/path', headers => [...], https => 1, vhost => 'apisec_proxy',
#     data => '...', raw_path => 1)
sub req {
    my ($method, $path, %a) = @_;
    my $vhost = $a{https} ? 'apisec_tls' : $a{vhost};
    my $scheme = $a{https} ? 'https' : 'http';
    my $url = sprintf '%s://127.0.0.1:%d%s', $scheme, port($vhost), $path;
    my (undef, $hfile) = tempfile(UNLINK => 1);
    my (undef, $bfile) = tempfile(UNLINK => 1);
    my @cmd = ('curl', '-s', '-k', '--http1.1', '--path-as-is', '--max-time', '10',
               '-D', $hfile, '-o', $bfile);
    push @cmd, ($method eq 'HEAD' ? ('-I') : ('-X', $method));
    push @cmd, map { ('-H', $_) } @{ $a{headers} || [] };
    push @cmd, ('--data-binary', $a{data}) if defined $a{data};
    push @cmd, $url;
    system(@cmd) == 0 or return { status => 0, headers => {}, body => '' };
    open my $hf, '<', $hfile or die;
    my @lines = <$hf>;
    close $hf;
    # With -I curl may write the head twice (HEAD); keep the last block.
    my ($status, %h) = (0);
    for my $l (@lines) {
        $l =~ s/\r?\n$//;
        if ($l =~ m{^HTTP/\S+ (\d+)}) { $status = $1; %h = (); next; }
        next unless $l =~ /^([^:]+):\s?(.*)$/;
        push @{ $h{ lc $1 } }, $2;
    }
    open my $bf, '<:raw', $bfile or die;
    local $/;
    my $body = <$bf> // '';
    close $bf;
    return { status => $status, headers => \%h, body => $body };
}

# The single value of a header, undef when absent, a joined list when the
# header came more than once (so a test sees duplicates).
sub hdr {
    my ($res, $name) = @_;
    my $v = $res->{headers}{ lc $name } or return undef;
    return join ' | ', @$v;
}

sub json_body {
    my $res = shift;
    my $j = eval { JSON::PP->new->decode($res->{body}) };
    return $j;
}

# Polls the server's error log (lines are written after the answer) for up
# to 5 s; true when a line matches PATTERN.
sub error_log_has {
    my $pattern = shift;
    my $log = server_root() . '/logs/error_log';
    for (1 .. 50) {
        if (open my $f, '<', $log) {
            while (<$f>) { return 1 if $_ =~ $pattern }
            close $f;
        }
        select undef, undef, undef, 0.1;
    }
    return 0;
}

sub audit_lines {
    my $file = server_root() . '/logs/apisec_audit.log';
    open my $f, '<', $file or return ();
    my @lines = <$f>;
    close $f;
    return @lines;
}

1;
