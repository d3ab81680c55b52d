#!/usr/bin/env node
/**
 * The raw baseline for the scheduler bench: a trivial binder with no scheduling logic at all.
 * It lists the nodes once, watches pending pods, and binds each to the next node in turn
 * (round robin) through pods/binding, with at most --concurrency bindings in flight. What it
 * achieves is the API server's binding throughput; the scheduler is measured against it.
 *
 * Prints "ready" on stdout once its watch is open.
 */
import http from 'node:http';
import { flag, parseProgramFlags } from '../lib/base/index.js';

const { flags } = parseProgramFlags('scheduler-binder', 'binds pending pods round robin, as a baseline for the scheduler bench', {
  url: flag('string', 'http://127.0.0.1:8080', 'API server URL.'),
  concurrency: flag('int', 32, 'Bindings in flight at most.'),
});

const agent = new http.Agent({ keepAlive: true, maxSockets: flags.concurrency + 4 });

function request(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(flags.url + path, { method, agent, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

interface PodLite {
  metadata: { name: string; namespace: string; uid?: string; resourceVersion?: string };
  spec?: { nodeName?: string };
}

const nodes = (JSON.parse((await request('GET', '/api/v1/nodes')).text) as { items: { metadata: { name: string } }[] }).items.map((n) => n.metadata.name);
if (nodes.length === 0) throw new Error('no nodes');
let next = 0;
const pending: PodLite[] = [];
const seen = new Set<string>();
let inFlight = 0;

function pump(): void {
  while (inFlight < flags.concurrency && pending.length > 0) {
    const pod = pending.shift()!;
    const node = nodes[next++ % nodes.length]!;
    inFlight++;
    void request('POST', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/binding`, {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: pod.metadata.name, uid: pod.metadata.uid },
      target: { kind: 'Node', name: node },
    })
      .then((r) => {
        if (r.status !== 201) process.stderr.write(`binding ${pod.metadata.name}: ${r.status} ${r.text}\n`);
      })
      .catch((err: Error) => process.stderr.write(`binding ${pod.metadata.name}: ${err.message}\n`))
      .finally(() => {
        inFlight--;
        pump();
      });
  }
}

function offer(pod: PodLite): void {
  const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
  if (pod.spec?.nodeName || seen.has(key)) return;
  seen.add(key);
  pending.push(pod);
  pump();
}

const list = JSON.parse((await request('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3D')).text) as { metadata: { resourceVersion: string }; items: PodLite[] };
for (const p of list.items) offer(p);
http.get(`${flags.url}/api/v1/pods?watch=1&fieldSelector=spec.nodeName%3D&resourceVersion=${list.metadata.resourceVersion}`, { agent: new http.Agent({ keepAlive: false }) }, (res) => {
  process.stdout.write('ready\n');
  let buf = '';
  res.setEncoding('utf8');
  res.on('data', (c: string) => {
    buf += c;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line.trim()) continue;
      const ev = JSON.parse(line) as { type: string; object: PodLite };
      if (ev.type === 'ADDED' || ev.type === 'MODIFIED') offer(ev.object);
    }
  });
  res.on('end', () => process.exit(0));
});
process.on('SIGTERM', () => process.exit(0));
