/**
 * The API server's CRD controller: when a CustomResourceDefinition is created, its versions are
 * served live under /apis/<group>/<version>/[namespaces/<ns>/]<plural> (and appear in discovery
 * and OpenAPI); its status says NamesAccepted and Established. When it is deleted, every object
 * of it is deleted first, then the cleanup finalizer goes and the resource stops being served.
 */
import type { Logger } from 'pino';
import { rfc3339, sleep } from '../base/index.js';
import { crdCleanupFinalizer, customResourceType, type CustomResourceDefinition } from '../api/index.js';
import { isNotFound, isConflict, stableStringify } from '../machinery/index.js';
import { newContext, statusStrategy, type Registry, type Store } from '../registry/index.js';

interface Served {
  group: string;
  plural: string;
  spec: string;
  terminating: boolean;
}

type Condition = NonNullable<NonNullable<CustomResourceDefinition['status']>['conditions']>[number];

const system = { username: 'system:apiserver', groups: ['system:masters'] };

export class CRDController {
  private readonly served = new Map<string, Served>();
  private readonly pending = new Set<string>();
  private wake?: () => void;

  constructor(
    private readonly registry: Registry,
    private readonly log: Logger,
  ) {}

  private get crds(): Store {
    return this.registry.mustGet('apiextensions.k8s.io', 'customresourcedefinitions');
  }

  private enqueue(name: string) {
    this.pending.add(name);
    this.wake?.();
  }

  /** Serves every established definition before the API server answers requests. */
  async syncAll(): Promise<void> {
    const list = await this.crds.list(newContext({ user: system }), {});
    for (const c of list.items) await this.reconcile(c.object.metadata.name!).catch((err: unknown) => this.log.warn({ err }, 'initial CRD sync failed'));
  }

  async start(signal: AbortSignal): Promise<void> {
    const cache = this.crds.cache;
    if (!cache) throw new Error('the CRD controller needs the watch cache');
    await cache.start();
    const handle = cache.watch(0, { send: (evs) => (evs.forEach((e) => this.enqueue(e.object.object.metadata.name!)), true), close: () => {} }, { initial: true });
    const resync = setInterval(() => {
      for (const c of cache.list().items) this.enqueue(c.object.metadata.name!);
      for (const name of this.served.keys()) this.enqueue(name);
    }, 30_000);
    try {
      while (!signal.aborted) {
        if (this.pending.size === 0) {
          await new Promise<void>((resolve) => {
            this.wake = resolve;
            signal.addEventListener('abort', () => resolve(), { once: true });
          });
          this.wake = undefined;
          continue;
        }
        const [name] = this.pending;
        this.pending.delete(name!);
        try {
          const again = await this.reconcile(name!);
          if (again) setTimeout(() => this.enqueue(name!), 500);
        } catch (err) {
          if (!isConflict(err)) this.log.warn({ err, crd: name }, 'CRD reconcile failed; retrying');
          await sleep(200, signal);
          this.enqueue(name!);
        }
      }
    } finally {
      handle.stop();
      clearInterval(resync);
    }
  }

