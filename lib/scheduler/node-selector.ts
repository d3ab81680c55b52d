/**
 * Node selectors as the scheduler reads them: spec.nodeSelector (exact labels) and node
 * affinity terms. Terms are ORed; within a term the requirements on labels (matchExpressions)
 * and on fields (matchFields, only metadata.name) are ANDed. An empty term, and a term with an
 * invalid requirement, match no node, as upstream.
 */
import type { Node, Pod } from '../api/index.js';

export interface NodeSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

function parseInteger(s: string | undefined): number | undefined {
  if (s === undefined || !/^[+-]?\d+$/.test(s.trim())) return undefined;
  return Number(s);
}

/** One requirement against a set of values by key; false for an invalid requirement. */
function matchRequirement(r: NodeSelectorRequirement, values: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(values, r.key);
  const v = values[r.key];
  const vals = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return vals.length > 0 && has && vals.includes(v!);
    case 'NotIn':
      return vals.length > 0 && (!has || !vals.includes(v!));
    case 'Exists':
      return vals.length === 0 && has;
    case 'DoesNotExist':
      return vals.length === 0 && !has;
    case 'Gt':
    case 'Lt': {
      if (vals.length !== 1) return false;
      const want = parseInteger(vals[0]);
      const got = has ? parseInteger(v) : undefined;
      if (want === undefined || got === undefined) return false;
      return r.operator === 'Gt' ? got > want : got < want;
    }
    default:
      return false;
  }
}

export function nodeSelectorTermMatches(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  for (const r of exprs) if (!matchRequirement(r, labels)) return false;
  if (fields.length > 0) {
    const nodeFields = { 'metadata.name': node.metadata.name ?? '' };
    for (const r of fields) {
      // Only metadata.name with In/NotIn is a valid field requirement.
      if (r.key !== 'metadata.name' || (r.operator !== 'In' && r.operator !== 'NotIn')) return false;
      if (!matchRequirement(r, nodeFields)) return false;
    }
  }
  return true;
}

/** True when any term matches; an empty list matches no node. */
export function nodeSelectorTermsMatch(terms: readonly NodeSelectorTerm[] | undefined, node: Node): boolean {
  for (const t of terms ?? []) if (nodeSelectorTermMatches(t, node)) return true;
  return false;
}

/**
 * The node constraints a pod cannot do without: its nodeSelector and its required node
 * affinity, both of which must hold.
 */
export class RequiredNodeAffinity {
  private readonly selector: [string, string][];
  private readonly terms: NodeSelectorTerm[] | undefined;

  constructor(pod: Pod) {
    this.selector = Object.entries(pod.spec?.nodeSelector ?? {});
    const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    this.terms = required ? ((required.nodeSelectorTerms ?? []) as NodeSelectorTerm[]) : undefined;
  }

  /** True when the pod sets neither a nodeSelector nor required node affinity. */
  get isEmpty(): boolean {
    return this.selector.length === 0 && this.terms === undefined;
  }

  matches(node: Node): boolean {
    const labels = node.metadata.labels ?? {};
    for (const [k, v] of this.selector) if (labels[k] !== v) return false;
    if (this.terms !== undefined && !nodeSelectorTermsMatch(this.terms, node)) return false;
    return true;
  }
}

/** The summed weights of the preferred terms the node matches. */
export function preferredNodeAffinityScore(pod: Pod, node: Node): number {
  let score = 0;
  for (const t of pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
    if (t.weight !== 0 && nodeSelectorTermMatches(t.preference as NodeSelectorTerm, node)) score += t.weight;
  }
  return score;
}
