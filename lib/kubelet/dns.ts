/**
 * A pod's name resolution: the /etc/resolv.conf and /etc/hosts the kubelet writes for it and
 * mounts into each of its containers (upstream's pkg/kubelet/network/dns and the managed hosts
 * file). Pure functions over the pod, so that every policy is unit-tested.
 *
 *   dnsPolicy                 hostNetwork false                  hostNetwork true
 *   ClusterFirst (default)    cluster DNS, search <ns>.svc...    the node's resolver (Default)
 *   ClusterFirstWithHostNet   cluster DNS                        cluster DNS
 *   Default                   the node's resolv.conf             the node's resolv.conf
 *   None                      only spec.dnsConfig                only spec.dnsConfig
 *
 * spec.dnsConfig is merged on top of what the policy gives (nameservers and searches appended
 * without duplicates, options overriding by name).
 */
import type { Pod } from '../api/index.js';

/** Upstream's limits on what a resolver reads (glibc reads 3 nameservers; search lists are capped). */
export const maxDNSNameservers = 3;
export const maxDNSSearchPaths = 32;
export const maxDNSSearchListChars = 2048;
/** Kubernetes host names are DNS labels. */
const maxHostnameLength = 63;

export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  /** `ndots:5`, `timeout:2`, `edns0`, ... */
  options: string[];
}

/** Reads a resolv.conf text (nameserver, search/domain, options lines; comments skipped). */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [key, ...fields] = line.split(/\s+/);
    if (key === 'nameserver' && fields[0]) out.nameservers.push(fields[0]);
    // The last search or domain line wins, as in the resolver.
    else if (key === 'search') out.searches = fields;
    else if (key === 'domain' && fields[0]) out.searches = [fields[0]];
    else if (key === 'options') out.options.push(...fields);
  }
  return out;
}

export function formatResolvConf(rc: ResolvConf): string {
  const lines: string[] = [];
  if (rc.searches.length) lines.push(`search ${rc.searches.join(' ')}`);
  for (const ns of rc.nameservers) lines.push(`nameserver ${ns}`);
  if (rc.options.length) lines.push(`options ${rc.options.join(' ')}`);
  return lines.join('\n') + '\n';
}

export interface DNSSettings {
  /** --cluster-dns: the cluster resolver's addresses (kube-dns Service IP). */
  clusterDNS: string[];
  /** --cluster-domain, e.g. cluster.local. */
  clusterDomain: string;
  /** The node's own resolver configuration (from /etc/resolv.conf). */
  hostResolvConf: ResolvConf;
}

export interface PodDNS {
  /** What to write as the pod's resolv.conf; undefined: leave the runtime's default (the node's). */
  resolvConf?: ResolvConf;
  /** Set when ClusterFirst had to fall back to the node's resolver because --cluster-dns is empty. */
  missingClusterDNS?: boolean;
}

type Policy = 'ClusterFirst' | 'ClusterFirstWithHostNet' | 'Default' | 'None';

/** The policy that applies, after upstream's host-network rule (ClusterFirst means Default there). */
export function effectiveDNSPolicy(pod: Pod): Policy {
  const policy = (pod.spec?.dnsPolicy ?? 'ClusterFirst') as Policy;
  if (pod.spec?.hostNetwork && policy === 'ClusterFirst') return 'Default';
  if (!pod.spec?.hostNetwork && policy === 'ClusterFirstWithHostNet') return 'ClusterFirst';
  return policy;
}

function uniq(xs: string[]): string[] {
  return [...new Set(xs)];
}

/** Keeps the search list within the resolver's limits (upstream trims the same way). */
function trimSearches(searches: string[]): string[] {
  const out: string[] = [];
  let chars = 0;
  for (const s of searches) {
    if (out.length >= maxDNSSearchPaths || chars + s.length + (out.length ? 1 : 0) > maxDNSSearchListChars) break;
    chars += s.length + (out.length ? 1 : 0);
    out.push(s);
  }
  return out;
}

/** Options merged by name: later ones (the pod's dnsConfig) override earlier ones. */
function mergeOptions(base: string[], extra: Array<{ name?: string; value?: string }>): string[] {
  const byName = new Map<string, string>();
  for (const o of base) byName.set(o.split(':')[0]!, o);
  for (const o of extra) if (o.name) byName.set(o.name, o.value !== undefined && o.value !== '' ? `${o.name}:${o.value}` : o.name);
  return [...byName.values()];
}

