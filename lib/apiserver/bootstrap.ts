/**
 * The API server's own bootstrap loop, after upstream's bootstrap controller: the system
 * namespaces exist, the `kubernetes` Service in `default` points at the API server, and the
 * built-in PriorityClasses (system-node-critical, system-cluster-critical) exist.
 */
import type { Logger } from 'pino';
import { sleep } from '../base/index.js';
import { systemPriorityClasses, type KubeObject } from '../api/index.js';
import { isAlreadyExists, isConflict, isNotFound } from '../machinery/index.js';
import { authenticationConfigMap } from './authz/bootstrap-policy.js';
import { newContext, type Registry } from '../registry/index.js';

export const systemNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export interface BootstrapOptions {
  registry: Registry;
  log: Logger;
  /** The address and port other components reach the API server at. */
  advertiseAddress: string;
  advertisePort: number;
  intervalMs?: number;
  /** More objects kept in the same loop, after these (the APIServices of the served groups). */
  also?: () => Promise<void>;
}

/** `obj` exists (created if missing); when `reconcile` says the current one is off, it is replaced by `obj`. */
export async function ensureObject(registry: Registry, group: string, resource: string, namespace: string, obj: KubeObject, log: Logger, reconcile?: (cur: KubeObject) => boolean) {
  const store = registry.mustGet(group, resource);
  const ctx = newContext({ namespace, user: { username: 'system:apiserver', groups: ['system:masters'] }, fieldManager: 'kube-apiserver' });
  try {
    const cur = await store.get(ctx, obj.metadata.name!);
    if (reconcile && reconcile(cur)) await store.update(ctx, obj.metadata.name!, () => ({ ...structuredClone(obj), metadata: { ...cur.metadata, ...obj.metadata, resourceVersion: cur.metadata.resourceVersion } }));
  } catch (err) {
    if (!isNotFound(err)) throw err;
    try {
      await store.create(ctx, store.decode(structuredClone(obj)));
      log.info({ resource, namespace, name: obj.metadata.name }, 'created');
    } catch (e) {
      if (!isAlreadyExists(e) && !isConflict(e)) throw e;
    }
  }
}

export async function bootstrapOnce(o: BootstrapOptions): Promise<void> {
  for (const ns of systemNamespaces) {
    await ensureObject(o.registry, '', 'namespaces', '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, o.log);
  }
  for (const pc of systemPriorityClasses) {
    await ensureObject(
      o.registry,
      'scheduling.k8s.io',
      'priorityclasses',
      '',
      { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: pc.name }, value: pc.value, description: pc.description, preemptionPolicy: 'PreemptLowerPriority' },
      o.log,
    );
  }
  const ip = o.registry.allocators.kubernetesServiceIP;
  const labels = { component: 'apiserver', provider: 'kubernetes' };
  await ensureObject(
    o.registry,
    '',
    'services',
    'default',
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default', labels },
      spec: { type: 'ClusterIP', clusterIP: ip, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: o.advertisePort }], sessionAffinity: 'None' },
    },
    o.log,
    (cur) => (cur.spec as { ports?: { targetPort?: unknown }[] }).ports?.[0]?.targetPort !== o.advertisePort,
  );
  const subsets = [{ addresses: [{ ip: o.advertiseAddress }], ports: [{ name: 'https', port: o.advertisePort, protocol: 'TCP' }] }];
  await ensureObject(
    o.registry,
    '',
    'endpoints',
    'default',
    { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets },
    o.log,
    (cur) => JSON.stringify((cur as { subsets?: unknown }).subsets) !== JSON.stringify(subsets),
  );
  const endpoints = [{ addresses: [o.advertiseAddress], conditions: { ready: true } }];
  await ensureObject(
    o.registry,
    'discovery.k8s.io',
    'endpointslices',
    'default',
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes', 'endpointslice.kubernetes.io/managed-by': 'tkube-apiserver' } },
      addressType: 'IPv4',
      endpoints,
      ports: [{ name: 'https', port: o.advertisePort, protocol: 'TCP' }],
    },
    o.log,
    (cur) => JSON.stringify((cur as { endpoints?: unknown }).endpoints) !== JSON.stringify(endpoints),
  );
  await o.also?.();
}

/**
 * kube-system/extension-apiserver-authentication: the client CA bundle this API server trusts,
 * under `client-ca-file`, for servers that delegate authentication to it (upstream's
 * cluster-authentication-trust controller). Rewritten when the bundle changes.
 */
export async function publishClientCA(registry: Registry, pem: string, log: Logger): Promise<void> {
  await ensureObject(registry, '', 'namespaces', '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } }, log);
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: authenticationConfigMap, namespace: 'kube-system' }, data: { 'client-ca-file': pem } };
  await ensureObject(registry, '', 'configmaps', 'kube-system', cm, log, (cur) => (cur as { data?: Record<string, string> }).data?.['client-ca-file'] !== pem);
}

/** Runs the bootstrap now and then every interval until the signal aborts. */
export async function runBootstrap(o: BootstrapOptions, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      await bootstrapOnce(o);
    } catch (err) {
      o.log.warn({ err }, 'bootstrap reconcile failed; retrying');
    }
    await sleep(o.intervalMs ?? 10_000, signal);
  }
}
