/**
 * The cluster's PKI, as tkube-pki writes it (idempotent: what exists and is still right is
 * kept; what is missing, wrong or about to expire is made again):
 *
 *   <dir>/ca.{crt,key}                           the cluster CA
 *   <dir>/apiserver.{crt,key}                    API server serving certificate: kubernetes,
 *                                                kubernetes.default[.svc[.<domain>]], localhost,
 *                                                the service IP, node and lab addresses
 *   <dir>/apiserver-kubelet-client.{crt,key}     the API server towards kubelets
 *   <dir>/admin.{crt,key}                        kubernetes-admin in system:masters
 *   <dir>/kube-scheduler.{crt,key}               system:kube-scheduler
 *   <dir>/kube-controller-manager.{crt,key}      system:kube-controller-manager
 *   <dir>/kube-proxy.{crt,key}                   system:kube-proxy
 *   <dir>/kubelet-<node>.{crt,key}               system:node:<node> in system:nodes
 *   <dir>/kubelet-<node>-serving.{crt,key}       the kubelet's own HTTPS endpoint
 *   <dir>/etcd-ca.{crt,key}                      with etcd members: etcd's own CA (trusts only its own)
 *   <dir>/etcd-<member>.{crt,key}                the member's serving and peer certificate: its
 *                                                addresses, 127.0.0.1 and localhost
 *   <dir>/apiserver-etcd-client.{crt,key}        the API server towards etcd
 *   <dir>/sa.{key,pub}                           service account token signing key pair
 *   <dir>/encryption-config.yaml                 secrets encrypted at rest (aescbc, new key)
 *   <kubeconfigDir>/<component>.kubeconfig       admin, kube-scheduler, kube-controller-manager,
 *                                                kube-proxy, kubelet-<node>
 *
 * Private keys and kubeconfigs (which embed keys) are written 0600.
 */