/** The resolv.conf a pod gets. */
export function podDNS(pod: Pod, s: DNSSettings): PodDNS {
  const policy = effectiveDNSPolicy(pod);
  const ns = pod.metadata.namespace ?? 'default';
  let rc: ResolvConf | undefined;
  let missingClusterDNS = false;
  switch (policy) {
    case 'ClusterFirst':
    case 'ClusterFirstWithHostNet':
      if (s.clusterDNS.length === 0) {
        // Upstream falls back to the node's resolver and warns (MissingClusterDNS).
        missingClusterDNS = true;
        rc = pod.spec?.hostNetwork ? undefined : { ...s.hostResolvConf, searches: [...s.hostResolvConf.searches], options: [...s.hostResolvConf.options] };
      } else {
        const d = s.clusterDomain;
        rc = {
          nameservers: [...s.clusterDNS],
          searches: uniq([`${ns}.svc.${d}`, `svc.${d}`, d, ...s.hostResolvConf.searches]),
          options: ['ndots:5'],
        };
      }
      break;
    case 'Default':
      // A host-network pod sees the node's resolv.conf anyway; others get a copy of it.
      rc = pod.spec?.hostNetwork && !pod.spec.dnsConfig ? undefined : { nameservers: [...s.hostResolvConf.nameservers], searches: [...s.hostResolvConf.searches], options: [...s.hostResolvConf.options] };
      break;
    case 'None':
      rc = { nameservers: [], searches: [], options: [] };
      break;
  }
  const extra = pod.spec?.dnsConfig;
  if (extra) {
    rc ??= { nameservers: [...s.hostResolvConf.nameservers], searches: [...s.hostResolvConf.searches], options: [...s.hostResolvConf.options] };
    rc.nameservers = uniq([...rc.nameservers, ...(extra.nameservers ?? [])]);
    rc.searches = uniq([...rc.searches, ...(extra.searches ?? [])]);
    rc.options = mergeOptions(rc.options, extra.options ?? []);
  }
  if (rc) {
    rc.nameservers = rc.nameservers.slice(0, maxDNSNameservers);
    rc.searches = trimSearches(rc.searches);
  }
  return { ...(rc ? { resolvConf: rc } : {}), ...(missingClusterDNS ? { missingClusterDNS } : {}) };
}

function truncateHostname(h: string): string {
  if (h.length <= maxHostnameLength) return h;
  // Upstream cuts at 63 and then drops trailing '-' and '.', which a DNS label may not end with.
  return h.slice(0, maxHostnameLength).replace(/[-.]+$/, '');
}

/** The pod's host name and, with a subdomain, its domain (<subdomain>.<ns>.svc.<cluster domain>). */
export function podHostnameAndDomain(pod: Pod, clusterDomain: string): { hostname: string; domain?: string } {
  const hostname = truncateHostname(pod.spec?.hostname || pod.metadata.name || '');
  const sub = pod.spec?.subdomain;
  return sub ? { hostname, domain: `${sub}.${pod.metadata.namespace ?? 'default'}.svc.${clusterDomain}` } : { hostname };
}

/** The name the kernel's hostname is set to: the short name, or the FQDN with setHostnameAsFQDN. */
export function podKernelHostname(pod: Pod, clusterDomain: string): string {
  const { hostname, domain } = podHostnameAndDomain(pod, clusterDomain);
  if (pod.spec?.setHostnameAsFQDN && domain) return `${hostname}.${domain}`.slice(0, 64);
  return hostname;
}

/** The managed /etc/hosts of a pod with its own address (not for host-network pods). */
export function hostsFileContent(pod: Pod, podIPs: string[], clusterDomain: string): string {
  const { hostname, domain } = podHostnameAndDomain(pod, clusterDomain);
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ];
  for (const ip of podIPs) lines.push(domain ? `${ip}\t${hostname}.${domain}\t${hostname}` : `${ip}\t${hostname}`);
  let text = lines.join('\n') + '\n';
  const aliases = pod.spec?.hostAliases ?? [];
  if (aliases.length) {
    text += '\n# Entries added by HostAliases.\n';
    for (const a of aliases) text += `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`;
  }
  return text;
}
