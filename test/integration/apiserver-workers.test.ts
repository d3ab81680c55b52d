/**
 * `tkube-apiserver --workers=2`: two API server processes behind one port, against a real etcd.
 * Connections are spread over both, a write through one reaches a watch held by the other,
 * a worker that dies is replaced while the port keeps answering, SIGTERM stops everything, and a
 * worker that cannot start fails the program with its reason.
 */
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEtcd, type EtcdCluster } from '../support/etcd.js';
import { freePort } from '../support/ports.js';
import { ensureBuilt, startProgram, type RunningProgram } from '../support/programs.js';

/** One request on a connection of its own, so that each lands on whichever worker the port hands it to. */
function request(url: string, method = 'GET', body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function waitFor<T>(what: string, f: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined && v !== false) return v;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const children = (pid: number) =>
  spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean)
    .map(Number);

let etcd: EtcdCluster;
beforeAll(async () => {
  await ensureBuilt(['tkube-apiserver']);
  etcd = await startEtcd();
}, 120_000);
afterAll(async () => etcd?.stop());

describe('tkube-apiserver --workers=2', () => {
  let server: RunningProgram;
  let url = '';
  let log = '';

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = startProgram('tkube-apiserver', [`--etcd-servers=${etcd.endpoints.join(',')}`, `--insecure-port=${port}`, '--secure-port=0', '--workers=2', '--v=3']);
    server.proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    await waitFor('/readyz', async () => (await request(`${url}/readyz`)).status === 200 || undefined);
  }, 60_000);
  afterAll(async () => server?.kill());

  test('ready only once both workers serve; requests are spread over both, and a watch on one sees writes made through the other', async () => {
    expect(children(server.proc.pid!)).toHaveLength(2);
    // Each worker's readyz reports the workers check.
    expect((await request(`${url}/readyz?verbose`)).text).toContain('[+]workers ok');
    const events: string[] = [];
    const watch = http.get(`${url}/api/v1/namespaces/default/configmaps?watch=1`, { agent: false }, (res) => {
      let buf = '';
      res.on('data', (d: Buffer) => {
        buf += d.toString();
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const e = JSON.parse(buf.slice(0, i)) as { type: string; object: { metadata: { name: string } } };
          buf = buf.slice(i + 1);
          events.push(`${e.type} ${e.object.metadata.name}`);
        }
      });
    });
    try {
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 20; i++) {
        const r = await request(`${url}/api/v1/namespaces/default/configmaps`, 'POST', { metadata: { name: `cm-${i}` }, data: { i: String(i) } });
        expect(r.status, r.text).toBe(201);
      }
      await waitFor('20 ADDED events', () => events.filter((e) => e.startsWith('ADDED cm-')).length === 20 || undefined);
      expect(events.filter((e) => e.startsWith('ADDED cm-')).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `ADDED cm-${i}`).sort());
    } finally {
      watch.destroy();
    }
    // Both workers answered creates (at --v=3 each logs its requests, with its number).
    const creates = log.split('\n').filter((l) => l.includes('"verb":"create"') && l.includes('/configmaps'));
    const byWorker = new Set(creates.map((l) => (JSON.parse(l) as { worker: number }).worker));
    expect([...byWorker].sort()).toEqual([1, 2]);
    // A list from either worker has every object.
    for (let i = 0; i < 4; i++) {
      const list = JSON.parse((await request(`${url}/api/v1/namespaces/default/configmaps`)).text) as { items: { metadata: { name: string } }[] };
      expect(list.items.filter((c) => c.metadata.name.startsWith('cm-'))).toHaveLength(20);
    }
  });

  test('a worker killed outright is replaced, and the port answers all along (the kernel hands new connections only to a live worker)', async () => {
    const before = children(server.proc.pid!);
    process.kill(before[1]!, "SIGKILL");
    for (let i = 0; i < 20; i++) {
      const r = await request(`${url}/api/v1/namespaces/default/configmaps/cm-${i % 20}`);
      expect(r.status).toBe(200);
    }
    const after = await waitFor('a replacement worker', () => {
      const now = children(server.proc.pid!);
      return now.length === 2 && !now.includes(before[1]!) ? now : undefined;
    });
    expect(after).toContain(before[0]);
    expect(log).toMatch(/"msg":"worker died; starting a new one"/);
    await waitFor('/readyz again', async () => (await request(`${url}/readyz`)).status === 200 || undefined);
  }, 60_000);

  test('SIGTERM stops every worker and the program exits 0', async () => {
    const kids = children(server.proc.pid!);
    await server.stop();
    expect(await server.exited).toBe(0);
    for (const k of kids) expect(spawnSync('kill', ['-0', String(k)]).status).not.toBe(0);
  }, 30_000);
});

test('a worker that cannot start fails the program with the reason, leaving nothing behind', async () => {
  const port = await freePort();
  const p = startProgram('tkube-apiserver', [`--etcd-servers=${etcd.endpoints.join(',')}`, `--insecure-port=${port}`, '--secure-port=6443', '--tls-cert-file=/nonexistent/tls.crt', '--tls-private-key-file=/nonexistent/tls.key', '--workers=2']);
  try {
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toContain('/nonexistent/tls.crt');
    expect(p.stderr()).toMatch(/a worker failed to start/);
  } finally {
    await p.kill();
  }
}, 60_000);
