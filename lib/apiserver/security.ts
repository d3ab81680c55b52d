/**
 * The API server's security, put together from its flags: who a request is (authn/), what
 * they may do (authz/), what admission does to their writes (admission/), the review APIs and
 * service account tokens, and the loops that keep the default RBAC policy, aggregated roles
 * and quota usage current.
 *
 * The secure port gets all of it; the insecure development port (loopback only) authenticates
 * everyone as system:admin and allows everything, but admission applies there too.
 */
import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { MetricsRegistry } from '../base/metrics.js';
import type { Registry, UserInfo } from '../registry/index.js';
import { AdmissionChain, selectPlugins } from './admission/chain.js';
import { allAdmissionPlugins, defaultAdmissionPlugins } from './admission/plugins.js';
import { QuotaTracker, QuotaUsageReconciler } from './admission/resource-quota.js';
import type { Authenticator, Authorizer } from './auth.js';
import { impersonate, wantsImpersonation } from './authn/impersonation.js';
import { signingKeyFromPEM, verificationKeysFromPEM, type VerificationKey } from './authn/jwt.js';
import { RequestAuthenticator } from './authn/request.js';
import { registryGetter, ServiceAccountTokenAuthenticator, ServiceAccountTokenIssuer } from './authn/serviceaccount.js';
import { TokenFileAuthenticator } from './authn/token-file.js';
import { tokenRequestHandler } from './authn/token-request.js';
import type { TokenAuthenticator } from './authn/types.js';
import { buildAuthorization, ClusterRoleAggregator, escalationGuard, reconcileBootstrapPolicy, type Authorization } from './authz/index.js';
import { publishClientCA } from './bootstrap.js';
import { reviewHandlers } from './authz/reviews.js';
import type { PathHandler, SubresourceHandler, VirtualResource } from './server.js';
import { issuerDiscoveryHandler } from './authn/oidc-discovery.js';
import { sleep } from '../base/index.js';
import { canonicalOrder, canonicalOrderAt } from '../api/index.js';

export const defaultServiceAccountIssuer = 'https://kubernetes.default.svc.cluster.local';

export interface SecurityOptions {
  anonymousAuth: boolean;
  authorizationMode: string[];
  enableAdmissionPlugins: string[];
  disableAdmissionPlugins: string[];
  /** Reach webhooks behind Services at an endpoint rather than the cluster IP (`--enable-aggregator-routing`). */
  enableAggregatorRouting?: boolean;
  /** --client-ca-file: verify client certificates against this bundle. */
  clientCAFile?: string;
  /** --token-auth-file: static bearer tokens (CSV). */
  tokenAuthFile?: string;
  /** --service-account-key-file (repeatable): keys that verify service account tokens. */
  serviceAccountKeyFiles?: string[];
  /** --service-account-signing-key-file: the private key new tokens are signed with. */
  serviceAccountSigningKeyFile?: string;
  /** --service-account-issuer (repeatable): the first names new tokens; all are accepted. */
  serviceAccountIssuers?: string[];
  /** --api-audiences: audiences tokens must be for (default: the issuers). */
  apiAudiences?: string[];
  /** --service-account-max-token-expiration, seconds (0: none). */
  serviceAccountMaxTokenExpirationSeconds?: number;
  /** --service-account-jwks-uri: where issuer discovery says the keys are. */
  serviceAccountJWKSURI?: string;
}

export class Security {
  readonly authorization: Authorization;
  readonly admission: AdmissionChain;
  readonly tokens: TokenAuthenticator[] = [];
  readonly audiences: string[];
  readonly issuer?: ServiceAccountTokenIssuer;
  readonly clientCA?: Buffer;
  private readonly verificationKeys: VerificationKey[] = [];
  private readonly issuers: string[];
  private readonly quota = new QuotaTracker();

