/**
 * DockerRuntime against the host's real Docker engine, with the locally built images.
 * Everything created carries a per-run label and is removed in afterAll, pass or fail.
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/base/index.js';
import { DockerRuntime, isImagePullFailed, isRuntimeNotFound, type ContainerConfig, type SandboxConfig } from '../../lib/kubelet/index.js';
import { busyboxImage, ensureTestImages, pauseImage } from '../../hack/images/images.js';
import { e2eRunLabel, randomSuffix, readAll, removeRunContainers, waitFor } from '../support/node-host.js';

const run = randomSuffix();
const docker = new Docker();
const rt = new DockerRuntime({ log: silentLogger(), docker });
let tmp: string;
let pods = 0;

async function newPod(extra: Partial<SandboxConfig> = {}) {
  const n = ++pods;
  const metadata = { uid: `uid-${run}-${n}`, namespace: 'e2e', name: `pod-${run}-${n}`, attempt: 0 };
  const id = await rt.createSandbox({ metadata, labels: { [e2eRunLabel]: run }, ...extra });
  await rt.startSandbox(id);
  return { id, metadata };
}

async function startContainer(sandboxId: string, config: Partial<ContainerConfig> & { name: string }) {
  const { name, ...rest } = config;
  const id = await rt.createContainer(sandboxId, { metadata: { name, attempt: 0 }, image: busyboxImage, labels: { [e2eRunLabel]: run }, ...rest });
  await rt.startContainer(id);
  return id;
}

async function waitExited(id: string, timeoutMs = 10_000) {
  await waitFor(`container ${id.slice(0, 12)} to exit`, async () => (await rt.inspectContainer(id)).state === 'exited', timeoutMs);
  return rt.inspectContainer(id);
}

beforeAll(async () => {
  await ensureTestImages([pauseImage, busyboxImage]);
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), `tkube-e2e-${run}-`));
});

afterAll(async () => {
  await removeRunContainers(docker, run);
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('DockerRuntime (real Docker)', () => {
  it('reports the engine version', async () => {
    const v = await rt.version();
    expect(v.runtimeName).toBe('docker');
    expect(v.runtimeVersion).toMatch(/^\d+\.\d+/);
    expect(v.runtimeApiVersion).toMatch(/^1\.\d+$/);
  });

  it('runs a sandbox whose labels let a restarted kubelet find it, and stops and removes it', async () => {
    const pod = await newPod({ annotations: { 'example.com/note': 'hi' } });
    const st = await rt.inspectSandbox(pod.id);
    expect(st.state).toBe('ready');
    expect(st.pid).toBeGreaterThan(1);
    expect(st.metadata).toEqual(pod.metadata);
    expect(st.annotations['example.com/note']).toBe('hi');
    const raw = await docker.getContainer(pod.id).inspect();
    expect(raw.Name).toBe(`/k8s_POD_${pod.metadata.name}_e2e_${pod.metadata.uid}_0`);
    expect(raw.Config.Labels).toMatchObject({
      'io.kubernetes.pod.uid': pod.metadata.uid,
      'io.kubernetes.pod.namespace': 'e2e',
      'io.kubernetes.pod.name': pod.metadata.name,
      'io.kubernetes.container.name': 'POD',
      'io.kubernetes.docker.type': 'podsandbox',
    });
    expect(raw.HostConfig.NetworkMode).toBe('none');
    expect(raw.Config.Image).toBe(pauseImage);

    const listed = await rt.listSandboxes({ podUID: pod.metadata.uid });
    expect(listed.map((s) => [s.id, s.state])).toEqual([[pod.id, 'ready']]);

    const t0 = Date.now();
    await rt.stopSandbox(pod.id, 10);
    expect(Date.now() - t0).toBeLessThan(3000); // pause exits on SIGTERM right away
    const stopped = await rt.inspectSandbox(pod.id);
    expect(stopped.state).toBe('notready');
    expect(stopped.exitCode).toBe(0);
    expect(stopped.pid).toBeUndefined();
    await rt.removeSandbox(pod.id);
    await expect(rt.inspectSandbox(pod.id)).rejects.toSatisfy(isRuntimeNotFound);
    await rt.removeSandbox(pod.id); // again: no error
  });

  it('shows a killed pause container as a notready sandbox with its exit code', async () => {
    const pod = await newPod();
    const { pid } = await rt.inspectSandbox(pod.id);
    process.kill(pid!, 'SIGKILL');
    await waitFor('the sandbox to turn notready', async () => (await rt.inspectSandbox(pod.id)).state === 'notready');
    const st = await rt.inspectSandbox(pod.id);
    expect(st.exitCode).toBe(137);
    expect(st.finishedAt).toBeInstanceOf(Date);
    expect((await rt.listSandboxes({ podUID: pod.metadata.uid, state: 'notready' })).map((s) => s.id)).toEqual([pod.id]);
  });

  it('runs containers with command/args, env, working dir and the pod hostname; exit codes become reasons', async () => {
    const pod = await newPod({ hostname: 'my-pod-host' });
    const ok = await startContainer(pod.id, {
      name: 'main',
      command: ['sh', '-c'],
      args: ['echo "foo=$FOO"; pwd; hostname; echo to-stderr >&2'],
      env: [{ name: 'FOO', value: 'bar baz' }],
      workingDir: '/tmp',
    });
    const st = await waitExited(ok);
    expect(st).toMatchObject({ state: 'exited', exitCode: 0, reason: 'Completed', oomKilled: false, sandboxId: pod.id, podUID: pod.metadata.uid, metadata: { name: 'main', attempt: 0 } });
    expect(st.startedAt!.getTime()).toBeLessThanOrEqual(st.finishedAt!.getTime());
    expect(st.imageId).toMatch(/^sha256:/);
    // Docker copies stdout and stderr separately: lines keep their order within a stream only.
    // Its log copier may still be writing just after the exit, so wait for all four lines.
    let lines: string[] = [];
    await waitFor('all log lines', async () => {
      lines = (await readAll(await rt.logs(ok))).trimEnd().split('\n');
      return lines.length >= 4;
    });
    expect(lines.filter((l) => l !== 'to-stderr')).toEqual(['foo=bar baz', '/tmp', 'my-pod-host']);
    expect(lines).toContain('to-stderr');

    // args alone keep the image's entrypoint (none for busybox): they are the command line
    const argsOnly = await startContainer(pod.id, { name: 'args-only', args: ['sh', '-c', 'exit 3'] });
    expect(await waitExited(argsOnly)).toMatchObject({ exitCode: 3, reason: 'Error' });

    const listed = await rt.listContainers({ podUID: pod.metadata.uid });
    expect(listed.map((c) => c.metadata.name).sort()).toEqual(['args-only', 'main']);
    expect(await rt.listContainers({ sandboxId: pod.id, labels: { 'io.kubernetes.container.name': 'main' } })).toHaveLength(1);
    // Both kinds in one query: the same answers as the two lists.
    const both = await rt.listPodObjects({ podUID: pod.metadata.uid });
    expect(both.sandboxes).toEqual(await rt.listSandboxes({ podUID: pod.metadata.uid }));
    expect(both.containers.map((c) => c.id).sort()).toEqual(listed.map((c) => c.id).sort());
    expect(both.containers.find((c) => c.metadata.name === 'main')).toEqual(listed.find((c) => c.metadata.name === 'main'));
  });

  it('lets two containers of a pod talk over localhost', async () => {
    const pod = await newPod();
    await startContainer(pod.id, { name: 'server', command: ['sh', '-c', 'echo hello-from-server > /tmp/msg; while true; do nc -l -p 8080 < /tmp/msg; done'] });
    const client = await startContainer(pod.id, { name: 'client', command: ['sleep', '3600'] });
    let answer = '';
    await waitFor('the server to answer on localhost:8080', async () => {
      const r = await rt.execSync(client, ['sh', '-c', 'nc 127.0.0.1 8080 </dev/null'], { timeoutMs: 3000 });
      answer = r.stdout.toString();
      return answer.includes('hello-from-server');
    });
    expect(answer).toBe('hello-from-server\n');
  });

  it('maps resources, security context, mounts and the hosts file', async () => {
    const pod = await newPod();
    const data = path.join(tmp, 'data');
    await fs.mkdir(data);
    await fs.writeFile(path.join(data, 'greeting'), 'from-the-host\n');
    const hosts = path.join(tmp, 'hosts');
    await fs.writeFile(hosts, '127.0.0.1 localhost\n10.1.2.3 my-alias\n');
    const resolv = path.join(tmp, 'resolv.conf');
    await fs.writeFile(resolv, 'nameserver 10.96.0.10\nsearch e2e.svc.cluster.local svc.cluster.local\noptions ndots:5\n');
    const sleeper = await startContainer(pod.id, {
      name: 'limited',
      command: ['sleep', '3600'],
      resources: { cpuRequestMilli: 250, cpuLimitMilli: 500, memoryLimitBytes: 64 * 1024 * 1024 },
      security: { readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } },
      mounts: [{ hostPath: data, containerPath: '/data', readOnly: true }],
      hostsPath: hosts,
      resolvConfPath: resolv,
    });
    const raw = await docker.getContainer(sleeper).inspect();
    expect(raw.HostConfig).toMatchObject({ CpuShares: 256, CpuQuota: 50_000, CpuPeriod: 100_000, Memory: 67_108_864, ReadonlyRootfs: true });
    const sh = async (cmd: string) => (await rt.execSync(sleeper, ['sh', '-c', cmd])).stdout.toString().trim();
    expect(await sh('cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d" " -f1 /sys/fs/cgroup/cpu.max')).toBe('50000');
    expect(await sh('grep CapEff /proc/self/status')).toBe('CapEff:\t0000000000000400'); // only CAP_NET_BIND_SERVICE
    expect(await sh('touch /x 2>&1; echo rc=$?')).toMatch(/Read-only file system\s+rc=1/);
    expect(await sh('cat /data/greeting; touch /data/y 2>&1 | grep -c Read-only')).toBe('from-the-host\n1');
    expect(await sh('grep my-alias /etc/hosts')).toBe('10.1.2.3 my-alias');
    expect(await sh('cat /etc/resolv.conf')).toBe('nameserver 10.96.0.10\nsearch e2e.svc.cluster.local svc.cluster.local\noptions ndots:5');
    expect((await rt.inspectContainer(sleeper)).mounts).toContainEqual({ hostPath: data, containerPath: '/data', readOnly: true });

    const nobody = await startContainer(pod.id, { name: 'nobody', command: ['id'], security: { runAsUser: 65534, runAsGroup: 65534, supplementalGroups: [1234] } });
    await waitExited(nobody);
    expect(await readAll(await rt.logs(nobody))).toBe('uid=65534(nobody) gid=65534(nobody) groups=1234,65534(nobody)\n');
  });

  it('reports an OOM kill', async () => {
    const pod = await newPod();
    // tail keeps the current "line" of /dev/zero in memory; it never ends, so memory grows.
    const hog = await startContainer(pod.id, { name: 'hog', command: ['tail', '/dev/zero'], resources: { memoryLimitBytes: 32 * 1024 * 1024 } });
    expect(await waitExited(hog, 20_000)).toMatchObject({ state: 'exited', oomKilled: true, reason: 'OOMKilled', exitCode: 137 });
  });

  it('serves logs with tail, timestamps, since, limitBytes, follow and the previous instance', async () => {
    const pod = await newPod();
    const first = await startContainer(pod.id, { name: 'app', command: ['sh', '-c', 'for i in 1 2 3 4 5; do echo line$i; done'] });
    await waitExited(first);
    expect(await readAll(await rt.logs(first, { tail: 2 }))).toBe('line4\nline5\n');
    expect(await readAll(await rt.logs(first, { limitBytes: 8 }))).toBe('line1\nli');
    const stamped = (await readAll(await rt.logs(first, { timestamps: true }))).trim().split('\n');
    expect(stamped).toHaveLength(5);
    expect(stamped[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line1$/);
    expect(await readAll(await rt.logs(first, { since: new Date(Date.now() + 60_000) }))).toBe('');

    // The restarted instance (restart count 1) writes slowly; follow sees every line and ends when it exits.
    const second = await rt.createContainer(pod.id, {
      metadata: { name: 'app', attempt: 1 },
      image: busyboxImage,
      labels: { [e2eRunLabel]: run },
      command: ['sh', '-c', 'for i in a b c; do echo again-$i; sleep 0.2; done'],
    });
    await rt.startContainer(second);
    const followed = await readAll(await rt.logs(second, { follow: true }));
    expect(followed).toBe('again-a\nagain-b\nagain-c\n');
    expect((await rt.inspectContainer(second)).state).toBe('exited');
    expect(await readAll(await rt.logs(second, { previous: true }))).toBe('line1\nline2\nline3\nline4\nline5\n');
    await expect(rt.logs(first, { previous: true })).rejects.toThrow(/previous terminated container "app" in pod "e2e\/.*" not found/);
    expect((await rt.inspectContainer(second)).annotations['io.kubernetes.container.restartCount']).toBe('1');
  });

  it('execs with separate stdout/stderr and exit code, stdin, a tty with resize, and a timeout', async () => {
    const pod = await newPod();
    const c = await startContainer(pod.id, { name: 'box', command: ['sleep', '3600'] });
    const r = await rt.execSync(c, ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect({ code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString(), timedOut: r.timedOut }).toEqual({ code: 3, out: 'out\n', err: 'err\n', timedOut: false });

    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const session = await rt.exec(c, { cmd: ['sh', '-c', 'tr a-z A-Z'], stdin, stdout });
    stdin.end('shout please\n');
    expect(await session.done).toEqual({ exitCode: 0 });
    expect(stdout.read()?.toString()).toBe('SHOUT PLEASE\n');

    const ttyIn = new PassThrough();
    const ttyOut = new PassThrough();
    let screen = '';
    ttyOut.on('data', (d: Buffer) => (screen += d.toString()));
    const tty = await rt.exec(c, { cmd: ['sh'], tty: true, stdin: ttyIn, stdout: ttyOut });
    await tty.resize({ width: 123, height: 45 });
    ttyIn.write('stty size; exit 7\n');
    expect(await tty.done).toEqual({ exitCode: 7 });
    expect(screen).toContain('45 123');

    const slow = await rt.execSync(c, ['sleep', '5'], { timeoutMs: 300 });
    expect(slow.timedOut).toBe(true);
    await expect(rt.exec('does-not-exist', { cmd: ['true'] })).rejects.toSatisfy(isRuntimeNotFound);
  });

  it('attaches to the main process: stdin in, stdout out, exit code when it ends', async () => {
    const pod = await newPod();
    const c = await startContainer(pod.id, { name: 'cat', command: ['sh', '-c', 'while read l; do echo "got:$l"; done; exit 4'], stdin: true, stdinOnce: true });
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    let seen = '';
    stdout.on('data', (d: Buffer) => (seen += d.toString()));
    const session = await rt.attach(c, { stdin, stdout });
    stdin.write('one\n');
    await waitFor('the echo of the first line', () => seen.includes('got:one'));
    stdin.end('two\n');
    expect(await session.done).toEqual({ exitCode: 4 });
    expect(seen).toBe('got:one\ngot:two\n');
    // Without stdinOnce the container's stdin stays open when one attach's input ends, and the
    // output goes on until the process exits (as the CRI does; Docker alone would cut it).
    const open = await startContainer(pod.id, { name: 'open', command: ['sh', '-c', 'read l; echo "got:$l"; sleep 0.5; echo after; exit 5'], stdin: true });
    let more = '';
    const out2 = new PassThrough();
    out2.on('data', (d: Buffer) => (more += d.toString()));
    const s2 = await rt.attach(open, { stdin: Readable.from(['x\n']), stdout: out2 });
    expect(await s2.done).toEqual({ exitCode: 5 });
    expect(more).toBe('got:x\nafter\n');
    const noStdin = await startContainer(pod.id, { name: 'plain', command: ['sleep', '3600'] });
    await expect(rt.attach(noStdin, { stdin: new PassThrough() })).rejects.toThrow(/created without stdin/);
  });

  it('stops with the grace period: SIGTERM first, SIGKILL at the deadline', async () => {
    const pod = await newPod();
    const stubborn = await startContainer(pod.id, { name: 'stubborn', command: ['sh', '-c', 'trap "echo got-term; sleep 30" TERM; sleep 1000 & wait'] });
    const polite = await startContainer(pod.id, { name: 'polite', command: ['sh', '-c', 'trap "echo bye; exit 0" TERM; sleep 1000 & wait'] });
    const custom = await startContainer(pod.id, { name: 'custom', command: ['sh', '-c', 'trap "exit 9" USR1; sleep 1000 & wait'], stopSignal: 'SIGUSR1' });
    await new Promise((r) => setTimeout(r, 300)); // let the shells install their traps

    let t0 = Date.now();
    const hard = await rt.stopContainer(stubborn, { gracePeriodSeconds: 2 });
    const took = Date.now() - t0;
    expect(hard).toEqual({ killed: true, exitCode: 137 });
    expect(took).toBeGreaterThanOrEqual(1900);
    expect(took).toBeLessThan(6000);
    expect(await readAll(await rt.logs(stubborn))).toBe('got-term\n');

    t0 = Date.now();
    expect(await rt.stopContainer(polite, { gracePeriodSeconds: 30 })).toEqual({ killed: false, exitCode: 0 });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await readAll(await rt.logs(polite))).toBe('bye\n');

    expect(await rt.stopContainer(custom, { gracePeriodSeconds: 10 })).toEqual({ killed: false, exitCode: 9 });
    // stopping again is not an error
    expect(await rt.stopContainer(custom, { gracePeriodSeconds: 10 })).toEqual({ killed: false, exitCode: 9 });
  });

  it('forwards a port into the sandbox network namespace', async () => {
    const pod = await newPod();
    await startContainer(pod.id, { name: 'web', command: ['sh', '-c', 'mkdir -p /tmp/www && echo hello-pf > /tmp/www/index.html && httpd -f -p 9090 -h /tmp/www'] });
    const forwards: Array<Promise<void>> = [];
    const server = net.createServer((sock) => forwards.push(rt.portForward(pod.id, 9090, sock)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      let body = '';
      await waitFor('httpd to answer through the forward', async () => {
        body = await new Promise<string>((resolve, reject) => {
          const c = net.connect(port, '127.0.0.1', () => c.write('GET / HTTP/1.0\r\n\r\n'));
          let acc = '';
          c.on('data', (d) => (acc += d.toString()));
          c.on('end', () => resolve(acc));
          c.on('error', reject);
        });
        return body.includes('hello-pf');
      });
      expect(body).toMatch(/^HTTP\/1\.[01] 200 OK/);
      await Promise.allSettled(forwards);
      await expect(rt.portForward(pod.id, 9, new PassThrough())).rejects.toThrow(/ECONNREFUSED|refused/);
    } finally {
      server.close();
    }
  });

  it('reports stats and the images on the node; pulls fail clearly without a registry', async () => {
    const pod = await newPod();
    const c = await startContainer(pod.id, { name: 'busy', command: ['sh', '-c', 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 3600'], resources: { memoryLimitBytes: 48 * 1024 * 1024 } });
    await new Promise((r) => setTimeout(r, 500));
    const s = await rt.stats(c);
    expect(s.cpuUsageCoreNanoSeconds).toBeGreaterThan(0);
    expect(s.memoryUsageBytes).toBeGreaterThan(0);
    expect(s.memoryWorkingSetBytes).toBeLessThanOrEqual(s.memoryUsageBytes);
    expect(s.memoryLimitBytes).toBe(48 * 1024 * 1024);

    const img = await rt.imageStatus(busyboxImage);
    expect(img?.repoTags).toContain(busyboxImage);
    expect(img?.sizeBytes).toBeGreaterThan(500_000);
    expect((await rt.listImages()).some((i) => i.repoTags.includes(pauseImage) && i.sizeBytes > 0)).toBe(true);
    expect(await rt.imageStatus(`tkube/absent-${run}:1`)).toBeUndefined();

    const extra = `tkube/e2e-${run}:copy`;
    await docker.getImage(busyboxImage).tag({ repo: `tkube/e2e-${run}`, tag: 'copy' });
    expect(await rt.imageStatus(extra)).toBeDefined();
    await rt.removeImage(extra);
    expect(await rt.imageStatus(extra)).toBeUndefined();
    expect(await rt.imageStatus(busyboxImage)).toBeDefined(); // only the tag went

    // 127.0.0.1:1 refuses at once: no traffic leaves the machine.
    const err = await rt.pullImage(`127.0.0.1:1/nothing-${run}:1`).catch((e: unknown) => e);
    expect(err).toSatisfy(isImagePullFailed);
    expect((err as Error).message).toMatch(/pulling image 127\.0\.0\.1:1\/nothing-.* failed/);
  });

  it('refuses a container for a missing image or sandbox, and a duplicate name', async () => {
    const pod = await newPod();
    await expect(rt.createContainer(pod.id, { metadata: { name: 'x', attempt: 0 }, image: `tkube/absent-${run}:1` })).rejects.toThrow(/not present on this node/);
    await expect(rt.createContainer('0000000000000000dead', { metadata: { name: 'x', attempt: 0 }, image: busyboxImage })).rejects.toSatisfy(isRuntimeNotFound);
    await startContainer(pod.id, { name: 'once', command: ['true'] });
    await expect(startContainer(pod.id, { name: 'once', command: ['true'] })).rejects.toThrow(/AlreadyExists|already in use/);
  });
});
