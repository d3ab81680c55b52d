/**
 * The EndpointSlice mirroring controller (`endpointslicemirroring`): for every Service without a
 * selector whose Endpoints object is written by someone else, EndpointSlices mirroring those
 * Endpoints (see mirror.ts), so that kube-proxy and cluster DNS, which read slices only, serve
 * them. The slices go when the Endpoints go, when the Service goes or gets a selector, or when
 * the Endpoints are labelled `endpointslice.kubernetes.io/skip-mirror: "true"`.
 *
 * Queue keys are the Endpoints' `namespace/name` (the Service's too). Like the EndpointSlice
 * controller, it does not sync a key again until its informer shows its own last writes.
 */
import type { Logger } from 'pino';
import type { EndpointSlice, Endpoints, Service } from '../../api/index.js';
import { realClock, silentLogger, type Clock, type Runnable } from '../../base/index.js';
import {
  Resources,
  deletedObject,
  metaNamespaceKey,
  splitMetaNamespaceKey,
  waitForCacheSync,
  type EventRecorder,
  type KubeClient,
  type Lister,
  type SharedInformerFactory,
} from '../../client/index.js';
import { RateLimitingQueue, runWorkers, type ReconcileResult } from '../../controller/index.js';
import { managedByLabel, serviceNameLabel } from '../endpointslice/reconcile.js';
import { SliceTracker, writeSlicePlan } from '../endpointslice/tracker.js';
import { mirrorEndpoints, mirroringControllerName, planMirroredSlices, shouldMirror } from './mirror.js';

export interface EndpointSliceMirroringControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  /** Events on the Endpoints for addresses that could not be mirrored. */
  recorder?: EventRecorder;
  workers?: number;
  /** --mirroring-max-endpoints-per-subset (1000). */
  maxEndpointsPerSubset?: number;
  log?: Logger;
  clock?: Clock;
}

/** A Service whose endpoints its owner writes: no selector at all (an empty one selects nothing, and is not mirrored). */
export function hasNoSelector(svc: Service): boolean {
  return svc.spec?.selector === undefined || svc.spec.selector === null;
}

export class EndpointSliceMirroringController implements Runnable {
  readonly queue: RateLimitingQueue<string>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly services: Lister<Service>;
  private readonly endpoints: Lister<Endpoints>;
  private readonly slices: Lister<EndpointSlice>;
  private readonly tracker: SliceTracker;
  private readonly informers: { waitForCacheSync(signal?: AbortSignal): Promise<boolean> }[];

  constructor(private readonly o: EndpointSliceMirroringControllerOptions) {
    this.log = (o.log ?? silentLogger()).child({ controller: 'endpointslicemirroring' });
    this.clock = o.clock ?? realClock;
    this.queue = new RateLimitingQueue<string>({ clock: o.clock });
    this.tracker = new SliceTracker(this.clock);
    const svcInf = o.informers.informerFor(Resources.services);
    const epInf = o.informers.informerFor(Resources.endpoints);
    const sliceInf = o.informers.informerFor(Resources.endpointSlices);
    this.services = svcInf.lister();
    this.endpoints = epInf.lister();
    this.slices = sliceInf.lister();
    this.informers = [svcInf, epInf, sliceInf];

    svcInf.addEventHandler({
      onAdd: (s) => hasNoSelector(s) && this.queue.add(metaNamespaceKey(s)),
      onUpdate: (old, s) => hasNoSelector(old) !== hasNoSelector(s) && this.queue.add(metaNamespaceKey(s)),
      onDelete: (s) => {
        const svc = deletedObject(s);
        if (hasNoSelector(svc)) this.queue.add(metaNamespaceKey(svc));
      },
    });
    epInf.addEventHandler({
      onAdd: (e) => shouldMirror(e) && this.queue.add(metaNamespaceKey(e)),
      onUpdate: (old, e) => (shouldMirror(old) || shouldMirror(e)) && this.queue.add(metaNamespaceKey(e)),
      onDelete: (e) => {
        const ep = deletedObject(e);
        this.queue.add(metaNamespaceKey(ep));
      },
    });
    const sliceEvent = (slice: EndpointSlice, deleted: boolean) => {
      const name = slice.metadata.labels?.[serviceNameLabel];
      if (!name || slice.metadata.labels?.[managedByLabel] !== mirroringControllerName) return;
      const key = `${slice.metadata.namespace}/${name}`;
      this.tracker.observed(key, slice, deleted);
      this.queue.add(key);
    };
    sliceInf.addEventHandler({
      onAdd: (s) => sliceEvent(s, false),
      onUpdate: (old, s) => {
        // Someone relabelled a slice: both the old and the new owner need a look.
        if (old.metadata.labels?.[serviceNameLabel] !== s.metadata.labels?.[serviceNameLabel] || old.metadata.labels?.[managedByLabel] !== s.metadata.labels?.[managedByLabel]) sliceEvent(old, false);
        sliceEvent(s, false);
      },
      onDelete: (s) => sliceEvent(deletedObject(s), true),
    });
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!(await waitForCacheSync(signal, ...this.informers))) return;
    this.log.info('starting');
    await runWorkers(this.queue, this.o.workers ?? 5, (key) => this.sync(key), signal, { log: this.log, name: 'endpointslicemirroring' });
    this.log.info('stopped');
  }

  private mirroredSlices(namespace: string, name: string): EndpointSlice[] {
    return this.slices
      .namespace(namespace)
      .list()
      .filter((s) => s.metadata.labels?.[serviceNameLabel] === name && s.metadata.labels?.[managedByLabel] === mirroringControllerName);
  }

  async sync(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    if (!this.tracker.caughtUp(key, (slice) => this.slices.get(`${namespace}/${slice}`))) return { requeueAfterMs: 100 };
    const client = this.o.client.resource(Resources.endpointSlices, namespace);
    const existing = this.mirroredSlices(namespace!, name);
    const ep = this.endpoints.get(key);
    const svc = this.services.get(key);
    if (!ep || !shouldMirror(ep) || !svc || !hasNoSelector(svc)) {
      await writeSlicePlan(this.tracker, key, client, { create: [], update: [], delete: existing });
      if (existing.length) this.log.debug({ endpoints: key, deleted: existing.length }, 'mirrored endpoint slices removed');
      return;
    }

    const { groups, invalid, overCapacity } = mirrorEndpoints(ep, this.o.maxEndpointsPerSubset ?? 1000);
    if (invalid > 0) this.o.recorder?.eventf(ep, 'Warning', 'InvalidIPAddress', 'Skipped %d invalid IP addresses when mirroring to EndpointSlices', invalid);
    if (overCapacity > 0) {
      this.o.recorder?.eventf(ep, 'Warning', 'TooManyAddressesToMirror', 'A max of %d addresses can be mirrored to EndpointSlices per Endpoints subset. %d addresses were skipped', this.o.maxEndpointsPerSubset ?? 1000, overCapacity);
    }
    const plan = planMirroredSlices(ep, groups, existing);
    // No new slices for Endpoints on their way out (their slices go with them).
    await writeSlicePlan(this.tracker, key, client, plan, { create: !ep.metadata.deletionTimestamp });
    if (plan.create.length + plan.update.length + plan.delete.length > 0) {
      this.log.debug({ endpoints: key, created: plan.create.length, updated: plan.update.length, deleted: plan.delete.length }, 'mirrored endpoint slices written');
    }
  }
}
