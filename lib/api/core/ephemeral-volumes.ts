/**
 * Generic ephemeral volumes: a pod volume given as `ephemeral.volumeClaimTemplate` is served by
 * the claim `<pod>-<volume>`, which the ephemeral volume controller creates owned by the pod.
 * A claim of that name the pod does not own is never used (upstream's VolumeIsForPod).
 */
import type { PersistentVolumeClaim } from './v1-storage.js';

interface PodLike {
  metadata: { name?: string | null; namespace?: string | null; uid?: string | null };
}

export function ephemeralClaimName(pod: PodLike, volume: string): string {
  return `${pod.metadata.name}-${volume}`;
}

/** Why the claim cannot serve the pod's ephemeral volume (upstream's text), or undefined if it can. */
export function ephemeralClaimMismatch(pod: PodLike, pvc: PersistentVolumeClaim): string | undefined {
  if (pvc.metadata.ownerReferences?.some((r) => r.controller && r.uid === pod.metadata.uid)) return undefined;
  return `PVC ${pvc.metadata.namespace}/${pvc.metadata.name} was not created for pod ${pod.metadata.namespace}/${pod.metadata.name} (pod is not owner)`;
}
