/** Defaulting for apps/v1, as upstream's pkg/apis/apps/v1/defaults.go. */
import { defaultPodSpec, defaultPersistentVolumeClaimSpec } from '../core/v1-defaults.js';
import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from './v1.js';

export function defaultDeployment(d: Deployment) {
  const spec = d.spec;
  if (!spec) return;
  spec.replicas ??= 1;
  spec.strategy ??= {};
  spec.strategy.type ??= 'RollingUpdate';
  if (spec.strategy.type === 'RollingUpdate') {
    spec.strategy.rollingUpdate ??= {};
    spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
    spec.strategy.rollingUpdate.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  if (spec.template?.spec) defaultPodSpec(spec.template.spec);
}

export function defaultReplicaSet(rs: ReplicaSet) {
  if (!rs.spec) return;
  rs.spec.replicas ??= 1;
  if (rs.spec.template?.spec) defaultPodSpec(rs.spec.template.spec);
}

export function defaultDaemonSet(ds: DaemonSet) {
  const spec = ds.spec;
  if (!spec) return;
  spec.updateStrategy ??= {};
  spec.updateStrategy.type ??= 'RollingUpdate';
  if (spec.updateStrategy.type === 'RollingUpdate') {
    spec.updateStrategy.rollingUpdate ??= {};
    spec.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
    spec.updateStrategy.rollingUpdate.maxSurge ??= 0;
  }
  spec.revisionHistoryLimit ??= 10;
  if (spec.template?.spec) defaultPodSpec(spec.template.spec);
}

export function defaultStatefulSet(ss: StatefulSet) {
  const spec = ss.spec;
  if (!spec) return;
  spec.replicas ??= 1;
  spec.podManagementPolicy ??= 'OrderedReady';
  spec.updateStrategy ??= {};
  spec.updateStrategy.type ??= 'RollingUpdate';
  if (spec.updateStrategy.type === 'RollingUpdate') {
    spec.updateStrategy.rollingUpdate ??= {};
    spec.updateStrategy.rollingUpdate.partition ??= 0;
  }
  spec.revisionHistoryLimit ??= 10;
  spec.persistentVolumeClaimRetentionPolicy ??= {};
  spec.persistentVolumeClaimRetentionPolicy.whenDeleted ??= 'Retain';
  spec.persistentVolumeClaimRetentionPolicy.whenScaled ??= 'Retain';
  if (spec.template?.spec) defaultPodSpec(spec.template.spec);
  // The claim templates are whole PersistentVolumeClaims and get their defaults too.
  for (const t of spec.volumeClaimTemplates ?? []) {
    defaultPersistentVolumeClaimSpec((t.spec ??= {}));
    t.status ??= {};
    t.status.phase ??= 'Pending';
  }
}
