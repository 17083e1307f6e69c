# APISecJSON: the body a CGI or a proxied backend reads is byte for byte
# what the client sent (Content-Length and chunked, up to 1 MiB under a 2 MiB
# limit); 413 for bodies over the limit, 415 for anything but JSON, 400 for
# anything the strict parser refuses; bodies outside APISecJSON untouched.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use ApisecTest qw(req hdr json_body audit_lines);
use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempfile);

plan tests => 111;

my $JSON = 'Content-Type: application/json';
my $CHUNKED = 'Transfer-Encoding: chunked';

# Big bodies go through a file: a 1 MiB command-line argument is too long.
sub post_file {
    my ($path, $body, @h) = @_;
    my ($fh, $file) = tempfile(UNLINK => 1);
    binmode $fh;
    print $fh $body;
    close $fh;
    return req(POST => $path, headers => [@h], data => "\@$file");
}

sub json_of_size {    # a valid JSON text of exactly $n bytes
    my $n = shift;
    my $head = '{"items":[1,2.5,"x"],"data":"';
    my $fill = $n - length($head) - 2;
    my $s = join '', map { chr(0x61 + ($_ * 7 + int($_ / 26)) % 26) } 0 .. 999;
    my $data = substr($s x (int($fill / 1000) + 1), 0, $fill);
    return $head . $data . '"}';
}

sub problem_ok {
    my ($res, $status, $what) = @_;
    ok t_cmp($res->{status}, $status, "$what: $status");
    ok t_cmp(hdr($res, 'Content-Type'), 'application/problem+json',
             "$what: problem+json");
}

# --- bodies handed on byte for byte ---------------------------------------
for my $case (
    [ 'small body', '/json/sha256.cgi', '{"a":[1,true,null,"\u00e9\ud83d\ude00"],"b":{"c":-1.5e3}}' ],
    [ '1 MiB body, 2 MiB limit', '/json/big/sha256.cgi', json_of_size(1 << 20) ],
    [ 'body with spaces, escapes, a NUL in a value', '/json/sha256.cgi',
      qq( \r\n{ "k" : "tab\\there \\u0000 nul" ,\n "n": [ 0 , -0.0 , 1E+2 ] } \n) ],
) {
    my ($what, $path, $body) = @$case;
    for my $chunked (0, 1) {
        my $res = post_file($path, $body, $JSON, $chunked ? ($CHUNKED) : ());
        my $j = json_body($res) || {};
        my $how = $chunked ? 'chunked' : 'Content-Length';
        ok t_cmp($res->{status}, 200, "$what, $how: accepted");
        ok t_cmp($j->{body_length}, length($body), "$what, $how: CGI read every byte");
        ok t_cmp($j->{body_sha256}, sha256_hex($body), "$what, $how: CGI's SHA-256 is the sent body's");
    }
}
{
    my $body = '{"x":1}';
    my $res = req(POST => '/json/sha256.cgi', headers => [$JSON], data => $body);
    ok t_cmp((json_body($res) || {})->{content_length}, length($body),
             'the CGI is told the Content-Length the client sent');
}

# The proxied backend (t/backend.py) gets the same bytes.
for my $case (
    [ 'small body', '{"order":{"id":7,"lines":[{"sku":"A-1","qty":2}]}}' ],
    [ '1 MiB body, 2 MiB limit', json_of_size(1 << 20) ],
) {
    my ($what, $body) = @$case;
    for my $chunked (0, 1) {
        my $res = post_file('/json-proxied/orders', $body, $JSON, $chunked ? ($CHUNKED) : ());
        my $j = json_body($res) || {};
        my $how = $chunked ? 'chunked' : 'Content-Length';
        ok t_cmp($res->{status}, 200, "proxied, $what, $how: accepted");
        ok t_cmp($j->{body_length}, length($body), "proxied, $what, $how: backend read every byte");
        ok t_cmp($j->{body_sha256}, sha256_hex($body), "proxied, $what, $how: backend's SHA-256 is the sent body's");
    }
}

# --- what the module does not check passes untouched ----------------------
{
    my $body = "not json at all \x00\xff\xfe";
    for my $case ([ 'no APISecJSON here', '/cgi/sha256.cgi' ],
                  [ 'APISecJSON Off', '/json/off/sha256.cgi' ]) {
        my ($what, $path) = @$case;
        my $res = post_file($path, $body, 'Content-Type: text/plain');
        my $j = json_body($res) || {};
        ok t_cmp($res->{status}, 200, "$what: a non-JSON body is not refused");
        ok t_cmp($j->{body_sha256}, sha256_hex($body), "$what: body untouched");
    }
    my $big = 'x' x (3 << 20);
    my $res = post_file('/plain-proxied/upload', $big, 'Content-Type: application/octet-stream', $CHUNKED);
    ok t_cmp((json_body($res) || {})->{body_sha256}, sha256_hex($big),
             'no APISecJSON: a 3 MiB chunked body reaches the backend untouched');
}
{
    my $res = req(GET => '/json/sha256.cgi');
    ok t_cmp($res->{status}, 200, 'GET without a body passes');
    ok t_cmp((json_body($res) || {})->{body_length}, 0, 'GET: the CGI reads an empty body');
    $res = req(DELETE => '/json/echo.cgi');
    ok t_cmp($res->{status}, 200, 'DELETE without a body passes');
}

