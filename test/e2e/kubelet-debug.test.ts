/**
 * `kubectl debug` for real: the real kubectl adds an ephemeral container to a pod that the real
 * tkube-kubelet runs in Docker, through the API server (secured as a cluster runs it):
 *
 *   kubectl debug ─PATCH pods/ephemeralcontainers─► API server ◄─watch── tkube-kubelet (netns)
 *   kubectl ─attach / logs──► API server ──kubelet client cert──► tkube-kubelet :10250 ──► Docker
 *
 * The debug container runs in the pod's sandbox (its network, IPC and UTS namespaces) and in its
 * target's PID namespace (`--target`), so it sees the target's processes and answers on the
 * pod's localhost; it is reported in status.ephemeralContainerStatuses until it terminates,
 * with events of its own, and `kubectl logs -c` reads it.
 */
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event, Pod } from '../../lib/api/index.js';
import { Resources, type RESTClient } from '../../lib/client/index.js';
import { busyboxImage } from '../../hack/images/images.js';
import { newestKubectl, runKubectl } from '../support/kubectl.js';
import { randomHostLink, type TestKubeletNode } from '../support/kubelet-node.js';
import { randomSuffix, waitFor } from '../support/node-host.js';
import type { SecureTestServer } from '../support/secure.js';
import { startSecuredKubeletNode } from '../support/secure-node.js';

const k = newestKubectl()!;
const nodeName = `node-${randomSuffix()}`;
const link = randomHostLink();
const ns = `debug-${randomSuffix()}`;
let api: SecureTestServer;
let node: TestKubeletNode;
let admin: RESTClient;
const docker = new Docker();

const kubectl = (args: string[], opts: { input?: string; timeoutMs?: number } = {}) => runKubectl(k, api.kubeconfigs.admin!, ['-n', ns, ...args], opts);
const pods = () => admin.resource(Resources.pods, ns);

beforeAll(async () => {
  ({ api, admin, node } = await startSecuredKubeletNode({ nodeName, link, podCIDR: '10.244.9.0/24', namespace: ns }));
  await pods().create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web' },
    spec: {
      nodeName,
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 1,
      containers: [
        // httpd is PID 1 of its own PID namespace: what a debug container targeting it sees.
        { name: 'app', image: busyboxImage, command: ['sh', '-c', 'mkdir -p /www && echo served-by-app > /www/index.html && exec httpd -f -p 8080 -h /www'] },
        { name: 'other', image: busyboxImage, command: ['sleep', '3600'] },
      ],
    },
  } as Pod);
  await waitFor('the pod to run', async () => (await pods().get('web')).status?.phase === 'Running', 90_000, 250).catch(async (err) => {
    const p = await pods().get('web').catch(() => undefined);
    throw new Error(`${(err as Error).message}\nstatus: ${JSON.stringify(p?.status)}\nkubelet: ${node.logLines('"level":50').slice(-10).join('\n')}`);
  });
}, 240_000);

afterAll(async () => {
  await node?.cleanup();
  await api?.stop();
});

const ephemeralStatus = (p: Pod, name: string) => p.status?.ephemeralContainerStatuses?.find((s) => s.name === name);

