/**
 * An API server for tests: a real etcd (started here unless given) and tkube's APIServer
 * in this process on a free loopback insecure port, plus a kubeconfig for the real kubectl.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger, createLogger } from '../../lib/base/index.js';
import { APIServer, type APIServerOptions } from '../../lib/apiserver/index.js';
import { startEtcd, type EtcdCluster } from './etcd.js';
import { freePort } from './ports.js';

export interface TestAPIServer {
  server: APIServer;
  etcd: EtcdCluster;
  url: string;
  kubeconfig: string;
  stop(): Promise<void>;
  /** Stops the API server only (etcd keeps running). */
  stopServer(): Promise<void>;
}

export async function startAPIServer(opts: Partial<APIServerOptions> & { etcd?: EtcdCluster; etcdMembers?: number } = {}): Promise<TestAPIServer> {
  const etcd = opts.etcd ?? (await startEtcd({ members: opts.etcdMembers ?? 1 }));
  // A caller may ask for a port (to restart a server where clients expect it).
  const port = opts.insecurePort ?? (await freePort());
  const log = process.env.TKUBE_TEST_LOG ? createLogger({ component: 'test-apiserver', level: 'debug' }) : silentLogger();
  const server = new APIServer({
    etcdServers: etcd.endpoints,
    etcdPrefix: '/registry',
    serviceClusterIPRange: '10.96.0.0/12',
    serviceNodePortRange: '30000-32767',
    bindAddress: '127.0.0.1',
    securePort: 0,
    tlsCertFile: '',
    tlsPrivateKeyFile: '',
    certDir: '',
    insecurePort: port,
    insecureBindAddress: '127.0.0.1',
    advertiseAddress: '127.0.0.1',
    anonymousAuth: false,
    authorizationMode: ['AlwaysAllow'],
    enableAdmissionPlugins: [],
    disableAdmissionPlugins: [],
    eventTTLSeconds: 3600,
    minRequestTimeoutSeconds: 1800,
    requestTimeoutMs: 60_000,
    maxRequestsInflight: 400,
    maxMutatingRequestsInflight: 200,
    log,
    ...opts,
  });
  const ctl = new AbortController();
  const running = server.start(ctl.signal);
  const url = `http://127.0.0.1:${port}`;
  // Wait until it answers and the bootstrap objects exist.
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const r = await fetch(`${url}/api/v1/namespaces/default/services/kubernetes`);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error('test API server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-kubeconfig-'));
  const kubeconfig = path.join(dir, 'config');
  fs.writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
- name: tkube
  cluster:
    server: ${url}
contexts:
- name: tkube
  context:
    cluster: tkube
    user: admin
current-context: tkube
users:
- name: admin
  user: {}
`,
  );
  let serverStopped = false;
  const stopServer = async () => {
    if (serverStopped) return;
    serverStopped = true;
    ctl.abort();
    await running;
  };
  return {
    server,
    etcd,
    url,
    kubeconfig,
    stopServer,
    async stop() {
      try {
        await stopServer();
        if (!opts.etcd) await etcd.stop();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** fetch against the test server with JSON in and out. */
export async function api(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(url + path, init);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
