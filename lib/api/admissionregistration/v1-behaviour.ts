/**
 * Defaults and validation of webhook configurations, as upstream's for admissionregistration/v1.
 * tkube does not evaluate CEL, so a webhook with matchConditions is refused rather than stored
 * as if its conditions narrowed the requests it is sent.
 */
import { fieldPath, GoValue, isDNS1035Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, isValidPortNum, type FieldError, type FieldPath } from '../../machinery/index.js';
import type { LabelSelector } from '../meta/v1.js';
import type { MutatingWebhookConfiguration, RuleWithOperations, ValidatingWebhookConfiguration, Webhook } from './v1.js';

type AnyConfiguration = MutatingWebhookConfiguration | ValidatingWebhookConfiguration;

function defaultWebhooks(c: AnyConfiguration, mutating: boolean): void {
  for (const h of (c.webhooks ?? []) as Webhook[]) {
    h.failurePolicy ??= 'Fail';
    h.matchPolicy ??= 'Equivalent';
    h.namespaceSelector ??= {};
    h.objectSelector ??= {};
    h.timeoutSeconds ??= 10;
    if (mutating) h.reinvocationPolicy ??= 'Never';
    for (const r of h.rules ?? []) r.scope ??= '*';
    if (h.clientConfig?.service) h.clientConfig.service.port ??= 443;
  }
}

export const defaultMutatingWebhookConfiguration = (c: MutatingWebhookConfiguration) => defaultWebhooks(c, true);
export const defaultValidatingWebhookConfiguration = (c: ValidatingWebhookConfiguration) => defaultWebhooks(c, false);

const operations = ['*', 'CONNECT', 'CREATE', 'DELETE', 'UPDATE'];
const scopes = ['*', 'Cluster', 'Namespaced'];
/** A string slice as Go's %#v prints it; operations are of their own type upstream. */
const goList = (v: string[], type = 'string') => new GoValue(`[]${type}{${v.map((s) => JSON.stringify(s)).join(', ')}}`);

function starAlone(list: string[], p: FieldPath, what: string, errs: FieldError[], type?: string) {
  if (list.includes('*') && list.length > 1) errs.push(p.invalid(goList(list, type), `if '*' is present, must not specify other ${what}`));
}

/**
 * The resources of a rule, as upstream checks them (in order, so only entries after a wildcard
 * are flagged): `*\/*` alone; `*` with no other resource without a subresource; after `res/*`,
 * no `res/sub`; after `*\/sub`, no `res/sub`.
 */
function validateResources(resources: string[], p: FieldPath, errs: FieldError[]) {
  if (resources.length === 0) return errs.push(p.required());
  let hasWildcard = false;
  let hasPlain = false;
  const allSubsOf = new Set<string>();
  const anyResourceFor = new Set<string>();
  resources.forEach((r, i) => {
    if (r === '') return errs.push(p.index(i).required());
    if (r === '*/*') hasWildcard = true;
    const slash = r.indexOf('/');
    const res = slash < 0 ? r : r.slice(0, slash);
    const sub = slash < 0 ? '' : r.slice(slash + 1);
    hasPlain = slash < 0 && res !== '*' ? true : slash < 0 ? false : hasPlain;
    if (slash >= 0) {
      if (allSubsOf.has(res)) errs.push(p.index(i).invalid(r, `if '${res}/*' is present, must not specify ${r}`));
      if (anyResourceFor.has(sub)) errs.push(p.index(i).invalid(r, `if '*/${sub}' is present, must not specify ${r}`));
      if (sub === '*') allSubsOf.add(res);
      if (res === '*') anyResourceFor.add(sub);
    }
  });
  if (hasWildcard && resources.length > 1) errs.push(p.invalid(goList(resources), "if '*/*' is present, must not specify other resources"));
  if (resources.includes('*') && hasPlain) errs.push(p.invalid(goList(resources), "if '*' is present, must not specify other resources without subresources"));
}

function validateRule(r: RuleWithOperations, p: FieldPath, errs: FieldError[]) {
  const ops = r.operations ?? [];
  if (ops.length === 0) errs.push(p.child('operations').required());
  starAlone(ops, p.child('operations'), 'operations', errs, 'admissionregistration.OperationType');
  ops.forEach((o, i) => {
    if (!operations.includes(o)) errs.push(p.child('operations').index(i).notSupported(o, operations));
  });
  const groups = r.apiGroups ?? [];
  if (groups.length === 0) errs.push(p.child('apiGroups').required());
  starAlone(groups, p.child('apiGroups'), 'API groups', errs);
  const versions = r.apiVersions ?? [];
  if (versions.length === 0) errs.push(p.child('apiVersions').required());
  starAlone(versions, p.child('apiVersions'), 'API versions', errs);
  versions.forEach((v, i) => {
    if (v === '') errs.push(p.child('apiVersions').index(i).required('version must not be empty'));
  });
  validateResources(r.resources ?? [], p.child('resources'), errs);
  if (r.scope !== undefined && !scopes.includes(r.scope)) errs.push(p.child('scope').notSupported(r.scope, scopes));
}

