/**
 * The TokenRequest API: POST .../serviceaccounts/<name>/token returns a signed, expiring token
 * for the account, optionally bound to a Pod, Secret or Node (the token dies with it). This is
 * how kubelets fill projected service account token volumes and how `kubectl create token`
 * works.
 */
import { TokenRequestSchema, decodeWith, type KubeObject, type ServiceAccount } from '../../api/index.js';
import { rfc3339 } from '../../base/index.js';
import { fieldPath, newBadRequest, newConflict, newInvalid, newMethodNotSupported, newServiceUnavailable } from '../../machinery/index.js';
import { newContext, type Admission, type Registry } from '../../registry/index.js';
import { bodyTypeOf, parseBody } from '../negotiation.js';
import type { SubresourceHandler } from '../server.js';
import type { ServiceAccountClaims, ServiceAccountTokenIssuer } from './serviceaccount.js';

export interface TokenRequestOptions {
  registry: Registry;
  /** Undefined when the API server has no --service-account-signing-key-file. */
  issuer?: ServiceAccountTokenIssuer;
  /** Default audiences (--api-audiences, else the issuer). */
  audiences: string[];
  /** --service-account-max-token-expiration in seconds (0: no cap). */
  maxExpirationSeconds: number;
  admission: Admission;
}

const minExpirationSeconds = 600;

/** A copy without null-valued fields (as Go's decoder reads them: absent). */
export function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, dropNulls(x)]));
  return v;
}
const defaultExpirationSeconds = 3600;

export function tokenRequestHandler(o: TokenRequestOptions): SubresourceHandler {
  return async (req, reply, info, ctx) => {
    if (info.verb !== 'create') throw newMethodNotSupported({ group: '', resource: 'serviceaccounts/token' }, info.verb);
    if (!o.issuer) throw newServiceUnavailable('the API server cannot issue service account tokens: it was started without --service-account-signing-key-file');
    const raw = parseBody(req.body as Buffer | undefined, bodyTypeOf(req.headers['content-type'], false)) as Record<string, unknown>;
    if (raw.kind !== undefined && raw.kind !== 'TokenRequest') throw newBadRequest(`${String(raw.kind)} in version "v1" cannot be handled as a TokenRequest`);
    // The status is the answer; nulls (Go clients send them for empty fields) mean "not set".
    const { status: _ignored, ...body } = dropNulls(raw) as Record<string, unknown>;
    const tr = decodeWith(TokenRequestSchema, { ...body, metadata: body.metadata ?? {} }, 'authentication.k8s.io', 'TokenRequest', 'v1');
    const spec = (tr.spec ??= {});
    spec.audiences = spec.audiences?.length ? spec.audiences : [...o.audiences];
    spec.expirationSeconds ??= defaultExpirationSeconds;
    if (spec.expirationSeconds < minExpirationSeconds) {
      throw newInvalid('authentication.k8s.io', 'TokenRequest', info.name, [fieldPath('spec.expirationSeconds').invalid(spec.expirationSeconds, 'may not specify a duration less than 10 minutes')]);
    }
    if (spec.expirationSeconds > 2 ** 32) {
      throw newInvalid('authentication.k8s.io', 'TokenRequest', info.name, [fieldPath('spec.expirationSeconds').invalid(spec.expirationSeconds, 'may not specify a duration larger than 2^32 seconds')]);
    }
    if (o.maxExpirationSeconds > 0 && spec.expirationSeconds > o.maxExpirationSeconds) spec.expirationSeconds = o.maxExpirationSeconds;

    const sysctx = newContext({ namespace: ctx.namespace, user: { username: 'system:apiserver', groups: ['system:masters'] } });
    const saRead = o.registry.mustGet('', 'serviceaccounts').get(sysctx, info.name);
    const ref = spec.boundObjectRef;
    // The object the token is bound to is read at the same time as the account (a kubelet asks
    // before each pod's sandbox: one storage round trip instead of two). The account's error,
    // if any, still comes first.
    const boundResource = { Pod: ['pods', ctx.namespace], Secret: ['secrets', ctx.namespace], Node: ['nodes', ''] }[ref?.kind as 'Pod' | 'Secret' | 'Node'];
    const boundRead = ref && (ref.apiVersion ?? 'v1') === 'v1' && boundResource ? o.registry.mustGet('', boundResource[0]!).get(newContext({ namespace: boundResource[1]!, user: sysctx.user }), ref.name ?? '') : undefined;
    boundRead?.catch(() => undefined);
    const sa = (await saRead) as ServiceAccount;
    const claims: ServiceAccountClaims = { namespace: ctx.namespace, serviceaccount: { name: sa.metadata.name!, uid: sa.metadata.uid! } };

    if (ref) {
      if ((ref.apiVersion ?? 'v1') !== 'v1') throw newBadRequest(`cannot bind token to object of type ${ref.apiVersion}, Kind=${ref.kind}`);
      let obj: KubeObject;
      switch (ref.kind) {
        case 'Pod': {
          obj = await boundRead!;
          const pod = obj as { spec?: { serviceAccountName?: string; nodeName?: string } } & KubeObject;
          if ((pod.spec?.serviceAccountName || 'default') !== info.name) {
            throw newBadRequest(`cannot bind token for serviceaccount "${info.name}" to pod running with different serviceaccount name.`);
          }
          claims.pod = { name: obj.metadata.name!, uid: obj.metadata.uid! };
          const nodeName = pod.spec?.nodeName;
          if (nodeName) {
            const node = await o.registry.mustGet('', 'nodes').get(newContext({ user: sysctx.user }), nodeName).catch(() => undefined);
            claims.node = { name: nodeName, uid: node?.metadata.uid ?? '' };
          }
          break;
        }
        case 'Secret':
          obj = await boundRead!;
          claims.secret = { name: obj.metadata.name!, uid: obj.metadata.uid! };
          break;
        case 'Node':
          obj = await boundRead!;
          claims.node = { name: obj.metadata.name!, uid: obj.metadata.uid! };
          break;
        default:
          throw newBadRequest(`cannot bind token to object of type v1, Kind=${ref.kind ?? ''}`);
      }
      if (ref.uid && ref.uid !== obj.metadata.uid) {
        throw newConflict(
          { group: '', resource: ref.kind! },
          ref.name ?? '',
          `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
        );
      }
      spec.boundObjectRef = { ...ref, apiVersion: 'v1', uid: obj.metadata.uid };
    }

    // Admission sees the request (NodeRestriction limits what a kubelet may ask for).
    const attrs = { operation: 'CREATE' as const, group: '', version: 'v1', resource: 'serviceaccounts', kind: 'TokenRequest', subresource: 'token', namespace: ctx.namespace, name: info.name, object: tr as KubeObject, user: ctx.user, dryRun: ctx.dryRun };
    await o.admission.mutate(attrs);
    await o.admission.validate(attrs);

    const now = Date.now();
    const { token, exp } = ctx.dryRun ? { token: '', exp: Math.floor(now / 1000) + spec.expirationSeconds } : o.issuer.issue(claims, spec.audiences, spec.expirationSeconds, now);
    const out = {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name: info.name, namespace: ctx.namespace, creationTimestamp: rfc3339(now) },
      spec,
      status: { token, expirationTimestamp: rfc3339(exp * 1000) },
    };
    return reply.code(201).type('application/json').send(JSON.stringify(out));
  };
}

