/**
 * Support for the scheduler's integration tests: nodes created through the API (with the status
 * a kubelet would report), pods, a stand-in for the kubelet's part in graceful deletion, and an
 * in-process tkube-scheduler.
 */
import type { Event, Node, Pod, Taint } from '../../lib/api/index.js';
import { silentLogger, createLogger } from '../../lib/base/index.js';
import { RESTClient, Resources, loadClientConfig, type ClientConfig } from '../../lib/client/index.js';
import { SchedulerServer, type LeaderElectionOptions } from '../../lib/scheduler/index.js';
import type { TestAPIServer } from '../support/apiserver.js';

export interface NodeOptions {
  cpu?: string;
  memory?: string;
  pods?: number;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  ready?: 'True' | 'False' | 'Unknown';
  images?: { names: string[]; sizeBytes: number }[];
}

export function clientFor(s: TestAPIServer): { config: ClientConfig; client: RESTClient } {
  const config = loadClientConfig({ kubeconfig: s.kubeconfig, env: {} });
  return { config, client: new RESTClient({ config, qps: 0 }) };
}

/**
 * Creates a Node and reports its status (capacity, allocatable, Ready), as a kubelet would.
 * The API server registers every node with the node.kubernetes.io/not-ready:NoSchedule taint
 * (TaintNodesByCondition); for a Ready node this also does the node lifecycle controller's part
 * and removes it.
 */
export async function createNode(client: RESTClient, name: string, o: NodeOptions = {}): Promise<Node> {
  const nodes = client.resource(Resources.nodes);
  const registered = await nodes.create({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...(o.labels ?? {}) } },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
  });
  const ready = o.ready ?? 'True';
  const wanted = (o.taints ?? []).some((t) => t.key === 'node.kubernetes.io/not-ready');
  const created =
    ready === 'True' && !wanted ? await nodes.update({ ...registered, spec: { ...registered.spec, taints: (registered.spec?.taints ?? []).filter((t) => t.key !== 'node.kubernetes.io/not-ready') } }) : registered;
  const resources = { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: String(o.pods ?? 110) };
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return nodes.updateStatus({
    ...created,
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [{ type: 'Ready', status: ready, reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }],
      ...(o.images ? { images: o.images } : {}),
    },
  });
}

export interface PodOptions {
  namespace?: string;
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
  spec?: Partial<NonNullable<Pod['spec']>>;
  image?: string;
  hostPort?: number;
}

export function podObject(name: string, o: PodOptions = {}): Pod {
  const requests: Record<string, string> = {};
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: o.namespace ?? 'default', ...(o.labels ? { labels: o.labels } : {}) },
    spec: {
      containers: [
        {
          name: 'app',
          image: o.image ?? 'busybox:1.36',
          ...(Object.keys(requests).length ? { resources: { requests } } : {}),
          ...(o.hostPort ? { ports: [{ containerPort: o.hostPort, hostPort: o.hostPort }] } : {}),
        },
      ],
      terminationGracePeriodSeconds: 30,
      ...(o.spec ?? {}),
    },
  };
}

export function createPod(client: RESTClient, name: string, o: PodOptions = {}): Promise<Pod> {
  return client.resource(Resources.pods, o.namespace ?? 'default').create(podObject(name, o));
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function nodeOf(client: RESTClient, name: string, namespace = 'default', timeoutMs?: number): Promise<string> {
  return until(`pod ${namespace}/${name} to be bound`, async () => (await client.resource(Resources.pods, namespace).get(name)).spec?.nodeName, timeoutMs);
}

export async function eventsFor(client: RESTClient, name: string, reason: string, namespace = 'default'): Promise<Event[]> {
  const list = await client.resource(Resources.events, namespace).list({ fieldSelector: `involvedObject.name=${name},reason=${reason}` });
  return list.items;
}

/**
 * Does the kubelet's part of a graceful deletion: a pod being deleted (deletionTimestamp set)
 * is removed for good, as a kubelet does once its containers have stopped.
 */
export function finishTerminatingPods(client: RESTClient, signal: AbortSignal): Promise<void> {
  const pods = client.resource(Resources.pods);
  return (async () => {
    while (!signal.aborted) {
      try {
        const list = await pods.list();
        for (const p of list.items) {
          if (p.metadata.deletionTimestamp) await pods.inNamespace(p.metadata.namespace).delete(p.metadata.name!, { gracePeriodSeconds: 0 }).catch(() => undefined);
        }
      } catch {
        /* the API server may be stopping */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
}

export interface RunningScheduler {
  server: SchedulerServer;
  port: number;
  stop(): Promise<void>;
  /** Resolves when start() ends (e.g. after losing the lease). */
  done: Promise<void>;
}

/** Runs a SchedulerServer in this process, waiting until its caches have synced. */
export async function startScheduler(config: ClientConfig, o: { leaderElection?: LeaderElectionOptions; schedulerName?: string; identity?: string } = {}): Promise<RunningScheduler> {
  const log = process.env.TKUBE_TEST_LOG ? createLogger({ component: 'test-scheduler', level: 'debug' }) : silentLogger();
  let port = 0;
  const server = new SchedulerServer({
    clientConfig: config,
    qps: 0,
    burst: 0,
    schedulerName: o.schedulerName,
    leaderElection: o.leaderElection,
    healthBindAddress: '127.0.0.1',
    healthPort: 0,
    podInitialBackoffMs: 200,
    podMaxBackoffMs: 1000,
    log,
    onListening: (p) => (port = p),
  });
  const ctl = new AbortController();
  const done = server.start(ctl.signal).catch(() => undefined);
  await until('the scheduler to be ready', async () => port > 0 && (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200);
  return {
    server,
    port,
    done,
    async stop() {
      ctl.abort();
      await done;
    },
  };
}
