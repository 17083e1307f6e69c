#!/usr/bin/perl
# Echoes what reached the application: method, path, the HTTP_* and
# APISEC_* environment, and the body. It also sets headers an application
# might set, which the module's own values must replace.
use strict;
use warnings;

my $body = '';
if ($ENV{CONTENT_LENGTH}) {
    read(STDIN, $body, $ENV{CONTENT_LENGTH});
}
my %env = map { $_ => $ENV{$_} } grep { /^(HTTP_|APISEC_|REMOTE_USER$|AUTH_TYPE$)/ } keys %ENV;
sub js { my $s = shift; $s =~ s/(["\\])/\\$1/g; $s =~ s/([\x00-\x1f])/sprintf('\\u%04x', ord $1)/ge; "\"$s\"" }
print "Content-Type: application/json\r\n";
print "X-Powered-By: PHP/8.2.0\r\n";
print "X-Frame-Options: ALLOWALL\r\n";
print "Access-Control-Allow-Origin: *\r\n";
# An application's own RateLimit field, when asked for: the module's
# replaces it where a limit of the module's applies.
print "RateLimit: \"app\";r=5;t=1\r\n" if ($ENV{QUERY_STRING} // '') =~ /\bapp_ratelimit=1\b/;
print "\r\n";
print "{", join(",", js("method") . ":" . js($ENV{REQUEST_METHOD}),
               js("env") . ":{" . join(",", map { js($_) . ":" . js($env{$_}) } sort keys %env) . "}",
               js("body") . ":" . js($body)), "}\n";
