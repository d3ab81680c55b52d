/**
 * Service account tokens: signed JWTs naming a ServiceAccount, as upstream issues them.
 *
 * Bound tokens (TokenRequest, projected volumes) carry:
 *   iss, sub = system:serviceaccount:<ns>:<name>, aud, exp, iat, nbf, jti
 *   kubernetes.io: { namespace, serviceaccount: {name, uid}, pod?: {name, uid},
 *                    secret?: {name, uid}, node?: {name, uid} }
 * Legacy tokens (from kubernetes.io/service-account-token Secrets) carry iss
 * "kubernetes/serviceaccount" and kubernetes.io/serviceaccount/* claims, and never expire.
 *
 * A token is valid while its signature checks, it has not expired, its audiences meet the
 * caller's, and the objects it names still exist with the UIDs it names: deleting the pod or
 * the service account revokes it.
 */
import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { KubeObject } from '../../api/index.js';
import type { Registry, UserInfo } from '../../registry/index.js';
import { decodeJWT, signJWT, verifyJWTSignature, type SigningKey, type VerificationKey } from './jwt.js';
import { InvalidTokenError, type TokenAuthenticator, type TokenResult } from './types.js';

export const legacyIssuer = 'kubernetes/serviceaccount';
export const serviceAccountsGroup = 'system:serviceaccounts';

export interface BoundRef {
  name: string;
  uid: string;
}

export interface ServiceAccountClaims {
  namespace: string;
  serviceaccount: BoundRef;
  pod?: BoundRef;
  secret?: BoundRef;
  node?: BoundRef;
}

export function serviceAccountUser(namespace: string, name: string, uid: string | undefined, extra?: Record<string, string[]>): UserInfo {
  return {
    username: `system:serviceaccount:${namespace}:${name}`,
    uid,
    groups: [serviceAccountsGroup, `${serviceAccountsGroup}:${namespace}`],
    ...(extra && Object.keys(extra).length ? { extra } : {}),
  };
}

/** Parses `system:serviceaccount:<ns>:<name>`. */
export function parseServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username);
  return m ? { namespace: m[1]!, name: m[2]! } : undefined;
}

export class ServiceAccountTokenIssuer {
  constructor(
    private readonly key: SigningKey,
    readonly issuer: string,
  ) {}

  /** Signs a bound token; returns it with its expiry (seconds since the epoch). */
  issue(claims: ServiceAccountClaims, audiences: string[], expirationSeconds: number, now = Date.now()): { token: string; exp: number } {
    const iat = Math.floor(now / 1000);
    const exp = iat + expirationSeconds;
    const k8s: Record<string, unknown> = { namespace: claims.namespace, serviceaccount: claims.serviceaccount };
    if (claims.pod) k8s.pod = claims.pod;
    if (claims.secret) k8s.secret = claims.secret;
    if (claims.node) k8s.node = claims.node;
    const token = signJWT(
      {
        aud: audiences,
        exp,
        iat,
        iss: this.issuer,
        jti: crypto.randomUUID(),
        'kubernetes.io': k8s,
        nbf: iat,
        sub: `system:serviceaccount:${claims.namespace}:${claims.serviceaccount.name}`,
      },
      this.key,
    );
    return { token, exp };
  }
}

/** Reads the objects a token names: from the watch cache, else from storage (just created). */
export type ObjectGetter = (resource: 'serviceaccounts' | 'pods' | 'secrets' | 'nodes', namespace: string, name: string) => Promise<KubeObject | null>;

export function registryGetter(registry: Registry): ObjectGetter {
  return async (resource, namespace, name) => {
    const store = registry.mustGet('', resource);
    const key = resource === 'nodes' ? `${store.prefix}${name}` : `${store.prefix}${namespace}/${name}`;
    const cached = store.cache?.get(key)?.object;
    if (cached) return cached;
    return registry.storage.get(key);
  };
}

/** Clock skew allowed on exp and nbf, as upstream's JWT library allows. */
const leewaySeconds = 60;

export interface ServiceAccountAuthenticatorOptions {
  keys: VerificationKey[];
  /** Issuers whose tokens are ours (--service-account-issuer); the legacy issuer is always accepted. */
  issuers: string[];
  get: ObjectGetter;
  log?: Logger;
  now?: () => number;
}

function ref(v: unknown): BoundRef | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const r = v as Record<string, unknown>;
  return typeof r.name === 'string' ? { name: r.name, uid: typeof r.uid === 'string' ? r.uid : '' } : undefined;
}

export class ServiceAccountTokenAuthenticator implements TokenAuthenticator {
  constructor(private readonly o: ServiceAccountAuthenticatorOptions) {}

  async authenticateToken(token: string, audiences: string[]): Promise<TokenResult | null> {
    const jwt = decodeJWT(token);
    if (!jwt) return null;
    const iss = jwt.payload.iss;
    if (typeof iss !== 'string' || (iss !== legacyIssuer && !this.o.issuers.includes(iss))) return null;
    if (!verifyJWTSignature(jwt, this.o.keys)) throw new InvalidTokenError('invalid bearer token: the token was not signed by a known service account key');
    if (iss === legacyIssuer) return this.legacy(jwt.payload, token, audiences);
    return this.bound(jwt.payload, audiences);
  }

