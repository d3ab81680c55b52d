/**
 * DnsAddon: the cluster DNS add-on as a program. It runs in pods of a Deployment in
 * kube-system behind the kube-dns Service, watches Services and EndpointSlices through the API
 * server, and answers for the cluster domain; other names go to the node's resolvers.
 */
import type { Logger } from 'pino';
import { MetricsRegistry, startStatusServer, type Runnable } from '../base/index.js';
import type { EndpointSlice, Service } from '../api/index.js';
import { Resources, SharedInformerFactory, waitForCacheSync, type KubeClient } from '../client/index.js';
import { DnsServer } from './server.js';

export interface DnsAddonOptions {
  client: KubeClient;
  log: Logger;
  clusterDomain: string;
  dnsAddress: string;
  dnsPort: number;
  /** resolv.conf whose nameservers answer names outside the cluster domain. */
  upstreamResolvConf: string;
  ttl: number;
  /** host:port of /healthz and /metrics; /ready answers 200 once the caches are in. */
  statusAddress: string;
}

export class DnsAddon implements Runnable {
  readonly metrics = new MetricsRegistry();
  dns?: DnsServer;

  constructor(private readonly o: DnsAddonOptions) {}

  async start(signal: AbortSignal): Promise<void> {
    const o = this.o;
    const dns = new DnsServer({ log: o.log, clusterDomain: o.clusterDomain, ttl: o.ttl, resolvConf: o.upstreamResolvConf, metrics: this.metrics });
    this.dns = dns;
    const factory = new SharedInformerFactory({ client: o.client, log: o.log.child({ part: 'informers' }) });
    const services = factory.informerFor<Service>(Resources.services);
    const slices = factory.informerFor<EndpointSlice>(Resources.endpointSlices);
    let synced = false;
    let pending: NodeJS.Timeout | undefined;
    // Changes come in bursts (a rollout touches many slices): rebuild the zone at most every 100 ms.
    const rebuild = () => {
      if (!synced || pending) return;
      pending = setTimeout(() => {
        pending = undefined;
        dns.setState({ services: services.lister().list(), endpointSlices: slices.lister().list() });
      }, 100);
    };
    for (const inf of [services, slices]) inf.addEventHandler({ onAdd: rebuild, onUpdate: rebuild, onDelete: rebuild });
    const informers = factory.start(signal);
    await startStatusServer(
      {
        address: o.statusAddress,
        metrics: this.metrics,
        log: o.log,
        checks: [{ name: 'informers', check: () => { if (!synced) throw new Error('caches not synced yet'); } }],
        handlers: {
          '/ready': (_req, res) => {
            res.writeHead(synced ? 200 : 503, { 'content-type': 'text/plain' });
            res.end(synced ? 'OK' : 'not ready');
          },
        },
      },
      signal,
    );
    await dns.listen(o.dnsAddress, o.dnsPort);
    o.log.info({ address: o.dnsAddress, port: o.dnsPort, domain: o.clusterDomain }, 'serving cluster DNS');
    if (await waitForCacheSync(signal, services, slices)) {
      synced = true;
      dns.setState({ services: services.lister().list(), endpointSlices: slices.lister().list() });
    }
    await Promise.all([dns.start(signal), informers]);
    clearTimeout(pending);
  }
}
