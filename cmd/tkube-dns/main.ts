#!/usr/bin/env node
/** tkube-dns: the cluster DNS add-on (runs as pods behind the kube-dns Service). */
import { createLogger, flag, levelForVerbosity, parseProgramFlags, runUntilSignalled } from '../../lib/base/index.js';
import { RESTClient, loadClientConfig } from '../../lib/client/index.js';
import { DnsAddon } from '../../lib/dns/index.js';

const specs = {
  kubeconfig: flag('string', '', 'Path to a kubeconfig (default: the in-cluster ServiceAccount).'),
  master: flag('string', '', 'The API server address (overrides the kubeconfig).'),
  'cluster-domain': flag('string', 'cluster.local', 'The cluster’s DNS domain.'),
  'dns-bind-address': flag('string', '0.0.0.0', 'Address DNS listens on (UDP and TCP).'),
  'dns-port': flag('int', 53, 'Port DNS listens on.'),
  'upstream-resolv-conf': flag('string', '/etc/resolv.conf', 'resolv.conf listing the resolvers for names outside the cluster.'),
  ttl: flag('int', 30, 'TTL of cluster records, in seconds.'),
  'status-bind-address': flag('string', '0.0.0.0:8080', 'host:port of /healthz, /ready and /metrics.'),
  v: flag('int', 0, 'Log verbosity: 4 logs debug, 6 trace.'),
};

const { flags } = parseProgramFlags('tkube-dns', 'answers DNS for the cluster’s Services and Pods', specs);
const log = createLogger({ component: 'tkube-dns', level: levelForVerbosity(flags.v) });
const config = loadClientConfig({ kubeconfig: flags.kubeconfig || undefined, master: flags.master || undefined });
const client = new RESTClient({ config, component: 'tkube-dns', log: log.child({ part: 'client' }) });
const addon = new DnsAddon({
  client,
  log,
  clusterDomain: flags['cluster-domain'],
  dnsAddress: flags['dns-bind-address'],
  dnsPort: flags['dns-port'],
  upstreamResolvConf: flags['upstream-resolv-conf'],
  ttl: flags.ttl,
  statusAddress: flags['status-bind-address'],
});
await runUntilSignalled(addon, log);
