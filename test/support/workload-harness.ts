/**
 * Runs workload controllers in this process against a test API server, as
 * tkube-controller-manager would: one RESTClient from the test kubeconfig, one shared
 * informer factory, one event broadcaster, and each controller built from its
 * ControllerDescriptor. Optionally the informers read through a client whose watches lag.
 */
import type { KubeObject } from '../../lib/api/index.js';
import { MetricsRegistry, createLogger, realClock, silentLogger, type Clock, type Runnable } from '../../lib/base/index.js';
import {
  EventBroadcaster,
  RESTClient,
  SharedInformerFactory,
  loadClientConfig,
  type KubeClient,
  type ResourceClient,
  type ResourceDescriptor,
  type WatchEvent,
  type WatchOptions,
  type WatchStream,
} from '../../lib/client/index.js';
import { defaultControllerManagerOptions, type ControllerContext } from '../../lib/controllers/types.js';
import { workloadControllers } from '../../lib/controllers/workloads.js';
import type { TestAPIServer } from './apiserver.js';
import { FakeKubelet, type FakeKubeletOptions } from './fake-kubelet.js';

export interface ControllerHarness {
  client: RESTClient;
  factory: SharedInformerFactory;
  broadcaster: EventBroadcaster;
  kubelet: FakeKubelet;
  ctx: ControllerContext;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  /** Descriptor names to run (upstream --controllers names). */
  controllers: string[];
  clock?: Clock;
  /** Delay every watch event of these resources (plural names) by this many ms. */
  lag?: { resources: string[]; ms: number };
  /** The stand-in scheduler/kubelet; false for none (when another harness plays it). */
  kubelet?: Omit<FakeKubeletOptions, 'client' | 'informers'> | false;
  /** Extra runnables started with the controllers (a second controller instance, say). */
  extra?: (ctx: ControllerContext) => Runnable[];
}

export async function startControllers(s: TestAPIServer, o: HarnessOptions): Promise<ControllerHarness> {
  const client = new RESTClient({ config: loadClientConfig({ kubeconfig: s.kubeconfig, env: {} }), component: 'controller-test', qps: 0 });
  const log = process.env.TKUBE_TEST_LOG ? createLogger({ component: 'controller-test', level: 'debug' }) : silentLogger();
  const clock = o.clock ?? realClock;
  const informerClient: KubeClient = o.lag ? laggingClient(client, o.lag.resources, o.lag.ms) : client;
  const factory = new SharedInformerFactory({ client: informerClient, log, clock: realClock, informerOptions: { backoffInitialMs: 100, backoffMaxMs: 1000 } });
  const broadcaster = new EventBroadcaster({ client, log });
  const ctx: ControllerContext = {
    client,
    informers: factory,
    recorder: (component) => broadcaster.newRecorder({ component }),
    log,
    clock,
    metrics: new MetricsRegistry(),
    options: { ...defaultControllerManagerOptions, concurrentSyncs: 3 },
  };
  const runnables: Runnable[] = [];
  for (const name of o.controllers) {
    const d = workloadControllers.find((c) => c.name === name);
    if (!d) throw new Error(`no workload controller named ${name}`);
    runnables.push(d.create(ctx));
  }
  runnables.push(...(o.extra?.(ctx) ?? []));
  const kubelet = new FakeKubelet({ client, informers: factory, ...(o.kubelet || {}) });
  if (o.kubelet !== false) kubelet.start();
  const ctl = new AbortController();
  const running = [factory.start(ctl.signal), broadcaster.start(ctl.signal), ...runnables.map((r) => r.start(ctl.signal))];
  await factory.waitForCacheSync(ctl.signal);
  return {
    client,
    factory,
    broadcaster,
    kubelet,
    ctx,
    async stop() {
      await broadcaster.flush();
      kubelet.stop();
      ctl.abort();
      await Promise.all(running);
      client.close();
    },
  };
}

/** A client whose watches on the named resources deliver each event `ms` late, as a slow watch would. */
export function laggingClient(inner: KubeClient, resources: string[], ms: number): KubeClient {
  return {
    resource<T extends KubeObject>(d: ResourceDescriptor<T>, namespace?: string): ResourceClient<T> {
      const rc = inner.resource(d, namespace);
      if (!resources.includes(d.resource)) return rc;
      return new Proxy(rc, {
        get(target, prop, receiver) {
          if (prop === 'watch') return async (opts?: WatchOptions) => delayed(await target.watch(opts), ms);
          if (prop === 'inNamespace') return (ns: string | undefined) => laggingClient(inner, resources, ms).resource(d, ns);
          return Reflect.get(target, prop, receiver);
        },
      });
    },
  };
}

function delayed<T>(stream: WatchStream<T>, ms: number): WatchStream<T> {
  return {
    stop: () => stream.stop(),
    async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent<T>> {
      for await (const ev of stream) {
        await new Promise((r) => setTimeout(r, ms));
        yield ev;
      }
    },
  };
}

/** Polls until `cond` holds. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
