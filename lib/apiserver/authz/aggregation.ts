/**
 * ClusterRole aggregation (upstream's clusterrole-aggregation controller, run here in the API
 * server): a ClusterRole with an aggregationRule gets, as its rules, the union of the rules of
 * every other ClusterRole whose labels match one of its selectors, in name order, and keeps
 * them up to date as those roles come, change and go.
 */
import type { Logger } from 'pino';
import type { ClusterRole, PolicyRule } from '../../api/index.js';
import { rbacGroup } from '../../api/index.js';
import { sleep } from '../../base/index.js';
import { isConflict, isNotFound, labelSelectorFromObject } from '../../machinery/index.js';
import { newContext, type Registry } from '../../registry/index.js';
import { compactRules } from './rules.js';

const system = { username: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] };

/** The rules an aggregated role should have, given every ClusterRole. */
export function aggregatedRules(role: ClusterRole, all: ClusterRole[]): PolicyRule[] {
  const selectors = (role.aggregationRule?.clusterRoleSelectors ?? []).map((s) => labelSelectorFromObject(s));
  const sources = all
    .filter((c) => c.metadata.name !== role.metadata.name && selectors.some((s) => s.matches(c.metadata.labels)))
    .sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
  return compactRules(sources.flatMap((c) => c.rules ?? []));
}

export class ClusterRoleAggregator {
  private dirty = true;
  private wake?: () => void;

  constructor(
    private readonly registry: Registry,
    private readonly log: Logger,
  ) {}

  /** One pass over every aggregated role. */
  async syncOnce(): Promise<void> {
    const store = this.registry.mustGet(rbacGroup, 'clusterroles');
    const all = (store.cache?.list().items ?? []).map((c) => c.object as unknown as ClusterRole);
    for (const role of all) {
      if (!role.aggregationRule) continue;
      const want = aggregatedRules(role, all);
      if (JSON.stringify(want) === JSON.stringify(role.rules ?? [])) continue;
      try {
        await store.update(newContext({ user: system }), role.metadata.name!, (cur) => {
          if (!cur) throw new Error('gone');
          return { ...cur, rules: want };
        });
        this.log.info({ clusterrole: role.metadata.name, rules: want.length }, 'aggregated cluster role rules');
      } catch (err) {
        if (isConflict(err) || isNotFound(err)) this.dirty = true;
        else throw err;
      }
    }
  }

  /** Waits for a poke or the end; leaves no listener behind on the (long-lived) signal. */
  private idle(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  async start(signal: AbortSignal): Promise<void> {
    const cache = this.registry.mustGet(rbacGroup, 'clusterroles').cache;
    if (!cache) throw new Error('aggregation needs the watch cache');
    await cache.start();
    const poke = () => {
      this.dirty = true;
      this.wake?.();
    };
    let handle = cache.watch(cache.rv, { send: () => (poke(), true), close: () => poke(), eventTypesOnly: true });
    // A periodic look as well: a closed watch (cache restart) must not stop aggregation.
    const resync = setInterval(() => {
      handle.stop();
      handle = cache.watch(cache.rv, { send: () => (poke(), true), close: () => poke(), eventTypesOnly: true });
      poke();
    }, 30_000);
    try {
      while (!signal.aborted) {
        if (!this.dirty) {
          await this.idle(signal);
          continue;
        }
        this.dirty = false;
        try {
          await this.syncOnce();
        } catch (err) {
          this.log.warn({ err }, 'cluster role aggregation failed; retrying');
          this.dirty = true;
          await sleep(500, signal);
        }
      }
    } finally {
      clearInterval(resync);
      handle.stop();
    }
  }
}
