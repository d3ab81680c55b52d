/** NodeUnschedulable: no new pods on a cordoned node (spec.unschedulable), unless the pod tolerates the cordon taint. */
import { unresolvable, type ClusterEvent, type FilterPlugin, type Status } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';
import { taintNodeUnschedulable, tolerationsTolerateTaint } from '../taints.js';

export const errReasonUnschedulable = 'node(s) were unschedulable';

export class NodeUnschedulable implements FilterPlugin {
  static readonly pluginName = 'NodeUnschedulable';
  readonly name = NodeUnschedulable.pluginName;
  readonly events: readonly ClusterEvent[] = ['NodeAdd', 'NodeSchedulableChange'];

  filter(_state: unknown, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    if (!nodeInfo.node?.spec?.unschedulable) return undefined;
    // DaemonSet pods carry this toleration so that they still land on cordoned nodes.
    if (tolerationsTolerateTaint(pod.pod.spec?.tolerations, { key: taintNodeUnschedulable, effect: 'NoSchedule' })) return undefined;
    return unresolvable(this.name, errReasonUnschedulable);
  }
}
