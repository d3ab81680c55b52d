/**
 * SharedInformerFactory: hands out one SharedInformer per resource + namespace + selectors, so
 * that every part of a program asking for, say, pods shares one watch and one cache.
 *
 *   const factory = new SharedInformerFactory({ client, log });
 *   const pods = factory.informerFor(Resources.pods);
 *   pods.addEventHandler({ onAdd: (p) => queue.add(key(p)) });
 *   void factory.start(signal);                 // starts everything asked for, now and later
 *   await factory.waitForCacheSync(signal);
 */
import type { Logger } from 'pino';
import type { KubeObject } from '../api/index.js';
import { realClock, silentLogger, type Clock, type Runnable } from '../base/index.js';
import { selectorString, type KubeClient, type ListerWatcher, type ResourceClient, type SelectorOptions } from './interface.js';
import { SharedInformer, type SharedInformerOptions } from './informer.js';
import type { Lister } from './lister.js';
import { groupResourceName, type ResourceDescriptor } from './resources.js';

export interface InformerScope extends SelectorOptions {
  /** Only this namespace (default: all). */
  namespace?: string;
}

/** A ListerWatcher over a resource client, with fixed selectors. */
export function listerWatcherFor<T extends KubeObject>(client: ResourceClient<T>, sel: SelectorOptions = {}): ListerWatcher<T> {
  const labelSelector = selectorString(sel.labelSelector);
  const fieldSelector = selectorString(sel.fieldSelector);
  return {
    list: (o = {}) => client.list({ ...o, labelSelector, fieldSelector }),
    watch: (o = {}) => client.watch({ ...o, labelSelector, fieldSelector }),
  };
}

export interface SharedInformerFactoryOptions {
  client: KubeClient;
  log?: Logger;
  clock?: Clock;
  /** Default resync period of handlers (ms); 0 (default) for none. */
  defaultResyncMs?: number;
  /** Applied to every informer that does not set its own. */
  defaults?: InformerScope;
  /** Passed to each informer (tests shorten the backoff). */
  informerOptions?: Partial<Pick<SharedInformerOptions<KubeObject>, 'backoffInitialMs' | 'backoffMaxMs' | 'watchTimeoutSeconds' | 'freeze' | 'pageSize'>>;
}

export class SharedInformerFactory implements Runnable {
  private readonly informers = new Map<string, SharedInformer<any>>();
  private readonly log: Logger;
  private readonly clock: Clock;
  private signal?: AbortSignal;
  private runs: Promise<void>[] = [];
  private started = new Set<SharedInformer<any>>();

  constructor(private readonly o: SharedInformerFactoryOptions) {
    this.log = o.log ?? silentLogger();
    this.clock = o.clock ?? realClock;
  }

  /** The shared informer for this resource and scope, created on first request. */
  informerFor<T extends KubeObject>(d: ResourceDescriptor<T>, scope: InformerScope = {}): SharedInformer<T> {
    const namespace = d.namespaced ? (scope.namespace ?? this.o.defaults?.namespace) : undefined;
    const labelSelector = selectorString(scope.labelSelector ?? this.o.defaults?.labelSelector) ?? '';
    const fieldSelector = selectorString(scope.fieldSelector ?? this.o.defaults?.fieldSelector) ?? '';
    const key = `${d.group}/${d.version}/${d.resource}|${namespace ?? ''}|${labelSelector}|${fieldSelector}`;
    let inf = this.informers.get(key) as SharedInformer<T> | undefined;
    if (!inf) {
      const name = groupResourceName(d) + (namespace ? ` in ${namespace}` : '');
      inf = new SharedInformer<T>({
        lw: listerWatcherFor(this.o.client.resource(d, namespace), { labelSelector, fieldSelector }),
        name,
        log: this.log.child({ informer: name }),
        clock: this.clock,
        resyncPeriodMs: this.o.defaultResyncMs ?? 0,
        ...(this.o.informerOptions ?? {}),
      });
      this.informers.set(key, inf);
      if (this.signal && !this.signal.aborted) this.run(inf, this.signal);
    }
    return inf;
  }

  lister<T extends KubeObject>(d: ResourceDescriptor<T>, scope: InformerScope = {}): Lister<T> {
    return this.informerFor(d, scope).lister();
  }

  private run(inf: SharedInformer<any>, signal: AbortSignal): void {
    if (this.started.has(inf)) return;
    this.started.add(inf);
    this.runs.push(
      inf.start(signal).catch((err) => {
        this.log.error({ err, informer: inf.name }, 'informer failed');
      }),
    );
  }

  /**
   * Starts every informer asked for so far, and any asked for later, until `signal` aborts;
   * resolves once all have stopped.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.signal) throw new Error('SharedInformerFactory was already started');
    this.signal = signal;
    for (const inf of this.informers.values()) this.run(inf, signal);
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    // Informers created while stopping are started with an aborted signal and end at once.
    let waited = 0;
    while (waited < this.runs.length) {
      const batch = this.runs.slice(waited);
      waited = this.runs.length;
      await Promise.all(batch);
    }
  }

  /** Waits until every informer started so far has synced; false if `signal` aborts first. */
  async waitForCacheSync(signal?: AbortSignal): Promise<boolean> {
    const all = [...this.informers.values()];
    const results = await Promise.all(all.map((i) => i.waitForCacheSync(signal)));
    return results.every(Boolean);
  }
}
