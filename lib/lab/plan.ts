/**
 * The shape of a tkube cluster: which hosts there are, their addresses and what each runs.
 * The Vagrant lab (one VM per host) and the single-machine lab (one network namespace per
 * host) are made from the same plan, by the same code.
 *
 *   control-plane hosts  cp [, cp2, cp3]   etcd member + API server + scheduler + controller
 *                                          manager (stacked: with 3 etcd members the API server
 *                                          is replicated, one per member; scheduler and
 *                                          controller manager elect a leader)
 *   cp is also a node                      kubelet + tkube-proxy + Docker: it runs workloads too
 *   workers  worker [, worker2, ...]       kubelet + tkube-proxy + Docker
 *
 * Addresses come from one private network (192.168.56.0/24 by default): the first address is
 * the host's (the Vagrant host-only adapter, or the lab bridge), and hosts get consecutive
 * addresses from .10 in order: control-plane hosts first, then workers (cp .10, worker .11).
 */

export interface ClusterSpec {
  clusterName: string;
  /** The hosts' private network, e.g. 192.168.56.0/24. */
  networkCIDR: string;
  /** Worker hosts besides cp. */
  workers: number;
  /** etcd members: 1, or 3 (stacked on cp, cp2, cp3, each with an API server). */
  etcdMembers: number;
  apiserverPort: number;
  /** Pods' addresses; the controller manager carves one /24 per node out of it. */
  clusterCIDR: string;
  serviceCIDR: string;
  /** The kube-dns Service's clusterIP (must match deploy/addons/cluster-dns/20-service.yaml). */
  clusterDNS: string;
  clusterDomain: string;
}

export const defaultClusterSpec: ClusterSpec = {
  clusterName: 'tkube',
  networkCIDR: '192.168.56.0/24',
  workers: 1,
  etcdMembers: 1,
  apiserverPort: 6443,
  clusterCIDR: '10.244.0.0/16',
  serviceCIDR: '10.96.0.0/12',
  clusterDNS: '10.96.0.10',
  clusterDomain: 'cluster.local',
};

export interface HostPlan {
  name: string;
  ip: string;
  etcd: boolean;
  controlPlane: boolean;
  node: boolean;
}

export interface ClusterPlan {
  spec: ClusterSpec;
  /** The host side of the private network (.1): the lab bridge's address, Vagrant's host-only adapter. */
  gatewayIP: string;
  prefixLength: number;
  hosts: HostPlan[];
}

export class PlanError extends Error {
  override readonly name = 'PlanError';
}

/** First address of hosts on the network (cp). */
export const firstHostOffset = 10;

export function ipToNumber(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new PlanError(`${ip} is not an IPv4 address`);
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function numberToIP(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCIDR(cidr: string): { base: number; prefix: number } {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m || Number(m[2]) > 32) throw new PlanError(`${cidr} is not an IPv4 CIDR (like 192.168.56.0/24)`);
  const prefix = Number(m[2]);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (ipToNumber(m[1]!) & mask) >>> 0, prefix };
}

export function cidrContains(cidr: string, ip: string): boolean {
  const { base, prefix } = parseCIDR(cidr);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return ((ipToNumber(ip) & mask) >>> 0) === base;
}

/** cp, cp2, cp3: the control-plane hosts for a member count. */
export function controlPlaneNames(etcdMembers: number): string[] {
  return Array.from({ length: etcdMembers }, (_, i) => (i === 0 ? 'cp' : `cp${i + 1}`));
}

/** worker, worker2, ...: the worker hosts. */
export function workerNames(workers: number): string[] {
  return Array.from({ length: workers }, (_, i) => (i === 0 ? 'worker' : `worker${i + 1}`));
}

