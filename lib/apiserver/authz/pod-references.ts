/**
 * The objects a pod refers to by name in its own namespace: what its kubelet must be able to
 * read to run it (the edges of upstream's node authorizer graph).
 */
import { ephemeralClaimName, type Pod } from '../../api/index.js';

export interface PodReferences {
  secrets: Set<string>;
  configmaps: Set<string>;
  persistentvolumeclaims: Set<string>;
  serviceaccount: string;
}

type Any = Record<string, any>;

export function podReferences(pod: Pod): PodReferences {
  const refs: PodReferences = { secrets: new Set(), configmaps: new Set(), persistentvolumeclaims: new Set(), serviceaccount: pod.spec?.serviceAccountName || 'default' };
  const spec = (pod.spec ?? {}) as Any;
  for (const s of spec.imagePullSecrets ?? []) if (s?.name) refs.secrets.add(s.name);
  const containers: Any[] = [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])];
  for (const c of containers) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.secretKeyRef?.name) refs.secrets.add(e.valueFrom.secretKeyRef.name);
      if (e.valueFrom?.configMapKeyRef?.name) refs.configmaps.add(e.valueFrom.configMapKeyRef.name);
    }
    for (const e of c.envFrom ?? []) {
      if (e.secretRef?.name) refs.secrets.add(e.secretRef.name);
      if (e.configMapRef?.name) refs.configmaps.add(e.configMapRef.name);
    }
  }
  for (const v of (spec.volumes ?? []) as Any[]) {
    if (v.secret?.secretName) refs.secrets.add(v.secret.secretName);
    if (v.configMap?.name) refs.configmaps.add(v.configMap.name);
    if (v.persistentVolumeClaim?.claimName) refs.persistentvolumeclaims.add(v.persistentVolumeClaim.claimName);
    // A generic ephemeral volume's claim is named after the pod and the volume.
    if (v.ephemeral) refs.persistentvolumeclaims.add(ephemeralClaimName(pod, v.name));
    for (const src of v.projected?.sources ?? []) {
      if (src.secret?.name) refs.secrets.add(src.secret.name);
      if (src.configMap?.name) refs.configmaps.add(src.configMap.name);
    }
    if (v.azureFile?.secretName) refs.secrets.add(v.azureFile.secretName);
    // Volume plugins that take credentials from a secret: cephfs, cinder, flexVolume, iscsi, rbd, scaleIO, storageos, csi.
    for (const key of ['cephfs', 'cinder', 'flexVolume', 'iscsi', 'rbd', 'scaleIO', 'storageos']) if (v[key]?.secretRef?.name) refs.secrets.add(v[key].secretRef.name);
    if (v.csi?.nodePublishSecretRef?.name) refs.secrets.add(v.csi.nodePublishSecretRef.name);
  }
  return refs;
}
