/**
 * --anonymous-auth=true: requests without credentials are system:anonymous (group
 * system:unauthenticated), let in only where RBAC allows (health and version); requests with bad
 * credentials still get 401. Also service account issuer discovery.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api } from '../support/apiserver.js';
import { secureAPI, startSecureAPIServer, type SecureTestServer } from '../support/secure.js';
import { decodeJWT } from '../../lib/apiserver/index.js';
import { verifyJWTSignature, keyID } from '../../lib/apiserver/authn/jwt.js';

let s: SecureTestServer;
beforeAll(async () => {
  s = await startSecureAPIServer({ anonymousAuth: true });
});
afterAll(async () => s?.stop());

describe('anonymous requests', () => {
  test('health and version are public; everything else is 403 for system:anonymous', async () => {
    for (const p of ['/healthz', '/livez', '/readyz', '/version']) expect((await secureAPI(s, {}, 'GET', p)).status, p).toBe(200);
    const pods = await secureAPI(s, {}, 'GET', '/api/v1/namespaces/default/pods');
    expect(pods.status).toBe(403);
    expect(pods.body.message).toBe('pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "default"');
    const discovery = await secureAPI(s, {}, 'GET', '/api');
    expect(discovery.status).toBe(403);
    expect(discovery.body.message).toBe('forbidden: User "system:anonymous" cannot get path "/api"');
    const who = await secureAPI(s, {}, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    expect(who.status).toBe(403);
  });

  test('bad credentials are still 401, not anonymous', async () => {
    expect((await secureAPI(s, { token: 'wrong' }, 'GET', '/healthz')).status).toBe(401);
  });
});

describe('service account issuer discovery', () => {
  test('service accounts read the OpenID configuration and the keys that verify their tokens; others may not', async () => {
    await api(s.url, 'POST', '/api/v1/namespaces/default/serviceaccounts', { metadata: { name: 'fed' } });
    const tr = await secureAPI(s, s.client('admin'), 'POST', '/api/v1/namespaces/default/serviceaccounts/fed/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['vault'] } });
    expect(tr.status).toBe(201);
    const token = tr.body.status.token;
    // A token for another audience does not authenticate to the API server...
    expect((await secureAPI(s, { token }, 'GET', '/.well-known/openid-configuration')).status).toBe(401);
    const own = (await secureAPI(s, s.client('admin'), 'POST', '/api/v1/namespaces/default/serviceaccounts/fed/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} })).body.status.token;
    const cfg = await secureAPI(s, { token: own }, 'GET', '/.well-known/openid-configuration');
    expect(cfg.status).toBe(200);
    expect(cfg.body).toEqual({
      issuer: 'https://kubernetes.default.svc.cluster.local',
      jwks_uri: 'https://kubernetes.default.svc.cluster.local/openid/v1/jwks',
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
    const jwks = await secureAPI(s, { token: own }, 'GET', '/openid/v1/jwks');
    expect(jwks.status).toBe(200);
    // ...but the published keys verify it, as a relying party would check.
    const keys = jwks.body.keys.map((k: crypto.JsonWebKey & { kid: string }) => ({ key: crypto.createPublicKey({ key: k, format: 'jwk' }), kid: k.kid }));
    expect(keys.every((k: { key: crypto.KeyObject; kid: string }) => keyID(k.key) === k.kid)).toBe(true);
    expect(verifyJWTSignature(decodeJWT(token)!, keys)).toBe(true);
    expect((await secureAPI(s, { token: s.tokens.bob }, 'GET', '/openid/v1/jwks')).status).toBe(403);
  });
});
