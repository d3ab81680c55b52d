import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseCSR } from './csr.js';
import { validateCertificateSigningRequest } from './v1-behaviour.js';
import { csrConditionText, type CertificateSigningRequest } from './v1.js';

function makeCSR(subj: string, opts: { san?: string; alg?: 'ec' | 'rsa' } = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csr-test-'));
  try {
    const key = opts.alg === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    return execFileSync('openssl', ['req', '-new', ...key, '-nodes', '-keyout', path.join(dir, 'k'), '-subj', subj, ...(opts.san ? ['-addext', `subjectAltName=${opts.san}`] : [])], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('parseCSR', () => {
  test('reads subject, subjectAltNames and checks the signature (ECDSA and RSA)', () => {
    const p = parseCSR(makeCSR('/O=system:nodes/O=b/OU=u/CN=system:node:n9', { san: 'DNS:n9.example,IP:10.0.0.9,email:a@b.c,URI:spiffe://x/y,IP:fd00::1' }));
    expect(p).toMatchObject({ commonName: 'system:node:n9', organizations: ['system:nodes', 'b'], organizationalUnits: ['u'], dnsNames: ['n9.example'], ipAddresses: ['10.0.0.9', 'fd00::1'], emailAddresses: ['a@b.c'], uris: ['spiffe://x/y'] });
    expect(parseCSR(makeCSR('/CN=jane', { alg: 'rsa' })).commonName).toBe('jane');
  });

  test('refuses other PEM blocks and tampered requests', () => {
    expect(() => parseCSR('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')).toThrow('PEM block type must be CERTIFICATE REQUEST');
    expect(() => parseCSR('garbage')).toThrow('PEM block type must be CERTIFICATE REQUEST');
    const good = makeCSR('/CN=jane');
    const der = Buffer.from(good.split('\n').filter((l) => !l.startsWith('-----')).join(''), 'base64');
    // Change a byte of the subject's CN ("jane" → "jone"): the signature no longer matches.
    const i = der.indexOf(Buffer.from('jane'));
    der[i + 1] = 'o'.charCodeAt(0);
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(() => parseCSR(tampered)).toThrow(/verification/);
  });
});

describe('validation', () => {
  const base = (): CertificateSigningRequest => ({
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name: 'x' },
    spec: { request: Buffer.from(makeCSR('/CN=jane')).toString('base64'), signerName: 'example.com/s', usages: ['client auth'] },
  });
  const messages = (csr: CertificateSigningRequest, old?: CertificateSigningRequest, o = {}) => validateCertificateSigningRequest(csr, old, o).map((e) => `${e.field}: ${e.detail ?? ''}`);

  test('signer names, usages and durations as upstream', () => {
    expect(messages(base())).toEqual([]);
    const c = base();
    c.spec.signerName = 'nodomain';
    c.spec.usages = ['client auth', 'bogus', 'client auth'];
    c.spec.expirationSeconds = 60;
    expect(validateCertificateSigningRequest(c).map((e) => `${e.field}: ${e.type}`).slice(0, 2)).toEqual(['spec.usages[1]: FieldValueNotSupported', 'spec.usages[2]: FieldValueDuplicate']);
    expect(messages(c).slice(2)).toEqual([
      "spec.signerName: must be a fully qualified domain and path of the form 'example.com/signer-name'",
      'spec.expirationSeconds: may not specify a duration less than 600 seconds (10 minutes)',
    ]);
    c.spec.signerName = 'example/x';
    expect(messages(c)).toContain('spec.signerName: should be a domain with at least two segments separated by dots');
  });

  test('conditions: Approved and Denied exclusive, never removed; certificate set once on approved requests', () => {
    const old = base();
    const approved = structuredClone(old);
    approved.status = { conditions: [{ type: 'Approved', status: 'True' }] };
    expect(messages(approved, old)).toEqual(['status.conditions: updates may not add a condition of type "Approved"']);
    expect(messages(approved, old, { allowSettingApprovalConditions: true })).toEqual([]);
    const both = structuredClone(approved);
    both.status!.conditions!.push({ type: 'Denied', status: 'True' });
    expect(messages(both, old, { allowSettingApprovalConditions: true })).toContain('status.conditions[1].type: Approved and Denied conditions are mutually exclusive');
    expect(messages(old, approved, { allowSettingApprovalConditions: true })).toEqual(['status.conditions: updates may not remove a condition of type "Approved"']);
    const issued = structuredClone(old);
    issued.status = { certificate: Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n').toString('base64') };
    expect(messages(issued, old, { allowSettingCertificate: true }).join()).toContain('status.certificate: x509: malformed certificate');
    expect(messages(issued, old, { allowSettingCertificate: true })).toContain('status.certificate: certificate may only be set once the request is approved');
  });

  test('CONDITION column', () => {
    const c = base();
    expect(csrConditionText(c)).toBe('Pending');
    c.status = { conditions: [{ type: 'Approved', status: 'True' }], certificate: 'eA==' };
    expect(csrConditionText(c)).toBe('Approved,Issued');
    c.status = { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Failed', status: 'True' }] };
    expect(csrConditionText(c)).toBe('Approved,Failed');
    c.status = { conditions: [{ type: 'Denied', status: 'True' }] };
    expect(csrConditionText(c)).toBe('Denied');
  });
});

test('sanity: crypto is available', () => expect(crypto.randomUUID()).toBeTruthy());
