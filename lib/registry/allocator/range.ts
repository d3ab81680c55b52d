/**
 * A bitmap allocator persisted in one etcd key, updated by compare-and-swap so that concurrent
 * API servers and concurrent requests never hand out one value twice, after upstream's
 * RangeAllocation objects (/registry/ranges/serviceips, /registry/ranges/servicenodeports).
 */
import { randomInt } from 'node:crypto';
import type { KubeObject } from '../../api/index.js';
import { NOCHANGE, type Storage } from '../../storage/index.js';

export class AllocationError extends Error {
  constructor(
    readonly kind: 'AlreadyAllocated' | 'OutOfRange' | 'Full',
    message: string,
  ) {
    super(message);
  }
}

interface RangeObject extends KubeObject {
  range: string;
  data: string;
}

export class RangeAllocator {
  constructor(
    private readonly storage: Storage,
    private readonly key: string,
    /** Number of values: offsets 0..size-1. */
    readonly size: number,
    /** The human form of the range, stored with the bitmap and shown in errors. */
    readonly rangeText: string,
    /** Offsets never handed out dynamically (network and broadcast addresses...). */
    private readonly reserved: Set<number> = new Set(),
  ) {}

  private bitmapOf(obj: KubeObject | null): Buffer {
    const data = (obj as RangeObject | null)?.data;
    const buf = Buffer.alloc(Math.ceil(this.size / 8));
    if (data) Buffer.from(data, 'base64').copy(buf);
    return buf;
  }

  private write(buf: Buffer, current: KubeObject | null): RangeObject {
    return {
      apiVersion: 'v1',
      kind: 'RangeAllocation',
      metadata: { name: this.key.split('/').pop()!, creationTimestamp: (current?.metadata.creationTimestamp as string | undefined) ?? new Date().toISOString() },
      range: this.rangeText,
      data: buf.toString('base64'),
    };
  }

  /** Allocates `offset`, or a free offset chosen at random when undefined. */
  async allocate(offset?: number): Promise<number> {
    let chosen = -1;
    await this.storage.guaranteedUpdate(this.key, (current) => {
      const bits = this.bitmapOf(current);
      const isSet = (i: number) => (bits[i >> 3]! & (1 << (i & 7))) !== 0;
      if (offset !== undefined) {
        if (offset < 0 || offset >= this.size) throw new AllocationError('OutOfRange', `not in the valid range ${this.rangeText}`);
        if (isSet(offset)) throw new AllocationError('AlreadyAllocated', 'provided value is already allocated');
        chosen = offset;
      } else {
        const start = randomInt(this.size);
        chosen = -1;
        for (let n = 0; n < this.size; n++) {
          const i = (start + n) % this.size;
          if (!isSet(i) && !this.reserved.has(i)) {
            chosen = i;
            break;
          }
        }
        if (chosen < 0) throw new AllocationError('Full', `range ${this.rangeText} is full`);
      }
      bits[chosen >> 3]! |= 1 << (chosen & 7);
      return this.write(bits, current);
    });
    return chosen;
  }

  async release(offset: number): Promise<void> {
    if (offset < 0 || offset >= this.size) return;
    await this.storage.guaranteedUpdate(this.key, (current) => {
      if (!current) return NOCHANGE;
      const bits = this.bitmapOf(current);
      if ((bits[offset >> 3]! & (1 << (offset & 7))) === 0) return NOCHANGE;
      bits[offset >> 3]! &= ~(1 << (offset & 7));
      return this.write(bits, current);
    });
  }

  /** Makes the bitmap say exactly `used` (the repair loop, run at start-up). */
  async reset(used: number[]): Promise<void> {
    await this.storage.guaranteedUpdate(this.key, (current) => {
      const bits = Buffer.alloc(Math.ceil(this.size / 8));
      for (const i of used) if (i >= 0 && i < this.size) bits[i >> 3]! |= 1 << (i & 7);
      if (current && this.bitmapOf(current).equals(bits)) return NOCHANGE;
      return this.write(bits, current);
    });
  }

  async isAllocated(offset: number): Promise<boolean> {
    const cur = await this.storage.get(this.key);
    const bits = this.bitmapOf(cur);
    return (bits[offset >> 3]! & (1 << (offset & 7))) !== 0;
  }
}

// ---- IPv4 helpers --------------------------------------------------------------

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

export function intToIP(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface CIDR {
  base: number;
  bits: number;
  size: number;
  text: string;
}

export function parseCIDR(text: string): CIDR {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`invalid CIDR ${JSON.stringify(text)}`);
  const bits = Number(m[2]);
  if (bits < 8 || bits > 30) throw new Error(`CIDR ${text}: prefix length must be between 8 and 30`);
  const size = 2 ** (32 - bits);
  const base = Math.floor(ipToInt(m[1]!) / size) * size;
  return { base, bits, size, text: `${intToIP(base)}/${bits}` };
}

export function cidrContains(c: CIDR, ip: string): boolean {
  const n = ipToInt(ip);
  return n >= c.base && n < c.base + c.size;
}
