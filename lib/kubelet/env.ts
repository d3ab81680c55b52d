/**
 * A container's environment, resolved as the kubelet does before it creates the container:
 *
 *   1. envFrom sources in order (ConfigMaps and Secrets; keys that are not valid variable names
 *      are skipped and reported), each key with its prefix;
 *   2. env entries in order: literal values with $(VAR) expanded from what is defined so far and
 *      from the service variables, or values from a pod field, a container resource, a
 *      ConfigMap key or a Secret key;
 *   3. the service variables (`<SVC>_SERVICE_HOST`, Docker-links style `<SVC>_PORT...`) of the
 *      services in the pod's namespace when enableServiceLinks is on, and always those of the
 *      `kubernetes` service in `default`, unless the container defined the same name itself.
 *
 * A missing object or key (not optional) is a ContainerConfigError, which the kubelet reports
 * as the container's waiting reason CreateContainerConfigError and retries.
 */
import type { ConfigMap, Container, Pod, Secret, Service } from '../api/index.js';
import type { EnvVar } from './api-types.js';
import { quantityToNumber } from '../api/index.js';
import { expandEnvReferences } from './runtime-config.js';

export class ContainerConfigError extends Error {
  override readonly name = 'ContainerConfigError';
}

/** The namespace and name of the service whose variables every pod gets. */
export const masterServiceNamespace = 'default';
export const masterServiceName = 'kubernetes';

export interface EnvResolveContext {
  /** The pod's address(es) and the node's, known once the sandbox is up. */
  podIPs: string[];
  hostIPs: string[];
  nodeName: string;
  /** Node allocatable (cpu, memory, ephemeral-storage) for resource references without a limit. */
  nodeAllocatable: Record<string, string>;
  /** Services visible to the pod: those of its namespace and the master service. */
  services: readonly Service[];
  /** Reads an object; undefined when it does not exist. Other failures reject. */
  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  getSecret(namespace: string, name: string): Promise<Secret | undefined>;
}

export interface ResolvedEnv {
  env: Array<{ name: string; value: string }>;
  /** Problems worth an event but not fatal (invalid keys skipped from envFrom). */
  warnings: string[];
}

const envVarName = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** `my-svc` → `MY_SVC`: how service names become variable names. */
export function serviceEnvName(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}

function hasClusterIP(s: Service): boolean {
  const ip = s.spec?.clusterIP;
  return !!ip && ip !== 'None';
}

/** The services whose variables the pod gets, keyed by name: the pod's namespace ones win over the master service. */
export function servicesForPod(pod: Pod, services: readonly Service[]): Service[] {
  const ns = pod.metadata.namespace ?? 'default';
  const links = pod.spec?.enableServiceLinks ?? true;
  const byName = new Map<string, Service>();
  for (const s of services) {
    if (!hasClusterIP(s)) continue;
    const name = s.metadata.name ?? '';
    if (s.metadata.namespace === masterServiceNamespace && name === masterServiceName) {
      if (!byName.has(name)) byName.set(name, s);
    } else if (s.metadata.namespace === ns && links) {
      byName.set(name, s);
    }
  }
  return [...byName.values()].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0));
}

/** The variables of some services, in the order upstream writes them. */
export function serviceEnvVars(services: readonly Service[]): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  for (const s of services) {
    if (!hasClusterIP(s)) continue;
    const ports = s.spec?.ports ?? [];
    if (ports.length === 0) continue;
    const ip = s.spec!.clusterIP!;
    const prefix = serviceEnvName(s.metadata.name ?? '');
    out.push({ name: `${prefix}_SERVICE_HOST`, value: ip });
    out.push({ name: `${prefix}_SERVICE_PORT`, value: String(ports[0]!.port) });
    for (const p of ports) if (p.name) out.push({ name: `${prefix}_SERVICE_PORT_${serviceEnvName(p.name)}`, value: String(p.port) });
    // Docker links: the first port also gets the bare <SVC>_PORT.
    ports.forEach((p, i) => {
      const proto = (p.protocol ?? 'TCP').toUpperCase();
      const hostPort = ip.includes(':') ? `[${ip}]:${p.port}` : `${ip}:${p.port}`;
      const url = `${proto.toLowerCase()}://${hostPort}`;
      if (i === 0) out.push({ name: `${prefix}_PORT`, value: url });
      const pp = `${prefix}_PORT_${p.port}_${proto}`;
      out.push({ name: pp, value: url }, { name: `${pp}_PROTO`, value: proto.toLowerCase() }, { name: `${pp}_PORT`, value: String(p.port) }, { name: `${pp}_ADDR`, value: ip });
    });
  }
  return out;
}

