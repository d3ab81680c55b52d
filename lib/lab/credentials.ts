/**
 * Certificates and kubeconfigs of a host, signed where the cluster's CA keys are.
 *
 * The CA keys (the cluster CA, the etcd CA), the service account key pair and the encryption
 * config are made once per cluster in one signer folder that no host's components read: the
 * single-machine lab's <state>/shared, or for the Vagrant lab .tkube-vagrant/ on the machine that
 * runs vagrant (`tkube-lab certs`, run by the Vagrantfile before a VM boots). Every host's
 * certificates are signed there, and each host gets only the files its own components need
 * (hostPKIFiles): a worker holds ca.crt and its kubelet's and kube-proxy's certificates, never a
 * CA key, the service account key, the encryption config or the admin's credentials.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { renderTemplate } from './template.js';
import { adminAPIServerURL, apiserverURLFor, controlPlaneHosts, ipToNumber, numberToIP, parseCIDR, type ClusterPlan, type HostPlan } from './plan.js';
import type { HostLayout } from './host-vars.js';
import type { SecurityMode } from './security.js';
import { ensurePKI, type PKINode } from '../pki/index.js';

export type Progress = (line: string) => void;

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim();
    throw new Error(`openssl ${args[0]} failed${stderr ? `: ${stderr}` : ''}; is openssl installed (apt-get install openssl)?`, { cause: err });
  }
}

function writeIfChanged(file: string, content: string | Buffer, mode = 0o644): boolean {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const buf = Buffer.isBuffer(content) ? content : Buffer.from(content);
  if (fs.existsSync(file) && fs.readFileSync(file).equals(buf)) return false;
  fs.writeFileSync(file, buf, { mode });
  fs.chmodSync(file, mode);
  return true;
}

/** Makes the cluster CA in `sharedDir` unless it is there. */
export function ensureClusterCA(sharedDir: string, clusterName: string, progress: Progress = () => {}): void {
  const crt = path.join(sharedDir, 'ca.crt');
  const key = path.join(sharedDir, 'ca.key');
  if (fs.existsSync(crt) && fs.existsSync(key)) return;
  fs.mkdirSync(sharedDir, { recursive: true, mode: 0o700 });
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', '3650', '-subj', `/CN=${clusterName}-ca`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
  fs.chmodSync(key, 0o600);
  progress(`made the cluster CA (${crt})`);
}

/** The first address of the service range: the `kubernetes` Service, in the API server's certificate. */
export function kubernetesServiceIP(serviceCIDR: string): string {
  return numberToIP(parseCIDR(serviceCIDR).base + 1);
}