function validateSelector(sel: LabelSelector | undefined, p: FieldPath, errs: FieldError[]) {
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) {
    for (const m of isQualifiedName(k)) errs.push(p.child('matchLabels').invalid(k, m));
    for (const m of isValidLabelValue(v)) errs.push(p.child('matchLabels').invalid(v, m));
  }
  (sel?.matchExpressions ?? []).forEach((e, i) => {
    const ep = p.child('matchExpressions').index(i);
    const n = (e.values ?? []).length;
    for (const m of isQualifiedName(e.key ?? '')) errs.push(ep.child('key').invalid(e.key, m));
    if (e.operator === 'In' || e.operator === 'NotIn') {
      if (n === 0) errs.push(ep.child('values').required("must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (e.operator === 'Exists' || e.operator === 'DoesNotExist') {
      if (n > 0) errs.push(ep.child('values').forbidden("may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    } else errs.push(ep.child('operator').invalid(e.operator, 'not a valid selector operator'));
  });
}

const urlForm = '; desired format: https://host[/path]';

function validateURL(raw: string, p: FieldPath, errs: FieldError[]) {
  let u: URL;
  try {
    u = new URL(raw);
  } catch (err) {
    return errs.push(p.required(`url must be a valid URL: ${(err as Error).message}${urlForm}`));
  }
  const scheme = u.protocol.replace(/:$/, '');
  if (scheme !== 'https') errs.push(p.invalid(scheme, `'https' is the only allowed URL scheme${urlForm}`));
  if (!u.hostname) errs.push(p.invalid('', `host must be specified${urlForm}`));
  if (u.username || u.password) errs.push(p.invalid(u.password ? `${u.username}:${u.password}` : u.username, 'user information is not permitted in the URL'));
  const hash = raw.indexOf('#');
  if (hash >= 0) errs.push(p.invalid(raw.slice(hash + 1), 'fragments are not permitted in the URL'));
  const q = raw.indexOf('?');
  if (q >= 0 && (hash < 0 || q < hash)) errs.push(p.invalid(raw.slice(q + 1, hash >= 0 ? hash : undefined), 'query parameters are not permitted in the URL'));
}

/** A service path: `/` or segments that are DNS subdomains (one trailing slash allowed). */
function validateServicePath(path: string, p: FieldPath, errs: FieldError[]) {
  if (path === '' || path === '/') return;
  if (path === '//') return errs.push(p.invalid(path, 'segment[0] may not be empty'));
  if (!path.startsWith('/')) errs.push(p.invalid(path, "must start with a '/'"));
  let rest = path.slice(1);
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  rest.split('/').forEach((seg, i) => {
    if (seg === '') errs.push(p.invalid(path, `segment[${i}] may not be empty`));
    else for (const m of isDNS1123Subdomain(seg)) errs.push(p.invalid(path, `segment[${i}]: ${m}`));
  });
}

function validateWebhook(h: Webhook, p: FieldPath, errs: FieldError[]) {
  const name = h.name ?? '';
  if (!name) errs.push(p.child('name').required());
  else {
    const bad = isDNS1123Subdomain(name);
    if (bad.length) errs.push(p.child('name').invalid(name, bad.join(',')));
    else if (name.split('.').length < 3) errs.push(p.child('name').invalid(name, 'should be a domain with at least three segments separated by dots'));
  }
  (h.rules ?? []).forEach((r, i) => validateRule(r, p.child('rules').index(i), errs));
  if (h.sideEffects === undefined || h.sideEffects === '') errs.push(p.child('sideEffects').required('must specify one of None, NoneOnDryRun'));
  else if (h.sideEffects !== 'None' && h.sideEffects !== 'NoneOnDryRun') errs.push(p.child('sideEffects').notSupported(h.sideEffects, ['None', 'NoneOnDryRun']));
  if (h.timeoutSeconds !== undefined && (h.timeoutSeconds < 1 || h.timeoutSeconds > 30)) errs.push(p.child('timeoutSeconds').invalid(h.timeoutSeconds, 'the timeout value must be between 1 and 30 seconds'));
  validateSelector(h.namespaceSelector, p.child('namespaceSelector'), errs);
  validateSelector(h.objectSelector, p.child('objectSelector'), errs);
  const cc = h.clientConfig ?? {};
  const ccp = p.child('clientConfig');
  if (!!cc.url === !!cc.service) errs.push(ccp.required('exactly one of url or service is required'));
  if (cc.url) validateURL(cc.url, ccp.child('url'), errs);
  if (cc.service) {
    const sp = ccp.child('service');
    if (!cc.service.name) errs.push(sp.child('name').required('service name is required'));
    if (!cc.service.namespace) errs.push(sp.child('namespace').required('service namespace is required'));
    if (cc.service.path !== undefined) validateServicePath(cc.service.path, sp.child('path'), errs);
    const port = cc.service.port;
    if (port !== undefined && !isValidPortNum(port)) errs.push(sp.child('port').invalid(port, 'port is not valid: must be between 1 and 65535, inclusive'));
  }
  if ((h.matchConditions ?? []).length > 0) {
    errs.push(p.child('matchConditions').forbidden('tkube does not evaluate CEL expressions; narrow the requests with rules, namespaceSelector and objectSelector instead'));
  }
  const versions = h.admissionReviewVersions ?? [];
  const vp = p.child('admissionReviewVersions');
  if (versions.length === 0) errs.push(vp.required('must specify one of v1, v1beta1'));
  else {
    const seen = new Set<string>();
    versions.forEach((v, i) => {
      if (seen.has(v)) return errs.push(vp.index(i).invalid(v, 'duplicate version'));
      seen.add(v);
      for (const m of isDNS1035Label(v)) errs.push(vp.index(i).invalid(v, m));
    });
    if (!versions.some((v) => v === 'v1' || v === 'v1beta1')) errs.push(vp.invalid(goList(versions), 'must include at least one of v1, v1beta1'));
  }
}

export function validateWebhookConfiguration(c: AnyConfiguration): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  ((c.webhooks ?? []) as Webhook[]).forEach((h, i) => {
    const p = fieldPath('webhooks').index(i);
    validateWebhook(h, p, errs);
    if (h.name && seen.has(h.name)) errs.push(p.child('name').duplicate(h.name));
    seen.add(h.name);
  });
  return errs;
}
