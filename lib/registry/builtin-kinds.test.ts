/**
 * Defaults and validation of the built-in kinds added for storage, quotas, networking,
 * scheduling, node runtime classes, autoscaling and events.k8s.io, through the registry (the
 * path a request body takes after HTTP): what gets filled in, and which mistakes are 422s with
 * upstream's field paths and messages.
 */
import { beforeEach, describe, expect, test } from 'vitest';
import { silentLogger } from '../base/index.js';
import { MemoryStorage } from '../storage/index.js';
import { StatusError } from '../machinery/index.js';
import type { KubeObject } from '../api/index.js';
import { Registry } from './registry.js';
import { newContext } from './context.js';

let registry: Registry;
beforeEach(() => {
  registry = new Registry({ storage: new MemoryStorage(), log: silentLogger(), prefix: '/registry', serviceCIDR: '10.96.0.0/12', nodePortRange: '30000-32767', eventTTLSeconds: 3600, watchCache: false });
});

function storeOf(group: string, resource: string) {
  return registry.mustGet(group, resource);
}

async function create(group: string, resource: string, body: Record<string, unknown>, namespace = 'default'): Promise<KubeObject> {
  const store = storeOf(group, resource);
  const ctx = newContext({ namespace: store.rt.namespaced ? namespace : '' });
  return store.create(ctx, store.decode(structuredClone(body)));
}

async function update(group: string, resource: string, name: string, change: (o: KubeObject) => void, namespace = 'default', subresource?: string): Promise<KubeObject> {
  const store = storeOf(group, resource);
  const ctx = newContext({ namespace: store.rt.namespaced ? namespace : '', ...(subresource ? { subresource } : {}) });
  const r = await store.update(ctx, name, (cur) => {
    if (!cur) throw new Error(`${resource}/${name} does not exist`);
    const next = structuredClone(cur);
    change(next);
    return store.decode(next);
  });
  return r.object;
}

/** Expects a 422 whose causes include each [field, message] (the message as a substring). */
async function expectInvalid(p: Promise<unknown>, causes: [string, string][]) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a 422').toBeInstanceOf(StatusError);
  const status = (err as StatusError).status;
  expect(status.code, status.message).toBe(422);
  const got = status.details?.causes ?? [];
  for (const [field, message] of causes) {
    expect(
      got.some((c) => c.field === field && (c.message ?? '').includes(message)),
      `no cause ${field}: ${message} in ${JSON.stringify(got)}`,
    ).toBe(true);
  }
}

