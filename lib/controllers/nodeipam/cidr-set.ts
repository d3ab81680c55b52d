/**
 * IPv4 CIDR arithmetic and the set of node subnets carved out of the cluster CIDR: the cluster
 * range split into subnets of --node-cidr-mask-size, each free or used. Allocation goes round
 * the range from where it last stopped (so a released subnet is not handed out again at once).
 */

export interface IPv4CIDR {
  /** The network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

export class CIDRError extends Error {
  override readonly name = 'CIDRError';
}

export function parseIPv4(s: string): number {
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new CIDRError(`invalid IPv4 address ${JSON.stringify(s)}`);
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIPv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function parseCIDR(s: string): IPv4CIDR {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s.trim());
  if (!m) throw new CIDRError(`invalid CIDR ${JSON.stringify(s)} (expected a.b.c.d/n)`);
  const prefix = Number(m[2]);
  if (prefix > 32) throw new CIDRError(`invalid CIDR ${JSON.stringify(s)}: prefix above 32`);
  const ip = parseIPv4(m[1]!);
  const size = 2 ** (32 - prefix);
  return { base: Math.floor(ip / size) * size, prefix };
}

export function formatCIDR(c: IPv4CIDR): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

export function cidrSize(c: IPv4CIDR): number {
  return 2 ** (32 - c.prefix);
}

export function cidrsOverlap(a: IPv4CIDR, b: IPv4CIDR): boolean {
  return a.base < b.base + cidrSize(b) && b.base < a.base + cidrSize(a);
}

export class CIDRSet {
  readonly cluster: IPv4CIDR;
  readonly maskSize: number;
  readonly max: number;
  private readonly used: Uint8Array;
  private allocated = 0;
  private next = 0;

  constructor(clusterCIDR: string, maskSize: number) {
    this.cluster = parseCIDR(clusterCIDR);
    if (maskSize < this.cluster.prefix) throw new CIDRError(`--node-cidr-mask-size ${maskSize} is smaller than the cluster CIDR's prefix /${this.cluster.prefix}`);
    if (maskSize > 30) throw new CIDRError(`--node-cidr-mask-size ${maskSize} leaves no room for pods (at most 30)`);
    if (maskSize - this.cluster.prefix > 24) throw new CIDRError(`--node-cidr-mask-size ${maskSize} splits ${formatCIDR(this.cluster)} into more than 2^24 subnets`);
    this.maskSize = maskSize;
    this.max = 2 ** (maskSize - this.cluster.prefix);
    this.used = new Uint8Array(this.max);
  }

  /** The indexes of the subnets a CIDR overlaps, or undefined if it lies outside the cluster CIDR. */
  private range(c: IPv4CIDR): [number, number] | undefined {
    if (!cidrsOverlap(c, this.cluster)) return undefined;
    const step = 2 ** (32 - this.maskSize);
    const start = Math.max(c.base, this.cluster.base) - this.cluster.base;
    const end = Math.min(c.base + cidrSize(c), this.cluster.base + cidrSize(this.cluster)) - 1 - this.cluster.base;
    return [Math.floor(start / step), Math.floor(end / step)];
  }

  private subnet(i: number): string {
    return formatCIDR({ base: this.cluster.base + i * 2 ** (32 - this.maskSize), prefix: this.maskSize });
  }

  /** The next free subnet, now marked used; undefined when the range is exhausted. */
  allocateNext(): string | undefined {
    if (this.allocated >= this.max) return undefined;
    for (let k = 0; k < this.max; k++) {
      const i = (this.next + k) % this.max;
      if (!this.used[i]) {
        this.used[i] = 1;
        this.allocated++;
        this.next = (i + 1) % this.max;
        return this.subnet(i);
      }
    }
    return undefined;
  }

  /** Marks every subnet the CIDR overlaps as used (a node's existing podCIDR, the service range). */
  occupy(cidr: string): void {
    const r = this.range(parseCIDR(cidr));
    if (!r) throw new CIDRError(`${cidr} is outside the cluster CIDR ${formatCIDR(this.cluster)}`);
    for (let i = r[0]; i <= r[1]; i++) {
      if (!this.used[i]) {
        this.used[i] = 1;
        this.allocated++;
      }
    }
  }

  release(cidr: string): void {
    const c = parseCIDR(cidr);
    const r = this.range(c);
    if (!r) return;
    for (let i = r[0]; i <= r[1]; i++) {
      if (this.used[i]) {
        this.used[i] = 0;
        this.allocated--;
      }
    }
  }

  isUsed(cidr: string): boolean {
    const r = this.range(parseCIDR(cidr));
    if (!r) return false;
    for (let i = r[0]; i <= r[1]; i++) if (this.used[i]) return true;
    return false;
  }

  get usedCount(): number {
    return this.allocated;
  }
}
