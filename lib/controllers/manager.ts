/**
 * The ControllerManager: runs the enabled controllers of a kube-controller-manager process.
 *
 *   start ──► health/metrics server up ──► campaign for the Lease (kube-system/kube-controller-manager)
 *        standby ◄──┘        │ leading
 *                            ▼
 *        informers started ──► caches synced ──► every enabled controller started
 *                            │
 *   SIGTERM: controllers stop, start() resolves │ lease lost: controllers stop, start() rejects
 *                                               │ (the process exits and its supervisor restarts it,
 *                                               │  as upstream's "leaderelection lost")
 *
 * Several replicas may run; one leads and the others wait. Each leadership term gets fresh
 * informers, so a replica that takes over starts from a consistent view.
 */
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Gauge, MetricsRegistry, realClock, silentLogger, type Clock, type Runnable } from '../base/index.js';
import { EventBroadcaster, LeaderElector, RESTClient, SharedInformerFactory, type KubeClient, type SharedInformerFactoryOptions } from '../client/index.js';
import { controllerAliases, coreControllers } from './core.js';
import { certificateControllers } from './certificates/index.js';
import { APIDiscovery, builtinDiscovery } from './garbagecollector/index.js';
import { defaultControllerManagerOptions, type ControllerContext, type ControllerDescriptor, type ControllerManagerOptions, type ResourceDiscovery } from './types.js';
import { ServiceAccountCredentials } from './service-account-credentials.js';
import { workloadControllers } from './workloads.js';

/** Every controller tkube-controller-manager knows: the cluster-level ones and the workload ones. */
export function allControllers(): ControllerDescriptor[] {
  return [...coreControllers, ...workloadControllers, ...certificateControllers];
}

export class ControllerSelectionError extends Error {
  override readonly name = 'ControllerSelectionError';
}

/** Raised when the lease is lost while running: the process should exit (and be restarted). */
export class LeadershipLostError extends Error {
  override readonly name = 'LeadershipLostError';
}

/**
 * The controllers `--controllers` enables, as upstream: `*` enables those on by default,
 * `name` enables one, `-name` disables one (the most specific entry wins). Unknown names are
 * an error. Aliases (upstream's `*-controller` names) are accepted.
 */
export function selectControllers(descriptors: readonly ControllerDescriptor[], spec: readonly string[], aliases: Readonly<Record<string, string>> = controllerAliases): ControllerDescriptor[] {
  const known = new Map(descriptors.map((d) => [d.name, d]));
  const resolve = (n: string) => {
    const name = aliases[n] ?? n;
    if (!known.has(name)) throw new ControllerSelectionError(`"${n}" is not in the list of known controllers (${[...known.keys()].sort().join(', ')})`);
    return name;
  };
  const on = new Set<string>();
  const off = new Set<string>();
  let star = false;
  for (const raw of spec) {
    const s = raw.trim();
    if (s === '') continue;
    if (s === '*') star = true;
    else if (s.startsWith('-')) off.add(resolve(s.slice(1)));
    else on.add(resolve(s));
  }
  return descriptors.filter((d) => !off.has(d.name) && (on.has(d.name) || (star && d.enabledByDefault)));
}

export interface LeaderElectionSettings {
  /** --leader-elect (default true). */
  enabled: boolean;
  /** --leader-elect-resource-namespace / -name (kube-system / kube-controller-manager). */
  namespace?: string;
  name?: string;
  /** Default `<hostname>_<uuid>`, as upstream. */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Clear the lease on a clean stop so a standby takes over at once (default true). */
  releaseOnCancel?: boolean;
}

export interface ControllerManagerConfig {
  client: KubeClient;
  descriptors: readonly ControllerDescriptor[];
  /** --controllers (default ['*']). */
  controllers?: readonly string[];
  options?: Partial<ControllerManagerOptions>;
  /** Default: the API server's discovery when `client` is a RESTClient, the built-in resources otherwise. */
  discovery?: ResourceDiscovery;
  leaderElection?: LeaderElectionSettings;
  /** Where /healthz, /livez, /readyz and /metrics are served (plain HTTP); omitted: not served. Port 0 picks one. */
  serving?: { bindAddress: string; port: number };
  log?: Logger;
  clock?: Clock;
  metrics?: MetricsRegistry;
  /**
   * --use-service-account-credentials: each controller with a `serviceAccount` acts as
   * kube-system/<serviceAccount> with a token from the TokenRequest API (needs a RESTClient).
   */
  useServiceAccountCredentials?: boolean;
  /** Passed to the shared informer factory (tests shorten backoffs). */
  informerOptions?: SharedInformerFactoryOptions['informerOptions'];
}

