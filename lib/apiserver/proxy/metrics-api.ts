/**
 * metrics.k8s.io/v1beta1, the resource metrics API `kubectl top` reads (in upstream clusters
 * metrics-server serves it behind an APIService). Here the API server answers it itself from
 * the kubelets' /stats/summary, read on demand and kept for a few seconds:
 *
 *   nodes          NodeMetrics   usage {cpu, memory} of each node
 *   pods           PodMetrics    usage of each container of each pod
 *
 * CPU is the rate over the kubelet's sampling window in nanocores, memory the working set.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { defineResource, type AnyResourceType, type KubeObject, type Node, type Pod } from '../../api/index.js';
import { newMethodNotSupported, newNotFound, parseFieldSelector, parseLabelSelector } from '../../machinery/index.js';
import { newContext, type Registry, type UserInfo } from '../../registry/index.js';
import type { RequestInfo } from '../request-info.js';
import type { APIGroupHandler } from '../server.js';
import type { KubeletClient } from './kubelet-client.js';
import { rfc3339 } from '../../base/index.js';

/** A metav1.Time as metrics-server writes it: RFC 3339 to the second (the kubelet's summary has nanoseconds). */
function secondsOf(t: string | undefined): string {
  const ms = t ? Date.parse(t) : NaN;
  return rfc3339(Number.isNaN(ms) ? Date.now() : ms);
}

export const metricsGroup = 'metrics.k8s.io';
export const metricsVersion = 'v1beta1';

const anyObject = z.object({}).passthrough() as unknown as z.ZodType<KubeObject>;

export const nodeMetricsResource: AnyResourceType = defineResource({
  group: metricsGroup,
  version: metricsVersion,
  kind: 'NodeMetrics',
  resource: 'nodes',
  singularName: '',
  namespaced: false,
  verbs: ['get', 'list'],
  schema: anyObject,
});

export const podMetricsResource: AnyResourceType = defineResource({
  group: metricsGroup,
  version: metricsVersion,
  kind: 'PodMetrics',
  resource: 'pods',
  singularName: '',
  namespaced: true,
  verbs: ['get', 'list'],
  schema: anyObject,
});

interface Usage {
  cpu: string;
  memory: string;
}

/** The parts of a kubelet Summary this API reads. */
interface SummaryLike {
  node?: { cpu?: { time?: string; usageNanoCores?: number }; memory?: { workingSetBytes?: number } };
  pods?: Array<{
    podRef: { name: string; namespace: string };
    containers?: Array<{ name: string; cpu?: { time?: string; usageNanoCores?: number }; memory?: { workingSetBytes?: number } }>;
  }>;
}

/** CPU as metrics-server writes it (nanocores), memory in KiB. */
export function usageOf(nanoCores: number | undefined, workingSetBytes: number | undefined): Usage {
  return { cpu: `${Math.max(0, Math.round(nanoCores ?? 0))}n`, memory: `${Math.round((workingSetBytes ?? 0) / 1024)}Ki` };
}

export interface MetricsAPIDeps {
  registry: Registry;
  kubelets: KubeletClient;
  log: Logger;
  /** How long a node's summary is reused (default 5s). */
  cacheMs?: number;
  /** The window reported with each measurement (the kubelet's sampling interval). */
  window?: string;
}

function queryOf(req: FastifyRequest): URLSearchParams {
  const i = req.url.indexOf('?');
  return new URLSearchParams(i >= 0 ? req.url.slice(i + 1) : '');
}