/** The names and addresses the API servers' certificate covers. */
export function apiserverSANs(plan: ClusterPlan): string[] {
  const d = plan.spec.clusterDomain;
  const dns = ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${d}`];
  const ips = ['127.0.0.1', kubernetesServiceIP(plan.spec.serviceCIDR), ...controlPlaneHosts(plan).map((h) => h.ip)];
  return [...dns.map((n) => `DNS:${n}`), ...[...new Set(ips)].sort((a, b) => ipToNumber(a) - ipToNumber(b)).map((ip) => `IP:${ip}`)];
}

/** A serving certificate signed by the CA in `pkiDir`, remade when its names or the CA changed. */
function ensureServingCert(pkiDir: string, name: string, cn: string, sans: string[], progress: Progress): void {
  const crt = path.join(pkiDir, `${name}.crt`);
  const key = path.join(pkiDir, `${name}.key`);
  const ca = new X509Certificate(fs.readFileSync(path.join(pkiDir, 'ca.crt')));
  if (fs.existsSync(crt) && fs.existsSync(key)) {
    const cur = new X509Certificate(fs.readFileSync(crt));
    const want = sans.map((s) => s.replace(/^DNS:/, 'DNS:').replace(/^IP:/, 'IP Address:')).sort().join(', ');
    const have = (cur.subjectAltName ?? '').split(', ').sort().join(', ');
    if (cur.checkIssued(ca) && cur.verify(ca.publicKey) && want === have && new Date(cur.validTo).getTime() > Date.now() + 7 * 86_400_000) return;
  }
  const ext = path.join(pkiDir, `${name}.ext`);
  const csr = path.join(pkiDir, `${name}.csr`);
  fs.writeFileSync(ext, `subjectAltName=${sans.join(',')}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`);
  try {
    openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-subj', `/CN=${cn}`, '-out', csr]);
    openssl(['x509', '-req', '-in', csr, '-CA', path.join(pkiDir, 'ca.crt'), '-CAkey', path.join(pkiDir, 'ca.key'), '-set_serial', `0x${Date.now().toString(16)}`,
      '-days', '365', '-extfile', ext, '-out', crt]);
  } finally {
    fs.rmSync(ext, { force: true });
    fs.rmSync(csr, { force: true });
  }
  fs.chmodSync(key, 0o600);
  progress(`signed ${name}.crt for ${sans.filter((s) => s.startsWith('IP:')).map((s) => s.slice(3)).join(', ')}`);
}

/** A file of a pki folder that must be readable by its owner only. */
function isSecretFile(name: string): boolean {
  return name.endsWith('.key') || name === 'encryption-config.yaml';
}

/**
 * Signs every certificate of the cluster in `signerDir`, the one place that holds the CA keys
 * (the single-machine lab's <state>/shared; for the Vagrant lab, .tkube-vagrant/ on the machine
 * that runs vagrant). Idempotent: what is there and still right is kept. In pki mode that is the
 * whole of tkube-pki's PKI (lib/pki) for every node and etcd member, with the service account
 * key pair and the encryption config; in the development setting the API server's serving
 * certificate. Hosts then get only their own share (hostPKIFiles, installHostPKI).
 */
export function signClusterCertificates(plan: ClusterPlan, mode: SecurityMode, signerDir: string, progress: Progress = () => {}): void {
  ensureClusterCA(signerDir, plan.spec.clusterName, progress);
  fs.chmodSync(signerDir, 0o700);
  if (mode === 'development') {
    ensureServingCert(signerDir, 'apiserver', 'kube-apiserver', apiserverSANs(plan), progress);
    return;
  }
  const cps = controlPlaneHosts(plan);
  const member = (h: HostPlan): PKINode => ({ name: h.name, addresses: [h.ip] });
  ensurePKI({
    dir: signerDir, kubeconfigDir: path.join(signerDir, 'kubeconfigs'), clusterName: plan.spec.clusterName, apiserverAddress: cps[0]!.ip,
    securePort: plan.spec.apiserverPort, serviceIP: kubernetesServiceIP(plan.spec.serviceCIDR), clusterDomain: plan.spec.clusterDomain,
    extraSANs: cps.map((h) => h.ip), nodes: plan.hosts.filter((h) => h.node).map(member), etcdMembers: plan.hosts.filter((h) => h.etcd).map(member),
    caDays: 3650, certDays: 365, renewBeforeDays: 30, keyAlgorithm: 'rsa', keyBits: 2048,
  }, (l) => {
    // Each kept file is one line; only what changed is worth reading. (tkube-pki's own kubeconfigs
    // stay in the signer folder: hosts get the lab's, written by writeHostKubeconfigs.)
    if (!/: (exists|valid), kept$|: up to date$/.test(l) && !l.startsWith('[kubeconfig]')) progress(l);
  });
}

/**
 * The files of a host's pki folder: what its own components need and nothing more (as kubeadm
 * lays out a control-plane node and a worker). No host gets a CA key: certificates are signed
 * where the CA keys are (signClusterCertificates).
 *
 *   every host       ca.crt (to verify the API server, and clients of the kubelet)
 *   etcd member      etcd-ca.crt, etcd-<member>.{crt,key}
 *   control plane    apiserver, apiserver-kubelet-client, apiserver-etcd-client, kube-scheduler,
 *                    kube-controller-manager (.crt, .key), sa.key (token signing: API server and
 *                    token controller), sa.pub, encryption-config.yaml, etcd-ca.crt
 *   node             kubelet-<node>.{crt,key} (system:node:<node>), kubelet-<node>-serving.{crt,key},
 *                    kube-proxy.{crt,key}
 *
 * The admin's certificate is on no host: its kubeconfig is written for people (writeAdminKubeconfig).
 */
export function hostPKIFiles(host: HostPlan, mode: SecurityMode): string[] {
  const pair = (n: string) => [`${n}.crt`, `${n}.key`];
  const files = ['ca.crt'];
  if (mode === 'development') return host.controlPlane ? [...files, ...pair('apiserver')] : files;
  if (host.etcd) files.push('etcd-ca.crt', ...pair(`etcd-${host.name}`));
  if (host.controlPlane) {
    files.push(...pair('apiserver'), ...pair('apiserver-kubelet-client'), 'etcd-ca.crt', ...pair('apiserver-etcd-client'), ...pair('kube-scheduler'), ...pair('kube-controller-manager'),
      'sa.key', 'sa.pub', 'encryption-config.yaml');
  }
  if (host.node) files.push(...pair(`kubelet-${host.name}`), ...pair(`kubelet-${host.name}-serving`), ...pair('kube-proxy'));
  return [...new Set(files)];
}

/**
 * Copies `files` from `srcDir` into `dstDir` (0700; keys and the encryption config 0600, the
 * rest 0644) and removes whatever else `dstDir` holds but `keep`: a folder provisioned before
 * keeps no key this host should not have.
 */
export function installHostPKI(srcDir: string, files: string[], dstDir: string, progress: Progress = () => {}, keep: string[] = []): void {
  fs.mkdirSync(dstDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dstDir, 0o700);
  for (const f of files) {
    const src = path.join(srcDir, f);
    if (!fs.existsSync(src)) throw new Error(`${src} is missing: this host's certificates were not signed (tkube-lab up signs them in <state>/shared; for the Vagrant lab the Vagrantfile runs "tkube-lab certs" before the VMs boot)`);
    writeIfChanged(path.join(dstDir, f), fs.readFileSync(src), isSecretFile(f) ? 0o600 : 0o644);
  }
  const wanted = new Set([...files, ...keep]);
  for (const f of fs.readdirSync(dstDir)) {
    if (wanted.has(f)) continue;
    fs.rmSync(path.join(dstDir, f), { recursive: true, force: true });
    progress(`removed ${f} from ${dstDir} (not needed on this host)`);
  }
}

