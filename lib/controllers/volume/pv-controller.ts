/**
 * The PersistentVolume controller (`persistentvolume-binder`): binds claims to volumes and
 * walks volumes through their phases, as upstream's binder does for volumes made by hand
 * (tkube has no dynamic provisioners):
 *
 *   claim Pending ──(a matching volume, see binding.ts)──► volume.spec.claimRef = claim,
 *   volume Bound, claim.spec.volumeName = volume, claim Bound (with the volume's capacity and
 *   access modes); both sides carry pv.kubernetes.io/bound-by-controller where the controller
 *   made the link, and the claim pv.kubernetes.io/bind-completed.
 *
 *   claim deleted ──► volume Released ──► its reclaim policy: Retain keeps it Released (an
 *   administrator removes spec.claimRef to make it Available again); Delete removes a
 *   hostPath under /tmp/ (upstream's hostPath deleter) and the volume object, and fails any
 *   other volume (phase Failed, a VolumeFailedDelete event); Recycle, deprecated, fails.
 *
 * With --enable-hostpath-provisioner, claims of a class whose provisioner is
 * kubernetes.io/host-path get a volume made for them (upstream's testing provisioner).
 *
 * A claim whose volume vanished is Lost. A claim without a storage class gets the default
 * class when one appears (retroactive default assignment). Everything is also re-synced every
 * --pvclaimbinder-sync-period (15 s).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../api/index.js';
import { realClock, rfc3339, silentLogger, type Clock, type Runnable } from '../../base/index.js';
import { Resources, deletedObject, getIfExists, waitForCacheSync, type EventRecorder, type KubeClient, type Lister, type SharedInformerFactory } from '../../client/index.js';
import { RateLimitingQueue, runWorkers, type ReconcileResult } from '../../controller/index.js';
import { defaultStorageClassAnnotations, isConflict, isNotFound, jsonEqual, newestDefault } from '../../machinery/index.js';
import { annBindCompleted, annBoundByController, claimClass, claimKey, claimRefFor, findMatchingVolume, isVolumeBoundToClaim, volumeMismatch, waitsForFirstConsumer } from './binding.js';

export interface PersistentVolumeControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  recorder?: EventRecorder;
  /** --enable-hostpath-provisioner: provision hostPath volumes for classes of kubernetes.io/host-path. */
  enableHostPathProvisioner?: boolean;
  /** --pvclaimbinder-sync-period (15 s): every claim and volume is looked at again this often. */
  syncPeriodMs?: number;
  workers?: number;
  log?: Logger;
  clock?: Clock;
}

type VolumePhase = NonNullable<NonNullable<PersistentVolume['status']>['phase']>;
type ClaimPhase = NonNullable<NonNullable<PersistentVolumeClaim['status']>['phase']>;

const claimPrefix = 'claim:';
const hostPathProvisioner = 'kubernetes.io/host-path';
const annStorageProvisioner = 'volume.kubernetes.io/storage-provisioner';
const annBetaStorageProvisioner = 'volume.beta.kubernetes.io/storage-provisioner';
const volumePrefix = 'volume:';

export class PersistentVolumeController implements Runnable {
  readonly queue: RateLimitingQueue<string>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly volumes: Lister<PersistentVolume>;
  private readonly claims: Lister<PersistentVolumeClaim>;
  private readonly classes: Lister<StorageClass>;
  private readonly informers: { waitForCacheSync(signal?: AbortSignal): Promise<boolean> }[];

