/**
 * The scheduling framework: plugins at named extension points, as kube-scheduler's.
 *
 *   PreFilter (once per pod) → Filter (per node, first failure wins) → PostFilter (preemption,
 *   only when no node fits) → PreScore (once) → Score (per feasible node) → NormalizeScore
 *   (per plugin, to 0..100) → weighted sum → the highest total wins, ties at random.
 *
 * Every call of a scheduling cycle is synchronous: JavaScript runs one thing at a time, so
 * the cache a cycle reads cannot change under it, and no snapshot copy is needed.
 *
 * Statuses: `undefined` is success. Unschedulable means the node does not fit now but could if
 * pods were removed from it (preemption may help); UnschedulableAndUnresolvable means removing
 * pods would not help (node affinity, taints, a cordon), so preemption leaves that node alone.
 */
import type { Namespace, PersistentVolume, PersistentVolumeClaim, PodDisruptionBudget, PriorityClass, ReplicaSet, ReplicationController, Service, StatefulSet, StorageClass } from '../api/index.js';
import type { KubeClient, Lister } from '../client/index.js';
import type { NodeInfo } from './node-info.js';
import type { PodInfo } from './pod-info.js';

export const maxNodeScore = 100;

export type StatusCode = 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Error' | 'Skip';

export interface Status {
  code: StatusCode;
  /** Reasons as they appear, counted, in the FailedScheduling message. */
  reasons: string[];
  /** The plugin that returned it. */
  plugin: string;
}

export function unschedulable(plugin: string, ...reasons: string[]): Status {
  return { code: 'Unschedulable', reasons, plugin };
}

export function unresolvable(plugin: string, ...reasons: string[]): Status {
  return { code: 'UnschedulableAndUnresolvable', reasons, plugin };
}

export function errorStatus(plugin: string, message: string): Status {
  return { code: 'Error', reasons: [message], plugin };
}

export function skipStatus(plugin: string): Status {
  return { code: 'Skip', reasons: [], plugin };
}

export function isRejection(s: Status | undefined): boolean {
  return s !== undefined && (s.code === 'Unschedulable' || s.code === 'UnschedulableAndUnresolvable');
}

/** Data a plugin computes once per cycle (PreFilter, PreScore) and reads per node. */
export interface StateData {
  /** A copy that can be changed without touching this one (preemption evaluates what-ifs). */
  clone(): StateData;
}

export class CycleState {
  private readonly data = new Map<string, StateData>();
  /** Plugins whose PreFilter returned Skip: their Filter is not called this cycle. */
  readonly skipFilter = new Set<string>();
  /** Plugins whose PreScore returned Skip: their Score is not called this cycle. */
  readonly skipScore = new Set<string>();
  /** The filters to run this cycle (those not skipped), worked out on first use. */
  activeFilters: readonly FilterPlugin[] | undefined;

  read<T extends StateData>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }

  write(key: string, value: StateData): void {
    this.data.set(key, value);
  }

  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.data) c.data.set(k, v.clone());
    for (const s of this.skipFilter) c.skipFilter.add(s);
    for (const s of this.skipScore) c.skipScore.add(s);
    c.activeFilters = this.activeFilters;
    return c;
  }
}

/** The cluster as a cycle sees it: every node with its pods. Implemented by the SchedulerCache. */
export interface ClusterSnapshot {
  /** Nodes that have a Node object, interleaved by zone so that a partial walk covers every zone. */
  nodeInfos(): readonly NodeInfo[];
  get(nodeName: string): NodeInfo | undefined;
  /** Nodes with at least one pod that has (anti-)affinity terms. */
  nodesWithAffinityPods(): readonly NodeInfo[];
  nodesWithRequiredAntiAffinityPods(): readonly NodeInfo[];
  /** Whether any pod (bound or assumed) uses this claim (`namespace/name`). */
  isClaimInUse(claimKey: string): boolean;
}

/** Read-only views of the other objects plugins consult; absent ones count as empty. */
export interface SchedulerListers {
  namespaces?: Lister<Namespace>;
  persistentVolumeClaims?: Lister<PersistentVolumeClaim>;
  persistentVolumes?: Lister<PersistentVolume>;
  storageClasses?: Lister<StorageClass>;
  services?: Lister<Service>;
  replicaSets?: Lister<ReplicaSet>;
  replicationControllers?: Lister<ReplicationController>;
  statefulSets?: Lister<StatefulSet>;
  podDisruptionBudgets?: Lister<PodDisruptionBudget>;
  priorityClasses?: Lister<PriorityClass>;
}

