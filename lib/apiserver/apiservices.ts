/**
 * The APIServices of the group versions this API server serves, as upstream's aggregator
 * registers them: `<version>.<group>` (`v1.` for the core group), Local (no service), with
 * upstream's discovery priorities. Built-in ones are labelled automanaged `onstart`; those of
 * custom resource groups `true`, and they go away with the last definition of their group.
 * metrics.k8s.io, which tkube serves itself, gets metrics-server's priorities.
 */
import type { Logger } from 'pino';
import type { APIService } from '../api/index.js';
import { isNotFound } from '../machinery/index.js';
import { newContext, type Registry } from '../registry/index.js';
import { ensureObject } from './bootstrap.js';

export const automanagedLabel = 'kube-aggregator.kubernetes.io/automanaged';

/** Upstream's [groupPriorityMinimum, versionPriority] of each built-in group version. */
const priorities: Record<string, [number, number]> = {
  '/v1': [18000, 1],
  'apiregistration.k8s.io/v1': [18000, 15],
  'apps/v1': [17800, 15],
  'events.k8s.io/v1': [17750, 15],
  'authentication.k8s.io/v1': [17700, 15],
  'authorization.k8s.io/v1': [17600, 15],
  'autoscaling/v1': [17500, 15],
  'autoscaling/v2': [17500, 30],
  'batch/v1': [17400, 15],
  'certificates.k8s.io/v1': [17300, 15],
  'networking.k8s.io/v1': [17200, 15],
  'policy/v1': [17100, 15],
  'rbac.authorization.k8s.io/v1': [17000, 15],
  'storage.k8s.io/v1': [16800, 15],
  'admissionregistration.k8s.io/v1': [16700, 15],
  'apiextensions.k8s.io/v1': [16700, 15],
  'scheduling.k8s.io/v1': [16600, 15],
  'coordination.k8s.io/v1': [16500, 15],
  'node.k8s.io/v1': [16300, 15],
  'discovery.k8s.io/v1': [16200, 15],
  'flowcontrol.apiserver.k8s.io/v1': [16100, 21],
  'metrics.k8s.io/v1beta1': [100, 100],
};

export interface ServedGroupVersion {
  group: string;
  version: string;
  /** Of a CustomResourceDefinition. */
  custom?: boolean;
}

function apiService(gv: ServedGroupVersion, [groupPriorityMinimum, versionPriority]: [number, number]): APIService {
  return {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: `${gv.version}.${gv.group}`, labels: { [automanagedLabel]: gv.custom ? 'true' : 'onstart' } },
    spec: { group: gv.group, version: gv.version, groupPriorityMinimum, versionPriority },
  };
}

/**
 * Creates the missing APIServices of `served`, and deletes custom groups' ones no longer served.
 * One list a round (the bootstrap loop calls this every few seconds); writes only for changes.
 */
export async function syncAPIServices(registry: Registry, served: ServedGroupVersion[], log: Logger): Promise<void> {
  const wanted = new Map<string, APIService>();
  for (const gv of served) {
    const p = gv.custom ? ([1000, 100] as [number, number]) : priorities[`${gv.group}/${gv.version}`];
    if (p) wanted.set(`${gv.version}.${gv.group}`, apiService(gv, p));
  }
  const store = registry.mustGet('apiregistration.k8s.io', 'apiservices');
  const ctx = newContext({ namespace: '', user: { username: 'system:apiserver', groups: ['system:masters'] }, fieldManager: 'kube-apiserver' });
  const existing = (await store.list(ctx, {})).items.map((i) => i.object as APIService);
  const present = new Set(existing.map((a) => a.metadata.name!));
  for (const a of wanted.values()) if (!present.has(a.metadata.name!)) await ensureObject(registry, 'apiregistration.k8s.io', 'apiservices', '', a, log);
  for (const a of existing) {
    if (a.metadata.labels?.[automanagedLabel] !== 'true' || wanted.has(a.metadata.name!)) continue;
    try {
      await store.delete(ctx, a.metadata.name!, {});
      log.info({ apiService: a.metadata.name }, 'deleted the APIService of a custom resource group no longer served');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
