/**
 * The records of the cluster zone, computed from Services and EndpointSlices, as the Kubernetes
 * DNS-based service discovery specification (kubernetes/dns docs/specification.md, schema 1.0.1)
 * lays them out:
 *
 *   <svc>.<ns>.svc.<zone>                 A/AAAA  cluster IP; headless: every ready endpoint
 *                                         CNAME   ExternalName services
 *   _<port>._<proto>.<svc>.<ns>.svc.<zone> SRV    named ports (headless: one per ready endpoint)
 *   <hostname>.<svc>.<ns>.svc.<zone>      A/AAAA  headless endpoints (StatefulSet pods)
 *   <a>-<b>-<c>-<d>.<ns>.pod.<zone>       A       pod records (deprecated, still required)
 *   <d>.<c>.<b>.<a>.in-addr.arpa          PTR     cluster IPs and headless endpoints
 *   dns-version.<zone>                    TXT     the schema version
 * Missing names in the zone are NXDOMAIN with the zone's SOA as authority; existing names without
 * records of the asked type are NOERROR with no answer (and the SOA). Names are compared
 * case-insensitively. Lookups are pure: `lookup` touches no network.
 */
import type { Answer, RecordType, SoaAnswer } from 'dns-packet';
import type { EndpointSlice, Service } from '../api/index.js';

export const schemaVersion = '1.0.1';
const serviceNameLabel = 'kubernetes.io/service-name';
const tolerateUnreadyAnnotation = 'service.alpha.kubernetes.io/tolerate-unready-endpoints';

export interface ClusterDnsOptions {
  /** The cluster domain (kubelet `--cluster-domain`). Default cluster.local. */
  clusterDomain?: string;
  /** TTL of the records, seconds. Default 30. */
  ttl?: number;
  /**
   * `<ip>.<ns>.pod.<zone>` records: `insecure` answers any well-formed IP (kube-dns behaviour),
   * `verified` only IPs of endpoints in that namespace, `disabled` none. Default insecure.
   */
  podRecords?: 'insecure' | 'verified' | 'disabled';
}

export interface DnsState {
  services: readonly Service[];
  endpointSlices: readonly EndpointSlice[];
}

export interface LookupResult {
  /** `forward`: the name is not ours; ask the upstream resolvers. */
  kind: 'answer' | 'nxdomain' | 'forward';
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
  /**
   * An ExternalName target outside the cluster zone whose records of the asked type the server
   * should append (resolved upstream), as a recursive resolver would.
   */
  chase?: string;
}

interface EndpointRecord {
  ip: string;
  hostname: string;
}

interface ServiceRecord {
  name: string;
  namespace: string;
  /** `<svc>.<ns>.svc.<zone>` */
  fqdn: string;
  kind: 'clusterIP' | 'headless' | 'externalName';
  clusterIPs: string[];
  externalName?: string;
  ports: { name: string; protocol: string; port: number }[];
  endpoints: EndpointRecord[];
  /** Endpoint ports by name (headless SRV records carry the endpoint's port). */
  endpointPorts: Map<string, { protocol: string; port: number }>;
}

function isIPv4(s: string): boolean {
  const p = s.split('.');
  return p.length === 4 && p.every((x) => /^\d{1,3}$/.test(x) && Number(x) <= 255);
}

function isIPv6(s: string): boolean {
  return s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s);
}

