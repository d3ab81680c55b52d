/**
 * The API server's HTTP front: every request is parsed into a RequestInfo, authenticated,
 * authorized, and then served from discovery or handed to the resource's Store (which runs
 * admission, validation and storage). Errors leave as Status objects.
 */
import http from 'node:http';
import https from 'node:https';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { MetricsRegistry } from '../base/index.js';
import type { AnyResourceType, Binding, DeleteOptions, Eviction, KubeObject } from '../api/index.js';
import { DeleteOptionsSchema, ObjectMetaSchema, decodeWith, fieldTypeOf, findUnknownFields, unknownFieldsOf, type JSONSchemaProps } from '../api/index.js';

/** Unknown fields of a custom object: against its structural schema, and ObjectMeta for metadata. */
function unknownCustomFields(raw: unknown, schema: JSONSchemaProps): string[] {
  if (!raw || typeof raw !== 'object') return [];
  const { apiVersion: _a, kind: _k, metadata, ...body } = raw as Record<string, unknown>;
  const { apiVersion: _sa, kind: _sk, metadata: _sm, ...props } = schema.properties ?? {};
  return [...findUnknownFields(ObjectMetaSchema, metadata, 'metadata'), ...unknownFieldsOf(body, { ...schema, properties: props })];
}
import {
  StatusError,
  dropUnknownFields,
  fieldPath,
  newBadRequest,
  newForbidden,
  newInvalid,
  newMethodNotSupported,
  newNotFound,
  newRequestEntityTooLarge,
  newTimeout,
  newTooManyRequests,
  newUnauthorized,
  parseFieldSelector,
  parseLabelSelector,
  toStatusError,
  type FieldError,
  type Status,
} from '../machinery/index.js';
import {
  applyConfiguration,
  bindPod,
  evictPod,
  maxFieldManagerLength,
  newContext,
  toScale,
  updateScale,
  type Registry,
  type RequestContext,
  type Store,
  type UserInfo,
} from '../registry/index.js';
import { CachedObject, writtenJSON, type FilteredEvent } from '../storage/index.js';
import { anonymousUser, authorizationAttributes, forbiddenMessage, type Authenticator, type Authorizer } from './auth.js';
import { aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList, apiVersions } from './discovery.js';
import { bodyTypeOf, chooseResponse, parseBody, parseMediaTypes, toYAML, type ResponseForm } from './negotiation.js';
import { applyPatch } from './patch.js';
import { toTable } from './printers/index.js';
import { parseRequestInfo, type RequestInfo } from './request-info.js';
import { WatchStream } from './watch-stream.js';
import { routeUpgradeRequests } from './proxy/upgrade-routing.js';

export const maxRequestBodyBytes = 3 * 1024 * 1024;

/**
 * Subresources whose body is the whole object, read and written through the store with the
 * subresource in the request context, so that the kind's strategy decides what may change:
 * status, pods/ephemeralcontainers (only spec.ephemeralContainers) and
 * certificatesigningrequests/approval (only Approved/Denied conditions).
 */
const objectSubresources = new Set(['status', 'ephemeralcontainers', 'approval']);

/** Go's unicode.IsPrint, near enough: no control characters and no separators but the space. */
function isPrintable(ch: string): boolean {
  return !/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}]/u.test(ch) && (ch === ' ' || !/\p{Zs}/u.test(ch));
}

export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
  gitCommit: string;
  gitTreeState: string;
  buildDate: string;
  goVersion: string;
  compiler: string;
  platform: string;
}

export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}

/** Handlers for subresources served by other parts (kubelet streaming, tokens...). */
export type SubresourceHandler = (req: FastifyRequest, reply: FastifyReply, info: RequestInfo, ctx: RequestContext, store: Store) => Promise<unknown>;

/**
 * An API group served by a handler instead of the registry, as upstream serves an aggregated
 * APIService (metrics.k8s.io): discovery lists its resource types; its requests are
 * authenticated and authorized like any other, then handed over.
 */
export interface APIGroupHandler {
  resourceTypes: AnyResourceType[];
  serve(req: FastifyRequest, reply: FastifyReply, info: RequestInfo, user: UserInfo): Promise<unknown>;
}

/** Serves paths outside the resource space (openapi, metrics...): return true when handled. */
export type PathHandler = (req: FastifyRequest, reply: FastifyReply, info: RequestInfo, user: UserInfo) => Promise<boolean>;

export interface APIServerConfig {
  registry: Registry;
  log: Logger;
  /** A log line for every request served (--v=3 and above); otherwise only for 5xx answers. */
  logRequests?: boolean;
  metrics: MetricsRegistry;
  authenticators: Authenticator[];
  /** Let requests without credentials in as system:anonymous. */
  anonymousAuth: boolean;
  authorizer: Authorizer;
  version: VersionInfo;
  healthChecks: HealthCheck[];
  /** host:port clients should use, for /api's serverAddressByClientCIDRs. */
  serverAddress: string;
  minRequestTimeoutSeconds?: number;
  requestTimeoutMs?: number;
  bookmarkIntervalMs?: number;
  maxRequestsInflight?: number;
  maxMutatingRequestsInflight?: number;
  subresources?: Record<string, SubresourceHandler>;
  /** API groups served outside the registry (kubelet streaming: metrics.k8s.io). */
  apiGroupHandlers?: APIGroupHandler[];
  pathHandlers?: PathHandler[];
  /** Extra resource types served (CRDs): consulted for discovery on each request. */
  resourceTypes?: () => AnyResourceType[];
  /** Probes the control-plane components for `componentstatuses` (never stored). */
  componentStatuses?: () => Promise<KubeObject[]>;
  /** Serve HTTPS with this certificate; client certificates are requested but not required. */
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer };
  /** Security: acts on Impersonate-* headers after authentication (lib/apiserver/authn/impersonation.ts). */
  impersonate?: (req: http.IncomingMessage, user: UserInfo) => Promise<UserInfo>;
  /** Security: create-only kinds answered without storage (access and token reviews), by group/resource. */
  virtualResources?: Record<string, VirtualResource>;
}

