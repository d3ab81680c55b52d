/**
 * /stats/summary: CPU and memory of the node, of each pod and of each container, in the shape
 * of upstream's stats/v1alpha1 Summary (what metrics-server reads, and tkube's metrics API).
 *
 * The runtime and /proc give cumulative CPU time; a rate (usageNanoCores) needs two samples.
 * The provider keeps the last sample of each container and of the node; the first request for
 * something new waits for a second sample (about a second) so that every answer has rates.
 */
import fs from 'node:fs/promises';
import type { Pod } from '../../api/index.js';
import type { ContainerRuntime } from '../runtime/index.js';
import type { KubeletServerHost, NodeUsage } from './host.js';

export interface CPUStats {
  time: string;
  usageNanoCores?: number;
  usageCoreNanoSeconds?: number;
}

export interface MemoryStats {
  time: string;
  availableBytes?: number;
  usageBytes?: number;
  workingSetBytes?: number;
  rssBytes?: number;
  pageFaults?: number;
  majorPageFaults?: number;
}

export interface ContainerStatsSummary {
  name: string;
  startTime: string;
  cpu?: CPUStats;
  memory?: MemoryStats;
}

export interface PodStatsSummary {
  podRef: { name: string; namespace: string; uid: string };
  startTime: string;
  containers: ContainerStatsSummary[];
  cpu?: CPUStats;
  memory?: MemoryStats;
}

export interface Summary {
  node: { nodeName: string; startTime: string; cpu?: CPUStats; memory?: MemoryStats };
  pods: PodStatsSummary[];
}

interface Sample {
  at: number;
  cpu: number;
}

/** Reads the machine's CPU time (/proc/stat) and memory (/proc/meminfo). */
export async function readProcUsage(): Promise<NodeUsage> {
  const [stat, meminfo] = await Promise.all([fs.readFile('/proc/stat', 'utf8'), fs.readFile('/proc/meminfo', 'utf8')]);
  const cpu = stat.split('\n').find((l) => l.startsWith('cpu '))!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal, in USER_HZ (1/100 s) on Linux.
  const busy = (cpu[0] ?? 0) + (cpu[1] ?? 0) + (cpu[2] ?? 0) + (cpu[5] ?? 0) + (cpu[6] ?? 0) + (cpu[7] ?? 0);
  const mem = new Map(
    meminfo
      .split('\n')
      .map((l) => /^(\w+):\s+(\d+) kB/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, Number(m[2]) * 1024] as const),
  );
  const total = mem.get('MemTotal') ?? 0;
  const available = mem.get('MemAvailable') ?? mem.get('MemFree') ?? 0;
  return {
    timestamp: new Date(),
    cpuUsageCoreNanoSeconds: busy * 10_000_000,
    memoryUsageBytes: total - (mem.get('MemFree') ?? 0),
    memoryWorkingSetBytes: total - available,
    memoryAvailableBytes: available,
  };
}

export class StatsProvider {
  private readonly samples = new Map<string, Sample>();
  private readonly started = new Date();

  constructor(
    private readonly host: KubeletServerHost,
    private readonly opts: { secondSampleDelayMs?: number } = {},
  ) {}

  private get runtime(): ContainerRuntime {
    return this.host.runtime;
  }

  /** Remembers a cumulative CPU sample and returns the rate since the previous one (nanocores). */
  private rate(key: string, at: number, cpu: number): number | undefined {
    const prev = this.samples.get(key);
    this.samples.set(key, { at, cpu });
    if (!prev || at <= prev.at || cpu < prev.cpu) return undefined;
    return Math.round(((cpu - prev.cpu) / (at - prev.at)) * 1000);
  }

  async summary(): Promise<Summary> {
    const first = await this.collect();
    if (!first.missingRates) return first.summary;
    // Something is new: take a second sample so that it has a rate too.
    await new Promise((r) => setTimeout(r, this.opts.secondSampleDelayMs ?? 1000));
    return (await this.collect()).summary;
  }