describe('persistent volumes and claims', () => {
  const pv = (spec: Record<string, unknown>) => ({ metadata: { name: 'pv-1' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], ...spec } });
  const pvc = (spec: Record<string, unknown>) => ({ metadata: { name: 'data' }, spec });

  test('a volume is Retain, Filesystem and Pending until bound', async () => {
    const o = await create('', 'persistentvolumes', pv({ nfs: { server: 'nfs.local', path: '/exports/a' } }));
    expect(o.spec).toMatchObject({ persistentVolumeReclaimPolicy: 'Retain', volumeMode: 'Filesystem' });
    expect(o.status).toMatchObject({ phase: 'Pending' });
    expect(Date.parse((o.status as { lastPhaseTransitionTime: string }).lastPhaseTransitionTime)).toBeGreaterThan(Date.now() - 60_000);
  });

  test('a claim is Filesystem and Pending; the client cannot set its status', async () => {
    const o = await create('', 'persistentvolumeclaims', { ...pvc({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } }), status: { phase: 'Bound' } });
    expect(o.spec).toMatchObject({ volumeMode: 'Filesystem' });
    expect(o.status).toEqual({ phase: 'Pending' });
  });

  test.each<[string, Record<string, unknown>, [string, string][]]>([
    ['no source, capacity or access modes', { metadata: { name: 'pv-1' }, spec: {} }, [['spec', 'Required value: must specify a volume type'], ['spec.capacity', 'Required value'], ['spec.accessModes', 'Required value']]],
    ['two sources', pv({ nfs: { server: 's', path: '/x' }, hostPath: { path: '/data' } }), [['spec.nfs', 'Forbidden: may not specify more than 1 volume type']]],
    ['capacity other than storage', pv({ capacity: { storage: '1Gi', cpu: '1' }, hostPath: { path: '/d' } }), [['spec.capacity', 'Unsupported value']]],
    ['a local volume without node affinity', pv({ local: { path: '/mnt/disks/a' } }), [['spec.nodeAffinity', 'Required value: Local volume requires node affinity']]],
    ['an unknown access mode', pv({ accessModes: ['ReadWriteSometimes'], hostPath: { path: '/d' } }), [['spec.accessModes[0]', 'Unsupported value: "ReadWriteSometimes"']]],
    ['Recycle for a CSI volume', pv({ csi: { driver: 'ebs.csi.aws.com', volumeHandle: 'vol-1' }, persistentVolumeReclaimPolicy: 'Recycle' }), [['spec.persistentVolumeReclaimPolicy', 'Unsupported value: "Recycle"']]],
  ])('volume: %s', async (_n, body, causes) => {
    await expectInvalid(create('', 'persistentvolumes', body), causes);
  });

  test.each<[string, Record<string, unknown>, [string, string][]]>([
    ['no access modes or storage request', pvc({}), [['spec.accessModes', 'Required value: at least 1 access mode is required'], ['spec.resources[storage]', 'Required value']]],
    ['a zero storage request', pvc({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '0' } } }), [['spec.resources[storage]', 'must be greater than zero']]],
    ['ReadWriteOncePod with another mode', pvc({ accessModes: ['ReadWriteOncePod', 'ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } }), [['spec.accessModes', 'may not use ReadWriteOncePod with other access modes']]],
    ['an unknown volume mode', pvc({ accessModes: ['ReadWriteOnce'], volumeMode: 'Raw', resources: { requests: { storage: '1Gi' } } }), [['spec.volumeMode', 'Unsupported value: "Raw"']]],
  ])('claim: %s', async (_n, body, causes) => {
    await expectInvalid(create('', 'persistentvolumeclaims', body), causes);
  });

  test('a claim spec is immutable once created', async () => {
    await create('', 'persistentvolumeclaims', pvc({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'slow' }));
    await expectInvalid(
      update('', 'persistentvolumeclaims', 'data', (o) => void ((o.spec as { storageClassName: string }).storageClassName = 'fast')),
      [['spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims']],
    );
  });

  test('a bound claim smaller than its volume can be labelled; its request may shrink, but not to the volume\'s size', async () => {
    await create('', 'persistentvolumeclaims', { ...pvc({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '500Mi' } } }), metadata: { name: 'small' } });
    await update('', 'persistentvolumeclaims', 'small', (o) => void (o.status = { phase: 'Bound', capacity: { storage: '1Gi' } }), 'default', 'status');
    const labelled = await update('', 'persistentvolumeclaims', 'small', (o) => void (o.metadata.labels = { app: 'db' }));
    expect(labelled.metadata.labels).toEqual({ app: 'db' });
    const grown = await update('', 'persistentvolumeclaims', 'small', (o) => void ((o.spec as { resources: { requests: Record<string, string> } }).resources.requests.storage = '2Gi'));
    expect((grown.spec as { resources: { requests: Record<string, string> } }).resources.requests.storage).toBe('2Gi');
    await update('', 'persistentvolumeclaims', 'small', (o) => void ((o.spec as { resources: { requests: Record<string, string> } }).resources.requests.storage = '1500Mi'));
    await expectInvalid(
      update('', 'persistentvolumeclaims', 'small', (o) => void ((o.spec as { resources: { requests: Record<string, string> } }).resources.requests.storage = '1Gi')),
      [['spec.resources.requests.storage', 'field can not be less than status.capacity']],
    );
  });

  test('stateful set claim templates get claim defaults and claim validation', async () => {
    const sts = (templates: unknown[]) => ({
      metadata: { name: 'db' },
      spec: { serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'postgres:17' }] } }, volumeClaimTemplates: templates },
    });
    const o = await create('apps', 'statefulsets', sts([{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }]));
    expect((o.spec as { volumeClaimTemplates: unknown[] }).volumeClaimTemplates[0]).toMatchObject({ spec: { volumeMode: 'Filesystem' }, status: { phase: 'Pending' } });
    await expectInvalid(create('apps', 'statefulsets', { ...sts([{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }]), metadata: { name: 'db2' } }), [
      ['spec.volumeClaimTemplates[0].spec.resources[storage]', 'Required value'],
    ]);
  });

  test('containers of a stateful set mount its claim templates by name; other names must be volumes', async () => {
    const sts = (name: string, mount: string, extra: Record<string, unknown> = {}) => ({
      metadata: { name },
      spec: {
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'postgres:17', volumeMounts: [{ name: mount, mountPath: '/data' }] }], ...extra } },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    });
    const o = await create('apps', 'statefulsets', sts('mounts', 'data'));
    // Stored as given: no volume is added to the template.
    expect((o.spec as { template: { spec: { volumes?: unknown[] } } }).template.spec.volumes).toBeUndefined();
    await expectInvalid(create('apps', 'statefulsets', sts('mounts2', 'nope')), [['spec.template.spec.containers[0].volumeMounts[0].name', 'Not found: "nope"']]);
    await expectInvalid(create('apps', 'statefulsets', sts('mounts3', 'data', { activeDeadlineSeconds: 10 })), [['spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in StatefulSet is not Supported']]);
  });
});

