/**
 * Simulated nodes, in the spirit of kwok and kubemark: Node objects with a kubelet's heartbeats
 * (a Lease in kube-node-lease renewed every 10s, node status posted every few minutes and on
 * change) and a kubelet's way with pods (bound pods start Running and Ready after a delay,
 * with an IP from the node's podCIDR; deleted pods are confirmed with grace 0) — without
 * containers. For tests, benchmarks and the lab.
 *
 * A node can be silenced (`stopHeartbeat`): it then neither heartbeats nor touches its pods,
 * as a crashed kubelet, so that the node lifecycle controller's reaction can be watched.
 * `setNodeReady(name, false)` makes a live kubelet report Ready=False instead.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { Lease, Node, NodeCondition, Pod, Taint } from '../api/index.js';
import { realClock, rfc3339, rfc3339Micro, silentLogger, type Clock, type Runnable } from '../base/index.js';
import { Resources, SharedInformerFactory, deletedObject, type KubeClient, type Lister } from '../client/index.js';
import { RateLimitingQueue, runWorkers, type ReconcileResult } from '../controller/index.js';
import { isAlreadyExists, isConflict, isNotFound } from '../machinery/index.js';
import { keepTransitionTimes, outcomeOf, runDurationOf, simulatedStatus, startDelayOf, statusDigest, type Outcome } from './pod-status.js';

export const simulatedNodeAnnotation = 'simnode.tkube.io/simulated';
export const nodeLeaseNamespace = 'kube-node-lease';

export interface SimNodeSpec {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  taints?: Taint[];
  /** cpu, memory, pods, ephemeral-storage (defaults 8, 32Gi, 110, 100Gi). */
  capacity?: Record<string, string>;
  /** Defaults to the capacity. */
  allocatable?: Record<string, string>;
  /** Default: an InternalIP from 172.16.0.0/12 by the node's index, and the Hostname. */
  addresses?: { type: string; address: string }[];
  kubeletVersion?: string;
  unschedulable?: boolean;
}

export interface SimNodesOptions {
  client: KubeClient;
  nodes?: SimNodeSpec[];
  /** Lease renewal (the kubelet's 10s). */
  leaseRenewIntervalMs?: number;
  /** spec.leaseDurationSeconds of the Lease (40). */
  leaseDurationSeconds?: number;
  /** Node status is posted this often even when nothing changed (the kubelet's 5 minutes). */
  statusReportIntervalMs?: number;
  /** From binding to Running (default 0). */
  podStartDelayMs?: number;
  /** From a graceful delete to its confirmation (default 0). */
  podTerminationDelayMs?: number;
  /** The outcome of pods without the outcome annotation (default ready). */
  defaultOutcome?: Outcome;
  /** Pods handled at once (default 16). */
  podWorkers?: number;
  /** Delete the Node objects (and leases) on stop (default false: they stay and go Unknown). */
  unregisterOnStop?: boolean;
  log?: Logger;
  clock?: Clock;
}

interface NodeState {
  spec: SimNodeSpec;
  index: number;
  uid?: string;
  paused: boolean;
  ready: { status: boolean; reason: string; message: string };
  podCIDR?: string;
  lease?: Lease;
  usedIPs: Set<string>;
  nextIP: number;
  bootID: string;
  loops?: AbortController;
  registered: boolean;
}

const defaultCapacity = { cpu: '8', memory: '32Gi', pods: '110', 'ephemeral-storage': '100Gi' };

function ipv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}
function parseIPv4(s: string): number {
  return s.split('.').reduce((a, p) => a * 256 + Number(p), 0);
}

export class SimNodes implements Runnable {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly nodes = new Map<string, NodeState>();
  private readonly informers: SharedInformerFactory;
  private readonly pods: Lister<Pod>;
  private readonly nodeCache: Lister<Node>;
  private readonly queue: RateLimitingQueue<string>;
  /** When each pod (by uid) was first seen bound to one of our nodes, and when it started. */
  private readonly seen = new Map<string, { firstSeen: number; startedAt?: number; deletionSeen?: number }>();
  private signal?: AbortSignal;
  private indexSeq = 0;
  private readyResolve!: () => void;
  private readonly readyPromise: Promise<void>;

