import { expect, test } from 'vitest';
import { PodSchema } from './core/v1-pod.js';
import { canonicalOrder, canonicalOrderAt, dropEmptyFields, findUnknownFields } from './schema-walk.js';
import { EndpointSliceSchema } from './discovery/v1.js';
import { ClusterRoleSchema } from './rbac/v1.js';
import { ConfigMapSchema } from './core/v1.js';

/** A pod as an admission plugin leaves it: what was added sits at the end of each object. */
function mutatedPod(): Record<string, unknown> {
  return {
    status: { phase: 'Pending' },
    spec: {
      containers: [{ volumeMounts: [{ readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', name: 'kube-api-access-abcde' }], image: 'busybox:1.36', name: 'app', resources: { limits: { memory: '64Mi', cpu: '1' } } }],
      restartPolicy: 'Always',
      volumes: [{ projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }], defaultMode: 420 }, name: 'kube-api-access-abcde' }],
      tolerations: [{ tolerationSeconds: 300, effect: 'NoExecute', operator: 'Exists', key: 'node.kubernetes.io/not-ready' }],
      serviceAccountName: 'default',
    },
    metadata: { labels: { b: '2', a: '1' }, name: 'p', namespace: 'default' },
    kind: 'Pod',
    apiVersion: 'v1',
  };
}

test('canonicalOrder puts every field where a zod parse of the same object does, at every depth', () => {
  const parsed = PodSchema.parse(mutatedPod());
  const ordered = canonicalOrder(PodSchema, mutatedPod());
  expect(JSON.stringify(ordered)).toBe(JSON.stringify(parsed));
  // Order changed, content did not; map keys (labels) keep the client's order, as a parse does.
  expect(JSON.stringify(ordered)).not.toBe(JSON.stringify(mutatedPod()));
  expect(ordered).toEqual(mutatedPod());
  expect(Object.keys((ordered as { spec: object }).spec)).toEqual(Object.keys(parsed.spec!));
});

test('fields the schema does not know stay, after the known ones', () => {
  const ordered = canonicalOrder(PodSchema, { zzz: 1, metadata: { name: 'p' }, apiVersion: 'v1' }) as Record<string, unknown>;
  expect(Object.keys(ordered)).toEqual(['apiVersion', 'metadata', 'zzz']);
});

test('objects already in order are kept, changed in place; only objects out of order are rebuilt', () => {
  const pod = PodSchema.parse(mutatedPod()) as unknown as Record<string, any>;
  const spec = pod.spec;
  const container = spec.containers[0];
  // What an admission plugin does: append a field the schema orders earlier.
  container.args = ['x'];
  const ordered = canonicalOrder(PodSchema, pod) as Record<string, any>;
  expect(ordered).toBe(pod);
  expect(ordered.spec).toBe(spec);
  expect(ordered.spec.containers[0]).not.toBe(container);
  expect(Object.keys(ordered.spec.containers[0])).toEqual(Object.keys(PodSchema.parse(ordered).spec!.containers[0]!));
  expect(JSON.stringify(ordered)).toBe(JSON.stringify(PodSchema.parse(ordered)));
});

test('unknown fields are reported with their paths, names of Object.prototype members included', () => {
  const body = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { constructor: 'x' } }, spec: { constructor: 1, containers: [{ name: 'a', image: 'i', imagePolicy: 'x', toString: 2 }] }, extra: true };
  expect(findUnknownFields(PodSchema, body).sort()).toEqual(['extra', 'spec.constructor', 'spec.containers[0].imagePolicy', 'spec.containers[0].toString'].sort());
  expect(findUnknownFields(PodSchema, { spec: { containers: [{ name: 'a', bogus: 1 }] } }, 'items[3]')).toEqual(['items[3].spec.containers[0].bogus']);
});