describe('pod volume sources', () => {
  const podWith = (volumes: unknown[]) => ({ metadata: { name: 'p' }, spec: { volumes, containers: [{ name: 'c', image: 'busybox:1.36' }] } });

  test('defaults of the in-tree, projected and ephemeral sources', async () => {
    const o = await create('', 'pods', podWith([
      { name: 'iscsi', iscsi: { targetPortal: '10.0.0.1:3260', iqn: 'iqn.2001-04.com.example:disk', lun: 0 } },
      { name: 'rbd', rbd: { monitors: ['10.0.0.2:6789'], image: 'img' } },
      { name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } },
      { name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } } },
      { name: 'plain' },
    ]));
    const vols = (o.spec as { volumes: Record<string, Record<string, unknown>>[] }).volumes;
    expect(vols[0]!.iscsi).toMatchObject({ iscsiInterface: 'default' });
    expect(vols[1]!.rbd).toMatchObject({ pool: 'rbd', user: 'admin', keyring: '/etc/ceph/keyring' });
    expect(vols[2]!.projected).toMatchObject({ defaultMode: 0o644, sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }] });
    expect(vols[3]!.ephemeral).toMatchObject({ volumeClaimTemplate: { spec: { volumeMode: 'Filesystem' } } });
    expect(vols[4]).toEqual({ name: 'plain', emptyDir: {} });
  });

  test('a csi volume and an image volume are sources like any other', async () => {
    await expectInvalid(create('', 'pods', podWith([{ name: 'v', csi: { driver: 'secrets-store.csi.k8s.io' }, image: { reference: 'registry.example/data:1' } }])), [
      ['spec.volumes[0].image', 'Forbidden: may not specify more than 1 volume type'],
    ]);
    await expectInvalid(create('', 'pods', podWith([{ name: 'v', csi: {} }])), [['spec.volumes[0].csi.driver', 'Required value']]);
  });
});

