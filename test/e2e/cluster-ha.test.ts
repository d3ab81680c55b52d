/**
 * High availability, end to end (issue #7's faults), with the real kubectl against one tkube-lab
 * of three control-plane hosts (cp, cp2, cp3: an etcd member each over TLS with its own CA, an
 * API server each, schedulers and controller managers with --leader-elect) and one node (cp):
 *
 *   - SIGKILL the controller manager holding kube-system/kube-controller-manager: a standby takes
 *     the Lease once it has expired, and a new Deployment gets its ReplicaSet and its pod;
 *   - the same for the scheduler (kube-system/kube-scheduler): a new pod gets bound;
 *   - SIGKILL the etcd member on cp, made Raft leader first, while ConfigMaps are written one
 *     after another through cp's API server (whose own member is its first endpoint): every
 *     write acknowledged with a 2xx is there afterwards, a watch opened before the kill sees every
 *     one of them, and the cluster keeps working; `up` again brings the member back and it rejoins
 *     (etcdctl endpoint health over TLS, its own copy of the data, componentstatuses);
 *   - `down` leaves nothing of the lab behind.
 *
 * Traffic goes only to the lab's own namespaces. The fail-over figures are printed, not asserted
 * against a stopwatch: the Lease's own timestamps show that the standby waited for the lease to
 * expire and no longer than the election's retry period after that.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RESTClient, loadClientConfig } from '../../lib/client/index.js';
import { eventually } from '../support/controllers.js';
import { kubectls } from '../support/kubectl.js';
import { freeLabNetwork, labKubectl, labProcesses, labSnapshot, labUnavailable, testLab, type HostSnapshot } from '../support/lab.js';

const hasEtcdctl = spawnSync('sh', ['-c', 'command -v etcdctl']).status === 0;
const unavailable = labUnavailable() ?? (kubectls()[0] ? undefined : 'needs a kubectl binary') ?? (hasEtcdctl ? undefined : 'needs etcdctl');
if (unavailable) console.warn(`cluster HA e2e skipped: ${unavailable}`);

const lab = testLab('tkh-e2e', unavailable ? undefined : freeLabNetwork());
const controlPlane = ['cp', 'cp2', 'cp3'];
const hostIP = (host: string) => lab.network.replace('.0/24', `.${10 + controlPlane.indexOf(host)}`);
const image = 'tkube/busybox:1.36';
const ns = 'ha';
const figures: string[] = [];

function k(...args: string[]): string {
  const r = labKubectl(lab, args);
  if (!r.ok) throw new Error(`kubectl ${args.join(' ')} failed: ${r.err}${r.out}`);
  return r.out;
}

/** Polls `f` until it returns a value (it may throw meanwhile). */
async function until<T>(what: string, f: () => T | undefined, timeoutMs = 120_000, everyMs = 500): Promise<T> {
  try {
    return (await eventually(() => f() ?? false, timeoutMs, everyMs)) as T;
  } catch (err) {
    throw new Error(`timed out waiting for ${what}: ${(err as Error).message}`);
  }
}

