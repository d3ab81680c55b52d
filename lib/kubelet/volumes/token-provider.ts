/**
 * Bound service account tokens for projected volumes, from the API server's TokenRequest API
 * (POST serviceaccounts/<name>/token), bound to the pod. A token is reused until 80% of its
 * lifetime has passed, then asked for again (upstream's rotation rule); the volume's next
 * refresh writes the new one.
 */
import type { Pod } from '../../api/index.js';
import type { Clock } from '../../base/index.js';
import { Resources, type KubeClient } from '../../client/index.js';
import type { ServiceAccountTokenProjection } from '../api-types.js';
import type { ServiceAccountTokenProvider } from './volume-manager.js';

interface TokenRequestAnswer {
  status?: { token?: string; expirationTimestamp?: string };
}

export class TokenRequestProvider implements ServiceAccountTokenProvider {
  private readonly cache = new Map<string, { token: string; issuedAt: number; expiresAt: number }>();

  constructor(private readonly o: { client: KubeClient; clock: Clock }) {}

  async token(pod: Pod, serviceAccountName: string, p: ServiceAccountTokenProjection): Promise<string> {
    const ns = pod.metadata.namespace ?? 'default';
    const expirationSeconds = Number(p.expirationSeconds ?? 3600);
    const key = [ns, serviceAccountName, pod.metadata.uid, p.audience ?? '', expirationSeconds].join('/');
    const now = this.o.clock.now();
    const hit = this.cache.get(key);
    if (hit && now < hit.issuedAt + 0.8 * (hit.expiresAt - hit.issuedAt)) return hit.token;
    const answer = await this.o.client.resource(Resources.serviceAccounts, ns).createSubresource<TokenRequestAnswer>(serviceAccountName, 'token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        audiences: p.audience ? [p.audience] : [],
        expirationSeconds,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
      },
    });
    const token = answer.status?.token;
    if (!token) throw new Error(`the API server gave no token for service account ${ns}/${serviceAccountName}`);
    const expiresAt = answer.status?.expirationTimestamp ? Date.parse(answer.status.expirationTimestamp) : now + expirationSeconds * 1000;
    this.cache.set(key, { token, issuedAt: now, expiresAt });
    return token;
  }

  /** Forgets the tokens of a pod that is gone. */
  forgetPod(uid: string): void {
    for (const k of this.cache.keys()) if (k.split('/')[2] === uid) this.cache.delete(k);
  }
}
