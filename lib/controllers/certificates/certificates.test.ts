import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseCSR, type CertificateSigningRequest } from '../../api/index.js';
import { csrDeadline } from './controllers.js';
import { certificateValidity, opensslUsages, validateAPIServerClientUsages, validateKubeletClientCSR, validateKubeletServingCSR } from './signer-rules.js';

function request(subj: string, san?: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csr-rules-'));
  try {
    const pem = execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'k'), '-subj', subj, ...(san ? ['-addext', `subjectAltName=${san}`] : [])], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    return parseCSR(pem);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('signer rules', () => {
  const node = request('/O=system:nodes/CN=system:node:n1');
  const serving = request('/O=system:nodes/CN=system:node:n1', 'DNS:n1,IP:10.0.0.1');
  const cases: [string, () => void, string | undefined][] = [
    ['kubelet client', () => validateKubeletClientCSR(node, ['digital signature', 'key encipherment', 'client auth']), undefined],
    ['kubelet client without RSA usage', () => validateKubeletClientCSR(node, ['client auth', 'digital signature']), undefined],
    ['kubelet client, wrong org', () => validateKubeletClientCSR(request('/O=x/CN=system:node:n1'), ['digital signature', 'client auth']), 'subject organization is not system:nodes'],
    ['kubelet client, wrong CN', () => validateKubeletClientCSR(request('/O=system:nodes/CN=n1'), ['digital signature', 'client auth']), 'subject common name does not begin with system:node:'],
    ['kubelet client, SANs', () => validateKubeletClientCSR(serving, ['digital signature', 'client auth']), 'DNS subjectAltNames are not allowed'],
    ['kubelet client, usages', () => validateKubeletClientCSR(node, ['client auth']), 'usages did not match [client auth digital signature key encipherment]'],
    ['kubelet serving', () => validateKubeletServingCSR(serving, ['digital signature', 'server auth']), undefined],
    ['kubelet serving without names', () => validateKubeletServingCSR(node, ['digital signature', 'server auth']), 'DNS or IP subjectAltName is required'],
    ['kubelet serving, usages', () => validateKubeletServingCSR(serving, ['digital signature', 'client auth']), 'usages did not match [digital signature key encipherment server auth]'],
    ['apiserver client', () => validateAPIServerClientUsages(['client auth', 'digital signature']), undefined],
    ['apiserver client, server auth', () => validateAPIServerClientUsages(['client auth', 'server auth']), 'invalid usage for client certificate: server auth'],
    ['apiserver client, no client auth', () => validateAPIServerClientUsages(['digital signature']), 'missing required usage for client certificate: client auth'],
  ];
  test.each(cases)('%s', (_name, fn, message) => {
    if (message) expect(fn).toThrow(message);
    else expect(fn).not.toThrow();
  });

  test('usages map to openssl extension names', () => {
    expect(opensslUsages(['digital signature', 'key encipherment', 'client auth', 'server auth'])).toEqual({ keyUsages: ['digitalSignature', 'keyEncipherment'], extKeyUsages: ['clientAuth', 'serverAuth'] });
    expect(() => opensslUsages(['nonsense'])).toThrow('unrecognized usage values: ["nonsense"]');
  });

  test('validity: signer duration capped by expirationSeconds (at least 10m), backdated 5m, never past the CA', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const year = 8760 * 3600_000;
    const ca = now + 10 * year;
    const v = (exp?: number, caEnd = ca) => {
      const r = certificateValidity(now, year, exp, caEnd);
      return [r.notBefore.toISOString(), r.notAfter.toISOString()];
    };
    expect(v()).toEqual(['2025-12-31T23:55:00.000Z', '2026-12-31T23:55:00.000Z']);
    expect(v(3600)).toEqual(['2025-12-31T23:55:00.000Z', '2026-01-01T01:00:00.000Z']);
    expect(v(60)).toEqual(['2025-12-31T23:55:00.000Z', '2026-01-01T00:10:00.000Z']);
    expect(v(86400)).toEqual(['2025-12-31T23:55:00.000Z', '2026-01-01T23:55:00.000Z']);
    expect(v(undefined, now + 3600_000)[1]).toBe('2026-01-01T01:00:00.000Z');
  });
});

describe('csrcleaner deadlines', () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const at = (ms: number) => new Date(ms).toISOString();
  const csr = (status?: CertificateSigningRequest['status']): CertificateSigningRequest =>
    ({ apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'x', creationTimestamp: at(t0) }, spec: { request: '', signerName: 'a.b/c' }, status }) as CertificateSigningRequest;
  test('pending 24h; approved, denied and failed 1h after the condition', () => {
    expect(csrDeadline(csr())).toBe(t0 + 24 * 3600_000);
    expect(csrDeadline(csr({ conditions: [{ type: 'Approved', status: 'True', lastUpdateTime: at(t0 + 60_000) }] }))).toBe(t0 + 60_000 + 3600_000);
    expect(csrDeadline(csr({ conditions: [{ type: 'Denied', status: 'True', lastUpdateTime: at(t0) }] }))).toBe(t0 + 3600_000);
    expect(csrDeadline(csr({ conditions: [{ type: 'Failed', status: 'True', lastUpdateTime: at(t0 + 5) }] }))).toBe(t0 + 5 + 3600_000);
  });
});
