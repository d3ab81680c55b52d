/**
 * The built-in schemas are what `kubectl explain`, strategic merge patch and server-side apply
 * see: every nested object is a named type with a description on each field, nothing is a
 * loose placeholder, and lists merge the way upstream's struct tags say.
 */
import { describe, expect, test } from 'vitest';
import type { z } from 'zod';
import { builtinResources } from './builtin.js';
import { defOf, fieldSchema, itemSchema, unwrap } from './schema-walk.js';

interface Found {
  path: string;
  problem: string;
}

function walk(schema: z.ZodType, path: string, out: Found[], seen: Set<z.ZodType>) {
  const { core, meta } = unwrap(schema);
  if (meta['x-kubernetes-preserve-unknown-fields']) return;
  const d = defOf(core);
  if (d.type === 'array') return walk(d.element!, `${path}[]`, out, seen);
  if (d.type === 'record') return walk(d.valueType!, `${path}{}`, out, seen);
  if (d.type !== 'object') return;
  if (seen.has(core)) return;
  seen.add(core);
  if (typeof meta.id !== 'string' || !meta.id.startsWith('io.k8s.')) out.push({ path, problem: `object without an upstream definition id (${String(meta.id)})` });
  if (d.catchall && defOf(d.catchall).type !== 'never') out.push({ path, problem: 'loose object' });
  for (const [name, field] of Object.entries(d.shape!)) {
    const p = path ? `${path}.${name}` : name;
    if (!unwrap(field).meta.description) out.push({ path: p, problem: 'no description' });
    walk(field, p, out, seen);
  }
}

describe.each(builtinResources.map((rt) => [`${rt.resource}${rt.group ? `.${rt.group}` : ''}`, rt] as const))('%s', (_name, rt) => {
  test('every nested object is a named type, no placeholders, every field described', () => {
    const found: Found[] = [];
    walk(rt.schema, '', found, new Set());
    expect(found).toEqual([]);
  });
});

function at(group: string, resource: string, path: string): Record<string, unknown> {
  const rt = builtinResources.find((r) => r.group === group && r.resource === resource)!;
  let s: z.ZodType | undefined = rt.schema;
  for (const seg of path.split('.')) {
    if (seg.endsWith('[]')) s = itemSchema(fieldSchema(s!, seg.slice(0, -2))!);
    else s = fieldSchema(s!, seg);
    if (!s) throw new Error(`no field ${seg} in ${path}`);
  }
  return unwrap(s!).meta;
}

const mergeBy = (keys: string[], strategy = 'merge') => ({
  'x-kubernetes-patch-strategy': strategy,
  'x-kubernetes-patch-merge-key': keys[0],
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': keys,
});
const atomic = { 'x-kubernetes-list-type': 'atomic' };

