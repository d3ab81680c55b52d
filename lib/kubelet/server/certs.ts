/**
 * The kubelet's serving certificate. As upstream, a kubelet started without --tls-cert-file
 * and --tls-private-key-file makes a self-signed one in --cert-dir (kubelet.crt, kubelet.key)
 * and reuses it on later starts. API servers reach kubelets by address, so the certificate
 * names the node's addresses.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface ServingCertificate {
  cert: Buffer;
  key: Buffer;
  certFile: string;
  keyFile: string;
  generated: boolean;
}

export interface CertificateOptions {
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  /** Where a self-signed pair is kept when no files are given (upstream --cert-dir). */
  certDir: string;
  nodeName: string;
  /** Addresses the certificate should name besides localhost and 127.0.0.1. */
  addresses?: string[];
}

export function loadOrCreateServingCertificate(o: CertificateOptions): ServingCertificate {
  if (o.tlsCertFile || o.tlsPrivateKeyFile) {
    if (!o.tlsCertFile || !o.tlsPrivateKeyFile) throw new Error('--tls-cert-file and --tls-private-key-file must be given together');
    return { cert: fs.readFileSync(o.tlsCertFile), key: fs.readFileSync(o.tlsPrivateKeyFile), certFile: o.tlsCertFile, keyFile: o.tlsPrivateKeyFile, generated: false };
  }
  const certFile = path.join(o.certDir, 'kubelet.crt');
  const keyFile = path.join(o.certDir, 'kubelet.key');
  let generated = false;
  if (!fs.existsSync(certFile) || !fs.existsSync(keyFile)) {
    fs.mkdirSync(o.certDir, { recursive: true, mode: 0o700 });
    const names = new Set(['localhost', o.nodeName, os.hostname()]);
    const ips = new Set(['127.0.0.1', ...(o.addresses ?? []).filter((a) => /^[\d.]+$|:/.test(a))]);
    for (const a of o.addresses ?? []) if (!/^[\d.]+$|:/.test(a)) names.add(a);
    const san = `subjectAltName=${[...[...names].map((n) => `DNS:${n}`), ...[...ips].map((i) => `IP:${i}`)].join(',')}`;
    const tmpKey = `${keyFile}.tmp-${process.pid}`;
    const tmpCert = `${certFile}.tmp-${process.pid}`;
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', tmpKey, '-out', tmpCert, '-days', '365', '-subj', `/CN=${o.nodeName}@${Math.floor(Date.now() / 1000)}`, '-addext', san], { stdio: 'ignore' });
    fs.chmodSync(tmpKey, 0o600);
    fs.renameSync(tmpKey, keyFile);
    fs.renameSync(tmpCert, certFile);
    generated = true;
  }
  return { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile), certFile, keyFile, generated };
}