  constructor(private readonly o: SimNodesOptions) {
    this.log = (o.log ?? silentLogger()).child({ component: 'simnode' });
    this.clock = o.clock ?? realClock;
    this.queue = new RateLimitingQueue<string>({ clock: o.clock });
    this.informers = new SharedInformerFactory({ client: o.client, log: this.log, clock: o.clock });
    const podInf = this.informers.informerFor(Resources.pods);
    const nodeInf = this.informers.informerFor(Resources.nodes);
    this.pods = podInf.lister();
    this.nodeCache = nodeInf.lister();
    this.readyPromise = new Promise((r) => (this.readyResolve = r));
    for (const spec of o.nodes ?? []) this.track(spec);

    const enqueue = (p: Pod) => {
      if (p.spec?.nodeName && this.nodes.has(p.spec.nodeName)) this.queue.add(`${p.metadata.namespace}/${p.metadata.name}`);
    };
    podInf.addEventHandler({
      onAdd: enqueue,
      onUpdate: (_o, p) => enqueue(p),
      onDelete: (p) => {
        const pod = deletedObject(p);
        this.releaseIP(pod);
        this.seen.delete(pod.metadata.uid ?? '');
      },
    });
    nodeInf.addEventHandler({
      onAdd: (n) => this.noteNode(n),
      onUpdate: (_o, n) => this.noteNode(n),
    });
  }

  private track(spec: SimNodeSpec): NodeState {
    if (this.nodes.has(spec.name)) throw new Error(`simulated node ${spec.name} exists already`);
    const st: NodeState = {
      spec,
      index: this.indexSeq++,
      paused: false,
      ready: { status: true, reason: 'KubeletReady', message: 'kubelet is posting ready status' },
      usedIPs: new Set(),
      nextIP: 2,
      bootID: randomUUID(),
      registered: false,
    };
    this.nodes.set(spec.name, st);
    return st;
  }

  private noteNode(n: Node): void {
    const st = this.nodes.get(n.metadata.name!);
    if (!st) return;
    if (n.spec?.podCIDR && n.spec.podCIDR !== st.podCIDR) {
      st.podCIDR = n.spec.podCIDR;
      st.nextIP = 2;
    }
  }

  /** Resolves once every node given at construction is registered and the pod cache has synced. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  nodeNames(): string[] {
    return [...this.nodes.keys()];
  }

  async start(outer: AbortSignal): Promise<void> {
    // The informers, queue and loops all listen to this signal: more than Node's default of 10.
    const ctl = new AbortController();
    setMaxListeners(0, ctl.signal);
    const onAbort = () => ctl.abort();
    if (outer.aborted) ctl.abort();
    else outer.addEventListener('abort', onAbort, { once: true });
    try {
      await this.run(ctl.signal);
    } finally {
      outer.removeEventListener('abort', onAbort);
    }
  }

  private async run(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    // One listener for every node's loops (thousands of nodes would be thousands of listeners).
    signal.addEventListener('abort', () => {
      for (const st of this.nodes.values()) st.loops?.abort();
    }, { once: true });
    const informing = this.informers.start(signal);
    await this.informers.waitForCacheSync(signal);
    await parallel([...this.nodes.values()], 16, (st) => this.register(st));
    if (signal.aborted) {
      await informing;
      return;
    }
    for (const st of this.nodes.values()) this.startLoops(st);
    this.adoptPods();
    this.readyResolve();
    this.log.info({ nodes: this.nodes.size }, 'simulated nodes registered');
    await runWorkers(this.queue, this.o.podWorkers ?? 16, (key) => this.syncPod(key), signal, { log: this.log, name: 'simnode-pods' });
    for (const st of this.nodes.values()) st.loops?.abort();
    if (this.o.unregisterOnStop) await parallel([...this.nodes.values()], 16, (st) => this.unregister(st));
    await informing;
  }

  /** Adds and registers a node while running. */
  async addNode(spec: SimNodeSpec): Promise<void> {
    const st = this.track(spec);
    await this.register(st);
    this.startLoops(st);
    this.adoptPods(spec.name);
  }

