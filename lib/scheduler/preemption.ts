/**
 * DefaultPreemption: when no node fits a pod, find a node where removing lower-priority pods
 * would make it fit, and the fewest, least important pods to remove there.
 *
 * 1. Eligibility: not with preemptionPolicy Never; not while a lower-priority pod on the node
 *    it already preempted for is still terminating (the room is on its way).
 * 2. Candidate nodes: those whose failure was not unresolvable (affinity, taints... cannot be
 *    fixed by removing pods). From a random offset, dry-run each: remove every lower-priority
 *    pod; if the pod still does not fit, the node is no use. Else put pods back, most important
 *    first (those whose eviction would violate a PodDisruptionBudget before the others), keeping
 *    each one that still leaves room. What could not be put back are the victims. Enough
 *    candidates (10% of the nodes, at least 100) end the search.
 * 3. Pick the candidate with, in order: fewest PDB violations, the lowest highest-priority
 *    victim, the smallest sum of victim priorities, fewest victims, the latest start among its
 *    most important victims; then the first.
 * The caller then deletes the victims, clears lower-priority nominations on that node and
 * nominates the pod there; the pod is scheduled when the room is really free.
 */
import type { PodDisruptionBudget } from '../api/index.js';
import { labelSelectorFromObject, type LabelSelectorObject } from '../machinery/index.js';
import { fitErrorMessage } from './algorithm.js';
import { unresolvable, type ClusterSnapshot, type CycleState, type Framework, type Status } from './framework.js';
import type { NodeInfo } from './node-info.js';
import { isTerminating, podStartTime, type PodInfo } from './pod-info.js';

export const preemptionNotHelpful = 'Preemption is not helpful for scheduling';
export const noVictimsFound = 'No preemption victims found for incoming pod';
export const notEligibleNever = 'not eligible due to preemptionPolicy=Never.';
export const notEligibleTerminating = 'not eligible due to a terminating pod on the nominated node.';

const pluginName = 'DefaultPreemption';

export interface Candidate {
  nodeName: string;
  /** Most important first. */
  victims: PodInfo[];
  numPDBViolations: number;
}

export interface PreemptionResult {
  /** The node the pod is nominated to; unset when preemption failed. */
  nominatedNodeName?: string;
  victims: PodInfo[];
  /** Pods nominated to that node with lower priority: their nominations are cleared. */
  lowerPriorityNominated: PodInfo[];
  /** Set when preemption failed: `preemption: ...`, appended to the FailedScheduling message. */
  message?: string;
  /** True when the pod should lose a stale nomination. */
  clearNomination?: boolean;
}

/** Higher priority first; among equals, the one started earlier. */
export function moreImportantPod(a: PodInfo, b: PodInfo): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  return podStartTime(a.pod) < podStartTime(b.pod);
}

function byImportance(a: PodInfo, b: PodInfo): number {
  return moreImportantPod(a, b) ? -1 : moreImportantPod(b, a) ? 1 : 0;
}

/**
 * Splits pods (most important first) into those whose removal would exceed a matching PDB's
 * disruptionsAllowed and the others. Pods already listed in a PDB's disruptedPods are being
 * handled and do not count.
 */