/** What plugins are built with. */
export interface PluginHandle {
  snapshot: ClusterSnapshot;
  listers: SchedulerListers;
  /** For plugins that write before the binding (PreBind); absent in unit tests of filters. */
  client?: KubeClient;
}

/**
 * Cluster changes that can make a rejected pod schedulable. Each plugin names the ones that
 * can undo its rejections; the queue retries a pod when one of them happens.
 */
export type ClusterEvent =
  | 'NodeAdd'
  | 'NodeAllocatableChange'
  | 'NodeLabelChange'
  | 'NodeTaintChange'
  | 'NodeConditionChange'
  | 'NodeSchedulableChange'
  | 'AssignedPodAdd'
  | 'AssignedPodUpdate'
  | 'AssignedPodDelete'
  | 'PVCChange'
  | 'PVChange'
  | 'StorageClassChange'
  | 'NamespaceChange';

export const allClusterEvents: readonly ClusterEvent[] = [
  'NodeAdd',
  'NodeAllocatableChange',
  'NodeLabelChange',
  'NodeTaintChange',
  'NodeConditionChange',
  'NodeSchedulableChange',
  'AssignedPodAdd',
  'AssignedPodUpdate',
  'AssignedPodDelete',
  'PVCChange',
  'PVChange',
  'StorageClassChange',
  'NamespaceChange',
];

export interface Plugin {
  readonly name: string;
  /** Events after which a pod this plugin rejected may fit. */
  readonly events?: readonly ClusterEvent[];
}

/** Adjusts PreFilter state when the node's pods change in a what-if (nominated pods, victims). */
export interface PreFilterExtensions {
  addPod(state: CycleState, pod: PodInfo, added: PodInfo, nodeInfo: NodeInfo): void;
  removePod(state: CycleState, pod: PodInfo, removed: PodInfo, nodeInfo: NodeInfo): void;
}

export interface PreFilterPlugin extends Plugin {
  /** A rejection fails every node; Skip means the plugin's Filter has nothing to check. */
  preFilter(state: CycleState, pod: PodInfo): Status | undefined;
  readonly preFilterExtensions?: PreFilterExtensions;
}

export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined;
}

export interface PreScorePlugin extends Plugin {
  /** Skip means the plugin's Score has nothing to add for this pod. */
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | undefined;
}

export interface NodeScore {
  name: string;
  score: number;
}

export interface ScorePlugin extends Plugin {
  score(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): number;
  /** Brings the raw scores to 0..100. Plugins without it must score in 0..100 already. */
  normalizeScores?(state: CycleState, pod: PodInfo, scores: NodeScore[]): void;
}

/**
 * Reserve: once a node is chosen, in the same synchronous cycle, a plugin sets aside what the
 * pod will use there (so that the next cycle does not hand it out again); Unreserve gives it
 * back when the pod is not bound after all.
 */
export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: PodInfo, nodeName: string): Status | undefined;
  unreserve(state: CycleState, pod: PodInfo, nodeName: string): void;
}

/** PreBind: work that must be done before the binding is written (binding volumes), off the cycle. */
export interface PreBindPlugin extends Plugin {
  preBind(state: CycleState, pod: PodInfo, nodeName: string, signal?: AbortSignal): Promise<Status | undefined>;
}

function isReserve(p: Plugin): p is ReservePlugin {
  return typeof (p as ReservePlugin).reserve === 'function';
}
function isPreBind(p: Plugin): p is PreBindPlugin {
  return typeof (p as PreBindPlugin).preBind === 'function';
}
function isPreFilter(p: Plugin): p is PreFilterPlugin {
  return typeof (p as PreFilterPlugin).preFilter === 'function';
}
function isFilter(p: Plugin): p is FilterPlugin {
  return typeof (p as FilterPlugin).filter === 'function';
}
function isPreScore(p: Plugin): p is PreScorePlugin {
  return typeof (p as PreScorePlugin).preScore === 'function';
}
function isScore(p: Plugin): p is ScorePlugin {
  return typeof (p as ScorePlugin).score === 'function';
}

