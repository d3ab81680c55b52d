/**
 * API server figures: creates per second against raw etcd transactions at the same
 * concurrency, one update's fan-out to 1,000 watchers, and a 10,000-pod list from the cache.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { startEtcd } from '../test/support/etcd.js';
import { freePort } from '../test/support/ports.js';
import { percentile, progress, type Row } from './table.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function podBody(name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'bench', tier: 'web' } },
    spec: { containers: [{ name: 'app', image: 'busybox:1.36', command: ['sleep', '3600'], ports: [{ containerPort: 8080 }] }] },
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function request(url: string, method: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function runConcurrent(total: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await fn(next++);
    }),
  );
  return (performance.now() - start) / 1000;
}

async function startServer(endpoints: string[], workers: number, etcdPrefix: string): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const args = [`--etcd-servers=${endpoints.join(',')}`, `--etcd-prefix=${etcdPrefix}`, `--insecure-port=${port}`, '--secure-port=0', '--max-requests-inflight=2000', '--max-mutating-requests-inflight=1000', `--workers=${workers}`];
  const proc = spawn(process.execPath, [path.join(root, 'dist/cmd/tkube-apiserver/main.js'), ...args], {
    stdio: ['ignore', 'ignore', 'ignore'],
    env: { ...process.env, TKUBE_LOG_LEVEL: 'warn' },
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await request(`${url}/readyz`, 'GET')).status === 200) return { url, proc };
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('tkube-apiserver did not start');
}

export async function benchAPIServer(opts: { quick: boolean }): Promise<Row[]> {
  const rows: Row[] = [];
  const etcd = await startEtcd();
  const hosts = etcd.endpoints.map((e) => e.replace('http://', ''));
  const raw = new Etcd3({ hosts, grpcOptions: { 'grpc.max_receive_message_length': 256 * 1024 * 1024 } });
  // The default single-process server, and one with a worker per core (Node runs JavaScript on
  // one core per process, upstream's Go server on all of them), each on a key prefix of its own.
  const workers = Math.max(1, os.availableParallelism());
  const server = await startServer(etcd.endpoints, 1, '/registry');
  const multi = workers > 1 ? await startServer(etcd.endpoints, workers, '/registry-workers') : undefined;
  const concurrency = 32;
  // 10,000 pods in the default server's cache for the list: a warm-up round, then the rounds timed.
  const perRound = opts.quick ? 500 : 1000;
  const rounds = opts.quick ? 3 : 9;
  try {
    // (1) creates per second: raw etcd3 transactions vs. POSTs through the API server. Both get
    // a warm-up round first (the JIT and etcd's client warm up over ~1,000 calls), then short
    // rounds alternate, each side going first every other round, so that both see the same
    // disk and the same machine load: this machine's speed drifts by tens of percent.
    const value = Buffer.from(JSON.stringify(podBody('x')));
    const rawRound = (round: number | string) =>
      runConcurrent(perRound, concurrency, async (i) => {
        const key = Buffer.from(`/bench-raw/pods/default/p${round}-${i}`);
        await raw.kv.txn({ compare: [{ key, target: 'Mod' as never, result: 'Equal' as never, mod_revision: '0' }], success: [{ request_put: { key, value } }], failure: [] });
      }).then((secs) => perRound / secs);
    let failed = 0;
    const apiRound = (url: string, round: number | string) =>
      runConcurrent(perRound, concurrency, async (i) => {
        const r = await request(`${url}/api/v1/namespaces/default/pods`, 'POST', JSON.stringify(podBody(`p${round}-${i}`)));
        if (r.status !== 201) failed++;
      }).then((secs) => perRound / secs);
    progress(`warm-up: ${perRound} raw etcd3 create transactions, ${perRound} pod creates through tkube-apiserver`);
    await rawRound('warm');
    await apiRound(server.url, 'warm');
    const rawRates: number[] = [];
    const apiRates: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const rawFirst = round % 2 === 0;
      const a = rawFirst ? await rawRound(round) : await apiRound(server.url, round);
      const b = rawFirst ? await apiRound(server.url, round) : await rawRound(round);
      const [rawRate, apiRate] = rawFirst ? [a, b] : [b, a];
      rawRates.push(rawRate);
      apiRates.push(apiRate);
      progress(`round ${round + 1}/${rounds}: ${perRound} creates each, concurrency ${concurrency}: raw etcd3 ${rawRate.toFixed(0)}/s, tkube-apiserver ${apiRate.toFixed(0)}/s (${(apiRate / rawRate).toFixed(2)})`);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const rawRate = median(rawRates);
    const apiRate = median(apiRates);
    rows.push({ name: `creates/s, ${rounds} rounds of ${perRound} pods, concurrency ${concurrency}, one process (default; medians)`, measured: apiRate, unit: '/s', baseline: rawRate, baselineName: 'raw etcd3 txn', target: 'ratio >= 0.50', ok: apiRate / rawRate >= 0.5 });
    // --workers=N beside it, after the timed rounds (on 2 cores shared with etcd and this client
    // it is slower: every worker decodes every watch event, and the processes share the cores).
    if (multi) {
      progress(`--workers=${workers}: a warm-up round, then 3 rounds of ${perRound} pod creates`);
      await apiRound(multi.url, 'warm');
      const multiRates: number[] = [];
      for (let round = 0; round < 3; round++) multiRates.push(await apiRound(multi.url, round));
      rows.push({ name: `creates/s, the same through --workers=${workers} (median of 3 rounds)`, measured: median(multiRates), unit: '/s', baseline: rawRate, baselineName: 'raw etcd3 txn' });
    }
    if (failed) throw new Error(`${failed} creates failed`);

    // (3) listing every pod from the watch cache.
    const listN = (rounds + 1) * perRound;
    progress(`list of ${listN} pods from the watch cache (resourceVersion=0)`);
    const listTimes: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      const r = await request(`${server.url}/api/v1/pods?resourceVersion=0`, 'GET');
      listTimes.push(performance.now() - t);
      if (r.status !== 200) throw new Error(`list failed: ${r.status}`);
      if (i === 0) {
        const n = (JSON.parse(r.text) as { items: unknown[] }).items.length;
        if (n !== listN) throw new Error(`list returned ${n} pods, expected ${listN}`);
      }
    }
    const rawList: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await raw.getAll().prefix('/bench-raw/pods/').buffers();
      rawList.push(performance.now() - t);
    }
    listTimes.sort((a, b) => a - b);
    rawList.sort((a, b) => a - b);
    rows.push({ name: `list ${listN} pods (rv=0, cache), p50`, measured: percentile(listTimes, 50), unit: 'ms', baseline: percentile(rawList, 50), baselineName: 'raw etcd range', target: 'measured < 200 ms', ok: percentile(listTimes, 50) < 200 });

    // (2) one update reaching 1,000 watchers.
    const watchers = opts.quick ? 200 : 1000;
    progress(`${watchers} watchers; timing updates to reach all of them`);
    await request(`${server.url}/api/v1/namespaces/default/configmaps`, 'POST', JSON.stringify({ metadata: { name: 'fanout' }, data: { n: '0' } }));
    const rv = (JSON.parse((await request(`${server.url}/api/v1/namespaces/default/configmaps`, 'GET')).text) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const wAgent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    let pending: { sent: number; n: number; got: number; done: () => void } | undefined;
    const samples: number[] = [];
    const reqs: http.ClientRequest[] = [];
    await Promise.all(
      Array.from({ length: watchers }, () =>
        new Promise<void>((resolve, reject) => {
          const req = http.get(`${server.url}/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${rv}`, { agent: wAgent }, (res) => {
            resolve();
            let buf = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => {
              buf += c;
              let i: number;
              while ((i = buf.indexOf('\n')) >= 0) {
                buf = buf.slice(i + 1);
                if (pending) {
                  samples.push(performance.now() - pending.sent);
                  if (++pending.got === pending.n) pending.done();
                }
              }
            });
          });
          req.on('error', reject);
          reqs.push(req);
        }),
      ),
    );
    const updates = opts.quick ? 5 : 20;
    for (let i = 1; i <= updates; i++) {
      await new Promise<void>((done) => {
        pending = { sent: performance.now(), n: watchers, got: 0, done };
        void request(`${server.url}/api/v1/namespaces/default/configmaps/fanout`, 'PATCH', JSON.stringify({ data: { n: String(i) } }), { 'content-type': 'application/merge-patch+json' });
      });
      pending = undefined;
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const r of reqs) r.destroy();
    samples.sort((a, b) => a - b);
    rows.push({ name: `update → ${watchers} watchers, p50`, measured: percentile(samples, 50), unit: 'ms' });
    rows.push({ name: `update → ${watchers} watchers, p99`, measured: percentile(samples, 99), unit: 'ms', target: 'p99 < 250 ms', ok: percentile(samples, 99) < 250 });
  } finally {
    server.proc.kill('SIGTERM');
    multi?.proc.kill('SIGTERM');
    raw.close();
    await etcd.stop();
  }
  return rows;
}
