/** `kubectl get componentstatuses`: etcd and the other components probed on each request. */
import http from 'node:http';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { kubectls, runKubectl } from '../support/kubectl.js';
import { freePort } from '../support/ports.js';

let s: TestAPIServer;
let healthy: http.Server;
let deadPort: number;

beforeAll(async () => {
  healthy = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => healthy.listen(0, '127.0.0.1', () => r()));
  const port = (healthy.address() as { port: number }).port;
  deadPort = await freePort();
  s = await startAPIServer({
    componentProbes: [
      { name: 'scheduler', url: `http://127.0.0.1:${port}/healthz` },
      { name: 'controller-manager', url: `http://127.0.0.1:${deadPort}/healthz` },
    ],
  });
});
afterAll(async () => {
  await s?.stop();
  healthy?.close();
});

test('reports each component healthy or not, with the reason', async () => {
  const k = kubectls()[kubectls().length - 1]!;
  const r = await runKubectl(k, s.kubeconfig, ['get', 'componentstatuses']);
  expect(r.stderr).toContain('Warning: v1 ComponentStatus is deprecated in v1.19+');
  const lines = r.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^NAME\s+STATUS\s+MESSAGE\s+ERROR$/);
  expect(r.stdout).toMatch(/scheduler\s+Healthy\s+ok/);
  expect(r.stdout).toMatch(new RegExp(`controller-manager\\s+Unhealthy\\s+Get "http://127.0.0.1:${deadPort}/healthz": dial tcp 127.0.0.1:${deadPort}: connect: connection refused`));
  const one = await runKubectl(k, s.kubeconfig, ['get', 'cs', 'scheduler', '-o', 'jsonpath={.conditions[0].status}']);
  expect(one.stdout).toBe('True');
  const missing = await runKubectl(k, s.kubeconfig, ['get', 'cs', 'nope']);
  expect(missing.stderr).toContain('componentstatuses "nope" not found');
});

test('etcd members are probed on their health endpoint', async () => {
  const s2 = await startAPIServer({ etcd: s.etcd });
  try {
    const k = kubectls()[kubectls().length - 1]!;
    const r = await runKubectl(k, s2.kubeconfig, ['get', 'cs', 'etcd-0']);
    expect(r.stdout).toMatch(/etcd-0\s+Healthy\s+\{"health":"true"/);
  } finally {
    await s2.stop();
  }
});