/** The pid of a host's component, from the lab's service manager's pid file. */
function pidOf(host: string, unit: string): number {
  return (JSON.parse(fs.readFileSync(path.join(lab.stateDir, 'run', host, `${unit}.pid`), 'utf8')) as { pid: number }).pid;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

function lease(name: string): LeaseSpec {
  return (JSON.parse(k('-n', 'kube-system', 'get', 'lease', name, '-o', 'json')) as { spec: LeaseSpec }).spec;
}

/**
 * The host whose component holds a lease: each host has its own hostname (its UTS namespace),
 * and the identity is <hostname>_<uuid>. The identity is also what that host's component logged.
 */
function hostOf(component: string, identity: string): string {
  const host = identity.split('_')[0]!;
  expect(controlPlane, `the holder ${identity}`).toContain(host);
  expect(fs.readFileSync(path.join(lab.stateDir, 'logs', host, `${component}.log`), 'utf8')).toContain(`"identity":"${identity}"`);
  return host;
}

/**
 * SIGKILLs the component holding the lease, waits for another to take it, and returns the old
 * and new holders' hosts and the Lease records before and after.
 */
async function killLeader(leaseName: string, component: string): Promise<{ from: string; to: string; before: LeaseSpec; after: LeaseSpec }> {
  const held = lease(leaseName);
  const from = hostOf(component, held.holderIdentity!);
  process.kill(pidOf(from, `tkube-${component}.service`), 'SIGKILL');
  const killedAt = Date.now();
  // What the dead leader last wrote (a renewal in flight when it died lands within this second).
  await new Promise((r) => setTimeout(r, 1000));
  const before = lease(leaseName);
  expect(before.holderIdentity).toBe(held.holderIdentity);
  const after = await until(`another ${component} to take ${leaseName}`, () => {
    const l = lease(leaseName);
    return l.holderIdentity !== held.holderIdentity ? l : undefined;
  }, 120_000, 250);
  const to = hostOf(component, after.holderIdentity!);
  const gap = (Date.parse(after.acquireTime!) - Date.parse(before.renewTime!)) / 1000;
  figures.push(`${component}: ${from} killed → ${to} leads; acquireTime − last renewTime ${gap.toFixed(1)}s (leaseDurationSeconds ${before.leaseDurationSeconds}), kill to new holder seen by kubectl ${((Date.now() - killedAt) / 1000).toFixed(1)}s`);
  return { from, to, before, after };
}

function expectOrderlyTakeover(r: { from: string; to: string; before: LeaseSpec; after: LeaseSpec }): void {
  expect(r.to).not.toBe(r.from);
  expect(r.after.leaseTransitions).toBe((r.before.leaseTransitions ?? 0) + 1);
  // The standby waited for the lease to expire (it never overlapped the leader it replaced), and
  // took it soon after: it counts the duration from when it saw the last renewal (it reads the
  // Lease every retry period, 2s jittered up to 4.4s) and tries again after as long at most.
  const gapMs = Date.parse(r.after.acquireTime!) - Date.parse(r.before.renewTime!);
  const durationMs = r.before.leaseDurationSeconds! * 1000;
  expect(gapMs).toBeGreaterThanOrEqual(durationMs);
  expect(gapMs).toBeLessThan(2 * durationMs);
}

function etcdctl(args: string[], endpoints = controlPlane.map((h) => `https://${hostIP(h)}:2379`)): { ok: boolean; out: string } {
  const pki = path.join(lab.stateDir, 'hosts', 'cp', 'pki');
  const r = spawnSync('etcdctl', [
    `--endpoints=${endpoints.join(',')}`, `--cacert=${pki}/etcd-ca.crt`, `--cert=${pki}/apiserver-etcd-client.crt`, `--key=${pki}/apiserver-etcd-client.key`, '--command-timeout=10s', ...args,
  ], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' }, timeout: 30_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Per endpoint: member id (hex) and whether it leads (etcdctl endpoint status, simple format). */
function etcdStatus(): Map<string, { id: string; leader: boolean }> {
  const r = etcdctl(['endpoint', 'status']);
  const out = new Map<string, { id: string; leader: boolean }>();
  for (const line of r.out.split('\n').filter((l) => l.startsWith('https://'))) {
    const [endpoint, id, , , leader] = line.split(',').map((x) => x.trim());
    out.set(endpoint!, { id: id!, leader: leader === 'true' });
  }
  return out;
}

let before: HostSnapshot;

describe.skipIf(!!unavailable)('three control-plane hosts: leader election and etcd member loss', () => {
  beforeAll(() => {
    lab.stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkh-e2e-'));
    before = labSnapshot(lab);
    const r = lab.run(['up', ...lab.flags(), '--etcd-members=3', '--nodes=1', '--skip-prepare', '--timeout=180s'], 400_000);
    if (r.status !== 0) throw new Error(`tkube-lab up failed:\n${r.stdout}${r.stderr}`);
    k('create', 'namespace', ns);
  }, 420_000);

  afterAll(() => {
    if (figures.length) console.log(`cluster HA figures:\n  ${figures.join('\n  ')}`);
    // Whatever happened above, leave nothing behind.
    if (lab.stateDir && fs.existsSync(lab.stateDir)) lab.run(['down', ...lab.flags()], 120_000);
    fs.rmSync(lab.stateDir, { recursive: true, force: true });
  }, 180_000);

  test('three API servers, three healthy etcd members, one leader each for the scheduler and the controller manager', () => {
    const cs = k('get', 'componentstatuses');
    for (const m of ['etcd-0', 'etcd-1', 'etcd-2']) expect(cs).toMatch(new RegExp(`^${m}\\s+Healthy`, 'm'));
    for (const h of controlPlane) {
      for (const unit of ['etcd', 'tkube-apiserver', 'tkube-scheduler', 'tkube-controller-manager']) expect(() => process.kill(pidOf(h, `${unit}.service`), 0), `${h} ${unit}`).not.toThrow();
    }
    for (const [name, component] of [['kube-controller-manager', 'controller-manager'], ['kube-scheduler', 'scheduler']] as const) {
      const holder = lease(name).holderIdentity!;
      const leader = hostOf(component, holder);
      expect(controlPlane).toContain(leader);
      // The others stand by.
      for (const h of controlPlane.filter((x) => x !== leader)) {
        expect(fs.readFileSync(path.join(lab.stateDir, 'logs', h, `${component}.log`), 'utf8'), `${component} on ${h}`).toMatch(/another (instance|replica) leads; standing by/);
      }
    }
  });

  test('the active controller manager killed: a standby takes the lease once it expires, and controllers keep working', async () => {
    const r = await killLeader('kube-controller-manager', 'controller-manager');
    expectOrderlyTakeover(r);
    k('-n', ns, 'create', 'deployment', 'after-cm', `--image=${image}`, '--', 'sleep', '3600');
    const rs = await until('the ReplicaSet of after-cm', () => {
      const items = (JSON.parse(k('-n', ns, 'get', 'rs', '-l', 'app=after-cm', '-o', 'json')) as { items: Array<{ metadata: { name: string } }> }).items;
      return items.length === 1 ? items[0]!.metadata.name : undefined;
    });
    expect(rs).toMatch(/^after-cm-/);
    await until('the pod of after-cm Running', () => (/\sRunning\s/.test(k('-n', ns, 'get', 'pods', '-l', 'app=after-cm', '--no-headers')) ? true : undefined), 180_000);
    expect(fs.readFileSync(path.join(lab.stateDir, 'logs', r.to, 'controller-manager.log'), 'utf8')).toContain('became leader');
  }, 300_000);

  test('the active scheduler killed: a standby takes the lease once it expires, and a new pod is bound', async () => {
    const r = await killLeader('kube-scheduler', 'scheduler');
    expectOrderlyTakeover(r);
    k('-n', ns, 'run', 'after-sched', `--image=${image}`, '--restart=Never', '--', 'sleep', '3600');
    const node = await until('after-sched bound', () => k('-n', ns, 'get', 'pod', 'after-sched', '-o', 'jsonpath={.spec.nodeName}') || undefined, 120_000);
    expect(node).toBe('cp');
    const events = k('-n', ns, 'get', 'events', '--field-selector=involvedObject.name=after-sched', '-o', 'jsonpath={range .items[*]}{.reason} {.message}{"\\n"}{end}');
    expect(events).toMatch(/^Scheduled Successfully assigned ha\/after-sched to cp$/m);
  }, 300_000);

  test('the etcd leader on cp killed under writes through cp\'s API server: no acknowledged write lost, watches see every one, the member rejoins after up', async () => {
    const cpEndpoint = `https://${hostIP('cp')}:2379`;
    // Make cp's member the Raft leader: its loss is then a leader election as well as the loss of
    // the API server's first endpoint.
    let status = etcdStatus();
    expect(status.size).toBe(3);
    const leaderEndpoint = [...status].find(([, s]) => s.leader)![0];
    if (leaderEndpoint !== cpEndpoint) {
      const moved = etcdctl(['move-leader', status.get(cpEndpoint)!.id], [leaderEndpoint]);
      expect(moved.ok, moved.out).toBe(true);
    }
    status = etcdStatus();
    expect(status.get(cpEndpoint)!.leader).toBe(true);

    // A watch through cp's API server, opened before the kill.
    const watch = spawn(kubectls()[0]!.path, [`--kubeconfig=${path.join(lab.stateDir, 'admin.kubeconfig')}`, '-n', ns, 'get', 'configmaps', '--watch-only', '-o', 'name', '-l', 'writer=ha'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let watched = '';
    watch.stdout.on('data', (d: Buffer) => (watched += d.toString()));
    try {
      await new Promise((r) => setTimeout(r, 2000));
      // One write at a time, no retries: a 2xx is an acknowledgement, anything else is not.
      const client = new RESTClient({ config: loadClientConfig({ kubeconfig: path.join(lab.stateDir, 'admin.kubeconfig') }), component: 'cluster-ha-e2e', timeoutMs: 30_000, connectionRetries: 0, maxRetries: 0, qps: 1000, burst: 1000 });
      const acked: string[] = [];
      const refused = new Map<string, number>();
      let attempted = 0;
      let killedAt = 0;
      let ackedBeforeKill = 0;
      const etcdPid = pidOf('cp', 'etcd.service');
      const started = Date.now();
      try {
        while (Date.now() - started < 20_000) {
          if (!killedAt && Date.now() - started >= 5000) {
            process.kill(etcdPid, 'SIGKILL');
            killedAt = Date.now();
            ackedBeforeKill = acked.length;
          }
          const name = `w-${String(attempted++).padStart(5, '0')}`;
          let outcome: string;
          try {
            const res = await client.requestRaw({ method: 'POST', path: `/api/v1/namespaces/${ns}/configmaps`, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { writer: 'ha' } }, data: { seq: name } } });
            outcome = String(res.status);
            if (res.status >= 200 && res.status < 300) acked.push(name);
          } catch (err) {
            outcome = (err as Error).message.slice(0, 60);
          }
          if (!acked.includes(name)) refused.set(outcome, (refused.get(outcome) ?? 0) + 1);
        }
      } finally {
        client.close();
      }
      expect(killedAt).toBeGreaterThan(0);
      // Every acknowledged write is there, read back through every API server.
      const lost: Record<string, string[]> = {};
      for (const h of controlPlane) {
        const r = spawnSync(kubectls()[0]!.path, [`--kubeconfig=${path.join(lab.stateDir, 'admin.kubeconfig')}`, `--server=https://${hostIP(h)}:6443`, '-n', ns, 'get', 'configmaps', '-l', 'writer=ha', '-o', 'name'], { encoding: 'utf8', timeout: 60_000 });
        expect(r.status, r.stderr).toBe(0);
        const present = new Set(r.stdout.split('\n').filter(Boolean).map((l) => l.replace(/^configmap\//, '')));
        lost[h] = acked.filter((n) => !present.has(n));
      }
      figures.push(`etcd member loss (cp, the Raft leader, SIGKILL): writes attempted ${attempted}, acknowledged ${acked.length} (${ackedBeforeKill} before the kill, ${acked.length - ackedBeforeKill} after), refused ${[...refused].map(([o, n]) => `${n}× ${o}`).join(', ') || 'none'}, lost ${lost.cp!.length}`);
      expect(lost).toEqual({ cp: [], cp2: [], cp3: [] });
      expect(acked.length - ackedBeforeKill, 'writes acknowledged after the kill').toBeGreaterThan(0);
      // The watch opened before the kill saw every acknowledged write.
      await until('the watch to report every acknowledged ConfigMap', () => {
        const seen = new Set(watched.split('\n').filter(Boolean).map((l) => l.replace(/^configmap\//, '')));
        return acked.every((n) => seen.has(n)) ? true : undefined;
      }, 60_000);
      expect(watch.exitCode, 'the watch still runs').toBeNull();
    } finally {
      watch.kill();
    }

    // Two members left: a new leader, and the cluster keeps working through cp's API server.
    const cs = k('get', 'componentstatuses');
    expect(cs).toMatch(/^etcd-0\s+Unhealthy/m);
    expect(cs).toMatch(/^etcd-1\s+Healthy/m);
    expect(k('get', '--raw', '/readyz').trim()).toBe('ok');
    k('-n', ns, 'create', 'deployment', 'after-etcd', `--image=${image}`, '--', 'sleep', '3600');
    await until('the pod of after-etcd Running', () => (/\sRunning\s/.test(k('-n', ns, 'get', 'pods', '-l', 'app=after-etcd', '--no-headers')) ? true : undefined), 180_000);

    // up starts what is not running: the member rejoins and catches up.
    const r = lab.run(['up', ...lab.flags(), '--etcd-members=3', '--nodes=1', '--skip-prepare', '--timeout=180s'], 400_000);
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/cp: etcd started/);
    const health = await until('every etcd member healthy', () => {
      const h = etcdctl(['endpoint', 'health']);
      return h.ok ? h.out : undefined;
    }, 120_000, 1000);
    for (const h of controlPlane) expect(health).toContain(`https://${hostIP(h)}:2379 is healthy`);
    // Its own copy of the data: a serializable read answered by cp's member alone.
    const last = k('-n', ns, 'get', 'deployment', 'after-etcd', '-o', 'name');
    expect(last.trim()).toBe('deployment.apps/after-etcd');
    await until('cp\'s member to hold what was written while it was down', () => {
      const g = etcdctl(['get', '--consistency=s', '--keys-only', `/registry/deployments/${ns}/after-etcd`], [`https://${hostIP('cp')}:2379`]);
      return g.ok && g.out.includes(`/registry/deployments/${ns}/after-etcd`) ? true : undefined;
    }, 60_000, 1000);
    await until('componentstatuses: every member Healthy', () => (/^etcd-0\s+Healthy/m.test(k('get', 'componentstatuses')) ? true : undefined), 60_000, 1000);
  }, 600_000);

  test('down leaves the host as it was', () => {
    const r = lab.run(['down', ...lab.flags()], 120_000);
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(before).toEqual({ netns: [], links: [], chains: [], mounts: [], containers: [] });
    expect(labSnapshot(lab)).toEqual(before);
    expect(labProcesses(lab)).toEqual([]);
    expect(fs.existsSync(lab.stateDir)).toBe(false);
  }, 180_000);
});
