import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../base/index.js';
import { isRuntimeAlreadyExists, isRuntimeConflict, isRuntimeNotFound, RuntimeError } from './errors.js';
import { FakeRuntime } from './fake-runtime.js';

/** A clock the test moves by hand; sleep resolves when time reaches its deadline. */
class ManualClock implements Clock {
  t = 1_700_000_000_000;
  private sleepers: Array<{ until: number; resolve: () => void }> = [];
  now() {
    return this.t;
  }
  sleep(ms: number) {
    return new Promise<void>((resolve) => this.sleepers.push({ until: this.t + ms, resolve }));
  }
  advance(ms: number) {
    this.t += ms;
    for (const s of this.sleepers.filter((x) => x.until <= this.t)) s.resolve();
    this.sleepers = this.sleepers.filter((x) => x.until > this.t);
  }
  get waiting() {
    return this.sleepers.length;
  }
}

const meta = (n = 1) => ({ uid: `uid-${n}`, namespace: 'default', name: `pod-${n}`, attempt: 0 });

async function podWith(rt: FakeRuntime, n = 1) {
  rt.addImage('busybox:1.36');
  const sb = await rt.createSandbox({ metadata: meta(n) });
  await rt.startSandbox(sb);
  return sb;
}

const read = async (s: NodeJS.ReadableStream) => {
  let out = '';
  for await (const c of s) out += c.toString();
  return out;
};

