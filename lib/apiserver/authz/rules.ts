/**
 * RBAC rule evaluation, as upstream defines it: whether one PolicyRule allows a request, and
 * whether a set of rules covers another (escalation prevention).
 *
 *   verbs          "*" or the request's verb
 *   apiGroups      "*" or the request's group
 *   resources      "*", "pods", "pods/log" (resource/subresource), "*\/scale" (any resource's scale)
 *   resourceNames  empty (any object) or the request's name
 *   nonResourceURLs "*", an exact path, or a prefix ending in "*"
 */
import type { PolicyRule } from '../../api/index.js';
import type { AuthorizationAttributes } from '../auth.js';

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === '*' || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === '*' || g === group);
}

/** `combined` is "pods" or "pods/log". */
export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    if (subresource && r === `*/${subresource}`) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

export function combinedResource(a: Pick<AuthorizationAttributes, 'resource' | 'subresource'>): string {
  return a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
}

/** Whether one rule allows the request described by `a`. */
export function ruleAllows(a: AuthorizationAttributes, rule: PolicyRule): boolean {
  if (a.isResourceRequest) {
    return verbMatches(rule, a.verb) && apiGroupMatches(rule, a.apiGroup) && resourceMatches(rule, combinedResource(a), a.subresource) && resourceNameMatches(rule, a.name);
  }
  return verbMatches(rule, a.verb) && nonResourceURLMatches(rule, a.path);
}

export function rulesAllow(a: AuthorizationAttributes, rules: readonly PolicyRule[]): boolean {
  return rules.some((r) => ruleAllows(a, r));
}

// ---- covering (escalation checks) --------------------------------------------------------

function hasAll(set: readonly string[] | undefined, want: readonly string[] | undefined): boolean {
  const s = new Set(set ?? []);
  return (want ?? []).every((w) => s.has(w));
}

function resourcesCoverAll(owner: readonly string[] | undefined, wanted: readonly string[] | undefined): boolean {
  const set = new Set(owner ?? []);
  if (set.has('*')) return true;
  for (const r of wanted ?? []) {
    if (set.has(r)) continue;
    const slash = r.indexOf('/');
    if (slash < 0) return false;
    // "*/scale" covers "deployments/scale"; "pods/*" covers "pods/log".
    if (set.has(`*/${r.slice(slash + 1)}`) || set.has(`${r.slice(0, slash)}/*`)) continue;
    return false;
  }
  return true;
}

function urlsCoverAll(owner: readonly string[] | undefined, wanted: readonly string[] | undefined): boolean {
  return (wanted ?? []).every((w) => (owner ?? []).some((o) => o === w || o === '*' || (o.endsWith('*') && w.startsWith(o.slice(0, -1)))));
}

function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbs = owner.verbs.includes('*') || hasAll(owner.verbs, sub.verbs);
  const groups = (owner.apiGroups ?? []).includes('*') || hasAll(owner.apiGroups, sub.apiGroups);
  const resources = resourcesCoverAll(owner.resources, sub.resources);
  const urls = urlsCoverAll(owner.nonResourceURLs, sub.nonResourceURLs);
  const ownerNames = owner.resourceNames ?? [];
  const subNames = sub.resourceNames ?? [];
  const names = ownerNames.length === 0 || (subNames.length > 0 && hasAll(ownerNames, subNames));
  return verbs && groups && resources && urls && names;
}

/** Splits a rule into rules of one verb, one group, one resource and one name (or one URL). */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs) {
        const names = rule.resourceNames ?? [];
        if (names.length === 0) out.push({ verbs: [verb], apiGroups: [group], resources: [resource] });
        else for (const n of names) out.push({ verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [n] });
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) for (const verb of rule.verbs) out.push({ verbs: [verb], nonResourceURLs: [url] });
  return out;
}

/**
 * Whether `owner` covers every permission of `servant`. Returns the uncovered parts (one verb,
 * group, resource, name each); empty when everything is covered.
 */
export function uncoveredRules(owner: readonly PolicyRule[], servant: readonly PolicyRule[]): PolicyRule[] {
  const missing: PolicyRule[] = [];
  for (const r of servant) {
    for (const atom of breakdownRule(r)) if (!owner.some((o) => ruleCovers(o, atom))) missing.push(atom);
  }
  return missing;
}

/** Upstream's compact form of a rule in messages: {APIGroups:[""], Resources:["pods"], Verbs:["get"]}. */
export function formatRule(r: PolicyRule): string {
  const q = (xs: readonly string[]) => `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;
  const parts: string[] = [];
  if ((r.apiGroups ?? []).length) parts.push(`APIGroups:${q(r.apiGroups!)}`);
  if ((r.resources ?? []).length) parts.push(`Resources:${q(r.resources!)}`);
  if ((r.resourceNames ?? []).length) parts.push(`ResourceNames:${q(r.resourceNames!)}`);
  if ((r.nonResourceURLs ?? []).length) parts.push(`NonResourceURLs:${q(r.nonResourceURLs!)}`);
  parts.push(`Verbs:${q(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/** Merges rules that differ only in verbs, and drops duplicates (for aggregation and listings). */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const seen = new Set<string>();
  const out: PolicyRule[] = [];
  for (const r of rules) {
    const key = JSON.stringify([r.verbs, r.apiGroups ?? [], r.resources ?? [], r.resourceNames ?? [], r.nonResourceURLs ?? []]);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(r);
  }
  return out;
}
