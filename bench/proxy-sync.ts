/**
 * tkube-proxy programming figures (issue #6): how long the iptables proxier takes to program
 * 100, 1,000 and 5,000 services (3 endpoints each):
 *   - the first full sync into an empty namespace (it reads iptables-save, creates every chain);
 *   - the periodic full sync (every chain rewritten from the model, the jumps from the built-in
 *     chains checked in the same restore) next to one `iptables-restore --noflush` of the very same
 *     payload, which is the target's baseline;
 *   - a full sync after a jump from a built-in chain was deleted behind the proxier's back (the
 *     check fails, iptables-save is read, everything is written again);
 * a one-endpoint change at 5,000 services (a partial sync: only the changed service's chains)
 * against the periodic full sync; and one restore against one `iptables` call per rule, the way a
 * naive proxy would program the kernel. Everything runs in network namespaces made here (root)
 * and removed at the end.
 */
import { randomBytes } from 'node:crypto';
import { silentLogger } from '../lib/base/index.js';
import { ExecProxyHost, IptablesProxier, makeEndpointSlice, makeService, type ProxyState } from '../lib/proxy/index.js';
import { Netns, netnsAvailable } from '../test/support/netns.js';
import { progress, type Row } from './table.js';

/** N services with 3 ready endpoints each; `bump` moves one endpoint of service 0. */
function state(n: number, bump = 0): ProxyState {
  const services = [];
  const endpointSlices = [];
  for (let i = 0; i < n; i++) {
    const ip = `10.96.${(i >> 8) & 255}.${i & 255}`;
    services.push(makeService('bench', `svc-${i}`, { clusterIP: ip, ports: [{ name: 'http', port: 80, targetPort: 8080 }] }));
    const eps = [0, 1, 2].map((k) => ({ ip: `10.244.${(i * 3 + k) >> 8 & 255}.${(i * 3 + k) & 255}`, nodeName: 'node-1' }));
    if (i === 0 && bump) eps[0] = { ip: `10.245.0.${bump}`, nodeName: 'node-1' };
    endpointSlices.push(makeEndpointSlice('bench', `svc-${i}`, eps, [{ name: 'http', port: 8080 }]));
  }
  return { services, endpointSlices };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Splits one iptables-restore rule line into argv, honouring double quotes (the comments). */
function splitRule(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] !== undefined ? m[1].replace(/\\"/g, '"') : m[2]!);
  return out;
}

/** Programs a restore payload with one iptables call per chain and per rule. */
async function perRule(ns: Netns, payload: string): Promise<number> {
  let table = '';
  let calls = 0;
  const builtin = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);
  for (const line of payload.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    else if (line.startsWith(':')) {
      const chain = line.slice(1).split(' ')[0]!;
      if (builtin.has(chain)) continue;
      await ns.run(['iptables', '-w', '-t', table, '-N', chain]).catch(() => ns.run(['iptables', '-w', '-t', table, '-F', chain]));
      calls++;
    } else if (line.startsWith('-A ') || line.startsWith('-I ')) {
      await ns.run(['iptables', '-w', '-t', table, ...splitRule(line)]);
      calls++;
    }
  }
  return calls;
}