  constructor(private readonly o: PersistentVolumeControllerOptions) {
    this.log = (o.log ?? silentLogger()).child({ controller: 'persistentvolume-binder' });
    this.clock = o.clock ?? realClock;
    this.queue = new RateLimitingQueue<string>({ clock: o.clock });
    const pvInf = o.informers.informerFor(Resources.persistentVolumes);
    const pvcInf = o.informers.informerFor(Resources.persistentVolumeClaims);
    const scInf = o.informers.informerFor(Resources.storageClasses);
    this.volumes = pvInf.lister();
    this.claims = pvcInf.lister();
    this.classes = scInf.lister();
    this.informers = [pvInf, pvcInf, scInf];

    const onVolume = (pv: PersistentVolume) => {
      this.queue.add(volumePrefix + pv.metadata.name);
      const ref = pv.spec?.claimRef;
      if (ref?.name) this.queue.add(`${claimPrefix}${ref.namespace ?? ''}/${ref.name}`);
    };
    pvInf.addEventHandler({ onAdd: onVolume, onUpdate: (_o, pv) => onVolume(pv), onDelete: (pv) => onVolume(deletedObject(pv)) });
    const onClaim = (pvc: PersistentVolumeClaim) => {
      this.queue.add(claimPrefix + claimKey(pvc));
      if (pvc.spec?.volumeName) this.queue.add(volumePrefix + pvc.spec.volumeName);
    };
    pvcInf.addEventHandler({
      onAdd: onClaim,
      onUpdate: (_o, pvc) => onClaim(pvc),
      onDelete: (obj) => {
        const pvc = deletedObject(obj);
        onClaim(pvc);
        // Volumes bound to it are Released now.
        for (const pv of this.volumes.list()) if (isVolumeBoundToClaim(pv, pvc)) this.queue.add(volumePrefix + pv.metadata.name);
      },
    });
    // A new default class is given to claims that have none yet; a class change may unblock a claim.
    const onClass = () => {
      for (const pvc of this.claims.list()) if (!pvc.spec?.volumeName) this.queue.add(claimPrefix + claimKey(pvc));
    };
    scInf.addEventHandler({ onAdd: onClass, onUpdate: onClass });
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!(await waitForCacheSync(signal, ...this.informers))) return;
    this.log.info('starting');
    const period = this.o.syncPeriodMs ?? 15_000;
    const resync = setInterval(() => {
      for (const pv of this.volumes.list()) this.queue.add(volumePrefix + pv.metadata.name);
      for (const pvc of this.claims.list()) this.queue.add(claimPrefix + claimKey(pvc));
    }, period);
    try {
      await runWorkers(this.queue, this.o.workers ?? 1, (key) => this.sync(key), signal, { log: this.log, name: 'persistentvolume-binder' });
    } finally {
      clearInterval(resync);
    }
    this.log.info('stopped');
  }

  async sync(key: string): Promise<ReconcileResult> {
    try {
      if (key.startsWith(claimPrefix)) await this.syncClaim(key.slice(claimPrefix.length));
      else await this.syncVolume(key.slice(volumePrefix.length));
    } catch (err) {
      // Someone else wrote first: look again with the newer copy.
      if (isConflict(err)) return { requeueAfterMs: 100 };
      throw err;
    }
  }

  // ---- claims ---------------------------------------------------------------------------------

  private async syncClaim(key: string): Promise<void> {
    const pvc = this.claims.get(key);
    if (!pvc || pvc.metadata.deletionTimestamp) return;
    const volumeName = pvc.spec?.volumeName;
    if (!volumeName) return this.syncUnboundClaim(pvc);

    const pv = this.volumes.get(volumeName);
    if (!pv) {
      if (pvc.metadata.annotations?.[annBindCompleted]) {
        if (await this.setClaimPhase(pvc, 'Lost')) this.o.recorder?.event(pvc, 'Warning', 'ClaimLost', 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!');
      } else {
        await this.setClaimPhase(pvc, 'Pending');
      }
      return;
    }
    if (!pv.spec?.claimRef) {
      // The user named the volume in the claim; it is free.
      const why = volumeMismatch(pv, pvc);
      if (why) {
        this.o.recorder?.eventf(pvc, 'Warning', 'VolumeMismatch', 'Cannot bind to requested volume "%s": %s', volumeName, why);
        await this.setClaimPhase(pvc, 'Pending');
        return;
      }
      return this.bind(pv, pvc);
    }
    if (isVolumeBoundToClaim(pv, pvc)) return this.bind(pv, pvc);
    if (pvc.metadata.annotations?.[annBindCompleted]) {
      if (await this.setClaimPhase(pvc, 'Lost')) this.o.recorder?.event(pvc, 'Warning', 'ClaimMisbound', 'Two claims are bound to the same volume, this one is bound incorrectly');
    } else {
      this.o.recorder?.eventf(pvc, 'Warning', 'FailedBinding', 'volume "%s" already bound to a different claim.', volumeName);
      await this.setClaimPhase(pvc, 'Pending');
    }
  }

  private async syncUnboundClaim(pvc: PersistentVolumeClaim): Promise<void> {
    if (pvc.spec?.storageClassName === undefined || pvc.spec.storageClassName === null) {
      const def = newestDefault(this.classes.list(), defaultStorageClassAnnotations);
      if (def) {
        // Retroactive default StorageClass assignment (upstream's since 1.28).
        const next = structuredClone(pvc);
        next.spec = { ...next.spec, storageClassName: def.metadata.name };
        await this.o.client.resource(Resources.persistentVolumeClaims, pvc.metadata.namespace).update(next);
        this.log.info({ claim: claimKey(pvc), storageClass: def.metadata.name }, 'claim given the default storage class');
        return;
      }
    }
    const className = claimClass(pvc);
    const sc = className ? this.classes.get(className) : undefined;
    // WaitForFirstConsumer: the scheduler picks the volume (a reservation) with the pod's node.
    const pv = findMatchingVolume(pvc, this.volumes.list(), { delayBinding: waitsForFirstConsumer(sc) });
    if (pv) return this.bind(pv, pvc);

    await this.setClaimPhase(pvc, 'Pending');
    if (!className) {
      this.o.recorder?.event(pvc, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      return;
    }
    if (!sc) this.o.recorder?.eventf(pvc, 'Warning', 'ProvisioningFailed', 'storageclass.storage.k8s.io "%s" not found', className);
    else if (waitsForFirstConsumer(sc)) this.o.recorder?.event(pvc, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
    else if (sc.provisioner === hostPathProvisioner) await this.provisionHostPath(pvc, sc);
    else {
      this.o.recorder?.eventf(
        pvc,
        'Normal',
        'ExternalProvisioning',
        "Waiting for a volume to be created either by the external provisioner '%s' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.",
        sc.provisioner,
      );
    }
  }

  /**
   * The in-tree hostPath provisioner (--enable-hostpath-provisioner, for single-machine
   * clusters only, as upstream: the folder is made on the controller manager's host): a volume
   * `pvc-<claim uid>` of the claim's size at /tmp/hostpath_pv/<uuid>, reserved for the claim,
   * with the class's reclaim policy (Delete by default) and mount options.
   */
  private async provisionHostPath(pvc: PersistentVolumeClaim, sc: StorageClass): Promise<void> {
    if (!this.o.enableHostPathProvisioner) {
      this.o.recorder?.eventf(pvc, 'Warning', 'ProvisioningFailed', 'Failed to create provisioner: provisioning in volume plugin "%s" is disabled', hostPathProvisioner);
      return;
    }
    if (pvc.spec?.volumeMode === 'Block') {
      this.o.recorder?.eventf(pvc, 'Warning', 'ProvisioningFailed', 'Failed to provision volume with StorageClass "%s": %s does not support block volume provisioning', sc.metadata.name, hostPathProvisioner);
      return;
    }
    const name = `pvc-${pvc.metadata.uid}`;
    if (this.volumes.get(name)) return; // made already; the binding follows
    const pvcs = this.o.client.resource(Resources.persistentVolumeClaims, pvc.metadata.namespace);
    if (!pvc.metadata.annotations?.[annStorageProvisioner]) {
      const next = structuredClone(pvc);
      next.metadata.annotations = { ...next.metadata.annotations, [annStorageProvisioner]: hostPathProvisioner, [annBetaStorageProvisioner]: hostPathProvisioner };
      pvc = await pvcs.update(next);
    }
    const path = `/tmp/hostpath_pv/${randomUUID()}`;
    await mkdir(path, { recursive: true, mode: 0o750 });
    const pv: PersistentVolume = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name, annotations: { 'kubernetes.io/createdby': 'hostpath-dynamic-provisioner', [annBoundByController]: 'yes', 'pv.kubernetes.io/provisioned-by': hostPathProvisioner } },
      spec: {
        persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
        accessModes: pvc.spec?.accessModes?.length ? pvc.spec.accessModes : ['ReadWriteOnce'],
        capacity: { storage: pvc.spec?.resources?.requests?.['storage'] ?? '0' },
        hostPath: { path },
        claimRef: claimRefFor(pvc),
        storageClassName: sc.metadata.name,
        ...(sc.mountOptions?.length ? { mountOptions: sc.mountOptions } : {}),
      },
    };
    try {
      await this.o.client.resource(Resources.persistentVolumes).create(pv);
    } catch (err) {
      await rm(path, { recursive: true, force: true });
      this.o.recorder?.eventf(pvc, 'Warning', 'ProvisioningFailed', 'Failed to provision volume with StorageClass "%s": %s', sc.metadata.name, (err as Error).message);
      throw err;
    }
    this.o.recorder?.eventf(pvc, 'Normal', 'ProvisioningSucceeded', 'Successfully provisioned volume %s using %s', name, hostPathProvisioner);
  }

  /** Links volume and claim, each write skipped when already done (so a half-done bind completes). */
  private async bind(pv: PersistentVolume, pvc: PersistentVolumeClaim): Promise<void> {
    const pvs = this.o.client.resource(Resources.persistentVolumes);
    const before = { pv: pv.metadata.resourceVersion, pvc: pvc.metadata.resourceVersion };
    const ref = pv.spec?.claimRef;
    if (!ref || ref.uid !== pvc.metadata.uid || ref.kind !== 'PersistentVolumeClaim') {
      const next = structuredClone(pv);
      next.spec = { ...next.spec, claimRef: claimRefFor(pvc) };
      if (!ref) next.metadata.annotations = { ...next.metadata.annotations, [annBoundByController]: 'yes' };
      pv = await pvs.update(next);
    }
    if (pv.status?.phase !== 'Bound') pv = await this.setVolumePhase(pv, 'Bound');

    const pvcs = this.o.client.resource(Resources.persistentVolumeClaims, pvc.metadata.namespace);
    if (pvc.spec?.volumeName !== pv.metadata.name || pvc.metadata.annotations?.[annBindCompleted] !== 'yes') {
      const next = structuredClone(pvc);
      const annotations: Record<string, string> = { ...next.metadata.annotations, [annBindCompleted]: 'yes' };
      if (next.spec?.volumeName !== pv.metadata.name) {
        next.spec = { ...next.spec, volumeName: pv.metadata.name };
        annotations[annBoundByController] = 'yes';
      }
      next.metadata.annotations = annotations;
      pvc = await pvcs.update(next);
    }
    const status = pvc.status ?? {};
    const capacity = pv.spec?.capacity ?? {};
    const modes = pv.spec?.accessModes ?? [];
    if (status.phase !== 'Bound' || !jsonEqual(status.capacity ?? {}, capacity) || !jsonEqual(status.accessModes ?? [], modes)) {
      pvc = await pvcs.updateStatus({ ...pvc, status: { ...status, phase: 'Bound', accessModes: modes, capacity } });
    }
    // Resyncs of bound pairs write nothing and say nothing.
    if (before.pv !== pv.metadata.resourceVersion || before.pvc !== pvc.metadata.resourceVersion) this.log.info({ claim: claimKey(pvc), volume: pv.metadata.name }, 'claim bound');
  }

  /** Sets a claim's phase; true if it changed. */
  private async setClaimPhase(pvc: PersistentVolumeClaim, phase: ClaimPhase): Promise<boolean> {
    if (pvc.status?.phase === phase) return false;
    const status: NonNullable<PersistentVolumeClaim['status']> = { ...pvc.status, phase };
    if (phase !== 'Bound') {
      delete status.capacity;
      delete status.accessModes;
    }
    await this.o.client.resource(Resources.persistentVolumeClaims, pvc.metadata.namespace).updateStatus({ ...pvc, status });
    return true;
  }

  // ---- volumes --------------------------------------------------------------------------------

  private async syncVolume(name: string): Promise<void> {
    const pv = this.volumes.get(name);
    if (!pv) return;
    const ref = pv.spec?.claimRef;
    if (!ref || !ref.uid) {
      // Free, or reserved by hand for a claim that has not bound yet.
      if (pv.status?.phase !== 'Available' && pv.status?.phase !== 'Failed') await this.setVolumePhase(pv, 'Available');
      if (ref?.name) this.queue.add(`${claimPrefix}${ref.namespace ?? ''}/${ref.name}`);
      return;
    }
    let pvc = this.claims.get(`${ref.namespace ?? ''}/${ref.name}`);
    if (!pvc || pvc.metadata.uid !== ref.uid) {
      // The cache may lag behind a claim just created: ask the API server before releasing.
      pvc = await getIfExists(this.o.client.resource(Resources.persistentVolumeClaims, ref.namespace), ref.name!);
      if (pvc && pvc.metadata.uid !== ref.uid) pvc = undefined;
    }
    if (!pvc) {
      let released = pv;
      if (pv.status?.phase !== 'Released' && pv.status?.phase !== 'Failed') released = await this.setVolumePhase(pv, 'Released');
      if (released.status?.phase === 'Released') await this.reclaim(released);
      return;
    }
    if (!pvc.spec?.volumeName) {
      // Binding in progress (or a reservation by hand): the claim's sync finishes it.
      this.queue.add(claimPrefix + claimKey(pvc));
      return;
    }
    if (pvc.spec.volumeName === pv.metadata.name) {
      if (pv.status?.phase !== 'Bound') await this.setVolumePhase(pv, 'Bound');
      return;
    }
    // The claim is bound to another volume: free this one (keeping a reservation made by hand).
    const next = structuredClone(pv);
    if (pv.metadata.annotations?.[annBoundByController]) {
      delete next.spec!.claimRef;
      delete next.metadata.annotations![annBoundByController];
    } else {
      next.spec!.claimRef = { kind: ref.kind, apiVersion: ref.apiVersion, namespace: ref.namespace, name: ref.name };
    }
    const updated = await this.o.client.resource(Resources.persistentVolumes).update(next);
    await this.setVolumePhase(updated, 'Available');
  }

  private async setVolumePhase(pv: PersistentVolume, phase: VolumePhase, message?: string): Promise<PersistentVolume> {
    const status: NonNullable<PersistentVolume['status']> = { phase, lastPhaseTransitionTime: rfc3339(this.clock.now()) };
    if (message) status.message = message;
    return this.o.client.resource(Resources.persistentVolumes).updateStatus({ ...pv, status });
  }

  /** What the volume's reclaim policy says to do with a Released volume. */
  private async reclaim(pv: PersistentVolume): Promise<void> {
    const policy = pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
    if (policy === 'Retain') return;
    const name = pv.metadata.name!;
    if (policy === 'Recycle') {
      const msg = 'the Recycle reclaim policy is deprecated and tkube-controller-manager does not recycle volumes: use Retain, or Delete';
      this.o.recorder?.event(pv, 'Warning', 'VolumeFailedRecycle', msg);
      await this.setVolumePhase(pv, 'Failed', msg);
      return;
    }
    const path = pv.spec?.hostPath?.path;
    let failure: string | undefined;
    if (path === undefined) failure = `error getting deleter volume plugin for volume "${name}": no deletable volume plugin matched`;
    else if (!/\/tmp\/.+/.test(path)) failure = `host_path deleter only supports /tmp/.+ but received provided ${path}`;
    if (failure) {
      this.o.recorder?.event(pv, 'Warning', 'VolumeFailedDelete', failure);
      await this.setVolumePhase(pv, 'Failed', failure);
      return;
    }
    await rm(path!, { recursive: true, force: true });
    try {
      await this.o.client.resource(Resources.persistentVolumes).delete(name, { preconditions: { uid: pv.metadata.uid } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.log.info({ volume: name, path }, 'released volume deleted');
  }
}
