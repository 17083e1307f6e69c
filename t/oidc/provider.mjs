// A real OpenID provider for the remote key set tests: panva's
// oidc-provider on 127.0.0.1, one confidential client ("api-client",
// secret "api-secret") allowed client_credentials, issuing RFC 9068 JWT
// access tokens (typ at+jwt) for the resource indicators
// https://api.example/ (scopes read write) and https://other.example/.
//
//   node provider.mjs --port P --keys FILE [--kid K] [--alg ES256|RS256]
//        [--log FILE] [--cert PEM --key PEM]
//
// --keys: the private signing JWKS; made with one fresh key (kid K, alg)
// when the file does not exist, so a restart with another file rotates
// the keys and one file shared by two providers gives two issuers with one
// key. --log: one line per request ("METHOD PATH"), to count fetches.
// --cert/--key: serve https (the issuer is then https://127.0.0.1:P).
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) {
  args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
}
const port = Number(args.port);
const alg = args.alg || 'ES256';
if (!fs.existsSync(args.keys)) {
  const { privateKey } = alg === 'RS256'
    ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
    : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: args.kid || crypto.randomUUID(), alg, use: 'sig' };
  fs.writeFileSync(args.keys, JSON.stringify({ keys: [jwk] }));
}
const jwks = JSON.parse(fs.readFileSync(args.keys, 'utf8'));
const tls = args.cert && args.key;
const issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
const resources = {
  'https://api.example/': 'read write',
  'https://other.example/': 'read',
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'api-client',
    client_secret: 'api-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: alg,
  }],
  jwks,
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  ttl: { ClientCredentials: 600 },
  scopes: ['read', 'write'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'https://api.example/',
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => {
        if (!resources[resource]) throw new Provider.errors.InvalidTarget();
        return {
          scope: resources[resource],
          audience: resource,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg } },
        };
      },
    },
  },
});
provider.proxy = false;
provider.use(async (ctx, next) => {
  if (args.log) fs.appendFileSync(args.log, `${ctx.method} ${ctx.path}\n`);
  await next();
});
const server = tls
  ? https.createServer({ cert: fs.readFileSync(args.cert), key: fs.readFileSync(args.key) }, provider.callback())
  : http.createServer(provider.callback());
server.listen(port, '127.0.0.1', () => {
  if (args.ready) fs.writeFileSync(args.ready, 'ready\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