describe('resource quotas and limit ranges', () => {
  test.each<[string, Record<string, unknown>, [string, string][]]>([
    ['a negative limit', { hard: { 'requests.memory': '-1Gi' } }, [['spec.hard[requests.memory]', 'must be greater than or equal to 0']]],
    ['a fractional object count', { hard: { pods: '1500m', 'count/deployments.apps': '2.5' } }, [['spec.hard[pods]', 'must be an integer'], ['spec.hard[count/deployments.apps]', 'must be an integer']]],
    ['a bad resource name', { hard: { 'requests/cpu/x': '1' } }, [['spec.hard[requests/cpu/x]', 'Invalid value']]],
    ['an unknown scope', { hard: { pods: '1' }, scopes: ['Sometimes'] }, [['spec.scopes[0]', 'Unsupported value: "Sometimes"']]],
    ['conflicting scopes', { hard: { pods: '1' }, scopes: ['BestEffort', 'NotBestEffort'] }, [['spec.scopes', 'conflicting scopes']]],
  ])('quota: %s', async (_n, spec, causes) => {
    await expectInvalid(create('', 'resourcequotas', { metadata: { name: 'q' }, spec }), causes);
  });

  test('a container limit range fills its gaps: default limit from max, default request from the default limit', async () => {
    const o = await create('', 'limitranges', { metadata: { name: 'l' }, spec: { limits: [{ type: 'Container', max: { cpu: '2', memory: '1Gi' }, default: { memory: '512Mi' }, min: { cpu: '100m' } }] } });
    expect((o.spec as { limits: unknown[] }).limits[0]).toMatchObject({ default: { cpu: '2', memory: '512Mi' }, defaultRequest: { cpu: '2', memory: '512Mi' } });
  });

  test.each<[string, Record<string, unknown>[], [string, string][]]>([
    ['min above max', [{ type: 'Container', min: { cpu: '2' }, max: { cpu: '1' } }], [['spec.limits[0].min[cpu]', 'min value 2 is greater than max value 1']]],
    ['default above max', [{ type: 'Container', max: { memory: '1Gi' }, default: { memory: '2Gi' } }], [['spec.limits[0].default[memory]', 'default value 2Gi is greater than max value 1Gi']]],
    ['defaults for a Pod limit', [{ type: 'Pod', max: { cpu: '4' }, default: { cpu: '1' } }], [['spec.limits[0].default', "Forbidden: may not be specified when `type` is 'Pod'"]]],
    ['a ratio below one', [{ type: 'Container', maxLimitRequestRatio: { cpu: '500m' } }], [['spec.limits[0].maxLimitRequestRatio[cpu]', 'ratio 500m is less than 1']]],
    ['the same type twice', [{ type: 'Pod' }, { type: 'Pod' }], [['spec.limits[1].type', 'Duplicate value: "Pod"']]],
  ])('limit range: %s', async (_n, limits, causes) => {
    await expectInvalid(create('', 'limitranges', { metadata: { name: 'l' }, spec: { limits } }), causes);
  });
});

