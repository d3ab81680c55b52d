/** IPv4 addresses and CIDR blocks as numbers, enough for a node's pod network. */

export interface IPv4CIDR {
  /** The network address, e.g. 10.244.1.0. */
  network: string;
  prefixLength: number;
  /** `network/prefixLength` in canonical form. */
  cidr: string;
}

export function parseIPv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/**
 * Parses `a.b.c.d/n`. Host bits must be zero (10.244.1.0/24, not 10.244.1.7/24) so that a
 * typo in a podCIDR is caught instead of silently widened.
 */
export function parseCIDR(s: string): IPv4CIDR {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s.trim());
  const addr = m ? parseIPv4(m[1]!) : undefined;
  const prefixLength = m ? Number(m[2]) : NaN;
  if (addr === undefined || !(prefixLength >= 0 && prefixLength <= 32)) {
    throw new Error(`invalid IPv4 CIDR "${s}": expected a.b.c.d/n, e.g. 10.244.1.0/24`);
  }
  const mask = prefixLength === 0 ? 0 : (~0 << (32 - prefixLength)) >>> 0;
  if ((addr & ~mask) >>> 0 !== 0) {
    throw new Error(`invalid IPv4 CIDR "${s}": host bits are set; did you mean ${formatIPv4((addr & mask) >>> 0)}/${prefixLength}?`);
  }
  return { network: formatIPv4(addr), prefixLength, cidr: `${formatIPv4(addr)}/${prefixLength}` };
}

/** Number of addresses in the block. */
export function blockSize(c: IPv4CIDR): number {
  return 2 ** (32 - c.prefixLength);
}

export function cidrContains(c: IPv4CIDR, ip: string): boolean {
  const n = parseIPv4(ip);
  if (n === undefined) return false;
  const base = parseIPv4(c.network)!;
  return n >= base && n < base + blockSize(c);
}

/** The n-th address of the block (0 is the network address). */
export function nthAddress(c: IPv4CIDR, n: number): string {
  return formatIPv4(parseIPv4(c.network)! + n);
}

/**
 * The bridge's address on a node: the block's first usable address (.1 of a /24). Pods get
 * the addresses after it, up to the one before broadcast.
 */
export function gatewayAddress(c: IPv4CIDR): string {
  return nthAddress(c, 1);
}