export function metricsAPI(deps: MetricsAPIDeps): APIGroupHandler {
  const cacheMs = deps.cacheMs ?? 5000;
  const window = deps.window ?? '10s';
  const cache = new Map<string, { at: number; summary: Promise<SummaryLike | undefined> }>();

  async function summaryOf(node: Node): Promise<SummaryLike | undefined> {
    const name = node.metadata.name!;
    const hit = cache.get(name);
    if (hit && Date.now() - hit.at < cacheMs) return hit.summary;
    const summary = (async () => {
      try {
        const loc = deps.kubelets.locate(node);
        return (await deps.kubelets.getJSON(loc, '/stats/summary?only_cpu_and_memory=true', AbortSignal.timeout(10_000))) as SummaryLike;
      } catch (err) {
        deps.log.debug({ err, node: name }, 'no stats from the kubelet');
        return undefined;
      }
    })();
    cache.set(name, { at: Date.now(), summary });
    return summary;
  }

  async function nodes(): Promise<Node[]> {
    const store = deps.registry.get('', 'nodes');
    if (!store) return [];
    return (await store.list(newContext({ namespace: '' }), {})).items.map((c) => c.object as Node);
  }

  async function serveNodes(info: RequestInfo, q: URLSearchParams) {
    const labels = q.get('labelSelector') ? parseLabelSelector(q.get('labelSelector')!) : undefined;
    const all = (await nodes()).filter((n) => !info.name || n.metadata.name === info.name).filter((n) => !labels || labels.matches(n.metadata.labels ?? {}));
    const items = [];
    for (const [n, s] of await Promise.all(all.map(async (n) => [n, await summaryOf(n)] as const))) {
      if (!s?.node) continue;
      items.push({
        metadata: { name: n.metadata.name, creationTimestamp: rfc3339(), labels: n.metadata.labels ?? {} },
        timestamp: secondsOf(s.node.cpu?.time),
        window,
        usage: usageOf(s.node.cpu?.usageNanoCores, s.node.memory?.workingSetBytes),
      });
    }
    return items.map((i) => ({ kind: 'NodeMetrics', apiVersion: `${metricsGroup}/${metricsVersion}`, ...i }));
  }

  async function servePods(info: RequestInfo, q: URLSearchParams) {
    const store = deps.registry.get('', 'pods');
    if (!store) return [];
    const labels = q.get('labelSelector') ? parseLabelSelector(q.get('labelSelector')!) : undefined;
    const fields = q.get('fieldSelector') ? parseFieldSelector(q.get('fieldSelector')!) : undefined;
    const pods = (await store.list(newContext({ namespace: info.namespace }), { labelSelector: labels })).items
      .map((c) => c.object as Pod)
      .filter((p) => !info.name || p.metadata.name === info.name)
      .filter((p) => !fields || fields.matches({ 'metadata.name': p.metadata.name ?? '', 'metadata.namespace': p.metadata.namespace ?? '' }))
      .filter((p) => p.spec?.nodeName);
    const byNode = new Map<string, Node>((await nodes()).map((n) => [n.metadata.name!, n]));
    const summaries = new Map<string, SummaryLike | undefined>();
    for (const nodeName of new Set(pods.map((p) => p.spec!.nodeName!))) {
      const node = byNode.get(nodeName);
      summaries.set(nodeName, node ? await summaryOf(node) : undefined);
    }
    const items = [];
    for (const p of pods) {
      const entry = summaries.get(p.spec!.nodeName!)?.pods?.find((s) => s.podRef.name === p.metadata.name && s.podRef.namespace === p.metadata.namespace);
      if (!entry || !entry.containers?.length) continue;
      items.push({
        kind: 'PodMetrics',
        apiVersion: `${metricsGroup}/${metricsVersion}`,
        metadata: { name: p.metadata.name, namespace: p.metadata.namespace, creationTimestamp: rfc3339(), labels: p.metadata.labels ?? {} },
        timestamp: secondsOf(entry.containers[0]!.cpu?.time),
        window,
        containers: entry.containers.map((c) => ({ name: c.name, usage: usageOf(c.cpu?.usageNanoCores, c.memory?.workingSetBytes) })),
      });
    }
    return items;
  }

  return {
    resourceTypes: [nodeMetricsResource, podMetricsResource],
    async serve(req: FastifyRequest, reply: FastifyReply, info: RequestInfo, _user: UserInfo) {
      const q = queryOf(req);
      const kind = info.resource === 'nodes' ? 'NodeMetrics' : info.resource === 'pods' ? 'PodMetrics' : undefined;
      const gr = { group: metricsGroup, resource: info.resource === 'nodes' ? 'nodemetrics' : 'podmetrics' };
      if (!kind || info.subresource) throw newNotFound({ group: metricsGroup, resource: info.resource }, info.name);
      if (info.verb !== 'get' && info.verb !== 'list') throw newMethodNotSupported(gr, info.verb);
      const items = kind === 'NodeMetrics' ? await serveNodes(info, q) : await servePods(info, q);
      const json = (v: unknown) => reply.code(200).header('content-type', 'application/json').send(JSON.stringify(v));
      if (info.verb === 'get') {
        if (!items[0]) throw newNotFound(gr, info.name);
        return json(items[0]);
      }
      return json({ kind: `${kind}List`, apiVersion: `${metricsGroup}/${metricsVersion}`, metadata: {}, items });
    },
  };
}
