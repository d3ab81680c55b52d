/**
 * apiregistration.k8s.io/v1 APIServices, with the real kubectl: every group version the API
 * server serves has its Local APIService with upstream's priorities, custom resource groups
 * come and go with their definitions, and bad APIServices are refused with upstream's messages.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { newestKubectl, runKubectl } from '../support/kubectl.js';
import { eventually } from '../support/secure.js';

let s: TestAPIServer;

beforeAll(async () => {
  s = await startAPIServer();
});

afterAll(async () => {
  await s?.stop();
});

const kubectl = (...args: string[]) => {
  const k = newestKubectl();
  if (!k) throw new Error('no kubectl on this machine');
  return runKubectl(k, s.kubeconfig, args);
};

const apiServicePath = '/apis/apiregistration.k8s.io/v1/apiservices';

describe('APIServices', () => {
  test('every served group version has a Local, available APIService, which kubectl get apiservices lists', async () => {
    const versions = (await kubectl('api-versions')).stdout.trim().split('\n');
    const names = versions.map((gv) => (gv.includes('/') ? `${gv.split('/')[1]}.${gv.split('/')[0]}` : `${gv}.`));
    expect(names).toContain('v1.apiregistration.k8s.io');
    let listed = '';
    try {
      await eventually(async () => {
        listed = (await kubectl('get', 'apiservices', '-o', 'name')).stdout;
        return names.every((n) => listed.includes(`apiservice.apiregistration.k8s.io/${n}\n`));
      }, 20_000);
    } catch {
      throw new Error(`APIServices missing: ${names.filter((n) => !listed.includes(`apiservice.apiregistration.k8s.io/${n}\n`)).join(', ')}`);
    }
    const table = (await kubectl('get', 'apiservices')).stdout.trim().split('\n');
    expect(table[0]).toMatch(/^NAME\s+SERVICE\s+AVAILABLE\s+AGE$/);
    expect(table.find((l) => l.startsWith('v1. '))).toMatch(/^v1\.\s+Local\s+True\s+\d+s$/);
    expect(table.find((l) => l.startsWith('v1beta1.metrics.k8s.io '))).toMatch(/\s+Local\s+True\s+/);
    expect(table.length - 1).toBe(names.length);

    const apps = JSON.parse((await kubectl('get', 'apiservice', 'v1.apps', '-o', 'json')).stdout);
    expect(apps.metadata.labels).toEqual({ 'kube-aggregator.kubernetes.io/automanaged': 'onstart' });
    expect(apps.spec).toEqual({ group: 'apps', version: 'v1', groupPriorityMinimum: 17800, versionPriority: 15 });
    expect(apps.status.conditions).toEqual([{ type: 'Available', status: 'True', lastTransitionTime: expect.any(String), reason: 'Local', message: 'Local APIServices are always available' }]);
    const autoscaling = JSON.parse((await kubectl('get', 'apiservice', 'v2.autoscaling', '-o', 'json')).stdout);
    expect([autoscaling.spec.groupPriorityMinimum, autoscaling.spec.versionPriority]).toEqual([17500, 30]);
  }, 60_000);

  test('a custom resource group gets its APIService with the definition and loses it with the last one', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'gadgets.toys.example.com' },
      spec: {
        group: 'toys.example.com',
        scope: 'Namespaced',
        names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    };
    expect((await api(s.url, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status).toBe(201);
    let got: { status: number; body: any } = { status: 0, body: undefined };
    await eventually(async () => (got = await api(s.url, 'GET', `${apiServicePath}/v1.toys.example.com`)).status === 200, 30_000);
    expect(got.body.metadata.labels).toEqual({ 'kube-aggregator.kubernetes.io/automanaged': 'true' });
    expect([got.body.spec.groupPriorityMinimum, got.body.spec.versionPriority]).toEqual([1000, 100]);
    // 202: the definition waits on its cleanup finalizer.
    expect([200, 202]).toContain((await api(s.url, 'DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.toys.example.com')).status);
    await eventually(async () => (await api(s.url, 'GET', `${apiServicePath}/v1.toys.example.com`)).status === 404, 30_000);
  }, 90_000);

  test('bad APIServices are refused with upstream\'s messages; a service-backed one with tkube\'s reason', async () => {
    const make = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name }, spec });
    const r1 = await api(s.url, 'POST', apiServicePath, make('v1.wrong.example.com', { group: 'right.example.com', version: 'v1', groupPriorityMinimum: 100, versionPriority: 10 }));
    expect(r1.status).toBe(422);
    expect(r1.body.message).toContain('metadata.name: Invalid value: "v1.wrong.example.com": must be `spec.version+"."+spec.group`: "v1.right.example.com"');
    const r2 = await api(s.url, 'POST', apiServicePath, make('v1.right.example.com', { group: 'right.example.com', version: 'v1', groupPriorityMinimum: 0, versionPriority: 2000 }));
    expect(r2.status).toBe(422);
    expect(r2.body.message).toContain('spec.groupPriorityMinimum: Invalid value: 0: must be positive and less than 20000');
    expect(r2.body.message).toContain('spec.versionPriority: Invalid value: 2000: must be positive and less than 1000');
    const r3 = await api(s.url, 'POST', apiServicePath, make('v1beta1.custom.metrics.k8s.io', { group: 'custom.metrics.k8s.io', version: 'v1beta1', groupPriorityMinimum: 100, versionPriority: 100, service: { namespace: 'monitoring', name: 'adapter' } }));
    expect(r3.status).toBe(422);
    expect(r3.body.message).toContain('spec.service: Forbidden: tkube serves every API group itself and does not proxy to other API servers');
    expect((await api(s.url, 'GET', `${apiServicePath}/v1beta1.custom.metrics.k8s.io`)).status).toBe(404);
    // A Local one is kept and available at once.
    const r4 = await api(s.url, 'POST', apiServicePath, make('v1alpha1.right.example.com', { group: 'right.example.com', version: 'v1alpha1', groupPriorityMinimum: 100, versionPriority: 10 }));
    expect(r4.status).toBe(201);
    expect(r4.body.status.conditions[0]).toMatchObject({ type: 'Available', status: 'True', reason: 'Local' });
  });
});
