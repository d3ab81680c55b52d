/**
 * --authorization-mode=Webhook: each kubelet API request is asked of the API server as a
 * SubjectAccessReview (verb on nodes/<subresource>, name the node), as upstream's kubelet does.
 * Decisions are kept a while (upstream's defaults: allowed 5 minutes, denied 30 seconds), so a
 * burst of stats or log requests costs one review.
 */
import type { KubeletAuthorizer, KubeletRequestAttributes } from './auth.js';

export interface SubjectAccessReviewStatus {
  allowed?: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

/** Creates a SubjectAccessReview and returns the API server's answer (its status). */
export type CreateSubjectAccessReview = (review: Record<string, unknown>) => Promise<{ status?: SubjectAccessReviewStatus }>;

export interface WebhookAuthorizerOptions {
  createReview: CreateSubjectAccessReview;
  allowTTLMs?: number;
  denyTTLMs?: number;
  now?: () => number;
}

export class WebhookAuthorizer implements KubeletAuthorizer {
  private readonly cache = new Map<string, { allowed: boolean; reason?: string; until: number }>();

  constructor(private readonly o: WebhookAuthorizerOptions) {}

  /** The review the API server is asked (authorization.k8s.io/v1). */
  static review(a: KubeletRequestAttributes): Record<string, unknown> {
    return {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: a.user.name,
        groups: a.user.groups,
        ...(a.user.uid ? { uid: a.user.uid } : {}),
        resourceAttributes: { verb: a.verb, resource: a.resource, subresource: a.subresource, name: a.name, version: 'v1' },
      },
    };
  }

  async authorize(a: KubeletRequestAttributes): Promise<{ allowed: boolean; reason?: string }> {
    const now = (this.o.now ?? Date.now)();
    const key = JSON.stringify([a.user.name, a.user.groups, a.user.uid, a.verb, a.subresource, a.name]);
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return { allowed: hit.allowed, ...(hit.reason ? { reason: hit.reason } : {}) };
    let status: SubjectAccessReviewStatus;
    try {
      status = (await this.o.createReview(WebhookAuthorizer.review(a))).status ?? {};
    } catch (err) {
      // Not cached: the next request asks again.
      return { allowed: false, reason: `the authorization webhook failed: ${(err as Error).message}` };
    }
    const allowed = status.allowed === true && status.denied !== true;
    const reason = status.reason || status.evaluationError || undefined;
    this.cache.set(key, { allowed, ...(reason ? { reason } : {}), until: now + (allowed ? (this.o.allowTTLMs ?? 300_000) : (this.o.denyTTLMs ?? 30_000)) });
    if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value!);
    return { allowed, ...(reason ? { reason } : {}) };
  }
}
