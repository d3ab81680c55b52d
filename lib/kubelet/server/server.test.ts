import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Pod } from '../../api/index.js';
import { silentLogger } from '../../base/index.js';
import { collect, decodeChannelMessage, spdyClient, webSocketByteStream, SpdySession } from '../../streaming/index.js';
import { FakeRuntime } from '../runtime/index.js';
import { InMemoryKubeletHost } from './memory-host.js';
import { KubeletServer, parseLogQuery } from './server.js';
import { notStartedMessage } from './containers.js';

function get(port: number, p: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path: p, rejectUnauthorized: false, headers }, async (res) => {
        resolve({ status: res.statusCode!, body: (await collect(res)).toString(), headers: res.headers });
      })
      .on('error', reject);
  });
}

const pod = (name: string, status: Pod['status'] = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', uid: `uid-${name}` },
  spec: { containers: [{ name: 'app', image: 'busybox' }] },
  status,
});

describe('kubelet API (FakeRuntime)', () => {
  const rt = new FakeRuntime();
  const host = new InMemoryKubeletHost('node-a', rt);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-kubelet-server-'));
  const ctl = new AbortController();
  let server: KubeletServer;
  let port: number;
  let running: Promise<void>;
  let appId: string;
  let firstId: string;
  let sandboxId: string;

  beforeAll(async () => {
    rt.addImage('busybox');
    sandboxId = await rt.createSandbox({ metadata: { uid: 'uid-web', namespace: 'default', name: 'web', attempt: 0 } });
    await rt.startSandbox(sandboxId);
    firstId = await rt.createContainer(sandboxId, { metadata: { name: 'app', attempt: 0 }, image: 'busybox' });
    await rt.startContainer(firstId);
    rt.writeLog(firstId, 'stdout', 'first run\n');
    rt.exitContainer(firstId, 1);
    appId = await rt.createContainer(sandboxId, { metadata: { name: 'app', attempt: 1 }, image: 'busybox', stdin: true });
    await rt.startContainer(appId);
    // The fake keeps one log entry per write: one line each, as Docker records them.
    for (const line of ['one\n', 'two\n', 'three\n']) rt.writeLog(appId, 'stdout', line);
    host.set({ pod: pod('web', { phase: 'Running' }), sandboxId, containerIds: { app: appId } });
    host.set({ pod: pod('pending', { phase: 'Pending', containerStatuses: [{ name: 'app', ready: false, restartCount: 0, image: 'busybox', imageID: '', state: { waiting: { reason: 'ContainerCreating' } } }] }), containerIds: {} });
    rt.execHandler = async ({ cmd, stdin, stdout, stderr }) => {
      if (cmd[0] === 'cat' && stdin) stdout((await collect(stdin)).toString());
      else stdout(`ran ${cmd.join(' ')}\n`);
      stderr('oops\n');
      return cmd[0] === 'fail' ? 3 : 0;
    };
    rt.portForwardHandler = async (_sb, p, stream: Duplex) => {
      if (p !== 80) throw new Error(`connect ECONNREFUSED 127.0.0.1:${p}`);
      stream.on('data', (d: Buffer) => stream.write(`echo:${d.toString()}`));
      await new Promise((r) => stream.once('end', r));
      await new Promise<void>((r) => stream.end(() => r()));
    };
    rt.setStats(appId, { cpuUsageCoreNanoSeconds: 5e9, memoryUsageBytes: 20 << 20, memoryWorkingSetBytes: 10 << 20 });
    server = new KubeletServer({ host, log: silentLogger(), address: '127.0.0.1', port: 0, certDir: path.join(dir, 'pki'), anonymousAuth: true, statsSecondSampleDelayMs: 20 });
    running = server.start(ctl.signal);
    port = (await server.listening()).port;
  });

  afterAll(async () => {
    ctl.abort();
    await running;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('makes a self-signed certificate in --cert-dir and serves /healthz and /pods', async () => {
    expect(fs.existsSync(path.join(dir, 'pki', 'kubelet.crt'))).toBe(true);
    expect(fs.statSync(path.join(dir, 'pki', 'kubelet.key')).mode & 0o777).toBe(0o600);
    expect(await get(port, '/healthz')).toMatchObject({ status: 200, body: 'ok' });
    const pods = JSON.parse((await get(port, '/pods')).body);
    expect(pods).toMatchObject({ kind: 'PodList', apiVersion: 'v1' });
    expect(pods.items.map((p: Pod) => p.metadata.name).sort()).toEqual(['pending', 'web']);
  });

  it('serves container logs with tailLines, limitBytes and --previous', async () => {
    expect(await get(port, '/containerLogs/default/web/app')).toMatchObject({ status: 200, body: 'one\ntwo\nthree\n' });
    expect((await get(port, '/containerLogs/default/web/app?tailLines=1')).body).toBe('three\n');
    expect((await get(port, '/containerLogs/default/web/app?limitBytes=5')).body).toBe('one\nt');
    expect((await get(port, '/containerLogs/default/web/app?previous=true')).body).toBe('first run\n');
    expect((await get(port, '/containerLogs/default/web/app?timestamps=true')).body).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z one\n/);
  });

  it('--previous in a crash back-off reads the instance the status names as last terminated (the newest), as upstream', async () => {
    const looping = pod('looping', {
      phase: 'Running',
      containerStatuses: [
        { name: 'app', ready: false, restartCount: 1, image: 'busybox', imageID: '', state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, containerID: `docker://${appId}` } } },
      ],
    });
    host.set({ pod: looping, sandboxId, containerIds: { app: appId }, previousContainerIds: { app: firstId } });
    expect((await get(port, '/containerLogs/default/looping/app?previous=true')).body).toBe('one\ntwo\nthree\n');
    expect((await get(port, '/containerLogs/default/looping/app')).body).toBe('one\ntwo\nthree\n');
  });

  it('follows logs: a line written later arrives', async () => {
    const lines: string[] = [];
    const req = https.get({ host: '127.0.0.1', port, path: '/containerLogs/default/web/app?follow=true&tailLines=0', rejectUnauthorized: false });
    const res = await new Promise<import('node:http').IncomingMessage>((r) => req.once('response', r));
    res.on('data', (d: Buffer) => lines.push(d.toString()));
    await new Promise((r) => setTimeout(r, 50));
    rt.writeLog(appId, 'stdout', 'later\n');
    await new Promise((r) => setTimeout(r, 50));
    expect(lines.join('')).toBe('later\n');
    req.destroy();
  });

  it('answers log errors as upstream: waiting containers, no previous instance, unknown pods and containers', async () => {
    expect(await get(port, '/containerLogs/default/pending/app')).toMatchObject({ status: 400, body: 'container "app" in pod "pending" is waiting to start: ContainerCreating\n' });
    host.set({ pod: pod('fresh', { phase: 'Running' }), sandboxId, containerIds: { app: firstId } });
    expect(await get(port, '/containerLogs/default/fresh/app?previous=true')).toMatchObject({ status: 400, body: 'previous terminated container "app" in pod "fresh" not found\n' });
    expect(await get(port, '/containerLogs/default/nope/app')).toMatchObject({ status: 404, body: 'pod "nope" does not exist\n' });
    expect(await get(port, '/containerLogs/default/web/db')).toMatchObject({ status: 404, body: 'container "db" not found in pod "web"\n' });
    expect(await get(port, '/containerLogs/default/web/app?tailLines=-1')).toMatchObject({ status: 400 });
    expect(await get(port, '/containerLogs/default/web/app?sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z')).toMatchObject({ status: 400, body: 'at most one of `sinceTime` or `sinceSeconds` may be specified\n' });
  });

  it('execs over WebSocket v5 with stdin closed by the CLOSE signal and the exit code in the Status', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}/exec/default/web/app?command=fail&output=1&error=1`, ['v5.channel.k8s.io'], { rejectUnauthorized: false });
    const got = new Map<number, string>();
    ws.on('message', (d: Buffer) => {
      const m = decodeChannelMessage(d, { base64: false, closeSignal: false })!;
      if (m.kind === 'data') got.set(m.channel, (got.get(m.channel) ?? '') + m.data.toString());
    });
    await new Promise((r) => ws.once('close', r));
    expect(got.get(1)).toBe('ran fail\n');
    expect(got.get(2)).toBe('oops\n');
    expect(JSON.parse(got.get(3)!)).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } });
  });

  it('execs over SPDY v4 with stdin', async () => {
    const c = await spdyClient({ host: '127.0.0.1', port, tls: true, path: '/exec/default/web/uid-web/app?command=cat&input=1&output=1', protocols: ['v4.channel.k8s.io'] });
    if (!('session' in c)) throw new Error(`refused: ${c.status} ${c.body}`);
    const error = await c.session.openStream({ streamtype: ['error'] });
    const stdin = await c.session.openStream({ streamtype: ['stdin'] });
    const stdout = await c.session.openStream({ streamtype: ['stdout'] });
    const out = collect(stdout);
    const status = collect(error);
    stdin.end('typed\n');
    expect((await out).toString()).toBe('typed\n');
    expect(JSON.parse((await status).toString())).toEqual({ metadata: {}, status: 'Success' });
  });

  it('refuses exec into a container that is not running yet, before upgrading', async () => {
    const c = await spdyClient({ host: '127.0.0.1', port, tls: true, path: '/exec/default/pending/app?command=ls&output=1', protocols: ['v4.channel.k8s.io'] });
    expect(c).toMatchObject({ status: 400, body: 'container "app" in pod "pending" is waiting to start: ContainerCreating\n' });
    const noCmd = await spdyClient({ host: '127.0.0.1', port, tls: true, path: '/exec/default/web/app?output=1', protocols: ['v4.channel.k8s.io'] });
    expect(noCmd).toMatchObject({ status: 400, body: 'you must specify at least one command for the container\n' });
    const wrongUid = await spdyClient({ host: '127.0.0.1', port, tls: true, path: '/exec/default/web/other-uid/app?command=ls&output=1', protocols: ['v4.channel.k8s.io'] });
    expect(wrongUid).toMatchObject({ status: 404 });
  });

  it('attaches: what the client types reaches the container, its output comes back', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}/attach/default/web/app?input=1&output=1`, ['v5.channel.k8s.io'], { rejectUnauthorized: false });
    let out = '';
    ws.on('message', (d: Buffer) => {
      if (d[0] === 1) out += d.subarray(1).toString();
    });
    await new Promise((r) => ws.once('open', r));
    ws.send(Buffer.from([0, ...Buffer.from('hello container\n')]));
    await new Promise((r) => setTimeout(r, 50));
    rt.writeLog(appId, 'stdout', 'printed while attached\n');
    await new Promise((r) => setTimeout(r, 50));
    ws.close();
    expect(rt.stdinOf(appId)).toBe('hello container\n');
    expect(out).toBe('printed while attached\n');
  });

  it('forwards ports over the SPDY tunnel in a WebSocket, and says why a port fails', async () => {
    const c = await webSocketByteStream({ host: '127.0.0.1', port, tls: true, path: '/portForward/default/web', protocols: ['SPDY/3.1+portforward.k8s.io'] });
    if (!('stream' in c)) throw new Error(`refused: ${c.status} ${c.body}`);
    const session = new SpdySession(c.stream, { role: 'client' });
    const pair = async (p: number, id: string) => {
      const error = await session.openStream({ streamtype: ['error'], port: [String(p)], requestid: [id] });
      const data = await session.openStream({ streamtype: ['data'], port: [String(p)], requestid: [id] });
      const back = collect(data);
      const err = collect(error);
      data.end('x');
      return [(await back).toString(), (await err).toString()];
    };
    expect(await pair(80, '0')).toEqual(['echo:x', '']);
    expect(await pair(81, '1')).toEqual(['', 'error forwarding port 81 to pod web_default, uid uid-web: connect ECONNREFUSED 127.0.0.1:81']);
    session.destroy();
  });

  it('reports node and pod CPU and memory in the Summary shape', async () => {
    host.nodeUsage = async () => ({ timestamp: new Date(), cpuUsageCoreNanoSeconds: Date.now() * 1e6, memoryUsageBytes: 3e9, memoryWorkingSetBytes: 2e9, memoryAvailableBytes: 1e9 });
    const s = JSON.parse((await get(port, '/stats/summary')).body);
    expect(s.node).toMatchObject({ nodeName: 'node-a', memory: { workingSetBytes: 2e9, availableBytes: 1e9 } });
    expect(s.node.cpu.usageNanoCores).toBeGreaterThan(0);
    const web = s.pods.find((p: { podRef: { name: string } }) => p.podRef.name === 'web');
    expect(web).toMatchObject({ podRef: { name: 'web', namespace: 'default', uid: 'uid-web' }, containers: [{ name: 'app', memory: { workingSetBytes: 10 << 20, usageBytes: 20 << 20 }, cpu: { usageCoreNanoSeconds: 5e9, usageNanoCores: 0 } }], memory: { workingSetBytes: 10 << 20 } });
  });

  it('refuses requests without credentials unless anonymous access is on, and asks the authorizer', async () => {
    const ctl2 = new AbortController();
    const seen: string[] = [];
    const strict = new KubeletServer({
      host,
      log: silentLogger(),
      address: '127.0.0.1',
      port: 0,
      certDir: path.join(dir, 'pki'),
      authenticators: [{ authenticate: async (req) => (req.headers.authorization === 'Bearer good' ? { name: 'alice', groups: [] } : null) }],
      authorizer: {
        authorize: async (a) => {
          seen.push(`${a.user.name} ${a.verb} ${a.resource}/${a.subresource} ${a.name}`);
          return { allowed: a.subresource !== 'stats' };
        },
      },
    });
    const run = strict.start(ctl2.signal);
    const p = (await strict.listening()).port;
    expect(await get(p, '/healthz')).toMatchObject({ status: 200 });
    expect(await get(p, '/pods')).toMatchObject({ status: 401, body: 'Unauthorized\n' });
    expect(await get(p, '/pods', { authorization: 'Bearer good' })).toMatchObject({ status: 200 });
    expect(await get(p, '/stats/summary', { authorization: 'Bearer good' })).toMatchObject({ status: 403, body: 'Forbidden (user=alice, verb=get, resource=nodes, subresource=stats)\n' });
    expect(seen).toEqual(['alice get nodes/proxy node-a', 'alice get nodes/stats node-a']);
    ctl2.abort();
    await run;
  });

  it('answers 500 "Authorization error" when the authorizer fails, and 401 for credentials that fail', async () => {
    const ctl3 = new AbortController();
    const s = new KubeletServer({
      host,
      log: silentLogger(),
      address: '127.0.0.1',
      port: 0,
      certDir: path.join(dir, 'pki'),
      authenticators: [{ authenticate: async (req) => { if (req.headers.authorization === 'Bearer bad') throw new Error('invalid bearer token'); return req.headers.authorization ? { name: 'alice', groups: [] } : null; } }],
      anonymousAuth: true,
      authorizer: { authorize: async () => { throw new Error('the SubjectAccessReview could not be made'); } },
    });
    const run = s.start(ctl3.signal);
    const p = (await s.listening()).port;
    expect(await get(p, '/pods', { authorization: 'Bearer ok' })).toMatchObject({ status: 500, body: 'Authorization error (user=alice, verb=get, resource=nodes, subresource=proxy)\n' });
    // Bad credentials are refused even though anonymous requests are allowed.
    expect(await get(p, '/pods', { authorization: 'Bearer bad' })).toMatchObject({ status: 401, body: 'Unauthorized\n' });
    ctl3.abort();
    await run;
  });

  it('read-only mode (--read-only-port): plain HTTP, no authentication, only the read-only endpoints', async () => {
    const ctl4 = new AbortController();
    const s = new KubeletServer({ host, log: silentLogger(), address: '127.0.0.1', port: 0, readOnly: true, authorizer: { authorize: async () => ({ allowed: false }) }, statsSecondSampleDelayMs: 20 });
    const run = s.start(ctl4.signal);
    const p = (await s.listening()).port;
    const plain = async (path: string, method = 'GET') => {
      const r = await fetch(`http://127.0.0.1:${p}${path}`, { method });
      return { status: r.status, body: await r.text() };
    };
    expect(JSON.parse((await plain('/pods')).body).items.map((x: Pod) => x.metadata.name)).toContain('web');
    expect((await plain('/stats/summary')).status).toBe(200);
    expect((await plain('/metrics')).status).toBe(200);
    expect(await plain('/containerLogs/default/web/app')).toMatchObject({ status: 404 });
    expect(await plain('/exec/default/web/app?command=true', 'POST')).toMatchObject({ status: 404 });
    expect(await plain('/pods', 'POST')).toMatchObject({ status: 404 });
    ctl4.abort();
    await run;
  });
});

