/**
 * The API server's streaming subresources, proxied to the kubelet of the pod's node:
 *
 *   GET              pods/{name}/log           → /containerLogs/{ns}/{name}/{container}   (streamed)
 *   GET|POST upgrade pods/{name}/exec          → /exec/{ns}/{name}/{container}
 *   GET|POST upgrade pods/{name}/attach        → /attach/{ns}/{name}/{container}
 *   GET|POST upgrade pods/{name}/portforward   → /portForward/{ns}/{name}
 *   any              nodes/{name}/proxy/{path} → /{path}
 *
 * The API server checks what it knows (the pod, its container, its node) and answers in
 * Status; what only the node knows (is the container running yet?) comes from the kubelet.
 * Upgrades are relayed byte for byte on a backend connection opened for that request alone
 * and closed with it; a refused upgrade closes the client's connection too (CVE-2018-1002105).
 */
import type { Duplex } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Container, Node, Pod } from '../../api/index.js';
import { fieldPath, newBadRequest, newInvalid, newMethodNotSupported, statusErrorFromBody, type FieldError } from '../../machinery/index.js';
import { newContext, type Registry, type RequestContext } from '../../registry/index.js';
import { isUpgradeRequest } from '../../streaming/index.js';
import type { RequestInfo } from '../request-info.js';
import type { SubresourceHandler } from '../server.js';
import { forwardedHeaders, readBody, relayedHeaders, type KubeletClient, type KubeletLocation } from './kubelet-client.js';

export interface KubeletProxyDeps {
  registry: Registry;
  kubelets: KubeletClient;
  log: Logger;
}

function queryOf(req: FastifyRequest): URLSearchParams {
  const i = req.url.indexOf('?');
  return new URLSearchParams(i >= 0 ? req.url.slice(i + 1) : '');
}

const isTrue = (q: URLSearchParams, name: string) => q.get(name) === 'true' || q.get(name) === '1';

function containerNames(list: Container[] | undefined): string {
  return (list ?? []).map((c) => c.name).join(' ');
}

/**
 * The container a request means, as upstream: the one named (it must exist), else the pod's
 * only container; a pod with several needs a name.
 */