/** Reads `metadata.labels['key']` style paths. */
function subscripted(path: string, field: string): string | undefined {
  const m = new RegExp(`^${field.replace('.', '\\.')}\\['(.*)'\\]$`).exec(path);
  return m ? m[1] : undefined;
}

/** The value of a downward API field path (env fieldRef); throws for paths env cannot use. */
export function podFieldValue(pod: Pod, path: string, ctx: Pick<EnvResolveContext, 'podIPs' | 'hostIPs' | 'nodeName'>): string {
  const m = pod.metadata;
  switch (path) {
    case 'metadata.name':
      return m.name ?? '';
    case 'metadata.namespace':
      return m.namespace ?? '';
    case 'metadata.uid':
      return m.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName || ctx.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return ctx.hostIPs[0] ?? '';
    case 'status.hostIPs':
      return ctx.hostIPs.join(',');
    case 'status.podIP':
      return ctx.podIPs[0] ?? '';
    case 'status.podIPs':
      return ctx.podIPs.join(',');
    case 'metadata.labels':
      return formatMap(m.labels ?? {});
    case 'metadata.annotations':
      return formatMap(m.annotations ?? {});
  }
  const label = subscripted(path, 'metadata.labels');
  if (label !== undefined) return m.labels?.[label] ?? '';
  const ann = subscripted(path, 'metadata.annotations');
  if (ann !== undefined) return m.annotations?.[ann] ?? '';
  throw new ContainerConfigError(`unsupported fieldPath: ${path}`);
}

/** `key="value"` lines sorted by key: how labels and annotations read as one downward API value. */
export function formatMap(map: Record<string, string>): string {
  return Object.keys(map)
    .sort()
    .map((k) => `${k}=${JSON.stringify(map[k])}`)
    .join('\n');
}

/**
 * A container's resource as a number in units of `divisor`, rounded up (upstream's rule); a
 * limit that is not set reads as the node's allocatable amount.
 */
export function containerResourceValue(container: Container, resource: string, divisor: string | number | undefined, nodeAllocatable: Record<string, string>): string {
  const [kind, name] = resource.split(/\.(.*)/s) as [string, string | undefined];
  if ((kind !== 'limits' && kind !== 'requests') || !name) throw new ContainerConfigError(`unsupported container resource: ${resource}`);
  const list = kind === 'limits' ? container.resources?.limits : container.resources?.requests;
  let q = list?.[name];
  if (q === undefined && kind === 'limits') q = nodeAllocatable[name];
  const value = q === undefined ? 0 : quantityToNumber(q);
  const d = divisor === undefined || divisor === '' || divisor === 0 ? 1 : quantityToNumber(divisor);
  if (!Number.isFinite(value) || !Number.isFinite(d) || d <= 0) throw new ContainerConfigError(`invalid quantity for ${resource}`);
  if (name === 'cpu') {
    // Millicores first, as upstream divides MilliValues.
    return String(Math.ceil(Math.ceil(value * 1000 - 1e-9) / Math.ceil(d * 1000 - 1e-9)));
  }
  return String(Math.ceil(value / d - 1e-9));
}

function decodeSecret(v: string): string {
  return Buffer.from(v, 'base64').toString('utf8');
}