  constructor(
    private readonly o: SecurityOptions,
    private readonly registry: Registry,
    private readonly log: Logger,
    metrics?: MetricsRegistry,
  ) {
    this.authorization = buildAuthorization(o.authorizationMode, registry);
    const plugins = selectPlugins(allAdmissionPlugins({ registry, log: log.child({ part: 'admission' }), quota: this.quota, authorizer: this.authorization.authorizer, webhookRouting: o.enableAggregatorRouting ? 'endpoints' : 'clusterIP', metrics }), defaultAdmissionPlugins, o.enableAdmissionPlugins, o.disableAdmissionPlugins);
    // Escalation prevention is part of RBAC's storage upstream: always on, whatever the flags.
    this.admission = new AdmissionChain([...plugins, escalationGuard(this.authorization.rbac, this.authorization.authorizer)], {
      canonicalize: (a, paths) => {
        // What a mutating plugin added gets the kind's defaults, as if the client had sent it.
        const rt = registry.get(a.group, a.resource)?.rt;
        if (!a.object || !rt) return;
        rt.defaults?.(a.object);
        // The plugins are ours and write valid shapes; validation follows admission anyway.
        // With the paths a plugin set, only those are walked, and metadata (which the registry
        // filled in: uid, creationTimestamp, generation) as the whole walk would have it.
        const ordered = (paths ? canonicalOrderAt(rt.schema, a.object, [['metadata'], ...paths]) : canonicalOrder(rt.schema, a.object)) as Record<string, unknown>;
        if (ordered === (a.object as unknown)) return;
        for (const k of Object.keys(a.object)) delete (a.object as Record<string, unknown>)[k];
        Object.assign(a.object, ordered);
      },
    });

    if (o.clientCAFile) this.clientCA = fs.readFileSync(o.clientCAFile);
    if (o.tokenAuthFile) this.tokens.push(TokenFileAuthenticator.fromFile(o.tokenAuthFile));

    const issuers = o.serviceAccountIssuers?.length ? o.serviceAccountIssuers : [defaultServiceAccountIssuer];
    this.issuers = issuers;
    this.audiences = o.apiAudiences?.length ? o.apiAudiences : issuers;
    const keys: VerificationKey[] = [];
    for (const f of o.serviceAccountKeyFiles ?? []) {
      const found = verificationKeysFromPEM(fs.readFileSync(f, 'utf8'));
      if (found.length === 0) throw new Error(`--service-account-key-file=${f}: no public key, private key or certificate found`);
      keys.push(...found);
    }
    if (o.serviceAccountSigningKeyFile) {
      const pem = fs.readFileSync(o.serviceAccountSigningKeyFile, 'utf8');
      const signing = signingKeyFromPEM(pem);
      this.issuer = new ServiceAccountTokenIssuer(signing, issuers[0]!);
      if (!keys.some((k) => k.kid === signing.kid)) keys.push(...verificationKeysFromPEM(pem));
    }
    this.verificationKeys = keys;
    if (keys.length) this.tokens.push(new ServiceAccountTokenAuthenticator({ keys, issuers, get: registryGetter(registry), log: log.child({ part: 'serviceaccount-tokens' }) }));
  }

  get authorizer(): Authorizer {
    return this.authorization.authorizer;
  }

  /** The authenticators of the secure port. */
  authenticators(): Authenticator[] {
    return [new RequestAuthenticator({ x509: !!this.clientCA, tokens: this.tokens, audiences: this.audiences, anonymous: this.o.anonymousAuth, log: this.log.child({ part: 'authn' }) })];
  }

  /** Acts on Impersonate-* headers (secure port). */
  impersonator() {
    const authorizer = this.authorizer;
    return async (req: IncomingMessage, user: UserInfo) => (wantsImpersonation(req) ? impersonate(req, user, authorizer) : user);
  }

  virtualResources(authorizer: Authorizer = this.authorizer): Record<string, VirtualResource> {
    return reviewHandlers({ authorizer, resolvers: this.authorization.resolvers, tokens: this.tokens, audiences: this.audiences });
  }

  /** Paths outside the resource space: service account issuer discovery (when tokens are issued). */
  pathHandlers(): PathHandler[] {
    if (!this.issuer || !/^https:\/\//.test(this.issuers[0]!)) return [];
    return [issuerDiscoveryHandler({ issuer: this.issuers[0]!, jwksURI: this.o.serviceAccountJWKSURI, keys: this.verificationKeys })];
  }

  subresources(): Record<string, SubresourceHandler> {
    return {
      '/serviceaccounts/token': tokenRequestHandler({
        registry: this.registry,
        issuer: this.issuer,
        audiences: this.audiences,
        maxExpirationSeconds: this.o.serviceAccountMaxTokenExpirationSeconds ?? 0,
        admission: this.admission,
      }),
    };
  }

  /** Creates the default roles and bindings; retries until it succeeds or the signal aborts. */
  async bootstrapPolicy(signal: AbortSignal): Promise<void> {
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        await reconcileBootstrapPolicy(this.registry, this.log.child({ part: 'rbac-bootstrap' }));
        if (this.clientCA) await publishClientCA(this.registry, this.clientCA.toString(), this.log);
        return;
      } catch (err) {
        this.log.warn({ err, attempt }, 'creating the bootstrap RBAC policy failed; retrying');
        await sleep(Math.min(5000, 200 * 2 ** attempt), signal);
      }
    }
  }

  /** The loops: cluster role aggregation and quota usage. Resolve after the signal aborts. */
  runControllers(signal: AbortSignal): Promise<void>[] {
    return [
      new ClusterRoleAggregator(this.registry, this.log.child({ part: 'clusterrole-aggregation' })).start(signal),
      new QuotaUsageReconciler(this.registry, this.quota, this.log.child({ part: 'resourcequota' })).start(signal),
    ];
  }
}