# --- 413 ------------------------------------------------------------------
{
    my $res = post_file('/json/sha256.cgi', json_of_size(10 * 1024 + 1), $JSON);
    problem_ok($res, 413, 'Content-Length one byte over the 10k default');
    ok t_cmp(hdr($res, 'Connection'), 'close', '413: the unread body closes the connection');
    $res = post_file('/json/sha256.cgi', json_of_size(10 * 1024), $JSON);
    ok t_cmp($res->{status}, 200, 'Content-Length exactly at the 10k default: accepted');
    $res = post_file('/json/sha256.cgi', json_of_size(10 * 1024 + 1), $JSON, $CHUNKED);
    problem_ok($res, 413, 'chunked body one byte over the 10k default');
    $res = post_file('/json/sha256.cgi', json_of_size(10 * 1024), $JSON, $CHUNKED);
    ok t_cmp($res->{status}, 200, 'chunked body exactly at the 10k default: accepted');
    $res = post_file('/json/small/sha256.cgi', json_of_size(65), $JSON, $CHUNKED);
    problem_ok($res, 413, 'APISecJSONMaxBody 64, chunked 65 bytes');
    $res = post_file('/json/big/sha256.cgi', json_of_size(3 << 20), $JSON, $CHUNKED);
    problem_ok($res, 413, 'APISecJSONMaxBody 2M, chunked 3 MiB');
    $res = post_file('/json-proxied/x', json_of_size((2 << 20) + 1), $JSON);
    problem_ok($res, 413, 'proxied, Content-Length over 2M');
}

# --- 415 ------------------------------------------------------------------
for my $case (
    [ 'text/plain', 'Content-Type: text/plain' ],
    [ 'form', 'Content-Type: application/x-www-form-urlencoded' ],
    [ 'json with a latin1 charset', 'Content-Type: application/json; charset=iso-8859-1' ],
    [ 'jsonp-like subtype', 'Content-Type: application/javascript' ],
    [ 'gzip-encoded JSON', $JSON, 'Content-Encoding: gzip' ],
) {
    my ($what, @h) = @$case;
    my $res = req(POST => '/json/sha256.cgi', headers => [@h], data => '{"a":1}');
    problem_ok($res, 415, "POST $what");
}
{
    # curl sends no Content-Type when told to send none.
    my $res = req(POST => '/json/sha256.cgi', headers => ['Content-Type:'], data => '{"a":1}');
    problem_ok($res, 415, 'POST without a Content-Type');
    $res = req(PUT => '/json/sha256.cgi', headers => ['Content-Type:']);
    problem_ok($res, 415, 'PUT without a body nor a Content-Type');
    $res = req(PATCH => '/json/sha256.cgi', headers => ['Content-Type: text/xml'], data => '<a/>');
    problem_ok($res, 415, 'PATCH with XML');
}
for my $ct ('application/merge-patch+json', 'application/vnd.api+json; charset=UTF-8',
            'Application/JSON;charset="utf-8"') {
    my $res = req(PATCH => '/json/sha256.cgi', headers => ["Content-Type: $ct"], data => '{"a":1}');
    ok t_cmp($res->{status}, 200, "PATCH with $ct: accepted");
}

# --- 400 ------------------------------------------------------------------
my @bad = (
    [ 'invalid UTF-8', qq({"a":"\xc3\x28"}), '/a' ],
    [ 'an overlong UTF-8 sequence', qq({"a":"\xc0\xaf"}), '/a' ],
    [ 'duplicate member names', '{"a":1,"b":2,"a":3}', '/a' ],
    [ 'duplicate names after unescaping', '{"a":1,"\u0061":2}', '/a' ],
    [ 'trailing data', '{"a":1} {"b":2}', undef ],
    [ 'trailing comma', '{"a":1,}', undef ],
    [ 'a lone surrogate escape', '{"a":"\ud800"}', '/a' ],
    [ '__proto__', '{"user":{"__proto__":{"admin":true}}}', undef ],
    [ 'constructor', '{"constructor":{"prototype":{}}}', undef ],
    [ 'prototype', '{"x":{"prototype":1}}', undef ],
    [ 'an empty body', '', undef ],
    [ 'single quotes', "{'a':1}", undef ],
    [ 'a NUL in a member name', '{"a\u0000b":1}', undef ],
);
for my $case (@bad) {
    my ($what, $body, $ptr) = @$case;
    my $res = req(POST => '/json/sha256.cgi', headers => [$JSON], data => $body);
    problem_ok($res, 400, $what);
    my $j = json_body($res) || {};
    if (defined $ptr) {
        ok t_cmp(($j->{errors} || [{}])->[0]{pointer}, $ptr, "$what: the pointer");
    }
}
{
    my $deep = ('[' x 5) . (']' x 5);
    my $res = req(POST => '/json/depth/sha256.cgi', headers => [$JSON], data => $deep);
    problem_ok($res, 400, 'APISecJSONMaxDepth 4: nesting 5');
    $res = req(POST => '/json/depth/sha256.cgi', headers => [$JSON], data => ('[' x 4) . (']' x 4));
    ok t_cmp($res->{status}, 200, 'APISecJSONMaxDepth 4: nesting 4 accepted');
    my $d33 = ('{"a":' x 33) . '1' . ('}' x 33);
    $res = req(POST => '/json/sha256.cgi', headers => [$JSON], data => $d33);
    problem_ok($res, 400, 'default depth 32: nesting 33');
}
{
    my $res = req(POST => '/json/sha256.cgi', headers => [$JSON], data => '{"password":"hunter2"');
    my $j = json_body($res) || {};
    ok t_cmp($res->{body} !~ /hunter2/ ? 1 : 0, 1, 'a 400 never echoes the body');
    ok t_cmp(ref $j->{errors}, 'ARRAY', 'a 400 for invalid JSON has an errors array');
}

# The audit log names the rejection, never the body.
{
    my @ev = grep { /"body_rejected"/ } audit_lines();
    ok t_cmp(scalar(@ev) > 10 ? 1 : 0, 1, 'body_rejected audit events are written');
    ok t_cmp((grep { /hunter2/ } @ev) ? 1 : 0, 0, 'no audit event holds body content');
}
