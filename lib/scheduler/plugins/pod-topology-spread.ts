/**
 * PodTopologySpread: spreads pods that match a selector over topology domains (zones, nodes).
 *
 * Filter (constraints with whenUnsatisfiable DoNotSchedule): for each constraint, placing the
 * pod in the node's domain must keep
 *     (matching pods in the domain) + (1 if the pod matches itself) - (fewest in any domain) <= maxSkew
 * where domains are those of the nodes the pod could use (its node affinity, and taints when
 * nodeTaintsPolicy is Honor), and the fewest counts as 0 while there are fewer than minDomains
 * domains. A node without the topology key fails outright.
 *
 * Score (ScheduleAnyway constraints; for a pod with no constraints at all, the system
 * defaults: maxSkew 3 over hostnames and 5 over zones, selecting the pods of the same Services
 * and controller): fewer matching pods in the node's domain is better; each domain's count is
 * weighted by log(domains + 2) so that small topologies are not drowned by large ones.
 */
import type { Node, Pod, PodSpec } from '../../api/index.js';
import { LabelSelector, labelSelectorFromObject, selectorFromSet, type LabelSelectorObject, type Requirement } from '../../machinery/index.js';
import {
  maxNodeScore,
  skipStatus,
  unresolvable,
  unschedulable,
  type ClusterEvent,
  type CycleState,
  type FilterPlugin,
  type NodeScore,
  type PluginHandle,
  type PreFilterExtensions,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
  type SchedulerListers,
  type StateData,
  type Status,
} from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import { RequiredNodeAffinity } from '../node-selector.js';
import { isTerminating, type PodInfo } from '../pod-info.js';
import { findUntoleratedTaint } from '../taints.js';

type TopologySpreadConstraint = NonNullable<PodSpec['topologySpreadConstraints']>[number];

export const errReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints";
export const errReasonNodeLabelNotMatch = `${errReasonConstraintsNotMatch} (missing required label)`;

export const labelHostname = 'kubernetes.io/hostname';
export const labelTopologyZone = 'topology.kubernetes.io/zone';

export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  selector: LabelSelector;
  minDomains: number;
  nodeAffinityPolicy: 'Honor' | 'Ignore';
  nodeTaintsPolicy: 'Honor' | 'Ignore';
}

/** Upstream's system default constraints, used for scoring pods that set none. */
export const systemDefaultConstraints: readonly { maxSkew: number; topologyKey: string }[] = [
  { maxSkew: 3, topologyKey: labelHostname },
  { maxSkew: 5, topologyKey: labelTopologyZone },
];

function compileSelector(pod: Pod, c: TopologySpreadConstraint): LabelSelector {
  let sel: LabelSelector;
  try {
    sel = labelSelectorFromObject(c.labelSelector as LabelSelectorObject | undefined);
  } catch {
    return LabelSelector.nothing();
  }
  const labels = pod.metadata.labels ?? {};
  if (c.labelSelector && c.matchLabelKeys?.length) {
    const reqs: Requirement[] = [...sel.requirements];
    for (const k of c.matchLabelKeys) if (k in labels) reqs.push({ key: k, op: 'in', values: [labels[k]!] });
    sel = new LabelSelector(reqs);
  }
  return sel;
}

export function podConstraints(pod: Pod, when: 'DoNotSchedule' | 'ScheduleAnyway'): SpreadConstraint[] {
  return (pod.spec?.topologySpreadConstraints ?? [])
    .filter((c) => c.whenUnsatisfiable === when)
    .map((c) => ({
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      selector: compileSelector(pod, c),
      minDomains: c.minDomains ?? 1,
      nodeAffinityPolicy: c.nodeAffinityPolicy ?? 'Honor',
      nodeTaintsPolicy: c.nodeTaintsPolicy ?? 'Ignore',
    }));
}

/**
 * The selector of upstream's default spreading: the labels of the Services selecting the pod,
 * and the selector of its controller (ReplicaSet, ReplicationController or StatefulSet).
 * Undefined when nothing selects the pod.
 */
export function defaultSpreadSelector(pod: Pod, listers: SchedulerListers): LabelSelector | undefined {
  const ns = pod.metadata.namespace ?? '';
  const labels = pod.metadata.labels ?? {};
  const set: Record<string, string> = {};
  for (const svc of listers.services?.namespace(ns).list() ?? []) {
    const sel = svc.spec?.selector;
    if (!sel || Object.keys(sel).length === 0) continue;
    if (selectorFromSet(sel).matches(labels)) Object.assign(set, sel);
  }
  const reqs: Requirement[] = [...selectorFromSet(set).requirements];
  const owner = (pod.metadata.ownerReferences ?? []).find((r) => r.controller);
  if (owner) {
    let extra: LabelSelectorObject | undefined;
    if (owner.kind === 'ReplicationController' && owner.apiVersion === 'v1') {
      const rc = listers.replicationControllers?.namespace(ns).get(owner.name);
      if (rc?.spec?.selector) reqs.push(...selectorFromSet(rc.spec.selector).requirements);
    } else if (owner.kind === 'ReplicaSet' && owner.apiVersion === 'apps/v1') {
      extra = listers.replicaSets?.namespace(ns).get(owner.name)?.spec?.selector as LabelSelectorObject | undefined;
    } else if (owner.kind === 'StatefulSet' && owner.apiVersion === 'apps/v1') {
      extra = listers.statefulSets?.namespace(ns).get(owner.name)?.spec?.selector as LabelSelectorObject | undefined;
    }
    if (extra) {
      try {
        reqs.push(...labelSelectorFromObject(extra).requirements);
      } catch {
        /* an invalid selector adds nothing */
      }
    }
  }
  return reqs.length === 0 ? undefined : new LabelSelector(reqs);
}

