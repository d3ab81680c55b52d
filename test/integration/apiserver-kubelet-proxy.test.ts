/**
 * The API server's side of the kubelet API, against tkube's kubelet server backed by the
 * FakeRuntime (no Docker): how pods/log, exec, attach, portforward and nodes/proxy answer
 * before and after they reach a kubelet, metrics.k8s.io in discovery and its objects, and
 * upgrades on the secure (TLS) port.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { silentLogger } from '../../lib/base/index.js';
import { FakeRuntime, InMemoryKubeletHost, KubeletServer } from '../../lib/kubelet/index.js';
import { decodeChannelMessage, spdyClient } from '../../lib/streaming/index.js';
import type { Pod } from '../../lib/api/index.js';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { freePort } from '../support/ports.js';

let s: TestAPIServer;
let kubelet: KubeletServer;
const ctl = new AbortController();
let running: Promise<void>;
const rt = new FakeRuntime();
const host = new InMemoryKubeletHost('fake-node', rt);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-kubelet-proxy-'));
let securePort: number;

const merge = { 'content-type': 'application/merge-patch+json' };

async function runPod(name: string, containers: string[], labels: Record<string, string> = {}) {
  const created = await api(s.url, 'POST', '/api/v1/namespaces/default/pods', { metadata: { name, labels }, spec: { nodeName: 'fake-node', containers: containers.map((c) => ({ name: c, image: 'busybox' })) } });
  expect(created.status).toBe(201);
  const pod = created.body as Pod;
  const sb = await rt.createSandbox({ metadata: { uid: pod.metadata.uid!, namespace: 'default', name, attempt: 0 } });
  await rt.startSandbox(sb);
  const ids: Record<string, string> = {};
  for (const c of containers) {
    ids[c] = await rt.createContainer(sb, { metadata: { name: c, attempt: 0 }, image: 'busybox' });
    await rt.startContainer(ids[c]!);
  }
  const st = await api(s.url, 'PATCH', `/api/v1/namespaces/default/pods/${name}/status`, { status: { phase: 'Running' } }, merge);
  host.set({ pod: st.body as Pod, sandboxId: sb, containerIds: ids });
  return ids;
}

beforeAll(async () => {
  securePort = await freePort();
  s = await startAPIServer({ securePort, certDir: path.join(dir, 'apiserver-pki'), anonymousAuth: true });
  rt.addImage('busybox');
  rt.portForwardHandler = async (_sandbox, port, stream) => {
    stream.write(`port ${port} says hello\n`);
    await new Promise((r) => stream.once('end', r));
    stream.end();
  };
  rt.execHandler = ({ cmd, stdout }) => {
    stdout(`ran: ${cmd.join(' ')}\n`);
    return 0;
  };
  kubelet = new KubeletServer({ host, log: silentLogger(), address: '127.0.0.1', port: 0, certDir: path.join(dir, 'kubelet-pki'), anonymousAuth: true, statsSecondSampleDelayMs: 20 });
  running = kubelet.start(ctl.signal);
  const { port } = await kubelet.listening();
  // A node is created, then its kubelet reports where it listens (status).
  const node = async (name: string, labels: Record<string, string>, kubeletPort?: number) => {
    expect((await api(s.url, 'POST', '/api/v1/nodes', { metadata: { name, labels } })).status).toBe(201);
    if (kubeletPort === undefined) return;
    const st = await api(s.url, 'PATCH', `/api/v1/nodes/${name}/status`, { status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } } } }, merge);
    expect(st.status).toBe(200);
  };
  await node('fake-node', { zone: 'a' }, port);
  await node('dead-node', {}, await freePort());
  await node('no-address', {});
  const ids = await runPod('single', ['app'], { tier: 'front' });
  rt.writeLog(ids.app!, 'stdout', 'hello from single\n');
  rt.setStats(ids.app!, { cpuUsageCoreNanoSeconds: 1e9, memoryUsageBytes: 64 << 20, memoryWorkingSetBytes: 32 << 20 });
  const two = await runPod('double', ['a', 'b'], { tier: 'back' });
  rt.setStats(two.a!, { memoryWorkingSetBytes: 1 << 20 });
  await api(s.url, 'POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'unscheduled' }, spec: { containers: [{ name: 'app', image: 'x' }] } });
  await api(s.url, 'POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'orphan' }, spec: { nodeName: 'dead-node', containers: [{ name: 'app', image: 'x' }] } });
}, 60_000);

afterAll(async () => {
  ctl.abort();
  await running;
  await s?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('pods/log', () => {
  it('streams the log of the only container, or of the one named', async () => {
    const r = await api(s.url, 'GET', '/api/v1/namespaces/default/pods/single/log');
    expect(r).toMatchObject({ status: 200, body: 'hello from single\n' });
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/pods/double/log?container=b')).status).toBe(200);
  });

  it('answers in Status what it can tell before asking the kubelet', async () => {
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/pods/nope/log')).body).toMatchObject({ kind: 'Status', code: 404, reason: 'NotFound', message: 'pods "nope" not found' });
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/pods/double/log')).body).toMatchObject({ code: 400, message: 'a container name must be specified for pod double, choose one of: [a b]' });
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/pods/single/log?container=zz')).body).toMatchObject({ code: 400, message: 'container zz is not valid for pod single' });
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/pods/single/log?tailLines=-2')).body).toMatchObject({ code: 422, reason: 'Invalid', message: 'PodLogOptions "single" is invalid: tailLines: Invalid value: -2: must be greater than or equal to 0' });
    // Not scheduled: no logs yet, as upstream.
    expect(await api(s.url, 'GET', '/api/v1/namespaces/default/pods/unscheduled/log')).toMatchObject({ status: 200, body: '' });
  });

  it('relays the kubelet refusal as a Status, and a node that does not answer as 503', async () => {
    const prev = await api(s.url, 'GET', '/api/v1/namespaces/default/pods/single/log?previous=true');
    expect(prev.body).toMatchObject({ kind: 'Status', code: 400, reason: 'BadRequest', message: 'previous terminated container "app" in pod "single" not found' });
    const dead = await api(s.url, 'GET', '/api/v1/namespaces/default/pods/orphan/log');
    expect(dead.body).toMatchObject({ kind: 'Status', code: 503, reason: 'ServiceUnavailable' });
    expect(dead.body.message).toMatch(/^error dialing backend: the kubelet of node "dead-node" at https:\/\/127\.0\.0\.1:\d+ did not answer: connect ECONNREFUSED/);
  });
});

describe('exec, attach, portforward', () => {
  it('need an upgrade, a command and a stream', async () => {
    expect((await api(s.url, 'POST', '/api/v1/namespaces/default/pods/single/exec?command=ls&stdout=true')).body).toMatchObject({ code: 400, message: 'Upgrade request required' });
    const noCmd = await spdyClient({ host: '127.0.0.1', port: Number(new URL(s.url).port), path: '/api/v1/namespaces/default/pods/single/exec?stdout=true', protocols: ['v4.channel.k8s.io'] });
    expect(noCmd).toMatchObject({ status: 400 });
    expect(JSON.parse((noCmd as { body: string }).body)).toMatchObject({ kind: 'Status', message: 'you must specify at least one command for the container' });
    const noStream = await spdyClient({ host: '127.0.0.1', port: Number(new URL(s.url).port), path: '/api/v1/namespaces/default/pods/single/exec?command=ls', protocols: ['v4.channel.k8s.io'] });
    expect(JSON.parse((noStream as { body: string }).body)).toMatchObject({ message: 'you must specify at least 1 of stdin, stdout, stderr' });
    const unscheduled = await spdyClient({ host: '127.0.0.1', port: Number(new URL(s.url).port), path: '/api/v1/namespaces/default/pods/unscheduled/exec?command=ls&stdout=true', protocols: ['v4.channel.k8s.io'] });
    expect(JSON.parse((unscheduled as { body: string }).body)).toMatchObject({ code: 400, message: 'pod unscheduled does not have a host assigned' });
  });

  it('run over WebSocket on the secure port too', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${securePort}/api/v1/namespaces/default/pods/single/exec?command=echo&command=hi&stdout=true`, ['v5.channel.k8s.io'], { rejectUnauthorized: false });
    let out = '';
    ws.on('message', (d: Buffer) => {
      const m = decodeChannelMessage(d, { base64: false, closeSignal: false })!;
      if (m.kind === 'data' && m.channel === 1) out += m.data.toString();
    });
    await new Promise((r, j) => {
      ws.once('close', r);
      ws.once('error', j);
    });
    expect(out).toBe('ran: echo hi\n');
  });
});

describe('portforward with WebSocket channels (v4.channel.k8s.io, ?ports=)', () => {
  it('gets the port on both channels, then the pod\'s bytes on the data channel', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${new URL(s.url).port}/api/v1/namespaces/default/pods/single/portforward?ports=8080`, ['v4.channel.k8s.io']);
    const got: Buffer[] = [];
    ws.on('message', (d: Buffer) => got.push(d));
    await new Promise((r) => ws.once('open', r));
    await new Promise((r) => setTimeout(r, 200));
    ws.close();
    await new Promise((r) => ws.once('close', r));
    const port = Buffer.from([8080 & 0xff, 8080 >> 8]);
    expect(got[0]).toEqual(Buffer.concat([Buffer.from([0]), port]));
    expect(got[1]).toEqual(Buffer.concat([Buffer.from([1]), port]));
    expect(Buffer.concat(got.slice(2).filter((m) => m[0] === 0).map((m) => m.subarray(1))).toString()).toBe('port 8080 says hello\n');
  });
});

describe('nodes/proxy', () => {
  it('reaches the kubelet API of the node', async () => {
    const r = await api(s.url, 'GET', '/api/v1/nodes/fake-node/proxy/healthz');
    expect(r).toMatchObject({ status: 200, body: 'ok' });
    const pods = await api(s.url, 'GET', '/api/v1/nodes/fake-node/proxy/pods');
    expect(pods.body.items.map((p: Pod) => p.metadata.name).sort()).toEqual(['double', 'single']);
  });

  it('says why a node cannot be reached', async () => {
    const r = await api(s.url, 'GET', '/api/v1/nodes/no-address/proxy/healthz');
    expect(r.body).toMatchObject({ code: 503, message: 'no preferred addresses found for node "no-address"; known addresses: []' });
    expect((await api(s.url, 'GET', '/api/v1/nodes/missing/proxy/healthz')).body).toMatchObject({ code: 404, message: 'nodes "missing" not found' });
  });
});

describe('metrics.k8s.io', () => {
  it('is in legacy and aggregated discovery', async () => {
    const groups = await api(s.url, 'GET', '/apis');
    expect(groups.body.groups.find((g: { name: string }) => g.name === 'metrics.k8s.io')).toMatchObject({ preferredVersion: { groupVersion: 'metrics.k8s.io/v1beta1' } });
    const list = await api(s.url, 'GET', '/apis/metrics.k8s.io/v1beta1');
    expect(list.body).toMatchObject({
      kind: 'APIResourceList',
      groupVersion: 'metrics.k8s.io/v1beta1',
      resources: [
        { name: 'nodes', kind: 'NodeMetrics', namespaced: false, verbs: ['get', 'list'] },
        { name: 'pods', kind: 'PodMetrics', namespaced: true, verbs: ['get', 'list'] },
      ],
    });
    const agg = await api(s.url, 'GET', '/apis', undefined, { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' });
    const m = agg.body.items.find((g: { metadata: { name: string } }) => g.metadata.name === 'metrics.k8s.io');
    expect(m.versions[0].resources.map((r: { resource: string; responseKind: { kind: string } }) => [r.resource, r.responseKind.kind])).toEqual([
      ['nodes', 'NodeMetrics'],
      ['pods', 'PodMetrics'],
    ]);
  });

  it('serves NodeMetrics and PodMetrics from the kubelet summary', async () => {
    const nodes = await api(s.url, 'GET', '/apis/metrics.k8s.io/v1beta1/nodes');
    expect(nodes.body).toMatchObject({ kind: 'NodeMetricsList', apiVersion: 'metrics.k8s.io/v1beta1' });
    // Only the node whose kubelet answers has metrics.
    expect(nodes.body.items).toHaveLength(1);
    expect(nodes.body.items[0]).toMatchObject({ kind: 'NodeMetrics', metadata: { name: 'fake-node', labels: { zone: 'a' } }, window: '10s', usage: { cpu: expect.stringMatching(/^\d+n$/), memory: expect.stringMatching(/^\d+Ki$/) } });
    const one = await api(s.url, 'GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/single');
    expect(one.body).toMatchObject({ kind: 'PodMetrics', metadata: { name: 'single', namespace: 'default', labels: { tier: 'front' } }, containers: [{ name: 'app', usage: { cpu: '0n', memory: '32768Ki' } }] });
    // Times as metrics-server writes them (metav1.Time: RFC 3339 to the second).
    const second = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
    for (const m of [nodes.body.items[0], one.body]) {
      expect(m.timestamp).toMatch(second);
      expect(m.metadata.creationTimestamp).toMatch(second);
    }
    const back = await api(s.url, 'GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=tier%3Dback');
    expect(back.body.items.map((p: Pod) => p.metadata.name)).toEqual(['double']);
    expect(back.body.items[0].containers.map((c: { name: string }) => c.name)).toEqual(['a', 'b']);
    const all = await api(s.url, 'GET', '/apis/metrics.k8s.io/v1beta1/pods');
    expect(all.body.items.map((p: Pod) => p.metadata.name).sort()).toEqual(['double', 'single']);
    expect((await api(s.url, 'GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/unscheduled')).body).toMatchObject({ code: 404, message: 'podmetrics.metrics.k8s.io "unscheduled" not found' });
    expect((await api(s.url, 'GET', '/apis/metrics.k8s.io/v1beta1/nodes/dead-node')).body).toMatchObject({ code: 404, message: 'nodemetrics.metrics.k8s.io "dead-node" not found' });
    expect((await api(s.url, 'GET', '/apis/metrics.k8s.io/v1beta1/nodes?watch=true')).body).toMatchObject({ code: 405 });
  });
});
