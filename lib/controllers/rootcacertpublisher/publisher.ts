/**
 * The root CA certificate publisher (upstream's root-ca-cert-publisher): every active namespace
 * holds a ConfigMap `kube-root-ca.crt` whose `ca.crt` is the bundle that verifies the API server
 * (the controller manager's --root-ca-file, else the CA of its own kubeconfig). Pods read it
 * through the projected volume the ServiceAccount admission adds (`kube-api-access-*`), so a
 * namespace without it has pods stuck in ContainerCreating with FailedMount.
 *
 * Level-triggered per namespace: created when missing, put back when deleted, its data restored
 * when someone edits it. Other keys and labels a user added are kept; only `ca.crt` and the
 * description annotation are owned here.
 */
import type { Logger } from 'pino';
import type { ConfigMap, Namespace } from '../../api/index.js';
import { silentLogger, type Clock, type Runnable } from '../../base/index.js';
import { Resources, deletedObject, waitForCacheSync, type KubeClient, type Lister, type SharedInformerFactory } from '../../client/index.js';
import { RateLimitingQueue, runWorkers } from '../../controller/index.js';
import { isAlreadyExists, isForbidden, isNotFound } from '../../machinery/index.js';

export const rootCAConfigMapName = 'kube-root-ca.crt';
export const rootCADescriptionAnnotation = 'kubernetes.io/description';
/** Upstream's wording, so that `kubectl describe cm kube-root-ca.crt` reads the same. */
export const rootCADescription =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

export interface RootCACertPublisherOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  /** The PEM bundle to publish (may be empty when the API server is reached without TLS). */
  rootCA: string;
  workers?: number;
  log?: Logger;
  clock?: Clock;
}

export class RootCACertPublisher implements Runnable {
  readonly queue: RateLimitingQueue<string>;
  private readonly log: Logger;
  private readonly namespaces: Lister<Namespace>;
  private readonly configMaps: Lister<ConfigMap>;
  private readonly informers: { waitForCacheSync(signal?: AbortSignal): Promise<boolean> }[];

  constructor(private readonly o: RootCACertPublisherOptions) {
    this.log = (o.log ?? silentLogger()).child({ controller: 'root-ca-cert-publisher' });
    this.queue = new RateLimitingQueue<string>({ clock: o.clock });
    const nsInf = o.informers.informerFor(Resources.namespaces);
    const cmInf = o.informers.informerFor(Resources.configMaps);
    this.namespaces = nsInf.lister();
    this.configMaps = cmInf.lister();
    this.informers = [nsInf, cmInf];
    nsInf.addEventHandler({
      onAdd: (ns) => this.queue.add(ns.metadata.name!),
      onUpdate: (_o, ns) => this.queue.add(ns.metadata.name!),
    });
    const mine = (cm: ConfigMap) => cm.metadata.name === rootCAConfigMapName;
    cmInf.addEventHandler({
      onUpdate: (_o, cm) => {
        if (mine(cm)) this.queue.add(cm.metadata.namespace!);
      },
      onDelete: (obj) => {
        const cm = deletedObject(obj);
        if (mine(cm)) this.queue.add(cm.metadata.namespace!);
      },
    });
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!(await waitForCacheSync(signal, ...this.informers))) return;
    this.log.info('starting');
    await runWorkers(this.queue, this.o.workers ?? 1, (ns) => this.sync(ns), signal, { log: this.log, name: 'root-ca-cert-publisher' });
    this.log.info('stopped');
  }

  async sync(namespace: string): Promise<void> {
    const ns = this.namespaces.get(namespace);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    const client = this.o.client.resource(Resources.configMaps, namespace);
    const current = this.configMaps.get(`${namespace}/${rootCAConfigMapName}`);
    try {
      if (!current) {
        await client.create({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: rootCAConfigMapName, namespace, annotations: { [rootCADescriptionAnnotation]: rootCADescription } },
          data: { 'ca.crt': this.o.rootCA },
        });
        this.log.info({ namespace }, 'published the root CA');
        return;
      }
      const annotations = current.metadata.annotations ?? {};
      if (current.data?.['ca.crt'] === this.o.rootCA && annotations[rootCADescriptionAnnotation] === rootCADescription) return;
      await client.update({
        ...current,
        metadata: { ...current.metadata, annotations: { ...annotations, [rootCADescriptionAnnotation]: rootCADescription } },
        data: { ...(current.data ?? {}), 'ca.crt': this.o.rootCA },
      });
      this.log.info({ namespace }, 'restored the published root CA');
    } catch (err) {
      // Already there (the cache lags), or the namespace is going or gone: nothing to do. A
      // conflict is thrown: the worker retries with the newer object from the cache.
      if (isAlreadyExists(err) || isForbidden(err) || isNotFound(err)) return;
      throw err;
    }
  }
}
