/**
 * Least privilege in the lab's pki mode: every certificate is signed in the signer folder, and a
 * host's pki folder holds only what its own components need (no CA key anywhere; no service
 * account key, encryption config or admin credentials on workers; no other node's keys).
 */
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensureHostCertificates, hostKubeconfigs, hostPKIFiles, signClusterCertificates, writeAdminKubeconfig, writeHostBundles, writeHostKubeconfigs } from './credentials.js';
import { labLayout } from './host-vars.js';
import { defaultClusterSpec, hostByName, planCluster } from './plan.js';

const root = path.resolve(import.meta.dirname, '../..');
const state = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-lab-credentials-'));
const shared = path.join(state, 'shared');
// cp (etcd, control plane, node), cp2, cp3 (etcd, control plane), worker, worker2 (nodes).
const plan = planCluster({ ...defaultClusterSpec, etcdMembers: 3, workers: 2 });
const layoutOf = (name: string) => labLayout(state, name, root);
const pkiFiles = (name: string) => fs.readdirSync(layoutOf(name).pkiDir).sort();
const mode = (file: string) => fs.statSync(file).mode & 0o777;
const cert = (file: string) => new X509Certificate(fs.readFileSync(file));

/** What must never be on a worker. */
const controlPlaneOnly = ['ca.key', 'etcd-ca.key', 'etcd-ca.crt', 'sa.key', 'sa.pub', 'encryption-config.yaml', 'admin.crt', 'admin.key', 'apiserver.key', 'apiserver-etcd-client.key', 'apiserver-kubelet-client.key'];

beforeAll(() => {
  // A worker folder left by an earlier lab that handed every host the CA key and the admin's.
  const worker = layoutOf('worker').pkiDir;
  fs.mkdirSync(path.join(worker, 'kubeconfigs'), { recursive: true });
  for (const f of ['ca.key', 'admin.key', 'sa.key']) fs.writeFileSync(path.join(worker, f), 'stale');
  fs.writeFileSync(path.join(worker, 'kubeconfigs', 'admin.kubeconfig'), 'stale');

  signClusterCertificates(plan, 'pki', shared);
  for (const h of plan.hosts) {
    ensureHostCertificates(plan, h, layoutOf(h.name), 'pki', shared);
    writeHostKubeconfigs(plan, h, layoutOf(h.name), 'pki');
  }
}, 120_000);
afterAll(() => fs.rmSync(state, { recursive: true, force: true }));

