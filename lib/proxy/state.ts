/**
 * The desired state a proxier works from: the current Services and EndpointSlices, fed either as
 * whole lists (`setState`) or as informer events (`onServiceAdd`, ...). Handlers only record the
 * object and notify; the proxier re-reads the whole snapshot when it syncs (level-triggered), so
 * bursts of events cost one sync.
 */
import type { EndpointSlice, Service } from '../api/index.js';

/** Plain lists, as an informer cache holds them. */
export interface ProxyState {
  services: readonly Service[];
  endpointSlices: readonly EndpointSlice[];
}

/**
 * The part of a proxier that receives state. Implemented by every proxy mode. Objects passed in
 * are not modified and may be shared with an informer cache.
 */
export interface ProxyStateSink {
  /** Replaces everything; marks services and endpoint slices as synced. */
  setState(state: ProxyState): void;
  onServiceAdd(svc: Service): void;
  onServiceUpdate(oldSvc: Service | undefined, svc: Service): void;
  onServiceDelete(svc: Service): void;
  /** The initial list of services has been delivered (informer HasSynced). */
  onServicesSynced(): void;
  onEndpointSliceAdd(slice: EndpointSlice): void;
  onEndpointSliceUpdate(oldSlice: EndpointSlice | undefined, slice: EndpointSlice): void;
  onEndpointSliceDelete(slice: EndpointSlice): void;
  onEndpointSlicesSynced(): void;
}

const keyOf = (o: { metadata: { namespace?: string; name?: string } }) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;

/** Holds the state and calls `onChange` after every mutation. */
export class ProxyStateStore implements ProxyStateSink {
  private readonly services = new Map<string, Service>();
  private readonly slices = new Map<string, EndpointSlice>();
  private servicesSynced = false;
  private slicesSynced = false;
  /** Bumped on every change; a proxier compares it with the generation it last synced. */
  generation = 0;

  constructor(private readonly onChange: () => void = () => {}) {}

  /** Both initial lists have arrived: syncing before that would remove rules of services not yet seen. */
  get ready(): boolean {
    return this.servicesSynced && this.slicesSynced;
  }

  snapshot(): ProxyState {
    return { services: [...this.services.values()], endpointSlices: [...this.slices.values()] };
  }

  private changed(): void {
    this.generation++;
    this.onChange();
  }

  setState(state: ProxyState): void {
    this.services.clear();
    this.slices.clear();
    for (const s of state.services) this.services.set(keyOf(s), s);
    for (const s of state.endpointSlices) this.slices.set(keyOf(s), s);
    this.servicesSynced = this.slicesSynced = true;
    this.changed();
  }

  onServiceAdd(svc: Service): void {
    this.services.set(keyOf(svc), svc);
    this.changed();
  }
  onServiceUpdate(_old: Service | undefined, svc: Service): void {
    this.onServiceAdd(svc);
  }
  onServiceDelete(svc: Service): void {
    if (this.services.delete(keyOf(svc))) this.changed();
  }
  onServicesSynced(): void {
    this.servicesSynced = true;
    this.changed();
  }
  onEndpointSliceAdd(slice: EndpointSlice): void {
    this.slices.set(keyOf(slice), slice);
    this.changed();
  }
  onEndpointSliceUpdate(_old: EndpointSlice | undefined, slice: EndpointSlice): void {
    this.onEndpointSliceAdd(slice);
  }
  onEndpointSliceDelete(slice: EndpointSlice): void {
    if (this.slices.delete(keyOf(slice))) this.changed();
  }
  onEndpointSlicesSynced(): void {
    this.slicesSynced = true;
    this.changed();
  }
}

/** Forwards the ProxyStateSink methods to a store; proxiers extend it. */
export abstract class StoreBackedSink implements ProxyStateSink {
  protected abstract readonly store: ProxyStateStore;
  setState(state: ProxyState): void {
    this.store.setState(state);
  }
  onServiceAdd(svc: Service): void {
    this.store.onServiceAdd(svc);
  }
  onServiceUpdate(oldSvc: Service | undefined, svc: Service): void {
    this.store.onServiceUpdate(oldSvc, svc);
  }
  onServiceDelete(svc: Service): void {
    this.store.onServiceDelete(svc);
  }
  onServicesSynced(): void {
    this.store.onServicesSynced();
  }
  onEndpointSliceAdd(slice: EndpointSlice): void {
    this.store.onEndpointSliceAdd(slice);
  }
  onEndpointSliceUpdate(oldSlice: EndpointSlice | undefined, slice: EndpointSlice): void {
    this.store.onEndpointSliceUpdate(oldSlice, slice);
  }
  onEndpointSliceDelete(slice: EndpointSlice): void {
    this.store.onEndpointSliceDelete(slice);
  }
  onEndpointSlicesSynced(): void {
    this.store.onEndpointSlicesSynced();
  }
}