/** A create-only kind that is answered, not stored (SelfSubjectAccessReview, TokenReview...). */
export interface VirtualResource {
  rt: AnyResourceType;
  create(body: Record<string, unknown>, info: RequestInfo, user: UserInfo): Promise<unknown>;
}

interface Metrics {
  requests: ReturnType<MetricsRegistry['counter']>;
  latency: ReturnType<MetricsRegistry['histogram']>;
  watchers: ReturnType<MetricsRegistry['gauge']>;
  inflight: ReturnType<MetricsRegistry['gauge']>;
}

function queryOf(req: FastifyRequest): URLSearchParams {
  const i = req.url.indexOf('?');
  return new URLSearchParams(i >= 0 ? req.url.slice(i + 1) : '');
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw newBadRequest(`invalid value for ${name}: ${JSON.stringify(v)} is not an integer`);
  return Number(v);
}

/** The verb label of request metrics, as upstream: LIST/WATCH/GET/POST/PUT/PATCH/APPLY/DELETE. */
function metricVerb(info: RequestInfo, method: string, contentType: string | undefined): string {
  switch (info.verb) {
    case 'list':
      return 'LIST';
    case 'watch':
      return 'WATCH';
    case 'patch':
      return contentType?.startsWith('application/apply-patch') ? 'APPLY' : 'PATCH';
    case 'connect':
      return 'CONNECT';
    default:
      return method.toUpperCase();
  }
}

/** A `299 - "text"` Warning header value; quotes and backslashes escaped as RFC 7230 quoted-string wants. */
export function warningHeader(text: string): string {
  return `299 - "${text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\u0000-\u001f\u007f]/g, ' ')}"`;
}

function sendStatus(reply: FastifyReply, err: StatusError): void {
  const s = err.status;
  if (s.reason === 'TooManyRequests' && s.details?.retryAfterSeconds) reply.header('Retry-After', String(s.details.retryAfterSeconds));
  reply.code(s.code).type('application/json').send(JSON.stringify(s));
}

/**
 * How long an idle keep-alive connection stays open: 90 s, as upstream's secure server (and Go's
 * default transport on the client side). Node's own default, 5 s, made every client open and
 * TLS-handshake new connections after each quiet moment.
 */
export const idleConnectionTimeoutMs = 90_000;