export type ManagerState = 'starting' | 'standby' | 'leading' | 'stopped';

export class ControllerManager implements Runnable {
  readonly enabled: readonly ControllerDescriptor[];
  readonly identity: string;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly metrics: MetricsRegistry;
  private readonly options: ControllerManagerOptions;
  private readonly discovery: ResourceDiscovery;
  private readonly leaderGauge: Gauge;
  private readonly credentials?: ServiceAccountCredentials;
  private server?: http.Server;
  private _state: ManagerState = 'starting';
  private synced = false;
  private running = new Set<string>();

  constructor(private readonly cfg: ControllerManagerConfig) {
    this.log = cfg.log ?? silentLogger();
    this.clock = cfg.clock ?? realClock;
    this.metrics = cfg.metrics ?? new MetricsRegistry();
    this.options = { ...defaultControllerManagerOptions, ...(cfg.options ?? {}) };
    this.enabled = selectControllers(cfg.descriptors, cfg.controllers ?? ['*']);
    this.identity = cfg.leaderElection?.identity ?? `${os.hostname()}_${randomUUID()}`;
    this.discovery = cfg.discovery ?? (cfg.client instanceof RESTClient ? new APIDiscovery(cfg.client, { clock: this.clock }) : builtinDiscovery());
    if (cfg.useServiceAccountCredentials) {
      if (!(cfg.client instanceof RESTClient)) throw new Error('--use-service-account-credentials needs a client of the API server (a kubeconfig)');
      this.credentials = new ServiceAccountCredentials({ root: cfg.client.forPart('tokens'), log: this.log, clock: this.clock });
    }
    this.leaderGauge = this.metrics.gauge('leader_election_master_status', 'Whether this process leads (1) or stands by (0), by lease name.');
    this.leaderGauge.set({ name: cfg.leaderElection?.name ?? 'kube-controller-manager' }, 0);
    const active = this.metrics.gauge('controller_manager_running_controllers', 'Controllers running in this process.');
    active.collect(() => [[{}, this.running.size]]);
  }

  get state(): ManagerState {
    return this._state;
  }

  isLeader(): boolean {
    return this._state === 'leading';
  }

  /** Names of the controllers running now. */
  runningControllers(): string[] {
    return [...this.running].sort();
  }