describe('networking', () => {
  const backend = { service: { name: 'web', port: { number: 80 } } };
  const ingress = (spec: Record<string, unknown>) => ({ metadata: { name: 'ing' }, spec });
  const paths = (ps: unknown[], host?: string) => ({ rules: [{ host, http: { paths: ps } }] });

  test.each<[string, Record<string, unknown>, [string, string][]]>([
    ['no rules and no default backend', {}, [['spec', 'either `defaultBackend` or `rules` must be specified']]],
    ['a path without pathType (an old v1beta1 manifest)', paths([{ path: '/', backend }]), [['spec.rules[0].http.paths[0].pathType', 'Required value: pathType must be specified']]],
    ['a relative Prefix path', paths([{ path: 'api', pathType: 'Prefix', backend }]), [['spec.rules[0].http.paths[0].path', 'must be an absolute path']]],
    ['an IP address as host', paths([{ path: '/', pathType: 'Prefix', backend }], '10.1.2.3'), [['spec.rules[0].host', 'must be a DNS name, not an IP address']]],
    ['a bad wildcard host', paths([{ path: '/', pathType: 'Prefix', backend }], 'foo.*.example.com'), [['spec.rules[0].host', "a wildcard DNS-1123 subdomain must start with '*.'"]]],
    ['a service port by name and number', paths([{ path: '/', pathType: 'Exact', backend: { service: { name: 'web', port: { name: 'http', number: 80 } } } }]), [['spec.rules[0].http.paths[0].backend', 'cannot set both port name & port number']]],
    ['a service backend without a port', paths([{ path: '/', pathType: 'Exact', backend: { service: { name: 'web' } } }]), [['spec.rules[0].http.paths[0].backend', 'Required value: port name or number is required']]],
    ['an empty backend', paths([{ path: '/', pathType: 'Exact', backend: {} }]), [['spec.rules[0].http.paths[0].backend', 'resource or service backend is required']]],
    ['an unknown pathType', paths([{ path: '/', pathType: 'Regex', backend }]), [['spec.rules[0].http.paths[0].pathType', 'Unsupported value: "Regex"']]],
  ])('ingress: %s', async (_n, spec, causes) => {
    await expectInvalid(create('networking.k8s.io', 'ingresses', ingress(spec)), causes);
  });

  test('a valid ingress with a wildcard host and TLS is accepted', async () => {
    const o = await create('networking.k8s.io', 'ingresses', ingress({ tls: [{ hosts: ['*.example.com'], secretName: 'wild' }], ...paths([{ path: '/', pathType: 'Prefix', backend }], '*.example.com') }));
    expect(o.metadata.uid).toBeTruthy();
  });

  test('ingress class: scope defaults to Cluster; controller must be a domain-prefixed path and is immutable', async () => {
    const o = await create('networking.k8s.io', 'ingressclasses', { metadata: { name: 'ic' }, spec: { controller: 'example.com/ingress', parameters: { kind: 'ConfigMap', name: 'cfg' } } });
    expect((o.spec as { parameters: { scope: string } }).parameters.scope).toBe('Cluster');
    await expectInvalid(create('networking.k8s.io', 'ingressclasses', { metadata: { name: 'bad' }, spec: { controller: 'nginx' } }), [['spec.controller', 'must be a domain-prefixed path (such as "acme.io/foo")']]);
    await expectInvalid(create('networking.k8s.io', 'ingressclasses', { metadata: { name: 'ns' }, spec: { controller: 'example.com/x', parameters: { kind: 'ConfigMap', name: 'cfg', scope: 'Namespace' } } }), [
      ['spec.parameters.namespace', "Required value: `parameters.scope` is set to 'Namespace'"],
    ]);
    await expectInvalid(update('networking.k8s.io', 'ingressclasses', 'ic', (x) => void ((x.spec as { controller: string }).controller = 'example.com/other')), [['spec.controller', 'field is immutable']]);
  });

  test('network policy defaults: Ingress policy type (plus Egress with egress rules), TCP ports, select all pods', async () => {
    const a = await create('networking.k8s.io', 'networkpolicies', { metadata: { name: 'a' }, spec: { ingress: [{ ports: [{ port: 80 }] }] } });
    expect(a.spec).toEqual({ podSelector: {}, ingress: [{ ports: [{ port: 80, protocol: 'TCP' }] }], policyTypes: ['Ingress'] });
    const b = await create('networking.k8s.io', 'networkpolicies', { metadata: { name: 'b' }, spec: { podSelector: {}, egress: [{}] } });
    expect((b.spec as { policyTypes: string[] }).policyTypes).toEqual(['Ingress', 'Egress']);
  });

  test.each<[string, Record<string, unknown>, [string, string][]]>([
    ['an end port below the port', { ingress: [{ ports: [{ port: 8080, endPort: 80 }] }] }, [['spec.ingress[0].ports[0].endPort', 'must be greater than or equal to `port`']]],
    ['an end port with a named port', { egress: [{ ports: [{ port: 'http', endPort: 90 }] }] }, [['spec.egress[0].ports[0].endPort', 'may not be specified when `port` is non-numeric']]],
    ['an empty peer', { ingress: [{ from: [{}] }] }, [['spec.ingress[0].from[0]', 'Required value: must specify a peer']]],
    ['ipBlock together with a selector', { ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] }, [['spec.ingress[0].from[0]', 'Forbidden: may not specify both ipBlock and another peer']]],
    ['an except outside the CIDR', { egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.1.0.0/24'] } }] }] }, [['spec.egress[0].to[0].ipBlock.except[0]', 'must be a strict subset of `cidr`']]],
    ['a bad CIDR', { egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }] }, [['spec.egress[0].to[0].ipBlock.cidr', 'not a valid CIDR']]],
  ])('network policy: %s', async (_n, spec, causes) => {
    await expectInvalid(create('networking.k8s.io', 'networkpolicies', { metadata: { name: 'np' }, spec }), causes);
  });
});

