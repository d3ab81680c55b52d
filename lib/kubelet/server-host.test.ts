import { describe, expect, it } from 'vitest';
import type { Pod } from '../api/index.js';
import type { PodStatus } from './api-types.js';
import { RuntimeReader } from './pod/runtime-state.js';
import { FakeRuntime } from './runtime/index.js';
import { KubeletHost } from './server-host.js';

const image = 'tkube/busybox:1.36';
const labels = { 'io.tkube.node': 'node-a' };

function pod(name: string, uid: string): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid }, spec: { nodeName: 'node-a', containers: [{ name: 'app', image }] }, status: { phase: 'Pending' } };
}

async function setUp() {
  const rt = new FakeRuntime();
  rt.addImage(image);
  const pods = [pod('web', 'uid-web'), pod('idle', 'uid-idle')];
  const statuses = new Map<string, PodStatus>([['uid-web', { phase: 'Running', podIP: '10.244.1.2' }]]);
  const host = new KubeletHost({ nodeName: 'node-a', runtime: rt, reader: new RuntimeReader(rt, labels), pods: () => pods, status: (uid) => statuses.get(uid) });
  // web: a dead first sandbox, a live second one; app restarted once (attempt 0 exited, 1 running).
  const meta = (attempt: number) => ({ uid: 'uid-web', namespace: 'default', name: 'web', attempt });
  const old = await rt.createSandbox({ metadata: meta(0), labels });
  await rt.startSandbox(old);
  await rt.stopSandbox(old);
  const sb = await rt.createSandbox({ metadata: meta(1), labels });
  await rt.startSandbox(sb);
  const first = await rt.createContainer(sb, { metadata: { name: 'app', attempt: 0 }, image, labels });
  await rt.startContainer(first);
  rt.exitContainer(first, 1);
  const second = await rt.createContainer(sb, { metadata: { name: 'app', attempt: 1 }, image, labels });
  await rt.startContainer(second);
  // A sandbox of another node with the same pod uid is not this kubelet's.
  await rt.createSandbox({ metadata: { ...meta(5) }, labels: { 'io.tkube.node': 'node-b' } });
  return { rt, host, sb, first, second };
}

describe('KubeletHost: the kubelet API over the kubelet state', () => {
  it('finds a pod with its ready sandbox, current and previous container, and the status the kubelet computed', async () => {
    const { host, sb, first, second } = await setUp();
    const ref = await host.findPod('default', 'web');
    expect(ref).toMatchObject({ sandboxId: sb, containerIds: { app: second }, previousContainerIds: { app: first } });
    expect(ref?.pod.status).toEqual({ phase: 'Running', podIP: '10.244.1.2' });
    expect(await host.findPod('default', 'web', 'uid-web')).toBeDefined();
    expect(await host.findPod('default', 'web', 'another-uid')).toBeUndefined();
    expect(await host.findPod('other', 'web')).toBeUndefined();
  });

  it('a pod that has nothing in the runtime yet: no sandbox, no containers, its stored status', async () => {
    const { host } = await setUp();
    const ref = await host.findPod('default', 'idle');
    expect(ref).toEqual({ pod: pod('idle', 'uid-idle'), containerIds: {}, previousContainerIds: {} });
  });

  it('lists the pods it runs with their current status', async () => {
    const { host, rt } = await setUp();
    expect((await host.listPods()).map((p) => [p.metadata.name, p.status?.phase])).toEqual([
      ['web', 'Running'],
      ['idle', 'Pending'],
    ]);
    expect(host.runtime).toBe(rt);
    expect(host.nodeName).toBe('node-a');
  });
});
