/**
 * Which webhooks a request is sent to, as upstream's webhook admission decides it: a rule of
 * the webhook matches the operation, group, version, resource (and subresource) and scope; the
 * namespace selector matches the labels of the object's namespace (of the Namespace itself, for
 * namespaces; cluster-scoped objects always pass); the object selector matches the labels of the
 * new or the old object. The webhook configurations themselves are never sent to webhooks, so a
 * broken webhook cannot lock its own configuration in place.
 */
import type { RuleWithOperations, Webhook } from '../../api/index.js';
import { labelSelectorFromObject } from '../../machinery/index.js';
import type { AdmissionAttributes } from '../../registry/index.js';

const exemptResources = new Set([
  'validatingwebhookconfigurations',
  'mutatingwebhookconfigurations',
  'validatingadmissionpolicies',
  'validatingadmissionpolicybindings',
  'mutatingadmissionpolicies',
  'mutatingadmissionpolicybindings',
]);

/** Requests no webhook sees: those on the webhook (and admission policy) configurations. */
export function exemptFromWebhooks(a: AdmissionAttributes): boolean {
  return a.group === 'admissionregistration.k8s.io' && exemptResources.has(a.resource);
}

const any = (list: string[] | undefined, value: string) => (list ?? []).some((v) => v === '*' || v === value);

/** `pods`, `pods/status`, `pods/*`, `*` (every resource, no subresource), `*\/status`, `*\/*`. */
function resourceMatches(patterns: string[] | undefined, resource: string, subresource: string): boolean {
  for (const p of patterns ?? []) {
    const slash = p.indexOf('/');
    const res = slash < 0 ? p : p.slice(0, slash);
    const sub = slash < 0 ? '' : p.slice(slash + 1);
    if (res !== '*' && res !== resource) continue;
    if (sub === '*' || sub === subresource) return true;
  }
  return false;
}

/**
 * A rule matches a request. `versions` are the versions the resource is served in when the
 * webhook's matchPolicy is Equivalent (a rule naming any of them matches); Exact passes only the
 * request's own.
 */
export function ruleMatches(rule: RuleWithOperations, a: AdmissionAttributes, versions: string[] = [a.version]): boolean {
  if (!any(rule.operations, a.operation)) return false;
  if (!any(rule.apiGroups, a.group)) return false;
  if (!versions.some((v) => any(rule.apiVersions, v))) return false;
  if (!resourceMatches(rule.resources, a.resource, a.subresource)) return false;
  // Namespaces are cluster-scoped, though their requests carry their own name as namespace.
  const clusterScoped = a.namespace === '' || isNamespace(a);
  const scope = rule.scope ?? '*';
  if (scope === 'Cluster') return clusterScoped;
  if (scope === 'Namespaced') return !clusterScoped;
  return true;
}

const isNamespace = (a: AdmissionAttributes) => a.group === '' && a.resource === 'namespaces';

const labelsOf = (o: unknown) => (o as { metadata?: { labels?: Record<string, string> } } | undefined)?.metadata?.labels;

/**
 * What the namespace selector of a webhook is matched against: a Namespace's own labels (new or,
 * for a deletion, stored), the labels of the object's namespace, or nothing (cluster-scoped).
 */
export function namespaceSelectorSubject(a: AdmissionAttributes): 'namespace' | 'object' | 'none' {
  if (isNamespace(a)) return 'object';
  return a.namespace ? 'namespace' : 'none';
}

/**
 * Does the webhook want this request? `namespaceLabels` are those of the object's namespace
 * (undefined when the request has none); `versions` as for ruleMatches.
 */
export function webhookMatches(hook: Webhook, a: AdmissionAttributes, namespaceLabels: Record<string, string> | undefined, versions: string[]): boolean {
  const equivalent = (hook.matchPolicy ?? 'Equivalent') === 'Equivalent';
  if (!(hook.rules ?? []).some((r) => ruleMatches(r, a, equivalent ? versions : [a.version]))) return false;
  const nsSel = labelSelectorFromObject(hook.namespaceSelector ?? {});
  switch (namespaceSelectorSubject(a)) {
    case 'object':
      if (!nsSel.matches(labelsOf(a.object) ?? {}) && !nsSel.matches(labelsOf(a.oldObject) ?? {})) return false;
      break;
    case 'namespace':
      if (!nsSel.matches(namespaceLabels ?? {})) return false;
      break;
    case 'none':
      break;
  }
  const objSel = labelSelectorFromObject(hook.objectSelector ?? {});
  if (objSel.isEmpty()) return true;
  // An object without metadata (the options of a CONNECT) matches no non-empty selector.
  const matchesObject = (o: unknown) => !!(o as { metadata?: unknown } | undefined)?.metadata && objSel.matches(labelsOf(o) ?? {});
  return matchesObject(a.object) || matchesObject(a.oldObject);
}
