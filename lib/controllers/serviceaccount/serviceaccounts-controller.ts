/**
 * The service accounts controller: every active namespace has a `default` ServiceAccount; one
 * that is deleted comes back. Namespaces being deleted are left alone.
 */
import type { Logger } from 'pino';
import type { Namespace, ServiceAccount } from '../../api/index.js';
import { silentLogger, type Clock, type Runnable } from '../../base/index.js';
import { Resources, deletedObject, waitForCacheSync, type KubeClient, type Lister, type SharedInformerFactory } from '../../client/index.js';
import { RateLimitingQueue, runWorkers } from '../../controller/index.js';
import { isAlreadyExists, isForbidden, isNotFound } from '../../machinery/index.js';

export interface ServiceAccountsControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  /** The accounts every namespace gets (default: `default`). */
  accounts?: string[];
  workers?: number;
  log?: Logger;
  clock?: Clock;
}

export class ServiceAccountsController implements Runnable {
  readonly queue: RateLimitingQueue<string>;
  private readonly log: Logger;
  private readonly namespaces: Lister<Namespace>;
  private readonly accounts: Lister<ServiceAccount>;
  private readonly names: string[];
  private readonly informers: { waitForCacheSync(signal?: AbortSignal): Promise<boolean> }[];

  constructor(private readonly o: ServiceAccountsControllerOptions) {
    this.log = (o.log ?? silentLogger()).child({ controller: 'serviceaccount' });
    this.queue = new RateLimitingQueue<string>({ clock: o.clock });
    this.names = o.accounts ?? ['default'];
    const nsInf = o.informers.informerFor(Resources.namespaces);
    const saInf = o.informers.informerFor(Resources.serviceAccounts);
    this.namespaces = nsInf.lister();
    this.accounts = saInf.lister();
    this.informers = [nsInf, saInf];
    nsInf.addEventHandler({
      onAdd: (ns) => this.queue.add(ns.metadata.name!),
      onUpdate: (_o, ns) => this.queue.add(ns.metadata.name!),
    });
    saInf.addEventHandler({
      onDelete: (sa) => {
        const s = deletedObject(sa);
        if (this.names.includes(s.metadata.name!)) this.queue.add(s.metadata.namespace!);
      },
    });
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!(await waitForCacheSync(signal, ...this.informers))) return;
    this.log.info('starting');
    await runWorkers(this.queue, this.o.workers ?? 1, (ns) => this.sync(ns), signal, { log: this.log, name: 'serviceaccount' });
    this.log.info('stopped');
  }

  async sync(namespace: string): Promise<void> {
    const ns = this.namespaces.get(namespace);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    for (const name of this.names) {
      if (this.accounts.get(`${namespace}/${name}`)) continue;
      try {
        await this.o.client.resource(Resources.serviceAccounts, namespace).create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
        this.log.info({ namespace, serviceAccount: name }, 'created service account');
      } catch (err) {
        // Already there (the cache lags), or the namespace is going or gone: nothing to do.
        if (isAlreadyExists(err) || isForbidden(err) || isNotFound(err)) continue;
        throw err;
      }
    }
  }
}
