/**
 * ProxyServer: tkube-proxy as a program. It watches Services and EndpointSlices through the
 * API server (never anything else) and hands every change to the proxier of the chosen mode,
 * which programs the kernel. It learns its node's addresses from the Node object the kubelet
 * registered, and serves /healthz (upstream's JSON shape) and /metrics.
 */
import type { Logger } from 'pino';
import { MetricsRegistry, sleep, startStatusServer, type Runnable } from '../base/index.js';
import type { EndpointSlice, Node, Service } from '../api/index.js';
import { DeletedFinalStateUnknown, Resources, SharedInformerFactory, type KubeClient } from '../client/index.js';
import { isNotFound } from '../machinery/index.js';
import { ExecProxyHost, type ProxyHost } from './host.js';
import { IptablesProxier } from './iptables/proxier.js';
import type { Proxier } from './proxier.js';
import { UserspaceProxier } from './userspace/proxier.js';

export type ProxyMode = 'iptables' | 'userspace';

export interface ProxyServerOptions {
  client: KubeClient;
  log: Logger;
  nodeName: string;
  mode: ProxyMode;
  clusterCIDR?: string;
  syncPeriodMs: number;
  minSyncPeriodMs: number;
  nodePortAddresses: string[];
  masqueradeAll: boolean;
  masqueradeBit: number;
  /** host:port of /metrics (upstream default 127.0.0.1:10249). */
  metricsBindAddress: string;
  /** host:port of /healthz (upstream default 0.0.0.0:10256). */
  healthzBindAddress: string;
  /** Node addresses to use instead of reading them from the Node object. */
  nodeIPs?: string[];
  /** Userspace mode: the address its listeners bind. */
  bindAddress?: string;
  host?: ProxyHost;
  metrics?: MetricsRegistry;
}

/** Builds the proxier of a mode (also used by --cleanup, which needs no API server). */
export function newProxier(mode: ProxyMode, o: Omit<ProxyServerOptions, 'client'> & { host: ProxyHost; metrics: MetricsRegistry; nodeIPs: string[] }): Proxier {
  if (mode === 'userspace') {
    return new UserspaceProxier({
      host: o.host,
      log: o.log,
      nodeName: o.nodeName,
      listenAddress: o.bindAddress,
      syncPeriodMs: o.syncPeriodMs,
      minSyncPeriodMs: o.minSyncPeriodMs,
    });
  }
  return new IptablesProxier({
    host: o.host,
    log: o.log,
    metrics: o.metrics,
    nodeName: o.nodeName,
    nodeIPs: o.nodeIPs,
    clusterCIDR: o.clusterCIDR || undefined,
    masqueradeAll: o.masqueradeAll,
    masqueradeBit: o.masqueradeBit,
    nodePortAddresses: o.nodePortAddresses,
    syncPeriodMs: o.syncPeriodMs,
    minSyncPeriodMs: o.minSyncPeriodMs,
  });
}

/** Every address a node reports (InternalIP first), as NodePorts must answer on each. */
export function nodeAddresses(node: Node): string[] {
  const addrs = node.status?.addresses ?? [];
  const ips = [...addrs.filter((a) => a.type === 'InternalIP'), ...addrs.filter((a) => a.type === 'ExternalIP')].map((a) => a.address);
  return [...new Set(ips.filter((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a)))];
}

export class ProxyServer implements Runnable {
  readonly metrics: MetricsRegistry;
  proxier?: Proxier;

  constructor(private readonly o: ProxyServerOptions) {
    this.metrics = o.metrics ?? new MetricsRegistry();
  }

  /** Waits for the kubelet to register this node, then reads its addresses. */
  private async discoverNodeIPs(signal: AbortSignal): Promise<string[]> {
    if (this.o.nodeIPs?.length) return this.o.nodeIPs;
    const nodes = this.o.client.resource(Resources.nodes);
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        const ips = nodeAddresses(await nodes.get(this.o.nodeName));
        if (ips.length) return ips;
      } catch (err) {
        if (!isNotFound(err)) this.o.log.warn({ err }, 'reading this node failed');
      }
      if (attempt % 10 === 0) this.o.log.info({ node: this.o.nodeName }, 'waiting for the node to register its addresses');
      await sleep(1000, signal);
    }
    return [];
  }

  async start(signal: AbortSignal): Promise<void> {
    const o = this.o;
    const host = o.host ?? new ExecProxyHost({});
    const nodeIPs = await this.discoverNodeIPs(signal);
    if (signal.aborted) return;
    o.log.info({ node: o.nodeName, nodeIPs, mode: o.mode }, 'starting proxier');
    const proxier = newProxier(o.mode, { ...o, host, metrics: this.metrics, nodeIPs });
    this.proxier = proxier;

    const factory = new SharedInformerFactory({ client: o.client, log: o.log.child({ part: 'informers' }) });
    // Upstream skips headless services and those claimed by another proxy implementation.
    const services = factory.informerFor<Service>(Resources.services, { labelSelector: '!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless' });
    const slices = factory.informerFor<EndpointSlice>(Resources.endpointSlices, { labelSelector: '!service.kubernetes.io/headless' });
    const final = <T>(x: T | DeletedFinalStateUnknown<T>): T => (x instanceof DeletedFinalStateUnknown ? x.obj : x);
    services.addEventHandler({
      onAdd: (s) => proxier.onServiceAdd(s),
      onUpdate: (a, b) => a.metadata.resourceVersion !== b.metadata.resourceVersion && proxier.onServiceUpdate(a, b),
      onDelete: (s) => proxier.onServiceDelete(final(s)),
    });
    slices.addEventHandler({
      onAdd: (s) => proxier.onEndpointSliceAdd(s),
      onUpdate: (a, b) => a.metadata.resourceVersion !== b.metadata.resourceVersion && proxier.onEndpointSliceUpdate(a, b),
      onDelete: (s) => proxier.onEndpointSliceDelete(final(s)),
    });

    const informers = factory.start(signal);
    void services.waitForCacheSync(signal).then((ok) => ok && proxier.onServicesSynced());
    void slices.waitForCacheSync(signal).then((ok) => ok && proxier.onEndpointSlicesSynced());

    const healthy = () => {
      const last = proxier.lastSyncTime;
      // Upstream: unhealthy when changes wait for longer than two sync periods.
      return last !== undefined && (proxier.syncedGeneration >= proxier.stateGeneration || Date.now() - last < 2 * o.syncPeriodMs);
    };
    await startStatusServer({ address: o.metricsBindAddress, metrics: this.metrics, log: o.log }, signal);
    await startStatusServer(
      {
        address: o.healthzBindAddress,
        log: o.log,
        handlers: {
          '/healthz': (_req, res) => {
            const ok = healthy();
            res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ lastUpdated: new Date(proxier.lastSyncTime ?? 0).toISOString(), currentTime: new Date().toISOString(), nodeEligible: true }));
          },
          '/livez': (_req, res) => {
            res.writeHead(200, { 'content-type': 'text/plain' });
            res.end('ok');
          },
        },
      },
      signal,
    );
    await Promise.all([proxier.start(signal), informers]);
  }
}
