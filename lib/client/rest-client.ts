/**
 * RESTClient: the real client of an API server. `resource(descriptor, namespace?)` hands out
 * typed resource clients; `request`/`stream` reach anything else (pods/log, discovery, healthz).
 *
 * The client trusts what the API server sends: objects are JSON-decoded, not re-validated
 * (the server checked them against the same lib/api schemas when they were written).
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { Clock } from '../base/index.js';
import type { KubeList, KubeObject } from '../api/index.js';
import type { Status } from '../machinery/index.js';
import {
  patchContentTypes,
  selectorString,
  type DeleteOptions,
  type GetOptions,
  type KubeClient,
  type ListAllOptions,
  type ListOptions,
  type PatchOptions,
  type PatchType,
  type RequestOptions,
  type ResourceClient,
  type WatchOptions,
  type WatchStream,
  type WriteOptions,
} from './interface.js';
import type { ClientConfig } from './kubeconfig.js';
import { listAllPages } from './pager.js';
import { apiVersionOfDescriptor, groupResourceName, type ResourceDescriptor } from './resources.js';
import { Transport, defaultUserAgent, type HTTPMethod, type HTTPRequest, type HTTPResponse } from './transport.js';
import { watchStreamFrom } from './watch.js';

export interface RESTClientOptions {
  config: ClientConfig;
  /** Component name for the user agent (`scheduler` → `tkube-scheduler/<version>`). */
  component?: string;
  version?: string;
  /** Overrides the whole user agent. */
  userAgent?: string;
  /** Client-side rate limit: requests per second and burst. Defaults 5 and 10, as client-go. qps <= 0 disables. */
  qps?: number;
  burst?: number;
  /** Timeout of a non-streaming request (default 60s, the API server's own --request-timeout). */
  timeoutMs?: number;
  /** Retries of 429 / Retry-After answers (default 10, as client-go). */
  maxRetries?: number;
  /** Retries after connection failures (default 3); see transport.ts for which requests qualify. */
  connectionRetries?: number;
  log?: Logger;
  clock?: Clock;
  /** Gives the bearer token of each request instead of the config's credentials (see withToken). */
  tokenSource?: () => string | undefined;
}

export const defaultQPS = 5;
export const defaultBurst = 10;
/** client-go picks a watch timeout between 5 and 10 minutes so watches do not all end together. */
export const minWatchTimeoutSeconds = 300;

/** A raw request; `path` is absolute (`/api/v1/namespaces/default/pods/web/log`). */
export interface RawRequest extends RequestOptions {
  method?: HTTPMethod;
  path: string;
  query?: Record<string, string | number | boolean | undefined> | URLSearchParams;
  body?: unknown;
  contentType?: string;
  accept?: string;
  headers?: Record<string, string>;
}

function toQuery(q: RawRequest['query']): URLSearchParams | undefined {
  if (q === undefined || q instanceof URLSearchParams) return q;
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) out.set(k, String(v));
  return out;
}

export class RESTClient implements KubeClient {
  readonly config: ClientConfig;
  /** The namespace of the kubeconfig context (or service account). */
  readonly defaultNamespace: string;
  readonly transport: Transport;
  private readonly userAgent: string;

  constructor(
    private readonly o: RESTClientOptions,
    shareConnectionsOf?: Transport,
  ) {
    this.config = o.config;
    this.userAgent = o.userAgent ?? defaultUserAgent(o.component ?? 'client', o.version ?? '0.1.0');
    this.defaultNamespace = o.config.namespace;
    this.transport = new Transport({
      config: o.config,
      userAgent: this.userAgent,
      timeoutMs: o.timeoutMs ?? 60_000,
      qps: o.qps ?? defaultQPS,
      burst: o.burst ?? defaultBurst,
      maxRetries: o.maxRetries ?? 10,
      connectionRetries: o.connectionRetries ?? 3,
      log: o.log,
      clock: o.clock,
      shareConnectionsOf,
      tokenSource: o.tokenSource,
    });
  }