import crypto, { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { generateKey, publicKeyOf, selfSignedCA, signedCertificate, writeSecureFile, type KeyAlgorithm, type LeafSpec } from './openssl.js';

export interface PKINode {
  name: string;
  addresses: string[];
}

export interface PKIOptions {
  dir: string;
  kubeconfigDir: string;
  clusterName: string;
  /** The address components and kubectl reach the API server at (kubeconfig server URL). */
  apiserverAddress: string;
  securePort: number;
  /** The `kubernetes` Service IP (the first of the service range). */
  serviceIP: string;
  clusterDomain: string;
  /** Extra DNS names or IPs for the API server certificate (lab addresses, load balancer). */
  extraSANs: string[];
  nodes: PKINode[];
  /** etcd members (name and addresses) to issue serving and peer certificates for; given, the etcd CA and the API server's etcd client certificate are made too. */
  etcdMembers?: PKINode[];
  caDays: number;
  certDays: number;
  /** Certificates expiring within this many days are renewed. */
  renewBeforeDays: number;
  keyAlgorithm: KeyAlgorithm;
  keyBits: number;
  /** Renew every leaf certificate even if it is still good. */
  force?: boolean;
}

export type Progress = (message: string) => void;

interface CertPlan {
  /** File base name in dir. */
  name: string;
  spec: Omit<LeafSpec, 'days'>;
  /** Kubeconfig to write for it, if any. */
  kubeconfig?: string;
}

const isIP = (s: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(s) || s.includes(':');

/** The first address of a service CIDR (10.96.0.0/12 → 10.96.0.1). */
export function firstServiceIP(cidr: string): string {
  const [base] = cidr.split('/');
  const parts = base!.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) throw new Error(`--service-cluster-ip-range=${cidr} is not an IPv4 CIDR`);
  const n = ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]! + 1;
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function certificatePlan(o: PKIOptions): CertPlan[] {
  const apiNames = new Set(['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${o.clusterDomain}`, 'localhost', os.hostname()]);
  const apiIPs = new Set([o.serviceIP, '127.0.0.1']);
  for (const a of [o.apiserverAddress, ...o.extraSANs, ...o.nodes.flatMap((n) => n.addresses)]) (isIP(a) ? apiIPs : apiNames).add(a);
  for (const n of o.nodes) apiNames.add(n.name);
  const client = (name: string, cn: string, orgs: string[] = [], kubeconfig?: string): CertPlan => ({ name, spec: { subject: { commonName: cn, organizations: orgs }, usages: ['client'] }, kubeconfig });
  return [
    { name: 'apiserver', spec: { subject: { commonName: 'kube-apiserver' }, dnsNames: [...apiNames], ipAddresses: [...apiIPs], usages: ['server'] } },
    client('apiserver-kubelet-client', 'kube-apiserver-kubelet-client'),
    client('admin', 'kubernetes-admin', ['system:masters'], 'admin'),
    client('kube-scheduler', 'system:kube-scheduler', [], 'kube-scheduler'),
    client('kube-controller-manager', 'system:kube-controller-manager', [], 'kube-controller-manager'),
    client('kube-proxy', 'system:kube-proxy', [], 'kube-proxy'),
    ...o.nodes.flatMap((n) => [
      client(`kubelet-${n.name}`, `system:node:${n.name}`, ['system:nodes'], `kubelet-${n.name}`),
      {
        name: `kubelet-${n.name}-serving`,
        spec: { subject: { commonName: `system:node:${n.name}`, organizations: ['system:nodes'] }, dnsNames: [n.name, ...n.addresses.filter((a) => !isIP(a))], ipAddresses: n.addresses.filter(isIP), usages: ['server'] as ('client' | 'server')[] },
      },
    ]),
  ];
}

/**
 * The etcd CA's certificates: each member's (serving its clients and its peers, and presented
 * to peers as a client: CN the member's name; SANs its addresses, 127.0.0.1 and localhost) and
 * the API server's client certificate towards etcd.
 */
export function etcdCertificatePlan(members: PKINode[]): CertPlan[] {
  return [
    ...members.map((m): CertPlan => ({
      name: `etcd-${m.name}`,
      spec: {
        subject: { commonName: m.name },
        dnsNames: [...new Set(['localhost', m.name, ...m.addresses.filter((a) => !isIP(a))])],
        ipAddresses: [...new Set([...m.addresses.filter(isIP), '127.0.0.1'])],
        usages: ['server', 'client'],
      },
    })),
    { name: 'apiserver-etcd-client', spec: { subject: { commonName: 'kube-apiserver-etcd-client' }, usages: ['client'] } },
  ];
}

/** A CA kept as long as it is readable, matches its key and has a year left; else a new one. */
function ensureCA(certFile: string, keyFile: string, commonName: string, label: string, what: string, o: PKIOptions, progress: Progress): { certPEM: string; keyPEM: string } {
  let keyPEM = read(keyFile);
  let certPEM = read(certFile);
  let ok = false;
  if (keyPEM && certPEM) {
    try {
      const c = new X509Certificate(certPEM);
      ok = c.ca && c.checkPrivateKey(crypto.createPrivateKey(keyPEM)) && Date.parse(c.validTo) - Date.now() > 365 * 86_400_000;
    } catch {
      ok = false;
    }
  }
  if (!ok) {
    keyPEM = generateKey(o.keyAlgorithm, o.keyBits);
    certPEM = selfSignedCA(keyPEM, { commonName }, o.caDays);
    writeSecureFile(keyFile, keyPEM, 0o600);
    writeSecureFile(certFile, certPEM, 0o644);
    progress(`[pki] ${label}: generated a new ${what} (${o.caDays} days)`);
  } else progress(`[pki] ${label}: exists, kept`);
  fs.chmodSync(keyFile, 0o600);
  return { certPEM: certPEM!, keyPEM: keyPEM! };
}

/** Why an existing certificate must be made again, or undefined when it is still right. */
export function certificateProblem(certPEM: string, keyPEM: string, spec: Omit<LeafSpec, 'days'>, ca: X509Certificate, renewBeforeDays: number): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPEM);
  } catch {
    return 'unreadable';
  }
  if (!cert.verify(ca.publicKey)) return 'not signed by the current CA';
  if (!cert.checkPrivateKey(crypto.createPrivateKey(keyPEM))) return 'does not match its key';
  if (Date.parse(cert.validTo) - Date.now() < renewBeforeDays * 86_400_000) return `expires ${cert.validTo}`;
  const subject = cert.subject.split('\n');
  if (!subject.includes(`CN=${spec.subject.commonName}`)) return 'subject changed';
  const orgs = subject.filter((l) => l.startsWith('O=')).map((l) => l.slice(2)).sort();
  if (JSON.stringify(orgs) !== JSON.stringify([...(spec.subject.organizations ?? [])].sort())) return 'organizations changed';
  const sans = new Set((cert.subjectAltName ?? '').split(', ').filter(Boolean));
  for (const d of spec.dnsNames ?? []) if (!sans.has(`DNS:${d}`)) return `missing name ${d}`;
  for (const ip of spec.ipAddresses ?? []) if (!sans.has(`IP Address:${ip}`)) return `missing address ${ip}`;
  return undefined;
}

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export function kubeconfigYAML(o: { clusterName: string; server: string; caPEM: string; user: string; certPEM?: string; keyPEM?: string; token?: string }): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const context = `${o.user}@${o.clusterName}`;
  const user: Record<string, string> = o.token ? { token: o.token } : { 'client-certificate-data': b64(o.certPEM!), 'client-key-data': b64(o.keyPEM!) };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: o.clusterName, cluster: { 'certificate-authority-data': b64(o.caPEM), server: o.server } }],
    contexts: [{ name: context, context: { cluster: o.clusterName, user: o.user } }],
    'current-context': context,
    users: [{ name: o.user, user }],
    preferences: {},
  });
}

/** A new EncryptionConfiguration: secrets encrypted with aescbc under a fresh key; plaintext still readable. */
export function encryptionConfigYAML(): string {
  return stringify({
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'EncryptionConfiguration',
    resources: [{ resources: ['secrets'], providers: [{ aescbc: { keys: [{ name: 'key1', secret: crypto.randomBytes(32).toString('base64') }] } }, { identity: {} }] }],
  });
}

export interface PKIResult {
  files: string[];
  kubeconfigs: Record<string, string>;
}

