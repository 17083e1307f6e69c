# APISecJSONSchema with the order schema (t/conf/schemas/order.json): good
# orders reach the CGI byte for byte; each kind of bad order is a 400
# problem whose errors name the right JSON pointer, in a stable order,
# without echoing the value; APISecJSONStrict rejects members the schema
# does not name; the audit event has the pointers only.
use strict;
use warnings;
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use ApisecTest qw(req hdr json_body audit_lines);
use Digest::SHA qw(sha256_hex);
use JSON::PP ();

plan tests => 65;

my $JSON = 'Content-Type: application/json';
my $codec = JSON::PP->new->canonical;
my $uuid = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

sub order {
    my %o = (
        items => [ { productId => $uuid, quantity => 2 },
                   { productId => '6ba7b810-9dad-11d1-80b4-00c04fd430c8', quantity => 100 } ],
        shipping => { name => 'Ada Lovelace', street => '12 St James Sq', city => 'London',
                      postalCode => 'SW1Y 4JH', country => 'GB' },
        @_,
    );
    return \%o;
}

sub post {
    my ($path, $body, $method) = @_;
    $body = $codec->encode($body) if ref $body;
    return req($method || 'POST', $path, headers => [$JSON], data => $body);
}

sub pointers {
    my $res = shift;
    my $j = json_body($res) || {};
    return join ',', map { $_->{pointer} } @{ $j->{errors} || [] };
}

# --- good orders ----------------------------------------------------------
for my $case (
    [ 'an order', order() ],
    [ 'an order with a promo code', order(promoCode => 'SPRING24') ],
    [ 'one item of quantity 1', order(items => [ { productId => uuid_upper(), quantity => 1 } ]) ],
    [ 'every country of the enum', order(shipping => { name => 'N', street => 'S', city => 'C',
                                                      postalCode => '75001', country => 'FR' }) ],
) {
    my ($what, $o) = @$case;
    my $body = $codec->encode($o);
    my $res = post('/json/order/sha256.cgi', $body);
    ok t_cmp($res->{status}, 200, "$what: accepted");
    ok t_cmp((json_body($res) || {})->{body_sha256}, sha256_hex($body), "$what: the CGI got it byte for byte");
}
sub uuid_upper { uc $uuid }

# --- bad orders: the pointer of each ---------------------------------------
my @bad = (
    [ 'not an object', [1, 2], '' ],
    [ 'items missing', do { my $o = order(); delete $o->{items}; $o }, '/items' ],
    [ 'shipping missing', do { my $o = order(); delete $o->{shipping}; $o }, '/shipping' ],
    [ 'no items', order(items => []), '/items' ],
    [ 'productId not a uuid', order(items => [ { productId => 'not-a-uuid', quantity => 1 } ]), '/items/0/productId' ],
    [ 'productId a number', order(items => [ { productId => 42, quantity => 1 } ]), '/items/0/productId' ],
    [ 'quantity 0', order(items => [ { productId => $uuid, quantity => 0 } ]), '/items/0/quantity' ],
    [ 'quantity 101', order(items => [ { productId => $uuid, quantity => 101 } ]), '/items/0/quantity' ],
    [ 'quantity 1.5', order(items => [ { productId => $uuid, quantity => 1.5 } ]), '/items/0/quantity' ],
    [ 'quantity a string', order(items => [ { productId => $uuid, quantity => '2' } ]), '/items/0/quantity' ],
    [ 'second item without quantity',
      order(items => [ { productId => $uuid, quantity => 1 }, { productId => $uuid } ]), '/items/1/quantity' ],
    [ 'an item with an unknown member',
      order(items => [ { productId => $uuid, quantity => 1, price => 0 } ]), '/items/0/price' ],
    [ 'country outside the enum',
      order(shipping => { name => 'N', street => 'S', city => 'C', postalCode => '1000', country => 'XX' }),
      '/shipping/country' ],
    [ 'country lower case',
      order(shipping => { name => 'N', street => 'S', city => 'C', postalCode => '1000', country => 'gb' }),
      '/shipping/country' ],
    [ 'shipping without city',
      order(shipping => { name => 'N', street => 'S', postalCode => '1000', country => 'DE' }), '/shipping/city' ],
    [ 'empty name',
      order(shipping => { name => '', street => 'S', city => 'C', postalCode => '1000', country => 'DE' }),
      '/shipping/name' ],
    [ 'promo code of the wrong pattern', order(promoCode => 'spring-24'), '/promoCode' ],
    [ 'promo code too long', order(promoCode => 'ABCDEFGHIJKLM'), '/promoCode' ],
    [ 'a member the order does not name', order(discount => 100), '/discount' ],
);
for my $case (@bad) {
    my ($what, $o, $ptr) = @$case;
    my $res = post('/json/order/sha256.cgi', $o);
    ok t_cmp($res->{status}, 400, "$what: 400");
    ok t_cmp(pointers($res), $ptr, "$what: pointer $ptr");
}

