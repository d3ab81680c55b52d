/**
 * A CIS-style check (the kubelet recommendations of the CIS Kubernetes Benchmark, section 4.2)
 * of the flags the lab runs tkube-kubelet with in security mode pki (lib/lab renders
 * deploy/systemd/tkube-kubelet.service), and of the files they name as the lab gives them to the
 * node (signed in the signer folder, the node's share copied into its pki folder).
 *
 * Not covered, on purpose: 4.2.6 --protect-kernel-defaults (tkube-kubelet does not tune
 * kernel parameters, so there is nothing to protect), 4.2.7 --make-iptables-util-chains
 * (tkube-kubelet keeps no KUBE-MARK chains: kube-proxy owns them), 4.2.11/4.2.12 certificate
 * rotation (tkube-pki renews certificates; there is no CSR-based rotation yet). 4.2.8 (no
 * --hostname-override) is a documented exception, checked below.
 */
import crypto, { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { defaultClusterSpec, ensureHostCertificates, hostByName, hostVariables, labLayout, planCluster, renderHostUnits, signClusterCertificates, type HostPlan } from '../../lib/lab/index.js';

const root = path.resolve(import.meta.dirname, '../..');
const state = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-cis-kubelet-'));
const shared = path.join(state, 'shared');
const plan = planCluster({ ...defaultClusterSpec, workers: 1 });
let host: HostPlan;
let flags: Map<string, string>;
let argv: string[];

beforeAll(() => {
  host = hostByName(plan, 'worker');
  const layout = labLayout(state, host.name, root);
  const unit = renderHostUnits(root, host, hostVariables(plan, host, layout, 'pki')).find((u) => u.component === 'kubelet');
  if (!unit) throw new Error('the worker runs no kubelet');
  argv = unit.argv.slice(2);
  flags = new Map(argv.map((a) => {
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`not a --flag[=value] argument: ${a}`);
    return [m[1]!, m[2] ?? 'true'];
  }));
  // What the lab's provisioning gives this host (lib/lab/credentials.ts).
  signClusterCertificates(plan, 'pki', shared);
  ensureHostCertificates(plan, host, layout, 'pki', shared);
}, 120_000);
afterAll(() => fs.rmSync(state, { recursive: true, force: true }));

describe('CIS 4.2: kubelet flags of the lab (security mode pki)', () => {
  test('every flag is one tkube-kubelet has', () => {
    const source = fs.readFileSync(path.join(root, 'cmd/tkube-kubelet/main.ts'), 'utf8');
    for (const name of flags.keys()) expect(source, name).toMatch(new RegExp(`['"]?${name}['"]?: flag\\(`));
  });

  test('4.2.1 anonymous requests are refused (--anonymous-auth=false)', () => {
    expect(flags.get('anonymous-auth')).toBe('false');
  });

  test('4.2.2 authorization is not AlwaysAllow (--authorization-mode=Webhook)', () => {
    expect(flags.get('authorization-mode')).toBe('Webhook');
  });

  test('4.2.3 client certificates are checked against the cluster CA (--client-ca-file), the CA that signed the API server\'s kubelet client certificate', () => {
    const ca = new X509Certificate(fs.readFileSync(flags.get('client-ca-file')!));
    const client = new X509Certificate(fs.readFileSync(path.join(shared, 'apiserver-kubelet-client.crt')));
    expect(client.verify(ca.publicKey)).toBe(true);
    expect(client.subject).toContain('CN=kube-apiserver-kubelet-client');
  });

  test('bearer tokens are checked by the API server (--authentication-token-webhook)', () => {
    expect(flags.get('authentication-token-webhook')).toBe('true');
  });

  test('4.2.4 the read-only port is off (--read-only-port=0)', () => {
    expect(flags.get('read-only-port')).toBe('0');
  });

  test('4.2.5 streaming connections time out (--streaming-connection-idle-timeout not 0)', () => {
    const v = flags.get('streaming-connection-idle-timeout') ?? '4h';
    expect(v).not.toMatch(/^0[a-z]*$/);
  });

  test('4.2.8 exception: --hostname-override names the node, because lab hosts share one machine\'s hostname; the serving certificate is issued for that name', () => {
    expect(flags.get('hostname-override')).toBe(host.name);
    const cert = new X509Certificate(fs.readFileSync(flags.get('tls-cert-file')!));
    expect(cert.subjectAltName).toContain(`DNS:${host.name}`);
  });

  test('4.2.10 a serving certificate and key from the cluster CA, naming the node\'s address, key private (0600)', () => {
    const certFile = flags.get('tls-cert-file')!;
    const keyFile = flags.get('tls-private-key-file')!;
    expect(certFile).toBeTruthy();
    expect(keyFile).toBeTruthy();
    const cert = new X509Certificate(fs.readFileSync(certFile));
    const ca = new X509Certificate(fs.readFileSync(flags.get('client-ca-file')!));
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(crypto.createPrivateKey(fs.readFileSync(keyFile)))).toBe(true);
    expect(cert.subjectAltName).toContain(`IP Address:${host.ip}`);
    expect(cert.checkIP(flags.get('node-ip')!)).toBe(flags.get('node-ip'));
    expect(fs.statSync(keyFile).mode & 0o077).toBe(0);
  });

  test('the API is HTTPS on 10250, the port the API server expects', () => {
    expect(flags.get('port')).toBe('10250');
    expect(argv.some((a) => a.startsWith('--address=') && a !== '--address=0.0.0.0')).toBe(false);
  });
});
