/**
 * How the cluster's components prove who they are. Two modes, one switch:
 *
 *   development  DEVELOPMENT SETTING, the default until tkube-pki and the API server's
 *                authenticators land: the API server serves HTTPS (a serving certificate
 *                signed by the cluster CA, verified by every client) but lets anonymous
 *                requests do anything (--anonymous-auth=true --authorization-mode=AlwaysAllow),
 *                and kubeconfigs carry no credentials (deploy/kubeconfig/development.kubeconfig).
 *   pki          tkube-pki makes every certificate from the same cluster CA; the API server
 *                authenticates clients by certificate and authorizes with Node,RBAC
 *                (deploy/kubeconfig/client-certificate.kubeconfig).
 *
 * `auto` picks pki when dist/cmd/tkube-pki/main.js is built and the API server knows
 * --client-ca-file, else development. Switching is this file's flag list, the kubeconfig
 * template and the certificates step (lib/lab/certs.ts); units and scripts do not change.
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
  ];
}

/** How a kubelet's HTTPS API (10250) proves itself and whom it lets in. */
export function kubeletSecurityFlags(mode: SecurityMode, pkiDir: string, nodeName: string): string[] {
  if (mode === 'development') return ['--anonymous-auth=true', '--authorization-mode=AlwaysAllow'];
  const p = (f: string) => path.join(pkiDir, f);
  return [
    `--tls-cert-file=${p(`kubelet-${nodeName}-serving.crt`)}`,
    `--tls-private-key-file=${p(`kubelet-${nodeName}-serving.key`)}`,
    `--client-ca-file=${p('ca.crt')}`,
    '--anonymous-auth=false',
    // The API server's kubelet client (bound to system:kubelet-api-admin) passes, as upstream.
    '--authorization-mode=Webhook',
  ];
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
