/**
 * One scheduling decision: which node, or why none (a FitError). Pure over the framework and
 * the snapshot, so it is tested without an API server.
 *
 * Only part of a large cluster is examined per pod (upstream's percentageOfNodesToScore):
 * filtering stops once enough feasible nodes are found, starting each cycle where the last
 * one stopped so that every node gets its turn.
 */
import { CycleState, isRejection, type ClusterSnapshot, type Framework, type Status } from './framework.js';
import type { NodeInfo } from './node-info.js';
import type { PodInfo } from './pod-info.js';

/** Below this many nodes, every node is examined. */
export const minFeasibleNodesToFind = 100;
export const minFeasibleNodesPercentageToFind = 5;

export const noNodesAvailableMessage = 'no nodes available to schedule pods';

/**
 * How many feasible nodes to look for: all below 100 nodes; else `percentage` of them (when 0,
 * adaptive: 50% minus 1% per 125 nodes, at least 5%), and never fewer than 100.
 */
export function numFeasibleNodesToFind(numAllNodes: number, percentage: number): number {
  if (numAllNodes < minFeasibleNodesToFind) return numAllNodes;
  let p = percentage;
  if (p <= 0) p = Math.max(minFeasibleNodesPercentageToFind, 50 - Math.trunc(numAllNodes / 125));
  if (p >= 100) return numAllNodes;
  const n = Math.trunc((numAllNodes * p) / 100);
  return Math.max(n, minFeasibleNodesToFind);
}

export interface Diagnosis {
  /** Each node that failed, with its (first) failing status. */
  nodeToStatus: Map<string, Status>;
  /** Set when a PreFilter plugin rejected the pod for every node. */
  preFilterMsg?: string;
  /** Set after preemption failed ("preemption: ..."). */
  postFilterMsg?: string;
  /** Plugins that rejected the pod somewhere: the queue retries it on events they care about. */
  unschedulablePlugins: Set<string>;
}

/** The reasons of a status, joined as upstream's Status.Message(). */
export function statusMessage(s: Status): string {
  return s.reasons.join(', ');
}

/**
 * `0/3 nodes are available: 1 node(s) had untolerated taint {...}, 2 Insufficient cpu.` and,
 * after preemption, ` preemption: 0/3 nodes are available: ...`. Reasons are counted over the
 * nodes and sorted as strings, as upstream does.
 */
export function fitErrorMessage(numAllNodes: number, d: Pick<Diagnosis, 'nodeToStatus' | 'preFilterMsg' | 'postFilterMsg'>): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (d.preFilterMsg) {
    msg += ` ${d.preFilterMsg}.`;
  } else {
    const counts = new Map<string, number>();
    for (const s of d.nodeToStatus.values()) for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
    const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort();
    if (parts.length > 0) msg += ` ${parts.join(', ')}.`;
  }
  // Upstream appends " <msg>." here too, which doubles the period after a nested FitError
  // message ("...incoming pod.."); one period is enough.
  if (d.postFilterMsg) msg += ` ${d.postFilterMsg.replace(/\.$/, '')}.`;
  return msg;
}

export class FitError extends Error {
  override readonly name = 'FitError';
  constructor(
    readonly pod: PodInfo,
    readonly numAllNodes: number,
    readonly diagnosis: Diagnosis,
  ) {
    // No message argument: an own `message` would hide the getter, which reflects a
    // postFilterMsg added after construction.
    super();
  }
  override get message(): string {
    return fitErrorMessage(this.numAllNodes, this.diagnosis);
  }
}

export class NoNodesAvailableError extends Error {
  override readonly name = 'NoNodesAvailableError';
  constructor() {
    super(noNodesAvailableMessage);
  }
}

export interface ScheduleResult {
  suggestedHost: string;
  evaluatedNodes: number;
  feasibleNodes: number;
}

export interface ScheduleAlgorithmOptions {
  framework: Framework;
  snapshot: ClusterSnapshot;
  /** 0 (default): adaptive, as upstream. */
  percentageOfNodesToScore?: number;
  /** Pods nominated to a node that count there for `pod` (higher or equal priority, not itself). */
  nominatedPodsFor?: (nodeName: string, pod: PodInfo) => readonly PodInfo[];
  /** [0, 1), for tie breaks; Math.random by default. */
  random?: () => number;
}

export class ScheduleAlgorithm {
  private nextStartNodeIndex = 0;
  private readonly random: () => number;

