/**
 * Helpers for controller tests: a FakeClient with a running informer factory, polling until a
 * condition holds, and builders for the objects controllers read.
 */
import type { EndpointSlice, Endpoints, Namespace, Node, Pod, Service } from '../../lib/api/index.js';
import { silentLogger, createLogger, type Clock } from '../../lib/base/index.js';
import { FakeClient, SharedInformerFactory, type KubeClient } from '../../lib/client/index.js';
import type { Logger } from 'pino';
import { afterEach } from 'vitest';

export function testLogger(name: string): Logger {
  return process.env.TKUBE_TEST_LOG ? createLogger({ component: name, level: 'debug' }) : silentLogger();
}

export interface FakeEnv {
  client: FakeClient;
  informers: SharedInformerFactory;
  signal: AbortSignal;
  /** Starts the informers (after the controller registered its handlers) and waits for them to sync. */
  startInformers(): Promise<void>;
  stop(): Promise<void>;
}

export function fakeEnv(clock?: Clock): FakeEnv {
  const client = new FakeClient(clock);
  const informers = new SharedInformerFactory({ client, log: testLogger('informers'), informerOptions: { backoffInitialMs: 10, backoffMaxMs: 100 } });
  const ctl = new AbortController();
  let running: Promise<void> | undefined;
  return {
    client,
    informers,
    signal: ctl.signal,
    async startInformers() {
      running = informers.start(ctl.signal);
      await informers.waitForCacheSync(ctl.signal);
    },
    async stop() {
      ctl.abort();
      await running;
    },
  };
}

/**
 * A fresh FakeEnv for each test that asks for one, stopped after the test together with the
 * controllers it ran: `const e = envs.start(); envs.run(controller.start(e.signal))`.
 */
export function fakeEnvPerTest(): { start(clock?: Clock): FakeEnv; run(p: Promise<void>): void } {
  let env: FakeEnv | undefined;
  const running: Promise<void>[] = [];
  afterEach(async () => {
    await env?.stop();
    await Promise.allSettled(running.splice(0));
    env = undefined;
  });
  return {
    start: (clock) => (env = fakeEnv(clock)),
    run: (p) => void running.push(p),
  };
}

/** Polls `fn` until it returns a truthy value (or stops throwing); fails with the last error after `timeoutMs`. */
export type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, stepMs = 20): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as Truthy<T>;
      last = new Error(`condition still false: ${String(v)}`);
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw last instanceof Error ? last : new Error(String(last));
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export function makeService(name: string, o: Partial<NonNullable<Service['spec']>> & { namespace?: string; labels?: Record<string, string> } = {}): Service {
  const { namespace, labels, ...spec } = o;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: namespace ?? 'default', ...(labels ? { labels } : {}) },
    spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], ...spec },
  };
}

export interface PodOptions {
  namespace?: string;
  labels?: Record<string, string>;
  nodeName?: string;
  ip?: string;
  ready?: boolean;
  phase?: NonNullable<Pod['status']>['phase'];
  ports?: { name?: string; containerPort: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }[];
  hostname?: string;
  subdomain?: string;
  tolerations?: NonNullable<Pod['spec']>['tolerations'];
  ownerReferences?: Pod['metadata']['ownerReferences'];
}

export function makePod(name: string, o: PodOptions = {}): Pod {
  const status: NonNullable<Pod['status']> = { phase: o.phase ?? (o.ip ? 'Running' : 'Pending') };
  if (o.ip) {
    status.podIP = o.ip;
    status.podIPs = [{ ip: o.ip }];
  }
  if (o.ready !== undefined) status.conditions = [{ type: 'Ready', status: o.ready ? 'True' : 'False' }];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: o.namespace ?? 'default', labels: o.labels ?? {}, ...(o.ownerReferences ? { ownerReferences: o.ownerReferences } : {}) },
    spec: {
      containers: [{ name: 'c', image: 'busybox', ...(o.ports ? { ports: o.ports } : {}) }],
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      ...(o.hostname ? { hostname: o.hostname } : {}),
      ...(o.subdomain ? { subdomain: o.subdomain } : {}),
      ...(o.tolerations ? { tolerations: o.tolerations } : {}),
    },
    status,
  };
}

export function makeNode(name: string, o: { labels?: Record<string, string>; ready?: 'True' | 'False' | 'Unknown'; heartbeat?: string; podCIDR?: string; taints?: NonNullable<Node['spec']>['taints'] } = {}): Node {
  const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: o.labels ?? {} }, spec: {}, status: {} };
  if (o.podCIDR) node.spec = { podCIDR: o.podCIDR, podCIDRs: [o.podCIDR] };
  if (o.taints) node.spec!.taints = o.taints;
  if (o.ready) node.status!.conditions = [{ type: 'Ready', status: o.ready, reason: 'KubeletReady', lastHeartbeatTime: o.heartbeat, lastTransitionTime: o.heartbeat }];
  return node;
}

export function makeNamespace(name: string): Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } };
}

/** Creates objects through a client, in order. */
export async function createAll(client: KubeClient, objs: (Pod | Service | Node | Namespace | Endpoints)[]): Promise<void> {
  const { Resources } = await import('../../lib/client/index.js');
  const byKind = { Pod: Resources.pods, Service: Resources.services, Node: Resources.nodes, Namespace: Resources.namespaces, Endpoints: Resources.endpoints };
  for (const o of objs) {
    const d = byKind[o.kind as keyof typeof byKind];
    if (!d) throw new Error(`createAll: no resource for kind ${o.kind}`);
    await client.resource(d as never, o.metadata.namespace).create(o as never);
  }
}

/** Applies an EndpointSlice plan as the API server would, naming created slices `<prefix>-<n>`. */
export function applySlicePlan(existing: EndpointSlice[], plan: { create: EndpointSlice[]; update: EndpointSlice[]; delete: EndpointSlice[] }, prefix: string): EndpointSlice[] {
  let n = existing.length;
  const del = new Set(plan.delete.map((s) => s.metadata.name));
  const upd = new Map(plan.update.map((s) => [s.metadata.name, s]));
  return [...existing.filter((s) => !del.has(s.metadata.name)).map((s) => upd.get(s.metadata.name) ?? s), ...plan.create.map((s) => ({ ...s, metadata: { ...s.metadata, name: `${prefix}-${n++}` } }))];
}
