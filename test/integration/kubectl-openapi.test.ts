/**
 * The real kubectl (1.31 and 1.32) against tkube-apiserver's OpenAPI documents: manifests
 * are validated by the server (fieldValidation, found through /openapi/v3) without
 * --validate=false, `kubectl explain` reads our schema docs, and List manifests are checked
 * client-side against /openapi/v2 in protobuf.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { kubectls, runKubectl, type Kubectl } from '../support/kubectl.js';

let s: TestAPIServer;
const homes: string[] = [];

beforeAll(async () => {
  s = await startAPIServer();
});
afterAll(async () => {
  await s?.stop();
  for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
});

function deployment(name: string, ns: string, spec: Record<string, unknown> = { replicas: 2 }): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      ...spec,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } },
    },
  });
}

const versions = kubectls();

test('kubectl binaries are available', () => {
  expect(versions.map((k) => k.version)).toContain('1.31');
});

describe.each(versions)('kubectl $version', (k: Kubectl) => {
  const ns = `openapi-${k.version.replace('.', '-')}`;
  // A cache of its own, so each version downloads and caches the documents itself.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-kubectl-home-'));
  homes.push(home);
  const kubectl = (args: string[], input?: string) => runKubectl(k, s.kubeconfig, args, { input, env: { HOME: home } });
  const getDeployment = (name: string) => api(s.url, 'GET', `/apis/apps/v1/namespaces/${ns}/deployments/${name}`);

  beforeAll(async () => {
    const r = await api(s.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    expect(r.status).toBe(201);
  });

  test('create -f works with the default validation (no --validate=false)', async () => {
    const r = await kubectl(['create', '-f', '-'], deployment('web', ns));
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('deployment.apps/web created');
    expect((await getDeployment('web')).body.spec.replicas).toBe(2);
  });

  test('apply -f twice: created, then unchanged; a change is configured', async () => {
    const first = await kubectl(['apply', '-f', '-'], deployment('applied', ns));
    expect(first.stderr).toBe('');
    expect(first.stdout.trim()).toBe('deployment.apps/applied created');
    const second = await kubectl(['apply', '-f', '-'], deployment('applied', ns));
    expect(second.stderr).toBe('');
    expect(second.stdout.trim()).toBe('deployment.apps/applied unchanged');
    const third = await kubectl(['apply', '-f', '-'], deployment('applied', ns, { replicas: 3 }));
    expect(third.stderr).toBe('');
    expect(third.stdout.trim()).toBe('deployment.apps/applied configured');
    expect((await getDeployment('applied')).body.spec.replicas).toBe(3);
  });

  test('apply computes its patch from the v3 schema without warnings, nested lists included (Job podFailurePolicy)', async () => {
    const job = (code: number) =>
      JSON.stringify({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'failing', namespace: ns },
        spec: {
          backoffLimit: 2,
          podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [code] } }] },
          template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } },
        },
      });
    expect((await kubectl(['apply', '-f', '-'], job(42))).stderr).toBe('');
    const changed = await kubectl(['apply', '-f', '-'], job(43));
    expect(changed.stderr).toBe('');
    expect(changed.stdout.trim()).toBe('job.batch/failing configured');
    const stored = await api(s.url, 'GET', `/apis/batch/v1/namespaces/${ns}/jobs/failing`);
    expect(stored.body.spec.podFailurePolicy.rules[0].onExitCodes.values).toEqual([43]);
  });

  test('--validate=strict: a typo (spec.replicass) is refused by the server, naming the field, and nothing is stored', async () => {
    const r = await kubectl(['create', '--validate=strict', '-f', '-'], deployment('typo', ns, { replicass: 2 }));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('unknown field "spec.replicass"');
    expect(r.stderr).toContain('Error from server (BadRequest)');
    expect((await getDeployment('typo')).status).toBe(404);
  });

  test('--validate=warn: each typo is reported as a warning and the object stored without them', async () => {
    const r = await kubectl(['create', '--validate=warn', '-f', '-'], deployment('warned', ns, { replicass: 2, pausd: true }));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Warning: unknown field "spec.replicass"');
    expect(r.stderr).toContain('Warning: unknown field "spec.pausd"');
    expect(r.stdout.trim()).toBe('deployment.apps/warned created');
    const stored = await getDeployment('warned');
    expect(stored.status).toBe(200);
    expect(stored.body.spec.replicass).toBeUndefined();
    expect(stored.body.spec.replicas).toBe(1);
  });

  test('updates are validated too: apply (strategic merge patch), server-side apply and replace (PUT)', async () => {
    const typo = deployment('web', ns, { replicass: 5 });
    const apply = await kubectl(['apply', '-f', '-'], typo);
    expect(apply.code).not.toBe(0);
    expect(apply.stderr).toContain('unknown field "spec.replicass"');
    const ssa = await kubectl(['apply', '--server-side', '-f', '-'], typo);
    expect(ssa.code).not.toBe(0);
    expect(ssa.stderr).toContain('unknown field "spec.replicass"');
    const replace = await kubectl(['replace', '-f', '-'], typo);
    expect(replace.code).not.toBe(0);
    expect(replace.stderr).toContain('unknown field "spec.replicass"');
    expect((await getDeployment('web')).body.spec.replicas).toBe(2);
  });

  test('a kind: List manifest is validated client-side against /openapi/v2 (protobuf)', async () => {
    const list = (replicasField: string) =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${replicasField}`, namespace: ns }, data: { a: '1' } },
          JSON.parse(deployment(`listed-${replicasField}`, ns, { [replicasField]: 1 })),
        ],
      });
    const bad = await kubectl(['create', '-f', '-'], list('replicass'));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/unknown field "replicass" in io\.k8s\.api\.apps\.v1\.DeploymentSpec/);
    expect((await getDeployment('listed-replicass')).status).toBe(404);
    const good = await kubectl(['create', '-f', '-'], list('replicas'));
    expect(good.stderr).toBe('');
    expect(good.stdout).toContain('deployment.apps/listed-replicas created');
  });

  test('explain pods.spec.containers prints the field docs from our schemas', async () => {
    const r = await kubectl(['explain', 'pods.spec.containers']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('KIND:       Pod');
    expect(r.stdout).toContain('FIELD: containers <[]Container>');
    expect(r.stdout).toContain('The containers of the pod. At least one');
    expect(r.stdout).toContain('A single application container that runs within a pod.');
    expect(r.stdout).toMatch(/^ {2}name\t<string> -required-\n {4}Name of the container, a DNS label unique within the pod\./m);
    expect(r.stdout).toMatch(/^ {2}image\t<string>\n {4}Container image name\./m);
    expect(r.stdout).toMatch(/^ {2}env\t<\[\]EnvVar>\n {4}Environment variables to set in the container\./m);
    expect(r.stdout).toContain('enum: Always, Never, IfNotPresent');
  });

  test('explain deployment.spec.strategy', async () => {
    const r = await kubectl(['explain', 'deployment.spec.strategy']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('GROUP:      apps');
    expect(r.stdout).toContain('KIND:       Deployment');
    expect(r.stdout).toContain('FIELD: strategy <DeploymentStrategy>');
    // The field's description, then its type's, each once.
    expect(r.stdout).toContain('DESCRIPTION:\n    How old pods are replaced by new ones.\n    A replacement strategy: Recreate');
    expect(r.stdout.split('How old pods are replaced by new ones.')).toHaveLength(2);
    expect(r.stdout).toMatch(/^ {2}rollingUpdate\t<RollingUpdateDeployment>/m);
    expect(r.stdout).toMatch(/^ {2}type\t<string>\n {2}enum: Recreate, RollingUpdate\n {4}RollingUpdate \(default\): replace pods gradually/m);
  });

  test('explain from the v2 document (--output=plaintext-openapiv2)', async () => {
    const r = await kubectl(['explain', 'deployment.spec.replicas', '--output=plaintext-openapiv2']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('FIELD:    replicas <integer>');
    expect(r.stdout).toContain('Desired number of pods. Default 1.');
  });
});

describe('served documents', () => {
  test('the v3 index lists every group-version; each document is JSON, matches its hash and resolves every $ref', async () => {
    const index = await api(s.url, 'GET', '/openapi/v3');
    expect(index.status).toBe(200);
    const paths = index.body.paths as Record<string, { serverRelativeURL: string }>;
    expect(Object.keys(paths)).toEqual(expect.arrayContaining(['api/v1', 'apis/apps/v1', 'apis/batch/v1', 'apis/policy/v1']));
    for (const [gv, { serverRelativeURL }] of Object.entries(paths)) {
      const r = await fetch(s.url + serverRelativeURL, { headers: { accept: 'application/json' } });
      expect(r.status, gv).toBe(200);
      expect(r.headers.get('etag')).toBe(`"${serverRelativeURL.split('hash=')[1]}"`);
      const doc = JSON.parse(await r.text());
      const schemas = doc.components.schemas as Record<string, unknown>;
      const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
      expect(refs.length, gv).toBeGreaterThan(0);
      for (const ref of refs) {
        const name = ref.slice('"$ref":"#/components/schemas/'.length, -1);
        expect(schemas[name], `${gv}: ${ref}`).toBeDefined();
      }
    }
  });
});
