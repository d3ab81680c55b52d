/**
 * Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection: of all
 * the replicas of a component (scheduler, controller manager) running the same election, one at
 * a time does the work.
 *
 *   candidate ──acquire (every retryPeriod, jittered)──► leader ──renew every retryPeriod──┐
 *       ▲                                                  │ ▲                              │
 *       │                                                  │ └──────── renewed ◄───────────┘
 *       └──────────── start() resolves ◄── stopped leading ◄── no renewal within renewDeadline,
 *                                                             or the caller's signal aborted
 *
 * Safety: a candidate takes the lease only after it has seen the same record, unchanged, for
 * leaseDuration by its own clock (no clock comparison between machines). A leader counts its
 * renewDeadline from the moment it sent its last successful renewal, and renewDeadline <
 * leaseDuration, so a leader that cannot renew stops (its signal aborts) before anyone else can
 * take over. Writes are optimistic (resourceVersion), so two candidates cannot both win.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { Lease } from '../api/index.js';
import { realClock, rfc3339Micro, silentLogger, type Clock, type Runnable } from '../base/index.js';
import { isAlreadyExists, isConflict, isNotFound } from '../machinery/index.js';
import type { KubeClient, ResourceClient } from './interface.js';
import { Resources } from './resources.js';

export interface LeaderCallbacks {
  /** Called on becoming leader; do the work until `signal` aborts (it aborts when leadership ends). */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called after leading ends (never if this elector did not lead). */
  onStoppedLeading?(): void;
  /** Called when the observed leader changes, including to this elector. */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectionConfig {
  client: KubeClient;
  /** The Lease (namespace and name), e.g. kube-system / tkube-scheduler. */
  namespace: string;
  name: string;
  /** Unique per candidate, e.g. `<hostname>_<uuid>`. */
  identity: string;
  /** How long a lease is valid after its last renewal as seen by others (default 15s). */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it stops leading (default 10s). */
  renewDeadlineMs?: number;
  /** Pause between tries (default 2s). */
  retryPeriodMs?: number;
  /** On a clean stop, clear the lease so another candidate takes over at once (default false). */
  releaseOnCancel?: boolean;
  callbacks: LeaderCallbacks;
  clock?: Clock;
  log?: Logger;
}

/** client-go's wait.Jitter factor for the acquire loop. */
const jitterFactor = 1.2;

type LeaseSpec = NonNullable<Lease['spec']>;

function sameRecord(a: LeaseSpec | undefined, b: LeaseSpec | undefined): boolean {
  return (
    a?.holderIdentity === b?.holderIdentity &&
    a?.leaseDurationSeconds === b?.leaseDurationSeconds &&
    a?.acquireTime === b?.acquireTime &&
    a?.renewTime === b?.renewTime &&
    a?.leaseTransitions === b?.leaseTransitions
  );
}

export class LeaderElector implements Runnable {
  private readonly leases: ResourceClient<Lease>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  /** The last lease read or written, and when (by our clock) its record last changed. */
  private observed?: Lease;
  private observedTime = 0;
  private reportedLeader = '';
  private leading = false;
  /** When the last successful write of ours was sent: the lease cannot have been renewed later than that. */
  private lastWriteSentAt = 0;

  constructor(private readonly cfg: LeaderElectionConfig) {
    this.leaseDurationMs = cfg.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = cfg.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = cfg.retryPeriodMs ?? 2_000;
    if (!cfg.identity) throw new Error('leader election: identity must not be empty');
    if (!cfg.name || !cfg.namespace) throw new Error('leader election: the lease needs a namespace and a name');
    if (this.leaseDurationMs <= this.renewDeadlineMs) throw new Error('leader election: leaseDuration must be greater than renewDeadline');
    if (this.renewDeadlineMs <= jitterFactor * this.retryPeriodMs) throw new Error(`leader election: renewDeadline must be greater than retryPeriod*${jitterFactor}`);
    if (this.retryPeriodMs < 1) throw new Error('leader election: retryPeriod must be positive');
    if (this.leaseDurationMs < 1000) throw new Error('leader election: leaseDuration must be at least 1s (the Lease counts whole seconds)');
    this.leases = cfg.client.resource(Resources.leases, cfg.namespace);
    this.clock = cfg.clock ?? realClock;
    this.log = (cfg.log ?? silentLogger()).child({ lease: `${cfg.namespace}/${cfg.name}`, identity: cfg.identity });
  }

  /** True while this elector holds the lease and its work signal is live. */
  isLeader(): boolean {
    return this.leading;
  }

  /** The holder of the lease as last observed ('' if none). */
  getLeader(): string {
    return this.observed?.spec?.holderIdentity ?? '';
  }

