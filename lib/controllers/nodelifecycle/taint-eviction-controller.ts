/**
 * The taint eviction controller (upstream's NoExecuteTaintManager): pods bound to a node with
 * NoExecute taints they do not tolerate are deleted at once; pods that tolerate them for a
 * limited time (tolerationSeconds) are deleted when that time is up, counted from when this
 * controller first saw them under the taints. Removing the taints, or a toleration that now
 * covers them forever, cancels a scheduled deletion.
 *
 * A deletion first adds the DisruptionTarget condition (reason DeletionByTaintManager) to the
 * pod, then deletes it gracefully: the kubelet, if alive, stops the containers.
 */
import type { Logger } from 'pino';
import type { Node, Pod, Taint } from '../../api/index.js';
import { Counter, realClock, rfc3339, silentLogger, type Clock, type MetricsRegistry, type Runnable } from '../../base/index.js';
import { Resources, deletedObject, waitForCacheSync, type EventRecorder, type KubeClient, type Lister, type SharedInformer, type SharedInformerFactory } from '../../client/index.js';
import { WorkQueue } from '../../controller/index.js';
import { isNotFound, jsonEqual } from '../../machinery/index.js';
import { ensurePodNodeNameIndex, matchingTolerations, minTolerationMs, noExecuteTaints, podsOnNode } from './taints.js';

export interface TaintEvictionControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  recorder?: EventRecorder;
  log?: Logger;
  clock?: Clock;
  metrics?: MetricsRegistry;
}

interface ScheduledEviction {
  createdAt: number;
  fireAt: number;
  ctl: AbortController;
  /** Done: kept so that the pod is not scheduled again until it is gone. */
  done: boolean;
}

export class TaintEvictionController implements Runnable {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly nodes: Lister<Node>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly informers: { waitForCacheSync(signal?: AbortSignal): Promise<boolean> }[];
  /** NoExecute taints of each tainted node. */
  private readonly taintedNodes = new Map<string, Taint[]>();
  private readonly evictions = new Map<string, ScheduledEviction>();
  /** Node and pod updates, handled by one loop in order (node updates first, as upstream). */
  private readonly nodeQueue = new WorkQueue<string>();
  private readonly podQueue = new WorkQueue<string>();
  private readonly deletions?: Counter;
  private signal?: AbortSignal;

  constructor(private readonly o: TaintEvictionControllerOptions) {
    this.log = (o.log ?? silentLogger()).child({ controller: 'taint-eviction-controller' });
    this.clock = o.clock ?? realClock;
    if (o.metrics) this.deletions = o.metrics.counter('taint_eviction_controller_pod_deletions_total', 'Pods deleted by the taint eviction controller.');
    const nodeInf = o.informers.informerFor(Resources.nodes);
    this.podInformer = o.informers.informerFor(Resources.pods);
    ensurePodNodeNameIndex(this.podInformer);
    this.nodes = nodeInf.lister();
    this.informers = [nodeInf, this.podInformer];

    nodeInf.addEventHandler({
      onAdd: (n) => this.nodeQueue.add(n.metadata.name!),
      onUpdate: (oldN, n) => {
        if (!jsonEqual(noExecuteTaints(oldN), noExecuteTaints(n))) this.nodeQueue.add(n.metadata.name!);
      },
      onDelete: (n) => this.nodeQueue.add(deletedObject(n).metadata.name!),
    });
    const podKey = (p: Pod) => `${p.metadata.namespace}/${p.metadata.name}`;
    this.podInformer.addEventHandler({
      onAdd: (p) => this.podQueue.add(`${podKey(p)}|${p.spec?.nodeName ?? ''}`),
      onUpdate: (oldP, p) => {
        if (oldP.spec?.nodeName === p.spec?.nodeName && jsonEqual(oldP.spec?.tolerations ?? [], p.spec?.tolerations ?? [])) return;
        this.podQueue.add(`${podKey(p)}|${p.spec?.nodeName ?? ''}`);
      },
      onDelete: (p) => {
        const pod = deletedObject(p);
        this.podQueue.add(`${podKey(pod)}|${pod.spec?.nodeName ?? ''}`);
      },
    });
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!(await waitForCacheSync(signal, ...this.informers))) return;
    this.signal = signal;
    this.log.info('starting');
    const onAbort = () => {
      this.nodeQueue.shutDown();
      this.podQueue.shutDown();
      for (const e of this.evictions.values()) e.ctl.abort();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    await Promise.all([this.loop(this.nodeQueue, (n) => this.handleNodeUpdate(n)), this.loop(this.podQueue, (k) => this.handlePodUpdate(k))]);
    signal.removeEventListener('abort', onAbort);
    this.log.info('stopped');
  }

  private async loop(q: WorkQueue<string>, fn: (item: string) => void): Promise<void> {
    for (;;) {
      const got = await q.get();
      if (got.shutdown) return;
      try {
        fn(got.item);
      } catch (err) {
        this.log.error({ err, item: got.item }, 'taint eviction update failed');
      } finally {
        q.done(got.item);
      }
    }
  }

