/**
 * Container lifecycle hooks: postStart runs right after a container started (a failure kills the
 * container, which the restart policy then restarts); preStop runs before the stop signal and
 * counts against the grace period. Handlers: exec in the container, HTTP GET to the pod, or
 * sleep; tcpSocket is deprecated and never run, as upstream.
 */
import type { Container, Pod } from '../api/index.js';
import type { Clock } from '../base/index.js';
import type { LifecycleHandler } from './api-types.js';
import { httpCheck, resolvePort } from './probes/prober.js';
import type { ContainerRuntime } from './runtime/index.js';

export interface HookTarget {
  pod: Pod;
  container: Container;
  containerId: string;
  podIP: string;
}

export interface HookResult {
  ok: boolean;
  /** For a failure: what went wrong, worded as upstream's FailedPostStartHook/FailedPreStopHook events. */
  message?: string;
}

export interface HookRunner {
  run(kind: 'postStart' | 'preStop', handler: LifecycleHandler, target: HookTarget, timeoutMs: number): Promise<HookResult>;
}

export class LifecycleHookRunner implements HookRunner {
  constructor(private readonly o: { runtime: ContainerRuntime; clock: Clock; userAgent: string }) {}

  async run(kind: 'postStart' | 'preStop', h: LifecycleHandler, t: HookTarget, timeoutMs: number): Promise<HookResult> {
    const where = `for Container "${t.container.name}" in Pod "${t.pod.metadata.name}_${t.pod.metadata.namespace}(${t.pod.metadata.uid})"`;
    try {
      if (h.exec) {
        const cmd = h.exec.command ?? [];
        const r = await this.o.runtime.execSync(t.containerId, cmd, { timeoutMs });
        const out = Buffer.concat([r.stdout, r.stderr]).toString().trim();
        if (r.timedOut) return { ok: false, message: `Exec lifecycle hook (${JSON.stringify(cmd)}) ${where} failed - error: command timed out after ${Math.round(timeoutMs / 1000)}s, message: ${JSON.stringify(out)}` };
        if (r.exitCode !== 0) return { ok: false, message: `Exec lifecycle hook (${JSON.stringify(cmd)}) ${where} failed - error: command '${cmd.join(' ')}' exited with ${r.exitCode}: ${out}, message: ${JSON.stringify(out)}` };
        return { ok: true };
      }
      if (h.httpGet) {
        const host = h.httpGet.host || t.podIP;
        const port = resolvePort(h.httpGet.port, t.container);
        const p = h.httpGet.path ?? '/';
        const url = `${(h.httpGet.scheme ?? 'HTTP').toLowerCase()}://${host}:${port}${p.startsWith('/') ? p : `/${p}`}`;
        const headers = { 'User-Agent': this.o.userAgent, ...Object.fromEntries((h.httpGet.httpHeaders ?? []).map((x) => [x.name, x.value])) };
        const r = await httpCheck(url, headers, timeoutMs);
        if (r.result !== 'success') return { ok: false, message: `HTTP lifecycle hook (${p}) ${where} failed - error: ${r.output}` };
        return { ok: true };
      }
      if (h.sleep) {
        await this.o.clock.sleep(Math.min(Number(h.sleep.seconds) * 1000, timeoutMs));
        return { ok: true };
      }
      return { ok: true };
    } catch (err) {
      return { ok: false, message: `${kind} hook ${where} failed - error: ${(err as Error).message}` };
    }
  }
}
