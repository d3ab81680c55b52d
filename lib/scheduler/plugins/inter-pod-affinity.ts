/**
 * InterPodAffinity.
 *
 * Filter, per node (the first failure wins):
 *  1. the pod's required affinity: for every term, the node has the topology key and some pod
 *     matching the term runs in the node's domain (the first pod of a group that matches its
 *     own terms may start anywhere with the keys, or it could never start);
 *  2. the pod's required anti-affinity: no pod matching a term runs in the node's domain;
 *  3. the required anti-affinity of pods already placed: the node is not in a domain where a
 *     placed pod's term selects this pod.
 * Affinity failures are unresolvable (removing pods cannot add matching ones); anti-affinity
 * failures are not (preemption may remove the offending pods).
 *
 * Score: per topology domain, + the weight of each preferred affinity term of the pod matched
 * by a pod in the domain, - for preferred anti-affinity, and the same for the terms of placed
 * pods that select this pod (their required affinity counting hardPodAffinityWeight, 1).
 * Normalized so the lowest node scores 0 and the highest 100.
 */
import type { Pod } from '../../api/index.js';
import type { LabelSelector, Labels } from '../../machinery/index.js';
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
  type StateData,
  type Status,
} from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { AffinityTerm, PodInfo, WeightedAffinityTerm } from '../pod-info.js';
import { termMatchesPod } from '../pod-info.js';

export const errReasonAffinityRulesNotMatch = "node(s) didn't match pod affinity rules";
export const errReasonAntiAffinityRulesNotMatch = "node(s) didn't match pod anti-affinity rules";
export const errReasonExistingAntiAffinityRulesNotMatch = "node(s) didn't satisfy existing pods anti-affinity rules";

/** Weight of a placed pod's required affinity term when scoring (upstream's hardPodAffinityWeight default). */
export const hardPodAffinityWeight = 1;

const pair = (key: string, value: string) => `${key}\u0000${value}`;

function isNothing(sel: LabelSelector): boolean {
  return sel.requirements.length === 0 && !sel.isEmpty();
}

/** Counts per topology pair (`key\0value`); entries that fall to 0 are removed. */
class PairCounts {
  readonly m = new Map<string, number>();
  add(key: string, value: string, n: number): void {
    const k = pair(key, value);
    const v = (this.m.get(k) ?? 0) + n;
    if (v === 0) this.m.delete(k);
    else this.m.set(k, v);
  }
  get(key: string, value: string): number {
    return this.m.get(pair(key, value)) ?? 0;
  }
  clone(): PairCounts {
    const c = new PairCounts();
    for (const [k, v] of this.m) c.m.set(k, v);
    return c;
  }
}

class PreFilterState implements StateData {
  constructor(
    /** Pairs where a placed pod's required anti-affinity term selects the incoming pod. */
    readonly existingAntiAffinity: PairCounts,
    /** Pairs holding pods that match all the incoming pod's required affinity terms. */
    readonly affinity: PairCounts,
    /** Pairs holding pods that match one of the incoming pod's required anti-affinity terms. */
    readonly antiAffinity: PairCounts,
  ) {}
  clone(): PreFilterState {
    return new PreFilterState(this.existingAntiAffinity.clone(), this.affinity.clone(), this.antiAffinity.clone());
  }
}

class PreScoreState implements StateData {
  constructor(readonly topologyScore: Map<string, Map<string, number>>) {}
  clone(): StateData {
    return this;
  }
}

const preFilterKey = 'PreFilterInterPodAffinity';
const preScoreKey = 'PreScoreInterPodAffinity';

