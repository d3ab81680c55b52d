/**
 * A kubelet killed with SIGKILL while 20 pods run, then started again: it adopts what runs
 * (the same container IDs, no restart counted, no status write that changes anything) instead
 * of re-creating it; and a pod deleted while it was away is cleaned up when it comes back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../lib/api/index.js';
import { busyboxImage, KubeletTestCluster } from '../support/kubelet-cluster.js';
import { waitFor } from '../support/node-host.js';

const c = new KubeletTestCluster('10.244.4.0/24');
const count = 20;

beforeAll(async () => {
  await c.setUp();
});

afterAll(async () => {
  await c.cleanup();
});

const ids = (p: Pod) => (p.status?.containerStatuses ?? []).map((s) => s.containerID).sort();

describe('tkube-kubelet restarted', { timeout: 300_000 }, () => {
  it(`adopts ${count} running pods after a SIGKILL: same containers, zero restarts`, async () => {
    const names = Array.from({ length: count }, (_, i) => `keep-${i}`);
    // The probes' generous timeout: 20 exec probes every 2 s, while the restarted kubelet syncs
    // every pod, can take over the default 1 s on a slow machine, and three such failures in a
    // row are a real (not an adoption) reason to turn a container unready.
    await Promise.all(
      names.map((n) =>
        c.createPod(n, {
          containers: [
            { name: 'a', image: busyboxImage, command: ['sleep', '3600'], readinessProbe: { exec: { command: ['true'] }, periodSeconds: 2, timeoutSeconds: 10 } },
            { name: 'b', image: busyboxImage, command: ['sleep', '3600'] },
          ],
        }),
      ),
    );
    for (const n of names) await c.waitForPod(n, 'Running and Ready', (p) => p.status?.phase === 'Running' && p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') === true, 90_000);
    // The snapshot to compare with is taken once the kubelet has written its last status of
    // these pods (a readiness result or a container's start can still be on its way when the
    // last pod turns Ready): two lists a few seconds apart with the same versions.
    const snapshot = async () => new Map((await c.pods.list()).items.filter((p) => names.includes(p.metadata.name!)).map((p) => [p.metadata.name!, p]));
    const versions = (m: Map<string, { metadata: { resourceVersion?: string } }>) => [...m.values()].map((p) => p.metadata.resourceVersion).join(',');
    let before = await snapshot();
    await waitFor('the pods\' statuses to settle', async () => {
      await new Promise((r) => setTimeout(r, 3000));
      const again = await snapshot();
      const settled = versions(again) === versions(before);
      before = again;
      return settled;
    }, 60_000, 0);
    const dockerBefore = (await c.node.containers()).map((x) => x.Id).sort();

    await c.node.stopKubelet('SIGKILL');
    // While it is away, one pod is deleted for good (force: nobody confirms).
    await c.pods.delete('keep-0', { gracePeriodSeconds: 0 });
    const gone = before.get('keep-0')!;

    c.node.startKubelet({ args: ['--cluster-dns=10.96.0.10'] });
    await c.node.waitForLog('caches synced', 30_000);
    // Give it time to sync everything (and to do anything wrong it would do).
    await waitFor('the deleted pod to be cleaned up', async () => (await c.node.containers()).every((x) => x.Labels['io.kubernetes.pod.uid'] !== gone.metadata.uid), 30_000, 250);
    await new Promise((r) => setTimeout(r, 5000));

    const after = new Map((await c.pods.list()).items.map((p) => [p.metadata.name!, p]));
    for (const n of names.slice(1)) {
      const a = after.get(n)!;
      const b = before.get(n)!;
      expect(ids(a), n).toEqual(ids(b));
      expect(a.status?.containerStatuses?.map((s) => s.restartCount)).toEqual([0, 0]);
      expect(a.status?.phase).toBe('Running');
      expect(a.status?.podIP).toBe(b.status?.podIP);
      expect(a.status?.conditions?.find((x) => x.type === 'Ready')).toEqual(b.status?.conditions?.find((x) => x.type === 'Ready'));
      // Not even a status write: the adopted pod's status came out the same.
      expect(a.metadata.resourceVersion, `${n}: ${JSON.stringify(b.status)}\n  ---> ${JSON.stringify(a.status)}`).toBe(b.metadata.resourceVersion);
    }
    // Docker holds exactly what it held, less the deleted pod's sandbox and containers.
    const dockerAfter = (await c.node.containers()).map((x) => x.Id).sort();
    expect(dockerAfter.every((id) => dockerBefore.includes(id))).toBe(true);
    expect(dockerBefore.length - dockerAfter.length).toBe(3);
    // The deleted pod's address went back to the pool; the others kept theirs.
    const held = await c.node.netns.runner.run(['ls', `${c.node.rootDir}/networks/cbr0`]);
    expect(held.stdout.split('\n')).not.toContain(gone.status!.podIP);
  });
});
