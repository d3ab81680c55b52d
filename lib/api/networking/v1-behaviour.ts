/** Defaulting and validation of Ingresses, IngressClasses and NetworkPolicies. */
import { isIP } from 'node:net';
import {
  fieldPath,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isValidPortName,
  isValidPortNum,
  labelSelectorFromObject,
  type FieldError,
  type FieldPath,
} from '../../machinery/index.js';
import type { Ingress, IngressClass, NetworkPolicy } from './v1.js';

type IngressBackend = NonNullable<NonNullable<Ingress['spec']>['defaultBackend']>;
type NetworkPolicySpec = NonNullable<NetworkPolicy['spec']>;
type Peer = NonNullable<NonNullable<NetworkPolicySpec['ingress']>[number]['from']>[number];
type Port = NonNullable<NonNullable<NetworkPolicySpec['ingress']>[number]['ports']>[number];

const portRangeMessage = 'must be between 1 and 65535, inclusive';

// ---- Ingress --------------------------------------------------------------------------------
export function defaultIngressClass(ic: IngressClass) {
  if (ic.spec?.parameters) ic.spec.parameters.scope ??= 'Cluster';
}

function validateBackend(b: IngressBackend, p: FieldPath, errs: FieldError[]) {
  if (b.service && b.resource) return errs.push(p.invalid('', 'cannot set both resource and service backends'));
  if (b.resource) {
    if (!b.resource.kind) errs.push(p.child('resource.kind').required());
    if (!b.resource.name) errs.push(p.child('resource.name').required());
    if (b.resource.apiGroup === undefined || b.resource.apiGroup === '') errs.push(p.child('resource.apiGroup').required());
    return;
  }
  if (!b.service) return errs.push(p.invalid('', 'resource or service backend is required'));
  const name = b.service.name;
  if (!name) errs.push(p.child('service.name').required());
  else for (const m of isDNS1035Label(name)) errs.push(p.child('service.name').invalid(name, m));
  const portName = b.service.port?.name ?? '';
  const portNumber = b.service.port?.number ?? 0;
  if (portName && portNumber) errs.push(p.invalid('', 'cannot set both port name & port number'));
  else if (portName) for (const m of isValidPortName(portName)) errs.push(p.child('service.port.name').invalid(portName, m));
  else if (portNumber) {
    if (!isValidPortNum(portNumber)) errs.push(p.child('service.port.number').invalid(portNumber, portRangeMessage));
  } else errs.push(p.required('port name or number is required'));
}

const wildcardMessage =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

function validateHost(host: string, p: FieldPath, errs: FieldError[]) {
  if (isIP(host)) return errs.push(p.invalid(host, 'must be a DNS name, not an IP address'));
  if (host.includes('*')) {
    if (!host.startsWith('*.') || isDNS1123Subdomain(host.slice(2)).length > 0) errs.push(p.invalid(host, wildcardMessage));
    return;
  }
  for (const m of isDNS1123Subdomain(host)) errs.push(p.invalid(host, m));
}

