/**
 * How the cluster's components prove who they are. Two modes, one switch:
 *
 *   development  DEVELOPMENT SETTING, for debugging only (`--security development`; `auto`
 *                picks pki on any full build): the API server serves HTTPS (a serving certificate
 *                signed by the cluster CA, verified by every client) but lets anonymous
 *                requests do anything (--anonymous-auth=true --authorization-mode=AlwaysAllow),
 *                and kubeconfigs carry no credentials (deploy/kubeconfig/development.kubeconfig).
 *   pki          tkube-pki makes every certificate from the same cluster CA; the API server
 *                authenticates clients by certificate and authorizes with Node,RBAC
 *                (deploy/kubeconfig/client-certificate.kubeconfig); etcd serves clients and
 *                peers over TLS and admits only certificates of its own CA (the API server's
 *                etcd client certificate, the other members).
 *
 * Kubelets follow the same switch: development lets the API server (which then has no kubelet
 * client certificate) in anonymously with AlwaysAllow; pki serves the kubelet API with the
 * node's serving certificate from tkube-pki (so that the API server's
 * --kubelet-certificate-authority verifies it), authenticates clients by certificate and by
 * TokenReview, authorizes with SubjectAccessReview, and keeps the read-only port off
 * (CIS Kubernetes Benchmark 4.2).
 *
 * `auto` picks pki when dist/cmd/tkube-pki/main.js is built and the API server knows
 * --client-ca-file, else development. Switching is this file's flag list, the kubeconfig
 * template and the certificates step (lib/lab/credentials.ts); units and scripts do not change.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export type SecurityMode = 'development' | 'pki';

export function apiserverSecurityFlags(mode: SecurityMode, pkiDir: string, clusterDomain: string): string[] {
  if (mode === 'development') return ['--anonymous-auth=true', '--authorization-mode=AlwaysAllow'];
  const p = (f: string) => path.join(pkiDir, f);
  return [
    `--client-ca-file=${p('ca.crt')}`,
    '--anonymous-auth=false',
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    `--service-account-key-file=${p('sa.pub')}`,
    `--service-account-signing-key-file=${p('sa.key')}`,
    `--service-account-issuer=https://kubernetes.default.svc.${clusterDomain}`,
    `--encryption-provider-config=${p('encryption-config.yaml')}`,
    `--kubelet-client-certificate=${p('apiserver-kubelet-client.crt')}`,
    `--kubelet-client-key=${p('apiserver-kubelet-client.key')}`,
    `--kubelet-certificate-authority=${p('ca.crt')}`,
    `--etcd-cafile=${p('etcd-ca.crt')}`,
    `--etcd-certfile=${p('apiserver-etcd-client.crt')}`,
    `--etcd-keyfile=${p('apiserver-etcd-client.key')}`,
  ];
}

/** The kubelet's flags for its HTTPS API (deploy/systemd/tkube-kubelet.service: ${KUBELET_SECURITY_FLAGS}). */
export function kubeletSecurityFlags(mode: SecurityMode, pkiDir: string, nodeName: string): string[] {
  if (mode === 'development') return ['--anonymous-auth=true', '--authorization-mode=AlwaysAllow', '--read-only-port=0'];
  const p = (f: string) => path.join(pkiDir, f);
  return [
    `--client-ca-file=${p('ca.crt')}`,
    '--anonymous-auth=false',
    '--authentication-token-webhook=true',
    '--authorization-mode=Webhook',
    `--tls-cert-file=${p(`kubelet-${nodeName}-serving.crt`)}`,
    `--tls-private-key-file=${p(`kubelet-${nodeName}-serving.key`)}`,
    '--read-only-port=0',
    '--streaming-connection-idle-timeout=4h',
  ];
}

/** How clients and peers reach etcd: plain http in the development setting, TLS in pki mode. */
export function etcdScheme(mode: SecurityMode): 'http' | 'https' {
  return mode === 'pki' ? 'https' : 'http';
}

/**
 * etcd's TLS in pki mode: it serves clients and peers with the member's certificate and lets in
 * only clients and peers with a certificate of the etcd CA (tkube-pki --etcd-members). The
 * development setting keeps plain HTTP on the private network.
 */
export function etcdSecurityFlags(mode: SecurityMode, pkiDir: string, member: string): string[] {
  if (mode === 'development') return [];
  const p = (f: string) => path.join(pkiDir, f);
  return [
    `--cert-file=${p(`etcd-${member}.crt`)}`,
    `--key-file=${p(`etcd-${member}.key`)}`,
    '--client-cert-auth=true',
    `--trusted-ca-file=${p('etcd-ca.crt')}`,
    `--peer-cert-file=${p(`etcd-${member}.crt`)}`,
    `--peer-key-file=${p(`etcd-${member}.key`)}`,
    '--peer-client-cert-auth=true',
    `--peer-trusted-ca-file=${p('etcd-ca.crt')}`,
  ];
}

/**
 * The controller manager in pki mode signs the legacy service account token Secrets, publishes
 * the cluster CA, and runs each controller as its own service account (as kubeadm sets it up).
 */
export function controllerManagerSecurityFlags(mode: SecurityMode, pkiDir: string): string[] {
  if (mode === 'development') return [];
  return [`--service-account-private-key-file=${path.join(pkiDir, 'sa.key')}`, `--root-ca-file=${path.join(pkiDir, 'ca.crt')}`, '--use-service-account-credentials=true'];
}

/** What `auto` means on this checkout. */
export function detectSecurityMode(tkubeHome: string, node = process.execPath): SecurityMode {
  const pki = path.join(tkubeHome, 'dist/cmd/tkube-pki/main.js');
  if (!fs.existsSync(pki)) return 'development';
  try {
    const help = execFileSync(node, [path.join(tkubeHome, 'dist/cmd/tkube-apiserver/main.js'), '--help'], { encoding: 'utf8' });
    return help.includes('--client-ca-file') ? 'pki' : 'development';
  } catch {
    return 'development';
  }
}

export function parseSecurityMode(v: string, tkubeHome: string): SecurityMode {
  if (v === 'development' || v === 'pki') return v;
  if (v === 'auto') return detectSecurityMode(tkubeHome);
  throw new Error(`--security=${v}: use auto, development or pki`);
}
