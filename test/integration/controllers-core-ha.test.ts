/**
 * The built tkube-controller-manager program: flags and --help, and two replicas with leader
 * election (one active, the other on standby, fail-over within the lease duration when the
 * active one is killed).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Resources } from '../../lib/client/index.js';
import { eventually } from '../support/controllers.js';
import { freePort } from '../support/ports.js';
import { clientFor } from '../support/cluster.js';
import { startAPIServer, type TestAPIServer } from '../support/apiserver.js';

const root = path.resolve(import.meta.dirname, '../..');
const bin = (name: string) => path.join(root, 'dist/cmd', name, 'main.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds dist/ unless it is newer than every source (npm test builds first). */
async function ensureBuilt(): Promise<void> {
  const out = bin('tkube-controller-manager');
  const stale = !fs.existsSync(out) || !fs.existsSync(bin('tkube-simnode')) || fs.statSync(out).mtimeMs < Math.max(newestSource(path.join(root, 'lib')), newestSource(path.join(root, 'cmd')));
  if (stale) await promisify(execFile)(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root });
}

function run(args: string[], name = 'tkube-controller-manager'): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin(name), ...args], { timeout: 30_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

let s: TestAPIServer;
beforeAll(async () => {
  await ensureBuilt();
  s = await startAPIServer();
}, 180_000);
afterAll(async () => {
  await s?.stop();
});

describe('tkube-simnode program', () => {
  test('registers the nodes it is asked for, heartbeats, and unregisters them on SIGTERM', async () => {
    const client = clientFor(s);
    const p = spawn(process.execPath, [bin('tkube-simnode'), '--kubeconfig', s.kubeconfig, '--nodes', '12', '--node-name-prefix', 'lab-', '--zones', 'a,b', '--node-taints', 'dedicated=lab:NoSchedule', '--node-lease-renew-interval', '500ms', '--unregister-on-exit'], { stdio: 'ignore' });
    try {
      const nodes = await eventually(async () => {
        const items = (await client.resource(Resources.nodes).list()).items.filter((n) => n.metadata.name!.startsWith('lab-'));
        return items.length === 12 && items.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) && items;
      }, 20_000);
      expect(nodes.map((n) => n.metadata.name).sort()[0]).toBe('lab-00');
      expect(nodes.filter((n) => n.metadata.labels!['topology.kubernetes.io/zone'] === 'a')).toHaveLength(6);
      // Its own taint; TaintNodesByCondition also adds not-ready:NoSchedule to every new node, which
      // the node lifecycle controller (not running here) lifts once the node reports Ready.
      expect(nodes[0]!.spec!.taints).toEqual([{ key: 'dedicated', value: 'lab', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }]);
      const leases = client.resource(Resources.leases, 'kube-node-lease');
      const t0 = (await eventually(() => leases.get('lab-03'), 5000)).spec!.renewTime;
      await eventually(async () => (await leases.get('lab-03')).spec!.renewTime !== t0, 5000);
      const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
      p.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect((await client.resource(Resources.nodes).list()).items.filter((n) => n.metadata.name!.startsWith('lab-'))).toEqual([]);
    } finally {
      if (p.exitCode === null) p.kill('SIGKILL');
      client.close();
    }
  });
});

