#!/usr/bin/env node
/** tkube-proxy: programs Services into the kernel on every node. Flags follow kube-proxy's names. */
import os from 'node:os';
import { MetricsRegistry, createLogger, flag, levelForVerbosity, parseProgramFlags, runUntilSignalled } from '../../lib/base/index.js';
import { RESTClient, loadClientConfig } from '../../lib/client/index.js';
import { ExecProxyHost, ProxyServer, newProxier, type ProxyMode } from '../../lib/proxy/index.js';

const specs = {
  kubeconfig: flag('string', '', 'Path to a kubeconfig with the API server and credentials.'),
  master: flag('string', '', 'The API server address (overrides the kubeconfig).'),
  'proxy-mode': flag('string', 'iptables', 'iptables (kernel DNAT, random backend) or userspace (a relay in this process, round-robin).', (v) =>
    v === 'iptables' || v === 'userspace' ? undefined : 'must be iptables or userspace',
  ),
  'hostname-override': flag('string', '', 'The name of this node (default: the hostname).'),
  'cluster-cidr': flag('string', '', 'The pods’ CIDR: traffic to service IPs from outside it is masqueraded.'),
  'sync-period': flag('duration', 30_000, 'How often every rule is rewritten, whatever changed.'),
  'iptables-sync-period': flag('duration', 0, 'Deprecated name of --sync-period.'),
  'min-sync-period': flag('duration', 1_000, 'The least time between two syncs; changes in between are batched.'),
  'iptables-min-sync-period': flag('duration', 0, 'Deprecated name of --min-sync-period.'),
  'nodeport-addresses': flag('stringList', [], 'CIDRs whose node addresses accept NodePort traffic (default: every local address).'),
  'masquerade-all': flag('bool', false, 'Masquerade all traffic sent to service IPs.'),
  'iptables-masquerade-bit': flag('int', 14, 'The bit of the packet mark that asks for masquerade.'),
  'bind-address': flag('string', '0.0.0.0', 'Userspace mode: the address the service listeners bind.'),
  'node-ip': flag('stringList', [], 'This node’s addresses (default: read from the Node object).'),
  'metrics-bind-address': flag('string', '127.0.0.1:10249', 'host:port of /metrics.'),
  'healthz-bind-address': flag('string', '0.0.0.0:10256', 'host:port of /healthz.'),
  'kube-api-qps': flag('float', 5, 'Requests per second to the API server.'),
  'kube-api-burst': flag('int', 10, 'Burst of requests to the API server.'),
  cleanup: flag('bool', false, 'Remove every rule tkube-proxy installed (both modes), then exit.'),
  v: flag('int', 0, 'Log verbosity: 4 logs debug, 6 trace.'),
};

const { flags } = parseProgramFlags('tkube-proxy', 'programs Services into iptables on this node', specs);
const log = createLogger({ component: 'tkube-proxy', level: levelForVerbosity(flags.v) });
const nodeName = (flags['hostname-override'] || os.hostname()).toLowerCase();
const common = {
  log,
  nodeName,
  mode: flags['proxy-mode'] as ProxyMode,
  clusterCIDR: flags['cluster-cidr'],
  syncPeriodMs: flags['iptables-sync-period'] || flags['sync-period'],
  minSyncPeriodMs: flags['iptables-min-sync-period'] || flags['min-sync-period'],
  nodePortAddresses: flags['nodeport-addresses'],
  masqueradeAll: flags['masquerade-all'],
  masqueradeBit: flags['iptables-masquerade-bit'],
  metricsBindAddress: flags['metrics-bind-address'],
  healthzBindAddress: flags['healthz-bind-address'],
  bindAddress: flags['bind-address'],
};

if (flags.cleanup) {
  const host = new ExecProxyHost({});
  for (const mode of ['iptables', 'userspace'] as const) {
    await newProxier(mode, { ...common, host, metrics: new MetricsRegistry(), nodeIPs: [] }).cleanup();
  }
  log.info('removed every rule tkube-proxy installed');
  process.exit(0);
}

const config = loadClientConfig({ kubeconfig: flags.kubeconfig || undefined, master: flags.master || undefined });
const client = new RESTClient({ config, component: 'tkube-proxy', qps: flags['kube-api-qps'], burst: flags['kube-api-burst'], log: log.child({ part: 'client' }) });
const server = new ProxyServer({ ...common, client, nodeIPs: flags['node-ip'].length ? flags['node-ip'] : undefined });
await runUntilSignalled(server, log);
