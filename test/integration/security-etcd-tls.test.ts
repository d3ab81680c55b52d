/**
 * etcd over TLS with client certificate authentication (CIS 1.2.29/1.2.32, 2.1/2.2): etcd lets
 * in only clients with a certificate of its own CA, and tkube-apiserver reaches it with
 * --etcd-cafile/--etcd-certfile/--etcd-keyfile. The certificates are tkube-pki's (--etcd-members).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensurePKI } from '../../lib/pki/index.js';
import { startEtcd, type EtcdCluster } from '../support/etcd.js';
import { freePort } from '../support/ports.js';

const root = path.resolve(import.meta.dirname, '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-etcd-tls-'));
const pki = (n: string) => path.join(dir, 'pki', n);
let etcd: EtcdCluster;
let apiserver: ChildProcess | undefined;
let apiURL = '';
let apiLog = '';

beforeAll(async () => {
  ensurePKI({
    dir: path.join(dir, 'pki'), kubeconfigDir: dir, clusterName: 'tkube-test', apiserverAddress: '127.0.0.1', securePort: 6443, serviceIP: '10.96.0.1', clusterDomain: 'cluster.local',
    extraSANs: [], nodes: [], etcdMembers: [{ name: 'm0', addresses: ['127.0.0.1'] }], caDays: 3650, certDays: 30, renewBeforeDays: 1, keyAlgorithm: 'ecdsa', keyBits: 256,
  });
  etcd = await startEtcd({ tls: { caFile: pki('etcd-ca.crt'), certFile: pki('etcd-m0.crt'), keyFile: pki('etcd-m0.key'), clientCertFile: pki('apiserver-etcd-client.crt'), clientKeyFile: pki('apiserver-etcd-client.key') } });
}, 60_000);

afterAll(async () => {
  if (apiserver && apiserver.exitCode === null) {
    const exited = new Promise((r) => apiserver!.once('exit', r));
    apiserver.kill('SIGTERM');
    await exited;
  }
  await etcd?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function etcdctl(args: string[]): { status: number | null; out: string } {
  const r = spawnSync('etcdctl', [`--endpoints=${etcd.endpoints.join(',')}`, '--dial-timeout=3s', '--command-timeout=5s', ...args], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A TLS handshake with etcd's client port: verified against its CA, with or without a client certificate. */
function handshake(withCert: boolean): Promise<string> {
  return new Promise((resolve) => {
    const req = https.get(`${etcd.endpoints[0]}/v3/maintenance/status`, {
      ca: fs.readFileSync(pki('etcd-ca.crt')),
      ...(withCert ? { cert: fs.readFileSync(pki('apiserver-etcd-client.crt')), key: fs.readFileSync(pki('apiserver-etcd-client.key')) } : {}),
    }, (res) => {
      res.resume();
      resolve(`HTTP ${res.statusCode}`);
    });
    req.on('error', (err) => resolve(`error: ${err.message}`));
  });
}

describe('etcd with --client-cert-auth', () => {
  test('the endpoint is https', () => {
    expect(etcd.endpoints[0]).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  test('a client without a certificate is refused; one with the etcd CA\'s client certificate gets in', async () => {
    expect(await handshake(false)).toMatch(/^error: /);
    expect(await handshake(true)).toMatch(/^HTTP /);
    const anonymous = etcdctl([`--cacert=${pki('etcd-ca.crt')}`, 'put', '/registry/x', 'y']);
    expect(anonymous.status).not.toBe(0);
    const ok = etcdctl([`--cacert=${pki('etcd-ca.crt')}`, `--cert=${pki('apiserver-etcd-client.crt')}`, `--key=${pki('apiserver-etcd-client.key')}`, 'endpoint', 'health']);
    expect(ok.out).toContain('is healthy');
    expect(ok.status).toBe(0);
  });

  test('a certificate of the cluster CA (a kubelet\'s, an admin\'s) does not open etcd', () => {
    const r = etcdctl([`--cacert=${pki('etcd-ca.crt')}`, `--cert=${pki('admin.crt')}`, `--key=${pki('admin.key')}`, 'put', '/registry/x', 'y']);
    expect(r.status).not.toBe(0);
    expect(etcdctl([`--cacert=${pki('etcd-ca.crt')}`, `--cert=${pki('apiserver-etcd-client.crt')}`, `--key=${pki('apiserver-etcd-client.key')}`, 'get', '/registry/x']).out).not.toContain('/registry/x');
  });

  test('tkube-apiserver with --etcd-cafile/--etcd-certfile/--etcd-keyfile stores and reads a pod; componentstatuses sees etcd healthy', async () => {
    const port = await freePort();
    apiURL = `http://127.0.0.1:${port}`;
    apiserver = spawn(process.execPath, [
      path.join(root, 'dist/cmd/tkube-apiserver/main.js'), `--etcd-servers=${etcd.endpoints.join(',')}`,
      `--etcd-cafile=${pki('etcd-ca.crt')}`, `--etcd-certfile=${pki('apiserver-etcd-client.crt')}`, `--etcd-keyfile=${pki('apiserver-etcd-client.key')}`,
      `--insecure-port=${port}`, '--secure-port=0', '--advertise-address=127.0.0.1',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    apiserver.stdout!.on('data', (d: Buffer) => (apiLog = (apiLog + d.toString()).slice(-4000)));
    apiserver.stderr!.on('data', (d: Buffer) => (apiLog = (apiLog + d.toString()).slice(-4000)));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ok = await fetch(`${apiURL}/api/v1/namespaces/default/services/kubernetes`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline || apiserver.exitCode !== null) throw new Error(`tkube-apiserver did not come up over etcd TLS:\n${apiLog}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'over-tls' }, spec: { containers: [{ name: 'c', image: 'tkube/pause:3.10' }] } };
    const created = await fetch(`${apiURL}/api/v1/namespaces/default/pods`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(pod) });
    expect(created.status).toBe(201);
    const got = await fetch(`${apiURL}/api/v1/namespaces/default/pods/over-tls`);
    expect(got.status).toBe(200);
    expect(((await got.json()) as { metadata: { uid: string } }).metadata.uid).toBeTruthy();
    // What the API server wrote is in etcd, read with the client certificate.
    const stored = etcdctl([`--cacert=${pki('etcd-ca.crt')}`, `--cert=${pki('apiserver-etcd-client.crt')}`, `--key=${pki('apiserver-etcd-client.key')}`, 'get', '/registry/pods/default/over-tls', '--keys-only']);
    expect(stored.out).toContain('/registry/pods/default/over-tls');
    const cs = (await (await fetch(`${apiURL}/api/v1/componentstatuses/etcd-0`)).json()) as { conditions: { type: string; status: string }[] };
    expect(cs.conditions[0]).toMatchObject({ type: 'Healthy', status: 'True' });
  }, 90_000);

  test('--etcd-certfile without --etcd-keyfile is refused with a clear message', () => {
    const r = spawnSync(process.execPath, [path.join(root, 'dist/cmd/tkube-apiserver/main.js'), `--etcd-servers=${etcd.endpoints[0]}`, `--etcd-certfile=${pki('apiserver-etcd-client.crt')}`, '--insecure-port=0', '--secure-port=0'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('--etcd-certfile and --etcd-keyfile must be given together');
  });
});
