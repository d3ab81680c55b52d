/**
 * The namespace controller: a deleted namespace (Terminating, with the `kubernetes` finalizer
 * in spec.finalizers) is emptied, every namespaced resource discovery lists (custom resources
 * included), and then finalized through /finalize, after which the API server removes it.
 *
 *   deletionTimestamp set ──► phase Terminating ──► delete all content (deletecollection, or
 *   list + delete) ──► content left? (pods terminating gracefully, finalizers) ──► wait and
 *   look again ──► nothing left ──► PUT /finalize without "kubernetes" ──► namespace gone
 *
 * Progress is reported in the namespace's conditions, as upstream: NamespaceDeletionDiscoveryFailure,
 * NamespaceDeletionGroupVersionParsingFailure, NamespaceDeletionContentFailure,
 * NamespaceContentRemaining and NamespaceFinalizersRemaining.
 */
import type { Logger } from 'pino';
import type { KubeObject, Namespace, Pod } from '../../api/index.js';
import { realClock, rfc3339, silentLogger, type Clock, type Runnable } from '../../base/index.js';
import { Resources, defineResourceDescriptor, waitForCacheSync, type KubeClient, type Lister, type SharedInformerFactory } from '../../client/index.js';
import { RateLimitingQueue, runWorkers, type ReconcileResult } from '../../controller/index.js';
import { isConflict, isNotFound, StatusError } from '../../machinery/index.js';
import type { DiscoveredResource, ResourceDiscovery } from '../types.js';

export const finalizerKubernetes = 'kubernetes';

type NamespaceCondition = NonNullable<NonNullable<Namespace['status']>['conditions']>[number];

const conditionTypes = [
  'NamespaceDeletionDiscoveryFailure',
  'NamespaceDeletionGroupVersionParsingFailure',
  'NamespaceDeletionContentFailure',
  'NamespaceContentRemaining',
  'NamespaceFinalizersRemaining',
] as const;
const okReasons: Record<string, [string, string]> = {
  NamespaceDeletionDiscoveryFailure: ['ResourcesDiscovered', 'All resources successfully discovered'],
  NamespaceDeletionGroupVersionParsingFailure: ['ParsedGroupVersions', 'All legacy kube types successfully parsed'],
  NamespaceDeletionContentFailure: ['ContentDeleted', 'All content successfully deleted, may be waiting on finalization'],
  NamespaceContentRemaining: ['ContentRemoved', 'All content successfully removed'],
  NamespaceFinalizersRemaining: ['ContentHasNoFinalizers', 'All content-preserving finalizers finished'],
};

export interface NamespaceControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  discovery: ResourceDiscovery;
  workers?: number;
  /** Re-examines every namespace this often (upstream's 5 minutes). */
  resyncMs?: number;
  /** The longest wait before looking again at a namespace whose content is still going (default 5s). */
  maxRecheckMs?: number;
  log?: Logger;
  clock?: Clock;
}

/** What is left in a namespace after one round of deletion. */
export interface ContentRemaining {
  /** Seconds until the slowest graceful deletion should be over. */
  estimateSeconds: number;
  /** `pods.` → count, as upstream names them (`resource.group`). */
  byResource: Map<string, number>;
  byFinalizer: Map<string, number>;
  errors: string[];
}

/** The conditions for a round's outcome, in upstream's words. */
export function deletionConditions(discoveryError: string | undefined, content: ContentRemaining): Map<string, { status: 'True' | 'False'; reason: string; message: string }> {
  const out = new Map<string, { status: 'True' | 'False'; reason: string; message: string }>();
  if (discoveryError) out.set('NamespaceDeletionDiscoveryFailure', { status: 'True', reason: 'DiscoveryFailed', message: discoveryError });
  if (content.errors.length) {
    const msgs = [...content.errors].sort();
    out.set('NamespaceDeletionContentFailure', { status: 'True', reason: 'ContentDeletionFailed', message: `Failed to delete all resource types, ${msgs.length} remaining: ${msgs.join(', ')}` });
  }
  const remaining = [...content.byResource].filter(([, n]) => n > 0).map(([r, n]) => `${r} has ${n} resource instances`).sort();
  if (remaining.length) out.set('NamespaceContentRemaining', { status: 'True', reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${remaining.join(', ')}` });
  const fins = [...content.byFinalizer].filter(([, n]) => n > 0).map(([f, n]) => `${f} in ${n} resource instances`).sort();
  if (fins.length) out.set('NamespaceFinalizersRemaining', { status: 'True', reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${fins.join(', ')}` });
  for (const t of conditionTypes) if (!out.has(t)) out.set(t, { status: 'False', reason: okReasons[t]![0], message: okReasons[t]![1] });
  return out;
}

