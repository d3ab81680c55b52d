/**
 * VolumeRestrictions: volumes that only one pod (or one node) may use at a time.
 *  - A claim with access mode ReadWriteOncePod may be used by one pod in the whole cluster.
 *  - The same GCE persistent disk, AWS EBS volume, iSCSI target or Ceph RBD image cannot be
 *    mounted by two pods on one node unless (except for EBS) both mount it read-only.
 */
import type { Pod, Volume } from '../../api/index.js';
import { skipStatus, unschedulable, type ClusterEvent, type CycleState, type FilterPlugin, type PluginHandle, type PreFilterPlugin, type PreFilterExtensions, type StateData, type Status } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import { podClaimNames, type PodInfo } from '../pod-info.js';

export const errReasonDiskConflict = 'node(s) had no available disk';
export const errReasonReadWriteOncePodConflict = 'node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode';

class PreFilterState implements StateData {
  constructor(
    /** `namespace/claim` of the pod's ReadWriteOncePod claims. */
    readonly rwopClaims: Set<string>,
    /** Other pods using one of them. */
    public conflicts: number,
  ) {}
  clone(): PreFilterState {
    return new PreFilterState(this.rwopClaims, this.conflicts);
  }
}

const preFilterKey = 'PreFilterVolumeRestrictions';

function hasDiskVolume(pod: Pod): boolean {
  return (pod.spec?.volumes ?? []).some((v) => v.gcePersistentDisk || v.awsElasticBlockStore || v.iscsi || v.rbd);
}

/** Whether `v` (of the incoming pod) clashes with a volume of `other`. */
export function isVolumeConflict(v: Volume, other: Pod): boolean {
  for (const e of other.spec?.volumes ?? []) {
    if (v.gcePersistentDisk && e.gcePersistentDisk) {
      if (v.gcePersistentDisk.pdName === e.gcePersistentDisk.pdName && !(v.gcePersistentDisk.readOnly && e.gcePersistentDisk.readOnly)) return true;
    }
    if (v.awsElasticBlockStore && e.awsElasticBlockStore) {
      if (v.awsElasticBlockStore.volumeID === e.awsElasticBlockStore.volumeID) return true;
    }
    if (v.iscsi && e.iscsi) {
      if (v.iscsi.iqn === e.iscsi.iqn && !(v.iscsi.readOnly && e.iscsi.readOnly)) return true;
    }
    if (v.rbd && e.rbd) {
      const overlap = (v.rbd.monitors ?? []).some((m) => (e.rbd!.monitors ?? []).includes(m));
      if (overlap && (v.rbd.pool ?? 'rbd') === (e.rbd.pool ?? 'rbd') && v.rbd.image === e.rbd.image && !(v.rbd.readOnly && e.rbd.readOnly)) return true;
    }
  }
  return false;
}

export class VolumeRestrictions implements PreFilterPlugin, FilterPlugin {
  static readonly pluginName = 'VolumeRestrictions';
  readonly name = VolumeRestrictions.pluginName;
  readonly events: readonly ClusterEvent[] = ['AssignedPodDelete', 'PVCChange'];
  readonly preFilterExtensions: PreFilterExtensions;

  constructor(private readonly h: PluginHandle) {
    const adjust = (state: CycleState, pod: PodInfo, other: PodInfo, n: number) => {
      const s = state.read<PreFilterState>(preFilterKey);
      if (!s || s.rwopClaims.size === 0 || other.key === pod.key) return;
      const ns = other.pod.metadata.namespace ?? '';
      for (const c of podClaimNames(other.pod)) if (s.rwopClaims.has(`${ns}/${c}`)) s.conflicts += n;
    };
    this.preFilterExtensions = {
      addPod: (state, pod, added) => adjust(state, pod, added, 1),
      removePod: (state, pod, removed) => adjust(state, pod, removed, -1),
    };
  }

  preFilter(state: CycleState, pod: PodInfo): Status | undefined {
    const ns = pod.pod.metadata.namespace ?? '';
    const rwop = new Set<string>();
    for (const name of podClaimNames(pod.pod)) {
      const pvc = this.h.listers.persistentVolumeClaims?.namespace(ns).get(name);
      if (pvc?.spec?.accessModes?.includes('ReadWriteOncePod')) rwop.add(`${ns}/${name}`);
    }
    if (rwop.size === 0 && !hasDiskVolume(pod.pod)) return skipStatus(this.name);
    let conflicts = 0;
    if (rwop.size > 0) {
      for (const ni of this.h.snapshot.nodeInfos()) {
        for (const key of rwop) {
          const n = ni.pvcRefCounts.get(key) ?? 0;
          // The pod itself does not conflict with its own use (it may be counted while assumed).
          conflicts += n - (ni.pods.some((p) => p.key === pod.key) ? Math.min(n, 1) : 0);
        }
      }
    }
    state.write(preFilterKey, new PreFilterState(rwop, conflicts));
    return undefined;
  }

  filter(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    const s = state.read<PreFilterState>(preFilterKey);
    if (s && s.conflicts > 0) return unschedulable(this.name, errReasonReadWriteOncePodConflict);
    if (!hasDiskVolume(pod.pod)) return undefined;
    for (const v of pod.pod.spec?.volumes ?? []) {
      if (!(v.gcePersistentDisk || v.awsElasticBlockStore || v.iscsi || v.rbd)) continue;
      for (const other of nodeInfo.pods) if (isVolumeConflict(v, other.pod)) return unschedulable(this.name, errReasonDiskConflict);
    }
    return undefined;
  }
}
