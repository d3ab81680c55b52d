/**
 * The iptables-mode proxier: keeps the kernel's nat and filter tables in line with the desired
 * state, one `iptables-restore --noflush` per sync.
 *
 * Syncs:
 *   change ──(at most one per minSyncPeriod)──▶ partial sync: only the chains of services whose
 *                                              rules changed, plus `-X` of chains no longer used
 *   every syncPeriod ─────────────────────────▶ full sync from the model: rewrite every chain,
 *                                              `-X` the chains of the last applied model that are
 *                                              gone, and `-C` (check) every jump from the built-in
 *                                              chains in the same restore
 *   on start, after a failed sync, after
 *   cleanup(), or when the restore above     ─▶ full sync from `iptables-save`: rewrite every
 *   was rejected                               chain, re-insert missing jumps from the built-in
 *                                              chains, delete every leftover chain of ours
 * The proxier knows what it applied, so the periodic full sync needs no `iptables-save` (whose
 * cost grows with the ruleset). What others did to the tables it need not know for our own chains:
 * each is written whole, and created again if it was deleted. What that sync does not write are
 * the jumps from the built-in chains, and they are what a flushed table (a firewall reload) loses
 * first: so each is checked with `-C` at the top of the same restore. When one is gone,
 * iptables-restore rejects the payload before writing anything, and the same sync starts over from
 * `iptables-save`. The jumps are the canaries (upstream kube-proxy keeps a separate
 * KUBE-PROXY-CANARY chain, which tells a flush but not one jump deleted). Tables flushed behind
 * our back come back within one sync period either way.
 */
import type { Logger } from '../../base/index.js';
import { MetricsRegistry, type Counter, type Gauge, type Histogram } from '../../base/index.js';
import type { ProxyHost } from '../host.js';
import { ProxyStateStore, StoreBackedSink } from '../state.js';
import type { Proxier } from '../proxier.js';
import { KUBE_FIREWALL } from './chain-names.js';
import { changedServices, generateRules, natChainsOf, RuleCache, type RuleGeneratorOptions, type RuleModel, type ServicePortRules } from './rules.js';
import { jumpsIntoOwnedChains, missingJumps, ownedChains, parseSave, renderRestore, type SavedTables } from './restore.js';
import { renderCleanup } from './cleanup.js';
import { SyncRunner } from '../sync-runner.js';

export interface IptablesProxierOptions extends RuleGeneratorOptions {
  host: ProxyHost;
  log: Logger;
  /** Registry for the sync metrics; a private one when omitted (see `metrics`). */
  metrics?: MetricsRegistry;
  /** Full resync period (upstream `--sync-period`, formerly `--iptables-sync-period`). Default 30 s. */
  syncPeriodMs?: number;
  /** Minimum time between two syncs (upstream `--min-sync-period`, formerly `--iptables-min-sync-period`). Default 1 s. */
  minSyncPeriodMs?: number;
}

export interface SyncResult {
  full: boolean;
  /** Services whose chains were written (all of them on a full sync). */
  changedServices: string[];
  /** Chains deleted with -X. */
  deletedChains: string[];
  /** The payload given to iptables-restore. */
  payload: string;
}

/** Upstream's sync latency buckets: 1 ms doubling up to about 16 s. */
const latencyBuckets = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);

export class IptablesProxier extends StoreBackedSink implements Proxier {
  protected readonly store: ProxyStateStore;
  private readonly host: ProxyHost;
  private readonly log: Logger;
  private readonly syncPeriodMs: number;
  private readonly minSyncPeriodMs: number;
  private readonly genOpts: RuleGeneratorOptions;
  private readonly ruleCache = new RuleCache();

  /** The model the kernel holds since the last successful sync. */
  private applied: RuleModel | undefined;
  private needFullSync = true;
  /** The kernel may hold rules `applied` does not describe: the next full sync reads iptables-save. */
  private needSave = true;
  private readonly runner: SyncRunner;
  private sysctlsDone = false;

