/**
 * VolumeBinding, for claims that are already bound: the pod's PersistentVolumeClaims must
 * exist, be bound, and the bound PersistentVolumes' node affinity (local volumes, zonal disks)
 * must match the node.
 *
 * What it does not do (upstream's scheduler does): bind claims of WaitForFirstConsumer storage
 * classes to a volume (or ask a provisioner for one) on the chosen node. Such a claim keeps the
 * pod pending with a message saying so.
 */
import type { PersistentVolume } from '../../api/index.js';
import { skipStatus, unresolvable, type ClusterEvent, type CycleState, type FilterPlugin, type PluginHandle, type PreFilterPlugin, type StateData, type Status } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import { nodeSelectorTermsMatch, type NodeSelectorTerm } from '../node-selector.js';
import { podClaimNames, type PodInfo } from '../pod-info.js';

export const errReasonBindConflict = "node(s) didn't find available persistent volumes to bind";
export const errReasonNodeConflict = 'node(s) had volume node affinity conflict';
export const errReasonPVNotExist = 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';
export const errReasonUnboundImmediate = 'pod has unbound immediate PersistentVolumeClaims';

class PreFilterState implements StateData {
  constructor(
    readonly volumes: PersistentVolume[],
    readonly missingPV: boolean,
  ) {}
  clone(): StateData {
    return this;
  }
}

const preFilterKey = 'PreFilterVolumeBinding';

export class VolumeBinding implements PreFilterPlugin, FilterPlugin {
  static readonly pluginName = 'VolumeBinding';
  readonly name = VolumeBinding.pluginName;
  readonly events: readonly ClusterEvent[] = ['PVCChange', 'PVChange', 'StorageClassChange', 'NodeAdd', 'NodeLabelChange'];

  constructor(private readonly h: PluginHandle) {}

  preFilter(state: CycleState, pod: PodInfo): Status | undefined {
    const claims = podClaimNames(pod.pod);
    if (claims.length === 0) return skipStatus(this.name);
    const ns = pod.pod.metadata.namespace ?? '';
    const volumes: PersistentVolume[] = [];
    let missingPV = false;
    for (const name of claims) {
      const pvc = this.h.listers.persistentVolumeClaims?.namespace(ns).get(name);
      if (!pvc) return unresolvable(this.name, `persistentvolumeclaim "${name}" not found`);
      if (pvc.metadata.deletionTimestamp) return unresolvable(this.name, `persistentvolumeclaim "${name}" is being deleted`);
      const pvName = pvc.spec?.volumeName;
      if (!pvName) {
        const className = pvc.spec?.storageClassName;
        const sc = className ? this.h.listers.storageClasses?.get(className) : undefined;
        if (sc?.volumeBindingMode === 'WaitForFirstConsumer') {
          return unresolvable(this.name, `persistentvolumeclaim "${name}" waits for its first consumer, and tkube-scheduler does not bind volumes: bind the claim to a volume first`);
        }
        return unresolvable(this.name, errReasonUnboundImmediate);
      }
      const pv = this.h.listers.persistentVolumes?.get(pvName);
      if (!pv) missingPV = true;
      else volumes.push(pv);
    }
    state.write(preFilterKey, new PreFilterState(volumes, missingPV));
    return undefined;
  }

  filter(state: CycleState, _pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    const s = state.read<PreFilterState>(preFilterKey);
    const node = nodeInfo.node;
    if (!s || !node) return undefined;
    if (s.missingPV) return unresolvable(this.name, errReasonPVNotExist);
    for (const pv of s.volumes) {
      const required = pv.spec?.nodeAffinity?.required;
      if (required && !nodeSelectorTermsMatch(required.nodeSelectorTerms as NodeSelectorTerm[], node)) return unresolvable(this.name, errReasonNodeConflict);
    }
    return undefined;
  }
}