export class InterPodAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  static readonly pluginName = 'InterPodAffinity';
  readonly name = InterPodAffinity.pluginName;
  readonly events: readonly ClusterEvent[] = ['AssignedPodAdd', 'AssignedPodUpdate', 'AssignedPodDelete', 'NodeAdd', 'NodeLabelChange', 'NamespaceChange'];
  readonly preFilterExtensions: PreFilterExtensions;

  constructor(private readonly h: PluginHandle) {
    this.preFilterExtensions = {
      addPod: (state, pod, added, nodeInfo) => this.update(state, pod, added, nodeInfo, 1),
      removePod: (state, pod, removed, nodeInfo) => this.update(state, pod, removed, nodeInfo, -1),
    };
  }

  private nsLabels(namespace: string | undefined): Labels {
    return this.h.listers.namespaces?.get(namespace ?? '')?.metadata.labels;
  }

  /** Whether a term of the incoming pod selects `other`, looking up namespace labels only when needed. */
  private incomingTermMatches(term: AffinityTerm, other: Pod): boolean {
    return termMatchesPod(term, other, isNothing(term.namespaceSelector) ? undefined : this.nsLabels(other.metadata.namespace));
  }

  private matchesAllAffinityTerms(pod: PodInfo, other: Pod): boolean {
    if (pod.requiredAffinityTerms.length === 0) return false;
    for (const t of pod.requiredAffinityTerms) if (!this.incomingTermMatches(t, other)) return false;
    return true;
  }

  private countNode(s: PreFilterState, pod: PodInfo, nsLabels: Labels, other: PodInfo, nodeInfo: NodeInfo, n: number, incomingOnly = false): void {
    const labels = nodeInfo.node?.metadata.labels;
    if (!labels) return;
    if (!incomingOnly) {
      for (const t of other.requiredAntiAffinityTerms) {
        const v = labels[t.topologyKey];
        if (v !== undefined && termMatchesPod(t, pod.pod, nsLabels)) s.existingAntiAffinity.add(t.topologyKey, v, n);
      }
    }
    if (this.matchesAllAffinityTerms(pod, other.pod)) {
      for (const t of pod.requiredAffinityTerms) {
        const v = labels[t.topologyKey];
        if (v !== undefined) s.affinity.add(t.topologyKey, v, n);
      }
    }
    for (const t of pod.requiredAntiAffinityTerms) {
      const v = labels[t.topologyKey];
      if (v !== undefined && this.incomingTermMatches(t, other.pod)) s.antiAffinity.add(t.topologyKey, v, n);
    }
  }

  private update(state: CycleState, pod: PodInfo, other: PodInfo, nodeInfo: NodeInfo, n: number): void {
    const s = state.read<PreFilterState>(preFilterKey);
    if (!s) return;
    this.countNode(s, pod, this.nsLabels(pod.pod.metadata.namespace), other, nodeInfo, n);
  }

  preFilter(state: CycleState, pod: PodInfo): Status | undefined {
    const withAnti = this.h.snapshot.nodesWithRequiredAntiAffinityPods();
    const hasOwn = pod.requiredAffinityTerms.length > 0 || pod.requiredAntiAffinityTerms.length > 0;
    if (!hasOwn && withAnti.length === 0) return skipStatus(this.name);
    const s = new PreFilterState(new PairCounts(), new PairCounts(), new PairCounts());
    const nsLabels = this.nsLabels(pod.pod.metadata.namespace);
    for (const ni of withAnti) {
      const labels = ni.node?.metadata.labels;
      if (!labels) continue;
      for (const other of ni.podsWithRequiredAntiAffinity) {
        for (const t of other.requiredAntiAffinityTerms) {
          const v = labels[t.topologyKey];
          if (v !== undefined && termMatchesPod(t, pod.pod, nsLabels)) s.existingAntiAffinity.add(t.topologyKey, v, 1);
        }
      }
    }
    if (hasOwn) {
      for (const ni of this.h.snapshot.nodeInfos()) {
        for (const other of ni.pods) this.countNode(s, pod, nsLabels, other, ni, 1, true);
      }
    }
    state.write(preFilterKey, s);
    return undefined;
  }

  filter(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    const s = state.read<PreFilterState>(preFilterKey);
    const labels = nodeInfo.node?.metadata.labels ?? {};
    if (!s) return undefined;
    if (pod.requiredAffinityTerms.length > 0) {
      let podsExist = true;
      for (const t of pod.requiredAffinityTerms) {
        const v = labels[t.topologyKey];
        if (v === undefined) return unresolvable(this.name, errReasonAffinityRulesNotMatch);
        if (s.affinity.get(t.topologyKey, v) <= 0) podsExist = false;
      }
      // The first pod of a group with affinity to itself: allowed when nothing matches yet.
      if (!podsExist && !(s.affinity.m.size === 0 && this.matchesAllAffinityTerms(pod, pod.pod))) {
        return unresolvable(this.name, errReasonAffinityRulesNotMatch);
      }
    }
    for (const t of pod.requiredAntiAffinityTerms) {
      const v = labels[t.topologyKey];
      if (v !== undefined && s.antiAffinity.get(t.topologyKey, v) > 0) return unschedulable(this.name, errReasonAntiAffinityRulesNotMatch);
    }
    if (s.existingAntiAffinity.m.size > 0) {
      for (const [k, v] of Object.entries(labels)) {
        if (s.existingAntiAffinity.get(k, v) > 0) return unschedulable(this.name, errReasonExistingAntiAffinityRulesNotMatch);
      }
    }
    return undefined;
  }

  preScore(state: CycleState, pod: PodInfo): Status | undefined {
    const hasConstraints = pod.preferredAffinityTerms.length > 0 || pod.preferredAntiAffinityTerms.length > 0;
    // Unless the pod has preferences of its own, only placed pods with terms can add anything.
    const nodes = hasConstraints ? this.h.snapshot.nodeInfos() : this.h.snapshot.nodesWithAffinityPods();
    const nsLabels = this.nsLabels(pod.pod.metadata.namespace);
    const scores = new Map<string, Map<string, number>>();
    const add = (key: string, value: string, w: number) => {
      let m = scores.get(key);
      if (!m) scores.set(key, (m = new Map()));
      m.set(value, (m.get(value) ?? 0) + w);
    };
    const incoming = (terms: readonly WeightedAffinityTerm[], other: Pod, labels: Record<string, string>, sign: number) => {
      for (const t of terms) {
        const v = labels[t.topologyKey];
        if (v !== undefined && this.incomingTermMatches(t, other)) add(t.topologyKey, v, sign * t.weight);
      }
    };
    const existing = (terms: readonly AffinityTerm[], weight: (t: AffinityTerm) => number, labels: Record<string, string>, sign: number) => {
      for (const t of terms) {
        const v = labels[t.topologyKey];
        if (v !== undefined && termMatchesPod(t, pod.pod, nsLabels)) add(t.topologyKey, v, sign * weight(t));
      }
    };
    for (const ni of nodes) {
      const labels = ni.node?.metadata.labels;
      if (!labels || Object.keys(labels).length === 0) continue;
      for (const other of hasConstraints ? ni.pods : ni.podsWithAffinity) {
        incoming(pod.preferredAffinityTerms, other.pod, labels, 1);
        incoming(pod.preferredAntiAffinityTerms, other.pod, labels, -1);
        if (hardPodAffinityWeight > 0) existing(other.requiredAffinityTerms, () => hardPodAffinityWeight, labels, 1);
        existing(other.preferredAffinityTerms, (t) => (t as WeightedAffinityTerm).weight, labels, 1);
        existing(other.preferredAntiAffinityTerms, (t) => (t as WeightedAffinityTerm).weight, labels, -1);
      }
    }
    if (scores.size === 0) return skipStatus(this.name);
    state.write(preScoreKey, new PreScoreState(scores));
    return undefined;
  }

  score(state: CycleState, _pod: PodInfo, nodeInfo: NodeInfo): number {
    const s = state.read<PreScoreState>(preScoreKey);
    const labels = nodeInfo.node?.metadata.labels;
    if (!s || !labels) return 0;
    let score = 0;
    for (const [key, values] of s.topologyScore) {
      const v = labels[key];
      if (v !== undefined) score += values.get(v) ?? 0;
    }
    return score;
  }

  normalizeScores(state: CycleState, _pod: PodInfo, scores: NodeScore[]): void {
    if (!state.read<PreScoreState>(preScoreKey)) return;
    let min = Infinity;
    let max = -Infinity;
    for (const s of scores) {
      if (s.score > max) max = s.score;
      if (s.score < min) min = s.score;
    }
    const diff = max - min;
    for (const s of scores) s.score = diff > 0 ? Math.trunc((maxNodeScore * (s.score - min)) / diff) : 0;
  }
}
