/**
 * Storage object in-use protection. Claims and volumes are created with a finalizer (the
 * StorageObjectInUseProtection admission plugin), so that deleting them only marks them
 * Terminating while they are in use. These controllers remove the finalizer once they are not:
 *
 *   - pvc-protection: a claim is in use while a pod scheduled to a node names it in a
 *     persistentVolumeClaim volume (whatever the pod's phase, as upstream: its volume may still
 *     be mounted). The informer's answer is checked with a live list before letting go.
 *   - pv-protection: a volume is in use while it is Bound.
 */
import type { Logger } from 'pino';
import { ephemeralClaimName, pvProtectionFinalizer, pvcProtectionFinalizer, type PersistentVolume, type PersistentVolumeClaim, type Pod } from '../../api/index.js';
import { silentLogger, type Clock, type Runnable } from '../../base/index.js';
import { Resources, deletedObject, metaNamespaceKey, splitMetaNamespaceKey, waitForCacheSync, type KubeClient, type Lister, type SharedInformerFactory } from '../../client/index.js';
import { RateLimitingQueue, runWorkers, type ReconcileResult } from '../../controller/index.js';
import { isNotFound } from '../../machinery/index.js';

export interface ProtectionControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  workers?: number;
  log?: Logger;
  clock?: Clock;
}

/** The claims a pod's volumes name (an ephemeral volume's claim is `<pod>-<volume>`). */
export function podClaims(pod: Pod): string[] {
  return (pod.spec?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim?.claimName ? [v.persistentVolumeClaim.claimName] : v.ephemeral ? [ephemeralClaimName(pod, v.name)] : []));
}

function podUsesClaim(pod: Pod, claim: string): boolean {
  return !!pod.spec?.nodeName && podClaims(pod).includes(claim);
}

function beingDeletedWith(obj: PersistentVolume | PersistentVolumeClaim, finalizer: string): boolean {
  return !!obj.metadata.deletionTimestamp && !!obj.metadata.finalizers?.includes(finalizer);
}

function withoutFinalizer<T extends PersistentVolume | PersistentVolumeClaim>(obj: T, finalizer: string): T {
  const next = structuredClone(obj);
  next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== finalizer);
  return next;
}

export class PVCProtectionController implements Runnable {
  readonly queue: RateLimitingQueue<string>;
  private readonly log: Logger;
  private readonly claims: Lister<PersistentVolumeClaim>;
  private readonly pods: Lister<Pod>;
  private readonly informers: { waitForCacheSync(signal?: AbortSignal): Promise<boolean> }[];

  constructor(private readonly o: ProtectionControllerOptions) {
    this.log = (o.log ?? silentLogger()).child({ controller: 'pvc-protection' });
    this.queue = new RateLimitingQueue<string>({ clock: o.clock });
    const pvcInf = o.informers.informerFor(Resources.persistentVolumeClaims);
    const podInf = o.informers.informerFor(Resources.pods);
    this.claims = pvcInf.lister();
    this.pods = podInf.lister();
    this.informers = [pvcInf, podInf];
    const onClaim = (pvc: PersistentVolumeClaim) => beingDeletedWith(pvc, pvcProtectionFinalizer) && this.queue.add(metaNamespaceKey(pvc));
    pvcInf.addEventHandler({ onAdd: onClaim, onUpdate: (_o, pvc) => onClaim(pvc) });
    // A pod that goes (or leaves its claims) may free one being deleted.
    const onPod = (pod: Pod) => {
      for (const c of podClaims(pod)) this.queue.add(`${pod.metadata.namespace}/${c}`);
    };
    podInf.addEventHandler({ onUpdate: (_o, pod) => onPod(pod), onDelete: (pod) => onPod(deletedObject(pod)) });
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!(await waitForCacheSync(signal, ...this.informers))) return;
    this.log.info('starting');
    await runWorkers(this.queue, this.o.workers ?? 1, (key) => this.sync(key), signal, { log: this.log, name: 'pvc-protection' });
    this.log.info('stopped');
  }

  async sync(key: string): Promise<ReconcileResult> {
    const pvc = this.claims.get(key);
    if (!pvc || !beingDeletedWith(pvc, pvcProtectionFinalizer)) return;
    const { namespace, name } = splitMetaNamespaceKey(key);
    if (this.pods.namespace(namespace!).list().some((p) => podUsesClaim(p, name))) return;
    // The cache may not have a pod just created yet: the API server has the last word.
    const live = await this.o.client.resource(Resources.pods, namespace).list();
    if (live.items.some((p) => podUsesClaim(p, name))) return;
    try {
      await this.o.client.resource(Resources.persistentVolumeClaims, namespace).update(withoutFinalizer(pvc, pvcProtectionFinalizer));
      this.log.info({ claim: key }, 'claim no longer in use: protection finalizer removed');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

export class PVProtectionController implements Runnable {
  readonly queue: RateLimitingQueue<string>;
  private readonly log: Logger;
  private readonly volumes: Lister<PersistentVolume>;
  private readonly informer: { waitForCacheSync(signal?: AbortSignal): Promise<boolean> };

  constructor(private readonly o: ProtectionControllerOptions) {
    this.log = (o.log ?? silentLogger()).child({ controller: 'pv-protection' });
    this.queue = new RateLimitingQueue<string>({ clock: o.clock });
    const inf = o.informers.informerFor(Resources.persistentVolumes);
    this.volumes = inf.lister();
    this.informer = inf;
    const onVolume = (pv: PersistentVolume) => beingDeletedWith(pv, pvProtectionFinalizer) && this.queue.add(pv.metadata.name!);
    inf.addEventHandler({ onAdd: onVolume, onUpdate: (_o, pv) => onVolume(pv) });
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!(await waitForCacheSync(signal, this.informer))) return;
    this.log.info('starting');
    await runWorkers(this.queue, this.o.workers ?? 1, (key) => this.sync(key), signal, { log: this.log, name: 'pv-protection' });
    this.log.info('stopped');
  }

  async sync(name: string): Promise<ReconcileResult> {
    const pv = this.volumes.get(name);
    if (!pv || !beingDeletedWith(pv, pvProtectionFinalizer) || pv.status?.phase === 'Bound') return;
    try {
      await this.o.client.resource(Resources.persistentVolumes).update(withoutFinalizer(pv, pvProtectionFinalizer));
      this.log.info({ volume: name }, 'volume no longer bound: protection finalizer removed');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
