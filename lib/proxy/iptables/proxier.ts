/**
 * The iptables-mode proxier: keeps the kernel's nat and filter tables in line with the desired
 * state, one `iptables-restore --noflush` per sync.
 *
 * Syncs:
 *   change ──(at most one per minSyncPeriod)──▶ partial sync: only the chains of services whose
 *                                              rules changed, plus `-X` of chains no longer used
 *   every syncPeriod, on start, after a failure ─▶ full sync: read `iptables-save`, rewrite every
 *                                              chain, re-insert missing jumps from the built-in
 *                                              chains, delete leftover chains of ours
 * A full sync every syncPeriod also repairs tables flushed behind our back (a firewall reload)
 * within one period. Upstream kube-proxy does full syncs hourly and watches a canary chain
 * instead; at tkube's scale the periodic `iptables-save` is cheap and simpler to reason about.
 */
import type { Logger } from '../../base/index.js';
import { MetricsRegistry, type Counter, type Gauge, type Histogram } from '../../base/index.js';
import type { EndpointSlice, Service } from '../../api/index.js';
import type { ProxyHost } from '../host.js';
import { ProxyStateStore, type ProxyState } from '../state.js';
import type { Proxier } from '../proxier.js';
import { KUBE_FIREWALL } from './chain-names.js';
import { changedServices, generateRules, natChainsOf, type RuleGeneratorOptions, type RuleModel, type ServicePortRules } from './rules.js';
import { jumpsIntoOwnedChains, missingJumps, ownedChains, parseSave, renderRestore, type SavedTables } from './restore.js';
import { renderCleanup } from './cleanup.js';

export interface IptablesProxierOptions extends RuleGeneratorOptions {
  host: ProxyHost;
  log: Logger;
  /** Registry for the sync metrics; a private one when omitted (see `metrics`). */
  metrics?: MetricsRegistry;
  /** Full resync period (upstream `--iptables-sync-period`). Default 30 s. */
  syncPeriodMs?: number;
  /** Minimum time between two syncs (upstream `--iptables-min-sync-period`). Default 1 s. */
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

export class IptablesProxier implements Proxier {
  private readonly store: ProxyStateStore;
  private readonly host: ProxyHost;
  private readonly log: Logger;
  private readonly syncPeriodMs: number;
  private readonly minSyncPeriodMs: number;
  private readonly genOpts: RuleGeneratorOptions;

  /** The model the kernel holds since the last successful sync. */
  private applied: RuleModel | undefined;
  private needFullSync = true;
  private lastSyncStart = 0;
  private consecutiveFailures = 0;
  /** Syncs and cleanups run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private periodic: NodeJS.Timeout | undefined;
  private started = false;
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

  constructor(opts: IptablesProxierOptions) {
    const { host, log, metrics, syncPeriodMs, minSyncPeriodMs, ...gen } = opts;
    this.host = host;
    this.log = log.child({ proxier: 'iptables' });
    this.syncPeriodMs = syncPeriodMs ?? 30_000;
    this.minSyncPeriodMs = minSyncPeriodMs ?? 1_000;
    this.genOpts = gen;
    this.store = new ProxyStateStore(() => this.requestSync());
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

  // ---- state input (see ProxyStateSink) ----
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

  /** The model the kernel holds since the last successful sync. */
  get appliedModel(): RuleModel | undefined {
    return this.applied;
  }

  /**
   * Runs until `signal` aborts: syncs as soon as the initial state is known, then on changes (at
   * most once per minSyncPeriod) and fully every syncPeriod. Failed syncs are retried; they never
   * end the loop. Rules stay in place after a stop (like upstream); `cleanup()` removes them.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.started) throw new Error('IptablesProxier.start called twice');
    this.started = true;
    this.needFullSync = true;
    this.periodic = setInterval(() => {
      this.needFullSync = true;
      this.requestSync(true);
    }, this.syncPeriodMs);
    this.requestSync(true);
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    this.started = false;
    clearInterval(this.periodic);
    clearTimeout(this.timer);
    this.timer = this.periodic = undefined;
    await this.queue;
  }

  /** Schedules a sync, no sooner than minSyncPeriod after the previous one (now, when `immediate`). */
  private requestSync(immediate = false): void {
    if (!this.started) return;
    if (this.timer) {
      if (!immediate) return;
      clearTimeout(this.timer);
    }
    const wait = immediate ? 0 : Math.max(0, this.lastSyncStart + this.minSyncPeriodMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.sync().catch(() => undefined);
    }, wait);
  }