/** A host's certificates, from the folder they were signed in (or a VM's share of it). */
export function ensureHostCertificates(plan: ClusterPlan, host: HostPlan, layout: HostLayout, mode: SecurityMode, signedDir: string, progress: Progress = () => {}): void {
  installHostPKI(signedDir, hostPKIFiles(host, mode), layout.pkiDir, progress);
}

/**
 * The Vagrant lab's per-VM folders, made on the machine that runs vagrant: <outDir>/hosts/<host>
 * holds that VM's pki files (hostPKIFiles) and, for a control-plane VM, admin.kubeconfig. The
 * Vagrantfile uploads each VM's folder to that VM only.
 */
export function writeHostBundles(plan: ClusterPlan, mode: SecurityMode, signerDir: string, tkubeHome: string, progress: Progress = () => {}): string[] {
  const dirs: string[] = [];
  fs.mkdirSync(path.join(signerDir, 'hosts'), { recursive: true, mode: 0o700 });
  for (const h of plan.hosts) {
    const dir = path.join(signerDir, 'hosts', h.name);
    installHostPKI(signerDir, hostPKIFiles(h, mode), dir, progress, ['admin.kubeconfig']);
    if (h.controlPlane) writeAdminKubeconfig(plan, path.join(dir, 'admin.kubeconfig'), signerDir, tkubeHome, mode);
    dirs.push(dir);
  }
  return dirs;
}

