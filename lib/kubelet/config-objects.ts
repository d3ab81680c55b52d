/**
 * The ConfigMaps and Secrets the pods of this node use, each watched on its own (upstream's
 * watch-based configmap and secret managers): a kubelet sees only the objects its pods name,
 * never every object of the cluster, and learns of a change within a watch round-trip, which is
 * what refreshes configMap and secret volumes.
 *
 * Ownership: one ObjectWatcher per kind, owned by the Kubelet. Pods declare what they use with
 * `setReferences(podUID, keys)`; the watch of an object starts on its first reference (or first
 * `get`) and stops when no pod refers to it any more. `stop()` ends every watch.
 */
import type { Logger } from 'pino';
import type { KubeObject } from '../api/index.js';
import { SharedInformer, listerWatcherFor, type KubeClient, type ResourceDescriptor } from '../client/index.js';

export interface ObjectWatcherOptions<T extends KubeObject> {
  client: KubeClient;
  descriptor: ResourceDescriptor<T>;
  log: Logger;
  /** Called when a watched object is added, changed or deleted. */
  onChange(namespace: string, name: string): void;
  /** How long `get` waits for a new watch's first list before it fails (default 10s). */
  syncTimeoutMs?: number;
}

interface Watched<T extends KubeObject> {
  informer: SharedInformer<T>;
  stop: AbortController;
  running: Promise<void>;
  synced: Promise<boolean>;
}

const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;

export class ObjectWatcher<T extends KubeObject> {
  private readonly watched = new Map<string, Watched<T>>();
  private readonly refsByPod = new Map<string, Set<string>>();
  private stopped = false;

  constructor(private readonly o: ObjectWatcherOptions<T>) {}

  /** Declares the objects (`namespace/name` keys) a pod uses; an empty set forgets the pod. */
  setReferences(podUID: string, keys: Iterable<string>): void {
    const next = new Set(keys);
    if (next.size === 0) this.refsByPod.delete(podUID);
    else this.refsByPod.set(podUID, next);
    for (const k of next) this.ensure(k);
    this.release();
  }

  /** The object, from its watch; undefined when it does not exist. Rejects when the watch cannot list it in time. */
  async get(namespace: string, name: string): Promise<T | undefined> {
    const key = keyOf(namespace, name);
    const w = this.ensure(key);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), this.o.syncTimeoutMs ?? 10_000)));
    const ok = await Promise.race([w.synced, timeout]);
    clearTimeout(timer);
    if (!ok) throw new Error(`failed to sync ${this.o.descriptor.resource} cache: timed out waiting for ${key}`);
    return w.informer.getIndexer().getByKey(key);
  }

  /** The keys being watched, for tests. */
  get keys(): string[] {
    return [...this.watched.keys()];
  }

  stop(): Promise<void> {
    this.stopped = true;
    const runs = [...this.watched.values()].map((w) => {
      w.stop.abort();
      return w.running;
    });
    this.watched.clear();
    return Promise.all(runs).then(() => undefined);
  }

  private ensure(key: string): Watched<T> {
    let w = this.watched.get(key);
    if (w) return w;
    const [namespace, name] = key.split('/') as [string, string];
    const informer = new SharedInformer<T>({
      lw: listerWatcherFor(this.o.client.resource(this.o.descriptor, namespace), { fieldSelector: `metadata.name=${name}` }),
      name: `${this.o.descriptor.resource} ${key}`,
      log: this.o.log,
    });
    const notify = () => this.o.onChange(namespace, name);
    informer.addEventHandler({ onAdd: (_o, initial) => !initial && notify(), onUpdate: (a, b) => a.metadata.resourceVersion !== b.metadata.resourceVersion && notify(), onDelete: notify });
    const stop = new AbortController();
    if (this.stopped) stop.abort();
    const running = informer.start(stop.signal).catch((err) => this.o.log.warn({ err, object: key }, 'object watch failed'));
    w = { informer, stop, running, synced: informer.waitForCacheSync(stop.signal) };
    this.watched.set(key, w);
    return w;
  }

  /** Stops watches no pod refers to any more. */
  private release(): void {
    const used = new Set<string>();
    for (const refs of this.refsByPod.values()) for (const k of refs) used.add(k);
    for (const [k, w] of this.watched) {
      if (used.has(k)) continue;
      w.stop.abort();
      this.watched.delete(k);
    }
  }
}
