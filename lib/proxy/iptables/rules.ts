/**
 * The rule generator of iptables mode: services and endpoints in, a `RuleModel` out. It is a pure
 * function (no I/O, no clock) so that its output can be compared with golden files; the Proxier
 * turns a model into `iptables-restore` input with `renderRestore` (restore.ts). A `RuleCache`
 * lets the proxier skip the services that did not change since its last sync (the output is the
 * same with or without it).
 *
 * The shapes follow upstream kube-proxy's iptables proxier:
 *
 *   PREROUTING/OUTPUT ─▶ KUBE-SERVICES ─┬─ clusterIP:port ─────────────▶ KUBE-SVC-X (or KUBE-SVL-X, internal policy Local)
 *                                       ├─ externalIP/LB IP:port ──────▶ KUBE-EXT-X (LB with source ranges: KUBE-FW-X first)
 *                                       └─ dst-type LOCAL (last rule) ─▶ KUBE-NODEPORTS ─ nodePort ─▶ KUBE-EXT-X
 *   KUBE-EXT-X: policy Cluster → mark for masquerade, then KUBE-SVC-X; policy Local → pods and the node itself
 *               short-circuit to KUBE-SVC-X, everything else to KUBE-SVL-X (local endpoints, source IP kept)
 *   KUBE-SVC-X / KUBE-SVL-X: affinity (recent --rcheck) first, then one rule per endpoint, rule i matching with
 *               probability 1/(n-i), the last one unconditional ─▶ KUBE-SEP-Y
 *   KUBE-SEP-Y: mark hairpin traffic (source = the endpoint) for masquerade; [recent --set]; DNAT to ip:port
 *   POSTROUTING ─▶ KUBE-POSTROUTING: masquerade packets carrying the 0x4000 mark
 *   filter: services without usable endpoints are REJECTed (or DROPped, for a Local policy without local
 *           endpoints) in KUBE-SERVICES / KUBE-EXTERNAL-SERVICES; KUBE-FORWARD accepts marked and pod traffic.
 */
import type { ProxyState } from '../state.js';
import type { EndpointSlice, Service } from '../../api/index.js';
import { buildEndpointsMap, categorizeEndpoints, serviceNameLabel, type EndpointInfo } from '../endpoints.js';
import { buildServicePorts, externallyAccessible, isIPv4, servicePortKey, type ServicePortInfo } from '../service-port.js';
import {
  endpointChainName,
  externalChainName,
  firewallChainName,
  iptablesTopLevelChains,
  KUBE_EXTERNAL_SERVICES,
  KUBE_FIREWALL,
  KUBE_FORWARD,
  KUBE_MARK_MASQ,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
  localServiceChainName,
  serviceChainName,
} from './chain-names.js';
import { probability } from './probability.js';

export interface RuleGeneratorOptions {
  /** This node's name; endpoints whose `nodeName` equals it are local. */
  nodeName: string;
  /** This node's IPv4 addresses: node ports listen on those inside `nodePortAddresses`. */
  nodeIPs?: readonly string[];
  /**
   * The pods' CIDR (upstream `--cluster-cidr`). Traffic to a cluster IP from outside it is
   * masqueraded, and pods reaching an external IP of a Local-policy service are short-circuited.
   * Without it (and without `masqueradeAll`) traffic to cluster IPs keeps its source.
   */
  clusterCIDR?: string;
  /** Masquerade all traffic to cluster IPs (upstream `--masquerade-all`). */
  masqueradeAll?: boolean;
  /** The bit of the packet mark that asks for masquerade (upstream `--iptables-masquerade-bit`, default 14 → 0x4000). */
  masqueradeBit?: number;
  /**
   * CIDRs whose node addresses accept node ports (upstream `--nodeport-addresses`). Empty: every
   * local address (`-m addrtype --dst-type LOCAL`, loopback excepted unless `localhostNodePorts`).
   */
  nodePortAddresses?: readonly string[];
  /** Accept node ports on 127.0.0.0/8 (needs route_localnet=1; the caller sets it). Default false. */
  localhostNodePorts?: boolean;
  /** Add `--random-fully` to the MASQUERADE rule. Default true. */
  randomFully?: boolean;
  /** nf_conntrack_tcp_be_liberal is set: do not drop INVALID packets in KUBE-FORWARD. Default false. */
  conntrackTCPBeLiberal?: boolean;
}


