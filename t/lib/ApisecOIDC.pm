package ApisecOIDC;
# The identity provider of the remote key set tests: panva's oidc-provider
# (t/oidc/provider.mjs, pinned in t/oidc/package.json) on a 127.0.0.1 port,
# started and stopped by pid; tokens from its token endpoint by
# client_credentials (curl); a private CA and certificates for https; and
# t/oidc/hostile.py, a JWKS server whose answers a test chooses.
use strict;
use warnings;
use Exporter 'import';
use FindBin ();
use File::Temp qw(tempdir);
use IO::Socket::INET ();
use POSIX ();
use Time::HiRes qw(time sleep);
use ApisecServer qw(stop_pid);

our @EXPORT_OK = qw(start_provider token fetches make_ca start_hostile set_mode
                    b64url fake_token wait_until);

my $oidc = "$FindBin::Bin/oidc";

sub wait_port {
    my ($port, $secs) = @_;
    my $end = time + ($secs || 15);
    while (time < $end) {
        return 1 if IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 1);
        sleep 0.05;
    }
    return 0;
}

# start_provider(port => P, keys => FILE, kid => K, alg => ES256, log => FILE,
#                cert => PEM, key => PEM): the pid.
sub start_provider {
    my %o = @_;
    my @a = ('--port', $o{port}, '--keys', $o{keys});
    for my $k (qw(kid alg log cert key)) { push @a, "--$k", $o{$k} if $o{$k} }
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>>', "$o{keys}.stderr";
        { exec 'node', "$oidc/provider.mjs", @a }
        POSIX::_exit(127);
    }
    wait_port($o{port}) or die "oidc-provider did not start on $o{port}";
    return $pid;
}

# An access token from the provider on PORT for RESOURCE and SCOPE.
sub token {
    my ($port, %o) = @_;
    my $scheme = $o{cacert} ? 'https' : 'http';
    my $ca = $o{cacert} ? "--cacert $o{cacert}" : '';
    my $res = $o{resource} || 'https://api.example/';
    my $scope = $o{scope} || 'read';
    my $out = `curl -s $ca -d grant_type=client_credentials -d client_id=api-client -d client_secret=api-secret -d resource=$res -d scope='$scope' $scheme://127.0.0.1:$port/token`;
    my ($t) = $out =~ /"access_token":"([^"]+)"/;
    die "no token from the provider: $out" unless $t;
    return $t;
}

# How many lines of LOG match RE (default: JWKS fetches).
sub fetches {
    my ($log, $re) = @_;
    $re ||= qr{^GET /jwks};
    open my $f, '<', $log or return 0;
    return scalar grep { $_ =~ $re } <$f>;
}

# A private CA in DIR and a certificate for 127.0.0.1 it signs:
# (ca.pem, cert.pem, key.pem).
sub make_ca {
    my ($dir, $name) = @_;
    my $q = '>/dev/null 2>&1';
    system("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
         . "-subj /CN=$name-ca -keyout $dir/$name-ca.key -out $dir/$name-ca.pem $q") == 0 or die;
    system("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 "
         . "-keyout $dir/$name.key -out $dir/$name.csr $q") == 0 or die;
    open my $e, '>', "$dir/$name.ext" or die;
    print $e "subjectAltName=IP:127.0.0.1\n";
    close $e;
    system("openssl x509 -req -in $dir/$name.csr -CA $dir/$name-ca.pem -CAkey $dir/$name-ca.key "
         . "-CAcreateserial -days 2 -extfile $dir/$name.ext -out $dir/$name.pem $q") == 0 or die;
    return ("$dir/$name-ca.pem", "$dir/$name.pem", "$dir/$name.key");
}

# t/oidc/hostile.py on PORT serving DIR (see there): the pid.
sub start_hostile {
    my ($port, $dir) = @_;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>>', "$dir/hostile.stderr";
        { exec '/usr/bin/python3', "$oidc/hostile.py", $port, $dir }
        POSIX::_exit(127);
    }
    wait_port($port) or die "hostile.py did not start on $port";
    return $pid;
}

sub set_mode {
    my ($dir, $mode) = @_;
    open my $f, '>', "$dir/mode.tmp" or die;
    print $f $mode;
    close $f;
    rename "$dir/mode.tmp", "$dir/mode" or die;
}

sub b64url {
    require MIME::Base64;
    (my $s = MIME::Base64::encode_base64($_[0], '')) =~ tr{+/}{-_};
    $s =~ s/=+$//;
    return $s;
}

# A token naming kid KID that no key signed: it reaches key selection only.
sub fake_token {
    my $kid = shift;
    return b64url(qq({"alg":"ES256","typ":"at+jwt","kid":"$kid"})) . '.'
         . b64url('{"sub":"x","exp":9999999999}') . '.' . b64url('x' x 64);
}

# Polls CODE every 50 ms until it is true or SECS pass; returns its value.
sub wait_until {
    my ($secs, $code) = @_;
    my $end = time + $secs;
    while (1) {
        my $v = $code->();
        return $v if $v || time > $end;
        sleep 0.05;
    }
}

1;