export function validateIngress(ing: Ingress): FieldError[] {
  const errs: FieldError[] = [];
  const p = fieldPath('spec');
  const spec = ing.spec ?? {};
  if ((spec.rules ?? []).length === 0 && !spec.defaultBackend) errs.push(p.invalid(spec.rules ?? null, 'either `defaultBackend` or `rules` must be specified'));
  if (spec.defaultBackend) validateBackend(spec.defaultBackend, p.child('defaultBackend'), errs);
  if (spec.ingressClassName) for (const m of isDNS1123Subdomain(spec.ingressClassName)) errs.push(p.child('ingressClassName').invalid(spec.ingressClassName, m));
  (spec.tls ?? []).forEach((tls, i) => {
    (tls.hosts ?? []).forEach((h, j) => validateHost(h, p.child('tls').index(i).child('hosts').index(j), errs));
    if (tls.secretName) for (const m of isDNS1123Subdomain(tls.secretName)) errs.push(p.child('tls').index(i).child('secretName').invalid(tls.secretName, m));
  });
  (spec.rules ?? []).forEach((rule, i) => {
    const rp = p.child('rules').index(i);
    if (rule.host) validateHost(rule.host, rp.child('host'), errs);
    if (!rule.http) return;
    if (rule.http.paths.length === 0) errs.push(rp.child('http.paths').required());
    rule.http.paths.forEach((path, j) => {
      const pp = rp.child('http.paths').index(j);
      const type = path.pathType;
      if (!type) errs.push(pp.child('pathType').required('pathType must be specified'));
      else if (type === 'Exact' || type === 'Prefix') {
        const v = path.path ?? '';
        if (!v.startsWith('/')) errs.push(pp.child('path').invalid(v, 'must be an absolute path'));
        for (const bad of ['//', '/./', '/../', '%2f', '%2F']) if (v.includes(bad)) errs.push(pp.child('path').invalid(v, `must not contain '${bad}'`));
        for (const bad of ['/..', '/.']) if (v.endsWith(bad)) errs.push(pp.child('path').invalid(v, `cannot end with '${bad}'`));
      } else if (path.path && !path.path.startsWith('/')) errs.push(pp.child('path').invalid(path.path, 'must be an absolute path'));
      validateBackend(path.backend, pp.child('backend'), errs);
    });
  });
  return errs;
}

