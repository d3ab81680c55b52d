import { afterEach, describe, expect, it } from 'vitest';
import type { Pod } from '../api/index.js';
import { silentLogger, realClock } from '../base/index.js';
import { FakeClient, Resources } from '../client/index.js';
import type { PodStatus } from './api-types.js';
import { StatusManager, statusEqual, statusPatch } from './status-manager.js';

const running = (ready: boolean): PodStatus => ({
  phase: 'Running',
  podIP: '10.244.1.5',
  conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: '2026-01-01T00:00:00Z' }],
  containerStatuses: [{ name: 'app', ready, restartCount: 0, image: 'img', imageID: '', state: { running: {} } }],
});

describe('status diffing', () => {
  it('ignores lastProbeTime, condition order and fields the kubelet does not own', () => {
    const a: PodStatus = { ...running(true), nominatedNodeName: 'x', conditions: [{ type: 'A', status: 'True' }, { type: 'B', status: 'True', lastProbeTime: '2026-01-01T00:00:00Z' }] };
    const b: PodStatus = { ...running(true), conditions: [{ type: 'B', status: 'True' }, { type: 'A', status: 'True' }] };
    expect(statusEqual(a, b)).toBe(true);
    expect(statusEqual(running(true), running(false))).toBe(false);
  });

  it('builds a merge patch that nulls the owned fields no longer set and guards the uid', () => {
    const current: PodStatus = { ...running(true), reason: 'Evicted', message: 'old', nominatedNodeName: 'n1' };
    const p = statusPatch('uid-1', current, running(true));
    expect(p.metadata).toEqual({ uid: 'uid-1' });
    expect(p.status.reason).toBeNull();
    expect(p.status.message).toBeNull();
    expect('nominatedNodeName' in p.status).toBe(false);
    expect(p.status.phase).toBe('Running');
  });

  it('owns ephemeralContainerStatuses: a change is written, and they are patched in', () => {
    const debug = { name: 'debugger', ready: false, restartCount: 0, image: 'img', imageID: '', state: { running: {} } };
    const next: PodStatus = { ...running(true), ephemeralContainerStatuses: [debug] };
    expect(statusEqual(running(true), next)).toBe(false);
    expect(statusPatch('uid-1', running(true), next).status.ephemeralContainerStatuses).toEqual([debug]);
  });
});

describe('StatusManager', () => {
  let stop = new AbortController();
  afterEach(() => {
    stop.abort();
    stop = new AbortController();
  });

  async function setup() {
    const client = new FakeClient();
    const pods = client.resource(Resources.pods, 'ns');
    const pod = await pods.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' }, spec: { nodeName: 'n', containers: [{ name: 'app' }] } });
    const mgr = new StatusManager({
      client,
      log: silentLogger(),
      clock: realClock,
      apiPodFor: () => client.storeOf(Resources.pods).get('ns/p') as Pod | undefined,
    });
    void mgr.start(stop.signal);
    return { client, pods, pod, mgr };
  }

  it('writes a status once, and not again while nothing changed', async () => {
    const { client, pods, pod, mgr } = await setup();
    client.clearActions();
    mgr.setPodStatus(pod.metadata.uid!, { namespace: 'ns', name: 'p' }, running(false));
    await mgr.flush();
    mgr.setPodStatus(pod.metadata.uid!, { namespace: 'ns', name: 'p' }, running(false));
    mgr.setPodStatus(pod.metadata.uid!, { namespace: 'ns', name: 'p' }, { ...running(false), conditions: [{ type: 'Ready', status: 'False', lastProbeTime: '2026-02-02T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' }] });
    await mgr.flush();
    const writes = client.actions.filter((a) => a.verb === 'patch' && a.subresource === 'status');
    expect(writes).toHaveLength(1);
    expect(writes[0]!.patchType).toBe('merge');
    expect((await pods.get('p')).status?.containerStatuses?.[0]?.ready).toBe(false);
    expect(mgr.stats.writes).toBe(1);
  });

  it('coalesces changes made while a write is in flight into one more write', async () => {
    const { client, pod, mgr } = await setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let first = true;
    client.prependReactor(async (a) => {
      if (a.verb === 'patch' && first) {
        first = false;
        await gate;
      }
    });
    client.clearActions();
    const uid = pod.metadata.uid!;
    mgr.setPodStatus(uid, { namespace: 'ns', name: 'p' }, running(false));
    await new Promise((r) => setTimeout(r, 20));
    mgr.setPodStatus(uid, { namespace: 'ns', name: 'p' }, { ...running(false), podIP: '10.244.1.6' });
    mgr.setPodStatus(uid, { namespace: 'ns', name: 'p' }, running(true));
    release();
    await new Promise((r) => setTimeout(r, 50));
    await mgr.flush();
    expect(client.actions.filter((a) => a.verb === 'patch')).toHaveLength(2);
    expect((client.storeOf(Resources.pods).get('ns/p') as Pod).status?.containerStatuses?.[0]?.ready).toBe(true);
  });

  it('does not write what the API server already holds', async () => {
    const { client, pods, pod, mgr } = await setup();
    await pods.patch('p', 'merge', { status: running(true) }, { subresource: 'status' });
    client.clearActions();
    mgr.setPodStatus(pod.metadata.uid!, { namespace: 'ns', name: 'p' }, running(true));
    await mgr.flush();
    expect(client.actions.filter((a) => a.verb === 'patch')).toHaveLength(0);
  });

  it('confirms a deletion with grace 0 and the uid as precondition; a replaced pod is left alone', async () => {
    const { client, pods, pod, mgr } = await setup();
    await pods.delete('p');
    await pods.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' }, spec: { containers: [{ name: 'app' }] } });
    client.clearActions();
    await mgr.confirmDeletion(pod);
    expect(client.actions.find((a) => a.verb === 'delete')).toBeTruthy();
    expect(await pods.get('p')).toBeTruthy();
    const fresh = await pods.get('p');
    await mgr.confirmDeletion(fresh);
    await expect(pods.get('p')).rejects.toThrow(/not found/);
  });
});
