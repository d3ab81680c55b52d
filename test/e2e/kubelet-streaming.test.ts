/**
 * The real kubectl (1.31 and 1.32) against tkube's API server, whose pods sit on a node whose
 * kubelet API is tkube's (lib/kubelet/server), backed by real busybox containers in Docker:
 * logs (-f, --previous), exec (exit codes, stdin, TTY), attach, port-forward, cp, top, drain,
 * over WebSocket (kubectl's default) and SPDY (the fallback), and the API server opening one
 * kubelet connection per upgraded request.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { busyboxImage, ensureTestImages, pauseImage } from '../../hack/images/images.js';
import { decodeChannelMessage } from '../../lib/streaming/index.js';
import { startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { kubectls, runKubectl, type Kubectl } from '../support/kubectl.js';
import { startTestKubeletNode, type TestKubeletNode } from '../support/streaming-node.js';
import { randomSuffix, removeRunContainers, waitFor } from '../support/node-host.js';

const run = randomSuffix();
const docker = new Docker();
const versions = kubectls();
let apiserver: TestAPIServer;
let node: TestKubeletNode;
let tmp: string;
const children: ChildProcessWithoutNullStreams[] = [];

/** Starts kubectl and keeps it running; output accumulates in `out` and `err`. */
function startKubectl(k: Kubectl, args: string[], env: Record<string, string> = {}) {
  const p = spawn(k.path, ['--kubeconfig', apiserver.kubeconfig, ...args], { env: { ...process.env, HOME: os.tmpdir(), ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(p);
  const state = { out: '', err: '', code: undefined as number | null | undefined, proc: p };
  p.stdout.on('data', (d: Buffer) => (state.out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (state.err += d.toString()));
  p.on('close', (code) => (state.code = code));
  return state;
}

const kubectl = (k: Kubectl, args: string[], opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}) => runKubectl(k, apiserver.kubeconfig, args, opts);

beforeAll(async () => {
  await ensureTestImages([pauseImage, busyboxImage]);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), `tkube-streaming-${run}-`));
  apiserver = await startAPIServer();
  node = await startTestKubeletNode({ apiURL: apiserver.url, docker, run });
  await node.runPod('web', [
    {
      name: 'app',
      // Prints a line whenever /tmp/say holds one: how the tests make "a line written later".
      command: ['sh', '-c', 'echo started; echo to-stderr >&2; while true; do if [ -f /tmp/say ]; then cat /tmp/say; rm /tmp/say; fi; sleep 0.1; done'],
      previousRuns: [['sh', '-c', 'echo from the first life']],
    },
  ]);
  await node.runPod('two', [
    { name: 'main', command: ['sleep', '3600'] },
    { name: 'side', command: ['sh', '-c', 'echo side-car; sleep 3600'] },
  ]);
  await node.runPod('attachable', [{ name: 'repl', stdin: true, command: ['sh', '-c', 'while read line; do echo "got: $line"; done'] }]);
  await node.runPod('httpd', [{ name: 'httpd', command: ['sh', '-c', 'mkdir -p /www && echo hello-from-httpd > /www/index.html && exec httpd -f -p 8080 -h /www'] }]);
  await node.waitingPod('pending', 'app', 'ContainerCreating');
}, 180_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await node?.stop();
  await apiserver?.stop();
  await removeRunContainers(docker, run);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe.each(versions.map((k) => [k.version, k] as const))('kubectl %s', (_v, k) => {
  it('logs: the whole log, --tail, the default container of a multi-container pod, and errors as upstream', async () => {
    const all = await kubectl(k, ['logs', 'web']);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('started\n');
    expect(all.stdout).toContain('to-stderr\n');
    expect((await kubectl(k, ['logs', 'web', '--tail=1', '-c', 'app'])).stdout.split('\n').filter(Boolean)).toHaveLength(1);
    expect((await kubectl(k, ['logs', 'two', '-c', 'side'])).stdout).toBe('side-car\n');
    const defaulted = await kubectl(k, ['logs', 'two']);
    expect(defaulted.stderr).toContain('Defaulted container "main" out of: main, side');
    const waiting = await kubectl(k, ['logs', 'pending']);
    expect(waiting.code).not.toBe(0);
    expect(waiting.stderr).toContain('Error from server (BadRequest): container "app" in pod "pending" is waiting to start: ContainerCreating');
    const missing = await kubectl(k, ['logs', 'nope']);
    expect(missing.stderr).toContain('(NotFound): pods "nope" not found');
    const wrong = await kubectl(k, ['logs', 'web', '-c', 'db']);
    expect(wrong.stderr).toContain('container db is not valid for pod web');
  });

  it('logs --previous: the earlier instance, or a clear error when there is none', async () => {
    const prev = await kubectl(k, ['logs', 'web', '--previous']);
    expect(prev).toMatchObject({ code: 0, stdout: 'from the first life\n' });
    const none = await kubectl(k, ['logs', 'two', '-c', 'side', '--previous']);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('Error from server (BadRequest): previous terminated container "side" in pod "two" not found');
  });

  it('logs -f: a line written later arrives, and the stream ends when kubectl goes', async () => {
    const f = startKubectl(k, ['logs', '-f', 'web', '--tail=0']);
    await new Promise((r) => setTimeout(r, 1000));
    const word = `later-${k.version}-${randomSuffix()}`;
    await node.runtime.execSync((await node.host.findPod('default', 'web'))!.containerIds.app!, ['sh', '-c', `echo ${word} > /tmp/say.tmp && mv /tmp/say.tmp /tmp/say`]);
    await waitFor('the later line', () => f.out.includes(word), 10_000);
    f.proc.kill('SIGINT');
    await waitFor('kubectl logs -f to exit', () => f.code !== undefined, 5000);
  });

  for (const transport of ['websocket', 'spdy'] as const) {
    const env: Record<string, string> = transport === 'spdy' ? { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } : {};

    it(`exec (${transport}): output and the exit code of the command`, async () => {
      const r = await kubectl(k, ['exec', 'web', '--', 'sh', '-c', 'echo hi; echo oops >&2; exit 3'], { env });
      expect(r.stdout).toBe('hi\n');
      expect(r.stderr).toContain('oops\n');
      expect(r.code).toBe(3);
      const ok = await kubectl(k, ['exec', 'two', '-c', 'side', '--', 'hostname'], { env });
      expect(ok).toMatchObject({ code: 0 });
    });

    it(`exec -i (${transport}): stdin reaches the command and its end ends it`, async () => {
      const r = await kubectl(k, ['exec', '-i', 'web', '--', 'sh', '-c', 'tr a-z A-Z; echo done'], { input: 'from stdin\nsecond line\n', env });
      expect(r).toMatchObject({ code: 0, stdout: 'FROM STDIN\nSECOND LINE\ndone\n' });
    });

    it(`exec into a container that is waiting (${transport}) says why`, async () => {
      const r = await kubectl(k, ['exec', 'pending', '--', 'true'], { env });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('Error from server (BadRequest): container "app" in pod "pending" is waiting to start: ContainerCreating');
    });
  }

  it('attach -i: typed lines reach the main process, its answers come back', async () => {
    const a = startKubectl(k, ['attach', '-i', 'attachable']);
    await new Promise((r) => setTimeout(r, 1000));
    a.proc.stdin.write(`hello ${k.version}\n`);
    await waitFor('the answer through attach', () => a.out.includes(`got: hello ${k.version}`), 10_000);
    a.proc.kill('SIGINT');
  });

  for (const transport of ['websocket', 'spdy'] as const) {
    it(`port-forward (${transport}): fetch busybox httpd through the local port, twice`, async () => {
      const env: Record<string, string> = transport === 'spdy' ? { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' } : {};
      const pf = startKubectl(k, ['port-forward', 'pod/httpd', ':8080', '--address', '127.0.0.1'], env);
      await waitFor('port-forward to listen', () => /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.test(pf.out), 15_000);
      const local = Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(pf.out)![1]);
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`http://127.0.0.1:${local}/index.html`);
        expect(res.status).toBe(200);
        expect(await res.text()).toBe('hello-from-httpd\n');
      }
      expect(pf.code).toBeUndefined();
      pf.proc.kill('SIGINT');
    });
  }

  it('cp: a file into the container and back out', async () => {
    const src = path.join(tmp, `in-${k.version}.txt`);
    const back = path.join(tmp, `out-${k.version}.txt`);
    const content = `copied by kubectl ${k.version}\n${'x'.repeat(100_000)}\n`;
    fs.writeFileSync(src, content);
    const inn = await kubectl(k, ['cp', src, `default/web:/tmp/copied-${k.version}.txt`, '-c', 'app']);
    expect(inn).toMatchObject({ code: 0 });
    const check = await kubectl(k, ['exec', 'web', '--', 'wc', '-c', `/tmp/copied-${k.version}.txt`]);
    expect(check.stdout.trim()).toBe(`${Buffer.byteLength(content)} /tmp/copied-${k.version}.txt`);
    const out = await kubectl(k, ['cp', `default/web:/tmp/copied-${k.version}.txt`, back, '-c', 'app']);
    expect(out).toMatchObject({ code: 0 });
    expect(fs.readFileSync(back, 'utf8')).toBe(content);
  });

  it('top node and top pod: CPU and memory from the kubelet stats', async () => {
    const nodes = await kubectl(k, ['top', 'node']);
    expect(nodes.stderr).toBe('');
    expect(nodes.code).toBe(0);
    const row = nodes.stdout.split('\n').find((l) => l.startsWith(node.nodeName));
    expect(row).toMatch(new RegExp(`^${node.nodeName}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+\\d+%`));
    const pods = await kubectl(k, ['top', 'pod']);
    expect(pods.code).toBe(0);
    expect(pods.stdout).toMatch(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
    expect(pods.stdout).toMatch(/\nweb\s+\d+m\s+\d+Mi/);
    const containers = await kubectl(k, ['top', 'pod', 'two', '--containers']);
    expect(containers.stdout).toMatch(/two\s+main\s+\d+m\s+\d+Mi/);
    expect(containers.stdout).toMatch(/two\s+side\s+\d+m\s+\d+Mi/);
  });
});