/**
 * DefaultNormalizeScore: scales scores so that the highest becomes 100 (`reverse`: the highest
 * becomes 0, the lowest 100). All zero: unchanged, or all 100 when reversed.
 */
export function defaultNormalizeScore(scores: NodeScore[], reverse: boolean): void {
  let max = 0;
  for (const s of scores) if (s.score > max) max = s.score;
  if (max === 0) {
    if (reverse) for (const s of scores) s.score = maxNodeScore;
    return;
  }
  for (const s of scores) {
    const v = Math.trunc((maxNodeScore * s.score) / max);
    s.score = reverse ? maxNodeScore - v : v;
  }
}

export interface FrameworkOptions {
  /** In the order they run: filters stop at the first failure, so order shapes the messages. */
  plugins: Plugin[];
  /** Weight per score plugin name; a score plugin without an entry weighs 1. */
  scoreWeights?: Record<string, number>;
}

export interface PreFilterResult {
  /** Set when a PreFilter plugin rejected the pod (for every node). */
  status?: Status;
}

export class Framework {
  readonly plugins: readonly Plugin[];
  readonly preFilterPlugins: readonly PreFilterPlugin[];
  readonly filterPlugins: readonly FilterPlugin[];
  readonly preScorePlugins: readonly PreScorePlugin[];
  readonly scorePlugins: readonly ScorePlugin[];
  readonly reservePlugins: readonly ReservePlugin[];
  readonly preBindPlugins: readonly PreBindPlugin[];
  private readonly weights: Record<string, number>;
  private readonly byName = new Map<string, Plugin>();

  constructor(o: FrameworkOptions) {
    this.plugins = o.plugins;
    for (const p of o.plugins) {
      if (this.byName.has(p.name)) throw new Error(`scheduler framework: plugin ${p.name} is listed twice`);
      this.byName.set(p.name, p);
    }
    this.preFilterPlugins = o.plugins.filter(isPreFilter);
    this.filterPlugins = o.plugins.filter(isFilter);
    this.preScorePlugins = o.plugins.filter(isPreScore);
    this.scorePlugins = o.plugins.filter(isScore);
    this.reservePlugins = o.plugins.filter(isReserve);
    this.preBindPlugins = o.plugins.filter(isPreBind);
    this.weights = o.scoreWeights ?? {};
    for (const [name, w] of Object.entries(this.weights)) {
      if (!Number.isInteger(w) || w < 0) throw new Error(`scheduler framework: the weight of ${name} must be a non-negative integer, not ${w}`);
    }
  }

  plugin(name: string): Plugin | undefined {
    return this.byName.get(name);
  }

  weightOf(name: string): number {
    return this.weights[name] ?? 1;
  }

  /** Events that may help a pod rejected by any of `plugins` (all events when unknown). */
  eventsFor(plugins: Iterable<string>): Set<ClusterEvent> {
    const out = new Set<ClusterEvent>();
    for (const name of plugins) {
      const p = this.byName.get(name);
      for (const e of p?.events ?? allClusterEvents) out.add(e);
    }
    return out;
  }

  runPreFilter(state: CycleState, pod: PodInfo): PreFilterResult {
    for (const p of this.preFilterPlugins) {
      const s = p.preFilter(state, pod);
      if (s === undefined) continue;
      if (s.code === 'Skip') {
        state.skipFilter.add(p.name);
        state.activeFilters = undefined;
        continue;
      }
      return { status: { ...s, plugin: p.name } };
    }
    return {};
  }

  /** Runs the filters on one node; the first failure is the node's status. */
  runFilter(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    const filters = (state.activeFilters ??= this.filterPlugins.filter((p) => !state.skipFilter.has(p.name)));
    for (let i = 0; i < filters.length; i++) {
      const p = filters[i]!;
      const s = p.filter(state, pod, nodeInfo);
      if (s !== undefined && s.code !== 'Skip') return s.plugin === p.name ? s : { ...s, plugin: p.name };
    }
    return undefined;
  }

