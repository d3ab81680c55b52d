/**
 * Builders for scheduler tests: nodes and pods in a line, and an in-memory cluster (the
 * SchedulerCache plus listers) that plugins and the algorithm run against without an API server.
 */
import type { KubeObject, Node, Pod, Taint, Toleration } from '../api/index.js';
import { CacheIndexer, Lister } from '../client/index.js';
import { SchedulerCache } from './cache.js';
import { CycleState, Framework, type Plugin, type PluginHandle, type SchedulerListers } from './framework.js';
import { newPodInfo, type PodInfo, type PodInfoOptions } from './pod-info.js';

export interface NodeSpecInput {
  cpu?: string;
  memory?: string;
  pods?: number;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  ready?: 'True' | 'False' | 'Unknown' | 'missing';
  images?: { names: string[]; sizeBytes: number }[];
  extra?: Record<string, string>;
}

export function makeNode(name: string, o: NodeSpecInput = {}): Node {
  const allocatable: Record<string, string> = { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: String(o.pods ?? 110), ...(o.extra ?? {}) };
  const conditions = o.ready === 'missing' ? [] : [{ type: 'Ready', status: o.ready ?? 'True' }];
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(o.labels ?? {}) } },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: { capacity: allocatable, allocatable, conditions: conditions as NonNullable<Node['status']>['conditions'], ...(o.images ? { images: o.images } : {}) },
  };
}

export interface PodSpecInput {
  namespace?: string;
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
  nodeName?: string;
  priority?: number;
  tolerations?: Toleration[];
  nodeSelector?: Record<string, string>;
  affinity?: NonNullable<Pod['spec']>['affinity'];
  hostPorts?: { port: number; protocol?: 'TCP' | 'UDP' | 'SCTP'; hostIP?: string }[];
  image?: string;
  topologySpreadConstraints?: NonNullable<Pod['spec']>['topologySpreadConstraints'];
  volumes?: NonNullable<Pod['spec']>['volumes'];
  creationTimestamp?: string;
  startTime?: string;
  nominatedNodeName?: string;
  preemptionPolicy?: 'PreemptLowerPriority' | 'Never';
  ownerReferences?: Pod['metadata']['ownerReferences'];
  uid?: string;
  deleting?: boolean;
  schedulingGates?: { name: string }[];
}

export function makePod(name: string, o: PodSpecInput = {}): Pod {
  const requests: Record<string, string> = {};
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.namespace ?? 'default',
      uid: o.uid ?? `uid-${name}`,
      labels: o.labels,
      creationTimestamp: o.creationTimestamp ?? '2024-01-01T00:00:00Z',
      ...(o.ownerReferences ? { ownerReferences: o.ownerReferences } : {}),
      ...(o.deleting ? { deletionTimestamp: '2024-01-01T00:10:00Z' } : {}),
    },
    spec: {
      containers: [
        {
          name: 'app',
          image: o.image ?? 'busybox',
          ...(Object.keys(requests).length ? { resources: { requests } } : {}),
          ...(o.hostPorts ? { ports: o.hostPorts.map((p) => ({ containerPort: p.port, hostPort: p.port, protocol: p.protocol ?? 'TCP', ...(p.hostIP ? { hostIP: p.hostIP } : {}) })) } : {}),
        },
      ],
      schedulerName: 'default-scheduler',
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      ...(o.priority !== undefined ? { priority: o.priority } : {}),
      ...(o.tolerations ? { tolerations: o.tolerations } : {}),
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
      ...(o.affinity ? { affinity: o.affinity } : {}),
      ...(o.topologySpreadConstraints ? { topologySpreadConstraints: o.topologySpreadConstraints } : {}),
      ...(o.volumes ? { volumes: o.volumes } : {}),
      ...(o.preemptionPolicy ? { preemptionPolicy: o.preemptionPolicy } : {}),
      ...(o.schedulingGates ? { schedulingGates: o.schedulingGates } : {}),
    },
    status: { phase: 'Pending', ...(o.startTime ? { startTime: o.startTime } : {}), ...(o.nominatedNodeName ? { nominatedNodeName: o.nominatedNodeName } : {}) },
  };
}

export function podInfo(name: string, o: PodSpecInput = {}, opts: PodInfoOptions = {}): PodInfo {
  return newPodInfo(makePod(name, o), opts);
}

/** A lister over fixed objects. */
export function listerOf<T extends KubeObject>(objs: T[]): Lister<T> {
  const idx = new CacheIndexer<T>({ namespace: (o) => [o.metadata.namespace ?? ''] });
  for (const o of objs) idx.add(o);
  return new Lister(idx);
}

/** A cache holding `nodes`, with `pods` placed on their spec.nodeName. */
export function clusterOf(nodes: Node[], pods: Pod[] = [], listers: SchedulerListers = {}): PluginHandle & { cache: SchedulerCache } {
  const cache = new SchedulerCache();
  for (const n of nodes) cache.addNode(n);
  for (const p of pods) cache.addPod(newPodInfo(p));
  return { cache, snapshot: cache, listers };
}

/**
 * Runs one plugin's PreFilter and Filter for `pod` on every node of the cluster. Each node maps
 * to 'ok' or `<code>: <reasons>`; a PreFilter rejection maps every node to it.
 */
export function filterResults(plugin: Plugin, pod: PodInfo, cluster: PluginHandle): Record<string, string> {
  const fw = new Framework({ plugins: [plugin] });
  const state = new CycleState();
  const out: Record<string, string> = {};
  const pre = fw.runPreFilter(state, pod);
  for (const ni of cluster.snapshot.nodeInfos()) {
    const s = pre.status ?? fw.runFilter(state, pod, ni);
    out[ni.name] = s ? `${s.code}: ${s.reasons.join(', ')}` : 'ok';
  }
  return out;
}

/** One plugin's normalized scores (0..100) for `pod` on every node (or the given ones). */
export function scoreResults(plugin: Plugin, pod: PodInfo, cluster: PluginHandle, nodeNames?: string[]): Record<string, number> {
  const fw = new Framework({ plugins: [plugin] });
  const state = new CycleState();
  const nodes = cluster.snapshot.nodeInfos().filter((n) => !nodeNames || nodeNames.includes(n.name));
  fw.runPreFilter(state, pod);
  fw.runPreScore(state, pod, nodes);
  const { byPlugin } = fw.runScore(state, pod, nodes);
  const scores = byPlugin.get(plugin.name) ?? nodes.map(() => 0);
  return Object.fromEntries(nodes.map((n, i) => [n.name, scores[i]!]));
}
