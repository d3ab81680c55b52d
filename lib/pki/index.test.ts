import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, test } from 'vitest';
import { ensurePKI, firstServiceIP, type PKIOptions } from './index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-pki-test-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const opts = (extra: Partial<PKIOptions> = {}): PKIOptions => ({
  dir: path.join(dir, 'pki'),
  kubeconfigDir: dir,
  clusterName: 'lab',
  apiserverAddress: '192.168.56.10',
  securePort: 6443,
  serviceIP: firstServiceIP('10.96.0.0/12'),
  clusterDomain: 'cluster.local',
  extraSANs: ['lab.example.com'],
  nodes: [{ name: 'node-1', addresses: ['192.168.56.11'] }],
  caDays: 3650,
  certDays: 365,
  renewBeforeDays: 30,
  keyAlgorithm: 'ecdsa',
  keyBits: 256,
  ...extra,
});
const f = (n: string) => path.join(dir, 'pki', n);
const cert = (n: string) => new X509Certificate(fs.readFileSync(f(`${n}.crt`)));
const mode = (p: string) => fs.statSync(p).mode & 0o777;

describe('tkube-pki', () => {
  const progress: string[] = [];
  const first = ensurePKI(opts(), (m) => progress.push(m));

  test('the first run makes everything and says so', () => {
    expect(progress[0]).toBe('[pki] ca: generated a new cluster CA (3650 days)');
    expect(progress).toContain('[pki] kubelet-node-1: issued for system:node:node-1 (system:nodes) (missing)');
    expect(Object.keys(first.kubeconfigs).sort()).toEqual(['admin', 'kube-controller-manager', 'kube-proxy', 'kube-scheduler', 'kubelet-node-1']);
  });

  test('identities: CN is the user and O the groups, as the API server reads them', () => {
    const ca = cert('ca');
    expect(ca.ca).toBe(true);
    const want: [string, string][] = [
      ['admin', 'O=system:masters\nCN=kubernetes-admin'],
      ['kube-scheduler', 'CN=system:kube-scheduler'],
      ['kube-controller-manager', 'CN=system:kube-controller-manager'],
      ['kube-proxy', 'CN=system:kube-proxy'],
      ['kubelet-node-1', 'O=system:nodes\nCN=system:node:node-1'],
      ['apiserver-kubelet-client', 'CN=kube-apiserver-kubelet-client'],
    ];
    for (const [n, subject] of want) {
      const c = cert(n);
      expect(c.subject, n).toBe(subject);
      expect(c.verify(ca.publicKey), n).toBe(true);
      expect(c.keyUsage, n).toEqual(['1.3.6.1.5.5.7.3.2']);
    }
  });

  test('the API server certificate names every way it is reached', () => {
    const sans = cert('apiserver').subjectAltName!.split(', ');
    for (const n of ['DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local', 'DNS:localhost', 'DNS:lab.example.com', 'DNS:node-1', 'IP Address:10.96.0.1', 'IP Address:127.0.0.1', 'IP Address:192.168.56.10', 'IP Address:192.168.56.11']) {
      expect(sans).toContain(n);
    }
    expect(cert('apiserver').keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert('kubelet-node-1-serving').subjectAltName).toBe('DNS:node-1, IP Address:192.168.56.11');
  });

  test('private keys and kubeconfigs are 0600; kubeconfigs embed the CA and the client certificate', () => {
    for (const n of fs.readdirSync(path.join(dir, 'pki'))) {
      if (n.endsWith('.key') || n === 'encryption-config.yaml') expect(mode(f(n)), n).toBe(0o600);
    }
    for (const file of Object.values(first.kubeconfigs)) expect(mode(file), file).toBe(0o600);
    const kc = parse(fs.readFileSync(first.kubeconfigs['kubelet-node-1']!, 'utf8'));
    expect(kc.clusters[0].cluster.server).toBe('https://192.168.56.10:6443');
    expect(Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64').toString()).toBe(fs.readFileSync(f('ca.crt'), 'utf8'));
    expect(Buffer.from(kc.users[0].user['client-certificate-data'], 'base64').toString()).toBe(fs.readFileSync(f('kubelet-node-1.crt'), 'utf8'));
    expect(kc['current-context']).toBe('system:node:node-1@lab');
    const enc = parse(fs.readFileSync(f('encryption-config.yaml'), 'utf8'));
    expect(enc.resources[0].resources).toEqual(['secrets']);
    expect(Buffer.from(enc.resources[0].providers[0].aescbc.keys[0].secret, 'base64')).toHaveLength(32);
  });

  test('a second run keeps everything', () => {
    const before = Object.fromEntries(fs.readdirSync(path.join(dir, 'pki')).map((n) => [n, fs.readFileSync(f(n), 'utf8')]));
    const log: string[] = [];
    ensurePKI(opts(), (m) => log.push(m));
    expect(log.filter((l) => !/kept|up to date/.test(l))).toEqual([]);
    for (const [n, text] of Object.entries(before)) expect(fs.readFileSync(f(n), 'utf8'), n).toBe(text);
  });

  test('a new node: its certificates are issued, the API server certificate is reissued, nothing else changes; keys stay', () => {
    const keyBefore = fs.readFileSync(f('apiserver.key'), 'utf8');
    const adminBefore = fs.readFileSync(f('admin.crt'), 'utf8');
    const saBefore = fs.readFileSync(f('sa.key'), 'utf8');
    const log: string[] = [];
    ensurePKI(opts({ nodes: [{ name: 'node-1', addresses: ['192.168.56.11'] }, { name: 'node-2', addresses: ['192.168.56.12'] }] }), (m) => log.push(m));
    expect(log).toContain('[pki] apiserver: issued for kube-apiserver (missing name node-2)');
    expect(log).toContain('[pki] kubelet-node-2: issued for system:node:node-2 (system:nodes) (missing)');
    expect(fs.readFileSync(f('apiserver.key'), 'utf8')).toBe(keyBefore);
    expect(fs.readFileSync(f('admin.crt'), 'utf8')).toBe(adminBefore);
    expect(fs.readFileSync(f('sa.key'), 'utf8')).toBe(saBefore);
    expect(cert('apiserver').subjectAltName).toContain('IP Address:192.168.56.12');
  });

  test('a certificate that does not verify against the CA is reissued', () => {
    fs.writeFileSync(f('kube-proxy.crt'), fs.readFileSync(f('admin.crt')));
    const log: string[] = [];
    ensurePKI(opts({ nodes: [{ name: 'node-1', addresses: ['192.168.56.11'] }, { name: 'node-2', addresses: ['192.168.56.12'] }] }), (m) => log.push(m));
    expect(log).toContain('[pki] kube-proxy: issued for system:kube-proxy (does not match its key)');
    expect(cert('kube-proxy').subject).toBe('CN=system:kube-proxy');
  });

  test('firstServiceIP', () => {
    expect(firstServiceIP('10.96.0.0/12')).toBe('10.96.0.1');
    expect(firstServiceIP('10.0.0.0/24')).toBe('10.0.0.1');
    expect(() => firstServiceIP('fd00::/108')).toThrow();
  });
});

describe('tkube-pki: etcd', () => {
  const edir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-pki-etcd-'));
  afterAll(() => fs.rmSync(edir, { recursive: true, force: true }));
  const eopts = (): PKIOptions => ({ ...opts(), dir: path.join(edir, 'pki'), kubeconfigDir: edir, etcdMembers: [{ name: 'cp', addresses: ['192.168.56.10'] }] });
  const ef = (n: string) => path.join(edir, 'pki', n);
  const ecert = (n: string) => new X509Certificate(fs.readFileSync(ef(`${n}.crt`)));
  const log: string[] = [];
  ensurePKI(eopts(), (m) => log.push(m));

  test('etcd has a CA of its own, signing the member and the API server client certificates and nothing else', () => {
    expect(log).toContain('[pki] etcd-ca: generated a new etcd CA (3650 days)');
    const etcdCA = ecert('etcd-ca');
    const clusterCA = ecert('ca');
    expect(etcdCA.ca).toBe(true);
    expect(etcdCA.subject).toBe('CN=lab-etcd-ca');
    for (const n of ['etcd-cp', 'apiserver-etcd-client']) {
      expect(ecert(n).verify(etcdCA.publicKey), n).toBe(true);
      expect(ecert(n).verify(clusterCA.publicKey), n).toBe(false);
    }
    for (const n of ['kubelet-node-1', 'admin', 'apiserver']) expect(ecert(n).verify(etcdCA.publicKey), n).toBe(false);
    for (const n of ['etcd-ca.key', 'etcd-cp.key', 'apiserver-etcd-client.key']) expect(mode(ef(n)), n).toBe(0o600);
  });

  test("a member's certificate serves clients and peers and is a peer's client: its IP, 127.0.0.1, localhost", () => {
    const c = ecert('etcd-cp');
    expect(c.subject).toBe('CN=cp');
    expect(c.subjectAltName!.split(', ').sort()).toEqual(['DNS:cp', 'DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:192.168.56.10']);
    expect(c.keyUsage!.sort()).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(ecert('apiserver-etcd-client').subject).toBe('CN=kube-apiserver-etcd-client');
    expect(ecert('apiserver-etcd-client').keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
  });

  test('a second run keeps the etcd CA and certificates; without members none is made', () => {
    const again: string[] = [];
    ensurePKI(eopts(), (m) => again.push(m));
    expect(again).toContain('[pki] etcd-ca: exists, kept');
    expect(again).toContain('[pki] etcd-cp: valid, kept');
    expect(fs.existsSync(f('etcd-ca.crt'))).toBe(false);
  });
});