  readonly metrics: MetricsRegistry;
  private readonly mSyncLatency: Histogram;
  private readonly mFullLatency: Histogram;
  private readonly mPartialLatency: Histogram;
  private readonly mLastSync: Gauge;
  private readonly mRestoreFailures: Counter;
  private readonly mPartialRestoreFailures: Counter;
  private readonly mRulesTotal: Gauge;
  private readonly mRulesLastSync: Gauge;

  /** Time (ms since epoch) of the last successful sync. */
  lastSyncTime: number | undefined;
  syncedGeneration = -1;
  get stateGeneration(): number {
    return this.store.generation;
  }

  constructor(opts: IptablesProxierOptions) {
    super();
    const { host, log, metrics, syncPeriodMs, minSyncPeriodMs, ...gen } = opts;
    this.host = host;
    this.log = log.child({ proxier: 'iptables' });
    this.syncPeriodMs = syncPeriodMs ?? 30_000;
    this.minSyncPeriodMs = minSyncPeriodMs ?? 1_000;
    this.genOpts = gen;
    this.store = new ProxyStateStore(() => this.runner.request());
    this.runner = new SyncRunner({
      run: () => this.syncOnce(),
      minIntervalMs: this.minSyncPeriodMs,
      periodMs: this.syncPeriodMs,
      onPeriodic: () => {
        this.needFullSync = true;
      },
    });
    this.metrics = metrics ?? new MetricsRegistry();
    const m = this.metrics;
    this.mSyncLatency = m.histogram('kubeproxy_sync_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds', latencyBuckets);
    this.mFullLatency = m.histogram('kubeproxy_sync_full_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds for full resyncs', latencyBuckets);
    this.mPartialLatency = m.histogram('kubeproxy_sync_partial_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds for partial resyncs', latencyBuckets);
    this.mLastSync = m.gauge('kubeproxy_sync_proxy_rules_last_timestamp_seconds', 'The last time proxy rules were successfully synced');
    this.mRestoreFailures = m.counter('kubeproxy_sync_proxy_rules_iptables_restore_failures_total', 'Cumulative proxy iptables restore failures');
    this.mPartialRestoreFailures = m.counter('kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total', 'Cumulative proxy iptables partial restore failures');
    this.mRulesTotal = m.gauge('kubeproxy_sync_proxy_rules_iptables_total', 'Total number of iptables rules owned by kube-proxy');
    this.mRulesLastSync = m.gauge('kubeproxy_sync_proxy_rules_iptables_last', 'Number of iptables rules written by kube-proxy in last sync');
  }

  /** The model the kernel holds since the last successful sync. */
  get appliedModel(): RuleModel | undefined {
    return this.applied;
  }

  /**
   * Runs until `signal` aborts: syncs as soon as the initial state is known, then on changes (at
   * most once per minSyncPeriod) and fully every syncPeriod. Failed syncs are retried with
   * backoff; they never end the loop. Rules stay in place after a stop (like upstream);
   * `cleanup()` removes them.
   */
  async start(signal: AbortSignal): Promise<void> {
    this.needFullSync = true;
    await this.runner.start(signal);
  }

  /**
   * Syncs now (after a sync in progress). Resolves with what was written, or undefined when the
   * initial state is not known yet; rejects when iptables-restore failed (the next sync is then a
   * full one; the loop, when running, retries by itself).
   */
  sync(opts: { full?: boolean } = {}): Promise<SyncResult | undefined> {
    if (opts.full) this.needFullSync = true;
    return this.runner.runNow() as Promise<SyncResult | undefined>;
  }

