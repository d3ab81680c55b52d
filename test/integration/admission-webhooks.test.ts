/**
 * Dynamic admission with the real kubectl: webhook configurations (admissionregistration.k8s.io/v1)
 * and the API server calling a real HTTPS webhook server (in this process, on loopback, with its
 * own CA) for the requests they match. A validating webhook refuses with its message, a mutating
 * one changes objects with a JSONPatch, a webhook that cannot be called refuses the request or is
 * skipped by its failure policy, selectors and rules narrow what is sent, and a Service is
 * reached at its endpoints with the certificate checked against <service>.<namespace>.svc.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { generateKey, selfSignedCA, signedCertificate } from '../../lib/pki/openssl.js';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { newestKubectl, runKubectl } from '../support/kubectl.js';
import { freePort } from '../support/ports.js';

let s: TestAPIServer;
let hooks: https.Server;
let hookPort = 0;
let caBundle = '';
/** Every AdmissionReview request the webhook server was sent, by path. */
const received: Array<{ path: string; request: any }> = [];

const svcName = 'hooks';
const svcNS = 'webhook-system';

/** The webhook server: what each path answers. */
function answer(path: string, review: any): any | Promise<any> {
  const req = review.request;
  const allow = (extra: object = {}) => ({ apiVersion: review.apiVersion, kind: 'AdmissionReview', response: { uid: req.uid, allowed: true, ...extra } });
  const obj = req.object ?? req.oldObject;
  switch (path) {
    case '/deny-labelled':
      if (obj?.metadata?.labels?.deny === 'true') return { apiVersion: review.apiVersion, kind: 'AdmissionReview', response: { uid: req.uid, allowed: false, status: { code: 403, message: `${obj.metadata.name} carries deny=true` } } };
      return allow({ warnings: ['checked by deny-labelled'] });
    case '/deny-all':
      return { apiVersion: review.apiVersion, kind: 'AdmissionReview', response: { uid: req.uid, allowed: false } };
    case '/mutate': {
      const ops = obj?.metadata?.labels ? [] : [{ op: 'add', path: '/metadata/labels', value: {} }];
      ops.push({ op: 'add', path: '/metadata/labels/mutated', value: 'by-webhook' } as never);
      return allow({ patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') });
    }
    case '/mutate-after': {
      // Sets a second label from the first, so it is called again when a later webhook adds it.
      const seen = obj?.metadata?.labels?.mutated ?? 'none';
      const ops = [{ op: 'add', path: '/metadata/annotations', value: { 'saw-mutated': seen } }];
      return allow({ patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') });
    }
    case '/bad-patch':
      return allow({ patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify([{ op: 'replace', path: '/data', value: 7 }])).toString('base64') });
    case '/wrong-uid':
      return { apiVersion: review.apiVersion, kind: 'AdmissionReview', response: { uid: 'not-the-uid', allowed: true } };
    case '/slow':
      return new Promise((r) => setTimeout(() => r(allow()), 2500));
    default:
      return allow();
  }
}

beforeAll(async () => {
  s = await startAPIServer({ enableAggregatorRouting: true });
  const caKey = generateKey('ecdsa');
  const ca = selfSignedCA(caKey, { commonName: 'webhook-test-ca' }, 1);
  const key = generateKey('ecdsa');
  const cert = signedCertificate(key, { subject: { commonName: 'hooks' }, dnsNames: [`${svcName}.${svcNS}.svc`], ipAddresses: ['127.0.0.1'], usages: ['server'], days: 1 }, ca, caKey);
  caBundle = Buffer.from(ca).toString('base64');
  hooks = https.createServer({ key, cert }, (req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      const review = JSON.parse(body);
      const path = new URL(req.url!, 'https://x').pathname;
      received.push({ path, request: review.request });
      const out = await answer(path, review);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(out));
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  hookPort = (hooks.address() as AddressInfo).port;
}, 60_000);

afterAll(async () => {
  hooks?.closeAllConnections();
  await new Promise((r) => hooks?.close(r));
  await s?.stop();
});

beforeEach(() => {
  received.length = 0;
});

const kubectl = (args: string[], input?: string) => {
  const k = newestKubectl();
  if (!k) throw new Error('no kubectl on this machine');
  return runKubectl(k, s.kubeconfig, args, { input });
};

type HookSpec = { name: string; path?: string; url?: string; service?: object; failurePolicy?: string; timeoutSeconds?: number; rules?: object[]; namespaceSelector?: object; objectSelector?: object; reinvocationPolicy?: string; caBundle?: string };

function configuration(kind: 'Validating' | 'Mutating', name: string, specs: HookSpec[]): string {
  const webhooks = specs.map((h) => ({
    name: h.name,
    clientConfig: h.service ? { service: h.service, caBundle: h.caBundle ?? caBundle } : { url: h.url ?? `https://127.0.0.1:${hookPort}${h.path}`, caBundle: h.caBundle ?? caBundle },
    rules: h.rules ?? [{ operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }],
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    ...(h.failurePolicy ? { failurePolicy: h.failurePolicy } : {}),
    ...(h.timeoutSeconds ? { timeoutSeconds: h.timeoutSeconds } : {}),
    ...(h.namespaceSelector ? { namespaceSelector: h.namespaceSelector } : {}),
    ...(h.objectSelector ? { objectSelector: h.objectSelector } : {}),
    ...(h.reinvocationPolicy ? { reinvocationPolicy: h.reinvocationPolicy } : {}),
  }));
  return JSON.stringify({ apiVersion: 'admissionregistration.k8s.io/v1', kind: `${kind}WebhookConfiguration`, metadata: { name }, webhooks });
}

/** Applies a configuration and removes it after `body`, so one test's webhooks never reach another's requests. */
async function withConfiguration(yaml: string, body: () => Promise<void>) {
  const r = await kubectl(['apply', '-f', '-'], yaml);
  expect(r.stderr).toBe('');
  const { kind, metadata } = JSON.parse(yaml);
  try {
    await body();
  } finally {
    await kubectl(['delete', kind.toLowerCase(), metadata.name]);
  }
}

let nsCount = 0;
async function namespace(labels: Record<string, string> = {}): Promise<string> {
  const name = `wh-${++nsCount}-${Date.now().toString(36)}`;
  const r = await api(s.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  expect(r.status).toBe(201);
  return name;
}

describe('webhook configurations', () => {
  test('are served as upstream: api-resources, defaults, and kubectl get with NAME, WEBHOOKS, AGE', async () => {
    const res = (await kubectl(['api-resources', '--api-group=admissionregistration.k8s.io', '--no-headers'])).stdout;
    expect(res).toMatch(/^mutatingwebhookconfigurations\s+admissionregistration\.k8s\.io\/v1\s+false\s+MutatingWebhookConfiguration$/m);
    expect(res).toMatch(/^validatingwebhookconfigurations\s+admissionregistration\.k8s\.io\/v1\s+false\s+ValidatingWebhookConfiguration$/m);
    await withConfiguration(configuration('Validating', 'shape', [{ name: 'one.shape.tkube.test', path: '/allow' }, { name: 'two.shape.tkube.test', path: '/allow', rules: [{ operations: ['DELETE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'] }] }]), async () => {
      const table = (await kubectl(['get', 'validatingwebhookconfigurations'])).stdout.trim().split('\n');
      expect(table[0]).toMatch(/^NAME\s+WEBHOOKS\s+AGE$/);
      expect(table.find((l) => l.startsWith('shape '))).toMatch(/^shape\s+2\s+\d+s$/);
      const got = JSON.parse((await kubectl(['get', 'validatingwebhookconfiguration', 'shape', '-o', 'json'])).stdout);
      const h = got.webhooks[0];
      expect([h.failurePolicy, h.matchPolicy, h.namespaceSelector, h.objectSelector, h.timeoutSeconds, h.rules[0].scope]).toEqual(['Fail', 'Equivalent', {}, {}, 10, '*']);
      expect(h.reinvocationPolicy).toBeUndefined();
    });
    await withConfiguration(configuration('Mutating', 'shape-m', [{ name: 'one.shape.tkube.test', service: { namespace: 'x', name: 'y' } }]), async () => {
      const got = JSON.parse((await kubectl(['get', 'mutatingwebhookconfiguration', 'shape-m', '-o', 'json'])).stdout);
      expect(got.webhooks[0].reinvocationPolicy).toBe('Never');
      expect(got.webhooks[0].clientConfig.service).toEqual({ namespace: 'x', name: 'y', port: 443 });
    });
  }, 60_000);

  test('bad configurations are refused with the field and upstream\'s reason', async () => {
    const bad = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'bad' },
      webhooks: [
        { name: 'short.name', clientConfig: { url: 'http://127.0.0.1/x?y=1' }, rules: [{ operations: ['CREATE', '*'], apiGroups: [''], apiVersions: ['v1'], resources: ['*', 'pods'], scope: 'Everywhere' }], admissionReviewVersions: ['v2', 'v2'], timeoutSeconds: 31 },
        { name: 'dup.tkube.test', clientConfig: {}, sideEffects: 'Some', admissionReviewVersions: ['v1'] },
        { name: 'dup.tkube.test', clientConfig: { service: { namespace: 'n', name: 's', path: 'hook' } }, sideEffects: 'None', admissionReviewVersions: ['v1'] },
      ],
    };
    const r = await kubectl(['create', '-f', '-'], JSON.stringify(bad));
    expect(r.code).not.toBe(0);
    for (const want of [
      'webhooks[0].name: Invalid value: "short.name": should be a domain with at least three segments separated by dots',
      `webhooks[0].clientConfig.url: Invalid value: "http": 'https' is the only allowed URL scheme; desired format: https://host[/path]`,
      'webhooks[0].clientConfig.url: Invalid value: "y=1": query parameters are not permitted in the URL',
      `webhooks[0].rules[0].operations: Invalid value: []admissionregistration.OperationType{"CREATE", "*"}: if '*' is present, must not specify other operations`,
      `webhooks[0].rules[0].resources: Invalid value: []string{"*", "pods"}: if '*' is present, must not specify other resources without subresources`,
      'webhooks[0].rules[0].scope: Unsupported value: "Everywhere": supported values: "*", "Cluster", "Namespaced"',
      'webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun',
      'webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds',
      'webhooks[0].admissionReviewVersions[1]: Invalid value: "v2": duplicate version',
      'webhooks[0].admissionReviewVersions: Invalid value: []string{"v2", "v2"}: must include at least one of v1, v1beta1',
      'webhooks[1].clientConfig: Required value: exactly one of url or service is required',
      'webhooks[1].sideEffects: Unsupported value: "Some": supported values: "None", "NoneOnDryRun"',
      `webhooks[2].clientConfig.service.path: Invalid value: "hook": must start with a '/'`,
      'webhooks[2].name: Duplicate value: "dup.tkube.test"',
    ]) {
      expect(r.stderr).toContain(want);
    }
    expect((await kubectl(['get', 'validatingwebhookconfiguration', 'bad'])).stderr).toContain('NotFound');
  }, 30_000);
});

describe('validating webhooks', () => {
  test('a refusal reaches kubectl with the webhook\'s message and nothing is stored; the review carries the request', async () => {
    const ns = await namespace();
    await withConfiguration(configuration('Validating', 'deny', [{ name: 'deny.tkube.test', path: '/deny-labelled' }]), async () => {
      const refused = await kubectl(['create', 'configmap', 'no', '-n', ns, '--from-literal=a=b', '--dry-run=client', '-o', 'json']);
      const cm = JSON.parse(refused.stdout);
      cm.metadata.labels = { deny: 'true' };
      const r = await kubectl(['create', '-f', '-'], JSON.stringify(cm));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('admission webhook "deny.tkube.test" denied the request: no carries deny=true');
      expect((await kubectl(['get', 'configmap', 'no', '-n', ns])).stderr).toContain('NotFound');

      const ok = await kubectl(['create', 'configmap', 'yes', '-n', ns, '--from-literal=a=b']);
      expect(ok.code).toBe(0);
      expect(ok.stderr).toContain('Warning: checked by deny-labelled');
      const review = received.find((x) => x.request.name === 'yes')!.request;
      expect(review).toMatchObject({
        kind: { group: '', version: 'v1', kind: 'ConfigMap' },
        resource: { group: '', version: 'v1', resource: 'configmaps' },
        requestKind: { group: '', version: 'v1', kind: 'ConfigMap' },
        name: 'yes',
        namespace: ns,
        operation: 'CREATE',
        userInfo: { username: expect.any(String) },
        object: { kind: 'ConfigMap', metadata: { name: 'yes', namespace: ns }, data: { a: 'b' } },
        oldObject: null,
        dryRun: false,
        options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
      });
      expect(review.uid).toMatch(/^[0-9a-f-]{36}$/);

      // An update that would add the label is refused too, and the object stays as it was.
      const upd = await kubectl(['label', 'configmap', 'yes', '-n', ns, 'deny=true']);
      expect(upd.stderr).toContain('denied the request: yes carries deny=true');
      expect(JSON.parse((await kubectl(['get', 'configmap', 'yes', '-n', ns, '-o', 'json'])).stdout).metadata.labels).toBeUndefined();
      const updReview = received.find((x) => x.request.operation === 'UPDATE')!.request;
      expect(updReview.oldObject.metadata.name).toBe('yes');
      expect(updReview.options.kind).toBe('UpdateOptions');
      // The calls are counted on /metrics under upstream's names.
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      expect(metrics).toMatch(/^apiserver_admission_webhook_request_total\{code="200",name="deny\.tkube\.test",operation="CREATE",rejected="true",type="validating"\} 1$/m);
      expect(metrics).toMatch(/^apiserver_admission_webhook_request_total\{code="200",name="deny\.tkube\.test",operation="CREATE",rejected="false",type="validating"\} 1$/m);
      expect(metrics).toMatch(/^apiserver_admission_webhook_rejection_count\{error_type="no_error",name="deny\.tkube\.test",operation="UPDATE",rejection_code="403",type="validating"\} 1$/m);
      expect(metrics).toMatch(/^apiserver_admission_webhook_admission_duration_seconds_count\{name="deny\.tkube\.test",operation="CREATE",rejected="true",type="validating"\} 1$/m);
    });
  }, 60_000);

  test('DELETE rules see the old object, and a refusal keeps the object', async () => {
    const ns = await namespace();
    expect((await kubectl(['create', 'configmap', 'keep', '-n', ns])).code).toBe(0);
    await withConfiguration(configuration('Validating', 'nodelete', [{ name: 'nodelete.tkube.test', path: '/deny-all', rules: [{ operations: ['DELETE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], scope: 'Namespaced' }] }]), async () => {
      const r = await kubectl(['delete', 'configmap', 'keep', '-n', ns]);
      expect(r.stderr).toContain('admission webhook "nodelete.tkube.test" denied the request without explanation');
      expect((await kubectl(['get', 'configmap', 'keep', '-n', ns])).code).toBe(0);
      const review = received.find((x) => x.request.operation === 'DELETE')!.request;
      expect(review.object).toBeNull();
      expect(review.oldObject.metadata.name).toBe('keep');
      expect(review.options.kind).toBe('DeleteOptions');
    });
    expect((await kubectl(['delete', 'configmap', 'keep', '-n', ns])).code).toBe(0);
  }, 60_000);

  test('namespace and object selectors, scope and subresources decide which requests are sent', async () => {
    const watched = await namespace({ 'webhooks.tkube.test/watch': 'yes' });
    const other = await namespace();
    await withConfiguration(
      configuration('Validating', 'selective', [
        { name: 'ns.tkube.test', path: '/deny-all', namespaceSelector: { matchLabels: { 'webhooks.tkube.test/watch': 'yes' } } },
        { name: 'obj.tkube.test', path: '/deny-all', objectSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['frontend'] }] } },
        { name: 'cluster.tkube.test', path: '/deny-all', rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], scope: 'Cluster' }] },
      ]),
      async () => {
        expect((await kubectl(['create', 'configmap', 'a', '-n', watched])).stderr).toContain('admission webhook "ns.tkube.test" denied the request');
        expect((await kubectl(['create', 'configmap', 'a', '-n', other])).code).toBe(0);
        const labelled = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', namespace: other, labels: { tier: 'frontend' } } });
        expect((await kubectl(['create', '-f', '-'], labelled)).stderr).toContain('admission webhook "obj.tkube.test" denied the request');
        expect(received.map((x) => x.path).every((p) => p === '/deny-all')).toBe(true);
        expect(received.length).toBe(2);
      },
    );
    // namespaces/status is a subresource: a rule for it matches status writes only.
    received.length = 0;
    await withConfiguration(
      configuration('Validating', 'status', [{ name: 'status.tkube.test', path: '/allow', rules: [{ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['namespaces/status'] }] }]),
      async () => {
        const nsObj = (await api(s.url, 'GET', `/api/v1/namespaces/${other}`)).body;
        expect((await api(s.url, 'PUT', `/api/v1/namespaces/${other}`, nsObj)).status).toBe(200);
        expect(received.length).toBe(0);
        expect((await api(s.url, 'PUT', `/api/v1/namespaces/${other}/status`, nsObj)).status).toBe(200);
        expect(received.map((x) => [x.request.resource.resource, x.request.subResource])).toEqual([['namespaces', 'status']]);
      },
    );
  }, 60_000);

  test('a webhook that cannot be called refuses the request under Fail and is skipped under Ignore', async () => {
    const ns = await namespace();
    const closed = await freePort();
    await withConfiguration(configuration('Validating', 'down', [{ name: 'down.tkube.test', url: `https://127.0.0.1:${closed}/x` }]), async () => {
      const r = await kubectl(['create', 'configmap', 'c', '-n', ns]);
      expect(r.stderr).toContain(`Internal error occurred: failed calling webhook "down.tkube.test": failed to call webhook: Post "https://127.0.0.1:${closed}/x?timeout=10s": dial tcp 127.0.0.1:${closed}: connect: connection refused`);
      expect((await kubectl(['get', 'configmap', 'c', '-n', ns])).code).not.toBe(0);
    });
    await withConfiguration(configuration('Validating', 'down-ignored', [{ name: 'down.tkube.test', url: `https://127.0.0.1:${closed}/x`, failurePolicy: 'Ignore' }]), async () => {
      expect((await kubectl(['create', 'configmap', 'c', '-n', ns])).code).toBe(0);
    });
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/^apiserver_admission_webhook_rejection_count\{error_type="calling_webhook_error",name="down\.tkube\.test",operation="CREATE",rejection_code="500",type="validating"\} 1$/m);
    expect(metrics).toMatch(/^apiserver_admission_webhook_fail_open_count\{name="down\.tkube\.test",type="validating"\} 1$/m);
    // Too slow: the timeout (1 s here) applies.
    await withConfiguration(configuration('Validating', 'slow', [{ name: 'slow.tkube.test', path: '/slow', timeoutSeconds: 1 }]), async () => {
      const r = await kubectl(['create', 'configmap', 'd', '-n', ns]);
      expect(r.stderr).toContain(`failed calling webhook "slow.tkube.test": failed to call webhook: Post "https://127.0.0.1:${hookPort}/slow?timeout=1s": context deadline exceeded`);
    });
    // A certificate from another CA is not trusted.
    const otherKey = generateKey('ecdsa');
    const otherCA = Buffer.from(selfSignedCA(otherKey, { commonName: 'someone-else' }, 1)).toString('base64');
    await withConfiguration(configuration('Validating', 'untrusted', [{ name: 'untrusted.tkube.test', path: '/allow', caBundle: otherCA }]), async () => {
      expect((await kubectl(['create', 'configmap', 'e', '-n', ns])).stderr).toContain('x509: certificate signed by unknown authority');
    });
    // An answer for another request is not believed.
    await withConfiguration(configuration('Validating', 'wrong-uid', [{ name: 'uid.tkube.test', path: '/wrong-uid' }]), async () => {
      expect((await kubectl(['create', 'configmap', 'f', '-n', ns])).stderr).toMatch(/failed calling webhook "uid\.tkube\.test": received invalid webhook response: expected response\.uid="[0-9a-f-]+", got "not-the-uid"/);
    });
  }, 60_000);

  test('requests on webhook configurations never go to webhooks, so a broken webhook can be removed', async () => {
    const closed = await freePort();
    const everything = configuration('Validating', 'lockout', [{ name: 'all.tkube.test', url: `https://127.0.0.1:${closed}/x`, rules: [{ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*/*'] }] }]);
    expect((await kubectl(['apply', '-f', '-'], everything)).code).toBe(0);
    expect((await kubectl(['create', 'namespace', `locked-${Date.now().toString(36)}`])).stderr).toContain('failed calling webhook "all.tkube.test"');
    const del = await kubectl(['delete', 'validatingwebhookconfiguration', 'lockout']);
    expect(del.code).toBe(0);
  }, 30_000);

  test('a Service is reached at its ready endpoints, the certificate checked against <service>.<namespace>.svc', async () => {
    await kubectl(['create', 'namespace', svcNS]);
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: svcName, namespace: svcNS }, spec: { ports: [{ name: 'https', port: 443, targetPort: hookPort }] } };
    expect((await kubectl(['apply', '-f', '-'], JSON.stringify(svc))).code).toBe(0);
    const ns = await namespace();
    await withConfiguration(configuration('Validating', 'by-service', [{ name: 'svc.tkube.test', service: { namespace: svcNS, name: svcName, path: '/deny-labelled' } }]), async () => {
      const noEndpoints = await kubectl(['create', 'configmap', 'g', '-n', ns]);
      expect(noEndpoints.stderr).toContain(`failed calling webhook "svc.tkube.test": failed to call webhook: Post "https://${svcName}.${svcNS}.svc:443/deny-labelled?timeout=10s": no endpoints available for service "${svcName}"`);
      const slice = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${svcName}-1`, namespace: svcNS, labels: { 'kubernetes.io/service-name': svcName } }, addressType: 'IPv4', endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }], ports: [{ name: 'https', port: hookPort, protocol: 'TCP' }] };
      expect((await kubectl(['apply', '-f', '-'], JSON.stringify(slice))).code).toBe(0);
      let r = await kubectl(['create', 'configmap', 'g', '-n', ns]);
      for (let i = 0; i < 20 && r.code !== 0; i++) {
        await new Promise((res) => setTimeout(res, 100));
        r = await kubectl(['create', 'configmap', 'g', '-n', ns]);
      }
      expect(r.code).toBe(0);
      expect(received.some((x) => x.path === '/deny-labelled' && x.request.name === 'g')).toBe(true);
    });
  }, 60_000);
});

describe('CONNECT', () => {
  test('kubectl exec and port-forward are sent to webhooks with CONNECT rules, with the options object', async () => {
    const ns = await namespace();
    // A pod no scheduler binds: admission runs before the API server looks for its node.
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'target', namespace: ns, labels: { app: 'x' } }, spec: { containers: [{ name: 'main', image: 'tkube/busybox:1.36' }] } };
    expect((await kubectl(['apply', '-f', '-'], JSON.stringify(pod))).code).toBe(0);
    await withConfiguration(
      configuration('Validating', 'noexec', [
        { name: 'noexec.tkube.test', path: '/deny-all', rules: [{ operations: ['CONNECT'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods/exec', 'pods/portforward'] }] },
        // An object selector never matches a CONNECT: its options object has no labels.
        { name: 'selected.tkube.test', path: '/deny-all', objectSelector: { matchLabels: { app: 'x' } }, rules: [{ operations: ['CONNECT'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods/attach'] }] },
      ]),
      async () => {
        const r = await kubectl(['exec', '-n', ns, 'target', '--', 'echo', 'hi']);
        expect(r.stderr).toContain('admission webhook "noexec.tkube.test" denied the request without explanation');
        const review = received.find((x) => x.request.subResource === 'exec')!.request;
        expect(review).toMatchObject({ operation: 'CONNECT', name: 'target', namespace: ns, kind: { group: '', version: 'v1', kind: 'PodExecOptions' }, resource: { group: '', version: 'v1', resource: 'pods' }, oldObject: null, dryRun: false });
        expect(review.object).toMatchObject({ kind: 'PodExecOptions', apiVersion: 'v1', container: 'main', command: ['echo', 'hi'] });
        // (kubectl port-forward checks the pod is Running first; the API is asked directly.)
        const pf = await api(s.url, 'POST', `/api/v1/namespaces/${ns}/pods/target/portforward?ports=80`);
        expect([pf.status, pf.body.message]).toEqual([400, 'admission webhook "noexec.tkube.test" denied the request without explanation']);
        expect(received.find((x) => x.request.subResource === 'portforward')!.request.object).toEqual({ apiVersion: 'v1', kind: 'PodPortForwardOptions', ports: [80] });
        // attach matches only the selector-limited webhook, which is skipped: the request goes on (and fails for want of a node).
        const attach = await kubectl(['attach', '-n', ns, 'target']);
        expect(attach.stderr).not.toContain('admission webhook');
        expect(attach.stderr).toContain('does not have a host assigned');
      },
    );
  }, 60_000);
});

describe('mutating webhooks', () => {
  test('a JSONPatch changes the stored object; IfNeeded webhooks see what later ones changed', async () => {
    const ns = await namespace();
    await withConfiguration(
      configuration('Mutating', 'mutate', [
        { name: 'a-after.tkube.test', path: '/mutate-after', reinvocationPolicy: 'IfNeeded' },
        { name: 'b-label.tkube.test', path: '/mutate' },
      ]),
      async () => {
        expect((await kubectl(['create', 'configmap', 'm', '-n', ns, '--from-literal=k=v'])).code).toBe(0);
        const got = JSON.parse((await kubectl(['get', 'configmap', 'm', '-n', ns, '-o', 'json'])).stdout);
        expect(got.metadata.labels).toEqual({ mutated: 'by-webhook' });
        expect(got.data).toEqual({ k: 'v' });
        // Called first (saw no label), then again after b-label added it.
        expect(got.metadata.annotations).toEqual({ 'saw-mutated': 'by-webhook' });
        expect(received.map((x) => x.path)).toEqual(['/mutate-after', '/mutate', '/mutate-after']);
        // A dry run is sent too (sideEffects None) and stores nothing.
        const dry = await kubectl(['create', 'configmap', 'dry', '-n', ns, '--dry-run=server', '-o', 'json']);
        expect(JSON.parse(dry.stdout).metadata.labels).toEqual({ mutated: 'by-webhook' });
        expect(received.find((x) => x.request.name === 'dry')!.request.dryRun).toBe(true);
        expect((await kubectl(['get', 'configmap', 'dry', '-n', ns])).code).not.toBe(0);
      },
    );
  }, 60_000);

  test('a patch whose result is not a valid object fails the request and stores nothing', async () => {
    const ns = await namespace();
    await withConfiguration(configuration('Mutating', 'bad-patch', [{ name: 'bad.tkube.test', path: '/bad-patch' }]), async () => {
      const r = await kubectl(['create', 'configmap', 'p', '-n', ns, '--from-literal=k=v']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('admission webhook "bad.tkube.test" returned a patch whose result is not a valid ConfigMap');
      expect((await kubectl(['get', 'configmap', 'p', '-n', ns])).code).not.toBe(0);
    });
  }, 30_000);
});
