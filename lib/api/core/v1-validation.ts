/** Validation for core/v1, as upstream's pkg/apis/core/validation (the checks users meet most). */
import {
  fieldPath,
  type FieldError,
  type FieldPath,
  isDNS1123Label,
  isDNS1123Subdomain,
  isValidPortNum,
  isValidPortName,
  isValidIPv4,
  isQualifiedName,
  jsonEqual,
} from '../../machinery/index.js';
import type { Container, PodSpec, Pod, Service, ConfigMap, Secret, Node, Event, Namespace, Volume, SeccompProfile } from './v1.js';

const envVarNameRe = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const configKeyRe = /^[-._a-zA-Z0-9]+$/;

function validateDNSLabelField(v: string | undefined, p: FieldPath, errs: FieldError[]) {
  if (v === undefined || v === '') return errs.push(p.required());
  for (const m of isDNS1123Label(v)) errs.push(p.invalid(v, m));
}

/** A seccomp profile: a Localhost one names a file under the kubelet's seccomp folder, the others none. */
function validateSeccompProfile(sp: SeccompProfile | undefined, p: FieldPath, errs: FieldError[]) {
  if (!sp) return;
  const lp = p.child('localhostProfile');
  if (sp.type !== 'Localhost') {
    if (sp.localhostProfile !== undefined) errs.push(lp.invalid(sp, 'can only be set when seccomp type is Localhost'));
    return;
  }
  if (sp.localhostProfile === undefined) return errs.push(lp.required('must be set when seccomp type is Localhost'));
  if (sp.localhostProfile.startsWith('/')) errs.push(lp.invalid(sp.localhostProfile, 'must be a relative path'));
  if (sp.localhostProfile.split('/').includes('..')) errs.push(lp.invalid(sp.localhostProfile, "must not contain '..'"));
}

function validateContainer(c: Container, p: FieldPath, volumes: Set<string>, errs: FieldError[], isInit: boolean) {
  validateDNSLabelField(c.name, p.child('name'), errs);
  validateSeccompProfile(c.securityContext?.seccompProfile, p.child('securityContext').child('seccompProfile'), errs);
  if (!c.image || c.image.trim() === '') errs.push(p.child('image').required());
  const portNames = new Set<string>();
  (c.ports ?? []).forEach((port, i) => {
    const pp = p.child('ports').index(i);
    if (!isValidPortNum(port.containerPort)) errs.push(pp.child('containerPort').invalid(port.containerPort, 'must be between 1 and 65535, inclusive'));
    if (port.hostPort !== undefined && port.hostPort !== 0 && !isValidPortNum(port.hostPort))
      errs.push(pp.child('hostPort').invalid(port.hostPort, 'must be between 1 and 65535, inclusive'));
    if (port.name) {
      for (const m of isValidPortName(port.name)) errs.push(pp.child('name').invalid(port.name, m));
      if (portNames.has(port.name)) errs.push(pp.child('name').duplicate(port.name));
      portNames.add(port.name);
    }
  });
  (c.env ?? []).forEach((e, i) => {
    const ep = p.child('env').index(i);
    if (!e.name) errs.push(ep.child('name').required());
    else if (!envVarNameRe.test(e.name))
      errs.push(ep.child('name').invalid(e.name, "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit"));
    if (e.valueFrom) {
      const srcs = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'].filter((k) => (e.valueFrom as Record<string, unknown>)[k] !== undefined);
      if (srcs.length !== 1) errs.push(ep.child('valueFrom').invalid('', 'may not have more than one field specified at a time'));
      if (e.value) errs.push(ep.child('valueFrom').invalid('', 'may not be specified when `value` is not empty'));
    }
  });
  const mountPaths = new Set<string>();
  (c.volumeMounts ?? []).forEach((m, i) => {
    const mp = p.child('volumeMounts').index(i);
    if (!m.name) errs.push(mp.child('name').required());
    else if (!volumes.has(m.name)) errs.push(mp.child('name').notFound(m.name));
    if (!m.mountPath) errs.push(mp.child('mountPath').required());
    else if (mountPaths.has(m.mountPath)) errs.push(mp.child('mountPath').invalid(m.mountPath, 'must be unique'));
    mountPaths.add(m.mountPath ?? '');
    if (m.subPath && (m.subPath.startsWith('/') || m.subPath.split('/').includes('..')))
      errs.push(mp.child('subPath').invalid(m.subPath, "must be a relative path without '..'"));
  });
  for (const [kind, probe] of [['livenessProbe', c.livenessProbe], ['readinessProbe', c.readinessProbe], ['startupProbe', c.startupProbe]] as const) {
    if (!probe) continue;
    const pp = p.child(kind);
    const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter((k) => (probe as Record<string, unknown>)[k] !== undefined);
    if (handlers.length === 0) errs.push(pp.required('must specify a handler type'));
    else if (handlers.length > 1) errs.push(pp.child(handlers[1]!).forbidden('may not specify more than 1 handler type'));
    for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
      const v = probe[f];
      if (v !== undefined && v < 0) errs.push(pp.child(f).invalid(v, 'must be greater than or equal to 0'));
    }
    if ((kind === 'livenessProbe' || kind === 'startupProbe') && probe.successThreshold !== undefined && probe.successThreshold !== 1)
      errs.push(pp.child('successThreshold').invalid(probe.successThreshold, 'must be 1'));
    if (isInit && c.restartPolicy !== 'Always') errs.push(pp.forbidden('may not be set for init containers without restartPolicy=Always'));
  }
  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  for (const [k, req] of Object.entries(requests)) {
    const lim = limits[k];
    if (lim !== undefined && compareQuantity(req, lim) > 0)
      errs.push(p.child('resources').child('requests').key(k).invalid(req, `must be less than or equal to ${k} limit of ${lim}`));
  }
}