  /**
   * A client for one part of a program (a controller, the event sink, leader election): the same
   * server, credentials, limits and connection pool, but a rate limiter of its own and `name`
   * appended to the user agent, as client-go's ClientBuilder gives each controller of
   * kube-controller-manager. So a busy part cannot hold up the others, or the Lease renewals
   * that keep the program leading. Closing the parent closes it too.
   */
  forPart(name: string): RESTClient {
    return new RESTClient({ ...this.o, userAgent: `${this.userAgent}/${name}` }, this.transport);
  }

  /**
   * A client for the part `name` that authenticates only with the bearer token `token()` gives
   * (renewed by its owner), not with this client's certificate, token or password: client-go's
   * anonymous config plus a token, which --use-service-account-credentials gives each controller.
   * Its connections carry no client certificate (the API server would take the certificate's
   * user first), so it shares them only with `shareConnectionsOf`, another such client.
   */
  withToken(name: string, token: () => string | undefined, shareConnectionsOf?: RESTClient): RESTClient {
    const { certData: _cert, keyData: _key, token: _token, tokenFile: _file, username: _user, password: _password, ...config } = this.o.config;
    return new RESTClient({ ...this.o, config, tokenSource: token, userAgent: `${this.userAgent}/${name}` }, shareConnectionsOf?.transport);
  }

  resource<T extends KubeObject>(d: ResourceDescriptor<T>, namespace?: string): ResourceClient<T> {
    return new RESTResourceClient<T>(this.transport, d, namespace);
  }

  /** Sends a request and returns the decoded JSON answer (or the text, if not JSON). */
  async request<R = unknown>(req: RawRequest): Promise<R> {
    const res = await this.requestRaw(req);
    return decodeBody(res) as R;
  }

  async requestRaw(req: RawRequest): Promise<HTTPResponse> {
    return this.transport.send(this.httpRequest(req));
  }

  /** Opens a streamed response (pods/log with follow, for instance). The caller must consume or destroy it. */
  async stream(req: RawRequest): Promise<IncomingMessage> {
    // The timeout bounds the wait for the response headers only; the body may flow for as long as it likes.
    return this.transport.stream(this.httpRequest(req));
  }

  private httpRequest(req: RawRequest): HTTPRequest {
    return {
      method: req.method ?? 'GET',
      path: req.path,
      query: toQuery(req.query),
      body: req.body,
      contentType: req.contentType,
      accept: req.accept,
      headers: req.headers,
      timeoutMs: req.timeoutMs,
      signal: req.signal,
    };
  }

  /** Closes pooled connections (and cuts open watches). */
  close(): void {
    this.transport.close();
  }
}

