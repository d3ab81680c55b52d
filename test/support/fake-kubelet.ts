/**
 * A stand-in for the scheduler and the kubelets in controller integration tests, acting only
 * through the API server as they do: it binds pending pods to named nodes (honouring a
 * required node affinity on metadata.name, as DaemonSet pods carry), reports bound pods as
 * Running and Ready (or whatever `behaviour` says), and completes graceful deletions.
 */
import type { Node, Pod, Taint } from '../../lib/api/index.js';
import { rfc3339 } from '../../lib/base/index.js';
import { Resources, deletedObject, type KubeClient, type SharedInformerFactory } from '../../lib/client/index.js';
import { isConflict, isNotFound } from '../../lib/machinery/index.js';

/** What a bound pod does: become Ready, run without being ready, stay Pending, or finish. */
export type PodBehaviour = 'ready' | 'running' | 'pending' | 'succeed' | 'fail' | 'ignore';

export interface FakeKubeletOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  /** Nodes unscheduled pods are bound to, in turn. Empty: bind nothing (pods with spec.nodeName still run). */
  nodes?: string[];
  behaviour?: (pod: Pod) => PodBehaviour;
  /** Confirm graceful deletions at once, as a kubelet whose containers stopped (default true). */
  finishDeletes?: boolean;
}

export class FakeKubelet {
  private next = 0;
  private chains = new Map<string, Promise<void>>();
  private remove?: () => void;
  /** Pods bound, in order, as `name→node`. */
  readonly bindings: string[] = [];
  behaviour: (pod: Pod) => PodBehaviour;

  constructor(private readonly o: FakeKubeletOptions) {
    this.behaviour = o.behaviour ?? (() => 'ready');
  }

  start(): void {
    const inf = this.o.informers.informerFor(Resources.pods);
    const reg = inf.addEventHandler({
      onAdd: (p) => this.enqueue(p),
      onUpdate: (_o, p) => this.enqueue(p),
      onDelete: (p) => this.chains.delete(`${deletedObject(p).metadata.namespace}/${deletedObject(p).metadata.name}`),
    });
    this.remove = () => reg.remove();
  }

  stop(): void {
    this.remove?.();
  }

  /** Waits for the work queued so far. */
  async idle(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  private enqueue(pod: Pod): void {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const prev = this.chains.get(key) ?? Promise.resolve();
    this.chains.set(
      key,
      prev.then(() => this.handle(pod).catch((err) => (isNotFound(err) || isConflict(err) ? undefined : console.error('fake kubelet:', err)))),
    );
  }

  /** The node a pod must go to when its affinity names one (DaemonSet pods), else undefined. */
  static targetNode(pod: Pod): string | undefined {
    for (const t of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
      for (const f of t.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
    }
    return undefined;
  }

  private async handle(seen: Pod): Promise<void> {
    const pods = this.o.client.resource(Resources.pods, seen.metadata.namespace);
    if (seen.metadata.deletionTimestamp) {
      if ((this.o.finishDeletes ?? true) && (seen.metadata.deletionGracePeriodSeconds ?? 0) > 0) await pods.delete(seen.metadata.name!, { gracePeriodSeconds: 0 });
      return;
    }
    let pod = seen;
    if (!pod.spec?.nodeName) {
      const nodes = this.o.nodes ?? [];
      const target = FakeKubelet.targetNode(pod) ?? (nodes.length ? nodes[this.next++ % nodes.length] : undefined);
      if (!target) return;
      await pods.createSubresource(pod.metadata.name!, 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: pod.metadata.name }, target: { apiVersion: 'v1', kind: 'Node', name: target } });
      this.bindings.push(`${pod.metadata.name}→${target}`);
      return; // the update event brings the bound pod back here
    }
    if (!this.wantsWrite(pod)) return;
    // The behaviour is asked again of the pod as it is now: a test may have changed both
    // (set() below) since this event was seen, and a stale answer would undo its write.
    pod = await pods.get(pod.metadata.name!);
    const want = this.wantsWrite(pod);
    if (want) await pods.updateStatus(withStatus(pod, want));
  }

  /** The status this pod should be given, or undefined when it already has it (or is left alone). */
  private wantsWrite(pod: Pod): Exclude<PodBehaviour, 'ignore' | 'pending'> | undefined {
    const want = this.behaviour(pod);
    if (want === 'ignore' || want === 'pending') return undefined;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return undefined;
    const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    if (want === 'ready' && phase === 'Running' && ready) return undefined;
    if (want === 'running' && phase === 'Running' && !ready) return undefined;
    return want;
  }

  /**
   * Sets a pod's status by hand (e.g. to fail a job pod), with the same shapes the kubelet
   * writes; on a conflict (the stand-in kubelet wrote meanwhile) it reads the pod again.
   */
  async set(namespace: string, name: string, want: Exclude<PodBehaviour, 'ignore'>, opts: { exitCode?: number; restartCount?: number } = {}): Promise<Pod> {
    const pods = this.o.client.resource(Resources.pods, namespace);
    for (let attempt = 1; ; attempt++) {
      try {
        return await pods.updateStatus(withStatus(await pods.get(name), want, opts));
      } catch (err) {
        if (!isConflict(err) || attempt === 5) throw err;
      }
    }
  }
}

function withStatus(pod: Pod, want: Exclude<PodBehaviour, 'ignore'>, opts: { exitCode?: number; restartCount?: number } = {}): Pod {
  const now = rfc3339();
  const containers = pod.spec?.containers ?? [];
  const done = want === 'succeed' || want === 'fail';
  const exitCode = opts.exitCode ?? (want === 'fail' ? 1 : 0);
  const ready = want === 'ready';
  const status: Pod['status'] = {
    ...(pod.status ?? {}),
    phase: want === 'pending' ? 'Pending' : want === 'succeed' ? 'Succeeded' : want === 'fail' ? 'Failed' : 'Running',
    hostIP: '10.0.0.1',
    podIP: pod.status?.podIP ?? `10.244.0.${2 + Math.floor(Math.random() * 250)}`,
    startTime: pod.status?.startTime ?? now,
    conditions: [
      { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
      { type: 'Initialized', status: 'True', lastTransitionTime: now },
      { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: now },
      { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now },
    ],
    containerStatuses: containers.map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: '',
      containerID: `docker://${c.name}`,
      ready,
      started: !done,
      restartCount: opts.restartCount ?? 0,
      state: done ? { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: now, finishedAt: now } } : { running: { startedAt: now } },
    })),
  };
  return { ...pod, status };
}

/**
 * Registers a node as a kubelet would, then does the node lifecycle controller's part for a
 * Ready node: the API server registers every node with the node.kubernetes.io/not-ready
 * NoSchedule taint (TaintNodesByCondition), which that controller lifts once the node is Ready.
 */
export async function registerNode(client: KubeClient, n: Node): Promise<Node> {
  const nodes = client.resource(Resources.nodes);
  const created = await nodes.create(n);
  const taints = (created.spec?.taints ?? []).filter((t) => t.key !== 'node.kubernetes.io/not-ready');
  return nodes.update({ ...created, spec: { ...created.spec, taints } });
}

/** A Ready node with these labels and taints. */
export function node(name: string, labels: Record<string, string> = {}, taints: Taint[] = []): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...labels } },
    spec: taints.length ? { taints } : {},
    status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: rfc3339(), lastTransitionTime: rfc3339(), reason: 'KubeletReady', message: 'kubelet is posting ready status' }] },
  } as Node;
}
