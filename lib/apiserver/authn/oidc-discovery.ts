/**
 * Service account issuer discovery, as upstream serves it: an OpenID provider configuration at
 * /.well-known/openid-configuration and the public keys at /openid/v1/jwks, so that others
 * (cloud identity federation, a vault) can verify this cluster's service account tokens. Both
 * are authorized like any path (system:service-account-issuer-discovery lets service accounts in).
 */
import type { VerificationKey } from './jwt.js';
import type { PathHandler } from '../server.js';

export interface DiscoveryOptions {
  issuer: string;
  /** Where the keys are published (--service-account-jwks-uri; default: <issuer>/openid/v1/jwks). */
  jwksURI?: string;
  keys: VerificationKey[];
}

export function jwksOf(keys: VerificationKey[]) {
  return {
    keys: keys.map((k) => {
      const jwk = k.key.export({ format: 'jwk' });
      const alg = k.key.asymmetricKeyType === 'rsa' ? 'RS256' : jwk.crv === 'P-384' ? 'ES384' : jwk.crv === 'P-521' ? 'ES512' : 'ES256';
      return { use: 'sig', kty: jwk.kty, kid: k.kid, alg, ...(jwk.kty === 'RSA' ? { n: jwk.n, e: jwk.e } : { crv: jwk.crv, x: jwk.x, y: jwk.y }) };
    }),
  };
}

export function issuerDiscoveryHandler(o: DiscoveryOptions): PathHandler {
  const jwks = Buffer.from(JSON.stringify(jwksOf(o.keys)));
  const config = Buffer.from(
    JSON.stringify({
      issuer: o.issuer,
      jwks_uri: o.jwksURI ?? `${o.issuer.replace(/\/$/, '')}/openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [...new Set(jwksOf(o.keys).keys.map((k) => k.alg))],
    }),
  );
  return async (req, reply, info) => {
    if (req.method !== 'GET') return false;
    const p = info.path.replace(/\/$/, '');
    if (p === '/.well-known/openid-configuration') {
      reply.code(200).header('content-type', 'application/json').header('Cache-Control', 'public, max-age=3600').send(config);
      return true;
    }
    if (p === '/openid/v1/jwks') {
      reply.code(200).header('content-type', 'application/jwk-set+json').header('Cache-Control', 'public, max-age=3600').send(jwks);
      return true;
    }
    return false;
  };
}