/** Orders two quantities (enough for request <= limit checks). */
export function compareQuantity(a: string, b: string): number {
  return quantityToNumber(a) - quantityToNumber(b);
}

const suffix: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5, Ei: 1024 ** 6,
};

/** A quantity as a plain number (cpu "100m" → 0.1, memory "1Ki" → 1024). */
export function quantityToNumber(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))([eE][+-]?\d+|[KMGTPE]i|[numkMGTPE])?$/.exec(q.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  const s = m[2] ?? '';
  if (/^[eE]/.test(s)) return n * 10 ** Number(s.slice(1));
  return n * (suffix[s] ?? 1);
}

function validateVolumes(vols: Volume[] | undefined, p: FieldPath, errs: FieldError[]): Set<string> {
  const names = new Set<string>();
  (vols ?? []).forEach((v, i) => {
    const vp = p.index(i);
    validateDNSLabelField(v.name, vp.child('name'), errs);
    if (names.has(v.name)) errs.push(vp.child('name').duplicate(v.name));
    names.add(v.name);
    const srcs = Object.keys(v).filter((k) => k !== 'name' && (v as Record<string, unknown>)[k] !== undefined);
    if (srcs.length === 0) errs.push(vp.required('must specify a volume type'));
    else if (srcs.length > 1) errs.push(vp.child(srcs[1]!).forbidden('may not specify more than 1 volume type'));
    if (v.hostPath && !v.hostPath.path) errs.push(vp.child('hostPath').child('path').required());
    if (v.configMap && !v.configMap.name) errs.push(vp.child('configMap').child('name').required());
    if (v.secret && !v.secret.secretName) errs.push(vp.child('secret').child('secretName').required());
  });
  return names;
}