/** The nat chains and rules belonging to one service port. */
export interface ServicePortRules {
  /** `namespace/name` of the service: the unit of change for partial syncs. */
  serviceKey: string;
  /** `namespace/name:port/PROTO`. */
  key: string;
  info: ServicePortInfo;
  /** Per-service nat chains (SVC, SVL, EXT, FW, SEP) in declaration order. */
  chains: string[];
  /** Rules of those chains, as `-A CHAIN ...` lines. */
  rules: string[];
  /** Addresses (ip:port) of every endpoint this node sends traffic to. */
  endpoints: string[];
  /** Some endpoint anywhere can take traffic. */
  hasEndpoints: boolean;
}

/** A rule the proxy needs in a built-in chain, linking it to one of ours. */
export interface JumpRule {
  table: 'filter' | 'nat';
  chain: string;
  target: string;
  /** Rule arguments without `-A chain` (as iptables-save prints them). */
  args: string[];
}

export interface RuleModel {
  filter: { chains: string[]; rules: string[] };
  /** Top-level nat chains and their rules: written on every sync. */
  nat: { chains: string[]; rules: string[] };
  /** Per-service-port chains, sorted by key: written when their service changed, or on a full sync. */
  services: ServicePortRules[];
  /** The jumps from built-in chains, in the order they should end up (first = top). */
  jumps: JumpRule[];
}

/** One iptables rule as arguments; rendered by `formatRule`. */
type Args = string[];

