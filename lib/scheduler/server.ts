/**
 * SchedulerServer: the whole tkube-scheduler program as one Runnable. It builds the client,
 * informers, event broadcaster and Scheduler, serves health and metrics, and runs the scheduler
 * while it holds the leader lease (or always, without leader election).
 *
 * Informers start before the election, as upstream: a standby replica keeps a warm cache and
 * takes over without re-listing. Losing the lease ends start() with an error: the program exits
 * and its supervisor restarts it as a candidate, which is what kube-scheduler does.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import os from 'node:os';
import type { Logger } from 'pino';
import { MetricsRegistry, silentLogger, type Runnable } from '../base/index.js';
import { EventBroadcaster, LeaderElector, RESTClient, SharedInformerFactory, type ClientConfig } from '../client/index.js';
import { HealthServer } from './health-server.js';
import { SchedulerMetrics } from './metrics.js';
import { Scheduler, defaultSchedulerName } from './scheduler.js';

export interface LeaderElectionOptions {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  resourceNamespace: string;
  resourceName: string;
  /** Unique per replica; default `<hostname>_<uuid>`. */
  identity?: string;
}

export interface SchedulerServerOptions {
  clientConfig: ClientConfig;
  /** Client-side rate limit towards the API server. */
  qps: number;
  burst: number;
  schedulerName?: string;
  /** Undefined: no leader election (every replica schedules). */
  leaderElection?: LeaderElectionOptions;
  /** Health and metrics; port 0 picks a free port, undefined disables the server. */
  healthBindAddress?: string;
  healthPort?: number;
  percentageOfNodesToScore?: number;
  podInitialBackoffMs?: number;
  podMaxBackoffMs?: number;
  podMaxInUnschedulablePodsDurationMs?: number;
  log?: Logger;
  /** Called once the health server listens, with its port (tests use port 0). */
  onListening?: (port: number) => void;
}

export class SchedulerServer implements Runnable {
  readonly metrics = new MetricsRegistry();
  scheduler?: Scheduler;
  elector?: LeaderElector;

  constructor(private readonly o: SchedulerServerOptions) {}

  async start(signal: AbortSignal): Promise<void> {
    const log = this.o.log ?? silentLogger();
    const schedulerName = this.o.schedulerName ?? defaultSchedulerName;
    const client = new RESTClient({ config: this.o.clientConfig, component: 'scheduler', qps: this.o.qps, burst: this.o.burst, log: log.child({ part: 'client' }) });
    const informers = new SharedInformerFactory({ client, log: log.child({ part: 'informers' }) });
    // Events and Lease renewals have a client budget of their own (as upstream's eventClient and
    // leader-election client), so that a burst of bindings holds up neither.
    const broadcaster = new EventBroadcaster({ client: client.forPart('events'), log: log.child({ part: 'events' }) });
    const metrics = new SchedulerMetrics(this.metrics);
    const scheduler = new Scheduler({
      client,
      informers,
      recorder: broadcaster.newRecorder({ component: schedulerName }),
      schedulerName,
      log,
      metrics,
      percentageOfNodesToScore: this.o.percentageOfNodesToScore,
      podInitialBackoffMs: this.o.podInitialBackoffMs,
      podMaxBackoffMs: this.o.podMaxBackoffMs,
      podMaxInUnschedulablePodsDurationMs: this.o.podMaxInUnschedulablePodsDurationMs,
    });
    this.scheduler = scheduler;
    const ctl = new AbortController();
    // Every binding in flight, informer and timer listens to it: many more than Node's default of 10.
    setMaxListeners(0, ctl.signal);
    const stop = () => ctl.abort();
    signal.addEventListener('abort', stop, { once: true });
    const parts: Promise<void>[] = [];
    let health: HealthServer | undefined;
    try {
      if (this.o.healthPort !== undefined) {
        health = new HealthServer({
          bindAddress: this.o.healthBindAddress ?? '127.0.0.1',
          port: this.o.healthPort,
          metrics: this.metrics,
          readyChecks: [{ name: 'sched-handler-sync', check: () => (scheduler.hasSynced() ? undefined : 'informers have not synced yet') }],
          log,
        });
        await health.listen();
        this.o.onListening?.(health.port);
        parts.push(health.start(ctl.signal));
      }
      parts.push(informers.start(ctl.signal), broadcaster.start(ctl.signal));
      if (!(await scheduler.waitForCacheSync(ctl.signal))) return;
      log.info('caches synced');
      const le = this.o.leaderElection;
      if (!le) {
        await scheduler.run(ctl.signal);
        return;
      }
      const identity = le.identity ?? `${os.hostname()}_${randomUUID()}`;
      const elector = new LeaderElector({
        client: client.forPart('leader-election'),
        namespace: le.resourceNamespace,
        name: le.resourceName,
        identity,
        leaseDurationMs: le.leaseDurationMs,
        renewDeadlineMs: le.renewDeadlineMs,
        retryPeriodMs: le.retryPeriodMs,
        releaseOnCancel: true,
        log,
        callbacks: {
          onStartedLeading: (workSignal) => scheduler.run(workSignal),
          onNewLeader: (id) => {
            if (id !== identity) log.info({ leader: id }, 'another replica leads; standing by');
          },
        },
      });
      this.elector = elector;
      await elector.start(ctl.signal);
      if (!ctl.signal.aborted) throw new Error('leader election lost');
    } finally {
      ctl.abort();
      signal.removeEventListener('abort', stop);
      await Promise.allSettled(parts);
      client.transport.close();
    }
  }
}

