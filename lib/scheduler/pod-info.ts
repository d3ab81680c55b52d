/**
 * PodInfo: a pod with what the scheduler derives from it computed once (requests, parsed
 * affinity terms, host ports), so that filters and scores over hundreds of nodes do not parse
 * the same selectors again for every node.
 */
import { ephemeralClaimName, type Pod, type PodSpec } from '../api/index.js';
import { LabelSelector, labelSelectorFromObject, type LabelSelectorObject, type Labels } from '../machinery/index.js';
import { podRequests, type Resource } from './resources.js';

type PodAffinityTerm = NonNullable<NonNullable<NonNullable<PodSpec['affinity']>['podAffinity']>['requiredDuringSchedulingIgnoredDuringExecution']>[number];

/** A pod affinity term with its selectors compiled. */
export interface AffinityTerm {
  /** Pods the term is about. */
  selector: LabelSelector;
  /** Namespaces named by the term (the pod's own when the term names none and has no namespaceSelector). */
  namespaces: Set<string>;
  /** Namespaces by label; `nothing` when unset, `everything` when `{}`. */
  namespaceSelector: LabelSelector;
  topologyKey: string;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  weight: number;
}

export interface HostPort {
  /** `0.0.0.0` when the port binds every address. */
  ip: string;
  protocol: string;
  port: number;
}

export interface PodInfo {
  readonly pod: Pod;
  /** `namespace/name`. */
  readonly key: string;
  /** Resolved priority: spec.priority, else the PriorityClass value, else the global default, else 0. */
  readonly priority: number;
  /** Whether the pod may preempt lower-priority pods: spec.preemptionPolicy, else its class's, else PreemptLowerPriority. */
  readonly preemptionPolicy: PreemptionPolicy;
  readonly requests: Resource;
  /** Requests with the scoring defaults for unset CPU and memory. */
  readonly nonZeroRequests: Resource;
  readonly requiredAffinityTerms: readonly AffinityTerm[];
  readonly requiredAntiAffinityTerms: readonly AffinityTerm[];
  readonly preferredAffinityTerms: readonly WeightedAffinityTerm[];
  readonly preferredAntiAffinityTerms: readonly WeightedAffinityTerm[];
  readonly hostPorts: readonly HostPort[];
}

export function podKey(pod: Pod): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

function safeSelector(sel: LabelSelectorObject | undefined | null): LabelSelector {
  try {
    return labelSelectorFromObject(sel);
  } catch {
    // An invalid selector selects nothing rather than failing the whole cycle.
    return LabelSelector.nothing();
  }
}

function compileTerm(pod: Pod, t: PodAffinityTerm): AffinityTerm {
  let selector = safeSelector(t.labelSelector as LabelSelectorObject | undefined);
  const labels = pod.metadata.labels ?? {};
  if (t.labelSelector && (t.matchLabelKeys?.length || t.mismatchLabelKeys?.length)) {
    // matchLabelKeys / mismatchLabelKeys: this pod's values of those keys join the selector.
    const extra = [...selector.requirements];
    for (const k of t.matchLabelKeys ?? []) if (k in labels) extra.push({ key: k, op: 'in', values: [labels[k]!] });
    for (const k of t.mismatchLabelKeys ?? []) if (k in labels) extra.push({ key: k, op: 'notin', values: [labels[k]!] });
    selector = new LabelSelector(extra);
  }
  const names = t.namespaces ?? [];
  const namespaces = new Set<string>(names.length === 0 && !t.namespaceSelector ? [pod.metadata.namespace ?? ''] : names);
  return { selector, namespaces, namespaceSelector: safeSelector(t.namespaceSelector as LabelSelectorObject | undefined), topologyKey: t.topologyKey };
}

/**
 * Whether `term` (of some pod) selects `pod`; `nsLabels` are the labels of `pod`'s namespace,
 * needed only for terms with a namespaceSelector.
 */
export function termMatchesPod(term: AffinityTerm, pod: Pod, nsLabels: Labels): boolean {
  const ns = pod.metadata.namespace ?? '';
  if (!term.namespaces.has(ns) && !term.namespaceSelector.matches(nsLabels)) return false;
  return term.selector.matches(pod.metadata.labels);
}

function hostPortsOf(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  const spec = pod.spec;
  if (!spec) return out;
  const containers = [...(spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'), ...(spec.containers ?? [])];
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      // With host networking every container port is a host port.
      const port = p.hostPort ?? (spec.hostNetwork ? p.containerPort : 0);
      if (!port || port <= 0) continue;
      out.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol ?? 'TCP', port });
    }
  }
  return out;
}

export type PreemptionPolicy = 'PreemptLowerPriority' | 'Never';

export interface PodInfoOptions {
  /** The resolved priority (default spec.priority, else 0). */
  priority?: number;
  preemptionPolicy?: PreemptionPolicy;
}

export function newPodInfo(pod: Pod, opts: PodInfoOptions = {}): PodInfo {
  const aff = pod.spec?.affinity;
  return {
    pod,
    key: podKey(pod),
    priority: opts.priority ?? pod.spec?.priority ?? 0,
    preemptionPolicy: opts.preemptionPolicy ?? pod.spec?.preemptionPolicy ?? 'PreemptLowerPriority',
    requests: podRequests(pod.spec),
    nonZeroRequests: podRequests(pod.spec, true),
    requiredAffinityTerms: (aff?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => compileTerm(pod, t)),
    requiredAntiAffinityTerms: (aff?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => compileTerm(pod, t)),
    preferredAffinityTerms: (aff?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => ({ ...compileTerm(pod, w.podAffinityTerm), weight: w.weight })),
    preferredAntiAffinityTerms: (aff?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => ({ ...compileTerm(pod, w.podAffinityTerm), weight: w.weight })),
    hostPorts: hostPortsOf(pod),
  };
}

/** A PodInfo for the same pod with a different object (e.g. with spec.nodeName set). */
export function withPod(pi: PodInfo, pod: Pod): PodInfo {
  return { ...pi, pod };
}

export function hasAffinityConstraints(pi: PodInfo): boolean {
  return pi.requiredAffinityTerms.length > 0 || pi.requiredAntiAffinityTerms.length > 0 || pi.preferredAffinityTerms.length > 0 || pi.preferredAntiAffinityTerms.length > 0;
}

export function isTerminating(pod: Pod): boolean {
  return !!pod.metadata.deletionTimestamp;
}

/** When the pod started (status.startTime), else when it was created; ms since the epoch. */
export function podStartTime(pod: Pod): number {
  const t = pod.status?.startTime ?? pod.metadata.creationTimestamp;
  return t ? Date.parse(t) : 0;
}

/** PVC names the pod uses: persistentVolumeClaim volumes and generic ephemeral volumes (`<pod>-<volume>`). */
export function podClaimNames(pod: Pod): string[] {
  const out: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim?.claimName) out.push(v.persistentVolumeClaim.claimName);
    else if (v.ephemeral) out.push(ephemeralClaimName(pod, v.name));
  }
  return out;
}
