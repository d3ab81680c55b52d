/**
 * The stable identity of StatefulSet pods: the name `<set>-<ordinal>`, its labels, the
 * hostname and subdomain that give it a DNS name under the set's headless service, and the
 * claims `<claim>-<set>-<ordinal>` made from volumeClaimTemplates.
 */
import type { PersistentVolumeClaim, Pod, PodTemplateSpec, StatefulSet } from '../../api/index.js';
import { deepCopy } from '../../client/index.js';
import { newControllerRef, podRevisionLabel } from '../replicaset/index.js';

export const podNameLabel = 'statefulset.kubernetes.io/pod-name';
export const podIndexLabel = 'apps.kubernetes.io/pod-index';

const ordinalPattern = /^(.*)-([0-9]+)$/;

/** The set name and ordinal a pod name encodes, or ordinal -1. */
export function parentAndOrdinal(podName: string): { parent: string; ordinal: number } {
  const m = ordinalPattern.exec(podName);
  if (!m) return { parent: '', ordinal: -1 };
  const ordinal = Number(m[2]);
  return Number.isSafeInteger(ordinal) ? { parent: m[1]!, ordinal } : { parent: '', ordinal: -1 };
}

export const podName = (set: StatefulSet, ordinal: number) => `${set.metadata.name}-${ordinal}`;
export const startOrdinal = (set: StatefulSet) => set.spec?.ordinals?.start ?? 0;
export const setReplicas = (set: StatefulSet) => set.spec?.replicas ?? 1;

/** Whether a pod's name makes it one of this set's pods. */
export function isMemberOf(set: StatefulSet, pod: Pod): boolean {
  return parentAndOrdinal(pod.metadata.name ?? '').parent === set.metadata.name;
}

export function claimName(set: StatefulSet, claimTemplate: string, ordinal: number): string {
  return `${claimTemplate}-${podName(set, ordinal)}`;
}

/** The claims a pod of the set needs, by template name (upstream getPersistentVolumeClaims). */
export function claimsFor(set: StatefulSet, pod: Pod): Map<string, PersistentVolumeClaim> {
  const ordinal = parentAndOrdinal(pod.metadata.name ?? '').ordinal;
  const out = new Map<string, PersistentVolumeClaim>();
  for (const t of set.spec?.volumeClaimTemplates ?? []) {
    const c = deepCopy(t);
    const name = claimName(set, t.metadata.name ?? '', ordinal);
    c.apiVersion = 'v1';
    c.kind = 'PersistentVolumeClaim';
    c.metadata = { name, namespace: set.metadata.namespace, labels: { ...(t.metadata.labels ?? {}), ...(set.spec?.selector?.matchLabels ?? {}) } };
    if (t.metadata.annotations) c.metadata.annotations = { ...t.metadata.annotations };
    delete c.status;
    // With a Delete retention policy the claim belongs to the set (and goes with it).
    if (set.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete') c.metadata.ownerReferences = [{ ...newControllerRef(set, 'apps/v1', 'StatefulSet'), controller: false }];
    out.set(t.metadata.name ?? '', c);
  }
  return out;
}

export function identityMatches(set: StatefulSet, pod: Pod): boolean {
  const { parent, ordinal } = parentAndOrdinal(pod.metadata.name ?? '');
  return (
    ordinal >= 0 &&
    parent === set.metadata.name &&
    pod.metadata.name === podName(set, ordinal) &&
    pod.metadata.namespace === set.metadata.namespace &&
    pod.metadata.labels?.[podNameLabel] === pod.metadata.name &&
    pod.metadata.labels?.[podIndexLabel] === String(ordinal)
  );
}

export function storageMatches(set: StatefulSet, pod: Pod): boolean {
  const ordinal = parentAndOrdinal(pod.metadata.name ?? '').ordinal;
  if (ordinal < 0) return false;
  const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  for (const t of set.spec?.volumeClaimTemplates ?? []) {
    const v = volumes.get(t.metadata.name ?? '');
    if (!v?.persistentVolumeClaim || v.persistentVolumeClaim.claimName !== claimName(set, t.metadata.name ?? '', ordinal)) return false;
  }
  return true;
}

/** Sets the labels, hostname and subdomain that make up a pod's identity. */
export function updateIdentity(set: StatefulSet, pod: Pod): void {
  const ordinal = parentAndOrdinal(pod.metadata.name ?? '').ordinal;
  pod.metadata.name = podName(set, ordinal);
  pod.metadata.namespace = set.metadata.namespace;
  pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [podNameLabel]: pod.metadata.name, [podIndexLabel]: String(ordinal) };
  pod.spec = { ...pod.spec!, hostname: pod.metadata.name };
  if (set.spec?.serviceName) pod.spec.subdomain = set.spec.serviceName;
}

/** Points the claim-template volumes at the pod's own claims, replacing template volumes of the same name. */
export function updateStorage(set: StatefulSet, pod: Pod): void {
  const templates = set.spec?.volumeClaimTemplates ?? [];
  if (templates.length === 0) return;
  const ordinal = parentAndOrdinal(pod.metadata.name ?? '').ordinal;
  const claimVolumes = templates.map((t) => ({ name: t.metadata.name ?? '', persistentVolumeClaim: { claimName: claimName(set, t.metadata.name ?? '', ordinal) } }));
  const names = new Set(claimVolumes.map((v) => v.name));
  pod.spec = { ...pod.spec!, volumes: [...claimVolumes, ...(pod.spec?.volumes ?? []).filter((v) => !names.has(v.name))] };
}

/** A new pod of the set at `ordinal` from `template`, labelled with the revision it is made from. */
export function newStatefulSetPod(set: StatefulSet, template: PodTemplateSpec | undefined, ordinal: number, revision: string): Pod {
  const t = deepCopy(template ?? { spec: { containers: [] } });
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(set, ordinal),
      namespace: set.metadata.namespace,
      labels: { ...(t.metadata?.labels ?? {}) },
      ownerReferences: [newControllerRef(set, 'apps/v1', 'StatefulSet')],
    },
    spec: t.spec,
  };
  if (t.metadata?.annotations) pod.metadata.annotations = { ...t.metadata.annotations };
  if (t.metadata?.finalizers) pod.metadata.finalizers = [...t.metadata.finalizers];
  updateIdentity(set, pod);
  updateStorage(set, pod);
  pod.metadata.labels![podRevisionLabel] = revision;
  return pod;
}

export const podRevision = (pod: Pod) => pod.metadata.labels?.[podRevisionLabel] ?? '';
