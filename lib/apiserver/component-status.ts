/**
 * `kubectl get componentstatuses`: the API server probes etcd and the other control-plane
 * components' health endpoints on each request, as upstream does (the objects are never stored).
 */
import https from 'node:https';
import type { KubeObject } from '../api/index.js';

export interface ComponentProbe {
  name: string;
  url: string;
  /** Decides health from the response body (default: HTTP 200 and body "ok"). */
  healthy?(status: number, body: string): boolean;
  /** TLS for an https:// probe: the CA to verify with and the client certificate to present (etcd with --client-cert-auth). */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

/** The probes upstream uses: every etcd member, the scheduler and the controller manager on loopback. */
export function defaultComponentProbes(etcdServers: string[], etcdTLS?: ComponentProbe['tls']): ComponentProbe[] {
  return [
    { name: 'scheduler', url: 'http://127.0.0.1:10259/healthz' },
    { name: 'controller-manager', url: 'http://127.0.0.1:10257/healthz' },
    ...etcdServers.map((e, i) => ({
      name: `etcd-${i}`,
      url: `${/^https?:\/\//.test(e) ? e : `http://${e}`}/health`,
      tls: etcdTLS,
      healthy: (status: number, body: string) => {
        try {
          return status === 200 && (JSON.parse(body) as { health?: string }).health === 'true';
        } catch {
          return false;
        }
      },
    })),
  ];
}

/** A GET with a client certificate (fetch has no way to present one). */
function httpsGet(url: string, tls: NonNullable<ComponentProbe['tls']>, timeoutMs: number): Promise<{ status: number; text(): Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca: tls.ca, cert: tls.cert, key: tls.key, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: async () => Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { name: 'TimeoutError' })));
    req.on('error', (err) => reject(Object.assign(new Error(err.message), { name: err.name, cause: err })));
  });
}

async function probe(p: ComponentProbe, timeoutMs: number): Promise<KubeObject> {
  let condition: Record<string, string>;
  try {
    const res = p.tls && p.url.startsWith('https:') ? await httpsGet(p.url, p.tls, timeoutMs) : await fetch(p.url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.text()).trim();
    const ok = p.healthy ? p.healthy(res.status, body) : res.status === 200 && body === 'ok';
    condition = ok ? { type: 'Healthy', status: 'True', message: body } : { type: 'Healthy', status: 'False', message: body, error: `unhealthy: HTTP ${res.status}` };
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    const hostPort = new URL(p.url).host;
    const why =
      code === 'ECONNREFUSED' ? `dial tcp ${hostPort}: connect: connection refused` : code === 'EHOSTUNREACH' ? `dial tcp ${hostPort}: connect: no route to host` : (err as Error).name === 'TimeoutError' ? 'context deadline exceeded' : (code ?? (err as Error).message);
    condition = { type: 'Healthy', status: 'False', message: '', error: `Get "${p.url}": ${why}` };
  }
  return { kind: 'ComponentStatus', apiVersion: 'v1', metadata: { name: p.name }, conditions: [condition] };
}

export function componentStatusProvider(probes: ComponentProbe[], timeoutMs = 2000): () => Promise<KubeObject[]> {
  return () => Promise.all(probes.map((p) => probe(p, timeoutMs)));
}
