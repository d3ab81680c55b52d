/**
 * A small cluster for integration tests: a real etcd and API server, an in-process
 * ControllerManager running the chosen controllers, and simulated nodes.
 */
import { MetricsRegistry } from '../../lib/base/index.js';
import { RESTClient, loadClientConfig } from '../../lib/client/index.js';
import { ControllerManager, coreControllers, type ControllerManagerConfig, type ControllerManagerOptions } from '../../lib/controllers/index.js';
import { SimNodes, type SimNodesOptions } from '../../lib/simnode/index.js';
import { testLogger } from './controllers.js';
import { startAPIServer, type TestAPIServer } from './apiserver.js';

export interface TestCluster {
  api: TestAPIServer;
  client: RESTClient;
  manager?: ControllerManager;
  /** Stops the manager the cluster started with (to restart or replace it). */
  stopManager(): Promise<void>;
  sim?: SimNodes;
  /** Starts (another) controller manager; stopped with the cluster or by the returned function. */
  startManager(o?: Partial<ControllerManagerConfig>): { manager: ControllerManager; stop: () => Promise<void>; done: Promise<unknown> };
  stop(): Promise<void>;
}

/** Fast timings for tests; their relations are the defaults'. */
export const fastOptions: Partial<ControllerManagerOptions> = {
  nodeMonitorPeriodMs: 500,
  nodeMonitorGracePeriodMs: 4000,
  nodeStartupGracePeriodMs: 6000,
  podGCPeriodMs: 500,
  podGCQuarantineMs: 1000,
  discoveryPeriodMs: 2000,
};

export function clientFor(api: TestAPIServer, component = 'test'): RESTClient {
  return new RESTClient({ config: loadClientConfig({ kubeconfig: api.kubeconfig, env: {} }), component, qps: 0 });
}

export async function startCluster(o: { controllers?: string[]; options?: Partial<ControllerManagerOptions>; sim?: Omit<SimNodesOptions, 'client'>; manager?: boolean } = {}): Promise<TestCluster> {
  const api = await startAPIServer();
  const client = clientFor(api);
  const stops: (() => Promise<void>)[] = [];
  const cluster: TestCluster = {
    api,
    client,
    startManager(extra = {}) {
      const manager = new ControllerManager({
        client: clientFor(api, 'controller-manager'),
        descriptors: coreControllers,
        controllers: o.controllers ?? ['*'],
        options: { ...fastOptions, ...(o.options ?? {}) },
        log: testLogger('controller-manager'),
        metrics: new MetricsRegistry(),
        informerOptions: { backoffInitialMs: 50, backoffMaxMs: 500 },
        ...extra,
      });
      const ctl = new AbortController();
      const done = manager.start(ctl.signal).then(
        () => 'stopped',
        (err: unknown) => err,
      );
      const stop = async () => {
        ctl.abort();
        await done;
      };
      stops.push(stop);
      return { manager, stop, done };
    },
    async stopManager() {
      await first?.stop();
    },
    async stop() {
      for (const s of stops.splice(0).reverse()) await s();
      client.close();
      await api.stop();
    },
  };
  let first: { stop: () => Promise<void> } | undefined;
  if (o.manager !== false) {
    const h = cluster.startManager();
    cluster.manager = h.manager;
    first = h;
  }
  if (o.sim) {
    const sim = new SimNodes({ client: clientFor(api, 'simnode'), log: testLogger('simnode'), ...o.sim });
    const ctl = new AbortController();
    const running = sim.start(ctl.signal);
    stops.unshift(async () => {
      ctl.abort();
      await running;
    });
    cluster.sim = sim;
    await sim.ready();
  }
  return cluster;
}
