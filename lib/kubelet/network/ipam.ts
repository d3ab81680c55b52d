/**
 * Host-local IP address management over a node's podCIDR, kept on disk so that a restarted
 * kubelet never hands out an address a running pod still holds.
 *
 * Layout of `dir` (like the host-local CNI plugin's):
 *   <ip>              one file per allocated address; JSON naming the pod uid (and sandbox)
 *   last_reserved_ip  the address handed out last; the next search starts after it, so a
 *                     just-released address is not reused at once (peers may still cache it)
 *
 * An address file is written completely to a temporary name and then hard-linked to its final
 * name. link(2) fails when the name exists, so the claim is atomic and exclusive even between
 * processes, and a reader never sees a half-written file. Files are not fsynced (as the CNI
 * plugin's): a claim only has to outlive the kubelet process, and the page cache keeps it; after
 * a crash of the machine no pod holds an address anyway, and garbage collection frees them.
 *
 * A claim file never changes once linked (it is only removed), so an instance keeps what it has
 * read and, on each operation, reads only the names it has not seen; before it acts on a claim
 * (returns it as held, removes it) it reads that file again, in case another process replaced it.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../base/index.js';
import { blockSize, formatIPv4, parseCIDR, parseIPv4, type IPv4CIDR } from './ipv4.js';

export interface Allocation {
  ip: string;
  podUID: string;
  /** Extra facts recorded with the claim, for people reading the folder. */
  sandboxId?: string;
  namespace?: string;
  name?: string;
  allocatedAt?: string;
}

export interface AllocateRequest {
  podUID: string;
  sandboxId?: string;
  namespace?: string;
  name?: string;
}

export class IPAMExhaustedError extends Error {
  override readonly name = 'IPAMExhaustedError';
}

export interface HostLocalIPAMOptions {
  /** Folder holding the allocation files; created when missing. */
  dir: string;
  /** The node's podCIDR (IPv4, /16 to /30). Its network address, first address (the bridge's) and broadcast address are never handed out. */
  podCIDR: string;
  log?: Logger;
}

const lastReservedFile = 'last_reserved_ip';

/**
 * Contract: `allocate` gives each pod uid one address; asking again for the same uid returns
 * the address it already holds (so a retried or restarted pod setup is idempotent). Calls
 * within one instance are serialised; between processes, the file claim keeps an address from
 * being handed out twice. `release` and `garbageCollect` only remove files that name the pod.
 */
export class HostLocalIPAM {
  readonly podCIDR: IPv4CIDR;
  readonly dir: string;
  private readonly log?: Logger;
  private queue: Promise<unknown> = Promise.resolve();
  /** Claims read or written by this instance, by file name (the address). */
  private readonly known = new Map<string, Allocation>();

  constructor(opts: HostLocalIPAMOptions) {
    this.podCIDR = parseCIDR(opts.podCIDR);
    if (this.podCIDR.prefixLength < 16 || this.podCIDR.prefixLength > 30) {
      throw new Error(`podCIDR ${opts.podCIDR} has a /${this.podCIDR.prefixLength} prefix; a node's pod range must be between /16 and /30 (usually /24)`);
    }
    this.dir = opts.dir;
    this.log = opts.log;
  }

  /** The range pods are given: after the bridge's address, before broadcast. */
  get range(): { first: string; last: string; size: number } {
    const base = parseIPv4(this.podCIDR.network)!;
    const size = blockSize(this.podCIDR);
    return { first: formatIPv4(base + 2), last: formatIPv4(base + size - 2), size: size - 3 };
  }

  /** Claims an address for the pod, or returns the one it already holds. */
  allocate(req: AllocateRequest): Promise<Allocation> {
    if (!req.podUID) return Promise.reject(new Error('cannot allocate a pod IP without a pod uid'));
    return this.serialised(async () => {
      await fs.mkdir(this.dir, { recursive: true });
      const held = await this.claimsWhere((a) => a.podUID === req.podUID && this.inRange(a.ip));
      if (held[0]) return held[0];

      const base = parseIPv4(this.podCIDR.network)!;
      const first = base + 2;
      const count = blockSize(this.podCIDR) - 3;
      const last = await this.readLastReserved();
      const start = last !== undefined && last >= first && last < first + count ? last - first + 1 : 0;
      for (let i = 0; i < count; i++) {
        const ip = formatIPv4(first + ((start + i) % count));
        if (this.known.has(ip)) continue;
        const alloc: Allocation = { ip, podUID: req.podUID, ...pick(req), allocatedAt: new Date().toISOString() };
        if (await this.claim(alloc)) {
          this.known.set(ip, alloc);
          await this.writeAtomically(lastReservedFile, ip).catch((err) => this.log?.warn({ err }, 'could not record the last reserved IP'));
          this.log?.debug({ ip, podUID: req.podUID }, 'pod IP allocated');
          return alloc;
        }
      }
      throw new IPAMExhaustedError(
        `no free IP in podCIDR ${this.podCIDR.cidr} (${count} addresses, all held; see ${this.dir}): ` +
          'delete pods or run garbage collection for pods that no longer exist',
      );
    });
  }