function decodeBody(res: HTTPResponse): unknown {
  const text = res.body.toString('utf8');
  const type = String(res.headers['content-type'] ?? '');
  if (type.includes('json') || /^\s*[{[]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      /* fall through: return the text */
    }
  }
  return text;
}

function setSelectors(q: URLSearchParams, o: { labelSelector?: unknown; fieldSelector?: unknown }) {
  const ls = selectorString(o.labelSelector as never);
  const fs = selectorString(o.fieldSelector as never);
  if (ls) q.set('labelSelector', ls);
  if (fs) q.set('fieldSelector', fs);
}

function writeQuery(o: WriteOptions | undefined, q = new URLSearchParams()): URLSearchParams {
  if (o?.dryRun) q.set('dryRun', 'All');
  if (o?.fieldManager) q.set('fieldManager', o.fieldManager);
  if (o?.fieldValidation) q.set('fieldValidation', o.fieldValidation);
  return q;
}

function deleteBody(o: DeleteOptions | undefined): Record<string, unknown> | undefined {
  if (!o) return undefined;
  const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
  if (o.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = o.gracePeriodSeconds;
  if (o.preconditions) body.preconditions = o.preconditions;
  if (o.propagationPolicy) body.propagationPolicy = o.propagationPolicy;
  if (o.orphanDependents !== undefined) body.orphanDependents = o.orphanDependents;
  if (o.dryRun) body.dryRun = ['All'];
  return Object.keys(body).length > 2 ? body : undefined;
}

class RESTResourceClient<T extends KubeObject> implements ResourceClient<T> {
  constructor(
    private readonly t: Transport,
    readonly descriptor: ResourceDescriptor<T>,
    readonly namespace: string | undefined,
  ) {
    if (!descriptor.namespaced) this.namespace = undefined;
  }

  inNamespace(namespace: string | undefined): ResourceClient<T> {
    return new RESTResourceClient(this.t, this.descriptor, namespace);
  }

  private get what(): string {
    return groupResourceName(this.descriptor);
  }

  /** `/api/v1[/namespaces/ns]/pods[/name[/sub]]` */
  private path(namespace: string | undefined, name?: string, subresource?: string): string {
    const d = this.descriptor;
    let p = d.group ? `/apis/${d.group}/${d.version}` : `/api/${d.version}`;
    if (d.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
    p += `/${d.resource}`;
    if (name !== undefined) {
      if (name === '') throw new Error(`${this.what}: a name is required`);
      p += `/${encodeURIComponent(name)}`;
      if (subresource) p += `/${subresource}`;
    }
    return p;
  }

  /** The namespace for a request about one object. */
  private nsFor(obj?: KubeObject): string | undefined {
    if (!this.descriptor.namespaced) return undefined;
    const ns = this.namespace ?? obj?.metadata?.namespace;
    if (!ns) throw new Error(`${this.what} is namespaced: scope the client with inNamespace(ns)${obj ? ' or set metadata.namespace' : ''}`);
    return ns;
  }

  private nameOf(obj: KubeObject): string {
    const name = obj.metadata?.name;
    if (!name) throw new Error(`${this.what}: metadata.name is required`);
    return name;
  }

  private async send<R>(method: HTTPMethod, path: string, o: { query?: URLSearchParams; body?: unknown; contentType?: string } & RequestOptions = {}): Promise<R> {
    const res = await this.t.send({ method, path, query: o.query, body: o.body, contentType: o.contentType, signal: o.signal, timeoutMs: o.timeoutMs });
    return decodeBody(res) as R;
  }

  async get(name: string, opts: GetOptions = {}): Promise<T> {
    const q = new URLSearchParams();
    if (opts.resourceVersion !== undefined) q.set('resourceVersion', opts.resourceVersion);
    return this.send('GET', this.path(this.nsFor(), name), { ...opts, query: q });
  }

  async list(opts: ListOptions = {}): Promise<KubeList<T>> {
    const q = new URLSearchParams();
    setSelectors(q, opts);
    if (opts.limit) q.set('limit', String(opts.limit));
    if (opts.continue) q.set('continue', opts.continue);
    if (opts.resourceVersion !== undefined) q.set('resourceVersion', opts.resourceVersion);
    if (opts.resourceVersionMatch) q.set('resourceVersionMatch', opts.resourceVersionMatch);
    return this.send('GET', this.path(this.namespace), { ...opts, query: q });
  }

  async listAll(opts: ListAllOptions = {}): Promise<KubeList<T>> {
    return listAllPages((o) => this.list(o), opts);
  }

  private withTypeMeta(obj: T): T {
    const d = this.descriptor;
    return { ...obj, apiVersion: obj.apiVersion ?? apiVersionOfDescriptor(d), kind: obj.kind ?? d.kind };
  }

  async create(obj: T, opts?: WriteOptions): Promise<T> {
    return this.send('POST', this.path(this.nsFor(obj)), { ...opts, query: writeQuery(opts), body: this.withTypeMeta(obj) });
  }

  async update(obj: T, opts?: WriteOptions): Promise<T> {
    return this.send('PUT', this.path(this.nsFor(obj), this.nameOf(obj)), { ...opts, query: writeQuery(opts), body: this.withTypeMeta(obj) });
  }

  async updateStatus(obj: T, opts?: WriteOptions): Promise<T> {
    return this.send('PUT', this.path(this.nsFor(obj), this.nameOf(obj), 'status'), { ...opts, query: writeQuery(opts), body: this.withTypeMeta(obj) });
  }

  async patch(name: string, type: PatchType, patch: unknown, opts: PatchOptions = {}): Promise<T> {
    if (type === 'apply' && !opts.fieldManager) throw new Error(`${this.what}: server-side apply needs a fieldManager`);
    const q = writeQuery(opts);
    if (opts.force !== undefined) q.set('force', String(opts.force));
    return this.send('PATCH', this.path(this.nsFor(), name, opts.subresource), { ...opts, query: q, body: patch, contentType: patchContentTypes[type] });
  }

  async apply(obj: T, opts: PatchOptions & { fieldManager: string }): Promise<T> {
    const ns = this.nsFor(obj);
    const q = writeQuery(opts);
    if (opts.force !== undefined) q.set('force', String(opts.force));
    // JSON is YAML: the body goes as JSON text under the apply content type.
    return this.send('PATCH', this.path(ns, this.nameOf(obj), opts.subresource), { ...opts, query: q, body: this.withTypeMeta(obj), contentType: patchContentTypes.apply });
  }

  async delete(name: string, opts?: DeleteOptions): Promise<T | Status> {
    const body = deleteBody(opts);
    return this.send('DELETE', this.path(this.nsFor(), name), { ...opts, body });
  }

  async deleteCollection(opts: ListOptions = {}, deleteOpts?: DeleteOptions): Promise<KubeList<T>> {
    const q = new URLSearchParams();
    setSelectors(q, opts);
    if (opts.limit) q.set('limit', String(opts.limit));
    return this.send('DELETE', this.path(this.namespace), { signal: opts.signal ?? deleteOpts?.signal, timeoutMs: opts.timeoutMs ?? deleteOpts?.timeoutMs, query: q, body: deleteBody(deleteOpts) });
  }

  async watch(opts: WatchOptions = {}): Promise<WatchStream<T>> {
    const q = new URLSearchParams({ watch: 'true' });
    setSelectors(q, opts);
    if (opts.resourceVersion !== undefined) q.set('resourceVersion', opts.resourceVersion);
    if (opts.allowWatchBookmarks) q.set('allowWatchBookmarks', 'true');
    if (opts.sendInitialEvents) q.set('sendInitialEvents', 'true');
    if (opts.timeoutSeconds !== undefined) q.set('timeoutSeconds', String(opts.timeoutSeconds));
    const path = this.path(this.namespace);
    const res = await this.t.stream({ method: 'GET', path, query: q, signal: opts.signal, timeoutMs: opts.timeoutMs });
    const stream = watchStreamFrom<T>(res, path);
    if (opts.signal?.aborted) stream.stop();
    else if (opts.signal) {
      const onAbort = () => stream.stop();
      opts.signal.addEventListener('abort', onAbort, { once: true });
      res.once('close', () => opts.signal!.removeEventListener('abort', onAbort));
    }
    return stream;
  }

  async getSubresource<R = unknown>(name: string, subresource: string, opts?: RequestOptions): Promise<R> {
    return this.send('GET', this.path(this.nsFor(), name, subresource), { ...opts });
  }

  async updateSubresource<R = T>(name: string, subresource: string, body: unknown, opts?: WriteOptions): Promise<R> {
    return this.send('PUT', this.path(this.nsFor(), name, subresource), { ...opts, query: writeQuery(opts), body });
  }

  async createSubresource<R = unknown>(name: string, subresource: string, body: unknown, opts?: WriteOptions): Promise<R> {
    return this.send('POST', this.path(this.nsFor(), name, subresource), { ...opts, query: writeQuery(opts), body });
  }
}
