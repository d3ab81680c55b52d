/**
 * Matching PersistentVolumeClaims to PersistentVolumes, without I/O (upstream's
 * FindMatchingVolume and checkVolumeSatisfyClaim):
 *
 *   - a volume reserved for the claim by hand (spec.claimRef naming it, with its uid or none)
 *     is taken first;
 *   - otherwise an Available volume with no claimRef whose storage class equals the claim's
 *     ("" matches volumes without a class), whose access modes include all the claim's, whose
 *     volume mode equals the claim's (Filesystem by default), whose labels match the claim's
 *     selector and whose capacity is at least the request; among those the one with the fewest
 *     access modes, then the smallest, wins.
 *
 * Volumes being deleted never match.
 */
import { quantityToNumber, type PersistentVolume, type PersistentVolumeClaim, type StorageClass } from '../../api/index.js';
import { labelSelectorFromObject } from '../../machinery/index.js';

/** On a volume (and a claim) the controller bound, rather than a user's pre-binding. */
export const annBoundByController = 'pv.kubernetes.io/bound-by-controller';
/** On a claim whose binding the controller completed. */
export const annBindCompleted = 'pv.kubernetes.io/bind-completed';

/** The spec.claimRef that binds (or reserves) a volume to this claim. */
export function claimRefFor(pvc: PersistentVolumeClaim): NonNullable<NonNullable<PersistentVolume['spec']>['claimRef']> {
  return { kind: 'PersistentVolumeClaim', namespace: pvc.metadata.namespace, name: pvc.metadata.name, uid: pvc.metadata.uid, apiVersion: 'v1', resourceVersion: pvc.metadata.resourceVersion };
}

export function claimKey(pvc: PersistentVolumeClaim): string {
  return `${pvc.metadata.namespace}/${pvc.metadata.name}`;
}

/** The claim's storage class as the volume must carry it ("" for none). */
export function claimClass(pvc: PersistentVolumeClaim): string {
  return pvc.spec?.storageClassName ?? '';
}

export function volumeClass(pv: PersistentVolume): string {
  return pv.spec?.storageClassName ?? pv.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '';
}

function requested(pvc: PersistentVolumeClaim): number {
  const q = pvc.spec?.resources?.requests?.['storage'];
  return q === undefined ? 0 : quantityToNumber(q);
}

function capacity(pv: PersistentVolume): number {
  const q = pv.spec?.capacity?.['storage'];
  return q === undefined ? 0 : quantityToNumber(q);
}

/** Whether the volume's claimRef names this claim (and, if it has a uid, this incarnation). */
export function isVolumeBoundToClaim(pv: PersistentVolume, pvc: PersistentVolumeClaim): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref || ref.name !== pvc.metadata.name || (ref.namespace ?? '') !== (pvc.metadata.namespace ?? '')) return false;
  return !ref.uid || ref.uid === pvc.metadata.uid;
}

/** Why the volume cannot serve the claim (upstream's messages), or undefined if it can. */
export function volumeMismatch(pv: PersistentVolume, pvc: PersistentVolumeClaim): string | undefined {
  if (capacity(pv) < requested(pvc)) return 'requested PV is too small';
  if (volumeClass(pv) !== claimClass(pvc)) return 'storageClassName does not match';
  if ((pv.spec?.volumeMode ?? 'Filesystem') !== (pvc.spec?.volumeMode ?? 'Filesystem')) return 'incompatible volumeMode';
  const have = new Set(pv.spec?.accessModes ?? []);
  if (!(pvc.spec?.accessModes ?? []).every((m) => have.has(m))) return 'incompatible accessMode';
  return undefined;
}

export interface MatchOptions {
  /**
   * The claim's class binds only once a pod using it is scheduled (WaitForFirstConsumer): with
   * no `nodeMatches`, only a volume reserved for the claim may match (the PV controller); with
   * it, the scheduler picks among volumes usable from the node.
   */
  delayBinding?: boolean;
  /** Whether the volume can be used from the node being considered (its nodeAffinity). */
  nodeMatches?: (pv: PersistentVolume) => boolean;
  /** Volumes set aside for other claims or pods (the scheduler's assumed bindings). */
  exclude?: ReadonlySet<string>;
}

/** The best volume for an unbound claim, or undefined. */
export function findMatchingVolume(pvc: PersistentVolumeClaim, volumes: PersistentVolume[], opts: MatchOptions = {}): PersistentVolume | undefined {
  const selector = pvc.spec?.selector ? labelSelectorFromObject(pvc.spec.selector) : undefined;
  let best: PersistentVolume | undefined;
  const rank = (pv: PersistentVolume) => [(pv.spec?.accessModes ?? []).length, capacity(pv)] as const;
  for (const pv of volumes) {
    if (pv.metadata.deletionTimestamp || opts.exclude?.has(pv.metadata.name!)) continue;
    if ((pv.spec?.volumeMode ?? 'Filesystem') !== (pvc.spec?.volumeMode ?? 'Filesystem')) continue;
    const usable = !opts.nodeMatches || opts.nodeMatches(pv);
    if (isVolumeBoundToClaim(pv, pvc)) return usable ? pv : undefined;
    if (opts.delayBinding && !opts.nodeMatches) continue;
    if (pv.status?.phase !== 'Available' || pv.spec?.claimRef) continue;
    if (selector && !selector.matches(pv.metadata.labels ?? {})) continue;
    if (volumeMismatch(pv, pvc) || !usable) continue;
    if (!best) {
      best = pv;
      continue;
    }
    const [a, b] = [rank(pv), rank(best)];
    if (a[0] < b[0] || (a[0] === b[0] && a[1] < b[1])) best = pv;
  }
  return best;
}

/** Whether a class binds only once a pod using the claim is scheduled. */
export function waitsForFirstConsumer(sc: StorageClass | undefined): boolean {
  return sc?.volumeBindingMode === 'WaitForFirstConsumer';
}
