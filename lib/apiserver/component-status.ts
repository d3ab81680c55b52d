/**
 * `kubectl get componentstatuses`: the API server probes etcd and the other control-plane
 * components' health endpoints on each request, as upstream does (the objects are never stored).
 */
import type { KubeObject } from '../api/index.js';

export interface ComponentProbe {
  name: string;
  url: string;
  /** Decides health from the response body (default: HTTP 200 and body "ok"). */
  healthy?(status: number, body: string): boolean;
}

/** The probes upstream uses: every etcd member, the scheduler and the controller manager on loopback. */
export function defaultComponentProbes(etcdServers: string[]): ComponentProbe[] {
  return [
    { name: 'scheduler', url: 'http://127.0.0.1:10259/healthz' },
    { name: 'controller-manager', url: 'http://127.0.0.1:10257/healthz' },
    ...etcdServers.map((e, i) => ({
      name: `etcd-${i}`,
      url: `${/^https?:\/\//.test(e) ? e : `http://${e}`}/health`,
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

async function probe(p: ComponentProbe, timeoutMs: number): Promise<KubeObject> {
  let condition: Record<string, string>;
  try {
    const res = await fetch(p.url, { signal: AbortSignal.timeout(timeoutMs) });
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