function hasAllKeys(node: Node, constraints: readonly SpreadConstraint[]): boolean {
  const labels = node.metadata.labels ?? {};
  for (const c of constraints) if (!(c.topologyKey in labels)) return false;
  return true;
}

/** Whether nodes like this one count for the constraint (nodeAffinityPolicy, nodeTaintsPolicy). */
function nodeCounts(c: SpreadConstraint, pod: Pod, node: Node, required: RequiredNodeAffinity): boolean {
  if (c.nodeAffinityPolicy === 'Honor' && !required.matches(node)) return false;
  if (c.nodeTaintsPolicy === 'Honor' && findUntoleratedTaint(node.spec?.taints, pod.spec?.tolerations, ['NoSchedule', 'NoExecute'])) return false;
  return true;
}

/** Pods of the namespace that the selector matches, not counting pods being deleted. */
export function countMatching(pods: readonly PodInfo[], selector: LabelSelector, namespace: string | undefined): number {
  let n = 0;
  for (const p of pods) {
    if (p.pod.metadata.namespace !== namespace || isTerminating(p.pod)) continue;
    if (selector.matches(p.pod.metadata.labels)) n++;
  }
  return n;
}

class PreFilterState implements StateData {
  private mins: (number | undefined)[];
  constructor(
    readonly constraints: SpreadConstraint[],
    /** Per constraint: domain value → matching pods. */
    readonly counts: Map<string, number>[],
  ) {
    this.mins = constraints.map(() => undefined);
  }
  add(i: number, value: string, n: number): void {
    this.counts[i]!.set(value, (this.counts[i]!.get(value) ?? 0) + n);
    this.mins[i] = undefined;
  }
  /** The fewest matching pods in any eligible domain; 0 while there are fewer domains than minDomains. */
  minMatch(i: number): number {
    const c = this.constraints[i]!;
    const counts = this.counts[i]!;
    if (c.minDomains > counts.size) return 0;
    let m = this.mins[i];
    if (m === undefined) {
      m = Infinity;
      for (const v of counts.values()) if (v < m) m = v;
      this.mins[i] = m;
    }
    return m;
  }
  clone(): PreFilterState {
    return new PreFilterState(
      this.constraints,
      this.counts.map((m) => new Map(m)),
    );
  }
}

class PreScoreState implements StateData {
  constructor(
    readonly constraints: SpreadConstraint[],
    readonly ignored: Set<string>,
    readonly counts: Map<string, number>[],
    readonly weights: number[],
  ) {}
  clone(): StateData {
    return this;
  }
}

const preFilterKey = 'PreFilterPodTopologySpread';
const preScoreKey = 'PreScorePodTopologySpread';