export function filterPodsWithPDBViolation(pods: readonly PodInfo[], pdbs: readonly PodDisruptionBudget[]): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = pdbs.map((p) => p.status?.disruptionsAllowed ?? 0);
  const selectors = pdbs.map((p) => {
    try {
      return labelSelectorFromObject(p.spec?.selector as LabelSelectorObject | undefined);
    } catch {
      return undefined;
    }
  });
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const pi of pods) {
    const labels = pi.pod.metadata.labels;
    let violated = false;
    if (labels && Object.keys(labels).length > 0) {
      pdbs.forEach((pdb, i) => {
        const sel = selectors[i];
        if (pdb.metadata.namespace !== pi.pod.metadata.namespace || !sel || sel.isEmpty() || !sel.matches(labels)) return;
        if (pdb.status?.disruptedPods && pi.pod.metadata.name! in pdb.status.disruptedPods) return;
        allowed[i]!--;
        if (allowed[i]! < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(pi);
  }
  return { violating, nonViolating };
}

/** The candidate to preempt on, by upstream's criteria (see the file comment). */
export function pickOneNodeForPreemption(candidates: readonly Candidate[]): Candidate | undefined {
  if (candidates.length === 0) return undefined;
  for (const c of candidates) if (c.victims.length === 0) return c;
  const narrow = (list: Candidate[], key: (c: Candidate) => number): Candidate[] => {
    let best = Infinity;
    let out: Candidate[] = [];
    for (const c of list) {
      const k = key(c);
      if (k < best) {
        best = k;
        out = [c];
      } else if (k === best) out.push(c);
    }
    return out;
  };
  let list = [...candidates];
  list = narrow(list, (c) => c.numPDBViolations);
  if (list.length > 1) list = narrow(list, (c) => c.victims[0]!.priority);
  // Offsetting by 2^31 keeps every term positive, so negative priorities still add up.
  if (list.length > 1) list = narrow(list, (c) => c.victims.reduce((s, v) => s + v.priority + 2 ** 31, 0));
  if (list.length > 1) list = narrow(list, (c) => c.victims.length);
  if (list.length > 1) {
    // The latest "earliest start" among the highest-priority victims: disturb the youngest work.
    list = narrow(list, (c) => {
      const top = c.victims[0]!.priority;
      let earliest = Infinity;
      for (const v of c.victims) if (v.priority === top) earliest = Math.min(earliest, podStartTime(v.pod));
      return -earliest;
    });
  }
  return list[0];
}

export interface PreemptorOptions {
  framework: Framework;
  snapshot: ClusterSnapshot;
  pdbs: () => readonly PodDisruptionBudget[];
  /** Pods nominated to a node that count there for `pod` (higher or equal priority, not itself). */
  nominatedPodsFor: (nodeName: string, pod: PodInfo) => readonly PodInfo[];
  /** All pods nominated to a node. */
  nominatedPodsOn: (nodeName: string) => readonly PodInfo[];
  random?: () => number;
  minCandidateNodesPercentage?: number;
  minCandidateNodesAbsolute?: number;
}

export class Preemptor {
  private readonly random: () => number;

  constructor(private readonly o: PreemptorOptions) {
    this.random = o.random ?? Math.random;
  }

  /** Whether the pod may preempt now; the message says why not. */
  eligible(pod: PodInfo, nodeToStatus: ReadonlyMap<string, Status>): { ok: boolean; message?: string } {
    if (pod.preemptionPolicy === 'Never') return { ok: false, message: notEligibleNever };
    const nnn = pod.pod.status?.nominatedNodeName;
    if (nnn) {
      // The nominated node no longer fits for good: preempting elsewhere is fine.
      if (nodeToStatus.get(nnn)?.code === 'UnschedulableAndUnresolvable') return { ok: true };
      const ni = this.o.snapshot.get(nnn);
      if (ni) {
        for (const p of ni.pods) {
          if (isTerminating(p.pod) && p.priority < pod.priority) return { ok: false, message: notEligibleTerminating };
        }
      }
    }
    return { ok: true };
  }

  numCandidates(numNodes: number): number {
    const pct = this.o.minCandidateNodesPercentage ?? 10;
    const abs = this.o.minCandidateNodesAbsolute ?? 100;
    let n = Math.trunc((numNodes * pct) / 100);
    if (n < abs) n = abs;
    return Math.min(n, numNodes);
  }

  private filterWithNominated(state: CycleState, pod: PodInfo, ni: NodeInfo): Status | undefined {
    return this.o.framework.runFilterWithNominated(state, pod, ni, this.o.nominatedPodsFor(ni.name, pod));
  }

  /** Dry-runs the removal of lower-priority pods on a copy of the node. */
  selectVictimsOnNode(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo, pdbs: readonly PodDisruptionBudget[]): { victims: PodInfo[]; numPDBViolations: number } | Status {
    const fw = this.o.framework;
    const potential: PodInfo[] = [];
    for (const p of [...nodeInfo.pods]) {
      if (p.priority < pod.priority) {
        potential.push(p);
        nodeInfo.removePod(p.key);
        fw.runRemovePod(state, pod, p, nodeInfo);
      }
    }
    if (potential.length === 0) return unresolvable(pluginName, noVictimsFound);
    const s = this.filterWithNominated(state, pod, nodeInfo);
    if (s !== undefined) return s;
    potential.sort(byImportance);
    const { violating, nonViolating } = filterPodsWithPDBViolation(potential, pdbs);
    const victims: PodInfo[] = [];
    let numPDBViolations = 0;
    const reprieve = (p: PodInfo): boolean => {
      nodeInfo.addPod(p);
      fw.runAddPod(state, pod, p, nodeInfo);
      if (this.filterWithNominated(state, pod, nodeInfo) === undefined) return true;
      nodeInfo.removePod(p.key);
      fw.runRemovePod(state, pod, p, nodeInfo);
      victims.push(p);
      return false;
    };
    for (const p of violating) if (!reprieve(p)) numPDBViolations++;
    for (const p of nonViolating) reprieve(p);
    if (violating.length > 0 && nonViolating.length > 0) victims.sort(byImportance);
    return { victims, numPDBViolations };
  }

  /**
   * Tries to make room for `pod`, given why each node failed. Returns the plan (victims and
   * nomination) or, on failure, the message for the FailedScheduling event.
   */
  preempt(state: CycleState, pod: PodInfo, nodeToStatus: ReadonlyMap<string, Status>): PreemptionResult {
    const none: PreemptionResult = { victims: [], lowerPriorityNominated: [] };
    const el = this.eligible(pod, nodeToStatus);
    if (!el.ok) return { ...none, message: `preemption: ${el.message}` };
    const all = this.o.snapshot.nodeInfos();
    const statuses = new Map<string, Status>();
    const potential: NodeInfo[] = [];
    for (const ni of all) {
      const s = nodeToStatus.get(ni.name);
      // A node without a status was not examined; removing pods cannot be what it needs.
      if (!s || s.code === 'UnschedulableAndUnresolvable') statuses.set(ni.name, unresolvable(pluginName, preemptionNotHelpful));
      else potential.push(ni);
    }
    const candidates: Candidate[] = [];
    if (potential.length > 0) {
      const pdbs = this.o.pdbs();
      const want = this.numCandidates(potential.length);
      const offset = Math.floor(this.random() * potential.length);
      let nonViolating = 0;
      for (let i = 0; i < potential.length; i++) {
        const ni = potential[(offset + i) % potential.length]!;
        const r = this.selectVictimsOnNode(state.clone(), pod, ni.clone(), pdbs);
        if ('code' in r) {
          statuses.set(ni.name, r);
          continue;
        }
        candidates.push({ nodeName: ni.name, victims: r.victims, numPDBViolations: r.numPDBViolations });
        if (r.numPDBViolations === 0) nonViolating++;
        if (nonViolating > 0 && candidates.length >= want) break;
      }
    }
    if (candidates.length === 0) {
      const msg = fitErrorMessage(all.length, { nodeToStatus: statuses });
      return { ...none, message: `preemption: ${msg}`, clearNomination: potential.length === 0 };
    }
    // Non-violating candidates first, as upstream lists them.
    candidates.sort((a, b) => (a.numPDBViolations === 0 ? 0 : 1) - (b.numPDBViolations === 0 ? 0 : 1));
    const best = pickOneNodeForPreemption(candidates)!;
    const lowerPriorityNominated = this.o.nominatedPodsOn(best.nodeName).filter((p) => p.priority < pod.priority && p.key !== pod.key);
    return { nominatedNodeName: best.nodeName, victims: best.victims, lowerPriorityNominated };
  }
}