  /** One pass for one definition. Returns true when it should be looked at again soon. */
  async reconcile(name: string): Promise<boolean> {
    const ctx = newContext({ user: system, fieldManager: 'kube-apiserver' });
    let crd: CustomResourceDefinition;
    try {
      crd = (await this.crds.get(ctx, name)) as CustomResourceDefinition;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.unserve(name);
      return false;
    }
    const { group, names } = crd.spec;
    const conflict = this.nameConflict(name, group, names.plural);
    if (conflict && crd.metadata.deletionTimestamp) {
      // Never served: nothing of it to clean up.
      await this.removeFinalizer(ctx, crd);
      return false;
    }
    if (conflict) {
      await this.setConditions(crd, [
        { type: 'NamesAccepted', status: 'False', reason: 'PluralConflict', message: conflict },
        { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' },
      ]);
      return false;
    }
    const terminating = !!crd.metadata.deletionTimestamp;
    this.serve(name, crd, terminating);
    if (!terminating) {
      await this.setConditions(crd, [
        { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' },
        { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
      ]);
      return false;
    }
    // Deleting: remove every object of the definition, then let the definition go.
    await this.setConditions(crd, [{ type: 'Terminating', status: 'True', reason: 'InstanceDeletionInProgress', message: 'CustomResourceDefinition marked for deletion; deleting instances' }]);
    const store = this.registry.get(group, names.plural);
    if (store) {
      const remaining = await store.list(ctx, {});
      if (remaining.items.length > 0) {
        await store.deleteCollection(ctx, {}, {});
        const left = await store.list(ctx, {});
        if (left.items.length > 0) return true;
      }
    }
    await this.removeFinalizer(ctx, crd);
    this.unserve(name);
    return false;
  }

  private async removeFinalizer(ctx: ReturnType<typeof newContext>, crd: CustomResourceDefinition): Promise<void> {
    await this.crds.update(ctx, crd.metadata.name!, (cur) => {
      if (!cur) return crd;
      cur.metadata.finalizers = (cur.metadata.finalizers ?? []).filter((f) => f !== crdCleanupFinalizer);
      return cur;
    });
  }

  private nameConflict(crdName: string, group: string, plural: string): string | undefined {
    for (const [other, s] of this.served) if (other !== crdName && s.group === group && s.plural === plural) return `"${plural}" is already in use`;
    const existing = this.registry.get(group, plural);
    if (existing && !existing.rt.custom) return `"${plural}" is already in use`;
    return undefined;
  }

  private serve(name: string, crd: CustomResourceDefinition, terminating: boolean): void {
    const spec = stableStringify(crd.spec);
    const cur = this.served.get(name);
    if (cur && cur.spec === spec && cur.terminating === terminating) return;
    const { group, names } = crd.spec;
    if (cur) this.registry.remove(cur.group, cur.plural);
    const prefix = `${this.registry.prefix}/${group}/${names.plural}/`;
    for (const v of crd.spec.versions.filter((x) => x.served)) {
      const rt = customResourceType(crd, v);
      // No new objects while a definition is being deleted.
      if (terminating) rt.verbs = rt.verbs.filter((verb) => verb !== 'create');
      this.registry.add(rt, statusStrategy(rt), prefix);
    }
    void this.registry.get(group, names.plural)?.cache?.start();
    this.served.set(name, { group, plural: names.plural, spec, terminating });
    this.log.info({ crd: name, versions: crd.spec.versions.filter((x) => x.served).map((v) => v.name) }, 'serving custom resource');
  }

  private unserve(name: string): void {
    const cur = this.served.get(name);
    if (!cur) return;
    this.registry.remove(cur.group, cur.plural);
    this.served.delete(name);
    this.log.info({ crd: name }, 'stopped serving custom resource');
  }

  private async setConditions(crd: CustomResourceDefinition, wanted: Omit<Condition, 'lastTransitionTime'>[]): Promise<void> {
    const now = rfc3339();
    const status = crd.status ?? {};
    const conditions = [...(status.conditions ?? [])];
    let changed = false;
    for (const w of wanted) {
      const i = conditions.findIndex((c) => c.type === w.type);
      const prev = i >= 0 ? conditions[i] : undefined;
      if (prev && prev.status === w.status && prev.reason === w.reason && prev.message === w.message) continue;
      const next: Condition = { ...w, lastTransitionTime: prev && prev.status === w.status ? prev.lastTransitionTime : now };
      if (i >= 0) conditions[i] = next;
      else conditions.push(next);
      changed = true;
    }
    const storage = crd.spec.versions.find((v) => v.storage)?.name;
    const stored = new Set(status.storedVersions ?? []);
    if (storage && !stored.has(storage)) {
      stored.add(storage);
      changed = true;
    }
    const accepted = wanted.some((w) => w.type === 'NamesAccepted' && w.status === 'True') ? crd.spec.names : status.acceptedNames;
    if (stableStringify(accepted) !== stableStringify(status.acceptedNames)) changed = true;
    if (!changed) return;
    await this.crds.update(newContext({ user: system, subresource: 'status', fieldManager: 'kube-apiserver' }), crd.metadata.name!, (cur) => {
      if (!cur) return crd;
      const c = cur as CustomResourceDefinition;
      c.status = { conditions, acceptedNames: accepted, storedVersions: [...stored] };
      return c;
    });
  }
}
