/**
 * Facts about the machine the kubelet reports in its Node: CPUs, memory, identity files,
 * kernel and OS, the node's address; and the measurements behind the MemoryPressure and
 * DiskPressure conditions (upstream's default hard eviction thresholds: memory.available <
 * 100Mi, nodefs.available < 10%, imagefs.available < 15%).
 */
import fs from 'node:fs/promises';
import os from 'node:os';

export interface MachineInfo {
  cpus: number;
  memoryBytes: number;
  machineID: string;
  systemUUID: string;
  bootID: string;
  kernelVersion: string;
  osImage: string;
  operatingSystem: string;
  architecture: string;
}

async function readTrimmed(p: string): Promise<string> {
  return (await fs.readFile(p, 'utf8').catch(() => '')).trim();
}

/** Node's process.arch in Go's GOARCH names, as Kubernetes reports them. */
export function goArch(arch: string = process.arch): string {
  return ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[arch] ?? arch;
}

export async function readMachineInfo(): Promise<MachineInfo> {
  const osRelease = await readTrimmed('/etc/os-release');
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1] ?? 'Linux';
  return {
    cpus: os.cpus().length,
    memoryBytes: os.totalmem(),
    machineID: await readTrimmed('/etc/machine-id'),
    systemUUID: (await readTrimmed('/sys/class/dmi/id/product_uuid')).toLowerCase(),
    bootID: await readTrimmed('/proc/sys/kernel/random/boot_id'),
    kernelVersion: os.release(),
    osImage: pretty,
    operatingSystem: 'linux',
    architecture: goArch(),
  };
}

/** The node's address when --node-ip is not given: the IPv4 address of the default route's interface, else the first one not on loopback. */
export async function detectNodeIP(): Promise<string | undefined> {
  const routes = await fs.readFile('/proc/net/route', 'utf8').catch(() => '');
  const iface = routes
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f[1] === '00000000')?.[0];
  const all = os.networkInterfaces();
  const v4 = (name: string) => (all[name] ?? []).find((a) => a.family === 'IPv4' && !a.internal)?.address;
  if (iface && v4(iface)) return v4(iface);
  for (const name of Object.keys(all)) {
    const a = v4(name);
    if (a) return a;
  }
  return undefined;
}

/** Default hard eviction thresholds of upstream's kubelet. */
export const evictionThresholds = { memoryAvailableBytes: 100 * 1024 * 1024, nodefsAvailableRatio: 0.1, imagefsAvailableRatio: 0.15 };

export interface FsStats {
  capacityBytes: number;
  availableBytes: number;
}

export async function fsStats(p: string): Promise<FsStats | undefined> {
  try {
    const s = await fs.statfs(p);
    return { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize };
  } catch {
    return undefined;
  }
}

export interface PressureReport {
  memoryAvailableBytes: number;
  nodefs?: FsStats;
  imagefs?: FsStats;
  memoryPressure: boolean;
  diskPressure: boolean;
  pidPressure: boolean;
}

/** MemAvailable from /proc/meminfo, in bytes. */
export async function memoryAvailableBytes(): Promise<number> {
  const text = await fs.readFile('/proc/meminfo', 'utf8').catch(() => '');
  const kb = /^MemAvailable:\s+(\d+) kB/m.exec(text)?.[1];
  return kb ? Number(kb) * 1024 : os.freemem();
}

/** Measures the node against the eviction thresholds; `rootDir` is the kubelet's filesystem (nodefs), `imageDir` the runtime's (imagefs). */
export async function measurePressure(rootDir: string, imageDir: string): Promise<PressureReport> {
  const [mem, nodefs, imagefs] = await Promise.all([memoryAvailableBytes(), fsStats(rootDir), fsStats(imageDir)]);
  const low = (s: FsStats | undefined, ratio: number) => !!s && s.capacityBytes > 0 && s.availableBytes / s.capacityBytes < ratio;
  return {
    memoryAvailableBytes: mem,
    ...(nodefs ? { nodefs } : {}),
    ...(imagefs ? { imagefs } : {}),
    memoryPressure: mem < evictionThresholds.memoryAvailableBytes,
    diskPressure: low(nodefs, evictionThresholds.nodefsAvailableRatio) || low(imagefs, evictionThresholds.imagefsAvailableRatio),
    // Upstream has no default PID threshold on Linux.
    pidPressure: false,
  };
}