export function createAPIServer(cfg: APIServerConfig): FastifyInstance {
  const tls = cfg.tls;
  const app = Fastify({
    logger: false,
    bodyLimit: maxRequestBodyBytes,
    return503OnClosing: true,
    forceCloseConnections: true,
    keepAliveTimeout: idleConnectionTimeoutMs,
    ...(tls
      ? {
          serverFactory: (handler: http.RequestListener) => {
            const s = https.createServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: false }, handler);
            // No TLS renegotiation (as Go's server): a connection's client certificate, and so
            // its user, is fixed at the handshake (authn/request.ts reads it once).
            s.on('secureConnection', (socket) => socket.disableRenegotiation());
            // Fastify sets its keep-alive timeout only on servers it makes itself.
            s.keepAliveTimeout = idleConnectionTimeoutMs;
            return s as unknown as http.Server;
          },
        }
      : {}),
  });
  const log = cfg.log;
  const m: Metrics = {
    requests: cfg.metrics.counter('apiserver_request_total', 'Requests by verb, group, resource, subresource and HTTP code.'),
    latency: cfg.metrics.histogram('apiserver_request_duration_seconds', 'Request latency by verb and resource (watches excluded).'),
    watchers: cfg.metrics.gauge('apiserver_registered_watchers', 'Open watches by group and resource.'),
    inflight: cfg.metrics.gauge('apiserver_current_inflight_requests', 'Requests being served, by kind (readOnly, mutating).'),
  };
  const minTimeout = cfg.minRequestTimeoutSeconds ?? 1800;
  const requestTimeout = cfg.requestTimeoutMs ?? 60_000;
  const bookmarkInterval = cfg.bookmarkIntervalMs ?? 60_000;
  const maxReadOnly = cfg.maxRequestsInflight ?? 400;
  const maxMutating = cfg.maxMutatingRequestsInflight ?? 200;
  let inflightRO = 0;
  let inflightMut = 0;
  m.inflight.collect(() => [
    [{ request_kind: 'readOnly' }, inflightRO],
    [{ request_kind: 'mutating' }, inflightMut],
  ]);
  const resourceTypes = () => [...cfg.registry.all().map((s) => s.rt), ...(cfg.resourceTypes?.() ?? []), ...(cfg.apiGroupHandlers ?? []).flatMap((g) => g.resourceTypes)];

  // Kubelet streaming: upgrade requests (exec, attach, port-forward) enter the same route.
  routeUpgradeRequests(app);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxRequestBodyBytes }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, _req, reply) => {
    if (err instanceof StatusError) return sendStatus(reply, err);
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413) return sendStatus(reply, newRequestEntityTooLarge(maxRequestBodyBytes));
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return sendStatus(reply, newBadRequest(err.message));
    log.error({ err }, 'unhandled error');
    sendStatus(reply, toStatusError(err));
  });

  async function authenticate(req: FastifyRequest): Promise<UserInfo> {
    for (const a of cfg.authenticators) {
      const u = await a.authenticate(req.raw);
      if (u) return u;
    }
    if (cfg.anonymousAuth) return anonymousUser;
    throw newUnauthorized();
  }

  app.all('/*', async (req, reply) => {
    const start = performance.now();
    const query = queryOf(req);
    const info = parseRequestInfo(req.method, req.url, query);
    let code = 200;
    let isWatch = false;
    const mutating = !['get', 'list', 'watch', ''].includes(info.verb) || (!info.isResourceRequest && req.method !== 'GET');
    const longRunning = info.verb === 'watch' || info.verb === 'connect' || info.subresource === 'log' || info.verb === 'proxy';
    let counted = false;
    let user: UserInfo | undefined;
    try {
      user = await authenticate(req);
      if (cfg.impersonate) user = await cfg.impersonate(req.raw, user);
      // Every request is authorized, health and version included (system:public-info-viewer allows those).
      const attrs = authorizationAttributes(user, info, query, req.method);
      const decision = await cfg.authorizer.authorize(attrs);
      if (decision.decision !== 'allow') {
        throw newForbidden(
          info.isResourceRequest ? { group: info.apiGroup, resource: info.resource } : { group: '', resource: '' },
          attrs.name,
          forbiddenMessage(attrs) + (decision.reason ? `: ${decision.reason}` : ''),
        );
      }
      if (!longRunning) {
        if (mutating ? inflightMut >= maxMutating : inflightRO >= maxReadOnly) {
          throw newTooManyRequests('Too many requests, please try again later.', 1);
        }
        counted = true;
        if (mutating) inflightMut++;
        else inflightRO++;
      }
      if (!info.isResourceRequest) {
        return await serveNonResource(req, reply, info, query, user);
      }
      const delegated = cfg.apiGroupHandlers?.find((g) => g.resourceTypes.some((t) => t.group === info.apiGroup && t.version === info.apiVersion));
      if (delegated) return await delegated.serve(req, reply, info, user);
      const store = cfg.registry.get(info.apiGroup, info.resource, info.apiVersion);
      const virtual = store ? undefined : cfg.virtualResources?.[`${info.apiGroup}/${info.resource}`];
      if (virtual && virtual.rt.version === info.apiVersion) return await serveVirtual(req, reply, info, virtual, user);
      if (!store) throw notFoundPath(info);
      isWatch = info.verb === 'watch';
      if (isWatch) return await serveWatch(req, reply, info, query, store, user);
      const work = serveResource(req, reply, info, query, store, user);
      if (longRunning) return await work;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(newTimeout(`request did not complete within ${requestTimeout / 1000}s`, 1)), requestTimeout);
      });
      try {
        return await Promise.race([work, timeout]);
      } finally {
        clearTimeout(timer);
      }
    } catch (err) {
      const se = toStatusError(err);
      if (se.code >= 500) log.error({ err, verb: info.verb, path: info.path }, 'request failed');
      code = se.code;
      if (reply.sent || reply.raw.headersSent) return;
      sendStatus(reply, se);
      return reply;
    } finally {
      if (counted) {
        if (mutating) inflightMut--;
        else inflightRO--;
      }
      if (!isWatch) {
        code = reply.raw.statusCode && code === 200 ? reply.raw.statusCode : code;
        const seconds = (performance.now() - start) / 1000;
        const labels = { verb: metricVerb(info, req.method, req.headers['content-type']), group: info.apiGroup, resource: info.resource, subresource: info.subresource, code: String(code) };
        m.requests.inc(labels);
        if (!longRunning) m.latency.observe({ verb: labels.verb, resource: info.resource }, seconds);
        // One line a request at --v=3 and above, as upstream's httplog; server errors always.
        if (cfg.logRequests || code >= 500) {
          const line = { verb: info.verb, path: info.path, code, latencyMs: Math.round(seconds * 1000), user: user?.username, userAgent: req.headers['user-agent'], srcIP: `${req.socket.remoteAddress}:${req.socket.remotePort}` };
          log[code >= 500 ? 'warn' : 'info'](line, 'request');
        }
      }
    }
  });

  async function serveVirtual(req: FastifyRequest, reply: FastifyReply, info: RequestInfo, v: VirtualResource, user: UserInfo) {
    const rt = v.rt;
    if (info.verb !== 'create' || info.name || info.subresource) throw newMethodNotSupported({ group: rt.group, resource: rt.resource }, info.verb || req.method.toLowerCase());
    if (!rt.namespaced && info.namespace) throw notFoundPath(info);
    const parsed = parseBody(req.body as Buffer | undefined, bodyTypeOf(req.headers['content-type'], false)) as Record<string, unknown>;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw newBadRequest('the body of the request must be an object');
    // Go clients send null for empty fields; the review kinds read null as absent.
    const raw = JSON.parse(JSON.stringify(parsed, (_k, v: unknown) => (v === null ? undefined : v))) as Record<string, unknown>;
    raw.metadata ??= {};
    // A review's status is the answer: whatever the client sent there is ignored.
    delete raw.status;
    const want = apiVersionOf(rt);
    if (raw.apiVersion !== undefined && raw.apiVersion !== want) throw newBadRequest(`the API version in the data (${String(raw.apiVersion)}) does not match the expected API version (${want})`);
    if (raw.kind !== undefined && raw.kind !== rt.kind) throw newBadRequest(`${String(raw.kind)} in version "${rt.version}" cannot be handled as a ${rt.kind}: the kind in the data does not match the expected kind (${rt.kind})`);
    const out = await v.create(decodeWith(rt.schema, raw, rt.group, rt.kind, rt.version) as Record<string, unknown>, info, user);
    return reply.code(201).type('application/json').send(JSON.stringify(out));
  }

  function notFoundPath(info: RequestInfo): StatusError {
    const e = newNotFound({ group: '', resource: '' }, '');
    e.status.message = 'the server could not find the requested resource';
    e.status.details = info.isResourceRequest ? { group: info.apiGroup, kind: info.resource } : {};
    return e;
  }

  async function serveNonResource(req: FastifyRequest, reply: FastifyReply, info: RequestInfo, query: URLSearchParams, user: UserInfo) {
    for (const h of cfg.pathHandlers ?? []) if (await h(req, reply, info, user)) return reply;
    const path = info.path.replace(/\/+$/, '') || '/';
    if (req.method !== 'GET' && req.method !== 'HEAD') throw newMethodNotSupported({ group: '', resource: '' }, req.method);
    const types = resourceTypes();
    const accept = parseMediaTypes(req.headers.accept);
    const aggregated = accept.find((t) => t.params['as'] === 'APIGroupDiscoveryList' && t.params['g'] === 'apidiscovery.k8s.io' && (t.params['v'] === 'v2' || t.params['v'] === 'v2beta1'));
    // A Buffer body keeps the header as written: fastify would re-quote the parameters of a string's media type.
    const json = (v: unknown, type = 'application/json') => reply.code(200).header('content-type', type).header('Cache-Control', 'no-cache, private').send(Buffer.from(JSON.stringify(v)));
    switch (path) {
      case '/version':
        return json(cfg.version);
      case '/healthz':
      case '/livez':
      case '/readyz':
        return serveHealth(reply, path.slice(1), query);
      case '/metrics':
        return reply.code(200).type('text/plain; version=0.0.4').send(cfg.metrics.render());
      case '/api':
        if (aggregated) {
          const v = aggregated.params['v'] as 'v2' | 'v2beta1';
          return json(aggregatedDiscovery(types, true, v), `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`);
        }
        return json(apiVersions(cfg.serverAddress));
      case '/apis':
        if (aggregated) {
          const v = aggregated.params['v'] as 'v2' | 'v2beta1';
          return json(aggregatedDiscovery(types, false, v), `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`);
        }
        return json(apiGroupList(types));
      case '/':
        return json({ paths: ['/api', '/api/v1', '/apis', ...new Set(types.filter((t) => t.group).map((t) => `/apis/${t.group}`)), '/healthz', '/livez', '/metrics', '/openapi/v2', '/openapi/v3', '/readyz', '/version'].sort() });
    }
    if (info.apiPrefix === 'api' && info.apiVersion) {
      const list = apiResourceList(types, '', info.apiVersion);
      if (list) return json(list);
    }
    if (info.apiPrefix === 'apis') {
      const parts = path.split('/').filter(Boolean);
      if (parts.length === 2) {
        const g = apiGroup(types, parts[1]!);
        if (g) return json(g);
      } else if (parts.length === 3) {
        const list = apiResourceList(types, parts[1]!, parts[2]!);
        if (list) return json(list);
      }
    }
    throw notFoundPath(info);
  }

  async function serveHealth(reply: FastifyReply, which: string, query: URLSearchParams) {
    const verbose = query.has('verbose');
    const results: string[] = ['[+]ping ok'];
    let ok = true;
    for (const hc of which === 'livez' ? [] : cfg.healthChecks) {
      try {
        await hc.check();
        results.push(`[+]${hc.name} ok`);
      } catch (err) {
        ok = false;
        results.push(`[-]${hc.name} failed: ${(err as Error).message}`);
      }
    }
    const body = verbose || !ok ? `${results.join('\n')}\n${which} check ${ok ? 'passed' : 'failed'}\n` : 'ok';
    return reply.code(ok ? 200 : 500).type('text/plain; charset=utf-8').send(body);
  }

  function contextOf(info: RequestInfo, query: URLSearchParams, user: UserInfo, store: Store, userAgent?: string): RequestContext {
    const dryRun = query.getAll('dryRun');
    for (const d of dryRun) if (d !== 'All') throw newBadRequest(`dryRun: Unsupported value: ${JSON.stringify(d)}: supported values: "All"`);
    if (store.rt.namespaced === false && info.namespace && info.resource !== 'namespaces') throw notFoundPath(info);
    return newContext({
      user,
      namespace: store.rt.namespaced ? info.namespace : '',
      dryRun: dryRun.length > 0,
      fieldManager: fieldManagerOf(info, query, userAgent),
      subresource: info.subresource,
    });
  }

  /**
   * The field manager of a write: `?fieldManager=`, else the User-Agent up to its first "/"
   * (`kubectl/v1.31.9 (linux/amd64) ...` is "kubectl"), as upstream.
   */
  function fieldManagerOf(info: RequestInfo, query: URLSearchParams, userAgent?: string): string | undefined {
    const explicit = query.get('fieldManager');
    if (explicit) {
      const p = fieldPath('fieldManager');
      const errs: FieldError[] = [];
      if (explicit.length > maxFieldManagerLength) errs.push(p.tooLong(maxFieldManagerLength));
      [...explicit].forEach((ch, i) => {
        if (!isPrintable(ch)) errs.push(p.invalid(explicit, `invalid character ${JSON.stringify(ch)} (at position ${i})`));
      });
      const options = info.verb === 'create' ? 'CreateOptions' : info.verb === 'update' ? 'UpdateOptions' : 'PatchOptions';
      if (errs.length) throw newInvalid('meta.k8s.io', options, '', errs);
      return explicit;
    }
    if (!userAgent) return undefined;
    return [...(userAgent.split('/')[0] ?? '')].filter(isPrintable).slice(0, maxFieldManagerLength).join('');
  }

  function listParams(query: URLSearchParams) {
    return {
      labelSelector: query.get('labelSelector') ? parseLabelSelector(query.get('labelSelector')!) : undefined,
      fieldSelector: query.get('fieldSelector') ? parseFieldSelector(query.get('fieldSelector')!) : undefined,
      limit: intParam(query, 'limit'),
      continue: query.get('continue') || undefined,
      resourceVersion: query.get('resourceVersion') ?? undefined,
      resourceVersionMatch: query.get('resourceVersionMatch') || undefined,
    };
  }

  function apiVersionOf(rt: AnyResourceType): string {
    return rt.group ? `${rt.group}/${rt.version}` : rt.version;
  }

  function sendObject(reply: FastifyReply, form: ResponseForm, rt: AnyResourceType, obj: unknown, code = 200, query?: URLSearchParams) {
    // One header line per warning (a retried update may have noted the same one twice).
    const warnings = [...new Set((reply.request as FastifyRequest & { warnings?: string[] }).warnings ?? [])];
    if (warnings.length > 0) reply.header('Warning', warnings.map(warningHeader));
    if (form.kind === 'table' && obj && typeof obj === 'object' && (obj as KubeObject).metadata && (obj as KubeObject).kind === rt.kind) {
      const include = (query?.get('includeObject') as 'None' | 'Metadata' | 'Object' | null) ?? undefined;
      const t = toTable(rt, [obj as KubeObject], { includeObject: include ?? 'Metadata', listMeta: { resourceVersion: (obj as KubeObject).metadata.resourceVersion } });
      return reply.code(code).type('application/json').send(JSON.stringify(form.version === 'v1' ? t : { ...t, apiVersion: 'meta.k8s.io/v1beta1' }));
    }
    if (form.kind === 'metadata' && obj && typeof obj === 'object' && (obj as KubeObject).metadata && (obj as KubeObject).kind === rt.kind) {
      return reply.code(code).type('application/json').send(JSON.stringify({ kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${form.version}`, metadata: (obj as KubeObject).metadata }));
    }
    if (form.kind === 'yaml') return reply.code(code).type('application/yaml').send(toYAML(obj));
    // An object just written is answered with the JSON the storage wrote (plus its version).
    return reply.code(code).type('application/json').send(writtenJSON(obj as KubeObject) ?? JSON.stringify(obj));
  }

  /** A list in the form the client asked for; JSON lists reuse each object's cached encoding. */
  function sendList(reply: FastifyReply, form: ResponseForm, rt: AnyResourceType, items: CachedObject[], meta: Record<string, unknown>, query: URLSearchParams) {
    if (form.kind === 'table') {
      const include = (query.get('includeObject') as 'None' | 'Metadata' | 'Object' | null) ?? 'Metadata';
      const t = toTable(
        rt,
        items.map((c) => c.object),
        { includeObject: include, listMeta: meta },
      );
      return reply.code(200).type('application/json').send(JSON.stringify(form.version === 'v1' ? t : { ...t, apiVersion: 'meta.k8s.io/v1beta1' }));
    }
    if (form.kind === 'metadata') {
      return reply
        .code(200)
        .type('application/json')
        .send(JSON.stringify({ kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${form.version}`, metadata: meta, items: items.map((c) => ({ kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${form.version}`, metadata: c.object.metadata })) }));
    }
    if (form.kind === 'yaml') return reply.code(200).type('application/yaml').send(toYAML({ kind: rt.listKind, apiVersion: apiVersionOf(rt), metadata: meta, items: items.map((c) => c.object) }));
    const head = `{"kind":"${rt.listKind}","apiVersion":"${apiVersionOf(rt)}","metadata":${JSON.stringify(meta)},"items":[`;
    // Sent as bytes: given a string, fastify measures it for Content-Length and Node encodes it
    // again to write it, two passes over what is 15 MB for 10,000 pods.
    return reply.code(200).type('application/json').send(Buffer.from(head + items.map((c) => c.json).join(',') + ']}'));
  }

  /** componentstatuses: computed on each request by probing the components, never stored. */
  async function serveComponentStatuses(reply: FastifyReply, info: RequestInfo, query: URLSearchParams, store: Store, form: ResponseForm) {
    reply.header('Warning', warningHeader('v1 ComponentStatus is deprecated in v1.19+'));
    const all = (await cfg.componentStatuses!()).map((o) => new CachedObject(`componentstatuses/${o.metadata.name}`, o));
    if (info.verb === 'get') {
      const found = all.find((c) => c.object.metadata.name === info.name);
      if (!found) throw newNotFound(store.gr, info.name);
      return sendObject(reply, form, store.rt, found.object, 200, query);
    }
    if (info.verb === 'list') return sendList(reply, form, store.rt, all, {}, query);
    throw newMethodNotSupported(store.gr, info.verb);
  }

  function fieldValidation(query: URLSearchParams): 'Ignore' | 'Warn' | 'Strict' {
    const v = query.get('fieldValidation') ?? 'Warn';
    if (v !== 'Ignore' && v !== 'Warn' && v !== 'Strict') throw newBadRequest(`fieldValidation: Unsupported value: ${JSON.stringify(v)}: supported values: "Ignore", "Strict", "Warn"`);
    return v;
  }

  /**
   * Reports fields the kind does not have, as warnings or (Strict) a 400 naming them. `decoding`
   * marks whole-object bodies (create, update), whose errors upstream words as a decode failure.
   */
  function checkUnknownFields(raw: unknown, rt: AnyResourceType, query: URLSearchParams, ctx: RequestContext, decoding = false) {
    const mode = fieldValidation(query);
    if (mode === 'Ignore') return;
    const unknown = rt.jsonSchema ? unknownCustomFields(raw, rt.jsonSchema) : findUnknownFields(rt.schema, raw);
    if (unknown.length === 0) return;
    const msgs = unknown.map((f) => `unknown field "${f}"`);
    if (mode === 'Strict') {
      const prefix = decoding ? `${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: ` : '';
      throw newBadRequest(`${prefix}strict decoding error: ${msgs.join(', ')}`);
    }
    ctx.warnings.push(...msgs);
  }

  /** Decodes a create/update body (JSON, YAML or protobuf) as the store's kind, checking apiVersion and kind. */
  function decodeBody(req: FastifyRequest, store: Store, query: URLSearchParams, ctx: RequestContext, expect?: { apiVersion: string; kind: string }): KubeObject {
    const type = bodyTypeOf(req.headers['content-type'], false);
    const raw = parseBody(req.body as Buffer | undefined, type) as Record<string, unknown>;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw newBadRequest('the body of the request must be an object');
    const rt = store.rt;
    const want = expect ?? { apiVersion: apiVersionOf(rt), kind: rt.kind };
    if (raw.apiVersion !== undefined && raw.apiVersion !== want.apiVersion) {
      throw newBadRequest(`the API version in the data (${String(raw.apiVersion)}) does not match the expected API version (${want.apiVersion})`);
    }
    if (raw.kind !== undefined && raw.kind !== want.kind) {
      throw newBadRequest(`${String(raw.kind)} in version "${rt.version}" cannot be handled as a ${want.kind}: the kind in the data does not match the expected kind (${want.kind})`);
    }
    if (!expect) checkUnknownFields(raw, rt, query, ctx, true);
    return raw as KubeObject;
  }

  /** `?force=` of a patch: only apply patches take it (upstream's PatchOptions validation). */
  function patchForce(query: URLSearchParams, type: string): boolean {
    const v = query.get('force');
    if (v === null) return false;
    if (type !== 'apply-patch') throw newInvalid('meta.k8s.io', 'PatchOptions', '', [fieldPath('force').forbidden('may not be specified for non-apply patch')]);
    if (v !== 'true' && v !== 'false' && v !== '') throw newBadRequest(`force: invalid value ${JSON.stringify(v)}: must be true or false`);
    return v === 'true';
  }

  /**
   * Checks an apply patch as upstream does (a field manager, the kind's apiVersion and kind, no
   * managedFields, the name and namespace of the URL) and returns it without the fields the
   * kind does not have, after reporting or refusing them per fieldValidation.
   */
  function applyConfigurationOf(patch: unknown, rt: AnyResourceType, info: RequestInfo, ctx: RequestContext, query: URLSearchParams): Record<string, unknown> {
    if (!query.get('fieldManager')) throw newInvalid('meta.k8s.io', 'PatchOptions', '', [fieldPath('fieldManager').required('is required for apply patch')]);
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw newBadRequest('error decoding YAML: the apply configuration must be an object');
    const config = patch as Record<string, unknown>;
    const want = apiVersionOf(rt);
    if (config.apiVersion !== want) throw newBadRequest(`Incorrect version specified in apply patch. Specified patch version: ${typeof config.apiVersion === 'string' ? config.apiVersion : ''}, expected: ${want}`);
    if (config.kind !== rt.kind) throw newBadRequest(`Incorrect kind specified in apply patch. Specified patch kind: ${typeof config.kind === 'string' ? config.kind : ''}, expected: ${rt.kind}`);
    const meta = config.metadata;
    if (meta !== undefined && (meta === null || typeof meta !== 'object' || Array.isArray(meta))) throw newBadRequest('metadata must be an object');
    const m = { ...((meta as Record<string, unknown> | undefined) ?? {}) };
    if (m.managedFields !== undefined && m.managedFields !== null) throw newBadRequest('metadata.managedFields must be nil');
    delete m.managedFields;
    if (m.name !== undefined && m.name !== info.name) throw newBadRequest(`the name of the object (${String(m.name)}) does not match the name on the URL (${info.name})`);
    if (rt.namespaced && m.namespace !== undefined && m.namespace !== '' && m.namespace !== ctx.namespace) throw newBadRequest('the namespace of the provided object does not match the namespace sent on the request');
    m.name = info.name;
    if (rt.namespaced) m.namespace = ctx.namespace;
    else delete m.namespace;
    checkUnknownFields({ ...config, metadata: m }, rt, query, ctx);
    return dropUnknownFields({ ...config, metadata: m }, fieldTypeOf(rt)) as Record<string, unknown>;
  }

  function deleteOptionsOf(req: FastifyRequest, query: URLSearchParams): DeleteOptions {
    let opts: DeleteOptions = {};
    const body = req.body as Buffer | undefined;
    if (body && body.length > 0 && body.toString('utf8').trim() !== '') {
      // JSON, YAML or protobuf (typed clients such as `kubectl drain` send protobuf DeleteOptions).
      const raw = parseBody(body, bodyTypeOf(req.headers['content-type'], false)) as { kind?: unknown } | null;
      if (raw && typeof raw === 'object' && raw.kind !== undefined && raw.kind !== 'DeleteOptions') throw newBadRequest(`${String(raw.kind)} cannot be handled as DeleteOptions`);
      opts = decodeWith(DeleteOptionsSchema, raw, 'meta.k8s.io', 'DeleteOptions', 'v1');
    }
    const grace = intParam(query, 'gracePeriodSeconds');
    if (grace !== undefined) opts.gracePeriodSeconds = grace;
    const pp = query.get('propagationPolicy');
    if (pp) {
      if (pp !== 'Orphan' && pp !== 'Background' && pp !== 'Foreground') throw newBadRequest(`propagationPolicy: Unsupported value: ${JSON.stringify(pp)}: supported values: "Foreground", "Background", "Orphan"`);
      opts.propagationPolicy = pp;
    }
    const orphan = query.get('orphanDependents');
    if (orphan) opts.orphanDependents = orphan === 'true';
    if (opts.orphanDependents !== undefined && opts.propagationPolicy) throw newBadRequest('orphanDependents and propagationPolicy cannot both be set');
    return opts;
  }

  async function serveResource(req: FastifyRequest, reply: FastifyReply, info: RequestInfo, query: URLSearchParams, store: Store, user: UserInfo) {
    const rt = store.rt;
    const ctx = contextOf(info, query, user, store, req.headers['user-agent']);
    (req as FastifyRequest & { warnings?: string[] }).warnings = ctx.warnings;
    const form = chooseResponse(req.headers.accept);
    const sub = info.subresource;
    if (sub && !rt.subresources.includes(sub)) throw notFoundPath(info);
    const custom = sub ? cfg.subresources?.[`${rt.group}/${rt.resource}/${sub}`] : undefined;
    if (custom) return custom(req, reply, info, ctx, store);
    if (info.name === '' && (info.verb === 'get' || info.verb === 'update' || info.verb === 'patch' || info.verb === 'delete')) throw notFoundPath(info);
    if (rt.group === '' && rt.resource === 'componentstatuses' && cfg.componentStatuses) return serveComponentStatuses(reply, info, query, store, form);

    switch (info.verb) {
      case 'get': {
        if (sub === 'scale') return sendObject(reply, form, rt, toScale(await store.get(ctx, info.name), store));
        // Object-shaped subresources answer with the whole object (pods/ephemeralcontainers is a Pod).
        if (sub && !objectSubresources.has(sub)) throw newMethodNotSupported(store.gr, 'get');
        const obj = await store.get(ctx, info.name, { resourceVersion: query.get('resourceVersion') ?? undefined });
        return sendObject(reply, form, rt, obj, 200, query);
      }
      case 'list': {
        if (!rt.verbs.includes('list')) throw newMethodNotSupported(store.gr, 'list');
        const params = listParams(query);
        const res = await store.list(ctx, params);
        const meta: Record<string, unknown> = { resourceVersion: res.resourceVersion };
        if (res.continue) meta.continue = res.continue;
        if (res.remainingItemCount !== undefined) meta.remainingItemCount = res.remainingItemCount;
        return sendList(reply, form, rt, res.items, meta, query);
      }
      case 'create': {
        if (info.name && !sub) throw newMethodNotSupported(store.gr, 'create');
        if (sub === 'binding') {
          const binding = decodeBody(req, store, query, ctx, { apiVersion: 'v1', kind: 'Binding' }) as unknown as Binding;
          await bindPod(store, ctx, info.name, binding);
          return reply.code(201).type('application/json').send(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }));
        }
        if (sub === 'eviction') {
          const ev = decodeBody(req, store, query, ctx, { apiVersion: 'policy/v1', kind: 'Eviction' }) as unknown as Eviction;
          await evictPod(store, cfg.registry.get('policy', 'poddisruptionbudgets'), ctx, info.name, ev);
          return reply.code(201).type('application/json').send(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }));
        }
        if (sub) throw newMethodNotSupported(store.gr, 'create');
        if (!rt.verbs.includes('create')) throw newMethodNotSupported(store.gr, 'create');
        const raw = decodeBody(req, store, query, ctx);
        const obj = store.decode(raw);
        const created = await store.create(ctx, obj);
        return sendObject(reply, form, rt, created, 201, query);
      }
      case 'update': {
        if (sub === 'scale') {
          const body = decodeBody(req, store, query, ctx, { apiVersion: 'autoscaling/v1', kind: 'Scale' });
          return sendObject(reply, form, rt, await updateScale(store, ctx, info.name, () => body));
        }
        if (sub && !objectSubresources.has(sub) && sub !== 'finalize') throw newMethodNotSupported(store.gr, 'update');
        if (!rt.verbs.includes('update')) throw newMethodNotSupported(store.gr, 'update');
        const raw = decodeBody(req, store, query, ctx);
        const obj = store.decode(raw);
        const { object, created } = await store.update(ctx, info.name, () => structuredClone(obj));
        return sendObject(reply, form, rt, object, created ? 201 : 200, query);
      }
      case 'patch': {
        if (!rt.verbs.includes('patch')) throw newMethodNotSupported(store.gr, 'patch');
        const type = bodyTypeOf(req.headers['content-type'], true);
        const force = patchForce(query, type);
        const patch = parseBody(req.body as Buffer | undefined, type);
        if (type === 'apply-patch' && sub !== 'scale') {
          // Server-side apply: the body is the manager's whole intent for its fields.
          const config = applyConfigurationOf(patch, rt, info, ctx, query);
          const { object, created } = await store.update(
            ctx,
            info.name,
            (cur) => store.decode(applyConfiguration(rt, cur, config, { manager: ctx.fieldManager ?? '', apiVersion: apiVersionOf(rt), subresource: sub, force })),
            { forceAllowCreate: true, applied: true },
          );
          return sendObject(reply, form, rt, object, created ? 201 : 200, query);
        }
        if (sub === 'scale') {
          const scaled = await updateScale(store, ctx, info.name, (cur) => applyPatch(cur as unknown as KubeObject, patch, type, undefined) as KubeObject);
          return sendObject(reply, form, rt, scaled);
        }
        if (sub && !objectSubresources.has(sub)) throw newMethodNotSupported(store.gr, 'patch');
        const { object, created } = await store.update(ctx, info.name, (cur) => {
          if (!cur) throw newNotFound(store.gr, info.name);
          const patched = applyPatch(cur, patch, type, rt);
          checkUnknownFields(patched, rt, query, ctx);
          return store.decode(patched);
        });
        return sendObject(reply, form, rt, object, created ? 201 : 200, query);
      }
      case 'delete': {
        if (sub) throw newMethodNotSupported(store.gr, 'delete');
        if (!rt.verbs.includes('delete')) throw newMethodNotSupported(store.gr, 'delete');
        const opts = deleteOptionsOf(req, query);
        const res = await store.delete(ctx, info.name, opts);
        return sendObject(reply, form, rt, res.object, res.deleted ? 200 : 202, query);
      }
      case 'deletecollection': {
        if (!rt.verbs.includes('deletecollection')) throw newMethodNotSupported(store.gr, 'deletecollection');
        const opts = deleteOptionsOf(req, query);
        const items = await store.deleteCollection(ctx, listParams(query), opts);
        return reply
          .code(200)
          .type('application/json')
          .send(`{"kind":"${rt.listKind}","apiVersion":"${apiVersionOf(rt)}","metadata":{},"items":[${items.map((o) => JSON.stringify(o)).join(',')}]}`);
      }
      default:
        throw newMethodNotSupported(store.gr, req.method.toLowerCase());
    }
  }

  async function serveWatch(req: FastifyRequest, reply: FastifyReply, info: RequestInfo, query: URLSearchParams, store: Store, user: UserInfo) {
    const rt = store.rt;
    if (!rt.verbs.includes('watch')) throw newMethodNotSupported(store.gr, 'watch');
    const ctx = contextOf(info, query, user, store);
    const form = chooseResponse(req.headers.accept);
    const params = listParams(query);
    if (info.name) {
      // Watching one object: a field selector on its name.
      const sel = params.fieldSelector ? `${params.fieldSelector.toString()},metadata.name=${info.name}` : `metadata.name=${info.name}`;
      params.fieldSelector = parseFieldSelector(sel);
    }
    const timeoutParam = intParam(query, 'timeoutSeconds');
    const timeoutMs = (timeoutParam ?? Math.round(minTimeout * (1 + Math.random()))) * 1000;
    const bookmarks = query.get('allowWatchBookmarks') === 'true';
    const sendInitial = query.get('sendInitialEvents') === 'true';
    // Validate selectors and resourceVersion before the 200 goes out.
    store.predicate(ctx.namespace, params);
    let encode: ((e: FilteredEvent) => string) | undefined;
    if (form.kind === 'table') {
      const include = (query.get('includeObject') as 'None' | 'Metadata' | 'Object' | null) ?? 'Metadata';
      encode = (e) => {
        const t = toTable(rt, [e.object.object], { includeObject: include, listMeta: { resourceVersion: String(e.revision) } });
        return `{"type":"${e.type}","object":${JSON.stringify(form.version === 'v1' ? t : { ...t, apiVersion: 'meta.k8s.io/v1beta1' })}}\n`;
      };
    } else if (form.kind === 'metadata') {
      encode = (e) => `{"type":"${e.type}","object":${JSON.stringify({ kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${form.version}`, metadata: e.object.object.metadata })}}\n`;
    }
    reply.hijack();
    const labels = { group: rt.group, resource: rt.resource };
    m.watchers.inc(labels);
    log.debug({ resource: rt.resource, namespace: ctx.namespace, rv: params.resourceVersion }, 'watch started');
    let handle: { stop(): void } | undefined;
    const stream = new WatchStream({
      rt,
      res: reply.raw,
      encode,
      bookmarks,
      bookmarkIntervalMs: bookmarkInterval,
      timeoutMs,
      onClose: () => {
        handle?.stop();
        m.watchers.dec(labels);
        m.requests.inc({ verb: 'WATCH', group: rt.group, resource: rt.resource, subresource: '', code: '200' });
      },
    });
    try {
      let rv = params.resourceVersion;
      if (sendInitial && (rv === undefined || rv === '')) rv = '0';
      handle = await store.watch(ctx, { ...params, resourceVersion: rv }, stream);
      if (sendInitial) {
        const at = store.cache?.rv ?? 0;
        stream.setInitialRV(at);
        stream.bookmark({ 'k8s.io/initial-events-end': 'true' });
      }
    } catch (err) {
      const se = toStatusError(err);
      stream.error(se.status as Status);
    }
  }

  return app;
}