  /**
   * Runs the filters as if `nominated` pods (higher or equal priority, waiting for this node
   * after a preemption) were already there, and also without them when the pod has inter-pod
   * constraints, since those may pass only with the nominated pods present. Both must pass.
   */
  runFilterWithNominated(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo, nominated: readonly PodInfo[]): Status | undefined {
    if (nominated.length === 0) return this.runFilter(state, pod, nodeInfo);
    const withState = state.clone();
    const withNode = nodeInfo.clone();
    for (const n of nominated) {
      withNode.addPod(n);
      this.runAddPod(withState, pod, n, withNode);
    }
    const s = this.runFilter(withState, pod, withNode);
    if (s !== undefined) return s;
    if (pod.requiredAffinityTerms.length > 0 || pod.requiredAntiAffinityTerms.length > 0) return this.runFilter(state, pod, nodeInfo);
    return undefined;
  }

  /** Reserves with every plugin; on a failure, what was reserved is given back. */
  runReserve(state: CycleState, pod: PodInfo, nodeName: string): Status | undefined {
    for (let i = 0; i < this.reservePlugins.length; i++) {
      const p = this.reservePlugins[i]!;
      const s = p.reserve(state, pod, nodeName);
      if (s === undefined) continue;
      this.runUnreserve(state, pod, nodeName);
      return { ...s, plugin: p.name };
    }
    return undefined;
  }

  /** Unreserve runs in reverse order, on every plugin (it must be idempotent). */
  runUnreserve(state: CycleState, pod: PodInfo, nodeName: string): void {
    for (const p of [...this.reservePlugins].reverse()) p.unreserve(state, pod, nodeName);
  }

  async runPreBind(state: CycleState, pod: PodInfo, nodeName: string, signal?: AbortSignal): Promise<Status | undefined> {
    for (const p of this.preBindPlugins) {
      const s = await p.preBind(state, pod, nodeName, signal);
      if (s !== undefined) return { ...s, plugin: p.name };
    }
    return undefined;
  }

  runAddPod(state: CycleState, pod: PodInfo, added: PodInfo, nodeInfo: NodeInfo): void {
    for (const p of this.preFilterPlugins) if (!state.skipFilter.has(p.name)) p.preFilterExtensions?.addPod(state, pod, added, nodeInfo);
  }

  runRemovePod(state: CycleState, pod: PodInfo, removed: PodInfo, nodeInfo: NodeInfo): void {
    for (const p of this.preFilterPlugins) if (!state.skipFilter.has(p.name)) p.preFilterExtensions?.removePod(state, pod, removed, nodeInfo);
  }

  runPreScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | undefined {
    for (const p of this.preScorePlugins) {
      const s = p.preScore(state, pod, nodes);
      if (s === undefined) continue;
      if (s.code === 'Skip') {
        state.skipScore.add(p.name);
        continue;
      }
      return { ...s, plugin: p.name };
    }
    return undefined;
  }

  /**
   * Scores `nodes`: per plugin, raw scores, normalized to 0..100, times the plugin's weight,
   * summed per node. Returns the totals (in node order) and, for tests and logs, each plugin's
   * normalized scores.
   */
  runScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): { totals: number[]; byPlugin: Map<string, number[]> } {
    const n = nodes.length;
    const totals = new Array<number>(n).fill(0);
    const byPlugin = new Map<string, number[]>();
    // One NodeScore per node, reused by every plugin: scoring runs for hundreds of nodes per pod.
    const scores: NodeScore[] = nodes.map((node) => ({ name: node.name, score: 0 }));
    for (const p of this.scorePlugins) {
      if (state.skipScore.has(p.name)) continue;
      const weight = this.weightOf(p.name);
      if (weight === 0) continue;
      for (let i = 0; i < n; i++) scores[i]!.score = p.score(state, pod, nodes[i]!);
      p.normalizeScores?.(state, pod, scores);
      const normalized = new Array<number>(n);
      for (let i = 0; i < n; i++) {
        const v = scores[i]!.score;
        if (!(v >= 0 && v <= maxNodeScore)) throw new Error(`plugin ${p.name} gave node ${scores[i]!.name} the score ${v}, outside 0..${maxNodeScore}`);
        normalized[i] = v;
        totals[i] += v * weight;
      }
      byPlugin.set(p.name, normalized);
    }
    return { totals, byPlugin };
  }

}
