/**
 * The Endpoints controller: for every Service with a selector, an Endpoints object of the same
 * name listing the selected pods' addresses, ready ones under `addresses` and the others under
 * `notReadyAddresses`, grouped into subsets by the ports they serve.
 *
 * Services without a selector are left alone (their users write the Endpoints), and so is the
 * `kubernetes` Service (the API server writes it). When a Service goes, its Endpoints go too.
 */
import type { Logger } from 'pino';
import type { Endpoints, Pod, Service } from '../../api/index.js';
import { silentLogger, type Clock, type Runnable } from '../../base/index.js';
import {
  Resources,
  deletedObject,
  metaNamespaceKey,
  splitMetaNamespaceKey,
  waitForCacheSync,
  type KubeClient,
  type Lister,
  type SharedInformerFactory,
} from '../../client/index.js';
import { RateLimitingQueue, runWorkers } from '../../controller/index.js';
import { isAlreadyExists, isNotFound, jsonEqual } from '../../machinery/index.js';
import { findPort, hostnameFor, isHeadless, isManagedService, isPodReady, podChangeMatters, podIPv4, podsForService, servicesSelecting, shouldPodBeInEndpoints } from './pods.js';

/** Upstream's cap on the addresses of one Endpoints object; beyond it the object says it was truncated. */
export const maxEndpointsCapacity = 1000;
export const overCapacityAnnotation = 'endpoints.kubernetes.io/over-capacity';
export const headlessLabel = 'service.kubernetes.io/headless';
/** Old-style leader election kept its record in this annotation of an Endpoints object. */
export const leaderElectionAnnotation = 'control-plane.alpha.kubernetes.io/leader';

export type EndpointSubset = NonNullable<Endpoints['subsets']>[number];
export type EndpointAddress = NonNullable<EndpointSubset['addresses']>[number];
export type EndpointPort = NonNullable<EndpointSubset['ports']>[number];

export interface EndpointsControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  workers?: number;
  log?: Logger;
  clock?: Clock;
}

interface AddressWithPorts {
  address: EndpointAddress;
  ready: boolean;
  ports: EndpointPort[];
}

/** The subsets for these addresses: one per distinct set of ports, addresses and ports in a stable order. */
export function repackSubsets(entries: AddressWithPorts[]): EndpointSubset[] {
  const byPorts = new Map<string, { ports: EndpointPort[]; ready: Map<string, EndpointAddress>; notReady: Map<string, EndpointAddress> }>();
  for (const e of entries) {
    const ports = [...e.ports].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port);
    const k = JSON.stringify(ports);
    let g = byPorts.get(k);
    if (!g) byPorts.set(k, (g = { ports, ready: new Map(), notReady: new Map() }));
    const addrKey = `${e.address.ip}/${e.address.targetRef?.uid ?? ''}`;
    (e.ready ? g.ready : g.notReady).set(addrKey, e.address);
  }
  const cmp = (a: EndpointAddress, b: EndpointAddress) => compareIP(a.ip, b.ip) || (a.targetRef?.uid ?? '').localeCompare(b.targetRef?.uid ?? '');
  const out: EndpointSubset[] = [];
  for (const g of [...byPorts.values()].sort((a, b) => JSON.stringify(a.ports).localeCompare(JSON.stringify(b.ports)))) {
    const subset: EndpointSubset = {};
    const ready = [...g.ready.values()].sort(cmp);
    const notReady = [...g.notReady.values()].filter((a) => !g.ready.has(`${a.ip}/${a.targetRef?.uid ?? ''}`)).sort(cmp);
    if (ready.length) subset.addresses = ready;
    if (notReady.length) subset.notReadyAddresses = notReady;
    if (g.ports.length) subset.ports = g.ports;
    out.push(subset);
  }
  return out;
}

function compareIP(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  if (pa.length === 4 && pb.length === 4) {
    for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
    return 0;
  }
  return a.localeCompare(b);
}

/** The address a pod contributes, with what identifies it. */
export function addressFor(pod: Pod, svc: Service, ip: string): EndpointAddress {
  const a: EndpointAddress = { ip };
  const hostname = hostnameFor(pod, svc);
  if (hostname) a.hostname = hostname;
  if (pod.spec?.nodeName) a.nodeName = pod.spec.nodeName;
  a.targetRef = { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid };
  return a;
}

/** The subsets a service should have for these pods (the decision, without any I/O). */
export function desiredSubsets(svc: Service, pods: Pod[]): { subsets: EndpointSubset[]; truncated: boolean } {
  const publishNotReady = !!svc.spec?.publishNotReadyAddresses;
  const entries: AddressWithPorts[] = [];
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const ip = podIPv4(pod);
    if (!ip) continue;
    const address = addressFor(pod, svc, ip);
    const ready = publishNotReady || isPodReady(pod);
    const servicePorts = svc.spec?.ports ?? [];
    if (servicePorts.length === 0) {
      // A headless service without ports still publishes its pods (for DNS).
      if (isHeadless(svc)) entries.push({ address, ready, ports: [] });
      continue;
    }
    for (const sp of servicePorts) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      const ep: EndpointPort = { port, protocol: sp.protocol ?? 'TCP' };
      if (sp.name) ep.name = sp.name;
      if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
      entries.push({ address, ready, ports: [ep] });
    }
  }
  // Ready addresses are kept first when the object would grow past its capacity.
  const total = new Set(entries.map((e) => `${e.address.ip}/${e.ready}`)).size;
  let truncated = false;
  let kept = entries;
  if (total > maxEndpointsCapacity) {
    truncated = true;
    const ordered = [...entries.filter((e) => e.ready), ...entries.filter((e) => !e.ready)];
    const seen = new Set<string>();
    kept = [];
    for (const e of ordered) {
      const k = `${e.address.ip}/${e.ready}`;
      if (!seen.has(k)) {
        if (seen.size >= maxEndpointsCapacity) continue;
        seen.add(k);
      }
      kept.push(e);
    }
  }
  return { subsets: repackSubsets(kept), truncated };
}