  /**
   * Syncs now (waiting for a sync in progress first). Resolves with what was written, or
   * undefined when the initial state is not known yet; rejects when iptables-restore failed (the
   * next sync is then a full one, retried with backoff when the loop runs).
   */
  sync(opts: { full?: boolean } = {}): Promise<SyncResult | undefined> {
    return this.serialized(() => {
      if (opts.full) this.needFullSync = true;
      return this.syncOnce();
    });
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async syncOnce(): Promise<SyncResult | undefined> {
    if (!this.store.ready) {
      this.log.debug('not syncing until services and endpoint slices are known');
      return undefined;
    }
    const startedAt = performance.now();
    this.lastSyncStart = Date.now();
    const full = this.needFullSync || !this.applied;
    const next = generateRules(this.store.snapshot(), this.genOpts);
    const prev = this.applied;
    let result: SyncResult;
    try {
      if (this.genOpts.localhostNodePorts && !this.sysctlsDone) {
        await this.host.setSysctl('net/ipv4/conf/all/route_localnet', '1');
        this.sysctlsDone = true;
      }
      result = full ? await this.fullSync(next) : await this.partialSync(prev!, next);
    } catch (err) {
      this.needFullSync = true;
      this.consecutiveFailures++;
      this.mRestoreFailures.inc();
      if (!full) this.mPartialRestoreFailures.inc();
      const retryMs = Math.min(this.syncPeriodMs, Math.max(this.minSyncPeriodMs, 500) * 2 ** (this.consecutiveFailures - 1));
      this.log.error({ err, full, retryMs }, 'sync failed');
      if (this.started && !this.timer) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          void this.sync().catch(() => undefined);
        }, retryMs);
      }
      throw err;
    }
    this.applied = next;
    this.needFullSync = false;
    this.consecutiveFailures = 0;
    this.lastSyncTime = Date.now();
    const seconds = (performance.now() - startedAt) / 1000;
    this.mSyncLatency.observe({}, seconds);
    (full ? this.mFullLatency : this.mPartialLatency).observe({}, seconds);
    this.mLastSync.set({}, this.lastSyncTime / 1000);
    const natRules = next.nat.rules.length + next.services.reduce((n, s) => n + s.rules.length, 0);
    this.mRulesTotal.set({ table: 'nat' }, natRules);
    this.mRulesTotal.set({ table: 'filter' }, next.filter.rules.length);
    const written = result.payload.split('\n').filter((l) => l.startsWith('-A ') || l.startsWith('-I '));
    this.mRulesLastSync.set({ table: 'all' }, written.length);
    this.log.info(
      { full, services: next.services.length, changed: result.changedServices.length, deleted: result.deletedChains.length, seconds },
      'synced iptables rules',
    );
    await this.cleanConntrack(prev, next);
    return result;
  }

  private async fullSync(next: RuleModel): Promise<SyncResult> {
    const saved = parseSave(await this.host.save(['filter', 'nat']));
    const wantNat = natChainsOf(next);
    const wantFilter = new Set(next.filter.chains);
    const staleNat = ownedChains(saved, 'nat').filter((c) => !wantNat.has(c));
    const staleFilter = ownedChains(saved, 'filter').filter((c) => !wantFilter.has(c));
    const payload = renderRestore(next, {
      deleteChains: { nat: staleNat, filter: staleFilter },
      deleteRules: jumpsIntoOwnedChains(saved, ['filter', 'nat'], new Set([...staleNat, ...staleFilter])),
      insertJumps: missingJumpsFor(saved, next),
    });
    await this.host.restore(payload);
    return { full: true, changedServices: [...new Set(next.services.map((s) => s.serviceKey))], deletedChains: [...staleFilter, ...staleNat], payload };
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
    return this.serialized(async () => {
      const saved = parseSave(await this.host.save(['filter', 'nat']));
      const payload = renderCleanup(saved);
      if (payload) await this.host.restore(payload);
      this.applied = undefined;
      this.needFullSync = true;
      this.log.info('removed all proxy rules');
    });
  }
}

function missingJumpsFor(saved: SavedTables, next: RuleModel) {
  return missingJumps(saved, next.jumps).filter((j) => j.target !== KUBE_FIREWALL || next.filter.chains.includes(KUBE_FIREWALL));
}
