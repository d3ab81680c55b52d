/**
 * The kubelet's webhook authentication and authorization, as upstream's: the kubelet asks the
 * API server, with its own credentials, who a bearer token belongs to (a TokenReview,
 * authentication.k8s.io/v1; --authentication-token-webhook) and whether that user may do what
 * the request does on this node (a SubjectAccessReview, authorization.k8s.io/v1;
 * --authorization-mode=Webhook). Answers are cached so that a busy `kubectl logs -f` or a
 * metrics scraper does not turn into one review per request:
 *
 *   TokenReview           authenticated and rejected tokens, 2m (--authentication-token-webhook-cache-ttl)
 *   SubjectAccessReview   allowed 5m (--authorization-webhook-cache-authorized-ttl),
 *                         denied 30s (--authorization-webhook-cache-unauthorized-ttl)
 *
 * A review that fails (the API server cannot be reached) is not cached: the request fails
 * (401 for authentication, 500 for authorization) and the next one asks again.
 */
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { SubjectAccessReview, TokenReview } from '../../api/index.js';
import { realClock, type Clock } from '../../base/index.js';
import { defineResourceDescriptor, type KubeClient } from '../../client/index.js';
import type { KubeletAuthenticator, KubeletAuthorizer, KubeletRequestAttributes, KubeletUser } from './auth.js';

export const tokenReviews = defineResourceDescriptor<TokenReview>({ group: 'authentication.k8s.io', version: 'v1', resource: 'tokenreviews', kind: 'TokenReview', namespaced: false });
export const subjectAccessReviews = defineResourceDescriptor<SubjectAccessReview>({ group: 'authorization.k8s.io', version: 'v1', resource: 'subjectaccessreviews', kind: 'SubjectAccessReview', namespaced: false });

/** A map whose entries expire; bounded (the oldest entry goes first). */
export class ExpiringCache<V> {
  private readonly m = new Map<string, { value: V; expires: number }>();
  constructor(
    private readonly clock: Clock,
    private readonly max = 4096,
  ) {}

  get(key: string): V | undefined {
    const e = this.m.get(key);
    if (!e) return undefined;
    if (e.expires <= this.clock.now()) {
      this.m.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) return;
    this.m.delete(key);
    this.m.set(key, { value, expires: this.clock.now() + ttlMs });
    if (this.m.size > this.max) this.m.delete(this.m.keys().next().value as string);
  }

  get size(): number {
    return this.m.size;
  }
}

/** The bearer token of a request (Authorization: Bearer <token>), if any. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}

export interface TokenReviewOptions {
  client: KubeClient;
  /** Default 2 minutes, as upstream's kubelet. */
  cacheTTLMs?: number;
  clock?: Clock;
}

type TokenAnswer = { user: KubeletUser } | { error: string };

/** --authentication-token-webhook: bearer tokens checked with the API server's TokenReview. */
export class TokenReviewAuthenticator implements KubeletAuthenticator {
  private readonly cache: ExpiringCache<TokenAnswer>;
  private readonly ttl: number;
  /** Reviews sent so far (for tests and metrics). */
  reviews = 0;

  constructor(private readonly o: TokenReviewOptions) {
    this.cache = new ExpiringCache(o.clock ?? realClock);
    this.ttl = o.cacheTTLMs ?? 120_000;
  }

  async authenticate(req: IncomingMessage): Promise<KubeletUser | null> {
    const token = bearerToken(req);
    if (token === undefined) return null;
    // Tokens are kept hashed: the cache never holds a credential.
    const key = crypto.createHash('sha256').update(token).digest('hex');
    let answer = this.cache.get(key);
    if (!answer) {
      answer = await this.review(token);
      this.cache.set(key, answer, this.ttl);
    }
    if ('error' in answer) throw new Error(answer.error);
    return answer.user;
  }

  private async review(token: string): Promise<TokenAnswer> {
    this.reviews++;
    let out: TokenReview;
    try {
      out = await this.o.client.resource(tokenReviews).create({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: {}, spec: { token } } as TokenReview);
    } catch (err) {
      throw new Error(`the TokenReview could not be made: ${(err as Error).message}`, { cause: err });
    }
    const st = out.status;
    if (!st?.authenticated || !st.user?.username) return { error: `invalid bearer token${st?.error ? `: ${st.error}` : ''}` };
    return {
      user: {
        name: st.user.username,
        groups: st.user.groups ?? [],
        ...(st.user.uid ? { uid: st.user.uid } : {}),
        ...(st.user.extra ? { extra: st.user.extra } : {}),
      },
    };
  }
}

export interface SubjectAccessReviewOptions {
  client: KubeClient;
  /** Default 5 minutes, as upstream's kubelet. */
  allowedTTLMs?: number;
  /** Default 30 seconds, as upstream's kubelet. */
  deniedTTLMs?: number;
  clock?: Clock;
}

/** --authorization-mode=Webhook: each request asked of the API server as a SubjectAccessReview. */
export class SubjectAccessReviewAuthorizer implements KubeletAuthorizer {
  private readonly cache: ExpiringCache<{ allowed: boolean; reason?: string }>;
  /** Reviews sent so far (for tests and metrics). */
  reviews = 0;

  constructor(private readonly o: SubjectAccessReviewOptions) {
    this.cache = new ExpiringCache(o.clock ?? realClock);
  }

  /** The review the kubelet sends for a request (upstream's: resource attributes of the node, core group, v1). */
  static reviewFor(a: KubeletRequestAttributes): SubjectAccessReview {
    return {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      metadata: {},
      spec: {
        user: a.user.name,
        groups: a.user.groups,
        ...(a.user.uid ? { uid: a.user.uid } : {}),
        ...(a.user.extra ? { extra: a.user.extra } : {}),
        resourceAttributes: { namespace: '', verb: a.verb, group: '', version: 'v1', resource: a.resource, subresource: a.subresource, name: a.name },
      },
    } as SubjectAccessReview;
  }

  async authorize(a: KubeletRequestAttributes): Promise<{ allowed: boolean; reason?: string }> {
    const review = SubjectAccessReviewAuthorizer.reviewFor(a);
    const key = JSON.stringify(review.spec);
    const cached = this.cache.get(key);
    if (cached) return cached;
    this.reviews++;
    let out: SubjectAccessReview;
    try {
      out = await this.o.client.resource(subjectAccessReviews).create(review);
    } catch (err) {
      throw new Error(`the SubjectAccessReview could not be made: ${(err as Error).message}`, { cause: err });
    }
    const st = out.status;
    const decision = { allowed: !!st?.allowed && !st.denied, ...(st?.reason ? { reason: st.reason } : {}) };
    this.cache.set(key, decision, decision.allowed ? (this.o.allowedTTLMs ?? 300_000) : (this.o.deniedTTLMs ?? 30_000));
    if (st?.evaluationError && !decision.allowed) return { ...decision, reason: [decision.reason, st.evaluationError].filter(Boolean).join('; ') };
    return decision;
  }
}
