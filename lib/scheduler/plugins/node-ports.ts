/** NodePorts: the pod's host ports (protocol, IP, port) must be free on the node. */
import { skipStatus, unschedulable, type ClusterEvent, type CycleState, type FilterPlugin, type PreFilterPlugin, type Status } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';

export const errReasonNodePorts = "node(s) didn't have free ports for the requested pod ports";

export class NodePorts implements PreFilterPlugin, FilterPlugin {
  static readonly pluginName = 'NodePorts';
  readonly name = NodePorts.pluginName;
  readonly events: readonly ClusterEvent[] = ['NodeAdd', 'AssignedPodDelete'];

  preFilter(_state: CycleState, pod: PodInfo): Status | undefined {
    return pod.hostPorts.length === 0 ? skipStatus(this.name) : undefined;
  }

  filter(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    if (nodeInfo.usedPorts.size === 0) return undefined;
    for (const p of pod.hostPorts) if (nodeInfo.usedPorts.conflicts(p)) return unschedulable(this.name, errReasonNodePorts);
    return undefined;
  }
}