  private async bound(p: Record<string, unknown>, wanted: string[]): Promise<TokenResult> {
    const now = Math.floor((this.o.now?.() ?? Date.now()) / 1000);
    if (typeof p.exp !== 'number') throw new InvalidTokenError('service account token has no expiry');
    if (p.exp + leewaySeconds < now) throw new InvalidTokenError('service account token has expired');
    if (typeof p.nbf === 'number' && p.nbf - leewaySeconds > now) throw new InvalidTokenError('service account token is not valid yet');
    const aud = typeof p.aud === 'string' ? [p.aud] : Array.isArray(p.aud) ? p.aud.filter((a): a is string => typeof a === 'string') : [];
    const audiences = wanted.filter((w) => aud.includes(w));
    if (audiences.length === 0) throw new InvalidTokenError('service account token audience is not valid for this server');
    const k8s = p['kubernetes.io'] as Record<string, unknown> | undefined;
    const namespace = typeof k8s?.namespace === 'string' ? k8s.namespace : '';
    const sa = ref(k8s?.serviceaccount);
    if (!namespace || !sa) throw new InvalidTokenError('service account token does not name a service account');
    if (p.sub !== `system:serviceaccount:${namespace}:${sa.name}`) throw new InvalidTokenError('service account token subject does not match its claims');
    await this.mustExist('serviceaccounts', namespace, sa, 'service account');
    const extra: Record<string, string[]> = {};
    const pod = ref(k8s?.pod);
    if (pod) {
      const obj = await this.mustExist('pods', namespace, pod, 'pod');
      const dt = obj.metadata.deletionTimestamp;
      if (dt && Date.parse(dt) <= now * 1000) throw new InvalidTokenError(`pod ${namespace}/${pod.name} has been deleted`);
      extra['authentication.kubernetes.io/pod-name'] = [pod.name];
      extra['authentication.kubernetes.io/pod-uid'] = [pod.uid];
    }
    const secret = ref(k8s?.secret);
    if (secret) {
      const obj = await this.mustExist('secrets', namespace, secret, 'secret');
      if (obj.metadata.deletionTimestamp) throw new InvalidTokenError(`secret ${namespace}/${secret.name} is being deleted`);
    }
    const node = ref(k8s?.node);
    if (node) {
      // Bound to a node directly, the node must exist; as extra information of a pod-bound token, it is informational.
      if (!pod) await this.mustExist('nodes', '', node, 'node');
      extra['authentication.kubernetes.io/node-name'] = [node.name];
      extra['authentication.kubernetes.io/node-uid'] = [node.uid];
    }
    if (typeof p.jti === 'string') extra['authentication.kubernetes.io/credential-id'] = [`JTI=${p.jti}`];
    return { user: serviceAccountUser(namespace, sa.name, sa.uid, extra), audiences };
  }

  private async legacy(p: Record<string, unknown>, token: string, wanted: string[]): Promise<TokenResult> {
    const namespace = p['kubernetes.io/serviceaccount/namespace'];
    const secretName = p['kubernetes.io/serviceaccount/secret.name'];
    const saName = p['kubernetes.io/serviceaccount/service-account.name'];
    const saUID = p['kubernetes.io/serviceaccount/service-account.uid'];
    if (typeof namespace !== 'string' || typeof secretName !== 'string' || typeof saName !== 'string' || typeof saUID !== 'string') {
      throw new InvalidTokenError('legacy service account token lacks its claims');
    }
    await this.mustExist('serviceaccounts', namespace, { name: saName, uid: saUID }, 'service account');
    const secret = await this.o.get('secrets', namespace, secretName);
    const stored = (secret as { data?: Record<string, string> } | null)?.data?.token;
    if (!secret || !stored || Buffer.from(stored, 'base64').toString('utf8') !== token) throw new InvalidTokenError(`token secret ${namespace}/${secretName} no longer holds this token`);
    return { user: serviceAccountUser(namespace, saName, saUID, { 'authentication.kubernetes.io/credential-id': [`secret=${secret.metadata.uid}`] }), audiences: wanted };
  }

  private async mustExist(resource: 'serviceaccounts' | 'pods' | 'secrets' | 'nodes', namespace: string, r: BoundRef, what: string): Promise<KubeObject> {
    const obj = await this.o.get(resource, namespace, r.name);
    const where = namespace ? `${namespace}/${r.name}` : r.name;
    if (!obj) throw new InvalidTokenError(`${what} ${where} has been deleted`);
    if (r.uid && obj.metadata.uid !== r.uid) throw new InvalidTokenError(`${what} ${where} UID (${obj.metadata.uid}) does not match its claim (${r.uid})`);
    return obj;
  }
}
