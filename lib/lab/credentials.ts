/**
 * Certificates and kubeconfigs of a host, from the cluster's shared secrets.
 *
 * The shared secrets are made once per cluster and handed to every host: the single-machine
 * lab keeps them in <state>/shared; the Vagrant lab's Vagrantfile makes them on the host
 * before the first VM boots (.tkube-vagrant/, synced into each VM). Today that is the cluster
 * CA; each host then signs what it needs with it. (A lab shortcut: every host holds the CA
 * key. A production cluster keeps it on the control plane and has nodes ask for certificates.)
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { renderTemplate } from './template.js';
import { adminAPIServerURL, apiserverURLFor, controlPlaneHosts, ipToNumber, numberToIP, parseCIDR, type ClusterPlan, type HostPlan } from './plan.js';
import type { HostLayout } from './host-vars.js';
import type { SecurityMode } from './security.js';

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

/**
 * The certificates a host needs in layout.pkiDir: the CA (from the shared folder) and, on
 * control-plane hosts, the API server's serving certificate. In pki mode tkube-pki makes the
 * rest from the same CA.
 */
export function ensureHostCertificates(plan: ClusterPlan, host: HostPlan, layout: HostLayout, mode: SecurityMode, sharedDir: string, progress: Progress = () => {}): void {
  fs.mkdirSync(layout.pkiDir, { recursive: true, mode: 0o700 });
  for (const f of ['ca.crt', 'ca.key']) {
    const src = path.join(sharedDir, f);
    if (!fs.existsSync(src)) throw new Error(`${src} is missing: the cluster's shared secrets were not made (tkube-lab up makes them; the Vagrantfile makes them before the first VM boots)`);
    writeIfChanged(path.join(layout.pkiDir, f), fs.readFileSync(src), f.endsWith('.key') ? 0o600 : 0o644);
  }
  if (mode === 'pki') {
    runTkubePKI(plan, host, layout, sharedDir, progress);
    return;
  }
  if (host.controlPlane) ensureServingCert(layout.pkiDir, 'apiserver', 'kube-apiserver', apiserverSANs(plan), progress);
}

/** Security mode pki: tkube-pki signs every certificate of this host with the shared CA. */
function runTkubePKI(plan: ClusterPlan, host: HostPlan, layout: HostLayout, sharedDir: string, progress: Progress): void {
  // The service account key pair and the encryption config must be the same on every API server;
  // the etcd CA the same on every member (it is on etcd hosts only: it opens the whole store).
  const shared = ['sa.key', 'sa.pub', 'encryption-config.yaml', ...(host.etcd ? ['etcd-ca.crt', 'etcd-ca.key'] : [])];
  for (const f of shared) {
    const src = path.join(sharedDir, f);
    if (fs.existsSync(src)) writeIfChanged(path.join(layout.pkiDir, f), fs.readFileSync(src), f === 'etcd-ca.crt' || f === 'sa.pub' ? 0o644 : 0o600);
  }
  const args = [path.join(layout.tkubeHome, 'dist/cmd/tkube-pki/main.js'), `--dir=${layout.pkiDir}`, `--kubeconfig-dir=${path.join(layout.pkiDir, 'kubeconfigs')}`,
    `--cluster-name=${plan.spec.clusterName}`, `--apiserver-advertise-address=${controlPlaneHosts(plan)[0]!.ip}`, `--secure-port=${plan.spec.apiserverPort}`,
    `--service-cluster-ip-range=${plan.spec.serviceCIDR}`, `--cluster-domain=${plan.spec.clusterDomain}`,
    `--apiserver-cert-extra-sans=${controlPlaneHosts(plan).map((h) => h.ip).join(',')}`, ...(host.node ? [`--nodes=${host.name}=${host.ip}`] : []),
    ...(host.etcd ? [`--etcd-members=${host.name}=${host.ip}`] : [])];
  const out = execFileSync(layout.node, args, { encoding: 'utf8' });
  for (const l of out.trim().split('\n')) progress(`tkube-pki: ${l}`);
  // Hand them back so that the next control-plane host uses the same ones.
  for (const f of shared) {
    const dst = path.join(sharedDir, f);
    if (!fs.existsSync(dst) && fs.existsSync(path.join(layout.pkiDir, f))) {
      fs.copyFileSync(path.join(layout.pkiDir, f), dst);
      if (f.endsWith('.key') || f === 'encryption-config.yaml') fs.chmodSync(dst, 0o600);
    }
  }
}

export interface KubeconfigSpec {
  /** File name in the kubeconfig folder. */
  file: string;
  /** The user (and, in pki mode, the certificate's base name in the PKI folder). */
  user: string;
}

/** The kubeconfigs a host's components use (the names tkube-pki gives them). */
export function hostKubeconfigs(host: HostPlan): KubeconfigSpec[] {
  const out: KubeconfigSpec[] = [];
  if (host.controlPlane) {
    out.push({ file: 'admin.kubeconfig', user: 'admin' }, { file: 'kube-scheduler.kubeconfig', user: 'kube-scheduler' }, { file: 'kube-controller-manager.kubeconfig', user: 'kube-controller-manager' });
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

/** Writes a host's component kubeconfigs into layout.kubeconfigDir (0600: they may hold keys). */
export function writeHostKubeconfigs(plan: ClusterPlan, host: HostPlan, layout: HostLayout, mode: SecurityMode): string[] {
  const caPem = fs.readFileSync(path.join(layout.pkiDir, 'ca.crt'));
  const written: string[] = [];
  for (const k of hostKubeconfigs(host)) {
    const file = path.join(layout.kubeconfigDir, k.file);
    const text = renderKubeconfig(layout.tkubeHome, mode, { clusterName: plan.spec.clusterName, server: apiserverURLFor(plan, host), caPem, user: k.user, pkiDir: layout.pkiDir });
    if (writeIfChanged(file, text, 0o600)) written.push(file);
  }
  return written;
}

/** The kubeconfig for people (kubectl on the lab's host, or copied out of the cp VM). */
export function writeAdminKubeconfig(plan: ClusterPlan, file: string, layout: HostLayout, mode: SecurityMode): void {
  const caPem = fs.readFileSync(path.join(layout.pkiDir, 'ca.crt'));
  writeIfChanged(file, renderKubeconfig(layout.tkubeHome, mode, { clusterName: plan.spec.clusterName, server: adminAPIServerURL(plan), caPem, user: 'admin', pkiDir: layout.pkiDir }), 0o600);
}