/** Makes sure every file of the PKI exists and is right; reports each step. */
export function ensurePKI(o: PKIOptions, progress: Progress = () => {}): PKIResult {
  fs.mkdirSync(o.dir, { recursive: true, mode: 0o755 });
  const f = (n: string) => path.join(o.dir, n);
  const files: string[] = [];

  // The CA: kept as long as it is readable, matches its key and has a year left.
  const { certPEM: caCert, keyPEM: caKey } = ensureCA(f('ca.crt'), f('ca.key'), `${o.clusterName}-ca`, 'ca', 'cluster CA', o, progress);
  files.push(f('ca.crt'), f('ca.key'));

  const issued = new Map<string, { cert: string; key: string }>();
  const issue = (plans: CertPlan[], caCertPEM: string, caKeyPEM: string) => {
    const ca = new X509Certificate(caCertPEM);
    for (const plan of plans) {
      const certFile = f(`${plan.name}.crt`);
      const keyFile = f(`${plan.name}.key`);
      let key = read(keyFile);
      let cert = read(certFile);
      const why = o.force ? 'renewal forced' : !key || !cert ? 'missing' : certificateProblem(cert, key, plan.spec, ca, o.renewBeforeDays);
      if (why) {
        if (!key || why === 'does not match its key') {
          key = generateKey(o.keyAlgorithm, o.keyBits);
          writeSecureFile(keyFile, key, 0o600);
        }
        cert = signedCertificate(key, { ...plan.spec, days: o.certDays }, caCertPEM, caKeyPEM);
        writeSecureFile(certFile, cert, 0o644);
        progress(`[pki] ${plan.name}: issued for ${plan.spec.subject.commonName}${plan.spec.subject.organizations?.length ? ` (${plan.spec.subject.organizations.join(', ')})` : ''} (${why})`);
      } else progress(`[pki] ${plan.name}: valid, kept`);
      fs.chmodSync(keyFile, 0o600);
      issued.set(plan.name, { cert: cert!, key: key! });
      files.push(certFile, keyFile);
    }
  };
  issue(certificatePlan(o), caCert, caKey);

  // etcd has a CA of its own: etcd trusts every certificate its CA signed, and none of the
  // cluster CA's (a kubelet's certificate must not open the whole store).
  if (o.etcdMembers?.length) {
    const etcdCA = ensureCA(f('etcd-ca.crt'), f('etcd-ca.key'), `${o.clusterName}-etcd-ca`, 'etcd-ca', 'etcd CA', o, progress);
    files.push(f('etcd-ca.crt'), f('etcd-ca.key'));
    issue(etcdCertificatePlan(o.etcdMembers), etcdCA.certPEM, etcdCA.keyPEM);
  }

  // Service account signing keys: never replaced (that would invalidate every token).
  if (!read(f('sa.key'))) {
    const k = generateKey('rsa', Math.max(2048, o.keyBits));
    writeSecureFile(f('sa.key'), k, 0o600);
    writeSecureFile(f('sa.pub'), publicKeyOf(k), 0o644);
    progress('[pki] sa: generated the service account signing key pair');
  } else {
    if (!read(f('sa.pub'))) writeSecureFile(f('sa.pub'), publicKeyOf(read(f('sa.key'))!), 0o644);
    fs.chmodSync(f('sa.key'), 0o600);
    progress('[pki] sa: exists, kept');
  }
  files.push(f('sa.key'), f('sa.pub'));

  // Encryption keys: never replaced (that would make the stored secrets unreadable).
  if (!read(f('encryption-config.yaml'))) {
    writeSecureFile(f('encryption-config.yaml'), encryptionConfigYAML(), 0o600);
    progress('[pki] encryption-config: generated an aescbc key for secrets');
  } else progress('[pki] encryption-config: exists, kept');
  files.push(f('encryption-config.yaml'));

  const server = `https://${o.apiserverAddress.includes(':') ? `[${o.apiserverAddress}]` : o.apiserverAddress}:${o.securePort}`;
  const kubeconfigs: Record<string, string> = {};
  fs.mkdirSync(o.kubeconfigDir, { recursive: true, mode: 0o755 });
  for (const plan of certificatePlan(o)) {
    if (!plan.kubeconfig) continue;
    const { cert, key } = issued.get(plan.name)!;
    const file = path.join(o.kubeconfigDir, `${plan.kubeconfig}.kubeconfig`);
    const text = kubeconfigYAML({ clusterName: o.clusterName, server, caPEM: caCert!, user: plan.spec.subject.commonName, certPEM: cert, keyPEM: key });
    if (read(file) !== text) {
      writeSecureFile(file, text, 0o600);
      progress(`[kubeconfig] ${plan.kubeconfig}: written (${server} as ${plan.spec.subject.commonName})`);
    } else progress(`[kubeconfig] ${plan.kubeconfig}: up to date`);
    fs.chmodSync(file, 0o600);
    kubeconfigs[plan.kubeconfig] = file;
    files.push(file);
  }
  return { files, kubeconfigs };
}

export { signCertificateRequest, type CSRSigningSpec } from './openssl.js';