  /** The health server's address, once listening. */
  address(): AddressInfo | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a : undefined;
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.cfg.serving) await this.listen(this.cfg.serving);
    try {
      const le = this.cfg.leaderElection;
      if (!le || !le.enabled) {
        this._state = 'leading';
        await this.run(signal);
        return;
      }
      this._state = 'standby';
      const name = le.name ?? 'kube-controller-manager';
      const elector = new LeaderElector({
        client: this.clientFor('leader-election'),
        namespace: le.namespace ?? 'kube-system',
        name,
        identity: this.identity,
        leaseDurationMs: le.leaseDurationMs,
        renewDeadlineMs: le.renewDeadlineMs,
        retryPeriodMs: le.retryPeriodMs,
        releaseOnCancel: le.releaseOnCancel ?? true,
        clock: this.clock,
        log: this.log,
        callbacks: {
          onStartedLeading: async (s) => {
            this._state = 'leading';
            this.leaderGauge.set({ name }, 1);
            await this.run(s);
          },
          onStoppedLeading: () => this.leaderGauge.set({ name }, 0),
          onNewLeader: (id) => {
            if (id !== this.identity) this.log.info({ leader: id }, 'another instance leads; standing by');
          },
        },
      });
      await elector.start(signal);
      if (!signal.aborted) throw new LeadershipLostError(`lost the ${le.namespace ?? 'kube-system'}/${name} lease; exiting so that a fresh process can campaign again`);
    } finally {
      this._state = 'stopped';
      this.credentials?.stop();
      await this.closeServer();
    }
  }

  /**
   * Each controller, the informers, the event sink and leader election get a client of their own
   * (each with its own --kube-api-qps budget, as upstream), so that one busy controller neither
   * starves the others nor delays the Lease renewals until leadership is lost.
   */
  private clientFor(part: string): KubeClient {
    return this.cfg.client instanceof RESTClient ? this.cfg.client.forPart(part) : this.cfg.client;
  }

  /**
   * The client `d` acts with: its own service account's under --use-service-account-credentials
   * (tried again every few seconds while the account or its token cannot be had, as the
   * controller cannot run without them), else the manager's own. Undefined once `signal` aborts.
   */
  private async controllerClient(d: ControllerDescriptor, signal: AbortSignal): Promise<KubeClient | undefined> {
    if (!this.credentials || !d.serviceAccount) return this.clientFor(d.name);
    for (;;) {
      if (signal.aborted) return undefined;
      try {
        return await this.credentials.clientFor(d.serviceAccount, d.name);
      } catch (err) {
        this.log.warn({ err, controller: d.name, serviceAccount: `kube-system/${d.serviceAccount}` }, 'cannot get the credentials of a controller; trying again');
        await this.clock.sleep(2000, signal).catch(() => undefined);
      }
    }
  }

  /** One leadership term: informers, then every enabled controller, until `signal` aborts. */
  private async run(outer: AbortSignal): Promise<void> {
    // Every informer, queue and loop listens to this signal: many more than Node's default of 10.
    const term = new AbortController();
    setMaxListeners(0, term.signal);
    const onAbort = () => term.abort();
    if (outer.aborted) term.abort();
    else outer.addEventListener('abort', onAbort, { once: true });
    try {
      await this.runTerm(term.signal);
    } finally {
      outer.removeEventListener('abort', onAbort);
    }
  }

  private async runTerm(signal: AbortSignal): Promise<void> {
    const informers = new SharedInformerFactory({ client: this.clientFor('shared-informers'), log: this.log, clock: this.cfg.clock, informerOptions: this.cfg.informerOptions });
    const broadcaster = new EventBroadcaster({ client: this.clientFor('events'), log: this.log, clock: this.cfg.clock });
    const ctx: ControllerContext = {
      client: this.cfg.client,
      informers,
      recorder: (component) => broadcaster.newRecorder({ component }),
      log: this.log,
      clock: this.clock,
      metrics: this.metrics,
      options: this.options,
      discovery: this.discovery,
    };
    const controllers: { name: string; runnable: Runnable }[] = [];
    for (const d of this.enabled) {
      const client = await this.controllerClient(d, signal);
      if (!client) break;
      try {
        controllers.push({ name: d.name, runnable: d.create({ ...ctx, client }) });
      } catch (err) {
        this.log.error({ err, controller: d.name }, 'cannot create controller; it will not run');
      }
    }
    const events = broadcaster.start(signal);
    const informing = informers.start(signal);
    this.log.info({ controllers: controllers.map((c) => c.name) }, 'waiting for informer caches to sync');
    const ok = await informers.waitForCacheSync(signal);
    if (ok) {
      this.synced = true;
      this.log.info('caches synced; starting controllers');
      await Promise.all(
        controllers.map(async ({ name, runnable }) => {
          this.running.add(name);
          try {
            await runnable.start(signal);
          } catch (err) {
            this.log.error({ err, controller: name }, 'controller failed');
          } finally {
            this.running.delete(name);
          }
        }),
      );
    }
    await informing;
    await events;
    this.synced = false;
    this.log.info('controllers stopped');
  }

  // ---- health and metrics ----------------------------------------------------------------

  private checks(): [string, boolean][] {
    return [
      ['ping', true],
      ['leaderElection', this._state !== 'stopped'],
      ['informerSync', this._state !== 'leading' || this.synced],
    ];
  }

  private async listen(s: { bindAddress: string; port: number }): Promise<void> {
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname;
      if (path === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        res.end(this.metrics.render());
        return;
      }
      if (path === '/healthz' || path === '/livez' || path === '/readyz') {
        const checks = path === '/readyz' ? this.checks() : this.checks().filter(([n]) => n !== 'informerSync');
        const ok = checks.every(([, v]) => v);
        const verbose = url.searchParams.has('verbose');
        res.writeHead(ok ? 200 : 500, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
        if (verbose || !ok) {
          res.end(`${checks.map(([n, v]) => `[${v ? '+' : '-'}]${n} ${v ? 'ok' : 'failed'}`).join('\n')}\n${path.slice(1)} check ${ok ? 'passed' : 'failed'}\n`);
        } else res.end('ok');
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('404 page not found\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(s.port, s.bindAddress, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.log.info({ address: `${s.bindAddress}:${this.address()?.port}` }, 'serving healthz and metrics');
  }

  private async closeServer(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}