  /** Pods bound to our nodes before we were ready: note their IPs, then look after them. */
  private adoptPods(only?: string): void {
    for (const p of this.pods.list()) {
      const node = p.spec?.nodeName;
      if (!node || (only && node !== only)) continue;
      const st = this.nodes.get(node);
      if (!st) continue;
      if (p.status?.podIP) st.usedIPs.add(p.status.podIP);
      this.queue.add(`${p.metadata.namespace}/${p.metadata.name}`);
    }
  }

  /** Stops simulating a node; with `deleteNode`, also deletes its Node and Lease. */
  async removeNode(name: string, opts: { deleteNode?: boolean } = {}): Promise<void> {
    const st = this.nodes.get(name);
    if (!st) return;
    st.loops?.abort();
    this.nodes.delete(name);
    if (opts.deleteNode) await this.unregister(st);
  }

  /** The kubelet stops: no more heartbeats, pods left as they are. */
  stopHeartbeat(name: string): void {
    const st = this.mustGet(name);
    st.paused = true;
    this.log.info({ node: name }, 'heartbeats stopped');
  }

  /** The kubelet is back: it posts its status at once and looks after its pods again. */
  resumeHeartbeat(name: string): void {
    const st = this.mustGet(name);
    if (!st.paused) return;
    st.paused = false;
    this.log.info({ node: name }, 'heartbeats resumed');
    void this.heartbeat(st, true);
    for (const p of this.pods.list()) if (p.spec?.nodeName === name) this.queue.add(`${p.metadata.namespace}/${p.metadata.name}`);
  }

  /** Makes the (live) kubelet report Ready=True or Ready=False. */
  async setNodeReady(name: string, ready: boolean, reason = ready ? 'KubeletReady' : 'KubeletNotReady', message = ready ? 'kubelet is posting ready status' : 'container runtime is down'): Promise<void> {
    const st = this.mustGet(name);
    st.ready = { status: ready, reason, message };
    await this.postStatus(st);
  }

  private mustGet(name: string): NodeState {
    const st = this.nodes.get(name);
    if (!st) throw new Error(`no simulated node ${name}`);
    return st;
  }

  // ---- registration and heartbeats -------------------------------------------------------