  constructor(private readonly o: ScheduleAlgorithmOptions) {
    this.random = o.random ?? Math.random;
  }

  private nominated(nodeName: string, pod: PodInfo): readonly PodInfo[] {
    return this.o.nominatedPodsFor?.(nodeName, pod) ?? [];
  }

  /** Runs the filters on one node, counting nominated pods. */
  filterNode(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    return this.o.framework.runFilterWithNominated(state, pod, nodeInfo, this.nominated(nodeInfo.name, pod));
  }

  /**
   * Picks a node for the pod, or throws FitError (no node fits; the diagnosis says why per
   * node) or NoNodesAvailableError. The returned state is the cycle's, for preemption.
   */
  schedulePod(state: CycleState, pod: PodInfo): ScheduleResult {
    const all = this.o.snapshot.nodeInfos();
    if (all.length === 0) throw new NoNodesAvailableError();
    const { feasible, diagnosis, evaluated } = this.findNodesThatFitPod(state, pod);
    if (feasible.length === 0) throw new FitError(pod, all.length, diagnosis);
    if (feasible.length === 1) return { suggestedHost: feasible[0]!.name, evaluatedNodes: evaluated, feasibleNodes: 1 };
    const totals = this.prioritizeNodes(state, pod, feasible);
    return { suggestedHost: this.selectHost(feasible, totals), evaluatedNodes: evaluated, feasibleNodes: feasible.length };
  }

  findNodesThatFitPod(state: CycleState, pod: PodInfo): { feasible: NodeInfo[]; diagnosis: Diagnosis; evaluated: number } {
    const fw = this.o.framework;
    const all = this.o.snapshot.nodeInfos();
    const diagnosis: Diagnosis = { nodeToStatus: new Map(), unschedulablePlugins: new Set() };
    const pre = fw.runPreFilter(state, pod);
    if (pre.status) {
      if (!isRejection(pre.status)) throw new Error(`running PreFilter plugin ${pre.status.plugin}: ${statusMessage(pre.status)}`);
      for (const ni of all) diagnosis.nodeToStatus.set(ni.name, pre.status);
      diagnosis.preFilterMsg = statusMessage(pre.status);
      diagnosis.unschedulablePlugins.add(pre.status.plugin);
      return { feasible: [], diagnosis, evaluated: 0 };
    }
    // A pod that preempted others tries its nominated node first.
    const nnn = pod.pod.status?.nominatedNodeName;
    if (nnn) {
      const ni = this.o.snapshot.get(nnn);
      if (ni && this.filterNode(state, pod, ni) === undefined) return { feasible: [ni], diagnosis, evaluated: 1 };
    }
    const want = numFeasibleNodesToFind(all.length, this.o.percentageOfNodesToScore ?? 0);
    const feasible: NodeInfo[] = [];
    let processed = 0;
    const start = this.nextStartNodeIndex % all.length;
    for (let i = 0; i < all.length && feasible.length < want; i++) {
      const ni = all[(start + i) % all.length]!;
      processed++;
      const s = this.filterNode(state, pod, ni);
      if (s === undefined) {
        feasible.push(ni);
        continue;
      }
      if (s.code === 'Error') throw new Error(`running Filter plugin ${s.plugin} on node ${ni.name}: ${statusMessage(s)}`);
      diagnosis.nodeToStatus.set(ni.name, s);
      diagnosis.unschedulablePlugins.add(s.plugin);
    }
    this.nextStartNodeIndex = (start + processed) % all.length;
    return { feasible, diagnosis, evaluated: processed };
  }

  /** The weighted total score of each feasible node (same order). */
  prioritizeNodes(state: CycleState, pod: PodInfo, feasible: readonly NodeInfo[]): number[] {
    const fw = this.o.framework;
    const s = fw.runPreScore(state, pod, feasible);
    if (s) throw new Error(`running PreScore plugin ${s.plugin}: ${statusMessage(s)}`);
    return fw.runScore(state, pod, feasible).totals;
  }

  /** The node with the highest total; among equals, each is equally likely (reservoir sampling). */
  selectHost(nodes: readonly NodeInfo[], totals: readonly number[]): string {
    let best = 0;
    let ties = 1;
    for (let i = 1; i < nodes.length; i++) {
      if (totals[i]! > totals[best]!) {
        best = i;
        ties = 1;
      } else if (totals[i] === totals[best]) {
        ties++;
        if (Math.floor(this.random() * ties) === 0) best = i;
      }
    }
    return nodes[best]!.name;
  }
}

