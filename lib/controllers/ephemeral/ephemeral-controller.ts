/**
 * The ephemeral volume controller (`ephemeral-volume`): for each volume of a pod given as
 * `ephemeral.volumeClaimTemplate`, a PersistentVolumeClaim named `<pod>-<volume>` is created
 * from the template, owned by the pod (so the garbage collector deletes it with the pod). From
 * there it is an ordinary claim: bound by the scheduler or the PersistentVolume controller,
 * mounted by the kubelet.
 *
 * A claim of that name that the pod does not own is never used: the pod gets a FailedBinding
 * event saying so, as upstream.
 */
import type { Logger } from 'pino';
import { ephemeralClaimMismatch, ephemeralClaimName, type PersistentVolumeClaim, type Pod } from '../../api/index.js';
import { silentLogger, type Clock, type Runnable } from '../../base/index.js';
import { Resources, deletedObject, metaNamespaceKey, waitForCacheSync, type EventRecorder, type KubeClient, type Lister, type SharedInformerFactory } from '../../client/index.js';
import { RateLimitingQueue, runWorkers, type ReconcileResult } from '../../controller/index.js';
import { isAlreadyExists } from '../../machinery/index.js';

export interface EphemeralVolumeControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  recorder?: EventRecorder;
  workers?: number;
  log?: Logger;
  clock?: Clock;
}

function hasEphemeral(pod: Pod): boolean {
  return (pod.spec?.volumes ?? []).some((v) => v.ephemeral);
}

export class EphemeralVolumeController implements Runnable {
  readonly queue: RateLimitingQueue<string>;
  private readonly log: Logger;
  private readonly pods: Lister<Pod>;
  private readonly claims: Lister<PersistentVolumeClaim>;
  private readonly informers: { waitForCacheSync(signal?: AbortSignal): Promise<boolean> }[];

  constructor(private readonly o: EphemeralVolumeControllerOptions) {
    this.log = (o.log ?? silentLogger()).child({ controller: 'ephemeral-volume' });
    this.queue = new RateLimitingQueue<string>({ clock: o.clock });
    const podInf = o.informers.informerFor(Resources.pods);
    const pvcInf = o.informers.informerFor(Resources.persistentVolumeClaims);
    this.pods = podInf.lister();
    this.claims = pvcInf.lister();
    this.informers = [podInf, pvcInf];
    const onPod = (pod: Pod) => hasEphemeral(pod) && !pod.metadata.deletionTimestamp && this.queue.add(metaNamespaceKey(pod));
    podInf.addEventHandler({ onAdd: onPod, onUpdate: (_o, pod) => onPod(pod) });
    // A claim deleted by hand while its pod lives is made again.
    pvcInf.addEventHandler({
      onDelete: (obj) => {
        const pvc = deletedObject(obj);
        for (const r of pvc.metadata.ownerReferences ?? []) if (r.kind === 'Pod' && r.controller) this.queue.add(`${pvc.metadata.namespace}/${r.name}`);
      },
    });
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!(await waitForCacheSync(signal, ...this.informers))) return;
    this.log.info('starting');
    await runWorkers(this.queue, this.o.workers ?? 1, (key) => this.sync(key), signal, { log: this.log, name: 'ephemeral-volume' });
    this.log.info('stopped');
  }

  async sync(key: string): Promise<ReconcileResult> {
    const pod = this.pods.get(key);
    if (!pod || pod.metadata.deletionTimestamp) return;
    const ns = pod.metadata.namespace!;
    for (const v of pod.spec?.volumes ?? []) {
      const template = v.ephemeral?.volumeClaimTemplate;
      if (!template) continue;
      const name = ephemeralClaimName(pod, v.name);
      const existing = this.claims.get(`${ns}/${name}`);
      if (existing) {
        const why = ephemeralClaimMismatch(pod, existing);
        if (why) {
          this.o.recorder?.eventf(pod, 'Warning', 'FailedBinding', 'ephemeral volume %s: %s', v.name, why);
          throw new Error(`ephemeral volume ${v.name}: ${why}`);
        }
        continue;
      }
      const claim: PersistentVolumeClaim = {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: {
          name,
          namespace: ns,
          ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name!, uid: pod.metadata.uid!, controller: true, blockOwnerDeletion: true }],
          ...(template.metadata?.labels ? { labels: template.metadata.labels } : {}),
          ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
        },
        spec: template.spec,
      };
      try {
        await this.o.client.resource(Resources.persistentVolumeClaims, ns).create(claim);
        this.log.info({ pod: key, claim: name }, 'claim created for an ephemeral volume');
      } catch (err) {
        // Created meanwhile (by us, through a stale cache): the next sync checks the owner.
        if (!isAlreadyExists(err)) {
          this.o.recorder?.eventf(pod, 'Warning', 'FailedBinding', 'ephemeral volume %s: create PVC %s: %s', v.name, name, (err as Error).message);
          throw err;
        }
      }
    }
  }
}
