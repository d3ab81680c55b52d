/**
 * A secured API server for tests: a PKI from tkube-pki's library (ECDSA keys, for speed), a
 * static token file, service account keys and an encryption config, and the API server serving
 * both its insecure development port (for setup, as system:admin) and its secure port. Requests
 * on the secure port go through `secureAPI` with a client certificate or a bearer token.
 */
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { ensurePKI, type PKINode } from '../../lib/pki/index.js';
import type { APIServerOptions } from '../../lib/apiserver/index.js';
import { startAPIServer, type TestAPIServer } from './apiserver.js';
import { freePort } from './ports.js';
import type { EtcdCluster } from './etcd.js';

export interface Credentials {
  /** PEM client certificate and key. */
  cert?: string | Buffer;
  key?: string | Buffer;
  token?: string;
  headers?: Record<string, string | string[]>;
}

export interface SecureTestServer extends TestAPIServer {
  /** https://127.0.0.1:<port> */
  secureURL: string;
  pkiDir: string;
  caPEM: string;
  /** A client certificate of the cluster CA, by name: admin, kube-scheduler, kubelet-n1... */
  client(name: string): Credentials;
  /** Static tokens of the token file, by user name. */
  tokens: Record<string, string>;
  kubeconfigs: Record<string, string>;
  /** A kubeconfig for the secure port that authenticates with a bearer token (the user's static one by default). */
  tokenKubeconfig(user: string, token?: string): string;
}

/** Users of the static token file: token, name, uid, groups. */
export const staticUsers: [string, string, string, string[]][] = [
  ['bob-token-0123456789', 'bob', '1001', []],
  ['carol-token-0123456789', 'carol', '1002', []],
  ['dave-token-0123456789', 'dave', '1003', ['devs', 'qa']],
  ['erin-token-0123456789', 'erin', '1004', []],
  ['frank-token-0123456789', 'frank', '1005', []],
];

export interface SecureServerOptions extends Partial<APIServerOptions> {
  etcd?: EtcdCluster;
  /** More nodes to issue certificates for (kubelet-<name> client and kubelet-<name>-serving), besides n1 and n2. */
  nodes?: PKINode[];
  /** Reach kubelets as a cluster does: the kubelet client certificate, kubelet certificates verified with the CA. */
  withKubeletClientCertificate?: boolean;
}

export async function startSecureAPIServer(o: SecureServerOptions = {}): Promise<SecureTestServer> {
  const { nodes: extraNodes = [], withKubeletClientCertificate = false, ...opts } = o;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-secure-'));
  const pkiDir = path.join(dir, 'pki');
  const securePort = await freePort();
  const { kubeconfigs } = ensurePKI({
    dir: pkiDir,
    kubeconfigDir: dir,
    clusterName: 'tkube-test',
    apiserverAddress: '127.0.0.1',
    securePort,
    serviceIP: '10.96.0.1',
    clusterDomain: 'cluster.local',
    extraSANs: [],
    nodes: [
      { name: 'n1', addresses: ['10.0.0.11'] },
      { name: 'n2', addresses: ['10.0.0.12'] },
      ...extraNodes,
    ],
    caDays: 3650,
    certDays: 30,
    renewBeforeDays: 1,
    keyAlgorithm: 'ecdsa',
    keyBits: 256,
  });
  const tokenFile = path.join(dir, 'tokens.csv');
  fs.writeFileSync(tokenFile, staticUsers.map(([t, u, uid, g]) => `${t},${u},${uid}${g.length ? `,"${g.join(',')}"` : ''}`).join('\n') + '\n', { mode: 0o600 });
  const p = (n: string) => path.join(pkiDir, n);
  const s = await startAPIServer({
    securePort,
    tlsCertFile: p('apiserver.crt'),
    tlsPrivateKeyFile: p('apiserver.key'),
    clientCAFile: p('ca.crt'),
    tokenAuthFile: tokenFile,
    serviceAccountKeyFiles: [p('sa.pub')],
    serviceAccountSigningKeyFile: p('sa.key'),
    serviceAccountIssuers: ['https://kubernetes.default.svc.cluster.local'],
    authorizationMode: ['Node', 'RBAC'],
    enableAdmissionPlugins: ['NodeRestriction'],
    encryptionProviderConfig: p('encryption-config.yaml'),
    ...(withKubeletClientCertificate ? { kubeletClientCertificate: p('apiserver-kubelet-client.crt'), kubeletClientKey: p('apiserver-kubelet-client.key'), kubeletCertificateAuthority: p('ca.crt') } : {}),
    ...opts,
  });
  const caPEM = fs.readFileSync(p('ca.crt'), 'utf8');
  const secureURL = `https://127.0.0.1:${securePort}`;
  // The secure port listens a moment after the insecure one answers.
  for (let i = 0; i < 100 && !s.server.secureAddress; i++) await new Promise((r) => setTimeout(r, 50));
  const tokens = Object.fromEntries(staticUsers.map(([t, u]) => [u, t]));
  return {
    ...s,
    secureURL,
    pkiDir,
    caPEM,
    tokens,
    kubeconfigs,
    client: (name) => ({ cert: fs.readFileSync(p(`${name}.crt`)), key: fs.readFileSync(p(`${name}.key`)) }),
    tokenKubeconfig(user, token) {
      const file = path.join(dir, `${user}-token.kubeconfig`);
      fs.writeFileSync(
        file,
        `apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster:\n    server: ${secureURL}\n    certificate-authority-data: ${Buffer.from(caPEM).toString('base64')}\ncontexts:\n- name: t\n  context: {cluster: t, user: ${user}}\ncurrent-context: t\nusers:\n- name: ${user}\n  user:\n    token: ${token ?? tokens[user] ?? user}\n`,
        { mode: 0o600 },
      );
      return file;
    },
    async stop() {
      await s.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SecureResponse {
  status: number;
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

/** One request on the secure port, on its own connection. */
export function secureAPI(s: { secureURL: string; caPEM: string }, creds: Credentials, method: string, p: string, body?: unknown, contentType = 'application/json'): Promise<SecureResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(p, s.secureURL);
    const headers: Record<string, string | string[]> = { accept: 'application/json', ...creds.headers };
    if (creds.token !== undefined) headers.authorization = `Bearer ${creds.token}`;
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    if (payload !== undefined) headers['content-type'] = contentType;
    const req = https.request(
      { method, host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, headers, ca: s.caPEM, cert: creds.cert, key: creds.key, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Retries `fn` until it returns true (RBAC objects take effect once the caches have them). */
export async function eventually(fn: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
