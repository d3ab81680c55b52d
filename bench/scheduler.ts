/**
 * Scheduler figures: 5,000 pods onto 1,000 nodes (all created through the API), pods bound per
 * second and the latency from each pod's creation to its binding seen on a watch, for
 * tkube-scheduler and for the raw baseline, a round-robin binder with no scheduling logic
 * (bench/scheduler-binder.ts) binding at the same concurrency. Both run as their own processes
 * against the same API server and etcd; each gets a fresh namespace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEtcd } from '../test/support/etcd.js';
import { freePort } from '../test/support/ports.js';
import { percentile, progress, type Row } from './table.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const concurrency = 32;

export function request(url: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
  });
}

export async function must(url: string, method: string, body: unknown, want: number): Promise<string> {
  const r = await request(url, method, body);
  if (r.status !== want) throw new Error(`${method} ${url}: ${r.status} ${r.text.slice(0, 300)}`);
  return r.text;
}

export async function runConcurrent(total: number, n: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < total) await fn(next++);
    }),
  );
}

export async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function quiet(proc: ChildProcess, name: string): void {
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  proc.on('exit', (code, sig) => {
    if (code && code !== 0 && sig === null) process.stderr.write(`${name} exited with ${code}: ${err}\n`);
  });
}

export async function startAPIServer(endpoints: string[]): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    [path.join(root, 'dist/cmd/tkube-apiserver/main.js'), `--etcd-servers=${endpoints.join(',')}`, `--insecure-port=${port}`, '--secure-port=0', '--max-requests-inflight=2000', '--max-mutating-requests-inflight=1000'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  quiet(proc, 'tkube-apiserver');
  const url = `http://127.0.0.1:${port}`;
  await waitFor('tkube-apiserver', async () => (await request(`${url}/readyz`, 'GET')).status === 200);
  return { url, proc };
}

function nodeBody(name: string, zone: string) {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': zone } } };
}

function podBody(name: string, namespace: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: 'bench' } },
    spec: { containers: [{ name: 'app', image: 'busybox:1.36', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
  };
}

async function createNodes(url: string, n: number): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const resources = { cpu: '32', memory: '64Gi', pods: '110' };
  await runConcurrent(n, concurrency, async (i) => {
    const name = `node-${String(i).padStart(4, '0')}`;
    const registered = JSON.parse(await must(`${url}/api/v1/nodes`, 'POST', nodeBody(name, `zone-${i % 3}`), 201)) as { spec?: { taints?: { key: string }[] } };
    // The API server registers nodes tainted not-ready (TaintNodesByCondition); with no node
    // lifecycle controller running, the bench removes the taint itself, as that controller would.
    const untainted = { ...registered, spec: { ...registered.spec, taints: (registered.spec?.taints ?? []).filter((t) => t.key !== 'node.kubernetes.io/not-ready') } };
    const created = JSON.parse(await must(`${url}/api/v1/nodes/${name}`, 'PUT', untainted, 200)) as Record<string, unknown>;
    const status = { capacity: resources, allocatable: resources, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: now, lastTransitionTime: now }] };
    await must(`${url}/api/v1/nodes/${name}/status`, 'PUT', { ...created, status }, 200);
  });
}

/** Watches the namespace's pods from `rv`, handing each event's line to `onLine` with the time it arrived. */
export function watchPodLines(url: string, namespace: string, rv: string, onLine: (line: string, at: number) => void): { stop(): void; opened: Promise<void> } {
  let req: http.ClientRequest | undefined;
  const opened = new Promise<void>((resolve, reject) => {
    req = http.get(`${url}/api/v1/namespaces/${namespace}/pods?watch=1&resourceVersion=${rv}`, { agent: new http.Agent({ keepAlive: false }) }, (res) => {
      resolve();
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          onLine(line, performance.now());
        }
      });
    });
    req.on('error', reject);
  });
  return { opened, stop: () => req?.destroy() };
}

