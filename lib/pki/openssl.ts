/**
 * The few openssl operations the PKI needs: keys, a self-signed CA, and certificates signed by
 * it. Private keys never touch the disk with loose permissions: openssl writes them to stdout
 * and they are stored 0600.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type KeyAlgorithm = 'rsa' | 'ecdsa';

function openssl(args: string[], input?: string | Buffer): Buffer {
  try {
    return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() || e.message}`, { cause: err });
  }
}

/** Writes a file atomically with the given mode (0600 for keys). */
export function writeSecureFile(file: string, data: string | Buffer, mode: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  const tmp = `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  fs.writeFileSync(tmp, data, { mode });
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, file);
}

/** A new private key in PEM (PKCS#8). */
export function generateKey(alg: KeyAlgorithm = 'rsa', bits = 2048): string {
  const args = alg === 'rsa' ? ['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${bits}`] : ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  return openssl(args).toString();
}

export function publicKeyOf(keyPEM: string): string {
  return crypto.createPublicKey(keyPEM).export({ type: 'spki', format: 'pem' }).toString();
}

export interface Subject {
  commonName: string;
  organizations?: string[];
}

function subjectArg(s: Subject): string {
  const esc = (v: string) => v.replace(/[\\/]/g, (c) => `\\${c}`);
  return `${(s.organizations ?? []).map((o) => `/O=${esc(o)}`).join('')}/CN=${esc(s.commonName)}`;
}

const reqConfig = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature, keyEncipherment
subjectKeyIdentifier = hash
`;

function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-pki-'));
  try {
    return fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A self-signed CA certificate for `keyPEM`. */
export function selfSignedCA(keyPEM: string, subject: Subject, days: number): string {
  return withTempDir((dir) => {
    fs.writeFileSync(path.join(dir, 'req.cnf'), reqConfig);
    fs.writeFileSync(path.join(dir, 'ca.key'), keyPEM, { mode: 0o600 });
    return openssl(['req', '-x509', '-new', '-key', path.join(dir, 'ca.key'), '-config', path.join(dir, 'req.cnf'), '-extensions', 'v3_ca', '-subj', subjectArg(subject), '-days', String(days), '-sha256']).toString();
  });
}

export interface LeafSpec {
  subject: Subject;
  /** DNS names and IP addresses. */
  dnsNames?: string[];
  ipAddresses?: string[];
  usages: ('client' | 'server')[];
  days: number;
}

/** A certificate for `keyPEM`, signed by the CA. */
export function signedCertificate(keyPEM: string, spec: LeafSpec, caCertPEM: string, caKeyPEM: string): string {
  return withTempDir((dir) => {
    const f = (n: string) => path.join(dir, n);
    fs.writeFileSync(f('req.cnf'), reqConfig);
    fs.writeFileSync(f('leaf.key'), keyPEM, { mode: 0o600 });
    fs.writeFileSync(f('ca.key'), caKeyPEM, { mode: 0o600 });
    fs.writeFileSync(f('ca.crt'), caCertPEM);
    const eku = spec.usages.map((u) => (u === 'client' ? 'clientAuth' : 'serverAuth')).join(', ');
    const sans = [...(spec.dnsNames ?? []).map((d) => `DNS:${d}`), ...(spec.ipAddresses ?? []).map((i) => `IP:${i}`)];
    const ext = [
      '[v3]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature, keyEncipherment',
      `extendedKeyUsage = ${eku}`,
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      ...(sans.length ? [`subjectAltName = ${sans.join(', ')}`] : []),
      '',
    ].join('\n');
    fs.writeFileSync(f('ext.cnf'), ext);
    const csr = openssl(['req', '-new', '-key', f('leaf.key'), '-config', f('req.cnf'), '-subj', subjectArg(spec.subject)]);
    fs.writeFileSync(f('leaf.csr'), csr);
    const serial = `0x${crypto.randomBytes(16).toString('hex')}`;
    return openssl(['x509', '-req', '-in', f('leaf.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-set_serial', serial, '-days', String(spec.days), '-sha256', '-extfile', f('ext.cnf'), '-extensions', 'v3']).toString();
  });
}
