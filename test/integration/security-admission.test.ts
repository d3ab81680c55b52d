/**
 * Every admission plugin: what it adds, and what it refuses (with a message that says why and
 * nothing stored). On the insecure port: admission applies whatever the port.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { eventually } from '../support/secure.js';
import { canonicalOrder, PodSchema } from '../../lib/api/index.js';

let s: TestAPIServer;
beforeAll(async () => {
  s = await startAPIServer();
});
afterAll(async () => s?.stop());

const pod = (name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) => ({
  metadata: { name, ...meta },
  spec: { containers: [{ name: 'c', image: 'nginx' }], ...spec },
});
async function newNamespace(name: string, labels?: Record<string, string>) {
  const r = await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name, labels } });
  expect(r.status).toBe(201);
}
async function refused(path: string, body: unknown, code: number, message: string) {
  const r = await api(s.url, 'POST', path, body);
  expect(r.status, JSON.stringify(r.body)).toBe(code);
  expect(r.body.message).toBe(message);
  const name = (body as { metadata: { name: string } }).metadata.name;
  expect((await api(s.url, 'GET', `${path}/${name}`)).status, 'nothing stored').toBe(404);
  return r;
}

describe('ServiceAccount', () => {
  beforeAll(() => newNamespace('sa'));

  test('pods run as `default` (created when first needed) with the API credentials projected into every container', async () => {
    const r = await api(s.url, 'POST', '/api/v1/namespaces/sa/pods', pod('p1', { initContainers: [{ name: 'init', image: 'busybox' }] }));
    expect(r.status).toBe(201);
    const spec = r.body.spec;
    expect(spec.serviceAccountName).toBe('default');
    expect(spec.serviceAccount).toBe('default');
    const vol = spec.volumes.find((v: any) => v.name.startsWith('kube-api-access-'));
    expect(vol.name).toMatch(/^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(vol.projected).toEqual({
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    });
    for (const c of [...spec.containers, ...spec.initContainers]) {
      expect(c.volumeMounts).toEqual([{ name: vol.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]);
    }
    expect((await api(s.url, 'GET', '/api/v1/namespaces/sa/serviceaccounts/default')).status).toBe(200);
    // The pod can be labelled afterwards (what admission added is in canonical form).
    const patched = await api(s.url, 'PATCH', '/api/v1/namespaces/sa/pods/p1', { metadata: { labels: { a: 'b' } } }, { 'content-type': 'application/strategic-merge-patch+json' });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
  });

  test('automountServiceAccountToken: false (pod or account) mounts nothing; the account\'s imagePullSecrets are added', async () => {
    await api(s.url, 'POST', '/api/v1/namespaces/sa/serviceaccounts', { metadata: { name: 'quiet' }, automountServiceAccountToken: false, imagePullSecrets: [{ name: 'registry' }] });
    const a = await api(s.url, 'POST', '/api/v1/namespaces/sa/pods', pod('p2', { serviceAccountName: 'quiet' }));
    expect(a.status).toBe(201);
    expect(a.body.spec.volumes ?? []).toEqual([]);
    expect(a.body.spec.imagePullSecrets).toEqual([{ name: 'registry' }]);
    const b = await api(s.url, 'POST', '/api/v1/namespaces/sa/pods', pod('p3', { automountServiceAccountToken: false }));
    expect(b.body.spec.volumes ?? []).toEqual([]);
  });

  test('a pod naming a missing account is refused; a mirror pod may not use accounts or secrets', async () => {
    await refused('/api/v1/namespaces/sa/pods', pod('ghostly', { serviceAccountName: 'ghost' }), 403, 'pods "ghostly" is forbidden: error looking up service account sa/ghost: serviceaccount "ghost" not found');
    await refused('/api/v1/namespaces/sa/pods', pod('mirror', { serviceAccountName: 'quiet', nodeName: 'n1' }, { annotations: { 'kubernetes.io/config.mirror': 'x' } }), 403, 'pods "mirror" is forbidden: a mirror pod may not reference service accounts');
    await refused(
      '/api/v1/namespaces/sa/pods',
      pod('mirror2', { nodeName: 'n1', volumes: [{ name: 's', secret: { secretName: 'x' } }] }, { annotations: { 'kubernetes.io/config.mirror': 'x' } }),
      403,
      'pods "mirror2" is forbidden: a mirror pod may not reference secrets',
    );
  });
});

describe('LimitRanger', () => {
  beforeAll(async () => {
    await newNamespace('limits');
    const r = await api(s.url, 'POST', '/api/v1/namespaces/limits/limitranges', {
      metadata: { name: 'lr' },
      spec: { limits: [{ type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' }, max: { cpu: '1', memory: '512Mi' }, min: { cpu: '50m' } }] },
    });
    expect(r.status).toBe(201);
  });

  test('containers without resources get the defaults, and an annotation says so', async () => {
    const r = await api(s.url, 'POST', '/api/v1/namespaces/limits/pods', pod('d'));
    expect(r.status).toBe(201);
    expect(r.body.spec.containers[0].resources).toEqual({ limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } });
    expect(r.body.metadata.annotations['kubernetes.io/limit-ranger']).toBe('LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c');
    expect(r.body.status.qosClass).toBe('Burstable');
  });

  test('above max or below min is refused', async () => {
    await refused(
      '/api/v1/namespaces/limits/pods',
      pod('big', { containers: [{ name: 'c', image: 'nginx', resources: { limits: { cpu: '2' } } }] }),
      403,
      'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2',
    );
    await refused(
      '/api/v1/namespaces/limits/pods',
      pod('tiny', { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '10m' }, limits: { memory: '1Gi' } } }] }),
      403,
      'pods "tiny" is forbidden: [minimum cpu usage per Container is 50m, but request is 10m, maximum memory usage per Container is 512Mi, but limit is 1Gi]',
    );
  });
});

describe('ResourceQuota', () => {
  beforeAll(() => newNamespace('quota'));

  test('the quota\'s status is kept: hard from spec, used counted; creates past it are refused and not stored', async () => {
    await api(s.url, 'POST', '/api/v1/namespaces/quota/configmaps', { metadata: { name: 'before' } });
    const q = await api(s.url, 'POST', '/api/v1/namespaces/quota/resourcequotas', { metadata: { name: 'q' }, spec: { hard: { pods: '2', configmaps: '2', 'requests.cpu': '1' } } });
    expect(q.status).toBe(201);
    await eventually(async () => (await api(s.url, 'GET', '/api/v1/namespaces/quota/resourcequotas/q')).body.status?.used?.configmaps === '1');
    const status = (await api(s.url, 'GET', '/api/v1/namespaces/quota/resourcequotas/q')).body.status;
    expect(status).toEqual({ hard: { pods: '2', configmaps: '2', 'requests.cpu': '1' }, used: { pods: '0', configmaps: '1', 'requests.cpu': '0' } });

    const withCPU = (name: string, cpu: string) => pod(name, { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu } } }] });
    await refused('/api/v1/namespaces/quota/pods', pod('no-cpu'), 403, 'pods "no-cpu" is forbidden: failed quota: q: must specify requests.cpu for: c');
    expect((await api(s.url, 'POST', '/api/v1/namespaces/quota/pods', withCPU('a', '600m'))).status).toBe(201);
    // Usage is charged at admission, at once.
    expect((await api(s.url, 'GET', '/api/v1/namespaces/quota/resourcequotas/q')).body.status.used).toEqual({ pods: '1', configmaps: '1', 'requests.cpu': '600m' });
    await refused('/api/v1/namespaces/quota/pods', withCPU('b', '500m'), 403, 'pods "b" is forbidden: exceeded quota: q, requested: requests.cpu=500m, used: requests.cpu=600m, limited: requests.cpu=1');
    expect((await api(s.url, 'POST', '/api/v1/namespaces/quota/pods', withCPU('c', '400m'))).status).toBe(201);
    await refused('/api/v1/namespaces/quota/pods', withCPU('d', '0'), 403, 'pods "d" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2');
    expect((await api(s.url, 'POST', '/api/v1/namespaces/quota/configmaps', { metadata: { name: 'second' } })).status).toBe(201);
    await refused('/api/v1/namespaces/quota/configmaps', { metadata: { name: 'third' } }, 403, 'configmaps "third" is forbidden: exceeded quota: q, requested: configmaps=1, used: configmaps=2, limited: configmaps=2');

    // Deleting gives the room back (the API server recounts usage).
    expect((await api(s.url, 'DELETE', '/api/v1/namespaces/quota/pods/a?gracePeriodSeconds=0')).status).toBe(200);
    await eventually(async () => (await api(s.url, 'GET', '/api/v1/namespaces/quota/resourcequotas/q')).body.status.used.pods === '1', 15_000);
    expect((await api(s.url, 'GET', '/api/v1/namespaces/quota/resourcequotas/q')).body.status.used['requests.cpu']).toBe('400m');
    expect((await api(s.url, 'POST', '/api/v1/namespaces/quota/pods', withCPU('e', '500m'))).status).toBe(201);
  });

  test('a dry run is checked but charges nothing', async () => {
    await newNamespace('quota-dry');
    await api(s.url, 'POST', '/api/v1/namespaces/quota-dry/resourcequotas', { metadata: { name: 'q' }, spec: { hard: { secrets: '5' } } });
    const r = await api(s.url, 'POST', '/api/v1/namespaces/quota-dry/secrets?dryRun=All', { metadata: { name: 'x' } });
    expect(r.status).toBe(201);
    await eventually(async () => (await api(s.url, 'GET', '/api/v1/namespaces/quota-dry/resourcequotas/q')).body.status?.used?.secrets === '0');
  });
});

describe('DefaultTolerationSeconds, Priority and TaintNodesByCondition', () => {
  beforeAll(() => newNamespace('sched'));

  test('pods tolerate not-ready and unreachable for 300s unless they say otherwise', async () => {
    const r = await api(s.url, 'POST', '/api/v1/namespaces/sched/pods', pod('t1'));
    expect(r.body.spec.tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
    const own = await api(s.url, 'POST', '/api/v1/namespaces/sched/pods', pod('t2', { tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 }] }));
    expect(own.body.spec.tolerations).toEqual([
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 },
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
  });

  test('priority comes from the class (or the global default); unknown classes and a second default are refused', async () => {
    const none = await api(s.url, 'POST', '/api/v1/namespaces/sched/pods', pod('p0'));
    expect(none.body.spec.priority).toBe(0);
    const crit = await api(s.url, 'POST', '/api/v1/namespaces/sched/pods', pod('p1', { priorityClassName: 'system-cluster-critical' }));
    expect(crit.body.spec.priority).toBe(2000000000);
    expect(crit.body.spec.preemptionPolicy).toBe('PreemptLowerPriority');
    await refused('/api/v1/namespaces/sched/pods', pod('p2', { priorityClassName: 'nope' }), 403, 'pods "p2" is forbidden: no PriorityClass with name nope was found');
    await refused('/api/v1/namespaces/sched/pods', pod('p3', { priorityClassName: 'system-cluster-critical', priority: 5 }), 403, 'pods "p3" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 2000000000 from the given PriorityClass name');

    expect((await api(s.url, 'POST', '/apis/scheduling.k8s.io/v1/priorityclasses', { metadata: { name: 'normal' }, value: 1000, globalDefault: true })).status).toBe(201);
    await eventually(async () => (await api(s.url, 'POST', '/api/v1/namespaces/sched/pods', pod(`p4-${Date.now()}`))).body.spec.priority === 1000);
    const second = await api(s.url, 'POST', '/apis/scheduling.k8s.io/v1/priorityclasses', { metadata: { name: 'also-default' }, value: 5, globalDefault: true });
    expect(second.status).toBe(403);
    expect(second.body.message).toBe('priorityclasses.scheduling.k8s.io "also-default" is forbidden: PriorityClass normal is already marked as default. Only one default can exist');
  });

  test('new nodes are tainted not-ready:NoSchedule', async () => {
    const r = await api(s.url, 'POST', '/api/v1/nodes', { metadata: { name: 'fresh' } });
    expect(r.status).toBe(201);
    expect(r.body.spec.taints).toEqual([{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }]);
  });
});

describe('PodSecurity', () => {
  beforeAll(async () => {
    await newNamespace('psa-baseline', { 'pod-security.kubernetes.io/enforce': 'baseline' });
    await newNamespace('psa-restricted', { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'v1.32' });
    await newNamespace('psa-warn', { 'pod-security.kubernetes.io/warn': 'baseline' });
  });
  const base = '/api/v1/namespaces/psa-baseline/pods';

  test('baseline refuses privileged pods, hostPath, host namespaces and added capabilities, with upstream\'s message', async () => {
    await refused(base, pod('priv', { containers: [{ name: 'c', image: 'nginx', securityContext: { privileged: true } }] }), 403, 'pods "priv" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)');
    await refused(base, pod('root', { volumes: [{ name: 'root', hostPath: { path: '/' } }] }), 403, 'pods "root" is forbidden: violates PodSecurity "baseline:latest": hostPath volumes (volume "root")');
    await refused(base, pod('hostnet', { hostNetwork: true }), 403, 'pods "hostnet" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true)');
    await refused(
      base,
      pod('caps', { containers: [{ name: 'c', image: 'nginx', securityContext: { capabilities: { add: ['NET_ADMIN', 'CHOWN'] } } }] }),
      403,
      'pods "caps" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities (container "c" must not include "NET_ADMIN" in securityContext.capabilities.add)',
    );
    await refused(
      base,
      pod('all', { hostNetwork: true, hostPID: true, volumes: [{ name: 'root', hostPath: { path: '/' } }], containers: [{ name: 'a', image: 'x', securityContext: { privileged: true } }, { name: 'b', image: 'x', securityContext: { privileged: true }, ports: [{ containerPort: 80, hostPort: 80 }] }] }),
      403,
      'pods "all" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true, hostPID=true), hostPath volumes (volume "root"), hostPort (container "b" uses hostPort 80), privileged (containers "a", "b" must not set securityContext.privileged=true)',
    );
    expect((await api(s.url, 'POST', base, pod('fine'))).status).toBe(201);
  });

  test('restricted refuses what baseline allows but restricted does not; a compliant pod is admitted', async () => {
    await refused(
      '/api/v1/namespaces/psa-restricted/pods',
      pod('plain'),
      403,
      'pods "plain" is forbidden: violates PodSecurity "restricted:v1.32": allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
    const ok = await api(
      s.url,
      'POST',
      '/api/v1/namespaces/psa-restricted/pods',
      pod('compliant', {
        securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [{ name: 'c', image: 'nginx', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
      }),
    );
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
  });

  test('warn mode admits with a warning; workloads are warned about, never refused', async () => {
    const r = await api(s.url, 'POST', '/api/v1/namespaces/psa-warn/pods', pod('warned', { hostNetwork: true }));
    expect(r.status).toBe(201);
    expect(r.headers.get('warning')).toBe('299 - "would violate PodSecurity \\"baseline:latest\\": host namespaces (hostNetwork=true)"');
    const d = await api(s.url, 'POST', '/apis/apps/v1/namespaces/psa-baseline/deployments', {
      metadata: { name: 'privileged' },
      spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'nginx', securityContext: { privileged: true } }] } } },
    });
    expect(d.status).toBe(201);
    expect(d.headers.get('warning')).toContain('would violate PodSecurity \\"baseline:latest\\": privileged (container \\"c\\" must not set securityContext.privileged=true)');
  });
});

describe('what the pod plugins add, in canonical order', () => {
  beforeAll(async () => {
    await newNamespace('order');
    expect((await api(s.url, 'POST', '/api/v1/namespaces/order/serviceaccounts', { metadata: { name: 'puller' }, imagePullSecrets: [{ name: 'registry' }] })).status).toBe(201);
    expect((await api(s.url, 'POST', '/apis/scheduling.k8s.io/v1/priorityclasses', { metadata: { name: 'order-high' }, value: 1000, preemptionPolicy: 'Never' })).status).toBe(201);
  });

  // The service account's volume and mounts, the tolerations, the priority and its policy, the
  // account's pull secrets: wherever they are added, the pod reads as a decoded request would,
  // at every depth (so that a later identical request compares equal, and output is upstream's order).
  test.each([
    ['a bare pod', pod('o1')],
    ['spec keys in reverse order, init containers, a volume and one toleration already there, a status', {
      status: { phase: 'Pending' },
      spec: {
        tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }],
        volumes: [{ emptyDir: {}, name: 'scratch' }],
        containers: [{ image: 'nginx', name: 'c', volumeMounts: [{ mountPath: '/s', name: 'scratch' }] }],
        initContainers: [{ name: 'i', image: 'busybox' }],
      },
      metadata: { name: 'o2' },
    }],
    ['a priority class and an account with pull secrets', pod('o3', { priorityClassName: 'order-high', serviceAccountName: 'puller' })],
    ['no spec fields but containers, labels after spec', { spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }] }] }, metadata: { labels: { a: 'b' }, name: 'o4' } }],
  ])('%s', async (_n, body) => {
    const r = await api(s.url, 'POST', '/api/v1/namespaces/order/pods', body);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    // (resourceVersion is put in as the object is answered, after uid: not part of this.)
    const { resourceVersion: _rv, ...meta } = r.body.metadata;
    const stored = JSON.stringify({ ...r.body, metadata: meta });
    expect(stored).toBe(JSON.stringify(canonicalOrder(PodSchema, JSON.parse(stored))));
    expect(r.body.spec.tolerations.map((t: { key: string }) => t.key)).toEqual(['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);
    expect(r.body.spec.volumes.some((v: { name: string }) => v.name.startsWith('kube-api-access-'))).toBe(true);
    expect(r.body.spec.priority).toBeDefined();
    // The same pod read back is the same text.
    const back = await api(s.url, 'GET', `/api/v1/namespaces/order/pods/${r.body.metadata.name}`);
    const { resourceVersion: _rv2, ...backMeta } = back.body.metadata;
    expect(JSON.stringify({ ...back.body, metadata: backMeta })).toBe(stored);
  });
});

describe('DefaultStorageClass, StorageObjectInUseProtection and DefaultIngressClass', () => {
  beforeAll(() => newNamespace('storage'));
  const claim = (name: string, spec: Record<string, unknown> = {}) => ({ metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec } });

  test('claims get the newest default class (an explicit "" is kept); claims and volumes are created with their protection finalizers', async () => {
    const none = await api(s.url, 'POST', '/api/v1/namespaces/storage/persistentvolumeclaims', claim('before'));
    expect(none.status).toBe(201);
    expect(none.body.spec.storageClassName).toBeUndefined();
    expect(none.body.metadata.finalizers).toEqual(['kubernetes.io/pvc-protection']);
    for (const name of ['older', 'newer']) {
      const r = await api(s.url, 'POST', '/apis/storage.k8s.io/v1/storageclasses', { metadata: { name, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'example.com/x' });
      expect(r.status).toBe(201);
      await new Promise((res) => setTimeout(res, 1100)); // creationTimestamp has 1 s resolution
    }
    // The plugin reads the watch cache, which may lag a moment behind the class just created.
    let given: Awaited<ReturnType<typeof api>> | undefined;
    await eventually(async () => {
      given = await api(s.url, 'POST', '/api/v1/namespaces/storage/persistentvolumeclaims', claim(`c-${Date.now()}`));
      return given.body.spec.storageClassName === 'newer';
    });
    expect(given!.status).toBe(201);
    const empty = await api(s.url, 'POST', '/api/v1/namespaces/storage/persistentvolumeclaims', claim('empty', { storageClassName: '' }));
    expect(empty.body.spec.storageClassName).toBe('');
    const vol = await api(s.url, 'POST', '/api/v1/persistentvolumes', { metadata: { name: 'storage-pv' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/x' } } });
    expect(vol.status).toBe(201);
    expect(vol.body.metadata.finalizers).toEqual(['kubernetes.io/pv-protection']);
    // Deleting marks it Terminating: the finalizer waits for the pv-protection controller.
    const del = await api(s.url, 'DELETE', '/api/v1/persistentvolumes/storage-pv');
    expect(del.body.metadata.deletionTimestamp).toBeTruthy();
  });

  test('ingresses without a class get the default IngressClass, unless the old annotation names one', async () => {
    await newNamespace('ing');
    const r = await api(s.url, 'POST', '/apis/networking.k8s.io/v1/ingressclasses', { metadata: { name: 'nginx', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'k8s.io/ingress-nginx' } });
    expect(r.status).toBe(201);
    const backend = { service: { name: 'web', port: { number: 80 } } };
    let got: Awaited<ReturnType<typeof api>> | undefined;
    await eventually(async () => {
      got = await api(s.url, 'POST', '/apis/networking.k8s.io/v1/namespaces/ing/ingresses', { metadata: { name: `i-${Date.now()}` }, spec: { defaultBackend: backend } });
      return got.body.spec?.ingressClassName === 'nginx';
    });
    expect(got!.status).toBe(201);
    const legacy = await api(s.url, 'POST', '/apis/networking.k8s.io/v1/namespaces/ing/ingresses', { metadata: { name: 'legacy', annotations: { 'kubernetes.io/ingress.class': 'traefik' } }, spec: { defaultBackend: backend } });
    expect(legacy.status).toBe(201);
    expect(legacy.body.spec.ingressClassName).toBeUndefined();
  });
});

describe('RuntimeClass and PersistentVolumeClaimResize', () => {
  beforeAll(() => newNamespace('rc'));

  test('a pod gets its RuntimeClass\'s overhead, node selector and tolerations; a missing class, a conflict or a stray overhead are refused', async () => {
    const rc = await api(s.url, 'POST', '/apis/node.k8s.io/v1/runtimeclasses', {
      metadata: { name: 'sandboxed' },
      handler: 'runsc',
      overhead: { podFixed: { memory: '64Mi', cpu: '100m' } },
      scheduling: { nodeSelector: { sandbox: 'yes' }, tolerations: [{ key: 'sandbox', operator: 'Exists', effect: 'NoSchedule' }] },
    });
    expect(rc.status).toBe(201);
    let r: Awaited<ReturnType<typeof api>> | undefined;
    await eventually(async () => {
      r = await api(s.url, 'POST', '/api/v1/namespaces/rc/pods', pod(`p-${Date.now()}`, { runtimeClassName: 'sandboxed', nodeSelector: { disk: 'ssd' } }));
      return r.status === 201;
    });
    expect(r!.body.spec.overhead).toEqual({ memory: '64Mi', cpu: '100m' });
    expect(r!.body.spec.nodeSelector).toEqual({ disk: 'ssd', sandbox: 'yes' });
    expect(r!.body.spec.tolerations).toContainEqual({ key: 'sandbox', operator: 'Exists', effect: 'NoSchedule' });
    await refused('/api/v1/namespaces/rc/pods', pod('nope', { runtimeClassName: 'nope' }), 403, 'pods "nope" is forbidden: pod rejected: RuntimeClass "nope" not found');
    await refused('/api/v1/namespaces/rc/pods', pod('clash', { runtimeClassName: 'sandboxed', nodeSelector: { sandbox: 'no' } }), 403, 'pods "clash" is forbidden: conflict: runtimeClass.scheduling.nodeSelector[sandbox] = yes; pod.spec.nodeSelector[sandbox] = no');
    await refused('/api/v1/namespaces/rc/pods', pod('stray', { overhead: { memory: '1Mi' } }), 403, 'pods "stray" is forbidden: pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead');
  });

  test('a claim grows only when Bound and its class allows expansion', async () => {
    for (const [name, allow] of [['fixed', false], ['growable', true]] as const) {
      expect((await api(s.url, 'POST', '/apis/storage.k8s.io/v1/storageclasses', { metadata: { name }, provisioner: 'example.com/x', allowVolumeExpansion: allow })).status).toBe(201);
    }
    const claim = (name: string, cls: string) => ({ metadata: { name }, spec: { storageClassName: cls, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
    const grow = (name: string) => api(s.url, 'PATCH', `/api/v1/namespaces/rc/persistentvolumeclaims/${name}`, { spec: { resources: { requests: { storage: '2Gi' } } } }, { 'content-type': 'application/merge-patch+json' });
    for (const [name, cls] of [['pending', 'growable'], ['fixed', 'fixed'], ['growable', 'growable']]) expect((await api(s.url, 'POST', '/api/v1/namespaces/rc/persistentvolumeclaims', claim(name!, cls!))).status).toBe(201);
    // An unbound claim's spec is immutable: validation refuses it before admission looks.
    const pending = await grow('pending');
    expect(pending.status).toBe(422);
    expect(pending.body.message).toContain('spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims');
    for (const name of ['fixed', 'growable']) {
      const st = await api(s.url, 'PATCH', `/api/v1/namespaces/rc/persistentvolumeclaims/${name}/status`, { status: { phase: 'Bound', capacity: { storage: '1Gi' } } }, { 'content-type': 'application/merge-patch+json' });
      expect(st.status, JSON.stringify(st.body)).toBe(200);
    }
    await eventually(async () => (await api(s.url, 'GET', '/apis/storage.k8s.io/v1/storageclasses/growable')).status === 200);
    const fixed = await grow('fixed');
    expect(fixed.status).toBe(403);
    expect(fixed.body.message).toBe('persistentvolumeclaims "fixed" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize');
    const ok = await grow('growable');
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.spec.resources.requests.storage).toBe('2Gi');
  });
});