/** Full form of an IPv6 address: 8 groups of 4 hex digits. */
function expandIPv6(ip: string): string | undefined {
  if (!isIPv6(ip)) return undefined;
  let s = ip.toLowerCase();
  if (s.includes('.')) {
    const i = s.lastIndexOf(':');
    const v4 = s.slice(i + 1);
    if (!isIPv4(v4)) return undefined;
    const o = v4.split('.').map(Number);
    s = `${s.slice(0, i)}:${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  const fill = s.includes('::') ? 8 - h.length - t.length : 0;
  const groups = [...h, ...Array(fill).fill('0'), ...t];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

/** The reverse-lookup name of an IP, without the trailing dot. */
export function reverseName(ip: string): string | undefined {
  if (isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const full = expandIPv6(ip);
  return full ? `${full.replace(/:/g, '').split('').reverse().join('.')}.ip6.arpa` : undefined;
}

/** A name for an endpoint without a hostname: its IP with dashes (as CoreDNS does). */
export function dashedIP(ip: string): string {
  return ip.replace(/[.:]/g, '-');
}

export class ClusterDnsRecords {
  readonly zone: string;
  readonly ttl: number;
  private readonly podRecords: 'insecure' | 'verified' | 'disabled';
  private services = new Map<string, ServiceRecord>();
  private namespaces = new Set<string>();
  private reverse = new Map<string, string[]>();
  private podIPsByNamespace = new Map<string, Set<string>>();
  /** SOA serial: seconds at the last update, so that it grows with every change. */
  private serial = Math.floor(Date.now() / 1000);

  constructor(opts: ClusterDnsOptions = {}) {
    this.zone = (opts.clusterDomain ?? 'cluster.local').toLowerCase().replace(/\.$/, '');
    this.ttl = opts.ttl ?? 30;
    this.podRecords = opts.podRecords ?? 'insecure';
  }

  /** Replaces the state the records are computed from. */
  update(state: DnsState): void {
    const services = new Map<string, ServiceRecord>();
    const namespaces = new Set<string>();
    const reverse = new Map<string, string[]>();
    const podIPs = new Map<string, Set<string>>();
    const addReverse = (ip: string, name: string) => {
      const r = reverseName(ip);
      if (!r) return;
      const list = reverse.get(r) ?? [];
      if (!list.includes(name)) list.push(name);
      reverse.set(r, list);
    };

    const slicesByService = new Map<string, EndpointSlice[]>();
    for (const s of state.endpointSlices) {
      const svc = s.metadata.labels?.[serviceNameLabel];
      if (!svc || s.addressType === 'FQDN') continue;
      const key = `${svc}.${s.metadata.namespace ?? 'default'}`.toLowerCase();
      slicesByService.set(key, [...(slicesByService.get(key) ?? []), s]);
      const ns = (s.metadata.namespace ?? 'default').toLowerCase();
      const set = podIPs.get(ns) ?? new Set();
      for (const ep of s.endpoints ?? []) for (const a of ep.addresses ?? []) set.add(a);
      podIPs.set(ns, set);
    }

    for (const svc of state.services) {
      const name = (svc.metadata.name ?? '').toLowerCase();
      const namespace = (svc.metadata.namespace ?? 'default').toLowerCase();
      if (!name) continue;
      const spec = svc.spec ?? {};
      const key = `${name}.${namespace}`;
      const fqdn = `${name}.${namespace}.svc.${this.zone}`;
      namespaces.add(namespace);
      const kind: ServiceRecord['kind'] = spec.type === 'ExternalName' ? 'externalName' : !spec.clusterIP || spec.clusterIP === 'None' ? 'headless' : 'clusterIP';
      const clusterIPs = kind === 'clusterIP' ? (spec.clusterIPs?.length ? spec.clusterIPs : [spec.clusterIP!]) : [];
      const publishNotReady = spec.publishNotReadyAddresses === true || svc.metadata.annotations?.[tolerateUnreadyAnnotation] === 'true';
      const endpoints: EndpointRecord[] = [];
      const endpointPorts = new Map<string, { protocol: string; port: number }>();
      if (kind === 'headless') {
        const seen = new Set<string>();
        for (const slice of slicesByService.get(key) ?? []) {
          for (const p of slice.ports ?? []) if (p.port) endpointPorts.set((p.name ?? '').toLowerCase(), { protocol: p.protocol ?? 'TCP', port: p.port });
          for (const ep of slice.endpoints ?? []) {
            if (!(publishNotReady || ep.conditions?.ready !== false)) continue;
            for (const ip of (ep.addresses ?? []).slice(0, 1)) {
              if (seen.has(ip)) continue;
              seen.add(ip);
              endpoints.push({ ip, hostname: (ep.hostname ?? dashedIP(ip)).toLowerCase() });
            }
          }
        }
      }
      const rec: ServiceRecord = {
        name,
        namespace,
        fqdn,
        kind,
        clusterIPs,
        ...(kind === 'externalName' && spec.externalName ? { externalName: spec.externalName.toLowerCase().replace(/\.$/, '') } : {}),
        ports: (spec.ports ?? []).map((p) => ({ name: (p.name ?? '').toLowerCase(), protocol: p.protocol ?? 'TCP', port: p.port })),
        endpoints,
        endpointPorts,
      };
      services.set(key, rec);
      for (const ip of clusterIPs) addReverse(ip, fqdn);
      for (const ep of endpoints) addReverse(ep.ip, `${ep.hostname}.${fqdn}`);
    }
    this.services = services;
    this.namespaces = namespaces;
    this.reverse = reverse;
    this.podIPsByNamespace = podIPs;
    this.serial = Math.max(this.serial + 1, Math.floor(Date.now() / 1000));
  }

  /** The zone's SOA record (authority of negative answers). */
  soa(): SoaAnswer {
    return {
      name: this.zone,
      type: 'SOA',
      ttl: this.ttl,
      class: 'IN',
      data: {
        mname: `ns.dns.${this.zone}`,
        rname: `hostmaster.${this.zone}`,
        serial: this.serial,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: this.ttl,
      },
    };
  }

  /** Answers a question. `qname` keeps the case it was asked with in the answers. */
  lookup(qname: string, qtype: RecordType | 'ANY'): LookupResult {
    const asked = qname.replace(/\.$/, '');
    const name = asked.toLowerCase();
    const ttl = this.ttl;
    const answer = (answers: Answer[], additionals: Answer[] = []): LookupResult => ({
      kind: 'answer',
      answers,
      authorities: answers.length ? [] : [this.soa()],
      additionals,
    });
    const nx = (): LookupResult => ({ kind: 'nxdomain', answers: [], authorities: [this.soa()], additionals: [] });
    const addr = (owner: string, ips: string[]): Answer[] => {
      const out: Answer[] = [];
      for (const ip of ips) {
        if ((qtype === 'A' || qtype === 'ANY') && isIPv4(ip)) out.push({ name: owner, type: 'A', ttl, class: 'IN', data: ip });
        if ((qtype === 'AAAA' || qtype === 'ANY') && isIPv6(ip)) out.push({ name: owner, type: 'AAAA', ttl, class: 'IN', data: ip });
      }
      return out;
    };

    if (name.endsWith('.in-addr.arpa') || name.endsWith('.ip6.arpa')) {
      const names = this.reverse.get(name);
      if (!names) return { kind: 'forward', answers: [], authorities: [], additionals: [] };
      if (qtype !== 'PTR' && qtype !== 'ANY') return answer([]);
      return answer(names.map((n) => ({ name: asked, type: 'PTR', ttl, class: 'IN', data: n })));
    }

    if (name !== this.zone && !name.endsWith(`.${this.zone}`)) return { kind: 'forward', answers: [], authorities: [], additionals: [] };
    const rel = name === this.zone ? [] : name.slice(0, -this.zone.length - 1).split('.');

    if (rel.length === 0) {
      if (qtype === 'SOA' || qtype === 'ANY') return answer([{ ...this.soa(), name: asked }]);
      if (qtype === 'NS') return answer([{ name: asked, type: 'NS', ttl, class: 'IN', data: `ns.dns.${this.zone}` }]);
      return answer([]);
    }
    if (rel.length === 1 && rel[0] === 'dns-version') {
      return answer(qtype === 'TXT' || qtype === 'ANY' ? [{ name: asked, type: 'TXT', ttl, class: 'IN', data: schemaVersion }] : []);
    }

    const last = rel[rel.length - 1];
    if (last === 'pod') return this.lookupPod(rel, asked, qtype, answer, nx, addr);
    if (last !== 'svc') return nx();

    // ... .svc.<zone>
    if (rel.length === 1) return answer([]); // svc.<zone> exists as a branch
    const ns = rel[rel.length - 2]!;
    if (rel.length === 2) return this.namespaces.has(ns) ? answer([]) : nx();
    const svc = this.services.get(`${rel[rel.length - 3]}.${ns}`);
    if (!svc) return nx();

    if (rel.length === 3) {
      if (svc.kind === 'externalName') {
        if (!svc.externalName) return nx();
        const cname: Answer = { name: asked, type: 'CNAME', ttl, class: 'IN', data: svc.externalName };
        if (qtype === 'CNAME') return answer([cname]);
        const target = svc.externalName;
        if (target === this.zone || target.endsWith(`.${this.zone}`)) {
          const inner = this.lookup(target, qtype);
          return { ...inner, kind: 'answer', answers: [cname, ...inner.answers], authorities: inner.answers.length ? [] : inner.authorities };
        }
        return { kind: 'answer', answers: [cname], authorities: [], additionals: [], chase: target };
      }
      if (qtype === 'SRV') return answer(...this.srvRecords(svc, asked, undefined, undefined));
      if (svc.kind === 'clusterIP') return answer(addr(asked, svc.clusterIPs));
      // Headless: the ready endpoints; none ready is NXDOMAIN (spec 1.0.1).
      if (svc.endpoints.length === 0) return nx();
      return answer(addr(asked, svc.endpoints.map((e) => e.ip)));
    }

    if (rel.length === 4) {
      // <hostname>.<svc>.<ns>.svc: an endpoint of a headless service.
      const host = rel[0]!;
      const eps = svc.kind === 'headless' ? svc.endpoints.filter((e) => e.hostname === host) : [];
      if (eps.length === 0) {
        // _<proto>.<svc>.<ns>.svc exists as a branch when some port uses that protocol.
        if (host.startsWith('_') && svc.ports.some((p) => `_${p.protocol.toLowerCase()}` === host && p.name)) return answer([]);
        return nx();
      }
      return answer(addr(asked, eps.map((e) => e.ip)));
    }

    if (rel.length === 5 && rel[0]!.startsWith('_') && rel[1]!.startsWith('_')) {
      const [records, extra] = this.srvRecords(svc, asked, rel[0]!.slice(1), rel[1]!.slice(1));
      if (records.length === 0) return nx();
      return answer(qtype === 'SRV' || qtype === 'ANY' ? records : [], qtype === 'SRV' || qtype === 'ANY' ? extra : []);
    }
    return nx();
  }

  /** SRV records of a service's named ports (filtered by port name and protocol), with the A/AAAA of the targets. */
  private srvRecords(svc: ServiceRecord, owner: string, portName: string | undefined, proto: string | undefined): [Answer[], Answer[]] {
    const ttl = this.ttl;
    const answers: Answer[] = [];
    const extra: Answer[] = [];
    const extraSeen = new Set<string>();
    const addExtra = (name: string, ip: string) => {
      if (extraSeen.has(`${name} ${ip}`)) return;
      extraSeen.add(`${name} ${ip}`);
      extra.push(isIPv4(ip) ? { name, type: 'A', ttl, class: 'IN', data: ip } : { name, type: 'AAAA', ttl, class: 'IN', data: ip });
    };
    const ports = svc.ports.filter((p) => p.name && (portName === undefined || p.name === portName) && (proto === undefined || p.protocol.toLowerCase() === proto));
    for (const p of ports) {
      if (svc.kind === 'clusterIP') {
        answers.push({ name: owner, type: 'SRV', ttl, class: 'IN', data: { priority: 0, weight: 100, port: p.port, target: svc.fqdn } });
        for (const ip of svc.clusterIPs) addExtra(svc.fqdn, ip);
      } else if (svc.kind === 'headless') {
        // The port number of the endpoints, which is what a client connects to.
        const port = svc.endpointPorts.get(p.name)?.port ?? p.port;
        const weight = Math.max(1, Math.floor(100 / Math.max(1, svc.endpoints.length)));
        for (const ep of svc.endpoints) {
          const target = `${ep.hostname}.${svc.fqdn}`;
          answers.push({ name: owner, type: 'SRV', ttl, class: 'IN', data: { priority: 0, weight, port, target } });
          addExtra(target, ep.ip);
        }
      }
    }
    return [answers, extra];
  }

  private lookupPod(
    rel: string[],
    asked: string,
    qtype: RecordType | 'ANY',
    answer: (a: Answer[]) => LookupResult,
    nx: () => LookupResult,
    addr: (owner: string, ips: string[]) => Answer[],
  ): LookupResult {
    if (this.podRecords === 'disabled') return nx();
    if (rel.length === 1) return answer([]); // pod.<zone>
    if (rel.length === 2) return answer([]); // <ns>.pod.<zone>: any namespace may hold pods
    if (rel.length !== 3) return nx();
    const [dashed, ns] = rel as [string, string];
    const v4 = dashed.replace(/-/g, '.');
    let ip: string | undefined;
    if (isIPv4(v4)) ip = v4;
    else if (dashed.includes('--') || dashed.split('-').length > 4) {
      const v6 = dashed.replace(/-/g, ':');
      if (expandIPv6(v6)) ip = v6;
    }
    if (!ip) return nx();
    if (this.podRecords === 'verified' && !this.podIPsByNamespace.get(ns)?.has(ip)) return nx();
    return answer(addr(asked, [ip]));
  }
}