export interface KubeconfigSpec {
  /** File name in the kubeconfig folder. */
  file: string;
  /** The user (and, in pki mode, the certificate's base name in the PKI folder). */
  user: string;
}

/** The kubeconfigs a host's components use (the names tkube-pki gives them; the admin's is not one: writeAdminKubeconfig). */
export function hostKubeconfigs(host: HostPlan): KubeconfigSpec[] {
  const out: KubeconfigSpec[] = [];
  if (host.controlPlane) {
    out.push({ file: 'kube-scheduler.kubeconfig', user: 'kube-scheduler' }, { file: 'kube-controller-manager.kubeconfig', user: 'kube-controller-manager' });
  }
  if (host.node) out.push({ file: `kubelet-${host.name}.kubeconfig`, user: `kubelet-${host.name}` }, { file: 'kube-proxy.kubeconfig', user: 'kube-proxy' });
  return out;
}

/** Renders one kubeconfig from deploy/kubeconfig/<template>. */
export function renderKubeconfig(repoRoot: string, mode: SecurityMode, vars: { clusterName: string; server: string; caPem: Buffer; user: string; pkiDir: string }): string {
  const template = mode === 'development' ? 'development.kubeconfig' : 'client-certificate.kubeconfig';
  const text = fs.readFileSync(path.join(repoRoot, 'deploy/kubeconfig', template), 'utf8');
  const b64 = (f: string) => fs.readFileSync(path.join(vars.pkiDir, f)).toString('base64');
  const certVars: Record<string, string> = mode === 'pki' ? { CLIENT_CERTIFICATE_DATA: b64(`${vars.user}.crt`), CLIENT_KEY_DATA: b64(`${vars.user}.key`) } : {};
  return renderTemplate(text, { CLUSTER_NAME: vars.clusterName, APISERVER_URL: vars.server, CA_DATA: vars.caPem.toString('base64'), USER_NAME: vars.user, ...certVars }, `deploy/kubeconfig/${template}`);
}

/** Writes a host's component kubeconfigs into layout.kubeconfigDir (0700; files 0600: they may hold keys). */
export function writeHostKubeconfigs(plan: ClusterPlan, host: HostPlan, layout: HostLayout, mode: SecurityMode): string[] {
  fs.mkdirSync(layout.kubeconfigDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(layout.kubeconfigDir, 0o700);
  const caPem = fs.readFileSync(path.join(layout.pkiDir, 'ca.crt'));
  const written: string[] = [];
  for (const k of hostKubeconfigs(host)) {
    const file = path.join(layout.kubeconfigDir, k.file);
    const text = renderKubeconfig(layout.tkubeHome, mode, { clusterName: plan.spec.clusterName, server: apiserverURLFor(plan, host), caPem, user: k.user, pkiDir: layout.pkiDir });
    if (writeIfChanged(file, text, 0o600)) written.push(file);
  }
  return written;
}

/** A control-plane VM's admin kubeconfig, from its share of the signed certificates (writeHostBundles). */
export function installAdminKubeconfig(certsDir: string, file: string): void {
  const src = path.join(certsDir, 'admin.kubeconfig');
  if (!fs.existsSync(src)) throw new Error(`${src} is missing: the admin kubeconfig is made with the certificates ("tkube-lab certs", which the Vagrantfile runs before the VMs boot)`);
  writeIfChanged(file, fs.readFileSync(src), 0o600);
}

/**
 * The kubeconfig for people (kubectl on the lab's machine, or on a control-plane VM), from the
 * admin certificate in the signer folder.
 */
export function writeAdminKubeconfig(plan: ClusterPlan, file: string, signerDir: string, tkubeHome: string, mode: SecurityMode): void {
  const caPem = fs.readFileSync(path.join(signerDir, 'ca.crt'));
  writeIfChanged(file, renderKubeconfig(tkubeHome, mode, { clusterName: plan.spec.clusterName, server: adminAPIServerURL(plan), caPem, user: 'admin', pkiDir: signerDir }), 0o600);
}