  private nodeObject(st: NodeState): Node {
    const s = st.spec;
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: s.name,
        labels: { 'kubernetes.io/hostname': s.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'beta.kubernetes.io/os': 'linux', 'beta.kubernetes.io/arch': 'amd64', ...(s.labels ?? {}) },
        annotations: { [simulatedNodeAnnotation]: 'true', 'node.alpha.kubernetes.io/ttl': '0', ...(s.annotations ?? {}) },
      },
      spec: { ...(s.taints?.length ? { taints: s.taints } : {}), ...(s.unschedulable ? { unschedulable: true } : {}) },
    };
  }

  private internalIP(st: NodeState): string {
    return st.spec.addresses?.find((a) => a.type === 'InternalIP')?.address ?? ipv4(parseIPv4('172.16.0.0') + st.index + 1);
  }

  private conditions(st: NodeState, current: Node | undefined): NodeCondition[] {
    const now = rfc3339(this.clock.now());
    const make = (type: string, status: 'True' | 'False', reason: string, message: string): NodeCondition => {
      const prev = current?.status?.conditions?.find((c) => c.type === type);
      const lastTransitionTime = prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : now;
      return { type, status, lastHeartbeatTime: now, lastTransitionTime, reason, message };
    };
    return [
      make('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      make('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      make('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      make('Ready', st.ready.status ? 'True' : 'False', st.ready.reason, st.ready.message),
    ];
  }

  private statusOf(st: NodeState, current: Node | undefined): NonNullable<Node['status']> {
    const s = st.spec;
    const capacity = { ...defaultCapacity, ...(s.capacity ?? {}) };
    const version = s.kubeletVersion ?? 'v1.31.0';
    return {
      capacity,
      allocatable: { ...capacity, ...(s.allocatable ?? {}) },
      conditions: this.conditions(st, current),
      addresses: s.addresses ?? [
        { type: 'InternalIP', address: this.internalIP(st) },
        { type: 'Hostname', address: s.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: st.uid?.replace(/-/g, '') ?? '',
        systemUUID: st.uid ?? '',
        bootID: st.bootID,
        kernelVersion: '6.1.0-simnode',
        osImage: 'tkube simulated node',
        containerRuntimeVersion: 'simnode://0.1.0',
        kubeletVersion: version,
        kubeProxyVersion: version,
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    };
  }

  private async register(st: NodeState): Promise<void> {
    const nodes = this.o.client.resource(Resources.nodes);
    let node: Node;
    try {
      node = await nodes.create(this.nodeObject(st));
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      // A node of ours from an earlier run: take it over.
      node = await nodes.get(st.spec.name);
    }
    st.uid = node.metadata.uid;
    if (node.spec?.podCIDR) st.podCIDR = node.spec.podCIDR;
    await this.postStatus(st);
    await this.renewLease(st);
    st.registered = true;
  }

  private async unregister(st: NodeState): Promise<void> {
    try {
      await this.o.client.resource(Resources.nodes).delete(st.spec.name);
    } catch (err) {
      if (!isNotFound(err)) this.log.warn({ err, node: st.spec.name }, 'cannot delete node');
    }
    try {
      await this.o.client.resource(Resources.leases, nodeLeaseNamespace).delete(st.spec.name);
    } catch (err) {
      if (!isNotFound(err)) this.log.warn({ err, node: st.spec.name }, 'cannot delete node lease');
    }
  }

  private async postStatus(st: NodeState): Promise<void> {
    const nodes = this.o.client.resource(Resources.nodes);
    let current = this.nodeCache.get(st.spec.name);
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await nodes.patch(st.spec.name, 'merge', { status: this.statusOf(st, current) }, { subresource: 'status' });
        return;
      } catch (err) {
        if (isNotFound(err)) {
          // Someone deleted our node: register it again, as a kubelet does.
          const node = await nodes.create(this.nodeObject(st)).catch((e: unknown) => (isAlreadyExists(e) ? nodes.get(st.spec.name) : Promise.reject(e)));
          st.uid = node.metadata.uid;
          current = node;
          continue;
        }
        if (!isConflict(err)) throw err;
        current = await nodes.get(st.spec.name);
      }
    }
  }

  private async renewLease(st: NodeState): Promise<void> {
    const leases = this.o.client.resource(Resources.leases, nodeLeaseNamespace);
    const spec = { holderIdentity: st.spec.name, leaseDurationSeconds: this.o.leaseDurationSeconds ?? 40, renewTime: rfc3339Micro(this.clock.now()) };
    const fresh = (): Lease => ({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: st.spec.name, namespace: nodeLeaseNamespace, ownerReferences: st.uid ? [{ apiVersion: 'v1', kind: 'Node', name: st.spec.name, uid: st.uid }] : undefined },
      spec,
    });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        if (st.lease) st.lease = await leases.update({ ...st.lease, spec: { ...st.lease.spec, ...spec } });
        else st.lease = await leases.create(fresh());
        return;
      } catch (err) {
        if (isAlreadyExists(err) || isConflict(err)) {
          st.lease = await leases.get(st.spec.name).catch(() => undefined);
          continue;
        }
        if (isNotFound(err)) {
          st.lease = undefined;
          continue;
        }
        throw err;
      }
    }
  }

  private async heartbeat(st: NodeState, withStatus: boolean): Promise<void> {
    try {
      await this.renewLease(st);
      if (withStatus) await this.postStatus(st);
    } catch (err) {
      this.log.warn({ err, node: st.spec.name }, 'heartbeat failed');
    }
  }

  private startLoops(st: NodeState): void {
    const ctl = new AbortController();
    st.loops = ctl;
    if (this.signal?.aborted) ctl.abort();
    const renewEvery = this.o.leaseRenewIntervalMs ?? 10_000;
    const statusEvery = this.o.statusReportIntervalMs ?? 5 * 60_000;
    void (async () => {
      // Spread the nodes over the interval so that thousands do not all renew at once.
      await this.clock.sleep(Math.floor(Math.random() * renewEvery), ctl.signal);
      let lastStatus = this.clock.now();
      while (!ctl.signal.aborted) {
        if (!st.paused) {
          const due = this.clock.now() - lastStatus >= statusEvery;
          await this.heartbeat(st, due);
          if (due) lastStatus = this.clock.now();
        }
        await this.clock.sleep(renewEvery, ctl.signal);
      }
    })();
  }

  // ---- pods ------------------------------------------------------------------------------

  private allocateIP(st: NodeState, pod: Pod): string {
    const existing = pod.status?.podIP;
    if (existing) {
      st.usedIPs.add(existing);
      return existing;
    }
    // The node's podCIDR when IPAM gave it one; otherwise a /24 of 10.128.0.0/9 by node index.
    const [base, size] = st.podCIDR ? (() => {
      const [ip, prefix] = st.podCIDR!.split('/');
      return [parseIPv4(ip!), 2 ** (32 - Number(prefix))];
    })() : [parseIPv4('10.128.0.0') + (st.index % 32768) * 256, 256];
    for (let k = 0; k < size - 3; k++) {
      const off = ((st.nextIP - 2 + k) % (size - 3)) + 2;
      const ip = ipv4(base + off);
      if (!st.usedIPs.has(ip)) {
        st.usedIPs.add(ip);
        st.nextIP = off + 1;
        return ip;
      }
    }
    throw new Error(`node ${st.spec.name} has no pod IP left`);
  }

  private releaseIP(pod: Pod): void {
    const st = pod.spec?.nodeName ? this.nodes.get(pod.spec.nodeName) : undefined;
    if (st && pod.status?.podIP) st.usedIPs.delete(pod.status.podIP);
  }

  async syncPod(key: string): Promise<ReconcileResult> {
    const pod = this.pods.get(key);
    if (!pod) return;
    const st = pod.spec?.nodeName ? this.nodes.get(pod.spec.nodeName) : undefined;
    if (!st || st.paused || !st.registered) return;
    const uid = pod.metadata.uid ?? key;
    const now = this.clock.now();
    let rec = this.seen.get(uid);
    if (!rec) this.seen.set(uid, (rec = { firstSeen: now }));
    const [namespace, name] = key.split('/') as [string, string];
    const client = this.o.client.resource(Resources.pods, namespace);

    if (pod.metadata.deletionTimestamp) {
      rec.deletionSeen ??= now;
      const wait = rec.deletionSeen + (this.o.podTerminationDelayMs ?? 0) - now;
      if (wait > 0) return { requeueAfterMs: wait };
      try {
        await client.delete(name, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
      return;
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;

    const outcome = outcomeOf(pod, this.o.defaultOutcome ?? 'ready');
    const started = pod.status?.startTime ? Date.parse(pod.status.startTime) : undefined;
    if (rec.startedAt === undefined && started !== undefined && (pod.status?.containerStatuses ?? []).length) rec.startedAt = started;
    if (rec.startedAt === undefined) {
      const wait = rec.firstSeen + startDelayOf(pod, this.o.podStartDelayMs ?? 0) - now;
      if (wait > 0) return { requeueAfterMs: wait };
      rec.startedAt = now;
    }
    let stage: 'running' | 'terminated' = 'running';
    let requeue: number | undefined;
    if (outcome === 'succeed' || outcome === 'fail') {
      const end = rec.startedAt + runDurationOf(pod);
      if (end <= now) stage = 'terminated';
      else requeue = end - now;
    }
    const status = keepTransitionTimes(simulatedStatus(pod, stage, outcome, { now, hostIP: this.internalIP(st), podIP: this.allocateIP(st, pod), startedAt: rec.startedAt }), pod.status);
    if (statusDigest(status) !== statusDigest(pod.status)) {
      try {
        await client.patch(name, 'merge', { status }, { subresource: 'status' });
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
    }
    return requeue !== undefined ? { requeueAfterMs: requeue } : undefined;
  }
}

async function parallel<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
