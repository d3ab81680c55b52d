/**
 * The API server's request log: as upstream's httplog, a line per request only at --v=3 and
 * above (at the default verbosity a busy server would write a line for every call).
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/base/index.js';
import { startEtcd, type EtcdCluster } from '../support/etcd.js';
import { startAPIServer } from '../support/apiserver.js';

function collectingLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: createLogger({ component: 'test-apiserver', level: 'info', destination }) };
}

const createPod = (url: string, name: string) =>
  fetch(`${url}/api/v1/namespaces/default/pods`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }),
  });

describe('request log', () => {
  let etcd: EtcdCluster;
  beforeAll(async () => {
    etcd = await startEtcd();
  });
  afterAll(async () => {
    await etcd.stop();
  });

  it('writes no line per request at the default verbosity', async () => {
    const { lines, log } = collectingLogger();
    const s = await startAPIServer({ etcd, log, etcdPrefix: '/quiet' });
    try {
      expect((await createPod(s.url, 'quiet')).status).toBe(201);
      expect((await fetch(`${s.url}/api/v1/namespaces/default/pods/quiet`)).status).toBe(200);
      expect(lines.filter((l) => l['msg'] === 'request')).toEqual([]);
    } finally {
      await s.stop();
    }
  });

  it('writes a line per request, with verb, path, code, latency, user, user agent and source address, at --v=3', async () => {
    const { lines, log } = collectingLogger();
    const s = await startAPIServer({ etcd, log, etcdPrefix: '/loud', logRequests: true });
    try {
      expect((await createPod(s.url, 'loud')).status).toBe(201);
      expect((await fetch(`${s.url}/api/v1/namespaces/default/pods/nope`, { headers: { 'user-agent': 'kubectl/v1.32.0 (linux/amd64)' } })).status).toBe(404);
      await new Promise((r) => setImmediate(r));
      const reqs = lines.filter((l) => l['msg'] === 'request');
      expect(reqs).toContainEqual(expect.objectContaining({ verb: 'create', path: '/api/v1/namespaces/default/pods', code: 201, latencyMs: expect.any(Number) }));
      expect(reqs).toContainEqual(
        expect.objectContaining({ verb: 'get', path: '/api/v1/namespaces/default/pods/nope', code: 404, user: 'system:admin', userAgent: 'kubectl/v1.32.0 (linux/amd64)', srcIP: expect.stringMatching(/^(::ffff:)?127\.0\.0\.1:\d+$/) }),
      );
    } finally {
      await s.stop();
    }
  });
});
