/**
 * Chain names, as upstream kube-proxy spells them, so that `iptables-save` on a tkube node reads
 * like one on any Kubernetes node. Per-service chains carry a hash because iptables chain names
 * are limited to 28 characters: the first 16 characters of the base32 encoding of the SHA-256 of
 * the identifying string (`namespace/name:port` + lower-case protocol [+ `ip:port`]).
 */
import { createHash } from 'node:crypto';

export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
export const KUBE_NODEPORTS = 'KUBE-NODEPORTS';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
/** kubelet's anti-martian chain; kube-proxy writes its rule too when localhost node ports are on. */
export const KUBE_FIREWALL = 'KUBE-FIREWALL';

/** Userspace mode (the old upstream proxier). */
export const KUBE_PORTALS_CONTAINER = 'KUBE-PORTALS-CONTAINER';
export const KUBE_PORTALS_HOST = 'KUBE-PORTALS-HOST';
export const KUBE_NODEPORT_CONTAINER = 'KUBE-NODEPORT-CONTAINER';
export const KUBE_NODEPORT_HOST = 'KUBE-NODEPORT-HOST';

export const SVC_PREFIX = 'KUBE-SVC-';
export const SVL_PREFIX = 'KUBE-SVL-';
export const EXT_PREFIX = 'KUBE-EXT-';
export const FW_PREFIX = 'KUBE-FW-';
export const SEP_PREFIX = 'KUBE-SEP-';

const servicePrefixes = [SVC_PREFIX, SVL_PREFIX, EXT_PREFIX, FW_PREFIX, SEP_PREFIX];

/** Top-level chains of iptables mode, per table. */
export const iptablesTopLevelChains = {
  filter: [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL],
  nat: [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ],
} as const;

/** Chains of userspace mode (nat table). */
export const userspaceChains = [KUBE_PORTALS_CONTAINER, KUBE_PORTALS_HOST, KUBE_NODEPORT_CONTAINER, KUBE_NODEPORT_HOST] as const;

const base32Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (standard alphabet, with padding), as Go's base32.StdEncoding. */
export function base32(buf: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += base32Alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += base32Alphabet[(value << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += '=';
  return out;
}

function hash16(s: string): string {
  return base32(createHash('sha256').update(s).digest()).slice(0, 16);
}

/** `namespace/name:port` + protocol, e.g. ("ns1/svc1:p80", "TCP") → KUBE-SVC-XPGD46QRK7WJZT7O. */
export function serviceChainName(servicePortName: string, protocol: string): string {
  return SVC_PREFIX + hash16(servicePortName + protocol.toLowerCase());
}
export function localServiceChainName(servicePortName: string, protocol: string): string {
  return SVL_PREFIX + hash16(servicePortName + protocol.toLowerCase());
}
export function externalChainName(servicePortName: string, protocol: string): string {
  return EXT_PREFIX + hash16(servicePortName + protocol.toLowerCase());
}
export function firewallChainName(servicePortName: string, protocol: string): string {
  return FW_PREFIX + hash16(servicePortName + protocol.toLowerCase());
}
export function endpointChainName(servicePortName: string, protocol: string, endpoint: string): string {
  return SEP_PREFIX + hash16(servicePortName + protocol.toLowerCase() + endpoint);
}

/** A per-service chain of iptables mode (SVC, SVL, EXT, FW or SEP). */
export function isServiceChain(name: string): boolean {
  return servicePrefixes.some((p) => name.startsWith(p));
}

/**
 * Every chain tkube-proxy may have created, in either mode. Leftovers among these are removed;
 * other KUBE-* chains (kubelet's KUBE-FIREWALL, KUBE-KUBELET-CANARY, ...) are never touched.
 */
export function isProxyOwnedChain(table: string, name: string): boolean {
  if (isServiceChain(name)) return table === 'nat';
  if (table === 'nat') return (iptablesTopLevelChains.nat as readonly string[]).includes(name) || (userspaceChains as readonly string[]).includes(name);
  if (table === 'filter') return (iptablesTopLevelChains.filter as readonly string[]).includes(name);
  return false;
}