test('canonicalOrderAt orders the values at the paths given and the objects on the way, and leaves the rest alone', () => {
  const pod = PodSchema.parse(mutatedPod()) as unknown as Record<string, any>;
  const spec = pod.spec;
  // A plugin's additions: a volume built out of order, appended to spec; a mount on the container.
  spec.volumes = undefined;
  delete spec.volumes;
  spec.volumes = [{ projected: { sources: [], defaultMode: 420 }, name: 'v' }];
  spec.containers[0].volumeMounts = undefined;
  delete spec.containers[0].volumeMounts;
  spec.containers[0].volumeMounts = [{ mountPath: '/m', name: 'v' }];
  // Something out of order that no path names stays as it is.
  pod.status = { qosClass: 'BestEffort', phase: 'Pending' };
  const ordered = canonicalOrderAt(PodSchema, pod, [['spec', 'volumes'], ['spec', 'containers', 0, 'volumeMounts'], ['spec', 'nothingHere']]) as Record<string, any>;
  expect(ordered).toBe(pod);
  expect(ordered.spec).not.toBe(spec);
  expect(Object.keys(ordered.spec)).toEqual(Object.keys(PodSchema.parse(ordered).spec!));
  expect(JSON.stringify(ordered.spec)).toBe(JSON.stringify(PodSchema.parse(ordered).spec));
  expect(Object.keys(ordered.status)).toEqual(['qosClass', 'phase']);
  // The root's own keys too, when a path runs through it.
  const rootOut = canonicalOrderAt(PodSchema, { spec: { containers: [] }, apiVersion: 'v1' }, [['spec', 'containers']]) as Record<string, unknown>;
  expect(Object.keys(rootOut)).toEqual(['apiVersion', 'spec']);
});

test('dropEmptyFields removes empty optional lists and maps at every depth, as omitempty does, and keeps structs, items and required lists', () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', labels: {}, annotations: {}, finalizers: [], ownerReferences: [] },
    spec: {
      containers: [{ name: 'app', image: 'busybox', env: [], args: [], ports: [], resources: { limits: {} }, securityContext: {} }],
      nodeSelector: {},
      tolerations: [],
      volumes: [{ name: 'v', emptyDir: {} }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'k', operator: 'Exists', values: [] }] }] } } },
    },
    status: { conditions: [] },
  };
  dropEmptyFields(PodSchema, pod);
  expect(pod).toEqual({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: {
      containers: [{ name: 'app', image: 'busybox', resources: {}, securityContext: {} }],
      volumes: [{ name: 'v', emptyDir: {} }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'k', operator: 'Exists' }] }] } } },
    },
    status: {},
  });
  // A required list stays even when empty (containers is validated, not dropped).
  const bare = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [] } };
  dropEmptyFields(PodSchema, bare);
  expect(bare.spec).toEqual({ containers: [] });
  // Map values are data: an empty string stays, and so does a non-empty map.
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { a: '' } }, data: { k: '' }, binaryData: {} };
  dropEmptyFields(ConfigMapSchema, cm);
  expect(cm).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { a: '' } }, data: { k: '' } });
});

test('dropEmptyFields keeps the lists upstream serves even when empty, and free-form JSON as given', () => {
  const slice = { addressType: 'IPv4', metadata: { name: 's', labels: {} }, endpoints: [], ports: [] };
  dropEmptyFields(EndpointSliceSchema, slice);
  expect(slice).toEqual({ addressType: 'IPv4', metadata: { name: 's' }, endpoints: [], ports: [] });
  const role = { metadata: { name: 'r' }, rules: [] };
  dropEmptyFields(ClusterRoleSchema, role);
  expect(role.rules).toEqual([]);
  // managedFields' fieldsV1 is a trie whose leaves are {}: untouched.
  const cm = { metadata: { name: 'c', managedFields: [{ manager: 'm', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } }] } };
  dropEmptyFields(ConfigMapSchema, cm);
  expect(cm.metadata.managedFields[0]!.fieldsV1).toEqual({ 'f:data': { 'f:a': {} } });
});
