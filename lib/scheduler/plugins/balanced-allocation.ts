/**
 * NodeResourcesBalancedAllocation: prefers nodes whose CPU and memory would be used in similar
 * proportions after placing the pod: score = (1 - standard deviation of the used fractions) *
 * 100. Fractions use the real requests (no defaults) and are capped at 1. Best-effort pods are
 * not scored, so that they do not all go to the one most balanced node.
 */
import { maxNodeScore, skipStatus, type CycleState, type PreScorePlugin, type ScorePlugin, type Status } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';

/** The score for used fractions of each resource (resources with no capacity left out). */
export function balancedScore(requested: number[], allocatable: number[]): number {
  const fractions: number[] = [];
  for (let i = 0; i < requested.length; i++) {
    if (allocatable[i] === 0) continue;
    fractions.push(Math.min(1, requested[i]! / allocatable[i]!));
  }
  let std = 0;
  if (fractions.length === 2) std = Math.abs((fractions[0]! - fractions[1]!) / 2);
  else if (fractions.length > 2) {
    const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length;
    std = Math.sqrt(fractions.reduce((a, f) => a + (f - mean) * (f - mean), 0) / fractions.length);
  }
  return Math.trunc((1 - std) * maxNodeScore);
}

export class BalancedAllocation implements PreScorePlugin, ScorePlugin {
  static readonly pluginName = 'NodeResourcesBalancedAllocation';
  readonly name = BalancedAllocation.pluginName;

  preScore(_state: CycleState, pod: PodInfo): Status | undefined {
    return pod.requests.milliCPU === 0 && pod.requests.memory === 0 ? skipStatus(this.name) : undefined;
  }

  score(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    const a = nodeInfo.allocatable;
    const r = nodeInfo.requested;
    return balancedScore([r.milliCPU + pod.requests.milliCPU, r.memory + pod.requests.memory], [a.milliCPU, a.memory]);
  }
}
