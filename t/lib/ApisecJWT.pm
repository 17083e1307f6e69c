package ApisecJWT;
# Test tokens for t/jwt*.t, made by libraries that are not ours:
# python3-jwt (t/mint) and Crypt::JWT; and hand-made ones for the attacks.
use strict;
use warnings;
use Exporter 'import';
use FindBin ();
use JSON::PP ();
use MIME::Base64 qw(encode_base64url decode_base64url);
use Digest::SHA qw(hmac_sha256);
use Crypt::JWT qw(encode_jwt);

our @EXPORT_OK = qw(mint crypt_jwt b64 keyfile claims_ok forge);

my $json = JSON::PP->new->canonical;

sub keyfile {
    my $name = shift;
    return "$FindBin::Bin/conf/keys/$name";
}

# Claims the /jwt scope accepts, with OVERRIDES (undef deletes a claim).
sub claims_ok {
    my %o = @_;
    my %c = (sub => 'alice', iss => 'https://issuer.test', aud => 'api://test',
             exp => '+600', iat => '-5');
    for (keys %o) { defined $o{$_} ? ($c{$_} = $o{$_}) : delete $c{$_} }
    return \%c;
}

# python3-jwt: mint(ALG, KEYNAME, \%claims, \%headers)
sub mint {
    my ($alg, $key, $claims, $headers) = @_;
    my @cmd = ("$FindBin::Bin/mint", $alg, $key, $json->encode($claims));
    push @cmd, $json->encode($headers) if $headers;
    open my $p, '-|', @cmd or die "mint: $!";
    local $/;
    my $t = <$p>;
    close $p or die "mint failed for $alg";
    return $t;
}

sub relative_times {
    my $c = { %{ $_[0] } };
    for my $k (qw(exp nbf iat)) {
        $c->{$k} = time + $1 if defined $c->{$k} && $c->{$k} =~ /^([+-]\d+)$/;
    }
    return $c;
}

# Crypt::JWT: crypt_jwt(ALG, KEYNAME, \%claims, KID)
sub crypt_jwt {
    my ($alg, $keyname, $claims, $kid) = @_;
    my $key;
    if ($keyname eq 'hmac') {
        open my $f, '<', keyfile('hmac.secret') or die;
        local $/;
        $key = <$f>;
    }
    else {
        open my $f, '<', keyfile("$keyname.pem") or die;
        local $/;
        my $pem = <$f>;
        $key = \$pem;
    }
    return encode_jwt(payload => relative_times($claims), alg => $alg, key => $key,
                      extra_headers => { kid => $kid });
}

sub b64 { encode_base64url(ref $_[0] ? $json->encode($_[0]) : $_[0]) }

# A token built by hand: header and claims as given, signature bytes SIG
# (or an HS256 MAC with HMAC_KEY when SIG is undef).
sub forge {
    my (%a) = @_;
    my $input = b64($a{header}) . '.' . b64(relative_times($a{claims}));
    my $sig = defined $a{sig} ? $a{sig} : hmac_sha256($input, $a{hmac_key});
    return $input . '.' . encode_base64url($sig);
}

1;