/** Quotes an argument for iptables-restore when it holds a space, as upstream writes comments. */
const needsQuotes = /[\s"]/;

export function quoteArg(a: string): string {
  return needsQuotes.test(a) ? `"${a.replace(/"/g, '\\"')}"` : a;
}

export function formatRule(op: '-A' | '-I' | '-D' | '-C', chain: string, args: readonly string[]): string {
  // Plain concatenation: this runs for every rule of every sync.
  let out = `${op} ${chain}`;
  for (const a of args) out += ' ' + quoteArg(a);
  return out;
}

const comment = (text: string): Args => ['-m', 'comment', '--comment', text];

/** The mark value as upstream prints it, e.g. 0x4000 for bit 14. */
export function masqueradeMark(bit = 14): string {
  if (!Number.isInteger(bit) || bit < 0 || bit > 31) throw new RangeError(`masquerade bit must be 0..31, got ${bit}`);
  return `0x${(2 ** bit).toString(16)}`;
}

/** The jump rules of iptables mode; comments as upstream. */
export function iptablesJumpRules(): JumpRule[] {
  const newOnly = ['-m', 'conntrack', '--ctstate', 'NEW'];
  const j = (table: JumpRule['table'], chain: string, target: string, text: string, extra: string[] = []): JumpRule => ({
    table,
    chain,
    target,
    args: [...extra, ...comment(text), '-j', target],
  });
  return [
    j('filter', 'INPUT', KUBE_EXTERNAL_SERVICES, 'kubernetes externally-visible service portals', newOnly),
    j('filter', 'FORWARD', KUBE_EXTERNAL_SERVICES, 'kubernetes externally-visible service portals', newOnly),
    j('filter', 'INPUT', KUBE_NODEPORTS, 'kubernetes health check service ports'),
    j('filter', 'FORWARD', KUBE_SERVICES, 'kubernetes service portals', newOnly),
    j('filter', 'OUTPUT', KUBE_SERVICES, 'kubernetes service portals', newOnly),
    j('filter', 'FORWARD', KUBE_FORWARD, 'kubernetes forwarding rules'),
    j('filter', 'INPUT', KUBE_PROXY_FIREWALL, 'kubernetes load balancer firewall', newOnly),
    j('filter', 'OUTPUT', KUBE_PROXY_FIREWALL, 'kubernetes load balancer firewall', newOnly),
    j('filter', 'FORWARD', KUBE_PROXY_FIREWALL, 'kubernetes load balancer firewall', newOnly),
    j('nat', 'OUTPUT', KUBE_SERVICES, 'kubernetes service portals'),
    j('nat', 'PREROUTING', KUBE_SERVICES, 'kubernetes service portals'),
    j('nat', 'POSTROUTING', KUBE_POSTROUTING, 'kubernetes postrouting rules'),
  ];
}

function ipInCIDR(ip: string, cidr: string): boolean {
  const [base, bitsStr] = cidr.split('/');
  if (!isIPv4(ip) || !isIPv4(base)) return false;
  const bits = bitsStr === undefined ? 32 : Number(bitsStr);
  if (!(bits >= 0 && bits <= 32)) return false;
  const toNum = (s: string) => s.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((toNum(ip) & mask) >>> 0) === ((toNum(base) & mask) >>> 0);
}

/** Node addresses that accept node ports, or 'all' for every local address. */
function nodePortDestinations(opts: RuleGeneratorOptions): 'all' | string[] {
  const cidrs = opts.nodePortAddresses ?? [];
  if (cidrs.length === 0) return 'all';
  const ips: string[] = [];
  for (const ip of opts.nodeIPs ?? []) {
    if (!cidrs.some((c) => ipInCIDR(ip, c))) continue;
    if (ip.startsWith('127.') && !opts.localhostNodePorts) continue;
    if (!ips.includes(ip)) ips.push(ip);
  }
  if (cidrs.some((c) => ipInCIDR('127.0.0.1', c)) && opts.localhostNodePorts && !ips.includes('127.0.0.1')) ips.push('127.0.0.1');
  return ips;
}

/**
 * What the model of one service is computed from, remembered across syncs by the proxier: a
 * service whose object and EndpointSlice objects are the very ones of the last sync (informer
 * objects are never modified, see ProxyStateSink) gets its rules back without regenerating them.
 * Only the services of the last generation are kept.
 */
export class RuleCache {
  opts: RuleGeneratorOptions | undefined;
  entries = new Map<string, { svc: Service; slices: readonly EndpointSlice[]; ports: PortRules[] }>();
}

/** One service port's share of the model: its own chains, and its rules in the top-level chains. */
interface PortRules {
  key: string;
  nat: string[];
  filter: string[];
  service: ServicePortRules;
}

/**
 * Generates the complete rule model for a state. Deterministic: the same input always gives the
 * same text (services sorted by key, endpoints by address). With a `cache` (the same one every
 * sync, with the same `opts` object), unchanged services are not generated again.
 */
export function generateRules(state: ProxyState, opts: RuleGeneratorOptions, cache?: RuleCache): RuleModel {
  const mark = masqueradeMark(opts.masqueradeBit);
  const ports: PortRules[] = [];
  if (!cache) {
    const endpointsMap = buildEndpointsMap(state.endpointSlices, opts.nodeName);
    for (const sp of buildServicePorts(state.services)) ports.push(portRules(sp, endpointsMap.get(servicePortKey(sp)) ?? [], opts, mark));
  } else {
    if (cache.opts !== opts) {
      cache.opts = opts;
      cache.entries.clear();
    }
    const slicesByService = new Map<string, EndpointSlice[]>();
    for (const slice of state.endpointSlices) {
      const svc = slice.metadata.labels?.[serviceNameLabel];
      if (!svc) continue;
      const key = `${slice.metadata.namespace ?? 'default'}/${svc}`;
      const list = slicesByService.get(key);
      if (list) list.push(slice);
      else slicesByService.set(key, [slice]);
    }
    const entries: RuleCache['entries'] = new Map();
    for (const svc of state.services) {
      const key = `${svc.metadata.namespace ?? 'default'}/${svc.metadata.name ?? ''}`;
      const slices = slicesByService.get(key) ?? [];
      let entry = cache.entries.get(key);
      if (!entry || entry.svc !== svc || !sameItems(entry.slices, slices)) {
        const endpointsMap = buildEndpointsMap(slices, opts.nodeName);
        entry = { svc, slices, ports: buildServicePorts([svc]).map((sp) => portRules(sp, endpointsMap.get(servicePortKey(sp)) ?? [], opts, mark)) };
      }
      entries.set(key, entry);
      for (const p of entry.ports) ports.push(p);
    }
    cache.entries = entries;
  }
  ports.sort((a, b) => cmp(a.key, b.key));
  return assemble(ports, opts, mark);
}

function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The whole model: the fixed rules, each service port's, and the node port catch-all last. */
function assemble(ports: readonly PortRules[], opts: RuleGeneratorOptions, mark: string): RuleModel {
  const filterChains: string[] = [...iptablesTopLevelChains.filter];
  const filterRules: string[] = [];
  const natChains: string[] = [...iptablesTopLevelChains.nat];
  const natRules: string[] = [];
  const services: ServicePortRules[] = [];

  const F = (chain: string, args: Args) => filterRules.push(formatRule('-A', chain, args));
  const N = (chain: string, args: Args) => natRules.push(formatRule('-A', chain, args));

  // Masquerade marked packets once, clearing the mark so a packet that loops through the stack
  // again is not masqueraded twice.
  N(KUBE_POSTROUTING, ['-m', 'mark', '!', '--mark', `${mark}/${mark}`, '-j', 'RETURN']);
  N(KUBE_POSTROUTING, ['-j', 'MARK', '--xor-mark', mark]);
  N(KUBE_POSTROUTING, [...comment('kubernetes service traffic requiring SNAT'), '-j', 'MASQUERADE', ...(opts.randomFully === false ? [] : ['--random-fully'])]);
  N(KUBE_MARK_MASQ, ['-j', 'MARK', '--or-mark', mark]);

  if (opts.localhostNodePorts) {
    // route_localnet lets martian 127.0.0.0/8 packets in; this is kubelet's rule that keeps them out
    // unless they were DNATed by us (https://issues.k8s.io/90259).
    filterChains.push(KUBE_FIREWALL);
    F(KUBE_FIREWALL, [
      ...comment('block incoming localnet connections'),
      '-d', '127.0.0.0/8', '!', '-s', '127.0.0.0/8',
      '-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT',
      '-j', 'DROP',
    ]);
  }

  for (const p of ports) {
    for (const r of p.nat) natRules.push(r);
    for (const r of p.filter) filterRules.push(r);
    services.push(p.service);
  }

  // Node ports last: a cluster IP or external IP that is also a local address wins over a node port.
  const np = nodePortDestinations(opts);
  const npComment = comment('kubernetes service nodeports; NOTE: this must be the last rule in this chain');
  if (np === 'all') {
    N(KUBE_SERVICES, [...npComment, '-m', 'addrtype', '--dst-type', 'LOCAL', ...(opts.localhostNodePorts ? [] : ['!', '-d', '127.0.0.0/8']), '-j', KUBE_NODEPORTS]);
  } else {
    for (const ip of np) N(KUBE_SERVICES, [...npComment, '-d', ip, '-j', KUBE_NODEPORTS]);
  }

  if (!opts.conntrackTCPBeLiberal) {
    // Out-of-window packets (INVALID) would otherwise reach a pod un-NATed and reset the connection
    // (https://issues.k8s.io/74839).
    F(KUBE_FORWARD, ['-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP']);
  }
  F(KUBE_FORWARD, [...comment('kubernetes forwarding rules'), '-m', 'mark', '--mark', `${mark}/${mark}`, '-j', 'ACCEPT']);
  if (opts.clusterCIDR) {
    F(KUBE_FORWARD, [...comment('kubernetes forwarding conntrack pod source rule'), '-s', opts.clusterCIDR, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT']);
    F(KUBE_FORWARD, [...comment('kubernetes forwarding conntrack pod destination rule'), '-d', opts.clusterCIDR, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT']);
  }
  F(KUBE_FORWARD, [...comment('kubernetes forwarding conntrack rule'), '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT']);

  return {
    filter: { chains: filterChains, rules: filterRules },
    nat: { chains: natChains, rules: natRules },
    services,
    jumps: [
      ...iptablesJumpRules(),
      // kubelet normally owns these; with localhost node ports we cannot rely on it being there.
      ...(opts.localhostNodePorts
        ? (['INPUT', 'OUTPUT'] as const).map((chain): JumpRule => ({ table: 'filter', chain, target: KUBE_FIREWALL, args: ['-j', KUBE_FIREWALL] }))
        : []),
    ],
  };
}

/** The rules of one service port: its chains, and what it adds to the top-level chains. */
function portRules(sp: ServicePortInfo, endpoints: readonly EndpointInfo[], opts: RuleGeneratorOptions, mark: string): PortRules {
  const natRules: string[] = [];
  const filterRules: string[] = [];
  const F = (chain: string, args: Args) => filterRules.push(formatRule('-A', chain, args));
  const N = (chain: string, args: Args) => natRules.push(formatRule('-A', chain, args));
  const key = servicePortKey(sp);
  const protocol = sp.protocol.toLowerCase();
  const name = sp.name;
  const proto: Args = ['-m', protocol, '-p', protocol];
  const svcChain = serviceChainName(name, sp.protocol);
  const svlChain = localServiceChainName(name, sp.protocol);
  const extChain = externalChainName(name, sp.protocol);
  const fwChain = firewallChainName(name, sp.protocol);

  const { cluster, local, allReachable, hasAnyEndpoints } = categorizeEndpoints(endpoints, sp);
  const usesClusterChain = cluster.length > 0;
  const usesLocalChain = local.length > 0;

  const internalChain = sp.internalPolicyLocal ? svlChain : svcChain;
  const hasInternal = sp.internalPolicyLocal ? local.length > 0 : hasAnyEndpoints;
  const externalPolicyChain = sp.externalPolicyLocal ? svlChain : svcChain;
  const hasExternal = sp.externalPolicyLocal ? local.length > 0 : hasAnyEndpoints;
  const usesExtChain = hasAnyEndpoints && externallyAccessible(sp);
  const usesFwChain = hasAnyEndpoints && sp.loadBalancerIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
  const lbChain = usesFwChain ? fwChain : extChain;

  let internalFilterTarget = '';
  let internalFilterComment = '';
  let externalFilterTarget = '';
  let externalFilterComment = '';
  if (!hasAnyEndpoints) {
    internalFilterTarget = externalFilterTarget = 'REJECT';
    internalFilterComment = externalFilterComment = `${name} has no endpoints`;
  } else {
    if (!hasInternal) {
      internalFilterTarget = 'DROP';
      internalFilterComment = `${name} has no local endpoints`;
    }
    if (!hasExternal) {
      externalFilterTarget = 'DROP';
      externalFilterComment = `${name} has no local endpoints`;
    }
  }

  // --- Top-level chains: KUBE-SERVICES, KUBE-NODEPORTS (nat) and the filter table.
  const clusterIPMatch: Args = [...proto, '-d', sp.clusterIP, '--dport', String(sp.port)];
  if (hasInternal) N(KUBE_SERVICES, [...comment(`${name} cluster IP`), ...clusterIPMatch, '-j', internalChain]);
  else F(KUBE_SERVICES, [...comment(internalFilterComment), ...clusterIPMatch, '-j', internalFilterTarget]);

  for (const ip of sp.externalIPs) {
    const match: Args = [...proto, '-d', ip, '--dport', String(sp.port)];
    if (hasAnyEndpoints) N(KUBE_SERVICES, [...comment(`${name} external IP`), ...match, '-j', extChain]);
    if (!hasExternal) F(KUBE_EXTERNAL_SERVICES, [...comment(externalFilterComment), ...match, '-j', externalFilterTarget]);
  }
  for (const ip of sp.loadBalancerIPs) {
    const match: Args = [...proto, '-d', ip, '--dport', String(sp.port)];
    if (hasAnyEndpoints) N(KUBE_SERVICES, [...comment(`${name} loadbalancer IP`), ...match, '-j', lbChain]);
    if (usesFwChain) F(KUBE_PROXY_FIREWALL, [...comment(`${name} traffic not accepted by ${fwChain}`), ...match, '-j', 'DROP']);
  }
  if (!hasExternal) {
    for (const ip of sp.loadBalancerIPs) {
      F(KUBE_EXTERNAL_SERVICES, [...comment(externalFilterComment), ...proto, '-d', ip, '--dport', String(sp.port), '-j', externalFilterTarget]);
    }
  }
  if (sp.nodePort !== 0) {
    if (hasAnyEndpoints) N(KUBE_NODEPORTS, [...comment(name), ...proto, '--dport', String(sp.nodePort), '-j', extChain]);
    if (!hasExternal) {
      F(KUBE_EXTERNAL_SERVICES, [
        ...comment(externalFilterComment),
        '-m', 'addrtype', '--dst-type', 'LOCAL',
        ...proto, '--dport', String(sp.nodePort),
        '-j', externalFilterTarget,
      ]);
    }
  }
  if (sp.healthCheckNodePort !== 0) {
    F(KUBE_NODEPORTS, [...comment(`${name} health check node port`), '-m', 'tcp', '-p', 'tcp', '--dport', String(sp.healthCheckNodePort), '-j', 'ACCEPT']);
  }

  // --- Per-service chains.
  const chains: string[] = [];
  const rules: string[] = [];
  const S = (chain: string, args: Args) => rules.push(formatRule('-A', chain, args));

  if (hasInternal) {
    if (opts.masqueradeAll) S(internalChain, [...comment(`${name} cluster IP`), ...clusterIPMatch, '-j', KUBE_MARK_MASQ]);
    else if (opts.clusterCIDR) {
      // Off-cluster traffic to a cluster IP (a node routing the service range for outside
      // clients) may leave through another node; masquerade it so replies come back here.
      S(internalChain, [...comment(`${name} cluster IP`), ...clusterIPMatch, '!', '-s', opts.clusterCIDR, '-j', KUBE_MARK_MASQ]);
    }
  }

  if (usesExtChain) {
    chains.push(extChain);
    if (!sp.externalPolicyLocal) {
      // The endpoint may be on another node: masquerade so that the reply comes back through us.
      S(extChain, [...comment(`masquerade traffic for ${name} external destinations`), '-j', KUBE_MARK_MASQ]);
    } else {
      if (opts.clusterCIDR) {
        // Pods reaching an external address behave as if they went out to the load balancer and
        // came back: neither traffic policy applies.
        S(extChain, [...comment(`pod traffic for ${name} external destinations`), '-s', opts.clusterCIDR, '-j', svcChain]);
      }
      // The node itself picks the external address as source: masquerade, and use any endpoint.
      S(extChain, [...comment(`masquerade LOCAL traffic for ${name} external destinations`), '-m', 'addrtype', '--src-type', 'LOCAL', '-j', KUBE_MARK_MASQ]);
      S(extChain, [...comment(`route LOCAL traffic for ${name} external destinations`), '-m', 'addrtype', '--src-type', 'LOCAL', '-j', svcChain]);
    }
    if (hasExternal) S(extChain, ['-j', externalPolicyChain]);
  }

  if (usesFwChain) {
    chains.push(fwChain);
    const fwComment = comment(`${name} loadbalancer IP`);
    let allowFromNode = false;
    for (const cidr of sp.loadBalancerSourceRanges) {
      S(fwChain, [...fwComment, '-s', cidr, '-j', extChain]);
      if ((opts.nodeIPs ?? []).some((ip) => ipInCIDR(ip, cidr))) allowFromNode = true;
    }
    // A VIP that is also a local address: requests from the node loop back with the VIP as source.
    if (allowFromNode) for (const ip of sp.loadBalancerIPs) S(fwChain, [...fwComment, '-s', ip, '-j', extChain]);
    S(fwChain, comment(`other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL`));
  }

  const writeBalancing = (chain: string, eps: readonly EndpointInfo[]) => {
    chains.push(chain);
    if (sp.stickySeconds > 0) {
      for (const ep of eps) {
        const sep = endpointChainName(name, sp.protocol, ep.address);
        S(chain, [...comment(`${name} -> ${ep.address}`), '-m', 'recent', '--name', sep, '--rcheck', '--seconds', String(sp.stickySeconds), '--reap', '-j', sep]);
      }
    }
    eps.forEach((ep, i) => {
      const sep = endpointChainName(name, sp.protocol, ep.address);
      const random: Args = i < eps.length - 1 ? ['-m', 'statistic', '--mode', 'random', '--probability', probability(eps.length - i)] : [];
      S(chain, [...comment(`${name} -> ${ep.address}`), ...random, '-j', sep]);
    });
  };
  if (usesClusterChain) writeBalancing(svcChain, cluster);
  if (usesLocalChain) writeBalancing(svlChain, local);

  for (const ep of allReachable) {
    const sep = endpointChainName(name, sp.protocol, ep.address);
    chains.push(sep);
    // Hairpin: a pod reaching itself through the service must see the reply come from the
    // service, so its own packets are masqueraded.
    S(sep, [...comment(name), '-s', ep.ip, '-j', KUBE_MARK_MASQ]);
    const affinity: Args = sp.stickySeconds > 0 ? ['-m', 'recent', '--name', sep, '--set'] : [];
    S(sep, [...comment(name), ...affinity, ...proto, '-j', 'DNAT', '--to-destination', ep.address]);
  }

  const service: ServicePortRules = {
    serviceKey: sp.serviceKey,
    key,
    info: sp,
    chains,
    rules,
    endpoints: allReachable.map((e) => e.address),
    hasEndpoints: hasAnyEndpoints,
  };
  return { key, nat: natRules, filter: filterRules, service };
}

/** Every nat chain of a model (top-level and per-service). */
export function natChainsOf(model: RuleModel): Set<string> {
  const out = new Set(model.nat.chains);
  for (const s of model.services) for (const c of s.chains) out.add(c);
  return out;
}

/**
 * The services (`namespace/name`) whose per-service chains differ between two models: the set a
 * partial sync must rewrite. A service present in only one of the models counts as changed.
 */
export function changedServices(prev: RuleModel | undefined, next: RuleModel): Set<string> {
  // Ports of a service the RuleCache did not regenerate are the very same objects: no text needed.
  const ports = (m: RuleModel | undefined) => {
    const out = new Map<string, ServicePortRules[]>();
    for (const s of m?.services ?? []) {
      const list = out.get(s.serviceKey);
      if (list) list.push(s);
      else out.set(s.serviceKey, [s]);
    }
    return out;
  };
  const text = (list: readonly ServicePortRules[]) => list.map((s) => s.chains.join('\n') + '\n' + s.rules.join('\n') + '\n').join('');
  const a = ports(prev);
  const b = ports(next);
  const changed = new Set<string>();
  for (const [k, v] of b) {
    const old = a.get(k);
    if (old && old.length === v.length && old.every((s, i) => s === v[i])) continue;
    if (!old || text(old) !== text(v)) changed.add(k);
  }
  for (const k of a.keys()) if (!b.has(k)) changed.add(k);
  return changed;
}