export function planCluster(spec: ClusterSpec): ClusterPlan {
  if (spec.etcdMembers !== 1 && spec.etcdMembers !== 3) throw new PlanError(`etcd members: ${spec.etcdMembers}; use 1, or 3 for a cluster that survives losing one (an even count tolerates no more failures than one less)`);
  if (!Number.isInteger(spec.workers) || spec.workers < 0) throw new PlanError(`workers: ${spec.workers} must be 0 or more`);
  const { base, prefix } = parseCIDR(spec.networkCIDR);
  const names = [...controlPlaneNames(spec.etcdMembers), ...workerNames(spec.workers)];
  const size = 2 ** (32 - prefix);
  if (firstHostOffset + names.length >= size - 1) throw new PlanError(`${spec.networkCIDR} has no room for ${names.length} hosts from .${firstHostOffset}; use a larger network`);
  for (const [what, cidr] of [['cluster CIDR', spec.clusterCIDR], ['service CIDR', spec.serviceCIDR]] as const) {
    const other = parseCIDR(cidr);
    const overlap = Math.min(prefix, other.prefix);
    const mask = overlap === 0 ? 0 : (0xffffffff << (32 - overlap)) >>> 0;
    if (((base & mask) >>> 0) === ((other.base & mask) >>> 0)) throw new PlanError(`the hosts' network ${spec.networkCIDR} overlaps the ${what} ${cidr}`);
  }
  if (!cidrContains(spec.serviceCIDR, spec.clusterDNS)) throw new PlanError(`the cluster DNS address ${spec.clusterDNS} is outside the service CIDR ${spec.serviceCIDR}`);
  const hosts = names.map((name, i): HostPlan => {
    const cp = name === 'cp' || /^cp\d+$/.test(name);
    return { name, ip: numberToIP(base + firstHostOffset + i), etcd: cp, controlPlane: cp, node: !cp || name === 'cp' };
  });
  return { spec, gatewayIP: numberToIP(base + 1), prefixLength: prefix, hosts };
}

export function hostByName(plan: ClusterPlan, name: string): HostPlan {
  const h = plan.hosts.find((x) => x.name === name);
  if (!h) throw new PlanError(`no host ${name} in this cluster (hosts: ${plan.hosts.map((x) => x.name).join(', ')})`);
  return h;
}

export function controlPlaneHosts(plan: ClusterPlan): HostPlan[] {
  return plan.hosts.filter((h) => h.controlPlane);
}

export function nodeHosts(plan: ClusterPlan): HostPlan[] {
  return plan.hosts.filter((h) => h.node);
}

/** name=http://ip:2380,... for --initial-cluster (https:// when etcd speaks TLS). */
export function etcdInitialCluster(plan: ClusterPlan, scheme: 'http' | 'https' = 'http'): string {
  return plan.hosts.filter((h) => h.etcd).map((h) => `${h.name}=${scheme}://${h.ip}:2380`).join(',');
}

/** The etcd client URLs an API server on `host` uses: its own member first. */
export function etcdServersFor(plan: ClusterPlan, host: HostPlan, scheme: 'http' | 'https' = 'http'): string {
  const members = plan.hosts.filter((h) => h.etcd);
  const own = members.filter((h) => h.name === host.name);
  return [...own, ...members.filter((h) => h.name !== host.name)].map((h) => `${scheme}://${h.ip}:2379`).join(',');
}

/**
 * The API server a host's components talk to: a control-plane host's own (stacked), else the
 * first control-plane host's. (With replicated API servers, a load balancer or a DNS name in
 * front of them is what a production cluster would put here.)
 */
export function apiserverURLFor(plan: ClusterPlan, host: HostPlan): string {
  const target = host.controlPlane ? host : controlPlaneHosts(plan)[0]!;
  return `https://${target.ip}:${plan.spec.apiserverPort}`;
}

/** The address users (kubectl on the host) reach the API server at. */
export function adminAPIServerURL(plan: ClusterPlan): string {
  return `https://${controlPlaneHosts(plan)[0]!.ip}:${plan.spec.apiserverPort}`;
}