describe('each host\'s pki folder, by role (pki mode)', () => {
  test('a worker: the CA certificate, its own kubelet client and serving pairs, kube-proxy\'s; nothing else', () => {
    expect(pkiFiles('worker')).toEqual(['ca.crt', 'kube-proxy.crt', 'kube-proxy.key', 'kubelet-worker-serving.crt', 'kubelet-worker-serving.key', 'kubelet-worker.crt', 'kubelet-worker.key']);
    for (const f of [...controlPlaneOnly, 'kubelet-worker2.key', 'kubelet-cp.key', 'kubeconfigs']) expect(pkiFiles('worker'), f).not.toContain(f);
  });

  test('a worker\'s kubeconfigs: its kubelet\'s and kube-proxy\'s only', () => {
    expect(fs.readdirSync(layoutOf('worker').kubeconfigDir).sort()).toEqual(['kube-proxy.kubeconfig', 'kubelet-worker.kubeconfig']);
    expect(hostKubeconfigs(hostByName(plan, 'worker')).map((k) => k.file)).not.toContain('admin.kubeconfig');
  });

  test('the kubelet\'s client certificate names its node in system:nodes, signed by the cluster CA', () => {
    const pki = layoutOf('worker2').pkiDir;
    const c = cert(path.join(pki, 'kubelet-worker2.crt'));
    expect(c.subject.split('\n')).toEqual(expect.arrayContaining(['CN=system:node:worker2', 'O=system:nodes']));
    expect(c.verify(cert(path.join(pki, 'ca.crt')).publicKey)).toBe(true);
    expect(cert(path.join(pki, 'kubelet-worker2-serving.crt')).subjectAltName).toContain(`IP Address:${hostByName(plan, 'worker2').ip}`);
  });

  test('a control-plane host that is also a node: the API server, scheduler, controller manager, etcd member, kubelet; no CA key, no admin', () => {
    const files = pkiFiles('cp');
    expect(files).toEqual(expect.arrayContaining(['ca.crt', 'apiserver.crt', 'apiserver.key', 'apiserver-kubelet-client.key', 'apiserver-etcd-client.key', 'kube-scheduler.key', 'kube-controller-manager.key',
      'sa.key', 'sa.pub', 'encryption-config.yaml', 'etcd-ca.crt', 'etcd-cp.crt', 'etcd-cp.key', 'kubelet-cp.key', 'kubelet-cp-serving.key', 'kube-proxy.key']));
    for (const f of ['ca.key', 'etcd-ca.key', 'admin.crt', 'admin.key', 'etcd-cp2.key', 'kubelet-worker.key']) expect(files, f).not.toContain(f);
    expect(fs.readdirSync(layoutOf('cp').kubeconfigDir)).not.toContain('admin.kubeconfig');
  });

  test('cp2 (control plane, no node): no kubelet or kube-proxy credentials; the same service account key and encryption config as cp', () => {
    const files = pkiFiles('cp2');
    expect(files).toEqual(expect.arrayContaining(['etcd-cp2.key', 'sa.key', 'encryption-config.yaml']));
    for (const f of ['kube-proxy.key', 'kubelet-cp2.key', 'ca.key', 'etcd-cp.key']) expect(files, f).not.toContain(f);
    for (const f of ['sa.key', 'encryption-config.yaml', 'apiserver.crt']) expect(fs.readFileSync(path.join(layoutOf('cp2').pkiDir, f)).equals(fs.readFileSync(path.join(layoutOf('cp').pkiDir, f))), f).toBe(true);
  });

  test('folders 0700, private keys, the encryption config and kubeconfigs 0600', () => {
    for (const h of plan.hosts) {
      const pki = layoutOf(h.name).pkiDir;
      expect(mode(pki), pki).toBe(0o700);
      expect(mode(layoutOf(h.name).kubeconfigDir), h.name).toBe(0o700);
      for (const f of fs.readdirSync(layoutOf(h.name).kubeconfigDir)) expect(mode(path.join(layoutOf(h.name).kubeconfigDir, f)), `${h.name}/${f}`).toBe(0o600);
      for (const f of fs.readdirSync(pki).filter((n) => n.endsWith('.key') || n === 'encryption-config.yaml')) expect(mode(path.join(pki, f)), `${h.name}/${f}`).toBe(0o600);
    }
    expect(mode(shared)).toBe(0o700);
    for (const f of ['ca.key', 'etcd-ca.key', 'sa.key', 'admin.key']) expect(mode(path.join(shared, f)), f).toBe(0o600);
  });

  test('the same list as hostPKIFiles, which the Vagrant lab uses too', () => {
    for (const h of plan.hosts) expect(pkiFiles(h.name), h.name).toEqual([...hostPKIFiles(h, 'pki')].sort());
  });

  test('the development setting: ca.crt everywhere, the API server\'s serving pair on control-plane hosts only', () => {
    expect(hostPKIFiles(hostByName(plan, 'worker'), 'development')).toEqual(['ca.crt']);
    expect(hostPKIFiles(hostByName(plan, 'cp2'), 'development')).toEqual(['ca.crt', 'apiserver.crt', 'apiserver.key']);
  });
});

describe('the admin kubeconfig', () => {
  test('written for this machine\'s kubectl from the signer folder: kubernetes-admin in system:masters', () => {
    const file = path.join(state, 'admin.kubeconfig');
    writeAdminKubeconfig(plan, file, shared, root, 'pki');
    expect(mode(file)).toBe(0o600);
    const user = parse(fs.readFileSync(file, 'utf8')).users[0].user;
    const c = new X509Certificate(Buffer.from(user['client-certificate-data'], 'base64'));
    expect(c.subject.split('\n')).toEqual(expect.arrayContaining(['CN=kubernetes-admin', 'O=system:masters']));
  });
});

describe('the Vagrant lab\'s per-VM folders (tkube-lab certs)', () => {
  test('each VM\'s folder is its pki share; control-plane VMs also get the admin kubeconfig, workers do not', () => {
    const dirs = writeHostBundles(plan, 'pki', shared, root);
    expect(dirs.map((d) => path.basename(d))).toEqual(plan.hosts.map((h) => h.name));
    for (const h of plan.hosts) {
      const dir = path.join(shared, 'hosts', h.name);
      expect(mode(dir)).toBe(0o700);
      expect(fs.readdirSync(dir).sort(), h.name).toEqual([...hostPKIFiles(h, 'pki'), ...(h.controlPlane ? ['admin.kubeconfig'] : [])].sort());
    }
    expect(fs.readdirSync(path.join(shared, 'hosts', 'worker'))).not.toContain('ca.key');
  });
});