  /** Frees the address held by the pod. Resolves with it, or undefined when the pod held none. */
  release(podUID: string): Promise<string | undefined> {
    return this.serialised(async () => {
      let freed: string | undefined;
      for (const a of await this.claimsWhere((x) => x.podUID === podUID)) {
        await this.remove(a.ip);
        freed = a.ip;
        this.log?.debug({ ip: a.ip, podUID }, 'pod IP released');
      }
      return freed;
    });
  }

  /** The address the pod holds, if any. */
  get(podUID: string): Promise<string | undefined> {
    return this.serialised(async () => (await this.claimsWhere((a) => a.podUID === podUID))[0]?.ip);
  }

  /** Every allocation on disk, sorted by address. */
  list(): Promise<Allocation[]> {
    return this.serialised(() => this.readAll());
  }

  /**
   * Frees every address whose pod is not in `livePodUIDs` (pods the kubelet still runs or
   * knows). Resolves with what was freed.
   */
  garbageCollect(livePodUIDs: Iterable<string>): Promise<Allocation[]> {
    const live = new Set(livePodUIDs);
    return this.serialised(async () => {
      const freed: Allocation[] = [];
      for (const a of await this.claimsWhere((x) => !live.has(x.podUID))) {
        await this.remove(a.ip);
        freed.push(a);
      }
      if (freed.length) this.log?.info({ freed: freed.map((a) => `${a.ip}=${a.podUID}`) }, 'pod IPs of gone pods released');
      await this.removeStaleTempFiles();
      return freed;
    });
  }

  private inRange(ip: string): boolean {
    const n = parseIPv4(ip);
    const base = parseIPv4(this.podCIDR.network)!;
    return n !== undefined && n >= base + 2 && n <= base + blockSize(this.podCIDR) - 2;
  }

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Every claim in the folder: the names listed now, read when not seen before. */
  private async readAll(): Promise<Allocation[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      names = [];
    }
    const listed = new Set(names.filter((n) => parseIPv4(n) !== undefined));
    for (const name of this.known.keys()) if (!listed.has(name)) this.known.delete(name);
    for (const name of listed) {
      if (this.known.has(name)) continue;
      const a = await this.readClaim(name);
      if (a) this.known.set(name, a);
    }
    return [...this.known.values()].sort((a, b) => parseIPv4(a.ip)! - parseIPv4(b.ip)!);
  }

  private async readClaim(name: string): Promise<Allocation | undefined> {
    try {
      return parseAllocation(name, await fs.readFile(path.join(this.dir, name), 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** The claims matching `pred`, each confirmed by reading its file again (gone or another pod's by now: left out). */
  private async claimsWhere(pred: (a: Allocation) => boolean): Promise<Allocation[]> {
    const out: Allocation[] = [];
    for (const a of (await this.readAll()).filter(pred)) {
      const now = await this.readClaim(a.ip);
      if (now) this.known.set(a.ip, now);
      else this.known.delete(a.ip);
      if (now && now.podUID === a.podUID) out.push(now);
    }
    return out;
  }

  private async remove(ip: string): Promise<void> {
    await fs.rm(path.join(this.dir, ip), { force: true });
    this.known.delete(ip);
  }

  /** Temporary files left by a process that died between writing and linking a claim. */
  private async removeStaleTempFiles(): Promise<void> {
    const names = await fs.readdir(this.dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.startsWith('.tmp-'))) {
      const p = path.join(this.dir, name);
      const st = await fs.stat(p).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > 60_000) await fs.rm(p, { force: true });
    }
  }

  private async readLastReserved(): Promise<number | undefined> {
    try {
      return parseIPv4(await fs.readFile(path.join(this.dir, lastReservedFile), 'utf8'));
    } catch {
      return undefined;
    }
  }

  /** Writes the claim file under a temporary name and links it into place; false when taken. */
  private async claim(a: Allocation): Promise<boolean> {
    const tmp = await this.writeTemp(JSON.stringify(a) + '\n');
    try {
      await fs.link(tmp, path.join(this.dir, a.ip));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw new Error(`could not record pod IP ${a.ip} in ${this.dir}`, { cause: err });
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  private async writeAtomically(name: string, content: string): Promise<void> {
    const tmp = await this.writeTemp(content);
    await fs.rename(tmp, path.join(this.dir, name));
  }

  private async writeTemp(content: string): Promise<string> {
    const tmp = path.join(this.dir, `.tmp-${randomBytes(6).toString('hex')}`);
    const fh = await fs.open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(content);
    } finally {
      await fh.close();
    }
    return tmp;
  }
}

function pick(req: AllocateRequest): Partial<Allocation> {
  const out: Partial<Allocation> = {};
  if (req.sandboxId) out.sandboxId = req.sandboxId;
  if (req.namespace) out.namespace = req.namespace;
  if (req.name) out.name = req.name;
  return out;
}

/** Reads a claim file; a bare pod uid (as other tools might write) is accepted too. */
function parseAllocation(ip: string, text: string): Allocation {
  const trimmed = text.trim();
  try {
    const obj = JSON.parse(trimmed) as Partial<Allocation>;
    if (obj && typeof obj.podUID === 'string') return { ...obj, ip, podUID: obj.podUID } as Allocation;
  } catch {
    // not JSON: fall through
  }
  return { ip, podUID: trimmed.split('\n')[0] ?? '' };
}