describe(`kubectl ${k.version} debug against tkube-kubelet`, { timeout: 150_000 }, () => {
  it('runs a debug container in the pod: the target\'s processes, the pod\'s network; terminated 0; kubectl logs -c reads it', async () => {
    const before = await pods().get('web');
    const appStarted = before.status?.containerStatuses?.find((c) => c.name === 'app')?.state?.running?.startedAt;
    // The shell waits for a line on stdin, which only the attached kubectl can give it: no
    // output is written before kubectl is there to read it.
    const script = 'read go; echo "go=$go"; echo "host=$(hostname)"; ps -o pid,args; wget -q -O - http://127.0.0.1:8080/index.html; echo done';
    const r = await kubectl(['debug', 'web', '-i', `--image=${busyboxImage}`, '--target=app', '-c', 'dbg', '--', 'sh', '-c', script], { input: 'yes\n', timeoutMs: 120_000 });
    expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('go=yes');
    expect(r.stdout).toContain('host=web');
    // The target's PID namespace: its httpd is PID 1; the other container's sleep is not there.
    expect(r.stdout).toMatch(/^\s*1\s+httpd -f -p 8080 -h \/www\s*$/m);
    expect(r.stdout).not.toContain('sleep 3600');
    // The pod's network namespace: the app answers on localhost.
    expect(r.stdout).toContain('served-by-app');
    expect(r.stdout).toContain('done');

    const p = await waitFor('the debug container to be reported terminated', async () => ephemeralStatus(await pods().get('web'), 'dbg')?.state?.terminated !== undefined, 30_000, 250).then(() => pods().get('web'));
    const st = ephemeralStatus(p, 'dbg')!;
    expect(st).toMatchObject({ name: 'dbg', image: busyboxImage, ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } });
    expect(st.containerID).toMatch(/^docker:\/\/[0-9a-f]{64}$/);
    expect(st.imageID).toMatch(/^docker:\/\/sha256:[0-9a-f]{64}$/);
    // The pod went on as it was: same phase, readiness, app container instance.
    expect(p.status?.phase).toBe('Running');
    expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(p.status?.containerStatuses?.find((c) => c.name === 'app')).toMatchObject({ restartCount: 0, state: { running: { startedAt: appStarted } } });
    expect(p.spec?.ephemeralContainers?.[0]).toMatchObject({ name: 'dbg', targetContainerName: 'app', stdin: true });

    const logs = await kubectl(['logs', 'web', '-c', 'dbg']);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain('go=yes');
    expect(logs.stdout).toContain('served-by-app');

    // Events about the ephemeral container, pointing at it.
    const events: Event[] = (await admin.resource(Resources.events, ns).list()).items.filter((e) => e.involvedObject.name === 'web' && e.involvedObject.fieldPath === 'spec.ephemeralContainers{dbg}');
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(['Pulled', 'Created', 'Started']));
    expect(events.find((e) => e.reason === 'Started')?.message).toBe('Started container dbg');

    // Not restarted, even after a while and a resync.
    await new Promise((res) => setTimeout(res, 3000));
    expect(ephemeralStatus(await pods().get('web'), 'dbg')).toMatchObject({ restartCount: 0, state: { terminated: { exitCode: 0 } } });
  });

  it('an interactive debug container can be attached to and exec\'d into while it runs, and is stopped with the pod', async () => {
    const patch = { spec: { ephemeralContainers: [{ name: 'shell', image: busyboxImage, command: ['sh', '-c', 'while read l; do echo "echo: $l"; done'], stdin: true, targetContainerName: 'other' }] } };
    await pods().patch('web', 'strategic', patch, { subresource: 'ephemeralcontainers' });
    await waitFor('the shell to run', async () => ephemeralStatus(await pods().get('web'), 'shell')?.state?.running !== undefined, 60_000, 250);
    const ps = await kubectl(['exec', 'web', '-c', 'shell', '--', 'ps', '-o', 'args']);
    expect(ps.code, ps.stderr).toBe(0);
    expect(ps.stdout).toContain('sleep 3600');
    expect(ps.stdout).not.toContain('httpd');
    // The shell reads on after this session's input ended (its stdin is not StdinOnce), so
    // kubectl stays attached until it is stopped, as with upstream.
    const att = await kubectl(['attach', 'web', '-c', 'shell', '-i'], { input: 'ping\n', timeoutMs: 8_000 });
    expect(att.stdout).toContain('echo: ping');

    const uid = (await pods().get('web')).metadata.uid!;
    const running = async () => (await docker.listContainers({ filters: { label: [`io.kubernetes.pod.uid=${uid}`] } })).map((c) => c.Labels['io.kubernetes.container.name']);
    expect(await running()).toEqual(expect.arrayContaining(['POD', 'app', 'other', 'shell']));
    await pods().delete('web', { gracePeriodSeconds: 1 });
    await waitFor('the pod to be gone', async () => !(await pods().get('web').catch(() => undefined)), 60_000, 250);
    // Nothing of the pod runs any more, the ephemeral container included.
    expect(await running()).toEqual([]);
  });
});
