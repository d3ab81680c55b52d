/**
 * `--proxy-mode=userspace`, the original kube-proxy: a real listener per service port, iptables
 * REDIRECTs service traffic to it, and the process relays every connection to the next backend in
 * round-robin order. Slower than iptables mode (every byte crosses user space twice) and visibly
 * different in how it spreads load; tkube keeps it to show both.
 *
 * Traffic policies and topology are not applied (the old mode predates them): every ready
 * endpoint is used, serving-terminating ones when none is ready.
 */
import type { Logger } from '../../base/index.js';
import { buildEndpointsMap, categorizeEndpoints } from '../endpoints.js';
import type { ProxyHost } from '../host.js';
import { renderCleanup } from '../iptables/cleanup.js';
import { userspaceChains } from '../iptables/chain-names.js';
import { jumpsIntoOwnedChains, missingJumps, ownedChains, parseSave } from '../iptables/restore.js';
import type { Proxier } from '../proxier.js';
import { buildServicePorts, servicePortKey, type ServicePortInfo } from '../service-port.js';
import { ProxyStateStore, StoreBackedSink } from '../state.js';
import { SyncRunner } from '../sync-runner.js';
import { openTcpProxy, openUdpProxy, type ProxySocket } from './proxy-socket.js';
import { RoundRobinBalancer } from './round-robin.js';
import { generateUserspaceRules, renderUserspaceRestore } from './rules.js';

export interface UserspaceProxierOptions {
  host: ProxyHost;
  log: Logger;
  /** This node's name (endpoints are not filtered by it; kept for logs and symmetry). */
  nodeName: string;
  /** Address the listeners bind (upstream `--bind-address`). Default 0.0.0.0. */
  listenAddress?: string;
  /** Resync period: rules rewritten and jumps checked. Default 30 s. */
  syncPeriodMs?: number;
  /** Minimum time between two syncs. Default 1 s. */
  minSyncPeriodMs?: number;
  /** A UDP flow without packets for this long is forgotten (upstream `--udp-timeout`). Default 250 ms. */
  udpIdleTimeoutMs?: number;
  /** Clock for session affinity. */
  now?: () => number;
}

interface Listener {
  socket: ProxySocket;
  info: ServicePortInfo;
}

export class UserspaceProxier extends StoreBackedSink implements Proxier {
  protected readonly store: ProxyStateStore;
  readonly balancer: RoundRobinBalancer;
  private readonly runner: SyncRunner;
  private readonly listeners = new Map<string, Listener>();
  private readonly log: Logger;
  private needFullSync = true;
  lastSyncTime: number | undefined;
  syncedGeneration = -1;
  get stateGeneration(): number {
    return this.store.generation;
  }

  constructor(private readonly opts: UserspaceProxierOptions) {
    super();
    this.log = opts.log.child({ proxier: 'userspace' });
    this.balancer = new RoundRobinBalancer(opts.now);
    this.store = new ProxyStateStore(() => this.runner.request());
    this.runner = new SyncRunner({
      run: () => this.syncOnce(),
      minIntervalMs: opts.minSyncPeriodMs ?? 1000,
      periodMs: opts.syncPeriodMs ?? 30_000,
      onPeriodic: () => {
        this.needFullSync = true;
      },
    });
  }

  /** The local port serving a service port (`namespace/name:port`, protocol), if any. */
  proxyPort(servicePortName: string, protocol: 'TCP' | 'UDP' = 'TCP'): number | undefined {
    return this.listeners.get(`${servicePortName}/${protocol}`)?.socket.port;
  }

  /**
   * Runs until `signal` aborts, then closes the listeners. The REDIRECT rules stay (as upstream
   * left them); they lead nowhere until the proxy is back or `cleanup()` removes them.
   */
  async start(signal: AbortSignal): Promise<void> {
    this.needFullSync = true;
    await this.runner.start(signal);
    await this.closeListeners();
  }

  /** Syncs now (after one in progress); rejects when iptables-restore failed. */
  sync(): Promise<unknown> {
    return this.runner.runNow();
  }

  private async syncOnce(): Promise<void> {
    if (!this.store.ready) return;
    const generation = this.store.generation;
    const state = this.store.snapshot();
    const ports = buildServicePorts(state.services).filter((p) => p.protocol === 'TCP' || p.protocol === 'UDP');
    const endpoints = buildEndpointsMap(state.endpointSlices, this.opts.nodeName);
    const wanted = new Map(ports.map((p) => [servicePortKey(p), p]));

    // Listeners first, so that no rule ever redirects to a port nobody listens on.
    for (const [key, info] of wanted) {
      const eps = categorizeEndpoints(endpoints.get(key) ?? [], { ...info, internalPolicyLocal: false, externalPolicyLocal: false }).cluster;
      this.balancer.update(key, eps.map((e) => e.address), info.stickySeconds);
      const cur = this.listeners.get(key);
      if (cur) {
        cur.info = info;
        continue;
      }
      const common = { key, listenAddress: this.opts.listenAddress ?? '0.0.0.0', balancer: this.balancer, log: this.log };
      const socket = info.protocol === 'UDP' ? await openUdpProxy({ ...common, idleTimeoutMs: this.opts.udpIdleTimeoutMs ?? 250 }) : await openTcpProxy(common);
      this.listeners.set(key, { socket, info });
      this.log.info({ servicePort: info.name, protocol: info.protocol, port: socket.port }, 'opened proxy port');
    }
    const gone = [...this.listeners.keys()].filter((k) => !wanted.has(k));

    const rules = generateUserspaceRules([...this.listeners].filter(([k]) => wanted.has(k)).map(([, l]) => ({ info: l.info, proxyPort: l.socket.port })));
    let payload: string;
    if (this.needFullSync) {
      const saved = parseSave(await this.opts.host.save(['filter', 'nat']));
      const own = new Set<string>(userspaceChains);
      const staleNat = ownedChains(saved, 'nat').filter((c) => !own.has(c));
      const staleFilter = ownedChains(saved, 'filter');
      payload = renderUserspaceRestore(rules, {
        deleteChains: { nat: staleNat, filter: staleFilter },
        deleteRules: jumpsIntoOwnedChains(saved, ['filter', 'nat'], new Set([...staleNat, ...staleFilter])),
        insertJumps: missingJumps(saved, rules.jumps),
      });
    } else {
      payload = renderUserspaceRestore(rules);
    }
    try {
      await this.opts.host.restore(payload);
    } catch (err) {
      this.needFullSync = true;
      this.log.error({ err }, 'sync failed');
      throw err;
    }
    this.needFullSync = false;

    for (const key of gone) {
      const l = this.listeners.get(key)!;
      this.listeners.delete(key);
      this.balancer.delete(key);
      await l.socket.close();
      this.log.info({ servicePort: l.info.name, protocol: l.info.protocol }, 'closed proxy port');
    }
    this.syncedGeneration = generation;
    this.lastSyncTime = Date.now();
  }

  private async closeListeners(): Promise<void> {
    for (const [key, l] of this.listeners) {
      await l.socket.close();
      this.balancer.delete(key);
    }
    this.listeners.clear();
  }

  /** Closes the listeners and removes every chain and jump tkube-proxy installed. */
  cleanup(): Promise<void> {
    return this.runner.serialized(async () => {
      await this.closeListeners();
      const payload = renderCleanup(parseSave(await this.opts.host.save(['filter', 'nat'])));
      if (payload) await this.opts.host.restore(payload);
      this.needFullSync = true;
    });
  }
}