describe('log query', () => {
  it('turns sinceSeconds into a time and keeps the rest', () => {
    expect(parseLogQuery(new URLSearchParams('follow=true&tailLines=10&limitBytes=100&sinceSeconds=60&timestamps=true&previous=true'), 1_000_000)).toEqual({
      follow: true,
      previous: true,
      timestamps: true,
      tail: 10,
      limitBytes: 100,
      since: new Date(940_000),
    });
  });
});

describe('why a container has no instance', () => {
  it.each([
    [undefined, 'container "app" in pod "p" is not available'],
    [{ waiting: { reason: 'ErrImagePull' } }, 'container "app" in pod "p" is waiting to start: image can\'t be pulled'],
    [{ waiting: { reason: 'ImagePullBackOff' } }, 'container "app" in pod "p" is waiting to start: trying and failing to pull image'],
    [{ waiting: { reason: 'PodInitializing' } }, 'container "app" in pod "p" is waiting to start: PodInitializing'],
    [{ terminated: { exitCode: 1 } }, 'container "app" in pod "p" is terminated'],
    [{}, 'container "app" in pod "p" is waiting to start - no logs yet'],
  ])('%j', (state, message) => {
    const p = pod('p', state === undefined ? {} : { containerStatuses: [{ name: 'app', ready: false, restartCount: 0, image: '', imageID: '', state: state as never }] });
    expect(notStartedMessage(p, 'app')).toBe(message);
  });
});