describe('FakeRuntime', () => {
  it('walks a container through created → running → exited and keeps the pod labels for adoption', async () => {
    const rt = new FakeRuntime();
    const sb = await podWith(rt);
    const id = await rt.createContainer(sb, { metadata: { name: 'app', attempt: 0 }, image: 'busybox:1.36' });
    expect((await rt.inspectContainer(id)).state).toBe('created');
    await rt.startContainer(id);
    const running = await rt.inspectContainer(id);
    expect(running).toMatchObject({ state: 'running', podUID: 'uid-1', sandboxId: sb, metadata: { name: 'app', attempt: 0 } });
    expect(running.pid).toBeGreaterThan(0);
    rt.exitContainer(id, 1);
    expect(await rt.inspectContainer(id)).toMatchObject({ state: 'exited', exitCode: 1, reason: 'Error' });
    const listed = await rt.listContainers({ labels: { 'io.kubernetes.pod.uid': 'uid-1', 'io.kubernetes.container.name': 'app' } });
    expect(listed.map((c) => c.id)).toEqual([id]);
    expect(listed[0]!.annotations['io.kubernetes.container.restartCount']).toBe('0');
    const both = await rt.listPodObjects({ podUID: 'uid-1' });
    expect(both.sandboxes.map((s) => s.id)).toEqual([sb]);
    expect(both.containers.map((c) => c.id)).toEqual([id]);
    expect(await rt.listPodObjects({ podUID: 'uid-other' })).toEqual({ sandboxes: [], containers: [] });
  });

  it('refuses duplicates, missing images and missing sandboxes with typed errors', async () => {
    const rt = new FakeRuntime();
    const sb = await podWith(rt);
    await expect(rt.createSandbox({ metadata: meta(1) })).rejects.toSatisfy(isRuntimeAlreadyExists);
    await rt.createContainer(sb, { metadata: { name: 'a', attempt: 0 }, image: 'busybox:1.36' });
    await expect(rt.createContainer(sb, { metadata: { name: 'a', attempt: 0 }, image: 'busybox:1.36' })).rejects.toSatisfy(isRuntimeAlreadyExists);
    await expect(rt.createContainer(sb, { metadata: { name: 'b', attempt: 0 }, image: 'nginx' })).rejects.toThrow(/image nginx is not present/);
    await expect(rt.createContainer('nope', { metadata: { name: 'b', attempt: 0 }, image: 'busybox:1.36' })).rejects.toSatisfy(isRuntimeNotFound);
  });

  it('shows a dead pause as a notready sandbox and refuses to start containers in it', async () => {
    const rt = new FakeRuntime();
    const sb = await podWith(rt);
    const id = await rt.createContainer(sb, { metadata: { name: 'a', attempt: 0 }, image: 'busybox:1.36' });
    rt.killSandbox(sb);
    expect(await rt.inspectSandbox(sb)).toMatchObject({ state: 'notready', exitCode: 137 });
    expect((await rt.listSandboxes({ state: 'notready' })).map((s) => s.id)).toEqual([sb]);
    await expect(rt.startContainer(id)).rejects.toSatisfy(isRuntimeConflict);
  });

  it('stops politely at once, or waits the grace period and kills', async () => {
    const clock = new ManualClock();
    const rt = new FakeRuntime({ clock });
    const sb = await podWith(rt);
    const polite = await rt.createContainer(sb, { metadata: { name: 'polite', attempt: 0 }, image: 'busybox:1.36' });
    const stubborn = await rt.createContainer(sb, { metadata: { name: 'stubborn', attempt: 0 }, image: 'busybox:1.36' });
    await rt.startContainer(polite);
    await rt.startContainer(stubborn);
    rt.ignoreStopSignal(stubborn);
    expect(await rt.stopContainer(polite, { gracePeriodSeconds: 30 })).toEqual({ killed: false, exitCode: 143 });

    let result: unknown;
    const stopping = rt.stopContainer(stubborn, { gracePeriodSeconds: 30 }).then((r) => (result = r));
    await new Promise((r) => setImmediate(r));
    clock.advance(29_000);
    await new Promise((r) => setImmediate(r));
    expect(result).toBeUndefined();
    expect((await rt.inspectContainer(stubborn)).state).toBe('running');
    clock.advance(1_000);
    await stopping;
    expect(result).toEqual({ killed: true, exitCode: 137 });
    expect(await rt.stopContainer(stubborn, { gracePeriodSeconds: 30 })).toEqual({ killed: false, exitCode: 137 });
  });

  it('serves logs with tail, since, timestamps, limitBytes, follow and previous', async () => {
    const clock = new ManualClock();
    const rt = new FakeRuntime({ clock });
    const sb = await podWith(rt);
    const first = await rt.createContainer(sb, { metadata: { name: 'app', attempt: 0 }, image: 'busybox:1.36' });
    await rt.startContainer(first);
    rt.writeLog(first, 'stdout', 'one\n');
    clock.advance(1000);
    const mid = new Date(clock.now());
    rt.writeLog(first, 'stderr', 'two\n');
    rt.writeLog(first, 'stdout', 'three\n');
    expect(await read(await rt.logs(first, { tail: 1 }))).toBe('three\n');
    expect(await read(await rt.logs(first, { since: mid }))).toBe('two\nthree\n');
    expect(await read(await rt.logs(first, { limitBytes: 6 }))).toBe('one\ntw');
    expect((await read(await rt.logs(first, { timestamps: true }))).split('\n')[0]).toBe('2023-11-14T22:13:20.000000000Z one');

    const follow = await rt.logs(first, { follow: true });
    const followed = read(follow);
    rt.writeLog(first, 'stdout', 'four\n');
    rt.exitContainer(first, 0);
    expect(await followed).toBe('one\ntwo\nthree\nfour\n');

    const second = await rt.createContainer(sb, { metadata: { name: 'app', attempt: 1 }, image: 'busybox:1.36' });
    expect(await read(await rt.logs(second, { previous: true, tail: 1 }))).toBe('four\n');
    await expect(rt.logs(first, { previous: true })).rejects.toThrow(/previous terminated container "app" in pod "default\/pod-1" not found/);
  });

  it('answers exec from a handler and attach from the log; exec needs a running container', async () => {
    const rt = new FakeRuntime();
    const sb = await podWith(rt);
    const id = await rt.createContainer(sb, { metadata: { name: 'a', attempt: 0 }, image: 'busybox:1.36', stdin: true });
    await expect(rt.execSync(id, ['true'])).rejects.toSatisfy(isRuntimeConflict);
    await rt.startContainer(id);
    rt.execHandler = ({ cmd, stdout, stderr }) => {
      stdout(`ran ${cmd.join(' ')}\n`);
      stderr('warn\n');
      return 2;
    };
    const r = await rt.execSync(id, ['cat', '/etc/hostname']);
    expect({ code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() }).toEqual({ code: 2, out: 'ran cat /etc/hostname\n', err: 'warn\n' });
    rt.execHandler = () => new Promise(() => {}); // hangs
    expect((await rt.execSync(id, ['sleep', '1000'], { timeoutMs: 20 })).timedOut).toBe(true);

    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const session = await rt.attach(id, { stdin, stdout });
    stdin.write('hello\n');
    rt.writeLog(id, 'stdout', 'world\n');
    rt.exitContainer(id, 5);
    expect(await session.done).toEqual({ exitCode: 5 });
    expect(stdout.read()?.toString()).toBe('world\n');
    expect(rt.stdinOf(id)).toBe('hello\n');
  });

  it('removes a sandbox with its containers, idempotently', async () => {
    const rt = new FakeRuntime();
    const sb = await podWith(rt);
    const id = await rt.createContainer(sb, { metadata: { name: 'a', attempt: 0 }, image: 'busybox:1.36' });
    await rt.startContainer(id);
    await rt.stopSandbox(sb, 5);
    expect((await rt.inspectContainer(id)).state).toBe('exited');
    await rt.removeSandbox(sb);
    await rt.removeSandbox(sb);
    expect(await rt.listContainers()).toEqual([]);
    await expect(rt.inspectSandbox(sb)).rejects.toSatisfy(isRuntimeNotFound);
  });

  it('injects failures into the next calls, in order, and records every call', async () => {
    const rt = new FakeRuntime();
    rt.failNext('pullImage', new RuntimeError('ImagePullFailed', 'registry down')).failNext('pullImage');
    await expect(rt.pullImage('nginx')).rejects.toThrow('registry down');
    await expect(rt.pullImage('nginx')).rejects.toThrow(/injected failure of pullImage/);
    expect((await rt.pullImage('nginx')).repoTags).toEqual(['nginx']);
    expect(await rt.imageStatus('nginx:latest')).toBeDefined();
    rt.pullErrors.set('private/app:1', 'unauthorized');
    await expect(rt.pullImage('private/app:1')).rejects.toThrow(/unauthorized/);
    expect(rt.calls.filter((c) => c.method === 'pullImage')).toHaveLength(4);
  });

  it('will not remove an image a container uses', async () => {
    const rt = new FakeRuntime();
    const sb = await podWith(rt);
    await rt.createContainer(sb, { metadata: { name: 'a', attempt: 0 }, image: 'busybox:1.36' });
    await expect(rt.removeImage('busybox:1.36')).rejects.toSatisfy(isRuntimeConflict);
    await rt.removeImage('never-there');
  });
});