describe('priority, runtime and storage classes', () => {
  test('priority class: PreemptLowerPriority by default; user values capped; system- names reserved; value immutable', async () => {
    const o = await create('scheduling.k8s.io', 'priorityclasses', { metadata: { name: 'high' }, value: 1000 });
    expect(o.preemptionPolicy).toBe('PreemptLowerPriority');
    await expectInvalid(create('scheduling.k8s.io', 'priorityclasses', { metadata: { name: 'too-high' }, value: 1000000001 }), [['value', 'Forbidden: maximum allowed value of a user defined priority is 1000000000']]);
    await expectInvalid(create('scheduling.k8s.io', 'priorityclasses', { metadata: { name: 'system-mine' }, value: 10 }), [
      ['metadata.name', "priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"],
    ]);
    await expectInvalid(update('scheduling.k8s.io', 'priorityclasses', 'high', (x) => void (x.value = 2000)), [['value', 'Forbidden: may not be changed in an update.']]);
  });

  test('runtime class: the handler is a DNS label and immutable', async () => {
    await expectInvalid(create('node.k8s.io', 'runtimeclasses', { metadata: { name: 'r' }, handler: 'Run_SC' }), [['handler', 'a lowercase RFC 1123 label']]);
    await expectInvalid(create('node.k8s.io', 'runtimeclasses', { metadata: { name: 'r' } }), [['handler', 'Required value']]);
    await create('node.k8s.io', 'runtimeclasses', { metadata: { name: 'gvisor' }, handler: 'runsc', overhead: { podFixed: { memory: '64Mi' } } });
    await expectInvalid(update('node.k8s.io', 'runtimeclasses', 'gvisor', (x) => void (x.handler = 'kata')), [['handler', 'field is immutable']]);
  });

  test('storage class: Delete and Immediate by default; Recycle is not a class policy; parameters are immutable', async () => {
    const o = await create('storage.k8s.io', 'storageclasses', { metadata: { name: 'fast' }, provisioner: 'ebs.csi.aws.com', parameters: { type: 'gp3' } });
    expect([o.reclaimPolicy, o.volumeBindingMode]).toEqual(['Delete', 'Immediate']);
    await expectInvalid(create('storage.k8s.io', 'storageclasses', { metadata: { name: 'r' }, provisioner: 'x.example.com', reclaimPolicy: 'Recycle' }), [['reclaimPolicy', 'Unsupported value: "Recycle"']]);
    await expectInvalid(create('storage.k8s.io', 'storageclasses', { metadata: { name: 'p' } }), [['provisioner', 'Required value']]);
    await expectInvalid(update('storage.k8s.io', 'storageclasses', 'fast', (x) => void (x.parameters = { type: 'io2' })), [['parameters', 'Forbidden: updates to parameters are forbidden.']]);
  });
});