  /**
   * Campaigns until it leads, leads until it cannot renew or `signal` aborts, then resolves
   * (after the work started by onStartedLeading has finished). A program that should campaign
   * again after losing calls start again, usually it exits instead, as upstream components do.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (!(await this.acquire(signal))) return;
    const work = new AbortController();
    // The leader's work (informers, queues, requests in flight) hangs many listeners on it.
    setMaxListeners(0, work.signal);
    const onAbort = () => work.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    this.leading = true;
    this.log.info('became leader');
    const running = (async () => {
      try {
        await this.cfg.callbacks.onStartedLeading(work.signal);
      } catch (err) {
        this.log.error({ err }, 'leader work failed');
      }
    })();
    try {
      await this.renewLoop(work.signal);
    } finally {
      this.leading = false;
      work.abort();
      signal.removeEventListener('abort', onAbort);
    }
    await running;
    if (signal.aborted && this.cfg.releaseOnCancel) await this.release();
    this.log.info(signal.aborted ? 'stopped leading' : 'lost the lease; stopped leading');
    try {
      this.cfg.callbacks.onStoppedLeading?.();
    } catch (err) {
      this.log.error({ err }, 'onStoppedLeading failed');
    }
  }

  private async acquire(signal: AbortSignal): Promise<boolean> {
    this.log.info('attempting to acquire the lease');
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew(0)) return !signal.aborted;
      await this.clock.sleep(this.retryPeriodMs * (1 + Math.random() * jitterFactor), signal);
    }
    return false;
  }

  /** Renews every retryPeriod; returns when a renewal could not be made within renewDeadline, or on abort. */
  private async renewLoop(signal: AbortSignal): Promise<void> {
    let lastRenew = this.lastWriteSentAt;
    while (!signal.aborted) {
      await this.clock.sleep(this.retryPeriodMs, signal);
      if (signal.aborted) return;
      let renewed = false;
      for (;;) {
        const sentAt = this.clock.now();
        const remaining = lastRenew + this.renewDeadlineMs - sentAt;
        if (remaining <= 0) break;
        if (await this.tryAcquireOrRenew(remaining)) {
          renewed = true;
          lastRenew = sentAt;
          break;
        }
        if (signal.aborted) return;
        const left = lastRenew + this.renewDeadlineMs - this.clock.now();
        if (left <= 0) break;
        await this.clock.sleep(Math.min(this.retryPeriodMs, left), signal);
        if (signal.aborted) return;
      }
      if (!renewed) {
        this.log.warn({ renewDeadlineMs: this.renewDeadlineMs }, 'failed to renew the lease within the renew deadline');
        return;
      }
    }
  }

  private noteObserved(lease: Lease): void {
    if (!sameRecord(lease.spec, this.observed?.spec)) this.observedTime = this.clock.now();
    this.observed = lease;
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder !== this.reportedLeader) {
      this.reportedLeader = holder;
      if (holder) {
        this.log.info({ leader: holder }, 'new leader observed');
        try {
          this.cfg.callbacks.onNewLeader?.(holder);
        } catch (err) {
          this.log.error({ err }, 'onNewLeader failed');
        }
      }
    }
  }

  /**
   * One try to take or keep the lease. `timeoutMs` bounds each request (0: the client's default)
   * so that a hung request cannot carry a leader past its renew deadline.
   */
  private async tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    const now = this.clock.now();
    const nowTime = rfc3339Micro(now);
    const durationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    const req = timeoutMs > 0 ? { timeoutMs: Math.max(1, Math.floor(timeoutMs)) } : {};
    let current: Lease;
    try {
      current = await this.leases.get(this.cfg.name, req);
    } catch (err) {
      if (!isNotFound(err)) {
        this.log.info({ err: (err as Error).message }, 'cannot read the lease');
        return false;
      }
      try {
        const created = await this.leases.create(
          {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.cfg.name, namespace: this.cfg.namespace },
            spec: { holderIdentity: this.cfg.identity, leaseDurationSeconds: durationSeconds, acquireTime: nowTime, renewTime: nowTime, leaseTransitions: 0 },
          },
          req,
        );
        this.noteObserved(created);
        this.lastWriteSentAt = now;
        return true;
      } catch (e) {
        if (!isAlreadyExists(e)) this.log.info({ err: (e as Error).message }, 'cannot create the lease');
        return false;
      }
    }
    this.noteObserved(current);
    const rec = current.spec ?? {};
    const holder = rec.holderIdentity ?? '';
    const heldByUs = holder === this.cfg.identity;
    const validMs = (rec.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== '' && !heldByUs && this.observedTime + validMs > this.clock.now()) return false;
    const spec: LeaseSpec = {
      ...rec,
      holderIdentity: this.cfg.identity,
      leaseDurationSeconds: durationSeconds,
      renewTime: nowTime,
      acquireTime: heldByUs ? rec.acquireTime : nowTime,
      leaseTransitions: heldByUs ? (rec.leaseTransitions ?? 0) : (rec.leaseTransitions ?? 0) + 1,
    };
    try {
      const updated = await this.leases.update({ ...current, spec }, req);
      this.noteObserved(updated);
      this.lastWriteSentAt = now;
      return true;
    } catch (err) {
      if (!isConflict(err)) this.log.info({ err: (err as Error).message }, 'cannot update the lease');
      return false;
    }
  }

  /** Clears the holder so that another candidate can take over without waiting out the lease. */
  private async release(): Promise<void> {
    const lease = this.observed;
    if (!lease || lease.spec?.holderIdentity !== this.cfg.identity) return;
    const now = rfc3339Micro(this.clock.now());
    try {
      const released = await this.leases.update({
        ...lease,
        spec: { holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now, leaseTransitions: lease.spec?.leaseTransitions ?? 0 },
      });
      this.noteObserved(released);
      this.log.info('released the lease');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'cannot release the lease');
    }
  }
}