/** Watches the namespace's pods and records when each is first seen bound. */
function watchBindings(url: string, namespace: string, rv: string): { bound: Map<string, number>; stop(): void; opened: Promise<void> } {
  const bound = new Map<string, number>();
  const w = watchPodLines(url, namespace, rv, (line, at) => {
    // Cheap test first: most events (status writes) do not carry a binding news.
    if (!line.includes('"nodeName"')) return;
    const ev = JSON.parse(line) as { object: { metadata: { name: string }; spec?: { nodeName?: string } } };
    const name = ev.object.metadata.name;
    if (ev.object.spec?.nodeName && !bound.has(name)) bound.set(name, at);
  });
  return { bound, ...w };
}

async function createPods(url: string, namespace: string, pods: number, created?: Map<string, number>): Promise<void> {
  await runConcurrent(pods, concurrency, async (i) => {
    const name = `pod-${i}`;
    created?.set(name, performance.now());
    await must(`${url}/api/v1/namespaces/${namespace}/pods`, 'POST', podBody(name, namespace), 201);
  });
}

export async function newNamespace(url: string, namespace: string): Promise<string> {
  await must(`${url}/api/v1/namespaces`, 'POST', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, 201);
  return (JSON.parse(await must(`${url}/api/v1/namespaces/${namespace}/pods`, 'GET', undefined, 200)) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
}

async function deletePods(url: string, namespace: string): Promise<void> {
  await must(`${url}/api/v1/namespaces/${namespace}/pods?gracePeriodSeconds=0`, 'DELETE', undefined, 200);
}

/**
 * Throughput: `pods` pending pods are created first, then the binder starts; pods per second
 * from the first binding seen to the last, so that process start-up is not counted.
 */
async function measureBacklog(url: string, namespace: string, pods: number, startBinder: () => Promise<void>): Promise<number> {
  const rv = await newNamespace(url, namespace);
  await createPods(url, namespace, pods);
  const w = watchBindings(url, namespace, rv);
  await w.opened;
  await startBinder();
  await waitFor('every pod to be bound', async () => w.bound.size >= pods, 300_000);
  w.stop();
  const times = [...w.bound.values()];
  return (pods - 1) / ((Math.max(...times) - Math.min(...times)) / 1000);
}

interface LiveResult {
  podsPerSecond: number;
  p50: number;
  p99: number;
}

/**
 * Latency: `pods` pods are created (at the bench's concurrency) while the binder runs; each
 * pod's latency runs from just before its create request to its binding seen on a watch.
 */
async function measureLive(url: string, namespace: string, pods: number): Promise<LiveResult> {
  const rv = await newNamespace(url, namespace);
  const w = watchBindings(url, namespace, rv);
  await w.opened;
  const created = new Map<string, number>();
  const start = performance.now();
  await createPods(url, namespace, pods, created);
  await waitFor('every pod to be bound', async () => w.bound.size >= pods, 300_000);
  w.stop();
  const last = Math.max(...w.bound.values());
  const lat = [...created].map(([name, t]) => w.bound.get(name)! - t).sort((a, b) => a - b);
  return { podsPerSecond: pods / ((last - start) / 1000), p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

/** A kubeconfig in `dir` for the programs the bench starts. */
export function writeKubeconfig(dir: string, url: string): string {
  const kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: b\n  cluster:\n    server: ${url}\ncontexts:\n- name: b\n  context:\n    cluster: b\n    user: u\ncurrent-context: b\nusers:\n- name: u\n  user: {}\n`,
  );
  return kubeconfig;
}

export async function stopProc(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return;
  p.kill('SIGTERM');
  await new Promise((r) => p.once('exit', r));
}

export async function benchScheduler(opts: { quick: boolean }): Promise<Row[]> {
  const numNodes = opts.quick ? 200 : 1000;
  const numPods = opts.quick ? 1000 : 5000;
  const etcd = await startEtcd();
  const api = await startAPIServer(etcd.endpoints);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-bench-scheduler-'));
  const kubeconfig = writeKubeconfig(dir, api.url);
  const procs: ChildProcess[] = [];
  try {
    progress(`creating ${numNodes} nodes through the API`);
    await createNodes(api.url, numNodes);

    type Who = 'baseline' | 'scheduler';
    let schedulerPort = 0;
    /** Starts the binder; for the scheduler, `ready` waits until its caches have synced. */
    const startBinder = async (who: Who, ready: boolean): Promise<ChildProcess> => {
      let proc: ChildProcess;
      if (who === 'baseline') {
        proc = spawn(process.execPath, [path.join(root, 'dist/bench/scheduler-binder.js'), `--url=${api.url}`, `--concurrency=${concurrency}`], { stdio: ['ignore', 'pipe', 'pipe'] });
        procs.push(proc);
        quiet(proc, 'scheduler-binder');
        await new Promise<void>((resolve) => proc.stdout!.once('data', () => resolve()));
      } else {
        schedulerPort = await freePort();
        proc = spawn(process.execPath, [path.join(root, 'dist/cmd/tkube-scheduler/main.js'), `--kubeconfig=${kubeconfig}`, `--secure-port=${schedulerPort}`, '--leader-elect=false'], { stdio: ['ignore', 'ignore', 'pipe'] });
        procs.push(proc);
        quiet(proc, 'tkube-scheduler');
        if (ready) await waitFor('tkube-scheduler', async () => (await request(`http://127.0.0.1:${schedulerPort}/readyz`, 'GET')).status === 200);
      }
      return proc;
    };
    const name = (who: Who) => (who === 'baseline' ? `round-robin binder (${concurrency} bindings in flight)` : 'tkube-scheduler');

    // Throughput: rounds alternate who goes first, so that drift in the machine's load (other
    // work on it, etcd compaction) falls on both alike; the median of the rounds counts.
    const rounds = opts.quick ? 2 : 3;
    const backlog: Record<Who, number[]> = { baseline: [], scheduler: [] };
    for (let r = 0; r < rounds; r++) {
      const order: Who[] = r % 2 === 0 ? ['baseline', 'scheduler'] : ['scheduler', 'baseline'];
      for (const who of order) {
        progress(`round ${r + 1}/${rounds}, ${name(who)}: ${numPods} pending pods, then it starts`);
        let proc: ChildProcess | undefined;
        const ns = `${who}-backlog-${r}`;
        backlog[who].push(await measureBacklog(api.url, ns, numPods, async () => void (proc = await startBinder(who, false))));
        await stopProc(proc!);
        await deletePods(api.url, ns);
      }
    }
    // Latency: pods created at the bench's concurrency while the binder runs.
    const live = {} as Record<Who, LiveResult>;
    for (const who of ['baseline', 'scheduler'] as const) {
      progress(`${name(who)}: ${numPods} pods created at concurrency ${concurrency} while it runs`);
      const proc = await startBinder(who, true);
      live[who] = await measureLive(api.url, `${who}-live`, numPods);
      if (who === 'scheduler') {
        const metrics = (await request(`http://127.0.0.1:${schedulerPort}/metrics`, 'GET')).text;
        const scheduled = Number(/scheduler_schedule_attempts_total\{profile="default-scheduler",result="scheduled"\} (\d+)/.exec(metrics)?.[1]);
        if (scheduled !== numPods) throw new Error(`the scheduler reports ${scheduled} scheduled pods, expected ${numPods}`);
      }
      await stopProc(proc);
      await deletePods(api.url, `${who}-live`);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ours = median(backlog.scheduler);
    const base = median(backlog.baseline);
    const label = `${numPods} pods onto ${numNodes} nodes`;
    const bn = 'round-robin binder';
    return [
      { name: `pods bound/s, ${label}, pending at start (median of ${rounds})`, measured: ours, unit: '/s', baseline: base, baselineName: bn, target: 'measured >= 300/s', ok: ours >= 300 },
      { name: `pods bound/s, ${label}, created meanwhile`, measured: live.scheduler.podsPerSecond, unit: '/s', baseline: live.baseline.podsPerSecond, baselineName: bn },
      { name: 'creation → bound (watch), p50', measured: live.scheduler.p50, unit: 'ms', baseline: live.baseline.p50, baselineName: bn },
      { name: 'creation → bound (watch), p99', measured: live.scheduler.p99, unit: 'ms', baseline: live.baseline.p99, baselineName: bn, target: 'p99 <= 5000 ms', ok: live.scheduler.p99 <= 5000 },
    ];
  } finally {
    for (const p of procs) await stopProc(p);
    await stopProc(api.proc);
    await etcd.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