  private handlePodUpdate(item: string): void {
    const [key, nodeName] = item.split('|') as [string, string];
    const pod = this.podInformer.getIndexer().getByKey(key);
    if (!pod) {
      this.cancel(key);
      return;
    }
    // Only the latest placement counts.
    if ((pod.spec?.nodeName ?? '') !== nodeName || !nodeName) return;
    const taints = this.taintedNodes.get(nodeName);
    if (!taints) return;
    this.processPodOnNode(key, nodeName, pod, taints, this.clock.now());
  }

  private handleNodeUpdate(name: string): void {
    const node = this.nodes.get(name);
    if (!node) {
      this.taintedNodes.delete(name);
      return;
    }
    const taints = noExecuteTaints(node);
    if (taints.length) this.taintedNodes.set(name, taints);
    else this.taintedNodes.delete(name);
    const pods = podsOnNode(this.podInformer, name);
    if (taints.length === 0) {
      for (const p of pods) this.cancel(`${p.metadata.namespace}/${p.metadata.name}`);
      return;
    }
    const now = this.clock.now();
    for (const p of pods) this.processPodOnNode(`${p.metadata.namespace}/${p.metadata.name}`, name, p, taints, now);
  }

  private processPodOnNode(key: string, node: string, pod: Pod, taints: Taint[], now: number): void {
    if (taints.length === 0) this.cancel(key);
    const { allTolerated, used } = matchingTolerations(taints, pod.spec?.tolerations ?? []);
    if (!allTolerated) {
      this.log.info({ pod: key, node }, 'pod does not tolerate the NoExecute taints of its node; deleting it');
      this.cancel(key);
      this.schedule(key, now, now);
      return;
    }
    const min = minTolerationMs(used);
    if (min < 0) {
      this.cancel(key);
      return;
    }
    let start = now;
    const existing = this.evictions.get(key);
    if (existing) {
      // Time under the taints counts from when the pod was first seen under them.
      start = existing.createdAt;
      if (start < now) return;
      this.cancel(key);
    }
    this.schedule(key, start, start + min);
  }

  private cancel(key: string): void {
    const e = this.evictions.get(key);
    if (!e) return;
    e.ctl.abort();
    this.evictions.delete(key);
    if (!e.done) {
      const [namespace, name] = key.split('/');
      this.o.recorder?.eventf({ apiVersion: 'v1', kind: 'Pod', namespace, name }, 'Normal', 'TaintManagerEviction', 'Cancelling deletion of Pod %s', key);
    }
  }

  private schedule(key: string, createdAt: number, fireAt: number): void {
    if (this.evictions.has(key)) return;
    const e: ScheduledEviction = { createdAt, fireAt, ctl: new AbortController(), done: false };
    this.evictions.set(key, e);
    void (async () => {
      const wait = fireAt - this.clock.now();
      if (wait > 0) await this.clock.sleep(wait, e.ctl.signal);
      if (e.ctl.signal.aborted || this.signal?.aborted) return;
      const ok = await this.evict(key);
      if (this.evictions.get(key) !== e) return;
      if (ok) e.done = true;
      else this.evictions.delete(key);
    })();
  }

  private async evict(key: string): Promise<boolean> {
    const [namespace, name] = key.split('/') as [string, string];
    this.o.recorder?.eventf({ apiVersion: 'v1', kind: 'Pod', namespace, name }, 'Normal', 'TaintManagerEviction', 'Marking for deletion Pod %s', key);
    const pods = this.o.client.resource(Resources.pods, namespace);
    let last: unknown;
    for (let i = 0; i < 5; i++) {
      try {
        const pod = await pods.get(name);
        const has = (pod.status?.conditions ?? []).some((c) => c.type === 'DisruptionTarget' && c.status === 'True' && c.reason === 'DeletionByTaintManager');
        if (!has) {
          const condition = { type: 'DisruptionTarget', status: 'True' as const, reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint', lastTransitionTime: rfc3339(this.clock.now()) };
          await pods.patch(name, 'strategic', { status: { conditions: [condition] } }, { subresource: 'status' });
        }
        await pods.delete(name, { preconditions: { uid: pod.metadata.uid } });
        this.deletions?.inc();
        this.log.info({ pod: key }, 'deleted pod for NoExecute taints');
        return true;
      } catch (err) {
        if (isNotFound(err)) return true;
        last = err;
        await this.clock.sleep(10);
      }
    }
    this.log.warn({ err: last, pod: key }, 'cannot delete pod for NoExecute taints');
    return false;
  }

  /** The pods with a deletion scheduled (not yet done), for tests and status pages. */
  scheduled(): { pod: string; fireAt: number }[] {
    return [...this.evictions].filter(([, e]) => !e.done).map(([pod, e]) => ({ pod, fireAt: e.fireAt }));
  }
}