export function validatePodSpec(spec: PodSpec | undefined, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec) return [p.required()];
  const volumes = validateVolumes(spec.volumes, p.child('volumes'), errs);
  validateSeccompProfile(spec.securityContext?.seccompProfile, p.child('securityContext').child('seccompProfile'), errs);
  if (!spec.containers || spec.containers.length === 0) errs.push(p.child('containers').required());
  const names = new Set<string>();
  const check = (list: Container[] | undefined, field: string, isInit: boolean) =>
    (list ?? []).forEach((c, i) => {
      const cp = p.child(field).index(i);
      validateContainer(c, cp, volumes, errs, isInit);
      if (c.name) {
        if (names.has(c.name)) errs.push(cp.child('name').duplicate(c.name));
        names.add(c.name);
      }
      if (!isInit && c.restartPolicy !== undefined) errs.push(cp.child('restartPolicy').forbidden('may not be set for non-init containers'));
    });
  check(spec.initContainers, 'initContainers', true);
  check(spec.containers, 'containers', false);
  validateEphemeralContainers(spec, p.child('ephemeralContainers'), volumes, names, errs);
  if (spec.terminationGracePeriodSeconds !== undefined && spec.terminationGracePeriodSeconds < 0)
    errs.push(p.child('terminationGracePeriodSeconds').invalid(spec.terminationGracePeriodSeconds, 'must be greater than or equal to 0'));
  if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds <= 0)
    errs.push(p.child('activeDeadlineSeconds').invalid(spec.activeDeadlineSeconds, 'must be greater than 0'));
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) {
    for (const m of isQualifiedName(k)) errs.push(p.child('nodeSelector').invalid(k, m));
    void v;
  }
  (spec.tolerations ?? []).forEach((t, i) => {
    const tp = p.child('tolerations').index(i);
    if (t.operator === 'Exists' && t.value) errs.push(tp.child('operator').invalid(t.value, 'value must be empty when `operator` is \'Exists\''));
    if (!t.key && t.operator !== 'Exists') errs.push(tp.child('operator').invalid(t.operator ?? 'Equal', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute')
      errs.push(tp.child('effect').invalid(t.effect ?? '', 'effect must be \'NoExecute\' when `tolerationSeconds` is set'));
  });
  if (spec.hostname) for (const m of isDNS1123Label(spec.hostname)) errs.push(p.child('hostname').invalid(spec.hostname, m));
  if (spec.subdomain) for (const m of isDNS1123Label(spec.subdomain)) errs.push(p.child('subdomain').invalid(spec.subdomain, m));
  if (spec.dnsPolicy === 'None' && !spec.dnsConfig) errs.push(p.child('dnsConfig').required('must provide `dnsConfig` when `dnsPolicy` is None'));
  if (spec.serviceAccountName) for (const m of isDNS1123Subdomain(spec.serviceAccountName)) errs.push(p.child('serviceAccountName').invalid(spec.serviceAccountName, m));
  return errs;
}

type EphemeralContainer = NonNullable<PodSpec['ephemeralContainers']>[number];

/**
 * The fields an ephemeral container may not set (upstream's allowedEphemeralContainerFields, in
 * the order of the Go struct, which is the order of its errors): it is a debugging aid, never
 * part of what the pod serves, so nothing that would make it one (ports, probes, hooks,
 * resources, restarts).
 */
const forbiddenEphemeralFields = ['ports', 'resources', 'resizePolicy', 'restartPolicy', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle'] as const;

/** Set as Go's zero-value test sees it: defaults leave `resources: {}`, which is not set. */
function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false || v === 0) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.values(v as Record<string, unknown>).some(isSet);
  return true;
}

/**
 * spec.ephemeralContainers (upstream's validateEphemeralContainers): each is a valid container,
 * named uniquely across every container of the pod, targeting an app or init container, and
 * setting none of the forbidden fields nor a subPath.
 */
function validateEphemeralContainers(spec: PodSpec, p: FieldPath, volumes: Set<string>, names: Set<string>, errs: FieldError[]) {
  const others = new Set([...(spec.containers ?? []), ...(spec.initContainers ?? [])].map((c) => c.name));
  (spec.ephemeralContainers ?? []).forEach((ec, i) => {
    const cp = p.index(i);
    // Probes and restartPolicy are refused below, once, as upstream does.
    const common: Container = { ...(ec as Container) };
    for (const f of forbiddenEphemeralFields) delete common[f];
    delete (common as Record<string, unknown>).targetContainerName;
    validateContainer(common, cp, volumes, errs, false);
    if (ec.name) {
      if (names.has(ec.name)) errs.push(cp.child('name').duplicate(ec.name));
      names.add(ec.name);
    }
    if (ec.targetContainerName && !others.has(ec.targetContainerName)) errs.push(cp.child('targetContainerName').notFound(ec.targetContainerName));
    for (const f of forbiddenEphemeralFields) if (isSet(ec[f])) errs.push(cp.child(f).forbidden('cannot be set for an Ephemeral Container'));
    (ec.volumeMounts ?? []).forEach((m, j) => {
      const mp = cp.child('volumeMounts').index(j);
      if (m.subPath) errs.push(mp.child('subPath').forbidden('cannot be set for an Ephemeral Container'));
      if (m.subPathExpr) errs.push(mp.child('subPathExpr').forbidden('cannot be set for an Ephemeral Container'));
    });
  });
}

export function validatePod(pod: Pod, old?: Pod): FieldError[] {
  const errs = validatePodSpec(pod.spec, fieldPath('spec'));
  // Ephemeral containers are added to a running pod through its ephemeralcontainers subresource only.
  if (!old && (pod.spec?.ephemeralContainers ?? []).length > 0) errs.push(fieldPath('spec.ephemeralContainers').forbidden('cannot be set on create'));
  if (old && old.spec && pod.spec) errs.push(...validatePodSpecUpdate(pod.spec, old.spec));
  return errs;
}