/** Applies new conditions to a namespace status; returns whether anything changed. */
function updateConditions(ns: Namespace, next: ReturnType<typeof deletionConditions>, now: string): boolean {
  ns.status ??= {};
  const conds: NamespaceCondition[] = (ns.status.conditions ??= []);
  let changed = false;
  for (const t of conditionTypes) {
    const want = next.get(t)!;
    const have = conds.find((c) => c.type === t);
    if (!have) {
      conds.push({ type: t, ...want, lastTransitionTime: now });
      changed = true;
    } else if (have.status !== want.status || have.reason !== want.reason || have.message !== want.message) {
      if (have.status !== want.status) have.lastTransitionTime = now;
      have.status = want.status;
      have.reason = want.reason;
      have.message = want.message;
      changed = true;
    }
  }
  return changed;
}

/** Seconds until the pods' graceful deletion should be over. */
function estimatePods(pods: Pod[], now: number): number {
  let estimate = 0;
  for (const p of pods) {
    if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
    let grace = p.spec?.terminationGracePeriodSeconds ?? 30;
    if (p.metadata.deletionGracePeriodSeconds !== undefined && p.metadata.deletionTimestamp) {
      grace = Math.max(0, Math.ceil((Date.parse(p.metadata.deletionTimestamp) - now) / 1000));
    }
    estimate = Math.max(estimate, grace);
  }
  return estimate;
}

function groupResource(r: DiscoveredResource): string {
  return `${r.resource}.${r.group}`;
}

export class NamespaceController implements Runnable {
  readonly queue: RateLimitingQueue<string>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly namespaces: Lister<Namespace>;
  private readonly informer: { waitForCacheSync(signal?: AbortSignal): Promise<boolean> };

