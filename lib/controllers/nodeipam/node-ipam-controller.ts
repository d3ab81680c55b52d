/**
 * Node IPAM (upstream's range allocator): with --allocate-node-cidrs, every node gets a
 * spec.podCIDR (and podCIDRs) of --node-cidr-mask-size out of --cluster-cidr, never one that
 * overlaps another node's or the service range. A node's subnet returns to the pool when the
 * node is deleted.
 *
 * The pool lives in memory only; on start it is rebuilt from the podCIDRs of the nodes that
 * exist, before anything is handed out, so a restarted controller never allocates twice.
 */
import type { Logger } from 'pino';
import type { Node } from '../../api/index.js';
import { silentLogger, waitForAbort, type Clock, type Runnable } from '../../base/index.js';
import { Resources, deletedObject, waitForCacheSync, type EventRecorder, type KubeClient, type Lister, type SharedInformerFactory } from '../../client/index.js';
import { RateLimitingQueue, runWorkers } from '../../controller/index.js';
import { isNotFound } from '../../machinery/index.js';
import { CIDRSet, cidrsOverlap, parseCIDR } from './cidr-set.js';

export interface NodeIpamControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  allocateNodeCIDRs: boolean;
  clusterCIDR: string;
  serviceCIDR?: string;
  nodeCIDRMaskSize: number;
  recorder?: EventRecorder;
  log?: Logger;
  clock?: Clock;
  workers?: number;
}

function podCIDRsOf(node: Node): string[] {
  const all = [...(node.spec?.podCIDRs ?? []), ...(node.spec?.podCIDR ? [node.spec.podCIDR] : [])];
  return [...new Set(all)].filter((c) => !c.includes(':'));
}

export class NodeIpamController implements Runnable {
  readonly queue: RateLimitingQueue<string>;
  private readonly log: Logger;
  private readonly nodes: Lister<Node>;
  private readonly informer: { waitForCacheSync(signal?: AbortSignal): Promise<boolean> };
  private readonly set?: CIDRSet;
  /** Subnets handed to a node whose update the cache has not shown yet. */
  private readonly pending = new Map<string, string>();
  private ready = false;

  constructor(private readonly o: NodeIpamControllerOptions) {
    this.log = (o.log ?? silentLogger()).child({ controller: 'nodeipam' });
    this.queue = new RateLimitingQueue<string>({ clock: o.clock });
    const inf = o.informers.informerFor(Resources.nodes);
    this.nodes = inf.lister();
    this.informer = inf;
    if (!o.allocateNodeCIDRs) return;
    this.set = new CIDRSet(o.clusterCIDR, o.nodeCIDRMaskSize);
    if (o.serviceCIDR) {
      const svc = parseCIDR(o.serviceCIDR);
      if (cidrsOverlap(svc, this.set.cluster)) this.set.occupy(o.serviceCIDR);
    }
    inf.addEventHandler({
      onAdd: (n) => this.observe(n),
      onUpdate: (_o, n) => this.observe(n),
      onDelete: (n) => this.forget(deletedObject(n)),
    });
  }

  private observe(node: Node): void {
    const name = node.metadata.name!;
    const cidrs = podCIDRsOf(node);
    if (cidrs.length === 0) {
      this.queue.add(name);
      return;
    }
    const pending = this.pending.get(name);
    if (pending !== undefined) {
      this.pending.delete(name);
      if (!cidrs.includes(pending)) this.set!.release(pending);
    }
    if (this.ready) this.occupy(node, cidrs);
  }

  private occupy(node: Node, cidrs: string[]): void {
    for (const c of cidrs) {
      try {
        this.set!.occupy(c);
      } catch (err) {
        this.log.warn({ node: node.metadata.name, podCIDR: c, err: (err as Error).message }, 'node podCIDR is outside the cluster CIDR; ignored');
      }
    }
  }

  private forget(node: Node): void {
    const name = node.metadata.name!;
    for (const c of podCIDRsOf(node)) this.set!.release(c);
    const pending = this.pending.get(name);
    if (pending !== undefined) {
      this.set!.release(pending);
      this.pending.delete(name);
    }
    this.log.info({ node: name, podCIDR: node.spec?.podCIDR }, 'released the subnet of a deleted node');
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!this.set) {
      this.log.info('--allocate-node-cidrs is off; node IPAM does nothing');
      await waitForAbort(signal);
      return;
    }
    if (!(await waitForCacheSync(signal, this.informer))) return;
    // Rebuild the pool from what exists before handing anything out.
    for (const node of this.nodes.list()) this.occupy(node, podCIDRsOf(node));
    this.ready = true;
    for (const node of this.nodes.list()) if (podCIDRsOf(node).length === 0) this.queue.add(node.metadata.name!);
    this.log.info({ clusterCIDR: this.o.clusterCIDR, maskSize: this.o.nodeCIDRMaskSize, used: this.set.usedCount, capacity: this.set.max }, 'starting');
    await runWorkers(this.queue, this.o.workers ?? 1, (name) => this.sync(name), signal, { log: this.log, name: 'nodeipam' });
    this.log.info('stopped');
  }

  async sync(name: string): Promise<void> {
    const node = this.nodes.get(name);
    if (!node) return;
    if (podCIDRsOf(node).length > 0) return;
    let cidr = this.pending.get(name);
    if (!cidr) {
      cidr = this.set!.allocateNext();
      if (!cidr) {
        this.o.recorder?.event({ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid }, 'Normal', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
        throw new Error(`no subnet of /${this.o.nodeCIDRMaskSize} is left in ${this.o.clusterCIDR} for node ${name}`);
      }
      this.pending.set(name, cidr);
    }
    try {
      await this.o.client.resource(Resources.nodes).patch(name, 'merge', { spec: { podCIDR: cidr, podCIDRs: [cidr] } });
    } catch (err) {
      if (isNotFound(err)) {
        this.set!.release(cidr);
        this.pending.delete(name);
        return;
      }
      this.o.recorder?.event({ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid }, 'Warning', 'CIDRAssignmentFailed', `Node ${name} status is now: CIDRAssignmentFailed`);
      throw err;
    }
    this.log.info({ node: name, podCIDR: cidr }, 'assigned podCIDR');
  }

  /** Subnets in use (service range included), for tests and status pages. */
  get usedCount(): number {
    return this.set?.usedCount ?? 0;
  }
}