export class EndpointsController implements Runnable {
  readonly queue: RateLimitingQueue<string>;
  private readonly log: Logger;
  private readonly services: Lister<Service>;
  private readonly pods: Lister<Pod>;
  private readonly endpoints: Lister<Endpoints>;
  private readonly informers: { waitForCacheSync(signal?: AbortSignal): Promise<boolean> }[];

  constructor(private readonly o: EndpointsControllerOptions) {
    this.log = (o.log ?? silentLogger()).child({ controller: 'endpoint' });
    this.queue = new RateLimitingQueue<string>({ clock: o.clock });
    const svcInf = o.informers.informerFor(Resources.services);
    const podInf = o.informers.informerFor(Resources.pods);
    const epInf = o.informers.informerFor(Resources.endpoints);
    this.services = svcInf.lister();
    this.pods = podInf.lister();
    this.endpoints = epInf.lister();
    this.informers = [svcInf, podInf, epInf];

    svcInf.addEventHandler({
      onAdd: (s) => this.queue.add(metaNamespaceKey(s)),
      onUpdate: (_o, s) => this.queue.add(metaNamespaceKey(s)),
      onDelete: (s) => this.queue.add(metaNamespaceKey(deletedObject(s))),
    });
    const enqueueFor = (pod: Pod) => {
      for (const k of servicesSelecting(this.services, pod.metadata.namespace!, pod.metadata.labels)) this.queue.add(k);
    };
    podInf.addEventHandler({
      onAdd: enqueueFor,
      onUpdate: (oldPod, newPod) => {
        if (!podChangeMatters(oldPod, newPod)) return;
        enqueueFor(newPod);
        if (JSON.stringify(oldPod.metadata.labels) !== JSON.stringify(newPod.metadata.labels)) enqueueFor(oldPod);
      },
      onDelete: (p) => enqueueFor(deletedObject(p)),
    });
    // Someone removed an Endpoints object of ours: put it back (as upstream, only deletions are watched).
    epInf.addEventHandler({
      onDelete: (ep) => this.queue.add(metaNamespaceKey(deletedObject(ep))),
    });
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!(await waitForCacheSync(signal, ...this.informers))) return;
    // Upstream's checkLeftoverEndpoints: Endpoints whose service went while the controller was
    // down are removed (those holding a leader-election record are not endpoints of a service).
    for (const ep of this.endpoints.list()) {
      if (ep.metadata.annotations?.[leaderElectionAnnotation] === undefined) this.queue.add(metaNamespaceKey(ep));
    }
    this.log.info('starting');
    await runWorkers(this.queue, this.o.workers ?? 5, (key) => this.sync(key), signal, { log: this.log, name: 'endpoint' });
    this.log.info('stopped');
  }

  /** Brings the Endpoints of the service `key` in line with its pods. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const client = this.o.client.resource(Resources.endpoints, namespace);
    const svc = this.services.get(key);
    if (!svc) {
      // The service is gone: so are its endpoints (unless someone else manages them).
      const ep = this.endpoints.get(key);
      if (!ep) return;
      try {
        await client.delete(name, { preconditions: { uid: ep.metadata.uid } });
        this.log.info({ endpoints: key }, 'deleted endpoints of a removed service');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return;
    }
    if (!isManagedService(svc) || svc.metadata.deletionTimestamp) return;

    const { subsets, truncated } = desiredSubsets(svc, podsForService(this.pods, svc));
    const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
    if (isHeadless(svc)) labels[headlessLabel] = '';
    else delete labels[headlessLabel];

    const current = this.endpoints.get(key);
    const annotations: Record<string, string> = { ...(current?.metadata.annotations ?? {}) };
    if (truncated) annotations[overCapacityAnnotation] = 'truncated';
    else delete annotations[overCapacityAnnotation];

    if (current && jsonEqual(current.subsets ?? [], subsets) && jsonEqual(current.metadata.labels ?? {}, labels) && jsonEqual(current.metadata.annotations ?? {}, annotations)) return;

    const desired: Endpoints = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: {
        ...(current ? structuredClone(current.metadata) : { name, namespace }),
        labels,
        annotations: Object.keys(annotations).length ? annotations : undefined,
      },
      subsets,
    };
    if (!current) {
      try {
        await client.create(desired);
        this.log.debug({ endpoints: key }, 'created endpoints');
      } catch (err) {
        // Our cache has not seen it yet: try again once it has.
        if (isAlreadyExists(err)) throw new Error(`endpoints ${key} exist but are not in the cache yet`, { cause: err });
        throw err;
      }
      return;
    }
    // Conditional on the cached resourceVersion: a stale cache fails with a conflict and is retried.
    await client.update(desired);
    this.log.debug({ endpoints: key }, 'updated endpoints');
  }
}
