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

/** What a signer puts in a certificate issued for a CSR. */
export interface CSRSigningSpec {
  /** openssl keyUsage names: digitalSignature, keyEncipherment, ... */
  keyUsages: string[];
  /** openssl extendedKeyUsage names: clientAuth, serverAuth, ... */
  extKeyUsages: string[];
  /** subjectAltName entries as openssl writes them: DNS:x, IP:1.2.3.4, email:a@b, URI:u. */
  subjectAltNames: string[];
  notBefore: Date;
  notAfter: Date;
}

/** openssl ca's time form: YYYYMMDDHHMMSSZ (UTC). */
function caTime(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}

/**
 * Signs a PEM certificate request with the CA, keeping the request's subject as it is, with
 * exactly the given usages, names and validity (to the second: `openssl ca` takes start and
 * end dates, where `openssl x509` takes days). Extensions of the request itself are not copied.
 */
export function signCertificateRequest(csrPEM: string, spec: CSRSigningSpec, caCertPEM: string, caKeyPEM: string): string {
  for (const v of spec.subjectAltNames) if (!/^[A-Za-z]+:[A-Za-z0-9.*:@_/+=?&%~!$'()[\],;-]+$/.test(v)) throw new Error(`subjectAltName ${JSON.stringify(v)} cannot be signed`);
  return withTempDir((dir) => {
    const f = (n: string) => path.join(dir, n);
    fs.writeFileSync(f('req.csr'), csrPEM);
    fs.writeFileSync(f('ca.key'), caKeyPEM, { mode: 0o600 });
    fs.writeFileSync(f('ca.crt'), caCertPEM);
    fs.writeFileSync(f('index.txt'), '');
    // A random positive serial (upstream draws 128 random bits).
    fs.writeFileSync(f('serial'), `${(0x40 | (crypto.randomBytes(1)[0]! & 0x3f)).toString(16)}${crypto.randomBytes(15).toString('hex')}\n`);
    const config = [
      '[ca]',
      'default_ca = signer',
      '[signer]',
      `database = ${f('index.txt')}`,
      `new_certs_dir = ${dir}`,
      `serial = ${f('serial')}`,
      'default_md = sha256',
      'policy = anything',
      'copy_extensions = none',
      'unique_subject = no',
      'email_in_dn = yes',
      '[anything]',
      '[v3]',
      'basicConstraints = critical, CA:FALSE',
      ...(spec.keyUsages.length ? [`keyUsage = critical, ${spec.keyUsages.join(', ')}`] : []),
      ...(spec.extKeyUsages.length ? [`extendedKeyUsage = ${spec.extKeyUsages.join(', ')}`] : []),
      'authorityKeyIdentifier = keyid',
      ...(spec.subjectAltNames.length ? [`subjectAltName = ${spec.subjectAltNames.join(', ')}`] : []),
      '',
    ].join('\n');
    fs.writeFileSync(f('ca.cnf'), config);
    openssl([
      'ca', '-batch', '-notext', '-preserveDN', '-config', f('ca.cnf'), '-extensions', 'v3',
      '-cert', f('ca.crt'), '-keyfile', f('ca.key'), '-in', f('req.csr'), '-out', f('out.crt'),
      '-startdate', caTime(spec.notBefore), '-enddate', caTime(spec.notAfter),
    ]);
    const out = fs.readFileSync(f('out.crt'), 'utf8');
    const m = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/.exec(out);
    if (!m) throw new Error('openssl ca wrote no certificate');
    return m[0].endsWith('\n') ? m[0] : `${m[0]}\n`;
  });
}