/** A line per field that differs between two ephemeral containers (upstream prints a cmp.Diff). */
function fieldDiff(a: EphemeralContainer, b: EphemeralContainer): string {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  const out: string[] = [];
  for (const k of keys) {
    const x = (a as Record<string, unknown>)[k];
    const y = (b as Record<string, unknown>)[k];
    if (jsonEqual(x, y)) continue;
    if (x !== undefined) out.push(`- ${k}: ${JSON.stringify(x)}`);
    if (y !== undefined) out.push(`+ ${k}: ${JSON.stringify(y)}`);
  }
  return out.join('\n');
}

/**
 * A write through pods/ephemeralcontainers (upstream's ValidatePodEphemeralContainersUpdate):
 * the pod's spec stays valid, static pods take none, and ephemeral containers may only be
 * added, never changed or removed. The caller has already carried everything but
 * spec.ephemeralContainers over from `old`.
 */
export function validatePodEphemeralContainersUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = validatePodSpec(pod.spec, fieldPath('spec'));
  if (old.metadata.annotations?.['kubernetes.io/config.mirror'] !== undefined) return [fieldPath('').forbidden('static pods do not support ephemeral containers')];
  const p = fieldPath('spec.ephemeralContainers');
  const next = new Map((pod.spec?.ephemeralContainers ?? []).map((c) => [c.name, c]));
  for (const o of old.spec?.ephemeralContainers ?? []) {
    const n = next.get(o.name);
    if (!n) errs.push(p.forbidden(`existing ephemeral containers ${JSON.stringify(o.name)} may not be removed\n`));
    else if (!jsonEqual(o, n)) errs.push(p.forbidden(`existing ephemeral containers ${JSON.stringify(o.name)} may not be changed\n${fieldDiff(o, n)}`));
  }
  return errs;
}

/** The fields of a running pod's spec that may change; everything else is immutable. */
function validatePodSpecUpdate(spec: PodSpec, old: PodSpec): FieldError[] {
  const scrub = (s: PodSpec) => {
    const c = structuredClone(s) as Record<string, unknown> & PodSpec;
    for (const list of [c.containers, c.initContainers]) for (const ct of list ?? []) delete ct.image;
    delete c.activeDeadlineSeconds;
    delete c.tolerations;
    delete c.terminationGracePeriodSeconds;
    delete c.schedulingGates;
    return c;
  };
  const errs: FieldError[] = [];
  if (old.nodeName && spec.nodeName !== old.nodeName) errs.push(fieldPath('spec.nodeName').forbidden('field is immutable'));
  const a = scrub(spec);
  const b = scrub(old);
  if (!old.nodeName) {
    delete a.nodeName;
    delete b.nodeName;
  }
  if (!jsonEqual(a, b))
    errs.push(
      fieldPath('spec').forbidden(
        'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
      ),
    );
  return errs;
}