describe('tkube-controller-manager program', () => {
  test('--help lists the flags with their defaults; bad flags and unknown controllers are refused', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    for (const f of ['--controllers stringList', '--leader-elect', '--leader-elect-lease-duration duration', '--kube-api-qps float', '--node-eviction-rate float', '--cluster-cidr string', '--terminated-pod-gc-threshold int', '--concurrent-gc-syncs int', '--secure-port int'])
      expect(help.stdout).toContain(f);
    expect(help.stdout).toContain('(default 15s)');
    expect(help.stdout).toContain('(default 10257)');
    const bad = await run(['--controllers', '*,nosuch', '--kubeconfig', s.kubeconfig]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"nosuch" is not in the list of known controllers');
    const cidr = await run(['--allocate-node-cidrs', '--kubeconfig', s.kubeconfig]);
    expect(cidr.code).toBe(2);
    expect(cidr.stderr).toContain('--allocate-node-cidrs needs --cluster-cidr');
    const open = await run(['--bind-address', '0.0.0.0']);
    expect(open.code).toBe(2);
    expect((await run(['--help'], 'tkube-simnode')).stdout).toContain('--nodes int');
  });

  test('two replicas: exactly one active; killing it hands over within the lease duration', async () => {
    const lease = { duration: 3000, renew: 2000, retry: 500 };
    const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-ha-ca-')), 'ca.crt');
    const ca = '-----BEGIN CERTIFICATE-----\nha test bundle\n-----END CERTIFICATE-----\n';
    fs.writeFileSync(caFile, ca);
    const procs: { p: ChildProcess; port: number; stderr: string }[] = [];
    const start = async () => {
      const port = await freePort();
      const p = spawn(
        process.execPath,
        [
          bin('tkube-controller-manager'),
          '--kubeconfig', s.kubeconfig,
          '--controllers', 'serviceaccount,namespace,root-ca-cert-publisher',
          '--root-ca-file', caFile,
          '--secure-port', String(port),
          '--leader-elect-lease-duration', `${lease.duration}ms`,
          '--leader-elect-renew-deadline', `${lease.renew}ms`,
          '--leader-elect-retry-period', `${lease.retry}ms`,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      const rec = { p, port, stderr: '' };
      p.stderr!.on('data', (d: Buffer) => (rec.stderr += d.toString()));
      procs.push(rec);
      return rec;
    };
    const leading = async (port: number) => {
      try {
        const m = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return /leader_election_master_status\{name="kube-controller-manager"\} 1/.test(m);
      } catch {
        return undefined;
      }
    };
    const client = clientFor(s);
    try {
      const a = await start();
      const b = await start();
      await eventually(async () => (await fetch(`http://127.0.0.1:${a.port}/healthz`).then((r) => r.ok, () => false)) && (await fetch(`http://127.0.0.1:${b.port}/healthz`).then((r) => r.ok, () => false)), 20_000);
      const first = await eventually(async () => {
        const [la, lb] = [await leading(a.port), await leading(b.port)];
        return la !== lb && la !== undefined && lb !== undefined && (la ? a : b);
      }, 20_000);
      const standby = first === a ? b : a;
      // Stays that way: one leader, the other waiting.
      await new Promise((r) => setTimeout(r, 2 * lease.duration));
      expect([await leading(first.port), await leading(standby.port)]).toEqual([true, false]);
      const holder = (await client.resource(Resources.leases, 'kube-system').get('kube-controller-manager')).spec!.holderIdentity;
      expect(holder).toBeTruthy();
      // Only the leader works: a new namespace gets its default service account.
      await client.resource(Resources.namespaces).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ha-one' } });
      await eventually(() => client.resource(Resources.serviceAccounts, 'ha-one').get('default').then(() => true, () => false));
      // ... and the root CA of --root-ca-file, for the pods' token volumes.
      const published = await eventually(() => client.resource(Resources.configMaps, 'ha-one').get('kube-root-ca.crt').catch(() => undefined));
      expect(published.data?.['ca.crt']).toBe(ca);

      // The leader dies without a chance to release the lease.
      first.p.kill('SIGKILL');
      const killedAt = Date.now();
      await eventually(() => leading(standby.port), 20_000, 50);
      const takeover = Date.now() - killedAt;
      // Within the lease duration, plus two jittered retry periods and some slack for a loaded machine.
      expect(takeover).toBeLessThan(lease.duration + 2 * 2.2 * lease.retry + 1500);
      const newHolder = (await client.resource(Resources.leases, 'kube-system').get('kube-controller-manager')).spec!.holderIdentity;
      expect(newHolder).not.toBe(holder);
      await client.resource(Resources.namespaces).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ha-two' } });
      await eventually(() => client.resource(Resources.serviceAccounts, 'ha-two').get('default').then(() => true, () => false));

      // SIGTERM: a clean stop that releases the lease for the next replica.
      const exited = new Promise<number | null>((r) => standby.p.once('exit', (code) => r(code)));
      standby.p.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect((await client.resource(Resources.leases, 'kube-system').get('kube-controller-manager')).spec!.holderIdentity ?? '').toBe('');
    } finally {
      for (const r of procs) if (r.p.exitCode === null && r.p.signalCode === null) r.p.kill('SIGKILL');
      client.close();
      fs.rmSync(path.dirname(caFile), { recursive: true, force: true });
    }
  }, 90_000);
});
