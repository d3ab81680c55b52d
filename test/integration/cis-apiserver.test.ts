/**
 * A CIS-style check (the CIS Kubernetes Benchmark's API server recommendations, section 1.2,
 * and etcd's, section 2) of the flags the lab runs tkube-apiserver and etcd with in pki mode
 * (`tkube-lab apiserver-flags`, the rendered etcd unit), and of the files they name, made
 * exactly as the lab makes them (lib/lab/credentials.ts: signed in <state>/shared, where the CA
 * keys stay, then cp's share copied into its pki folder).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto, { X509Certificate } from 'node:crypto';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensureHostCertificates, signClusterCertificates, writeHostKubeconfigs } from '../../lib/lab/credentials.js';
import { hostVariables, labLayout, type HostLayout } from '../../lib/lab/host-vars.js';
import { defaultClusterSpec, hostByName, planCluster } from '../../lib/lab/plan.js';
import { renderHostUnits } from '../../lib/lab/units.js';

const root = path.resolve(import.meta.dirname, '../..');
const state = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-cis-'));
const plan = planCluster(defaultClusterSpec);
const cp = hostByName(plan, 'cp');
let layout: HostLayout;
let flags: Map<string, string>;
let etcdFlags: Map<string, string>;

const flagMap = (args: string[]) => new Map(args.filter((a) => a.startsWith('--')).map((l) => {
  const m = /^--([a-z0-9-]+)=(.*)$/.exec(l);
  if (!m) throw new Error(`not a --flag=value argument: ${l}`);
  return [m[1]!, m[2]!] as [string, string];
}));

beforeAll(() => {
  // What the lab runs the API server of host cp with, in pki mode.
  const out = execFileSync(process.execPath, [path.join(root, 'dist/cmd/tkube-lab/main.js'), 'apiserver-flags', `--state-dir=${state}`, '--security=pki', '--host=cp'], { encoding: 'utf8' });
  flags = flagMap(out.trim().split('\n'));
  // What `tkube-lab up` makes for cp: every certificate signed in <state>/shared, cp's share in <state>/hosts/cp/pki, then the kubeconfigs.
  layout = labLayout(state, 'cp', root);
  const shared = path.join(state, 'shared');
  signClusterCertificates(plan, 'pki', shared);
  ensureHostCertificates(plan, cp, layout, 'pki', shared);
  writeHostKubeconfigs(plan, cp, layout, 'pki');
  const etcd = renderHostUnits(root, cp, hostVariables(plan, cp, layout, 'pki')).find((u) => u.component === 'etcd')!;
  etcdFlags = flagMap(etcd.argv.slice(1));
}, 120_000);
afterAll(() => fs.rmSync(state, { recursive: true, force: true }));

const cert = (file: string) => new X509Certificate(fs.readFileSync(file));
const list = (name: string) => (flags.get(name) ?? '').split(',').filter(Boolean);

describe('CIS 1.2: API server flags of the lab', () => {
  test('every flag is one tkube-apiserver has', () => {
    const source = fs.readFileSync(path.join(root, 'cmd/tkube-apiserver/main.ts'), 'utf8');
    for (const name of flags.keys()) expect(source, name).toMatch(new RegExp(`['"]?${name}['"]?: flag\\(`));
  });

  test('anonymous requests are refused (--anonymous-auth=false)', () => {
    expect(flags.get('anonymous-auth')).toBe('false');
  });

  test('no static token file (--token-auth-file unset)', () => {
    expect(flags.has('token-auth-file')).toBe(false);
  });

  test('the API server authenticates to kubelets and verifies them', () => {
    for (const f of ['kubelet-client-certificate', 'kubelet-client-key', 'kubelet-certificate-authority']) {
      expect(flags.get(f), f).toBeTruthy();
      expect(fs.existsSync(flags.get(f)!), f).toBe(true);
    }
  });

  test('authorization: not AlwaysAllow; Node and RBAC', () => {
    const modes = list('authorization-mode');
    expect(modes).not.toContain('AlwaysAllow');
    expect(modes).toContain('Node');
    expect(modes).toContain('RBAC');
  });

  test('admission: no AlwaysAdmit; NodeRestriction on; ServiceAccount and NamespaceLifecycle not off', () => {
    expect(list('enable-admission-plugins')).not.toContain('AlwaysAdmit');
    expect(list('enable-admission-plugins')).toContain('NodeRestriction');
    for (const p of ['ServiceAccount', 'NamespaceLifecycle', 'PodSecurity', 'NodeRestriction']) expect(list('disable-admission-plugins')).not.toContain(p);
  });

  test('no insecure port; the secure port is on', () => {
    expect(flags.get('insecure-port') ?? '0').toBe('0');
    expect(Number(flags.get('secure-port'))).toBeGreaterThan(0);
  });

  test('service account tokens: verification keys, signing key, issuer', () => {
    expect(fs.existsSync(flags.get('service-account-key-file')!)).toBe(true);
    expect(fs.existsSync(flags.get('service-account-signing-key-file')!)).toBe(true);
    expect(flags.get('service-account-issuer')).toMatch(/^https:\/\//);
  });

  test('1.2.29/1.2.32: etcd is reached over TLS with a client certificate that its CA signed', () => {
    expect(list('etcd-servers').length).toBeGreaterThan(0);
    for (const e of list('etcd-servers')) expect(new URL(e).protocol).toBe('https:');
    for (const f of ['etcd-cafile', 'etcd-certfile', 'etcd-keyfile']) expect(fs.existsSync(flags.get(f)!), f).toBe(true);
    const ca = cert(flags.get('etcd-cafile')!);
    expect(ca.ca).toBe(true);
    const client = cert(flags.get('etcd-certfile')!);
    expect(client.verify(ca.publicKey)).toBe(true);
    expect(client.checkPrivateKey(crypto.createPrivateKey(fs.readFileSync(flags.get('etcd-keyfile')!)))).toBe(true);
  });

  test('serving certificate and key; client CA', () => {
    for (const f of ['tls-cert-file', 'tls-private-key-file', 'client-ca-file']) expect(fs.existsSync(flags.get(f)!), f).toBe(true);
    expect(cert(flags.get('tls-cert-file')!).verify(cert(flags.get('client-ca-file')!).publicKey)).toBe(true);
  });

  test('secrets encrypted at rest with an encrypting provider first (aescbc, aesgcm, secretbox or kms)', () => {
    const file = flags.get('encryption-provider-config')!;
    const cfg = parse(fs.readFileSync(file, 'utf8'));
    const rule = cfg.resources.find((r: { resources: string[] }) => r.resources.includes('secrets'));
    expect(rule).toBeDefined();
    expect(Object.keys(rule.providers[0])[0]).toMatch(/^(aescbc|aesgcm|secretbox|kms)$/);
  });

  test('key material is readable by its owner only, in a folder only its owner opens', () => {
    expect(fs.statSync(layout.pkiDir).mode & 0o077).toBe(0);
    const keys = fs.readdirSync(layout.pkiDir).filter((n) => n.endsWith('.key') || n === 'encryption-config.yaml');
    expect(keys).toEqual(expect.arrayContaining(['apiserver.key', 'sa.key', 'etcd-cp.key', 'apiserver-etcd-client.key', 'encryption-config.yaml']));
    for (const n of keys) expect(fs.statSync(path.join(layout.pkiDir, n)).mode & 0o077, n).toBe(0);
    const kubeconfigs = fs.readdirSync(layout.kubeconfigDir).filter((n) => n.endsWith('.kubeconfig')).map((n) => path.join(layout.kubeconfigDir, n));
    expect(kubeconfigs.map((k) => path.basename(k))).toEqual(expect.arrayContaining(['kube-controller-manager.kubeconfig', 'kubelet-cp.kubeconfig']));
    for (const k of kubeconfigs) expect(fs.statSync(k).mode & 0o077, k).toBe(0);
  });

  test('the CA keys stay with the signer: the control-plane host holds neither, nor the admin\'s credentials', () => {
    for (const f of ['ca.key', 'etcd-ca.key', 'admin.key', 'admin.crt']) expect(fs.existsSync(path.join(layout.pkiDir, f)), f).toBe(false);
    expect(fs.existsSync(path.join(layout.kubeconfigDir, 'admin.kubeconfig'))).toBe(false);
  });
});

describe('CIS 2: etcd of the lab', () => {
  test('2.1: clients over TLS with the member\'s certificate (its address, 127.0.0.1)', () => {
    for (const u of (etcdFlags.get('listen-client-urls') ?? '').split(',')) expect(new URL(u).protocol, u).toBe('https:');
    const c = cert(etcdFlags.get('cert-file')!);
    expect(c.checkPrivateKey(crypto.createPrivateKey(fs.readFileSync(etcdFlags.get('key-file')!)))).toBe(true);
    expect(c.subjectAltName).toContain(`IP Address:${cp.ip}`);
    expect(c.subjectAltName).toContain('IP Address:127.0.0.1');
  });

  test('2.2/2.3: client certificates required, no auto TLS', () => {
    expect(etcdFlags.get('client-cert-auth')).toBe('true');
    expect(etcdFlags.get('auto-tls') ?? 'false').toBe('false');
  });

  test('2.4/2.5/2.6: peers over TLS with certificates required, no auto TLS', () => {
    for (const u of [etcdFlags.get('listen-peer-urls')!, etcdFlags.get('initial-advertise-peer-urls')!, ...etcdFlags.get('initial-cluster')!.split(',').map((m) => m.split('=')[1]!)]) expect(new URL(u).protocol, u).toBe('https:');
    expect(fs.existsSync(etcdFlags.get('peer-cert-file')!)).toBe(true);
    expect(fs.existsSync(etcdFlags.get('peer-key-file')!)).toBe(true);
    expect(etcdFlags.get('peer-client-cert-auth')).toBe('true');
    expect(etcdFlags.get('peer-auto-tls') ?? 'false').toBe('false');
  });

  test('2.7: etcd trusts a CA of its own, not the cluster CA that signs every component\'s certificate', () => {
    const etcdCA = cert(etcdFlags.get('trusted-ca-file')!);
    const clusterCA = cert(flags.get('client-ca-file')!);
    expect(etcdCA.fingerprint256).not.toBe(clusterCA.fingerprint256);
    expect(etcdFlags.get('peer-trusted-ca-file')).toBe(etcdFlags.get('trusted-ca-file'));
    expect(cert(etcdFlags.get('cert-file')!).verify(etcdCA.publicKey)).toBe(true);
    expect(cert(flags.get('etcd-certfile')!).verify(etcdCA.publicKey)).toBe(true);
    expect(cert(path.join(layout.pkiDir, 'kubelet-cp.crt')).verify(etcdCA.publicKey)).toBe(false);
  });
});

