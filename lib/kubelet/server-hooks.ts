/**
 * The hook for the kubelet's HTTPS API server (--port, 10250: logs, exec, attach, port-forward,
 * stats), which lives apart from the kubelet core. The kubelet program builds that server with a
 * KubeletServerFactory and hands it a KubeletServerHooks: how to find a pod's sandbox and
 * containers, the runtime to stream from, and the stats summary. The server never changes
 * pods; it only reads through these hooks and talks to the runtime.
 */
import fs from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Pod } from '../api/index.js';
import type { Runnable } from '../base/index.js';
import type { ContainerRuntime, ContainerState } from './runtime/index.js';
import { memoryAvailableBytes } from './node/machine-info.js';
import type { RuntimeReader } from './pod/runtime-state.js';
import type { KubeletServerHost } from './server/host.js';

/** One container instance of a pod. */
export interface ContainerRef {
  id: string;
  state: ContainerState;
  /** Restart count of this instance. */
  attempt: number;
}

/** A pod as it runs on this node. */
export interface PodRuntimeRef {
  pod: Pod;
  /** The newest sandbox (the pod's network namespace for port-forward). */
  sandboxId?: string;
  /** Instances by container name, newest first (the second is what `logs --previous` reads). */
  containers: Record<string, ContainerRef[]>;
}

export interface ContainerStatsSummary {
  name: string;
  startTime?: string;
  cpu: { time: string; usageCoreNanoSeconds: number };
  memory: { time: string; usageBytes: number; workingSetBytes: number; rssBytes?: number };
}

/** A small subset of the kubelet's /stats/summary (stats/v1alpha1 Summary). */
export interface StatsSummary {
  node: {
    nodeName: string;
    cpu: { time: string; usageCoreNanoSeconds: number };
    memory: { time: string; availableBytes: number; usageBytes: number; workingSetBytes: number };
  };
  pods: Array<{
    podRef: { name: string; namespace: string; uid: string };
    startTime?: string;
    containers: ContainerStatsSummary[];
    cpu: { time: string; usageCoreNanoSeconds: number };
    memory: { time: string; usageBytes: number; workingSetBytes: number };
  }>;
}

export interface KubeletServerHooks {
  readonly nodeName: string;
  readonly runtime: ContainerRuntime;
  /** The pod of this node with that namespace and name (and uid, when given), or undefined. */
  findPod(namespace: string, name: string, uid?: string): Promise<PodRuntimeRef | undefined>;
  /** The pods this kubelet runs (GET /pods). */
  pods(): Pod[];
  statsSummary(): Promise<StatsSummary>;
}

export interface KubeletServerOptions {
  /** --address (default 0.0.0.0) and --port (default 10250). */
  address: string;
  port: number;
  log: Logger;
}

/** Builds the kubelet's HTTPS server; the kubelet runs it with its own signal. */
export type KubeletServerFactory = (hooks: KubeletServerHooks, opts: KubeletServerOptions) => Runnable;

/** Cumulative CPU time of the node in nanoseconds, from /proc/stat. */
async function nodeCPUNanos(): Promise<number> {
  const line = (await fs.readFile('/proc/stat', 'utf8').catch(() => '')).split('\n')[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system irq softirq steal (idle and iowait excluded), in USER_HZ (100/s).
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return busy * 10_000_000;
}

export interface HookDeps {
  nodeName: string;
  runtime: ContainerRuntime;
  reader: RuntimeReader;
  pods(): Pod[];
  memoryBytes: number;
}

/** The hooks the kubelet hands to its server. */
export function kubeletServerHooks(d: HookDeps): KubeletServerHooks {
  const refOf = async (pod: Pod): Promise<PodRuntimeRef> => {
    const state = await d.reader.readPod(pod.metadata.uid ?? '');
    const containers: Record<string, ContainerRef[]> = {};
    for (const c of state.containers) (containers[c.metadata.name] ??= []).push({ id: c.id, state: c.state, attempt: c.metadata.attempt });
    return { pod, ...(state.sandboxes[0] ? { sandboxId: state.sandboxes[0].id } : {}), containers };
  };
  return {
    nodeName: d.nodeName,
    runtime: d.runtime,
    pods: d.pods,
    async findPod(namespace, name, uid) {
      const pod = d.pods().find((p) => p.metadata.namespace === namespace && p.metadata.name === name && (!uid || p.metadata.uid === uid));
      return pod ? refOf(pod) : undefined;
    },
    async statsSummary() {
      const now = new Date().toISOString();
      const available = await memoryAvailableBytes();
      const summary: StatsSummary = {
        node: {
          nodeName: d.nodeName,
          cpu: { time: now, usageCoreNanoSeconds: await nodeCPUNanos() },
          memory: { time: now, availableBytes: available, usageBytes: d.memoryBytes - available, workingSetBytes: d.memoryBytes - available },
        },
        pods: [],
      };
      for (const pod of d.pods()) {
        const ref = await refOf(pod);
        const cs: ContainerStatsSummary[] = [];
        for (const [name, list] of Object.entries(ref.containers)) {
          const running = list.find((c) => c.state === 'running');
          if (!running) continue;
          const s = await d.runtime.stats(running.id).catch(() => undefined);
          if (!s) continue;
          const t = s.timestamp.toISOString();
          cs.push({ name, cpu: { time: t, usageCoreNanoSeconds: s.cpuUsageCoreNanoSeconds }, memory: { time: t, usageBytes: s.memoryUsageBytes, workingSetBytes: s.memoryWorkingSetBytes, ...(s.memoryRssBytes !== undefined ? { rssBytes: s.memoryRssBytes } : {}) } });
        }
        const sum = (f: (c: ContainerStatsSummary) => number) => cs.reduce((a, c) => a + f(c), 0);
        summary.pods.push({
          podRef: { name: pod.metadata.name ?? '', namespace: pod.metadata.namespace ?? '', uid: pod.metadata.uid ?? '' },
          ...(pod.status?.startTime ? { startTime: pod.status.startTime } : {}),
          containers: cs,
          cpu: { time: now, usageCoreNanoSeconds: sum((c) => c.cpu.usageCoreNanoSeconds) },
          memory: { time: now, usageBytes: sum((c) => c.memory.usageBytes), workingSetBytes: sum((c) => c.memory.workingSetBytes) },
        });
      }
      return summary;
    },
  };
}

/**
 * The kubelet's hooks as its HTTPS server's host: the current instance of each container (for
 * logs, exec, attach) and the one before it (logs --previous).
 */
export function serverHostFromHooks(h: KubeletServerHooks, startTime = new Date()): KubeletServerHost {
  return {
    nodeName: h.nodeName,
    runtime: h.runtime,
    startTime,
    listPods: async () => h.pods(),
    async findPod(namespace, name, uid) {
      const ref = await h.findPod(namespace, name, uid);
      if (!ref) return undefined;
      const containerIds: Record<string, string> = {};
      const previousContainerIds: Record<string, string> = {};
      for (const [c, list] of Object.entries(ref.containers)) {
        if (list[0]) containerIds[c] = list[0].id;
        if (list[1]) previousContainerIds[c] = list[1].id;
      }
      return { pod: ref.pod, ...(ref.sandboxId ? { sandboxId: ref.sandboxId } : {}), containerIds, previousContainerIds };
    },
  };
}
