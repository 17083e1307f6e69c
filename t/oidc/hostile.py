"""A JWKS server whose answers the test chooses, for the hostile-answer
tests of remote key sets; run by Debian's /usr/bin/python3 (python3-jwt,
python3-cryptography).

  hostile.py PORT DIR        serve; the answer of /jwks is chosen by the
                             word in DIR/mode, re-read on every request
  hostile.py sign ALG KEY KID ISS AUD
                             print a token signed with KEY (a PEM file, or
                             for HS256 a secret file)

Modes: good (DIR/good.json), oversized (valid JSON of 300 KB, sent without
Content-Length so only the receiver's cap stops it), malformed, oct (the
good keys plus an HMAC key whose secret is DIR/hs.secret), rsa1024 (the good
keys plus a 1024-bit RSA key, private part DIR/weak.pem), redirect (302 to
the same path on "localhost", another host), redirect-same (302 to
/jwks-good on this host), hang (accept, read, never answer). RFC 8414 metadata only (the OpenID one is 404):
for the issuer http://127.0.0.1:PORT naming /jwks-good, and for the issuer
.../t2 claiming to be .../t3. Every request is logged to DIR/requests."""
import base64
import http.server
import json
import os
import sys
import time


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(alg, keyfile, kid, iss, aud):
    import jwt
    with open(keyfile, "rb") as f:
        key = f.read()
    now = int(time.time())
    claims = {"iss": iss, "aud": aud, "sub": "attacker", "scope": "read write",
              "iat": now, "exp": now + 300, "client_id": "x", "jti": str(now)}
    print(jwt.encode(claims, key, algorithm=alg,
                     headers={"kid": kid, "typ": "at+jwt"}))


def setup(d):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with open(os.path.join(d, "weak.pem"), "wb") as f:
        f.write(weak.private_bytes(serialization.Encoding.PEM,
                                   serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    pub = weak.public_key().public_numbers()
    secret = os.urandom(32)
    with open(os.path.join(d, "hs.secret"), "wb") as f:
        f.write(secret)
    return ({"kty": "RSA", "kid": "weak", "use": "sig", "alg": "RS256",
             "n": b64(pub.n.to_bytes(128, "big")), "e": "AQAB"},
            {"kty": "oct", "kid": "hs", "alg": "HS256", "k": b64(secret)})


def serve(port, d):
    weak, oct_key = setup(d)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args):
            pass

        def good(self):
            with open(os.path.join(d, "good.json")) as f:
                return json.load(f)

        def send(self, body, length=True, status=200, headers=()):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for k, v in headers:
                self.send_header(k, v)
            if length:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            with open(os.path.join(d, "requests"), "a") as f:
                f.write("GET %s\n" % self.path)
            try:
                with open(os.path.join(d, "mode")) as f:
                    mode = f.read().strip()
            except OSError:
                mode = "good"
            base = "http://127.0.0.1:%d" % port
            if self.path.endswith("/.well-known/openid-configuration"):
                return self.send(b"not here", status=404)
            if self.path == "/.well-known/oauth-authorization-server":
                return self.send(json.dumps({
                    "issuer": base, "jwks_uri": base + "/jwks-good"}).encode())
            if self.path == "/.well-known/oauth-authorization-server/t2":
                return self.send(json.dumps({
                    "issuer": base + "/t3",
                    "jwks_uri": base + "/jwks-good"}).encode())
            if self.path == "/jwks-good" or mode == "good":
                return self.send(json.dumps(self.good()).encode())
            if mode == "oversized":
                doc = self.good()
                doc["padding"] = "x" * (300 * 1024)
                return self.send(json.dumps(doc).encode(), length=False)
            if mode == "malformed":
                return self.send(b'{"keys":[{"kty":"EC",')
            if mode in ("oct", "rsa1024"):
                doc = self.good()
                doc["keys"].append(oct_key if mode == "oct" else weak)
                return self.send(json.dumps(doc).encode())
            if mode == "redirect":
                return self.send(b"", status=302, headers=[
                    ("Location", "http://localhost:%d/jwks-good" % port)])
            if mode == "hang":
                time.sleep(20)
                return None
            if mode == "redirect-same":
                return self.send(b"", status=302,
                                 headers=[("Location", "/jwks-good")])
            return self.send(b"unknown mode", status=500)

    http.server.ThreadingHTTPServer(("127.0.0.1", port),
                                    Handler).serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "sign":
        sign(*sys.argv[2:7])
    else:
        serve(int(sys.argv[1]), sys.argv[2])