describe('streams through the API server', () => {
  it('never reuses a kubelet connection: two execs in a row open two, both closed afterwards', async () => {
    const k = versions[0]!;
    const before = node.server.connectionsAccepted;
    const opened = apiserver.server.kubelet.kubelets.connectionsOpened;
    expect((await kubectl(k, ['exec', 'web', '--', 'true'])).code).toBe(0);
    expect((await kubectl(k, ['exec', 'web', '--', 'true'])).code).toBe(0);
    expect(apiserver.server.kubelet.kubelets.connectionsOpened - opened).toBe(2);
    expect(node.server.connectionsAccepted - before).toBe(2);
    await waitFor('the kubelet connections to close', () => node.server.streamingConnections === 0, 5000);
  });

  it('a refused upgrade closes the client connection instead of keeping it for another request', async () => {
    const res = await new Promise<{ status: number; closed: boolean }>((resolve, reject) => {
      const url = new URL(apiserver.url);
      const s = net.connect(Number(url.port), url.hostname, () => {
        // The container is waiting: the kubelet refuses; then a second request on the same socket.
        s.write(`POST /api/v1/namespaces/default/pods/pending/exec?command=true&stdout=true HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\nGET /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: x\r\n\r\n`);
      });
      let data = '';
      s.on('data', (d: Buffer) => (data += d.toString()));
      s.on('error', reject);
      s.on('close', () => resolve({ status: Number(data.split(' ')[1]), closed: !data.includes('PodList') }));
    });
    expect(res).toEqual({ status: 400, closed: true });
  });

  it('exec with a TTY over WebSocket v5: the container sees a terminal of the size the client sent', async () => {
    const url = apiserver.url.replace('http:', 'ws:') + '/api/v1/namespaces/default/pods/web/exec?command=sh&command=-c&command=' + encodeURIComponent('sleep 1; tty; stty size') + '&stdin=true&stdout=true&tty=true';
    const ws = new WebSocket(url, ['v5.channel.k8s.io']);
    let out = '';
    let status = '';
    ws.on('message', (d: Buffer) => {
      const m = decodeChannelMessage(d, { base64: false, closeSignal: false })!;
      if (m.kind !== 'data') return;
      if (m.channel === 1) out += m.data.toString();
      if (m.channel === 3) status += m.data.toString();
    });
    await new Promise((r) => ws.once('open', r));
    expect(ws.protocol).toBe('v5.channel.k8s.io');
    ws.send(Buffer.concat([Buffer.from([4]), Buffer.from(JSON.stringify({ Width: 101, Height: 33 }))]));
    await new Promise((r) => ws.once('close', r));
    expect(JSON.stringify(out.replace(/\r/g, ''))).toMatch(/^"\/dev\/pts\/\d+\\n33 101\\n"$/);
    expect(JSON.parse(status)).toEqual({ metadata: {}, status: 'Success' });
  });

  it('exec -ti from kubectl under a pseudo-terminal: the TTY and its size reach the container', async () => {
    let python: string;
    try {
      python = execFileSync('sh', ['-c', 'command -v python3'], { encoding: 'utf8' }).trim();
    } catch {
      return; // no python3 to make a pseudo-terminal with
    }
    const k = versions[0]!;
    // python's pty module gives kubectl a terminal of 27 rows and 91 columns on stdin and stdout.
    const driver = [
      'import fcntl, os, pty, struct, sys, termios, time',
      'pid, fd = pty.fork()',
      'if pid == 0:',
      '    os.execv(sys.argv[1], sys.argv[1:])',
      "fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 27, 91, 0, 0))",
      'out = b""',
      'deadline = time.time() + 30',
      'while time.time() < deadline:',
      '    try:',
      '        chunk = os.read(fd, 4096)',
      '    except OSError:',
      '        break',
      '    if not chunk:',
      '        break',
      '    out += chunk',
      'sys.stdout.write(out.decode(errors="replace"))',
      '_, st = os.waitpid(pid, 0)',
      'sys.exit(os.waitstatus_to_exitcode(st))',
    ].join('\n');
    const p = spawn(python, ['-c', driver, k.path, '--kubeconfig', apiserver.kubeconfig, 'exec', '-ti', 'web', '--', 'sh', '-c', 'sleep 1; tty; stty size'], { env: { ...process.env, HOME: os.tmpdir() }, detached: true });
    let r = '';
    p.stdout.on('data', (d: Buffer) => (r += d.toString()));
    p.stderr.on('data', (d: Buffer) => (r += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const t = setTimeout(() => process.kill(-p.pid!, 'SIGKILL'), 30_000);
      p.on('close', (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    expect({ code, out: r.replace(/\r/g, '') }).toMatchObject({ code: 0 });
    expect(r.replace(/\r/g, '')).toMatch(/\/dev\/pts\/\d+\n27 91\n/);
  });

  it('nodes/proxy reaches the kubelet API (stats/summary, pods)', async () => {
    const k = versions[0]!;
    const summary = await kubectl(k, ['get', '--raw', `/api/v1/nodes/${node.nodeName}/proxy/stats/summary`]);
    expect(summary.code).toBe(0);
    const s = JSON.parse(summary.stdout);
    expect(s.node.nodeName).toBe(node.nodeName);
    expect(s.pods.map((p: { podRef: { name: string } }) => p.podRef.name)).toEqual(expect.arrayContaining(['web', 'two', 'attachable', 'httpd']));
    const pods = JSON.parse((await kubectl(k, ['get', '--raw', `/api/v1/nodes/${node.nodeName}/proxy/pods`])).stdout);
    expect(pods.kind).toBe('PodList');
  });

  it('drain: cordons the node and evicts its pods', async () => {
    const k = versions[0]!;
    // Stand in for the kubelet's pod lifecycle: finish the deletion of pods it was asked to stop.
    const stop = { done: false };
    const finisher = (async () => {
      while (!stop.done) {
        const res = await fetch(`${apiserver.url}/api/v1/pods?fieldSelector=spec.nodeName=${node.nodeName}`);
        const list = (await res.json()) as { items: Array<{ metadata: { name: string; namespace: string; deletionTimestamp?: string; uid: string } }> };
        for (const p of list.items.filter((x) => x.metadata.deletionTimestamp)) {
          await fetch(`${apiserver.url}/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`, { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ gracePeriodSeconds: 0, preconditions: { uid: p.metadata.uid } }) });
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const r = await kubectl(k, ['drain', node.nodeName, '--ignore-daemonsets', '--force', '--timeout=60s'], { timeoutMs: 90_000 });
    stop.done = true;
    await finisher;
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`node/${node.nodeName} cordoned`);
    expect(r.stdout).toContain('pod/web evicted');
    expect(r.stdout).toContain(`node/${node.nodeName} drained`);
    const n = await kubectl(k, ['get', 'node', node.nodeName, '-o', 'jsonpath={.spec.unschedulable}']);
    expect(n.stdout).toBe('true');
  });
});