describe('horizontal pod autoscalers', () => {
  const target = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };
  test('defaults: one replica at least, 80% CPU; behaviour filled in only when some is given', async () => {
    const plain = await create('autoscaling', 'horizontalpodautoscalers', { metadata: { name: 'a' }, spec: { scaleTargetRef: target, maxReplicas: 5 } });
    expect(plain.spec).toEqual({ scaleTargetRef: target, maxReplicas: 5, minReplicas: 1, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }] });
    const tuned = await create('autoscaling', 'horizontalpodautoscalers', { metadata: { name: 'b' }, spec: { scaleTargetRef: target, maxReplicas: 5, behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } } });
    expect((tuned.spec as { behavior: unknown }).behavior).toEqual({
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] },
      scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
    });
    // The scale-down window is left unset, so that the controller's flag applies (upstream's defaults).
    const upOnly = await create('autoscaling', 'horizontalpodautoscalers', { metadata: { name: 'c' }, spec: { scaleTargetRef: target, maxReplicas: 5, behavior: { scaleUp: { selectPolicy: 'Min' } } } });
    expect((upOnly.spec as { behavior: { scaleDown: unknown } }).behavior.scaleDown).toEqual({ selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });
  });

  test.each<[string, Record<string, unknown>, [string, string][]]>([
    ['zero minimum replicas', { scaleTargetRef: target, minReplicas: 0, maxReplicas: 3 }, [['spec.minReplicas', 'must be greater than or equal to 1']]],
    ['maximum below minimum', { scaleTargetRef: target, minReplicas: 4, maxReplicas: 3 }, [['spec.maxReplicas', 'must be greater than or equal to `minReplicas`']]],
    ['a metric type without its source', { scaleTargetRef: target, maxReplicas: 3, metrics: [{ type: 'Resource' }] }, [['spec.metrics[0].resource', 'Required value: must populate information for the given metric source']]],
    ['a metric with another source too', { scaleTargetRef: target, maxReplicas: 3, metrics: [{ type: 'Pods', pods: { metric: { name: 'rps' }, target: { type: 'AverageValue', averageValue: '10' } }, resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] }, [['spec.metrics[0].resource', 'Forbidden: must populate the given metric source only']]],
    ['a resource target with neither utilization nor value', { scaleTargetRef: target, maxReplicas: 3, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } }] }, [['spec.metrics[0].resource.target.averageUtilization', 'must set either a target raw value or a target utilization']]],
    ['a scale target without a kind', { scaleTargetRef: { name: 'web' }, maxReplicas: 3 }, [['spec.scaleTargetRef.kind', 'Required value']]],
    ['a policy period over 30 minutes', { scaleTargetRef: target, maxReplicas: 3, behavior: { scaleUp: { policies: [{ type: 'Pods', value: 1, periodSeconds: 3600 }] } } }, [['spec.behavior.scaleUp.policies[0].periodSeconds', 'must be less than or equal to 1800']]],
  ])('%s', async (_n, spec, causes) => {
    await expectInvalid(create('autoscaling', 'horizontalpodautoscalers', { metadata: { name: 'h' }, spec }), causes);
  });
});

describe('events.k8s.io events', () => {
  const event = (extra: Record<string, unknown>) => ({
    metadata: { name: 'e1' }, eventTime: '2025-01-01T00:00:00.000000Z', reportingController: 'example.com/ctl', reportingInstance: 'ctl-0',
    action: 'Doing', reason: 'Done', type: 'Normal', regarding: { kind: 'Pod', name: 'p', namespace: 'default' }, ...extra,
  });

  test('a complete new-style event is stored apart from core events', async () => {
    await create('events.k8s.io', 'events', event({}));
    const core = await storeOf('', 'events').list(newContext({ namespace: 'default' }), {});
    expect(core.items).toEqual([]);
  });

  test.each<[string, Record<string, unknown>, [string, string][]]>([
    ['no reporting controller, action or reason', { reportingController: undefined, action: undefined, reason: undefined }, [['reportingController', 'Required value'], ['action', 'Required value'], ['reason', 'Required value']]],
    ['a type other than Normal or Warning', { type: 'Error' }, [['type', 'has invalid value: Error']]],
    ['old-style fields set', { deprecatedCount: 3, deprecatedSource: { component: 'kubelet' } }, [['deprecatedCount', 'needs to be unset'], ['deprecatedSource', 'needs to be unset']]],
    ['a one-element series', { series: { count: 1, lastObservedTime: '2025-01-01T00:00:00.000000Z' } }, [['series.count', 'should be at least 2']]],
    ['an object in another namespace', { regarding: { kind: 'Pod', name: 'p', namespace: 'other' } }, [['regarding.namespace', 'does not match event.namespace']]],
  ])('%s', async (_n, extra, causes) => {
    await expectInvalid(create('events.k8s.io', 'events', event(extra)), causes);
  });
});
