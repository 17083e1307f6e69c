#!/usr/bin/perl
# Answers what body reached the application: its length and SHA-256, read
# from stdin to the end (a chunked request has no CONTENT_LENGTH), and the
# CONTENT_LENGTH and CONTENT_TYPE it was given.
use strict;
use warnings;
use Digest::SHA ();

binmode STDIN;
my $sha = Digest::SHA->new(256);
my ($len, $buf) = (0, '');
while (my $n = read(STDIN, $buf, 65536)) {
    $sha->add($buf);
    $len += $n;
}
print "Content-Type: application/json\r\n\r\n";
printf '{"body_length":%d,"body_sha256":"%s","content_length":"%s","content_type":"%s"}' . "\n",
    $len, $sha->hexdigest, $ENV{CONTENT_LENGTH} // '', $ENV{CONTENT_TYPE} // '';