export async function benchProxySync(opts: { quick: boolean }): Promise<Row[]> {
  if (!netnsAvailable()) throw new Error('the proxy sync bench needs root, nsenter and iptables');
  const sizes = opts.quick ? [100, 1000] : [100, 1000, 5000];
  const rounds = 3;
  const rows: Row[] = [];
  const id = randomBytes(3).toString('hex');
  const namespaces: Netns[] = [];
  try {
    let fullAtLargest = 0;
    let largest = 0;
    let smallPayload = '';
    for (const n of sizes) {
      const ns = await Netns.create(`tkube-bench-${id}-${n}`);
      namespaces.push(ns);
      const host = new ExecProxyHost({ netns: ns.name });
      const proxier = new IptablesProxier({ host, log: silentLogger(), nodeName: 'node-1', nodeIPs: ['192.0.2.10'], clusterCIDR: '10.244.0.0/16' });
      proxier.setState(state(n));
      progress(`proxy sync: ${n} services × 3 endpoints: the first full sync, ${rounds} periodic full syncs, ${rounds} restores of the same ruleset, one sync after tampering`);
      let firstPayload = '';
      const first = await timed(async () => {
        const r = await proxier.sync();
        if (!r?.full) throw new Error('expected the first sync to be a full one');
        firstPayload = r.payload;
      });
      const full: number[] = [];
      let payload = '';
      for (let r = 0; r < rounds; r++) {
        full.push(
          await timed(async () => {
            payload = (await proxier.sync({ full: true }))!.payload;
          }),
        );
      }
      const restore: number[] = [];
      for (let r = 0; r < rounds; r++) restore.push(await timed(() => host.restore(payload)));
      // Someone deletes the jump into KUBE-SERVICES: the next full sync notices and reads iptables-save.
      await ns.run(['iptables', '-w', '-t', 'nat', '-D', 'PREROUTING', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES']);
      const repair = await timed(() => proxier.sync({ full: true }));
      await ns.run(['iptables', '-w', '-t', 'nat', '-C', 'PREROUTING', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES']);
      const base = { unit: 'ms', baseline: median(restore), baselineName: 'one iptables-restore of it' };
      rows.push({ name: `first full sync, ${n} services × 3 endpoints (empty tables, reads iptables-save)`, measured: first, ...base });
      rows.push({ name: `periodic full sync, ${n} services × 3 endpoints (median of ${rounds})`, measured: median(full), ...base, target: 'ratio <= 1.2', ok: median(full) / median(restore) <= 1.2 });
      rows.push({ name: `full sync after a jump was deleted, ${n} services (reads iptables-save)`, measured: repair, ...base });
      // For an empty namespace: the first sync's payload (the periodic one checks for jumps there).
      if (n === sizes[0]) smallPayload = firstPayload;
      if (n === sizes[sizes.length - 1]) {
        largest = n;
        fullAtLargest = median(full);
        progress(`proxy sync: one endpoint changed among ${n} services, ${rounds} times`);
        const partial: number[] = [];
        for (let r = 1; r <= rounds; r++) {
          proxier.setState(state(n, r));
          const t = performance.now();
          const res = await proxier.sync();
          partial.push(performance.now() - t);
          if (!res || res.full || res.changedServices.length !== 1) throw new Error(`expected a partial sync of one service, got ${res ? `${res.full ? 'a full sync' : res.changedServices.length + ' services'}` : 'none'}`);
        }
        rows.push({ name: `one endpoint changed at ${n} services (partial sync)`, measured: median(partial), unit: 'ms', baseline: fullAtLargest, baselineName: `periodic full sync of ${largest}`, target: 'ratio <= 0.10', ok: median(partial) / fullAtLargest <= 0.1 });
      }
    }
    // One restore vs one iptables call per chain and rule, for the smallest ruleset.
    const ns = await Netns.create(`tkube-bench-${id}-rules`);
    namespaces.push(ns);
    progress(`proxy sync: the ${sizes[0]}-service ruleset one iptables call per rule`);
    let calls = 0;
    const oneByOne = await timed(async () => {
      calls = await perRule(ns, smallPayload);
    });
    const fresh = await Netns.create(`tkube-bench-${id}-restore`);
    namespaces.push(fresh);
    const once = await timed(() => new ExecProxyHost({ netns: fresh.name }).restore(smallPayload));
    rows.push({ name: `${sizes[0]} services: one restore vs ${calls} iptables calls`, measured: once, unit: 'ms', baseline: oneByOne, baselineName: 'one call per rule' });
    return rows;
  } finally {
    for (const ns of namespaces) await ns.destroy().catch(() => undefined);
  }
}