  constructor(private readonly o: NamespaceControllerOptions) {
    this.log = (o.log ?? silentLogger()).child({ controller: 'namespace' });
    this.clock = o.clock ?? realClock;
    this.queue = new RateLimitingQueue<string>({ clock: o.clock });
    const inf = o.informers.informerFor(Resources.namespaces);
    this.namespaces = inf.lister();
    this.informer = inf;
    const enqueue = (ns: Namespace) => {
      if (ns.metadata.deletionTimestamp) this.queue.add(ns.metadata.name!);
    };
    inf.addEventHandler({ onAdd: enqueue, onUpdate: (_o, ns) => enqueue(ns) }, { resyncPeriodMs: o.resyncMs ?? 5 * 60_000 });
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!(await waitForCacheSync(signal, this.informer))) return;
    this.log.info('starting');
    await runWorkers(this.queue, this.o.workers ?? 10, (name) => this.sync(name), signal, { log: this.log, name: 'namespace' });
    this.log.info('stopped');
  }

  async sync(name: string): Promise<ReconcileResult> {
    const cached = this.namespaces.get(name);
    if (!cached?.metadata.deletionTimestamp) return;
    const nsClient = this.o.client.resource(Resources.namespaces);
    let ns: Namespace;
    try {
      ns = await nsClient.get(name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (!ns.metadata.deletionTimestamp) return;
    if (ns.status?.phase !== 'Terminating') {
      ns = await nsClient.updateStatus({ ...ns, status: { ...(ns.status ?? {}), phase: 'Terminating' } });
    }
    if (!(ns.spec?.finalizers ?? []).includes(finalizerKubernetes)) return;

    const { resources, failedGroups } = await this.o.discovery.resources();
    const failed = Object.entries(failedGroups);
    const discoveryError = failed.length ? `Discovery failed for some groups, ${failed.length} failing: ${failed.map(([g, e]) => `${g}: ${e}`).join(', ')}` : undefined;
    const deletable = resources.filter((r) => r.namespaced && r.verbs.includes('delete') && r.verbs.includes('list'));
    const content = await this.deleteAllContent(name, deletable);

    const now = rfc3339(this.clock.now());
    const fresh = await nsClient.get(name).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
    if (!fresh) return;
    if (updateConditions(fresh, deletionConditions(discoveryError, content), now)) {
      try {
        await nsClient.updateStatus(fresh);
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) throw err;
      }
    }
    if (discoveryError) throw new Error(`namespace ${name}: ${discoveryError}`);
    if (content.errors.length) throw new Error(`namespace ${name}: ${content.errors.join('; ')}`);
    const left = [...content.byResource.values()].reduce((a, b) => a + b, 0);
    if (left > 0) {
      const waitMs = Math.min(this.o.maxRecheckMs ?? 5000, (Math.floor(content.estimateSeconds / 2) + 1) * 1000);
      this.log.debug({ namespace: name, remaining: left, recheckMs: waitMs }, 'content remains');
      return { requeueAfterMs: waitMs };
    }
    await this.finalize(name);
    return;
  }

  /** One round of deletion of everything in the namespace; reports what is left. */
  async deleteAllContent(namespace: string, resources: DiscoveredResource[]): Promise<ContentRemaining> {
    const content: ContentRemaining = { estimateSeconds: 0, byResource: new Map(), byFinalizer: new Map(), errors: [] };
    const now = this.clock.now();
    await Promise.all(
      resources.map(async (r) => {
        const d = defineResourceDescriptor<KubeObject>({ group: r.group, version: r.version, resource: r.resource, kind: r.kind, namespaced: true });
        const client = this.o.client.resource(d, namespace);
        try {
          if (r.resource === 'pods' && r.group === '') {
            const pods = (await client.list()).items as Pod[];
            content.estimateSeconds = Math.max(content.estimateSeconds, estimatePods(pods, now));
          }
          let collected = false;
          if (r.verbs.includes('deletecollection')) {
            try {
              await client.deleteCollection();
              collected = true;
            } catch (err) {
              // Not supported after all: fall back to one by one.
              if (!(err instanceof StatusError && (err.code === 405 || err.code === 404))) throw err;
            }
          }
          if (!collected) {
            for (const item of (await client.list()).items) {
              if (item.metadata.deletionTimestamp) continue;
              try {
                await client.delete(item.metadata.name!, { preconditions: { uid: item.metadata.uid } });
              } catch (err) {
                if (!isNotFound(err) && !isConflict(err)) throw err;
              }
            }
          }
          const left = (await client.list()).items;
          if (left.length) {
            content.byResource.set(groupResource(r), left.length);
            for (const item of left) for (const f of item.metadata.finalizers ?? []) content.byFinalizer.set(f, (content.byFinalizer.get(f) ?? 0) + 1);
            // Content held by finalizers: give their controllers time.
            if (left.some((i) => (i.metadata.finalizers ?? []).length) && content.estimateSeconds === 0) content.estimateSeconds = 1;
          }
        } catch (err) {
          if (isNotFound(err)) return; // the resource went away with its definition
          content.errors.push(`${groupResource(r)}: ${(err as Error).message}`);
        }
      }),
    );
    return content;
  }

  /** Removes our finalizer through /finalize; the API server deletes the namespace when none are left. */
  private async finalize(name: string): Promise<void> {
    const nsClient = this.o.client.resource(Resources.namespaces);
    for (let attempt = 0; ; attempt++) {
      let ns: Namespace;
      try {
        ns = await nsClient.get(name);
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      const finalizers = (ns.spec?.finalizers ?? []).filter((f) => f !== finalizerKubernetes);
      try {
        await nsClient.updateSubresource(name, 'finalize', { ...ns, spec: { ...(ns.spec ?? {}), finalizers } });
        this.log.info({ namespace: name }, 'namespace emptied and finalized');
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err) || attempt >= 4) throw err;
      }
    }
  }
}