export function chooseContainer(pod: Pod, requested: string | null): string {
  const name = pod.metadata.name ?? '';
  const spec = pod.spec;
  const all = [...(spec?.containers ?? []), ...(spec?.initContainers ?? []), ...(spec?.ephemeralContainers ?? [])];
  if (requested) {
    if (!all.some((c) => c.name === requested)) throw newBadRequest(`container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  const containers = spec?.containers ?? [];
  if (containers.length === 1) return containers[0]!.name;
  if (containers.length === 0) throw newBadRequest(`a container name must be specified for pod ${name}`);
  let msg = `a container name must be specified for pod ${name}, choose one of: [${containerNames(containers)}]`;
  if ((spec?.initContainers ?? []).length > 0) msg += ` or one of the init containers: [${containerNames(spec?.initContainers)}]`;
  throw newBadRequest(msg);
}

/** PodLogOptions from the query, checked as upstream's ValidatePodLogOptions (422 PodLogOptions). */
export function kubeletLogQuery(q: URLSearchParams, podName: string): URLSearchParams {
  const errs: FieldError[] = [];
  const int = (name: string): number | undefined => {
    const v = q.get(name);
    if (v === null || v === '') return undefined;
    if (!/^-?\d+$/.test(v)) throw newBadRequest(`invalid value for ${name}: ${JSON.stringify(v)} is not an integer`);
    return Number(v);
  };
  const tail = int('tailLines');
  const limit = int('limitBytes');
  const sinceSeconds = int('sinceSeconds');
  const sinceTime = q.get('sinceTime') || undefined;
  if (tail !== undefined && tail < 0) errs.push(fieldPath('tailLines').invalid(tail, 'must be greater than or equal to 0'));
  if (limit !== undefined && limit < 1) errs.push(fieldPath('limitBytes').invalid(limit, 'must be greater than 0'));
  if (sinceSeconds !== undefined && sinceTime !== undefined) errs.push(fieldPath('').forbidden('at most one of `sinceTime` or `sinceSeconds` may be specified'));
  else if (sinceSeconds !== undefined && sinceSeconds < 1) errs.push(fieldPath('sinceSeconds').invalid(sinceSeconds, 'must be greater than 0'));
  if (sinceTime !== undefined && Number.isNaN(new Date(sinceTime).getTime())) throw newBadRequest(`sinceTime: ${JSON.stringify(sinceTime)} is not an RFC 3339 time`);
  if (errs.length > 0) throw newInvalid('', 'PodLogOptions', podName, errs);
  const out = new URLSearchParams();
  for (const f of ['follow', 'previous', 'timestamps']) if (isTrue(q, f)) out.set(f, 'true');
  if (tail !== undefined) out.set('tailLines', String(tail));
  if (limit !== undefined) out.set('limitBytes', String(limit));
  if (sinceSeconds !== undefined) out.set('sinceSeconds', String(sinceSeconds));
  if (sinceTime !== undefined) out.set('sinceTime', sinceTime);
  return out;
}

/** The kubelet's exec/attach query: command=..., and input/output/error/tty set to 1. */
export function kubeletStreamQuery(q: URLSearchParams, exec: boolean): URLSearchParams {
  const out = new URLSearchParams();
  const stdin = isTrue(q, 'stdin');
  const stdout = isTrue(q, 'stdout');
  const stderr = isTrue(q, 'stderr');
  const tty = isTrue(q, 'tty');
  if (!stdin && !stdout && !stderr) throw newBadRequest('you must specify at least 1 of stdin, stdout, stderr');
  if (exec) {
    const command = q.getAll('command');
    if (command.length === 0) throw newBadRequest('you must specify at least one command for the container');
    for (const c of command) out.append('command', c);
  }
  if (stdin) out.set('input', '1');
  if (stdout) out.set('output', '1');
  if (stderr) out.set('error', '1');
  if (tty) out.set('tty', '1');
  return out;
}

function isStatusJSON(text: string): boolean {
  try {
    return (JSON.parse(text) as { kind?: unknown }).kind === 'Status';
  } catch {
    return false;
  }
}

/** Relays an upgraded connection: 101 to the client, then bytes both ways until either side closes. */
function splice(client: Duplex, backend: Duplex, head: Buffer, statusLine: string, rawHeaders: string[]): void {
  const lines = [statusLine];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) lines.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
  client.write(lines.join('\r\n') + '\r\n\r\n');
  if (head.length > 0) client.write(head);
  backend.on('error', () => undefined);
  client.on('error', () => undefined);
  backend.pipe(client);
  client.pipe(backend);
  // One backend connection per upgraded request, gone with it.
  const close = () => {
    client.destroy();
    backend.destroy();
  };
  client.once('close', close);
  backend.once('close', close);
}

export function kubeletProxyHandlers(deps: KubeletProxyDeps): Record<string, SubresourceHandler> {
  const { registry, kubelets, log } = deps;

  async function nodeOf(name: string): Promise<Node> {
    const nodes = registry.get('', 'nodes');
    if (!nodes) throw new Error('nodes are not served');
    return (await nodes.get(newContext({ namespace: '' }), name)) as Node;
  }

  /** Where the pod's kubelet is; undefined for a pod not bound to a node yet. */
  async function kubeletOf(pod: Pod): Promise<KubeletLocation | undefined> {
    const nodeName = pod.spec?.nodeName;
    return nodeName ? kubelets.locate(await nodeOf(nodeName)) : undefined;
  }

  /** Proxies an upgrade (exec, attach, port-forward, node proxy) to `path` on the kubelet. */
  async function proxyUpgrade(req: FastifyRequest, reply: FastifyReply, loc: KubeletLocation, path: string): Promise<unknown> {
    if (!isUpgradeRequest(req.raw)) throw newBadRequest('Upgrade request required');
    const outcome = await kubelets.upgrade(loc, path, req.method, forwardedHeaders(req.headers, true));
    if (outcome.kind === 'refused') {
      // The kubelet answers in plain text; clients read a refused upgrade as a Status (a text
      // such as "... is waiting to start: ContainerCreating" would even parse as YAML and lose
      // its message). The client's connection closes after this answer.
      const code = outcome.response.statusCode ?? 502;
      const text = outcome.body.toString();
      log.debug({ node: loc.nodeName, path, code }, 'kubelet refused the upgrade');
      if (isStatusJSON(text)) return reply.code(code).header('content-type', 'application/json').send(text);
      throw statusErrorFromBody(text.trim() || `the kubelet of node "${loc.nodeName}" refused the upgrade with HTTP ${code}`, code);
    }
    reply.hijack();
    const client = req.raw.socket as Duplex;
    const r = outcome.response;
    splice(client, outcome.socket, outcome.head, `HTTP/1.1 101 ${r.statusMessage || 'Switching Protocols'}`, r.rawHeaders);
    log.debug({ node: loc.nodeName, path }, 'upgraded connection relayed');
    return reply;
  }

  const log_: SubresourceHandler = async (req, reply, info, ctx, store) => {
    if (info.verb !== 'get') throw newMethodNotSupported(store.gr, info.verb);
    const q = queryOf(req);
    const pod = (await store.get(ctx, info.name)) as Pod;
    const container = chooseContainer(pod, q.get('container'));
    const kq = kubeletLogQuery(q, info.name);
    const loc = await kubeletOf(pod);
    // Not on a node yet: no logs (upstream answers an empty stream).
    if (!loc) return reply.code(200).type('text/plain').send('');
    const path = `/containerLogs/${encodeURIComponent(ctx.namespace)}/${encodeURIComponent(info.name)}/${encodeURIComponent(container)}${kq.size ? `?${kq}` : ''}`;
    const abort = new AbortController();
    reply.raw.once('close', () => abort.abort());
    const res = await kubelets.request(loc, path, { signal: abort.signal });
    if (res.statusCode !== 200) {
      const body = (await readBody(res, 64 * 1024)).toString().trim();
      throw statusErrorFromBody(body, res.statusCode ?? 500);
    }
    res.on('error', () => undefined);
    return reply.code(200).header('content-type', 'text/plain').header('cache-control', 'no-cache').send(res);
  };

  /**
   * Admission of the CONNECT, as upstream runs it before connecting: the plugins (and webhooks
   * with CONNECT rules on pods/exec, pods/attach or pods/portforward) see the options object.
   */
  async function admitConnect(ctx: RequestContext, name: string, subresource: string, options: Record<string, unknown>): Promise<void> {
    const kind = String(options.kind);
    await registry.admitConnect({ operation: 'CONNECT', group: '', version: 'v1', resource: 'pods', kind, subresource, namespace: ctx.namespace, name, object: { apiVersion: 'v1', ...options } as never, user: ctx.user, dryRun: false, warnings: ctx.warnings });
  }

  const stream =
    (kind: 'exec' | 'attach'): SubresourceHandler =>
    async (req, reply, info, ctx, store) => {
      const q = queryOf(req);
      const kq = kubeletStreamQuery(q, kind === 'exec');
      const pod = (await store.get(ctx, info.name)) as Pod;
      const container = chooseContainer(pod, q.get('container'));
      await admitConnect(ctx, info.name, kind, {
        kind: kind === 'exec' ? 'PodExecOptions' : 'PodAttachOptions',
        ...(isTrue(q, 'stdin') ? { stdin: true } : {}),
        ...(isTrue(q, 'stdout') ? { stdout: true } : {}),
        ...(isTrue(q, 'stderr') ? { stderr: true } : {}),
        ...(isTrue(q, 'tty') ? { tty: true } : {}),
        container,
        ...(kind === 'exec' ? { command: q.getAll('command') } : {}),
      });
      const loc = await kubeletOf(pod);
      if (!loc) throw newBadRequest(`pod ${info.name} does not have a host assigned`);
      const path = `/${kind}/${encodeURIComponent(ctx.namespace)}/${encodeURIComponent(info.name)}/${encodeURIComponent(container)}?${kq}`;
      return proxyUpgrade(req, reply, loc, path);
    };

  const portForward: SubresourceHandler = async (req, reply, info, ctx, store) => {
    const q = queryOf(req);
    const pod = (await store.get(ctx, info.name)) as Pod;
    const ports = q.getAll('ports').flatMap((v) => v.split(',')).filter((p) => p !== '').map(Number);
    await admitConnect(ctx, info.name, 'portforward', { kind: 'PodPortForwardOptions', ...(ports.length ? { ports } : {}) });
    const loc = await kubeletOf(pod);
    if (!loc) throw newBadRequest(`pod ${info.name} does not have a host assigned`);
    // WebSocket channel clients name their ports up front (kubelet: ?port=).
    const kq = new URLSearchParams();
    for (const p of q.getAll('ports').flatMap((v) => v.split(','))) if (p) kq.append('port', p);
    const path = `/portForward/${encodeURIComponent(ctx.namespace)}/${encodeURIComponent(info.name)}${kq.size ? `?${kq}` : ''}`;
    return proxyUpgrade(req, reply, loc, path);
  };

  /** nodes/{name}/proxy/{path}: any request, relayed to the kubelet's own API. */
  const nodeProxy: SubresourceHandler = async (req, reply, info: RequestInfo) => {
    const loc = kubelets.locate(await nodeOf(info.name));
    const rest = info.parts.map(encodeURIComponent).join('/');
    const i = req.url.indexOf('?');
    const path = `/${rest}${i >= 0 ? req.url.slice(i) : ''}`;
    if (isUpgradeRequest(req.raw)) return proxyUpgrade(req, reply, loc, path);
    const body = req.body as Buffer | undefined;
    const abort = new AbortController();
    reply.raw.once('close', () => abort.abort());
    const res = await kubelets.request(loc, path, { method: req.method, headers: forwardedHeaders(req.headers, false), body: body && body.length > 0 ? body : undefined, signal: abort.signal });
    res.on('error', () => undefined);
    return reply.code(res.statusCode ?? 502).headers(relayedHeaders(res.headers)).send(res);
  };

  return {
    '/pods/log': log_,
    '/pods/exec': stream('exec'),
    '/pods/attach': stream('attach'),
    '/pods/portforward': portForward,
    '/nodes/proxy': nodeProxy,
  };
}
