/**
 * The lab's etcd in pki mode, run from its rendered unit: three members on loopback addresses
 * (a 127.x.y.0/24 "lab network", so no namespaces are needed) with the certificates the lab makes
 * (signed in the lab's signer folder, each member's share copied into its pki folder) form
 * a cluster over peer TLS; the lab's health wait passes with the API server's etcd client
 * certificate; tkube-apiserver with the rendered --etcd-* flags stores through it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensureHostCertificates, signClusterCertificates } from '../../lib/lab/credentials.js';
import { hostVariables, labLayout } from '../../lib/lab/host-vars.js';
import { defaultClusterSpec, planCluster, type HostPlan } from '../../lib/lab/plan.js';
import { waitEtcd } from '../../lib/lab/provision.js';
import { renderHostUnits } from '../../lib/lab/units.js';
import { freePort } from '../support/ports.js';

const root = path.resolve(import.meta.dirname, '../..');
const state = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-lab-etcd-'));
// A random loopback /24: the members listen on .10, .11, .12 of it.
const net = `127.${crypto.randomInt(100, 250)}.${crypto.randomInt(1, 250)}`;
const plan = planCluster({ ...defaultClusterSpec, networkCIDR: `${net}.0/24`, etcdMembers: 3, workers: 0 });
const members = plan.hosts.filter((h) => h.etcd);
const procs: ChildProcess[] = [];
let logs = '';

const flagsOf = (argv: string[]) => new Map(argv.filter((a) => a.startsWith('--')).map((a) => [a.slice(2, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]));
const unitOf = (h: HostPlan, component: string) => renderHostUnits(root, h, hostVariables(plan, h, labLayout(state, h.name, root), 'pki')).find((u) => u.component === component)!;

function run(argv: string[]): ChildProcess {
  const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer) => (logs = (logs + d.toString()).slice(-6000));
  p.stdout!.on('data', keep);
  p.stderr!.on('data', keep);
  procs.push(p);
  return p;
}

beforeAll(() => {
  const shared = path.join(state, 'shared');
  signClusterCertificates(plan, 'pki', shared);
  for (const h of plan.hosts) ensureHostCertificates(plan, h, labLayout(state, h.name, root), 'pki', shared);
}, 120_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => {
    if (p.exitCode !== null || p.signalCode !== null) return undefined;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    return exited;
  }));
  fs.rmSync(state, { recursive: true, force: true });
});

describe('the lab\'s etcd over TLS (pki mode)', () => {
  test('every member holds the same etcd CA, and its own certificate for its address', () => {
    const ca = fs.readFileSync(path.join(labLayout(state, 'cp', root).pkiDir, 'etcd-ca.crt'));
    for (const h of members) {
      const pki = labLayout(state, h.name, root).pkiDir;
      expect(fs.readFileSync(path.join(pki, 'etcd-ca.crt')).equals(ca), h.name).toBe(true);
      const c = new crypto.X509Certificate(fs.readFileSync(path.join(pki, `etcd-${h.name}.crt`)));
      expect(c.verify(new crypto.X509Certificate(ca).publicKey)).toBe(true);
      expect(c.subjectAltName).toContain(`IP Address:${h.ip}`);
    }
  });

  test('three members started from their rendered units form a cluster over peer TLS; the lab\'s wait passes', async () => {
    for (const h of members) {
      const unit = unitOf(h, 'etcd');
      // Three members on one machine cannot all listen on 127.0.0.1:2379: that URL stays out here.
      const argv = unit.argv.map((a) => (a.startsWith('--listen-client-urls=') ? `--listen-client-urls=https://${h.ip}:2379` : a));
      expect(flagsOf(argv).get('peer-client-cert-auth')).toBe('true');
      run(argv);
    }
    const say: string[] = [];
    try {
      await waitEtcd(plan, (l) => say.push(l), 60_000, 'pki', labLayout(state, 'cp', root).pkiDir);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${say.join('\n')}\netcd logs:\n${logs}`);
    }
    expect(say.at(-1)).toMatch(/etcd \(3 members\) healthy: ok/);
  }, 90_000);

  test('tkube-apiserver with the rendered etcd flags stores through the cluster', async () => {
    const api = flagsOf(unitOf(plan.hosts[1]!, 'apiserver').argv);
    const port = await freePort();
    const p = run([process.execPath, path.join(root, 'dist/cmd/tkube-apiserver/main.js'), ...['etcd-servers', 'etcd-cafile', 'etcd-certfile', 'etcd-keyfile'].map((f) => `--${f}=${api.get(f)}`),
      `--insecure-port=${port}`, '--secure-port=0', '--advertise-address=127.0.0.1']);
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    while (!(await fetch(`${url}/api/v1/namespaces/default/services/kubernetes`).then((r) => r.ok, () => false))) {
      if (Date.now() > deadline || p.exitCode !== null) throw new Error(`tkube-apiserver did not come up:\n${logs}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const r = await fetch(`${url}/api/v1/namespaces/default/configmaps`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ metadata: { name: 'via-tls' }, data: { a: '1' } }) });
    expect(r.status).toBe(201);
    expect((await fetch(`${url}/api/v1/namespaces/default/configmaps/via-tls`)).status).toBe(200);
  }, 90_000);
});
