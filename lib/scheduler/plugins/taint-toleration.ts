/**
 * TaintToleration. Filter: a node's NoSchedule and NoExecute taints must all be tolerated.
 * Score: fewer untolerated PreferNoSchedule taints is better (normalized in reverse, so the
 * node with the most such taints scores 0 and nodes with none score 100).
 */
import type { Toleration } from '../../api/index.js';
import { defaultNormalizeScore, skipStatus, unresolvable, type ClusterEvent, type CycleState, type FilterPlugin, type NodeScore, type PreScorePlugin, type ScorePlugin, type StateData, type Status } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';
import { findUntoleratedTaint, tolerationsTolerateTaint } from '../taints.js';

export function errReasonUntoleratedTaint(key: string, value: string | undefined): string {
  return `node(s) had untolerated taint {${key}: ${value ?? ''}}`;
}

class PreScoreState implements StateData {
  constructor(readonly tolerations: Toleration[]) {}
  clone(): StateData {
    return this;
  }
}

const preScoreKey = 'PreScoreTaintToleration';

export class TaintToleration implements FilterPlugin, PreScorePlugin, ScorePlugin {
  static readonly pluginName = 'TaintToleration';
  readonly name = TaintToleration.pluginName;
  readonly events: readonly ClusterEvent[] = ['NodeAdd', 'NodeTaintChange'];

  filter(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    const taint = findUntoleratedTaint(nodeInfo.node?.spec?.taints, pod.pod.spec?.tolerations, ['NoSchedule', 'NoExecute']);
    if (!taint) return undefined;
    return unresolvable(this.name, errReasonUntoleratedTaint(taint.key, taint.value));
  }

  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | undefined {
    // Without PreferNoSchedule taints every node scores 100: the same for all, so skip the work.
    if (!nodes.some((n) => n.node?.spec?.taints?.some((t) => t.effect === 'PreferNoSchedule'))) return skipStatus(this.name);
    const tolerations = (pod.pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    state.write(preScoreKey, new PreScoreState(tolerations));
    return undefined;
  }

  score(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    const tolerations = state.read<PreScoreState>(preScoreKey)?.tolerations ?? pod.pod.spec?.tolerations ?? [];
    let n = 0;
    for (const taint of nodeInfo.node?.spec?.taints ?? []) {
      if (taint.effect === 'PreferNoSchedule' && !tolerationsTolerateTaint(tolerations, taint)) n++;
    }
    return n;
  }

  normalizeScores(_state: CycleState, _pod: PodInfo, scores: NodeScore[]): void {
    defaultNormalizeScore(scores, true);
  }
}