/** Resolves a container's environment (see the top of this file). */
export async function resolveContainerEnv(pod: Pod, container: Container, ctx: EnvResolveContext): Promise<ResolvedEnv> {
  const ns = pod.metadata.namespace ?? 'default';
  const warnings: string[] = [];
  const defined = new Map<string, string>();
  const order: string[] = [];
  const set = (name: string, value: string) => {
    if (!defined.has(name)) order.push(name);
    defined.set(name, value);
  };

  const serviceVars = serviceEnvVars(servicesForPod(pod, ctx.services));
  const serviceMap = new Map(serviceVars.map((v) => [v.name, v.value]));

  for (const src of container.envFrom ?? []) {
    const prefix = src.prefix ?? '';
    let data: Record<string, string> = {};
    let what = '';
    if (src.configMapRef) {
      const name = src.configMapRef.name ?? '';
      what = `configMap ${ns}/${name}`;
      const cm = await ctx.getConfigMap(ns, name);
      if (!cm) {
        if (src.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${name}" not found`);
      }
      data = { ...(cm.data ?? {}) };
      for (const [k, v] of Object.entries(cm.binaryData ?? {})) data[k] ??= decodeSecret(v);
    } else if (src.secretRef) {
      const name = src.secretRef.name ?? '';
      what = `secret ${ns}/${name}`;
      const s = await ctx.getSecret(ns, name);
      if (!s) {
        if (src.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${name}" not found`);
      }
      for (const [k, v] of Object.entries(s.data ?? {})) data[k] = decodeSecret(v);
    }
    const invalid: string[] = [];
    for (const k of Object.keys(data).sort()) {
      const name = prefix + k;
      if (!envVarName.test(name)) {
        invalid.push(k);
        continue;
      }
      set(name, data[k]!);
    }
    if (invalid.length) warnings.push(`Keys [${invalid.join(', ')}] from the EnvFrom ${what} were skipped since they are considered invalid environment variable names.`);
  }

  for (const e of container.env ?? []) {
    set(e.name, await envValue(pod, container, e, ns, ctx, (s) => expandEnvReferences(s, new Map([...serviceMap, ...defined]))));
  }

  const env = order.map((name) => ({ name, value: defined.get(name)! }));
  for (const v of serviceVars) if (!defined.has(v.name)) env.push(v);
  return { env, warnings };
}

async function envValue(pod: Pod, container: Container, e: EnvVar, ns: string, ctx: EnvResolveContext, expand: (s: string) => string): Promise<string> {
  const from = e.valueFrom;
  if (!from) return expand(e.value ?? '');
  if (from.fieldRef) return podFieldValue(pod, from.fieldRef.fieldPath ?? '', ctx);
  if (from.resourceFieldRef) {
    const ref = from.resourceFieldRef;
    const target = ref.containerName ? [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === ref.containerName) : container;
    if (!target) throw new ContainerConfigError(`resourceFieldRef names container "${ref.containerName}", which is not in the pod`);
    return containerResourceValue(target, ref.resource ?? '', ref.divisor, ctx.nodeAllocatable);
  }
  if (from.configMapKeyRef) {
    const { name = '', key, optional } = from.configMapKeyRef;
    const cm = await ctx.getConfigMap(ns, name);
    if (!cm) {
      if (optional) return '';
      throw new ContainerConfigError(`configmap "${name}" not found`);
    }
    const v = cm.data?.[key] ?? (cm.binaryData?.[key] !== undefined ? decodeSecret(cm.binaryData[key]!) : undefined);
    if (v === undefined) {
      if (optional) return '';
      throw new ContainerConfigError(`couldn't find key ${key} in ConfigMap ${ns}/${name}`);
    }
    return v;
  }
  if (from.secretKeyRef) {
    const { name = '', key, optional } = from.secretKeyRef;
    const s = await ctx.getSecret(ns, name);
    if (!s) {
      if (optional) return '';
      throw new ContainerConfigError(`secret "${name}" not found`);
    }
    const v = s.data?.[key];
    if (v === undefined) {
      if (optional) return '';
      throw new ContainerConfigError(`couldn't find key ${key} in Secret ${ns}/${name}`);
    }
    return decodeSecret(v);
  }
  return expand(e.value ?? '');
}