export class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  static readonly pluginName = 'PodTopologySpread';
  readonly name = PodTopologySpread.pluginName;
  readonly events: readonly ClusterEvent[] = ['NodeAdd', 'NodeLabelChange', 'NodeTaintChange', 'AssignedPodAdd', 'AssignedPodUpdate', 'AssignedPodDelete'];
  readonly preFilterExtensions: PreFilterExtensions;

  constructor(
    private readonly h: PluginHandle,
    /** Whether pods without constraints get the system default ones when scoring (default true). */
    private readonly systemDefaulting = true,
  ) {
    this.preFilterExtensions = {
      addPod: (state, pod, other, nodeInfo) => this.update(state, pod, other, nodeInfo, 1),
      removePod: (state, pod, other, nodeInfo) => this.update(state, pod, other, nodeInfo, -1),
    };
  }

  private update(state: CycleState, pod: PodInfo, other: PodInfo, nodeInfo: NodeInfo, n: number): void {
    const s = state.read<PreFilterState>(preFilterKey);
    const node = nodeInfo.node;
    if (!s || !node || other.pod.metadata.namespace !== pod.pod.metadata.namespace) return;
    if (!hasAllKeys(node, s.constraints)) return;
    const required = new RequiredNodeAffinity(pod.pod);
    s.constraints.forEach((c, i) => {
      if (!c.selector.matches(other.pod.metadata.labels)) return;
      if (!nodeCounts(c, pod.pod, node, required)) return;
      s.add(i, node.metadata.labels![c.topologyKey]!, n);
    });
  }

  preFilter(state: CycleState, pod: PodInfo): Status | undefined {
    const constraints = podConstraints(pod.pod, 'DoNotSchedule');
    if (constraints.length === 0) return skipStatus(this.name);
    const s = new PreFilterState(
      constraints,
      constraints.map(() => new Map()),
    );
    const required = new RequiredNodeAffinity(pod.pod);
    for (const ni of this.h.snapshot.nodeInfos()) {
      const node = ni.node;
      if (!node || !hasAllKeys(node, constraints)) continue;
      constraints.forEach((c, i) => {
        if (!nodeCounts(c, pod.pod, node, required)) return;
        s.add(i, node.metadata.labels![c.topologyKey]!, countMatching(ni.pods, c.selector, pod.pod.metadata.namespace));
      });
    }
    state.write(preFilterKey, s);
    return undefined;
  }

  filter(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    const s = state.read<PreFilterState>(preFilterKey);
    if (!s) return undefined;
    const labels = nodeInfo.node?.metadata.labels ?? {};
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i]!;
      const value = labels[c.topologyKey];
      if (value === undefined) return unresolvable(this.name, errReasonNodeLabelNotMatch);
      const self = c.selector.matches(pod.pod.metadata.labels) ? 1 : 0;
      const skew = (s.counts[i]!.get(value) ?? 0) + self - s.minMatch(i);
      if (skew > c.maxSkew) return unschedulable(this.name, errReasonConstraintsNotMatch);
    }
    return undefined;
  }

  private scoringConstraints(pod: Pod): SpreadConstraint[] {
    if ((pod.spec?.topologySpreadConstraints ?? []).length > 0) return podConstraints(pod, 'ScheduleAnyway');
    if (!this.systemDefaulting) return [];
    const selector = defaultSpreadSelector(pod, this.h.listers);
    if (!selector) return [];
    return systemDefaultConstraints.map((d) => ({ ...d, selector, minDomains: 1, nodeAffinityPolicy: 'Honor', nodeTaintsPolicy: 'Ignore' }));
  }

  preScore(state: CycleState, pod: PodInfo, filtered: readonly NodeInfo[]): Status | undefined {
    const all = this.h.snapshot.nodeInfos();
    if (all.length === 0) return skipStatus(this.name);
    const constraints = this.scoringConstraints(pod.pod);
    if (constraints.length === 0) return skipStatus(this.name);
    // Pods with constraints of their own need nodes with every key; the defaults do not, so
    // that nodes without a zone label still get hostname spreading.
    const requireAll = (pod.pod.spec?.topologySpreadConstraints ?? []).length > 0 || !this.systemDefaulting;
    const ignored = new Set<string>();
    const counts = constraints.map(() => new Map<string, number>());
    for (const ni of filtered) {
      const node = ni.node;
      if (!node) continue;
      if (requireAll && !hasAllKeys(node, constraints)) {
        ignored.add(ni.name);
        continue;
      }
      constraints.forEach((c, i) => {
        if (c.topologyKey === labelHostname) return; // counted per node in score()
        const v = node.metadata.labels?.[c.topologyKey] ?? '';
        if (!counts[i]!.has(v)) counts[i]!.set(v, 0);
      });
    }
    const weights = constraints.map((c, i) => Math.log((c.topologyKey === labelHostname ? filtered.length - ignored.size : counts[i]!.size) + 2));
    const required = new RequiredNodeAffinity(pod.pod);
    for (const ni of all) {
      const node = ni.node;
      if (!node) continue;
      if (requireAll && !hasAllKeys(node, constraints)) continue;
      constraints.forEach((c, i) => {
        if (c.topologyKey === labelHostname) return;
        if (!nodeCounts(c, pod.pod, node, required)) return;
        const v = node.metadata.labels?.[c.topologyKey] ?? '';
        const cur = counts[i]!.get(v);
        if (cur === undefined) return;
        counts[i]!.set(v, cur + countMatching(ni.pods, c.selector, pod.pod.metadata.namespace));
      });
    }
    state.write(preScoreKey, new PreScoreState(constraints, ignored, counts, weights));
    return undefined;
  }

  score(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    const s = state.read<PreScoreState>(preScoreKey);
    if (!s || s.ignored.has(nodeInfo.name)) return 0;
    const labels = nodeInfo.node?.metadata.labels ?? {};
    let score = 0;
    s.constraints.forEach((c, i) => {
      const v = labels[c.topologyKey];
      if (v === undefined) return;
      const cnt = c.topologyKey === labelHostname ? countMatching(nodeInfo.pods, c.selector, pod.pod.metadata.namespace) : (s.counts[i]!.get(v) ?? 0);
      score += cnt * s.weights[i]! + (c.maxSkew - 1);
    });
    return Math.round(score);
  }

  normalizeScores(state: CycleState, _pod: PodInfo, scores: NodeScore[]): void {
    const s = state.read<PreScoreState>(preScoreKey);
    if (!s) return;
    let min = Infinity;
    let max = 0;
    for (const sc of scores) {
      if (s.ignored.has(sc.name)) continue;
      if (sc.score < min) min = sc.score;
      if (sc.score > max) max = sc.score;
    }
    for (const sc of scores) {
      if (s.ignored.has(sc.name)) sc.score = 0;
      else if (max === 0) sc.score = maxNodeScore;
      else sc.score = Math.trunc((maxNodeScore * (max + min - sc.score)) / max);
    }
  }
}
