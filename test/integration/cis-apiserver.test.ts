/**
 * A CIS-style check (the API server recommendations of the CIS Kubernetes Benchmark, section 1.2) of the flags
 * the lab runs tkube-apiserver with (hack/tkube-lab apiserver-flags), and of the files they
 * name as tkube-pki writes them.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensurePKI, firstServiceIP } from '../../lib/pki/index.js';

const root = path.resolve(import.meta.dirname, '../..');
const state = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-cis-'));
let flags: Map<string, string>;
let lines: string[];

beforeAll(() => {
  const out = execFileSync('bash', [path.join(root, 'hack/tkube-lab'), 'apiserver-flags'], { env: { ...process.env, TKUBE_LAB_DIR: state }, encoding: 'utf8' });
  lines = out.trim().split('\n');
  flags = new Map(lines.map((l) => {
    const m = /^--([a-z0-9-]+)=(.*)$/.exec(l);
    if (!m) throw new Error(`not a --flag=value line: ${l}`);
    return [m[1]!, m[2]!];
  }));
  // What `hack/tkube-lab up` runs tkube-pki to make.
  ensurePKI({
    dir: path.join(state, 'pki'), kubeconfigDir: state, clusterName: 'tkube', apiserverAddress: '127.0.0.1', securePort: Number(flags.get('secure-port')),
    serviceIP: firstServiceIP('10.96.0.0/12'), clusterDomain: 'cluster.local', extraSANs: [], nodes: [{ name: 'lab', addresses: ['127.0.0.1'] }],
    caDays: 3650, certDays: 365, renewBeforeDays: 30, keyAlgorithm: 'ecdsa', keyBits: 256,
  });
});
afterAll(() => fs.rmSync(state, { recursive: true, force: true }));

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

  test('etcd is reached on loopback only (tkube talks to etcd without TLS)', () => {
    for (const e of list('etcd-servers')) expect(new URL(e).hostname).toBe('127.0.0.1');
  });

  test('serving certificate and key; client CA', () => {
    for (const f of ['tls-cert-file', 'tls-private-key-file', 'client-ca-file']) expect(fs.existsSync(flags.get(f)!), f).toBe(true);
    const cert = new X509Certificate(fs.readFileSync(flags.get('tls-cert-file')!));
    expect(cert.verify(new X509Certificate(fs.readFileSync(flags.get('client-ca-file')!)).publicKey)).toBe(true);
  });

  test('secrets encrypted at rest with an encrypting provider first (aescbc, aesgcm, secretbox or kms)', () => {
    const file = flags.get('encryption-provider-config')!;
    const cfg = parse(fs.readFileSync(file, 'utf8'));
    const rule = cfg.resources.find((r: { resources: string[] }) => r.resources.includes('secrets'));
    expect(rule).toBeDefined();
    expect(Object.keys(rule.providers[0])[0]).toMatch(/^(aescbc|aesgcm|secretbox|kms)$/);
  });

  test('key material is readable by its owner only', () => {
    const pki = path.join(state, 'pki');
    for (const n of fs.readdirSync(pki).filter((n) => n.endsWith('.key') || n === 'encryption-config.yaml')) expect(fs.statSync(path.join(pki, n)).mode & 0o077, n).toBe(0);
    for (const n of fs.readdirSync(state).filter((n) => n.endsWith('.kubeconfig'))) expect(fs.statSync(path.join(state, n)).mode & 0o077, n).toBe(0);
  });
});