describe('list merge keys and strategies, as upstream tags them', () => {
  test.each<[string, string, string, Record<string, unknown>]>([
    ['', 'pods', 'spec.containers', mergeBy(['name'])],
    ['', 'pods', 'spec.initContainers', mergeBy(['name'])],
    ['', 'pods', 'spec.ephemeralContainers', mergeBy(['name'])],
    ['', 'pods', 'spec.containers[].ports', mergeBy(['containerPort', 'protocol'])],
    ['', 'pods', 'spec.containers[].env', mergeBy(['name'])],
    ['', 'pods', 'spec.containers[].volumeMounts', mergeBy(['mountPath'])],
    ['', 'pods', 'spec.containers[].volumeDevices', mergeBy(['devicePath'])],
    ['', 'pods', 'spec.volumes', mergeBy(['name'], 'merge,retainKeys')],
    ['', 'pods', 'spec.imagePullSecrets', mergeBy(['name'])],
    ['', 'pods', 'spec.tolerations', atomic],
    ['', 'pods', 'spec.hostAliases', mergeBy(['ip'])],
    ['', 'pods', 'spec.topologySpreadConstraints', mergeBy(['topologyKey', 'whenUnsatisfiable'])],
    ['', 'pods', 'spec.schedulingGates', mergeBy(['name'])],
    ['', 'pods', 'spec.resourceClaims', mergeBy(['name'], 'merge,retainKeys')],
    ['', 'pods', 'status.conditions', mergeBy(['type'])],
    ['', 'pods', 'status.podIPs', mergeBy(['ip'])],
    ['', 'pods', 'status.hostIPs', { 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'ip', 'x-kubernetes-list-type': 'atomic' }],
    ['', 'pods', 'metadata.finalizers', { 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'set' }],
    ['', 'pods', 'metadata.ownerReferences', mergeBy(['uid'])],
    ['', 'services', 'spec.ports', mergeBy(['port', 'protocol'])],
    ['', 'services', 'status.conditions', mergeBy(['type'])],
    ['', 'nodes', 'status.addresses', mergeBy(['type'])],
    ['', 'nodes', 'status.conditions', mergeBy(['type'])],
    ['', 'nodes', 'spec.podCIDRs', { 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'set' }],
    ['', 'nodes', 'spec.taints', atomic],
    ['', 'namespaces', 'spec.finalizers', atomic],
    ['', 'serviceaccounts', 'secrets', mergeBy(['name'])],
    ['', 'persistentvolumeclaims', 'status.conditions', mergeBy(['type'])],
    ['apps', 'deployments', 'status.conditions', mergeBy(['type'])],
    ['apps', 'deployments', 'spec.strategy', { 'x-kubernetes-patch-strategy': 'retainKeys' }],
    ['apps', 'statefulsets', 'spec.volumeClaimTemplates', atomic],
    ['batch', 'jobs', 'status.conditions', { 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'type', 'x-kubernetes-list-type': 'atomic' }],
    ['policy', 'poddisruptionbudgets', 'spec.selector', { 'x-kubernetes-patch-strategy': 'replace' }],
    ['autoscaling', 'horizontalpodautoscalers', 'status.conditions', mergeBy(['type'])],
  ])('%s %s %s', (group, resource, path, want) => {
    expect(at(group, resource, path)).toMatchObject(want);
  });
});

describe('named types follow the upstream definition names', () => {
  test.each<[string, string, string, string]>([
    ['', 'pods', 'spec.volumes[].csi', 'io.k8s.api.core.v1.CSIVolumeSource'],
    ['', 'pods', 'spec.volumes[].ephemeral.volumeClaimTemplate.spec', 'io.k8s.api.core.v1.PersistentVolumeClaimSpec'],
    ['', 'pods', 'spec.volumes[].image', 'io.k8s.api.core.v1.ImageVolumeSource'],
    ['', 'pods', 'spec.resourceClaims[]', 'io.k8s.api.core.v1.PodResourceClaim'],
    ['', 'services', 'status.conditions[]', 'io.k8s.apimachinery.pkg.apis.meta.v1.Condition'],
    ['', 'nodes', 'status.runtimeHandlers[].features', 'io.k8s.api.core.v1.NodeRuntimeHandlerFeatures'],
    ['', 'nodes', 'status.features', 'io.k8s.api.core.v1.NodeFeatures'],
    ['apps', 'statefulsets', 'spec.volumeClaimTemplates[]', 'io.k8s.api.core.v1.PersistentVolumeClaim'],
    ['apps', 'deployments', 'status', 'io.k8s.api.apps.v1.DeploymentStatus'],
    ['batch', 'jobs', 'spec.podFailurePolicy.rules[].onExitCodes', 'io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement'],
    ['batch', 'jobs', 'spec.successPolicy.rules[]', 'io.k8s.api.batch.v1.SuccessPolicyRule'],
    ['policy', 'poddisruptionbudgets', 'status.conditions[]', 'io.k8s.apimachinery.pkg.apis.meta.v1.Condition'],
    ['discovery.k8s.io', 'endpointslices', 'endpoints[].hints.forZones[]', 'io.k8s.api.discovery.v1.ForZone'],
    ['networking.k8s.io', 'ingresses', 'spec.rules[].http.paths[].backend.service.port', 'io.k8s.api.networking.v1.ServiceBackendPort'],
    ['autoscaling', 'horizontalpodautoscalers', 'spec.behavior.scaleUp.policies[]', 'io.k8s.api.autoscaling.v2.HPAScalingPolicy'],
  ])('%s %s %s', (group, resource, path, id) => {
    expect(at(group, resource, path).id).toBe(id);
  });
});