  private async collect(): Promise<{ summary: Summary; missingRates: boolean }> {
    let missingRates = false;
    const node = await (this.host.nodeUsage ? this.host.nodeUsage() : readProcUsage());
    const nodeTime = node.timestamp.toISOString();
    const nodeRate = this.rate('node', node.timestamp.getTime(), node.cpuUsageCoreNanoSeconds);
    if (nodeRate === undefined) missingRates = true;
    const seen = new Set<string>(['node']);
    const pods: PodStatsSummary[] = [];
    for (const pod of await this.host.listPods()) {
      const ref = await this.host.findPod(pod.metadata.namespace ?? 'default', pod.metadata.name!, pod.metadata.uid);
      if (!ref) continue;
      const containers: ContainerStatsSummary[] = [];
      for (const [name, id] of Object.entries(ref.containerIds)) {
        const c = await this.containerStats(name, id);
        if (!c) continue;
        seen.add(id);
        if (c.cpu?.usageNanoCores === undefined) missingRates = true;
        containers.push(c);
      }
      if (containers.length === 0) continue;
      pods.push(podSummary(ref.pod, containers));
    }
    // Forget containers that are gone.
    for (const k of this.samples.keys()) if (!seen.has(k)) this.samples.delete(k);
    return {
      missingRates,
      summary: {
        node: {
          nodeName: this.host.nodeName,
          startTime: (this.host.startTime ?? this.started).toISOString(),
          cpu: { time: nodeTime, ...(nodeRate !== undefined ? { usageNanoCores: nodeRate } : {}), usageCoreNanoSeconds: node.cpuUsageCoreNanoSeconds },
          memory: {
            time: nodeTime,
            ...(node.memoryAvailableBytes !== undefined ? { availableBytes: node.memoryAvailableBytes } : {}),
            usageBytes: node.memoryUsageBytes,
            workingSetBytes: node.memoryWorkingSetBytes,
            ...(node.memoryRssBytes !== undefined ? { rssBytes: node.memoryRssBytes } : {}),
          },
        },
        pods,
      },
    };
  }

  /** Stats of a running container; undefined for one that is not running or gone. */
  private async containerStats(name: string, id: string): Promise<ContainerStatsSummary | undefined> {
    let startedAt: Date | undefined;
    try {
      const st = await this.runtime.inspectContainer(id);
      if (st.state !== 'running') return undefined;
      startedAt = st.startedAt;
      const s = await this.runtime.stats(st.id);
      const time = s.timestamp.toISOString();
      const rate = this.rate(st.id, s.timestamp.getTime(), s.cpuUsageCoreNanoSeconds);
      return {
        name,
        startTime: (startedAt ?? s.timestamp).toISOString(),
        cpu: { time, ...(rate !== undefined ? { usageNanoCores: rate } : {}), usageCoreNanoSeconds: s.cpuUsageCoreNanoSeconds },
        memory: {
          time,
          ...(s.memoryLimitBytes !== undefined ? { availableBytes: Math.max(0, s.memoryLimitBytes - s.memoryWorkingSetBytes) } : {}),
          usageBytes: s.memoryUsageBytes,
          workingSetBytes: s.memoryWorkingSetBytes,
          ...(s.memoryRssBytes !== undefined ? { rssBytes: s.memoryRssBytes } : {}),
        },
      };
    } catch {
      return undefined;
    }
  }
}

/** A pod's entry: its containers and their sums. */
function podSummary(pod: Pod, containers: ContainerStatsSummary[]): PodStatsSummary {
  const sum = (f: (c: ContainerStatsSummary) => number | undefined) => {
    const vals = containers.map(f);
    return vals.every((v) => v !== undefined) ? (vals as number[]).reduce((a, b) => a + b, 0) : undefined;
  };
  const time = containers.map((c) => c.cpu?.time ?? '').sort().at(-1) ?? new Date().toISOString();
  const nano = sum((c) => c.cpu?.usageNanoCores);
  const rss = sum((c) => c.memory?.rssBytes);
  return {
    podRef: { name: pod.metadata.name!, namespace: pod.metadata.namespace ?? 'default', uid: pod.metadata.uid ?? '' },
    startTime: pod.status?.startTime ?? containers.map((c) => c.startTime).sort()[0]!,
    containers,
    cpu: { time, ...(nano !== undefined ? { usageNanoCores: nano } : {}), usageCoreNanoSeconds: sum((c) => c.cpu?.usageCoreNanoSeconds) ?? 0 },
    memory: { time, usageBytes: sum((c) => c.memory?.usageBytes) ?? 0, workingSetBytes: sum((c) => c.memory?.workingSetBytes) ?? 0, ...(rss !== undefined ? { rssBytes: rss } : {}) },
  };
}