  private async syncOnce(): Promise<SyncResult | undefined> {
    if (!this.store.ready) {
      this.log.debug('not syncing until services and endpoint slices are known');
      return undefined;
    }
    const startedAt = performance.now();
    const full = this.needFullSync || !this.applied;
    const generation = this.store.generation;
    const next = generateRules(this.store.snapshot(), this.genOpts, this.ruleCache);
    const prev = this.applied;
    let result: SyncResult;
    try {
      if (this.genOpts.localhostNodePorts && !this.sysctlsDone) {
        await this.host.setSysctl('net/ipv4/conf/all/route_localnet', '1');
        this.sysctlsDone = true;
      }
      result = full ? await this.fullSync(next) : await this.partialSync(prev!, next);
    } catch (err) {
      // The kernel may hold anything now: only a full sync from iptables-save knows.
      this.needFullSync = true;
      this.needSave = true;
      this.mRestoreFailures.inc();
      if (!full) this.mPartialRestoreFailures.inc();
      this.log.error({ err, full }, 'sync failed');
      throw err;
    }
    this.applied = next;
    this.needFullSync = false;
    this.syncedGeneration = generation;
    this.lastSyncTime = Date.now();
    const seconds = (performance.now() - startedAt) / 1000;
    this.mSyncLatency.observe({}, seconds);
    (full ? this.mFullLatency : this.mPartialLatency).observe({}, seconds);
    this.mLastSync.set({}, this.lastSyncTime / 1000);
    const natRules = next.nat.rules.length + next.services.reduce((n, s) => n + s.rules.length, 0);
    this.mRulesTotal.set({ table: 'nat' }, natRules);
    this.mRulesTotal.set({ table: 'filter' }, next.filter.rules.length);
    this.mRulesLastSync.set({ table: 'all' }, countWrittenRules(result.payload));
    const fields = { full, services: next.services.length, changed: result.changedServices.length, deleted: result.deletedChains.length, seconds };
    // Periodic syncs that change nothing are routine: keep them out of the info log.
    if (result.changedServices.length || result.deletedChains.length || !prev) this.log.info(fields, 'synced iptables rules');
    else this.log.debug(fields, 'synced iptables rules');
    await this.cleanConntrack(prev, next);
    return result;
  }

  private async fullSync(next: RuleModel): Promise<SyncResult> {
    const prev = this.applied;
    if (this.needSave || !prev) return this.fullSyncFromSave(next);
    // The periodic full sync: every chain rewritten from the model, the chains of the last applied
    // model that are no longer wanted deleted, the jumps from the built-in chains checked, not read.
    const { staleNat, staleFilter } = staleChains(next, [...natChainsOf(prev)], prev.filter.chains);
    const payload = renderRestore(next, { deleteChains: { nat: staleNat, filter: staleFilter }, checkRules: next.jumps });
    try {
      await this.host.restore(payload);
    } catch (err) {
      // Most likely a check failed: a jump from a built-in chain is gone (nothing was written: the
      // checks come first). Whatever it was, a full sync from iptables-save sorts it out, and
      // reports it if it fails too.
      this.log.info({ err }, 'iptables-restore rejected the full sync (tables flushed or changed behind our back?): re-reading them with iptables-save');
      return this.fullSyncFromSave(next);
    }
    return { full: true, changedServices: serviceKeys(next), deletedChains: [...staleFilter, ...staleNat], payload };
  }

  /** The full sync that trusts nothing: reads what the kernel holds first. */
  private async fullSyncFromSave(next: RuleModel): Promise<SyncResult> {
    const saved = parseSave(await this.host.save(['filter', 'nat']));
    const { staleNat, staleFilter } = staleChains(next, ownedChains(saved, 'nat'), ownedChains(saved, 'filter'));
    const payload = renderRestore(next, {
      deleteChains: { nat: staleNat, filter: staleFilter },
      deleteRules: jumpsIntoOwnedChains(saved, ['filter', 'nat'], new Set([...staleNat, ...staleFilter])),
      insertJumps: missingJumpsFor(saved, next),
    });
    await this.host.restore(payload);
    this.needSave = false;
    return { full: true, changedServices: serviceKeys(next), deletedChains: [...staleFilter, ...staleNat], payload };
  }

