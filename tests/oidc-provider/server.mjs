// Test-only OIDC provider that imitates the Keycloak realm "inburgering".
//
// NEVER use this for production: the signing key is made fresh at every start, and
// every client secret is public (see clients.json). It exists so that integration
// tests can get real access tokens from an independent, certified implementation
// (npm `oidc-provider`) instead of from our own Rust dev issuer.
//
// What it serves, like Keycloak 26 does:
//   issuer    http://127.0.0.1:<port>/realms/inburgering
//   discovery <issuer>/.well-known/openid-configuration
//   token     <issuer>/protocol/openid-connect/token   (client_credentials only,
//             client_secret_basic or client_secret_post)
//   JWKS      <issuer>/protocol/openid-connect/certs   (one RS256 key, with a kid)
// Access tokens are RS256 JWTs with aud "inburgering", a 300 s lifetime and the
// Keycloak claims realm_access.roles and organization taken from clients.json.
//
// Start: node server.mjs [--port <port>]   (else env OIDC_PROVIDER_PORT, else 4455)
// Prints "oidc-provider ready <issuer>" once it listens on 127.0.0.1.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import Provider, { errors } from 'oidc-provider';

const HOST = '127.0.0.1';
const REALM_PATH = '/realms/inburgering';
const AUDIENCE = 'inburgering';
// Resource indicators must be absolute URIs; this one stands for the audience above.
const RESOURCE = 'urn:inburgering';
const ACCESS_TOKEN_TTL = 300;

const { values: args } = parseArgs({ options: { port: { type: 'string' } } });
const port = Number(args.port ?? process.env.OIDC_PROVIDER_PORT ?? 4455);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`invalid port: ${args.port ?? process.env.OIDC_PROVIDER_PORT}`);
  process.exit(2);
}
const issuer = `http://${HOST}:${port}${REALM_PATH}`;

/** client_id -> { client_id, client_secret, roles, organization } */
const clients = new Map(
  JSON.parse(readFileSync(new URL('./clients.json', import.meta.url), 'utf8'))
    .map((client) => [client.client_id, client]),
);

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig' };
signingKey.kid = await calculateJwkThumbprint(signingKey);

const provider = new Provider(issuer, {
  clients: [...clients.values()].map(({ client_id, client_secret }) => ({
    client_id,
    client_secret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    // client_secret_post is accepted as well: oidc-provider treats the two alike.
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  jwks: { keys: [signingKey] },
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  // No browser flows at all: only the client_credentials grant is advertised.
  responseTypes: ['none'],
  scopes: ['openid', 'profile', 'email'],
  routes: {
    token: '/protocol/openid-connect/token',
    jwks: '/protocol/openid-connect/certs',
    // Never used, but discovery must name an authorization endpoint.
    authorization: '/protocol/openid-connect/auth',
  },
  features: {
    devInteractions: { enabled: false },
    pushedAuthorizationRequests: { enabled: false },
    rpInitiatedLogout: { enabled: false },
    userinfo: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // A token request without `resource` is for our services all the same.
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo(ctx, resourceIndicator) {
        if (resourceIndicator !== RESOURCE) {
          throw new errors.InvalidTarget(`unknown resource ${resourceIndicator}`);
        }
        return {
          scope: 'profile email',
          audience: AUDIENCE,
          accessTokenFormat: 'jwt',
          accessTokenTTL: ACCESS_TOKEN_TTL,
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  ttl: { ClientCredentials: ACCESS_TOKEN_TTL },
  // The claims Keycloak 26 puts in a service account's access token.
  async extraTokenClaims(ctx, token) {
    const client = clients.get(token.clientId);
    if (!client) return undefined;
    return {
      typ: 'Bearer',
      azp: client.client_id,
      preferred_username: `service-account-${client.client_id}`,
      realm_access: { roles: client.roles },
      organization: client.organization,
    };
  },
  formats: {
    customizers: {
      // Keycloak's header says typ "JWT" where oidc-provider says "at+jwt".
      jwt(ctx, token, jwt) {
        jwt.header = { ...jwt.header, typ: 'JWT' };
      },
    },
  },
});

provider.on('server_error', (ctx, err) => console.error('oidc-provider server_error:', err));

// Mount the provider under REALM_PATH: it sees the path without the prefix, and uses
// req.originalUrl to put the prefix back into every URL it advertises.
const handle = provider.callback();
const server = createServer((req, res) => {
  if (req.url.startsWith(`${REALM_PATH}/`)) {
    req.originalUrl = req.url;
    req.url = req.url.slice(REALM_PATH.length);
    handle(req, res);
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: 'not_found', error_description: `realm is at ${REALM_PATH}` }));
});

server.on('error', (err) => {
  console.error(`oidc-provider cannot listen on ${HOST}:${port}: ${err.message}`);
  process.exit(1);
});

server.listen(port, HOST, () => {
  console.log(`oidc-provider ready ${issuer}`);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