export function validateService(svc: Service, old?: Service): FieldError[] {
  const errs: FieldError[] = [];
  const p = fieldPath('spec');
  const spec = svc.spec;
  if (!spec) return [p.required()];
  const isExternalName = spec.type === 'ExternalName';
  const headless = spec.clusterIP === 'None';
  if (!isExternalName && (!spec.ports || spec.ports.length === 0) && !headless) errs.push(p.child('ports').required());
  if (isExternalName && !spec.externalName) errs.push(p.child('externalName').required());
  const names = new Set<string>();
  const ports = spec.ports ?? [];
  ports.forEach((port, i) => {
    const pp = p.child('ports').index(i);
    if (ports.length > 1 && !port.name) errs.push(pp.child('name').required());
    if (port.name) {
      for (const m of isDNS1123Label(port.name)) errs.push(pp.child('name').invalid(port.name, m));
      if (names.has(port.name)) errs.push(pp.child('name').duplicate(port.name));
      names.add(port.name);
    }
    if (!isValidPortNum(port.port)) errs.push(pp.child('port').invalid(port.port, 'must be between 1 and 65535, inclusive'));
    if (typeof port.targetPort === 'number' && !isValidPortNum(port.targetPort))
      errs.push(pp.child('targetPort').invalid(port.targetPort, 'must be between 1 and 65535, inclusive'));
    if (typeof port.targetPort === 'string') for (const m of isValidPortName(port.targetPort)) errs.push(pp.child('targetPort').invalid(port.targetPort, m));
    if (port.nodePort !== undefined && port.nodePort !== 0 && spec.type === 'ClusterIP')
      errs.push(pp.child('nodePort').forbidden('may not be used when `type` is \'ClusterIP\''));
  });
  if (spec.clusterIP && spec.clusterIP !== 'None' && !isValidIPv4(spec.clusterIP))
    errs.push(p.child('clusterIPs').index(0).invalid(spec.clusterIP, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  (spec.externalIPs ?? []).forEach((ip, i) => {
    if (!isValidIPv4(ip)) errs.push(p.child('externalIPs').index(i).invalid(ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  });
  if (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds !== undefined) {
    const t = spec.sessionAffinityConfig.clientIP.timeoutSeconds;
    if (t <= 0 || t > 86400) errs.push(p.child('sessionAffinityConfig.clientIP.timeoutSeconds').invalid(t, 'must be greater than 0 and less than 86400'));
  }
  for (const [k] of Object.entries(spec.selector ?? {})) for (const m of isQualifiedName(k)) errs.push(p.child('selector').invalid(k, m));
  if (old?.spec?.clusterIP && old.spec.clusterIP !== spec.clusterIP && spec.type !== 'ExternalName' && old.spec.type !== 'ExternalName')
    errs.push(p.child('clusterIPs').index(0).invalid(spec.clusterIP ?? '', 'may not change once set'));
  return errs;
}

function validateDataKeys(keys: string[], p: FieldPath, errs: FieldError[]) {
  for (const k of keys) {
    if (!configKeyRe.test(k) || k.length > 253)
      errs.push(p.invalid(k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
  }
}

export function validateConfigMap(cm: ConfigMap, old?: ConfigMap): FieldError[] {
  const errs: FieldError[] = [];
  validateDataKeys(Object.keys(cm.data ?? {}), fieldPath('data'), errs);
  validateDataKeys(Object.keys(cm.binaryData ?? {}), fieldPath('binaryData'), errs);
  for (const k of Object.keys(cm.data ?? {})) if (cm.binaryData && k in cm.binaryData) errs.push(fieldPath('data').key(k).invalid(k, 'duplicate of key present in binaryData'));
  if (old?.immutable && (!jsonEqual(old.data, cm.data) || !jsonEqual(old.binaryData, cm.binaryData)))
    errs.push(fieldPath('data').forbidden('field is immutable when `immutable` is set'));
  if (old?.immutable && !cm.immutable) errs.push(fieldPath('immutable').forbidden('field is immutable when `immutable` is set'));
  return errs;
}

const base64Re = /^[A-Za-z0-9+/]*={0,2}$/;

export function validateSecret(s: Secret, old?: Secret): FieldError[] {
  const errs: FieldError[] = [];
  validateDataKeys(Object.keys(s.data ?? {}), fieldPath('data'), errs);
  for (const [k, v] of Object.entries(s.data ?? {})) {
    if (!base64Re.test(v) || v.length % 4 !== 0) errs.push(fieldPath('data').key(k).invalid('<secret contents redacted>', 'illegal base64 data'));
  }
  if (old && old.type !== s.type) errs.push(fieldPath('type').invalid(s.type, 'field is immutable'));
  if (old?.immutable && !jsonEqual(old.data, s.data)) errs.push(fieldPath('data').forbidden('field is immutable when `immutable` is set'));
  return errs;
}

export function validateNode(n: Node, old?: Node): FieldError[] {
  const errs: FieldError[] = [];
  if (n.spec?.podCIDR && !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(n.spec.podCIDR)) errs.push(fieldPath('spec.podCIDR').invalid(n.spec.podCIDR, 'must be a valid CIDR'));
  if (old?.spec?.podCIDR && n.spec?.podCIDR !== old.spec.podCIDR) errs.push(fieldPath('spec.podCIDRs').forbidden('node updates may not change podCIDR except from "" to valid'));
  (n.spec?.taints ?? []).forEach((t, i) => {
    for (const m of isQualifiedName(t.key)) errs.push(fieldPath('spec.taints').index(i).child('key').invalid(t.key, m));
  });
  return errs;
}

export function validateEvent(e: Event): FieldError[] {
  const errs: FieldError[] = [];
  if (!e.involvedObject) errs.push(fieldPath('involvedObject').required());
  else if (e.involvedObject.namespace && e.metadata.namespace && e.involvedObject.namespace !== e.metadata.namespace)
    errs.push(fieldPath('involvedObject.namespace').invalid(e.involvedObject.namespace, 'does not match event.namespace'));
  if (e.type && e.type !== 'Normal' && e.type !== 'Warning') errs.push(fieldPath('type').notSupported(e.type, ['Normal', 'Warning']));
  return errs;
}

export function validateNamespace(ns: Namespace): FieldError[] {
  const errs: FieldError[] = [];
  (ns.spec?.finalizers ?? []).forEach((f, i) => {
    for (const m of isQualifiedName(f)) errs.push(fieldPath('spec.finalizers').index(i).invalid(f, m));
  });
  return errs;
}