# Several errors: all listed, in document order, each with a message, and
# never the value that was refused.
{
    my $o = order(items => [ { productId => 'SECRET-VALUE-1', quantity => 0 },
                             { productId => $uuid, quantity => 500 } ],
                  promoCode => 'lower-SECRET');
    my $res = post('/json/order/sha256.cgi', $o);
    my $j = json_body($res) || {};
    ok t_cmp(pointers($res), '/items/0/productId,/items/0/quantity,/items/1/quantity,/promoCode',
             'several errors: each pointer, in document order');
    ok t_cmp((grep { !defined $_->{message} || $_->{message} eq '' } @{ $j->{errors} || [] }) ? 0 : 1, 1,
             'several errors: each has a message');
    ok t_cmp($res->{body} =~ /SECRET/ ? 1 : 0, 0, 'the refused values are not echoed');
    ok t_cmp(hdr($res, 'Content-Type'), 'application/problem+json', 'schema failure: problem+json');
    ok t_cmp($j->{status}, 400, 'schema failure: status member');
    my $again = post('/json/order/sha256.cgi', $o);
    ok t_cmp($again->{body} =~ s/"request_id":"[^"]*"//r, $res->{body} =~ s/"request_id":"[^"]*"//r,
             'the same body gives the same answer');
}
{
    my @items = map { { productId => "bad-$_", quantity => 1 } } 1 .. 30;
    my $res = post('/json/order/sha256.cgi', order(items => \@items));
    my $j = json_body($res) || {};
    ok t_cmp(scalar @{ $j->{errors} || [] }, 20, 'at most 20 errors');
    ok t_cmp(($j->{errors} || [{}])->[0]{pointer}, '/items/0/productId', 'the first 20, from the start');
}

# The schema applies to the methods it is given for.
{
    my $res = post('/json/order/sha256.cgi', order(items => []), 'PUT');
    ok t_cmp($res->{status}, 400, 'POST PUT schema: checks PUT');
    $res = post('/json/order/sha256.cgi', { anything => 1 }, 'PATCH');
    ok t_cmp($res->{status}, 200, 'POST PUT schema: PATCH is only strict-JSON checked');
    $res = post('/json-proxied/orders/1', { anything => 1 }, 'PATCH');
    ok t_cmp($res->{status}, 400, 'proxied, PATCH schema: checked');
    ok t_cmp(pointers($res), '/items,/shipping,/anything', 'proxied, PATCH schema: the pointers');
    my $body = $codec->encode(order());
    $res = post('/json-proxied/orders/1', $body, 'PATCH');
    ok t_cmp((json_body($res) || {})->{body_sha256}, sha256_hex($body),
             'proxied, PATCH schema: a good order reaches the backend byte for byte');
}

# APISecJSONStrict: mass assignment.
{
    my $o = order(isAdmin => JSON::PP::true);
    $o->{shipping}{verified} = JSON::PP::true;
    my $res = post('/json/open/sha256.cgi', $o);
    ok t_cmp($res->{status}, 200, 'no strict mode: members the schema does not name pass');
    $res = post('/json/strict/sha256.cgi', $o);
    ok t_cmp($res->{status}, 400, 'APISecJSONStrict On: unnamed members refused');
    ok t_cmp(pointers($res), '/isAdmin,/shipping/verified', 'APISecJSONStrict On: their pointers');
    $res = post('/json/strict/sha256.cgi', order());
    ok t_cmp($res->{status}, 200, 'APISecJSONStrict On: a good order passes');
}

# Audit: body_rejected with the pointers and no values.
{
    my ($ev) = grep { /lower-SECRET|SECRET-VALUE/ || /"\/promoCode"/ } grep { /"body_rejected"/ } audit_lines();
    my $j = $ev ? eval { JSON::PP->new->decode($ev) } : undef;
    ok t_cmp(ref(($j || {})->{pointers}), 'ARRAY', 'body_rejected audit event has the pointers');
    ok t_cmp((grep { /SECRET/ } audit_lines()) ? 1 : 0, 0, 'no audit line has a refused value');
}
