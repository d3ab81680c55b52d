/** NodeName: a pod that names its node (spec.nodeName) fits only there. */
import { unresolvable, type ClusterEvent, type FilterPlugin, type Status } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';

export const errReasonNodeName = "node(s) didn't match the requested node name";

export class NodeName implements FilterPlugin {
  static readonly pluginName = 'NodeName';
  readonly name = NodeName.pluginName;
  readonly events: readonly ClusterEvent[] = ['NodeAdd'];

  filter(_state: unknown, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    const want = pod.pod.spec?.nodeName;
    if (!want || want === nodeInfo.name) return undefined;
    return unresolvable(this.name, errReasonNodeName);
  }
}