  private async partialSync(prev: RuleModel, next: RuleModel): Promise<SyncResult> {
    const changed = changedServices(prev, next);
    const wanted = natChainsOf(next);
    const stale = [...natChainsOf(prev)].filter((c) => !wanted.has(c));
    const payload = renderRestore(next, { changedServices: changed, deleteChains: { nat: stale } });
    await this.host.restore(payload);
    return { full: false, changedServices: [...changed], deletedChains: stale, payload };
  }

  /**
   * UDP has no connection end, so conntrack keeps steering a client's packets to a removed
   * endpoint (or, for a service that had none, to nowhere) until the entry times out. Delete those
   * entries: flows DNATed to endpoints that are gone, and every flow of a service that just got
   * its first endpoint.
   */
  private async cleanConntrack(prev: RuleModel | undefined, next: RuleModel): Promise<void> {
    const byKey = (m: RuleModel | undefined) => new Map((m?.services ?? []).filter((s) => s.info.protocol === 'UDP').map((s) => [s.key, s]));
    const before = byKey(prev);
    const after = byKey(next);
    const tasks: Parameters<ProxyHost['deleteConntrack']>[0][] = [];
    const addresses = (s: ServicePortRules) => [s.info.clusterIP, ...s.info.externalIPs, ...s.info.loadBalancerIPs];
    for (const [key, old] of before) {
      const cur = after.get(key);
      const keep = new Set(cur?.endpoints ?? []);
      for (const ep of old.endpoints) {
        if (keep.has(ep)) continue;
        const ip = ep.slice(0, ep.lastIndexOf(':'));
        for (const a of addresses(old)) tasks.push({ protocol: 'udp', origDst: a, dstNat: ip });
        if (old.info.nodePort) tasks.push({ protocol: 'udp', origPortDst: old.info.nodePort, dstNat: ip });
      }
    }
    for (const [key, cur] of after) {
      if (!cur.hasEndpoints || before.get(key)?.hasEndpoints) continue;
      for (const a of addresses(cur)) tasks.push({ protocol: 'udp', origDst: a });
      if (cur.info.nodePort) tasks.push({ protocol: 'udp', origPortDst: cur.info.nodePort });
    }
    for (const t of tasks) {
      try {
        const n = await this.host.deleteConntrack(t);
        if (n > 0) this.log.info({ filter: t, deleted: n }, 'deleted stale conntrack entries');
      } catch (err) {
        this.log.warn({ err, filter: t }, 'could not delete stale conntrack entries');
      }
    }
  }

  /**
   * Removes every chain and jump tkube-proxy installed (in either mode) from the filter and nat
   * tables, in one iptables-restore. Other programs' rules are left alone. The next sync starts
   * from scratch.
   */
  cleanup(): Promise<void> {
    return this.runner.serialized(async () => {
      const saved = parseSave(await this.host.save(['filter', 'nat']));
      const payload = renderCleanup(saved);
      if (payload) await this.host.restore(payload);
      this.applied = undefined;
      this.needFullSync = true;
      this.needSave = true;
      this.log.info('removed all proxy rules');
    });
  }
}

/** Chains of ours there now (per table) that `next` no longer has. */
function staleChains(next: RuleModel, nat: readonly string[], filter: readonly string[]): { staleNat: string[]; staleFilter: string[] } {
  const wantNat = natChainsOf(next);
  const wantFilter = new Set(next.filter.chains);
  return { staleNat: nat.filter((c) => !wantNat.has(c)), staleFilter: filter.filter((c) => !wantFilter.has(c)) };
}

function serviceKeys(model: RuleModel): string[] {
  return [...new Set(model.services.map((s) => s.serviceKey))];
}

/** Rules a payload adds (`-A` and `-I` lines). */
function countWrittenRules(payload: string): number {
  return payload.match(/^-[AI] /gm)?.length ?? 0;
}

function missingJumpsFor(saved: SavedTables, next: RuleModel) {
  return missingJumps(saved, next.jumps).filter((j) => j.target !== KUBE_FIREWALL || next.filter.chains.includes(KUBE_FIREWALL));
}
