/**
 * A container's CPU and memory read straight from its cgroup, where Docker has no stats to
 * give: Docker 20.10 answers an empty stats document for a container that joined a sandbox
 * started without Docker networking (its collector fails on the missing network sandbox and
 * drops everything). The kubelet's pause containers run that way, so every app container needs
 * this. Both cgroup versions:
 *
 *   v1: /proc/<pid>/cgroup  "4:cpu,cpuacct:/docker/<id>"  → <root>/cpu,cpuacct/docker/<id>/cpuacct.usage
 *       "9:memory:/docker/<id>" → <root>/memory/docker/<id>/memory.{usage_in_bytes,stat,limit_in_bytes}
 *   v2: /proc/<pid>/cgroup  "0::/docker/<id>"  → <root>/docker/<id>/{cpu.stat,memory.current,memory.stat,memory.max}
 */
import fs from 'node:fs/promises';
import path from 'node:path';

export interface CgroupStats {
  cpuUsageCoreNanoSeconds: number;
  memoryUsageBytes: number;
  /** inactive_file (v2) or total_inactive_file (v1). */
  memoryInactiveFileBytes: number;
  memoryRssBytes?: number;
  memoryLimitBytes?: number;
}

async function read(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** `key value` lines (memory.stat, cpu.stat) as numbers. */
function keyed(text: string | undefined): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) m.set(k, Number(v));
  }
  return m;
}

const num = (text: string | undefined): number | undefined => (text !== undefined && /^\d+\s*$/.test(text) ? Number(text.trim()) : undefined);

/** A v1 limit this large means none (the kernel's "unlimited" rounded to pages). */
const v1Unlimited = 2 ** 62;

/** The stats of the cgroup process `pid` is in, or undefined when they cannot be read. */
export async function cgroupStats(pid: number, opts: { root?: string; proc?: string } = {}): Promise<CgroupStats | undefined> {
  const root = opts.root ?? '/sys/fs/cgroup';
  const membership = await read(path.join(opts.proc ?? '/proc', String(pid), 'cgroup'));
  if (!membership) return undefined;
  const lines = membership
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [, , controllers = '', p = ''] = /^(\d+):([^:]*):(.*)$/.exec(l) ?? [];
      return { controllers: controllers.split(',').filter(Boolean), path: p };
    });
  const v1 = (controller: string) => lines.find((l) => l.controllers.includes(controller));
  const cpuacct = v1('cpuacct');
  const memory = v1('memory');
  if (cpuacct && memory) {
    // The controllers may be mounted together (cpu,cpuacct) or apart.
    const cpuDirs = [cpuacct.controllers.join(','), 'cpuacct', 'cpu,cpuacct'].map((d) => path.join(root, d, cpuacct.path));
    let cpu: number | undefined;
    for (const d of cpuDirs) if ((cpu = num(await read(path.join(d, 'cpuacct.usage')))) !== undefined) break;
    const memDir = path.join(root, 'memory', memory.path);
    const usage = num(await read(path.join(memDir, 'memory.usage_in_bytes')));
    if (cpu === undefined || usage === undefined) return undefined;
    const stat = keyed(await read(path.join(memDir, 'memory.stat')));
    const limit = num(await read(path.join(memDir, 'memory.limit_in_bytes')));
    const rss = stat.get('total_rss') ?? stat.get('rss');
    return {
      cpuUsageCoreNanoSeconds: cpu,
      memoryUsageBytes: usage,
      memoryInactiveFileBytes: stat.get('total_inactive_file') ?? stat.get('inactive_file') ?? 0,
      ...(rss !== undefined ? { memoryRssBytes: rss } : {}),
      ...(limit !== undefined && limit < v1Unlimited ? { memoryLimitBytes: limit } : {}),
    };
  }
  const unified = lines.find((l) => l.controllers.length === 0);
  if (!unified) return undefined;
  const dir = path.join(root, unified.path);
  const cpuStat = keyed(await read(path.join(dir, 'cpu.stat')));
  const usage = num(await read(path.join(dir, 'memory.current')));
  const usec = cpuStat.get('usage_usec');
  if (usec === undefined || usage === undefined) return undefined;
  const stat = keyed(await read(path.join(dir, 'memory.stat')));
  const limit = num(await read(path.join(dir, 'memory.max')));
  const anon = stat.get('anon');
  return {
    cpuUsageCoreNanoSeconds: usec * 1000,
    memoryUsageBytes: usage,
    memoryInactiveFileBytes: stat.get('inactive_file') ?? 0,
    ...(anon !== undefined ? { memoryRssBytes: anon } : {}),
    ...(limit !== undefined ? { memoryLimitBytes: limit } : {}),
  };
}
