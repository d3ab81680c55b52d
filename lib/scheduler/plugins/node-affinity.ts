/**
 * NodeAffinity. Filter: spec.nodeSelector and the required node affinity must match the node.
 * Score: the summed weights of the preferred terms the node matches, scaled so that the best
 * node scores 100.
 */
import { defaultNormalizeScore, unresolvable, skipStatus, type ClusterEvent, type CycleState, type FilterPlugin, type NodeScore, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin, type StateData, type Status } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import { preferredNodeAffinityScore, RequiredNodeAffinity } from '../node-selector.js';
import type { PodInfo } from '../pod-info.js';

export const errReasonNodeAffinity = "node(s) didn't match Pod's node affinity/selector";

class PreFilterState implements StateData {
  constructor(readonly required: RequiredNodeAffinity) {}
  clone(): StateData {
    return this;
  }
}

const preFilterKey = 'PreFilterNodeAffinity';

export class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  static readonly pluginName = 'NodeAffinity';
  readonly name = NodeAffinity.pluginName;
  readonly events: readonly ClusterEvent[] = ['NodeAdd', 'NodeLabelChange'];

  preFilter(state: CycleState, pod: PodInfo): Status | undefined {
    const required = new RequiredNodeAffinity(pod.pod);
    if (required.isEmpty) return skipStatus(this.name);
    state.write(preFilterKey, new PreFilterState(required));
    return undefined;
  }

  filter(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    const node = nodeInfo.node;
    if (!node) return undefined;
    const required = state.read<PreFilterState>(preFilterKey)?.required ?? new RequiredNodeAffinity(pod.pod);
    return required.matches(node) ? undefined : unresolvable(this.name, errReasonNodeAffinity);
  }

  preScore(_state: CycleState, pod: PodInfo): Status | undefined {
    const preferred = pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    return preferred.length === 0 ? skipStatus(this.name) : undefined;
  }

  score(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    return nodeInfo.node ? preferredNodeAffinityScore(pod.pod, nodeInfo.node) : 0;
  }

  normalizeScores(_state: CycleState, _pod: PodInfo, scores: NodeScore[]): void {
    defaultNormalizeScore(scores, false);
  }
}