const pathRe = /^[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;

export function validateIngressClass(ic: IngressClass, old?: IngressClass): FieldError[] {
  const errs: FieldError[] = [];
  const p = fieldPath('spec');
  const controller = ic.spec?.controller ?? '';
  const cp = p.child('controller');
  if (controller.length > 250) errs.push(cp.tooLong(250));
  if (!controller) errs.push(cp.required());
  else {
    const slash = controller.indexOf('/');
    const host = slash < 0 ? controller : controller.slice(0, slash);
    const path = slash < 0 ? '' : controller.slice(slash + 1);
    if (!host || !path) errs.push(cp.invalid(controller, 'must be a domain-prefixed path (such as "acme.io/foo")'));
    else {
      for (const m of isDNS1123Subdomain(host)) errs.push(cp.invalid(host, m));
      if (!pathRe.test(path)) errs.push(cp.invalid(path, "Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')"));
    }
  }
  const params = ic.spec?.parameters;
  if (params) {
    const pp = p.child('parameters');
    if (params.apiGroup) for (const m of isDNS1123Subdomain(params.apiGroup)) errs.push(pp.child('apiGroup').invalid(params.apiGroup, m));
    if (!params.kind) errs.push(pp.child('kind').required());
    if (!params.name) errs.push(pp.child('name').required());
    if (params.scope === 'Namespace') {
      if (params.namespace === undefined) errs.push(pp.child('namespace').required("`parameters.scope` is set to 'Namespace'"));
      else for (const m of isDNS1123Label(params.namespace)) errs.push(pp.child('namespace').invalid(params.namespace, m));
    }
    if (params.scope === 'Cluster' && params.namespace !== undefined) errs.push(pp.child('namespace').forbidden("`parameters.scope` is set to 'Cluster'"));
  }
  if (old && (old.spec?.controller ?? '') !== controller) errs.push(cp.invalid(controller, 'field is immutable'));
  return errs;
}

// ---- NetworkPolicy --------------------------------------------------------------------------
export function defaultNetworkPolicy(np: NetworkPolicy) {
  const spec = (np.spec ??= {});
  spec.podSelector ??= {};
  for (const rule of [...(spec.ingress ?? []), ...(spec.egress ?? [])]) for (const port of rule.ports ?? []) port.protocol ??= 'TCP';
  if (!spec.policyTypes || spec.policyTypes.length === 0) {
    spec.policyTypes = ['Ingress'];
    if (spec.egress && spec.egress.length > 0) spec.policyTypes.push('Egress');
  }
}

/** A parsed CIDR, or undefined if `s` is not one. */
function parseCIDR(s: string): { bits: bigint; prefix: number; width: number } | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = s.slice(0, slash);
  const prefixText = s.slice(slash + 1);
  if (!/^\d+$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const family = isIP(ip);
  if (family === 4) {
    if (prefix > 32) return undefined;
    const bits = ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
    return { bits, prefix, width: 32 };
  }
  if (family === 6) {
    if (prefix > 128) return undefined;
    const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    if (groups.some((g) => g.includes('.'))) return undefined;
    const bits = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
    return { bits, prefix, width: 128 };
  }
  return undefined;
}

function contains(outer: { bits: bigint; prefix: number; width: number }, inner: { bits: bigint; prefix: number; width: number }): boolean {
  if (outer.width !== inner.width) return false;
  const shift = BigInt(outer.width - outer.prefix);
  return outer.bits >> shift === inner.bits >> shift;
}

function validatePeer(peer: Peer, p: FieldPath, errs: FieldError[]) {
  let n = 0;
  for (const sel of [peer.podSelector, peer.namespaceSelector]) {
    if (!sel) continue;
    n++;
    try {
      labelSelectorFromObject(sel);
    } catch (err) {
      errs.push(p.invalid(sel, (err as Error).message));
    }
  }
  if (peer.ipBlock) {
    n++;
    const bp = p.child('ipBlock');
    const cidr = peer.ipBlock.cidr;
    const outer = cidr ? parseCIDR(cidr) : undefined;
    if (!cidr) errs.push(bp.child('cidr').required());
    else if (!outer) errs.push(bp.child('cidr').invalid(cidr, 'not a valid CIDR'));
    else
      (peer.ipBlock.except ?? []).forEach((e, i) => {
        const inner = parseCIDR(e);
        if (!inner) errs.push(bp.child('except').index(i).invalid(e, 'not a valid CIDR'));
        else if (!contains(outer, inner) || outer.prefix >= inner.prefix) errs.push(bp.child('except').index(i).invalid(e, 'must be a strict subset of `cidr`'));
      });
  }
  if (n === 0) errs.push(p.required('must specify a peer'));
  else if (n > 1 && peer.ipBlock) errs.push(p.forbidden('may not specify both ipBlock and another peer'));
}

function validatePort(port: Port, p: FieldPath, errs: FieldError[]) {
  if (port.port === undefined) {
    if (port.endPort !== undefined) errs.push(p.child('endPort').invalid(port.endPort, 'may not be specified when `port` is not specified'));
    return;
  }
  if (typeof port.port === 'number') {
    if (!isValidPortNum(port.port)) errs.push(p.child('port').invalid(port.port, portRangeMessage));
    if (port.endPort !== undefined) {
      if (port.endPort < port.port) errs.push(p.child('endPort').invalid(port.port, 'must be greater than or equal to `port`'));
      if (!isValidPortNum(port.endPort)) errs.push(p.child('endPort').invalid(port.endPort, portRangeMessage));
    }
  } else {
    if (port.endPort !== undefined) errs.push(p.child('endPort').invalid(port.endPort, 'may not be specified when `port` is non-numeric'));
    for (const m of isValidPortName(port.port)) errs.push(p.child('port').invalid(port.port, m));
  }
}

export function validateNetworkPolicy(np: NetworkPolicy): FieldError[] {
  const errs: FieldError[] = [];
  const p = fieldPath('spec');
  const spec = np.spec ?? {};
  if (spec.podSelector) {
    try {
      labelSelectorFromObject(spec.podSelector);
    } catch (err) {
      errs.push(p.child('podSelector').invalid(spec.podSelector, (err as Error).message));
    }
  }
  (spec.ingress ?? []).forEach((rule, i) => {
    const rp = p.child('ingress').index(i);
    (rule.ports ?? []).forEach((port, j) => validatePort(port, rp.child('ports').index(j), errs));
    (rule.from ?? []).forEach((peer, j) => validatePeer(peer, rp.child('from').index(j), errs));
  });
  (spec.egress ?? []).forEach((rule, i) => {
    const rp = p.child('egress').index(i);
    (rule.ports ?? []).forEach((port, j) => validatePort(port, rp.child('ports').index(j), errs));
    (rule.to ?? []).forEach((peer, j) => validatePeer(peer, rp.child('to').index(j), errs));
  });
  if ((spec.policyTypes ?? []).length > 2) errs.push(p.child('policyTypes').invalid(spec.policyTypes, 'may not specify more than two policyTypes'));
  return errs;
}
