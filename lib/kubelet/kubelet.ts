/**
 * Kubelet: the node agent. It registers its Node, watches the pods bound to it (field selector
 * spec.nodeName=<node>) and the static pods of its manifest folder, and makes the container
 * runtime run them, one worker per pod; it reports pod status and events, runs probes and
 * hooks, restarts containers, keeps the node's pod network, and collects garbage.
 *
 *   sources:  pod informer ─┐                              ┌─► runtime (Docker)
 *             manifest dir ─┼─► PodManager ─► PodWorkers ──┤─► PodNetwork (cbr0, veth, IPAM)
 *             PLEG relist ──┤      (admit)     PodSyncer   ├─► volumes, images, probes
 *             probe results ┘                              └─► StatusManager ─► pods/status
 *             node informer ─► podCIDR → PodNetwork, routes to other nodes
 *             NodeManager ─► Node registration, status, Lease
 *             KubeletServer (--port, HTTPS) ◄─ KubeletHost: pod manager + status + runtime
 *
 * Who owns what: `start(signal)` creates and runs every loop (informers, PLEG, status writer,
 * node heartbeats, garbage collection, the periodic resync, the healthz server and the optional
 * API server) and on abort stops them all and waits for running pod syncs. Stopping the kubelet
 * does not stop pods: a new kubelet adopts them.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ConfigMap, Node, Pod, Secret, Service, Taint } from '../api/index.js';
import { realClock, type Clock, type MetricsRegistry } from '../base/index.js';
import { EventBroadcaster, Resources, SharedInformerFactory, getIfExists, isTombstone, deletedObject, type KubeClient } from '../client/index.js';
import { isAlreadyExists, isConflict, isNotFound, jsonEqual } from '../machinery/index.js';
import type { PodStatus } from './api-types.js';
import { defaultBackoffInitialMs, defaultBackoffMaxMs, KeyedBackoff } from './backoff.js';
import { ObjectWatcher } from './config-objects.js';
import { parseResolvConf, type DNSSettings } from './dns.js';
import { PodEvents, Reason } from './events.js';
import { GarbageCollector } from './gc.js';
import { HealthzServer } from './healthz.js';
import { ImageManager } from './images/image-manager.js';
import { LifecycleHookRunner } from './lifecycle.js';
import { KubeletMetrics } from './metrics.js';
import { PodNetwork, type CommandRunner, type RemoteNode } from './network/index.js';
import { detectNodeIP, measurePressure, readMachineInfo, type MachineInfo } from './node/machine-info.js';
import { NodeManager } from './node/node-manager.js';
import { nodeCapacity } from './node/node-status.js';
import { PLEG } from './pleg.js';
import { PodManager, podUIDIndex } from './pod/pod-manager.js';
import { podGracePeriodSeconds, PodSyncer, minimumGracePeriodSeconds } from './pod/pod-sync.js';
import { PodWorkers, type SyncResult } from './pod/pod-workers.js';
import { RuntimeReader } from './pod/runtime-state.js';
import { Prober } from './probes/prober.js';
import { ProbeManager } from './probes/probe-manager.js';
import type { ContainerRuntime } from './runtime/index.js';
import { KubeletServer, type KubeletServerOptions } from './server/index.js';
import { KubeletHost } from './server-host.js';
import { configHashAnnotation, configMirrorAnnotation, FileSource, isMirrorPod, mirrorPodFor } from './static-pods.js';
import { StatusManager } from './status-manager.js';
import { ExecMounter, type Mounter } from './volumes/mounter.js';
import { TokenRequestProvider } from './volumes/token-provider.js';
import { podObjectReferences, VolumeManager, type ServiceAccountTokenProvider } from './volumes/volume-manager.js';

/** Whether an update of a pod changed more than its status (upstream's checkAndUpdatePod). */
export function podSpecChanged(a: Pod, b: Pod): boolean {
  const what = (p: Pod) => ({
    spec: p.spec,
    labels: p.metadata.labels,
    annotations: p.metadata.annotations,
    deletionTimestamp: p.metadata.deletionTimestamp,
    deletionGracePeriodSeconds: p.metadata.deletionGracePeriodSeconds,
    uid: p.metadata.uid,
  });
  return !jsonEqual(what(a), what(b));
}

/** The version this kubelet reports (the API server's, with tkube's own). */
export const kubeletVersion = 'v1.32.0-tkube.0.1.0';

/** Label on every sandbox and container of a node, so that kubelets sharing a Docker engine never touch each other's. */
export const nodeNameLabel = 'io.tkube.node';

export interface KubeletOptions {
  client: KubeClient;
  /** A client of its own for events (upstream's --event-qps/--event-burst), so that events never hold back status writes; default `client`. */
  eventClient?: KubeClient;
  runtime: ContainerRuntime;
  /** Runs ip/iptables for the pod network (in the node's network namespace). */
  runner: CommandRunner;
  log: Logger;
  clock?: Clock;
  nodeName: string;
  /** --node-ip; detected from the default route when unset. */
  nodeIP?: string;
  rootDir: string;
  podManifestPath?: string;
  podInfraContainerImage: string;
  /**
   * --seccomp-default: containers that name no seccomp profile run under the runtime's default
   * profile instead of Unconfined (upstream's default is false). Localhost profiles are read
   * from <root-dir>/seccomp.
   */
  seccompDefault?: boolean;
  /**
   * The lowest OOM score adjustment this node's kernel takes (probeOOMScoreAdjFloor): container
   * adjustments below it are raised to it. Default: no limit.
   */
  oomScoreAdjFloor?: number;
  clusterDNS: string[];
  clusterDomain: string;
  /** --cluster-cidr: pod traffic leaving it is masqueraded. */
  clusterCIDR?: string;
  /** --port: the HTTPS API's port (0: any free one), reported in the Node so that the API server finds it. */
  port: number;
  /** --address of the HTTPS API (default 0.0.0.0). */
  address?: string;
  /**
   * The HTTPS API (logs, exec, attach, port-forward, stats) on --address:--port: certificates,
   * authentication and authorization. Unset: no API is served (the port is still reported).
   */
  server?: KubeletAPISettings;
  /** --read-only-port: the unauthenticated read-only endpoints over plain HTTP; 0 (default) disables them. */
  readOnlyPort?: number;
  /** 0 disables the healthz server. */
  healthzPort: number;
  healthzBindAddress: string;
  nodeLabels: Record<string, string>;
  registerWithTaints: Taint[];
  maxPods: number;
  nodeStatusUpdateFrequencyMs: number;
  syncFrequencyMs: number;
  imageGCHighThresholdPercent: number;
  imageGCLowThresholdPercent: number;
  /** The node's resolver configuration (--resolv-conf, default /etc/resolv.conf). */
  resolvConf?: string;
  bridgeName?: string;
  /** Where the runtime keeps images (for imagefs pressure and image GC); default /var/lib/docker. */
  imageDir?: string;
  mounter?: Mounter;
  tokenProvider?: ServiceAccountTokenProvider;
  metrics?: MetricsRegistry;
  /** Overrides for tests. */
  crashBackoffInitialMs?: number;
  crashBackoffMaxMs?: number;
  plegPeriodMs?: number;
  leaseRenewIntervalMs?: number;
}

/** How the kubelet's HTTPS API is secured; the address, port, host and logger come from the kubelet. */
export type KubeletAPISettings = Omit<KubeletServerOptions, 'host' | 'log' | 'address' | 'port' | 'readOnly'>;

export class Kubelet {
  readonly metrics: KubeletMetrics;
  readonly nodeName: string;
  private readonly o: KubeletOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly runtimeLabels: Record<string, string>;
  private network?: PodNetwork;
  private networkMessage = 'the node has no spec.podCIDR yet (waiting for node IPAM)';
  private runtimeMessage?: string;
  private admitted = new Set<string>();
  /** Pods stopped for good (done or rejected); their API objects may remain. */
  private terminated = new Set<string>();
  /** Pods whose deletion this kubelet confirmed. */
  private confirmed = new Set<string>();
  /** Set while running; for tests and the HTTPS API. */
  private parts?: {
    syncer: PodSyncer;
    workers: PodWorkers;
    pods: PodManager;
    status: StatusManager;
    nodes: NodeManager;
    pleg: PLEG;
    host: KubeletHost;
    reader: RuntimeReader;
    server?: KubeletServer;
    readOnlyServer?: KubeletServer;
    healthz?: HealthzServer;
  };

  constructor(o: KubeletOptions) {
    this.o = o;
    this.clock = o.clock ?? realClock;
    this.log = o.log;
    this.nodeName = o.nodeName;
    this.metrics = new KubeletMetrics(o.metrics);
    this.runtimeLabels = { [nodeNameLabel]: o.nodeName };
  }

  /** What the HTTPS API serves from (available once started). */
  get serverHost(): KubeletHost | undefined {
    return this.parts?.host;
  }

  /** The HTTPS API's port once listening (what the Node reports). */
  get serverPort(): number | undefined {
    return this.parts?.server?.address?.port;
  }

  /** The read-only port once listening. */
  get readOnlyServerPort(): number | undefined {
    return this.parts?.readOnlyServer?.address?.port;
  }

  /** The healthz server's port once listening (tests bind port 0). */
  get healthzPort(): number | undefined {
    return this.parts?.healthz?.port;
  }

  async start(signal: AbortSignal): Promise<void> {
    const { o, log, clock } = this;
    const version = await this.waitForRuntime(signal);
    if (signal.aborted) return;
    const machine = await readMachineInfo();
    const nodeIP = o.nodeIP || (await detectNodeIP()) || '127.0.0.1';
    const hostResolv = parseResolvConf(await fs.readFile(o.resolvConf ?? '/etc/resolv.conf', 'utf8').catch(() => ''));
    const dns: DNSSettings = { clusterDNS: o.clusterDNS, clusterDomain: o.clusterDomain, hostResolvConf: hostResolv };
    await fs.mkdir(path.join(o.rootDir, 'pods'), { recursive: true });
    log.info({ node: o.nodeName, nodeIP, runtime: `${version.runtimeName}://${version.runtimeVersion}`, rootDir: o.rootDir }, 'kubelet starting');

    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const runs: Array<Promise<unknown>> = [];
    const run = (what: string, p: Promise<unknown>) => runs.push(p.catch((err) => log.error({ err, part: what }, 'kubelet part failed')));

    const broadcaster = new EventBroadcaster({ client: o.eventClient ?? o.client, log: log.child({ part: 'events' }), clock });
    const events = new PodEvents(broadcaster.newRecorder({ component: 'kubelet', host: o.nodeName }));
    run('events', broadcaster.start(stop.signal));

    const factory = new SharedInformerFactory({ client: o.client, log: log.child({ part: 'informers' }), clock });
    const podInformer = factory.informerFor(Resources.pods, { fieldSelector: `spec.nodeName=${o.nodeName}` });
    podInformer.addIndexers({ [podUIDIndex]: (p) => (p.metadata.uid ? [p.metadata.uid] : []) });
    const serviceInformer = factory.informerFor(Resources.services);
    // Its own Node through the selector the Node authorizer allows a kubelet; every Node (for
    // routes to the other nodes' podCIDRs) through an informer of its own, not awaited: reading
    // other Nodes takes an RBAC grant (the bootstrap role tkube:node-routes), and without it the
    // pod network of this node still comes up.
    const nodeInformer = factory.informerFor(Resources.nodes, { fieldSelector: `metadata.name=${o.nodeName}` });
    const peerFactory = new SharedInformerFactory({ client: o.client, log: log.child({ part: 'informers' }), clock });
    const peerInformer = peerFactory.informerFor(Resources.nodes);
    // The other nodes only once listed (before that, routes are left as they are).
    const knownNodes = (): { me?: Node; peers?: Node[] } => ({
      me: nodeInformer.getIndexer().getByKey(o.nodeName),
      peers: peerInformer.hasSynced() ? peerInformer.getIndexer().list().filter((n) => n.metadata.name !== o.nodeName) : undefined,
    });
    const pods = new PodManager(podInformer.getIndexer());

    const reader = new RuntimeReader(o.runtime, this.runtimeLabels);
    let workers!: PodWorkers;
    // Until the caches hold every pod and service, triggers only collect: a sync before that
    // could miss service variables or take a running pod for an orphan.
    let ready = false;
    const early = new Set<string>();
    const trigger = (uid: string, why: string) => (ready ? workers.trigger(uid, why) : early.add(uid));
    const configMaps = new ObjectWatcher<ConfigMap>({ client: o.client, descriptor: Resources.configMaps, log, onChange: (ns, name) => this.triggerUsers(pods, 'configmap', ns, name, trigger) });
    const secrets = new ObjectWatcher<Secret>({ client: o.client, descriptor: Resources.secrets, log, onChange: (ns, name) => this.triggerUsers(pods, 'secret', ns, name, trigger) });
    const { allocatable } = nodeCapacity({ machine, maxPods: o.maxPods, pressure: { memoryAvailableBytes: 0, memoryPressure: false, diskPressure: false, pidPressure: false } });
    const volumes = new VolumeManager({
      rootDir: o.rootDir,
      mounter: o.mounter ?? new ExecMounter(),
      log,
      getConfigMap: (ns, n) => configMaps.get(ns, n),
      getSecret: (ns, n) => secrets.get(ns, n),
      getPersistentVolumeClaim: (ns, n) => getIfExists(o.client.resource(Resources.persistentVolumeClaims, ns), n),
      getPersistentVolume: (n) => getIfExists(o.client.resource(Resources.persistentVolumes), n),
      tokenProvider: o.tokenProvider ?? new TokenRequestProvider({ client: o.client, clock }),
      nodeAllocatable: () => allocatable,
      nodeName: o.nodeName,
    });
    const images = new ImageManager({ runtime: o.runtime, events, clock, backoffInitialMs: defaultBackoffInitialMs, backoffMaxMs: defaultBackoffMaxMs });
    const userAgent = `kube-probe/${kubeletVersion.replace(/^v(\d+\.\d+).*/, '$1')}`;
    const probes = new ProbeManager({
      prober: new Prober({ runtime: o.runtime, userAgent }),
      clock,
      log: log.child({ part: 'probes' }),
      onChange: (uid) => trigger(uid, 'probe'),
      onFailure: (pod, c, _type, message) => events.container(pod, c, 'Warning', Reason.Unhealthy, message),
    });
    const status = new StatusManager({ client: o.client, log: log.child({ part: 'status' }), clock, apiPodFor: (uid) => pods.statusTarget(uid), onWrite: () => this.metrics.podStatusWrites.inc() });
    const syncer = new PodSyncer({
      nodeName: o.nodeName,
      runtime: o.runtime,
      runtimeName: version.runtimeName,
      reader,
      network: () => this.network,
      hostIPs: () => [nodeIP],
      volumes,
      images,
      probes,
      hooks: new LifecycleHookRunner({ runtime: o.runtime, clock, userAgent }),
      events,
      configMaps,
      secrets,
      services: () => serviceInformer.getIndexer().list() as Service[],
      dns,
      podInfraContainerImage: o.podInfraContainerImage,
      seccomp: { defaultToRuntimeDefault: o.seccompDefault ?? false, profileRoot: path.join(o.rootDir, 'seccomp') },
      getRuntimeClass: (name) => getIfExists(o.client.resource(Resources.runtimeClasses), name),
      runtimeLabels: this.runtimeLabels,
      nodeAllocatable: () => allocatable,
      nodeMemoryBytes: machine.memoryBytes,
      oomScoreAdjFloor: o.oomScoreAdjFloor,
      crashBackoff: new KeyedBackoff({ initialMs: o.crashBackoffInitialMs ?? defaultBackoffInitialMs, maxMs: o.crashBackoffMaxMs ?? defaultBackoffMaxMs, clock }),
      clock,
      log: log.child({ part: 'sync' }),
      onPodRunning: (_pod, firstSeen) => this.metrics.podStartDuration.observe({}, (clock.now() - firstSeen) / 1000),
      onContainerStarted: (ok) => (ok ? this.metrics.startedContainers.inc() : this.metrics.startedContainersErrors.inc()),
    });
    workers = new PodWorkers({
      sync: (uid, why) => this.syncPod(uid, why, { pods, syncer, status, events }),
      log: log.child({ part: 'workers' }),
      clock,
      onSyncDuration: (ms, state) => this.metrics.podWorkerDuration.observe({ state }, ms / 1000),
    });

    const nodes = new NodeManager({
      client: o.client,
      nodeName: o.nodeName,
      log: log.child({ part: 'node' }),
      clock,
      labels: o.nodeLabels,
      taints: o.registerWithTaints,
      architecture: machine.architecture,
      cachedNode: () => nodeInformer.getIndexer().getByKey(o.nodeName),
      statusUpdateFrequencyMs: o.nodeStatusUpdateFrequencyMs,
      leaseRenewIntervalMs: o.leaseRenewIntervalMs,
      statusInputs: () => this.nodeStatusInputs(machine, nodeIP, version.runtimeName, version.runtimeVersion, plegRef.pleg),
    });
    const plegRef: { pleg?: PLEG } = {};
    const pleg = new PLEG({
      runtime: o.runtime,
      labels: this.runtimeLabels,
      clock,
      log: log.child({ part: 'pleg' }),
      periodMs: o.plegPeriodMs,
      onPodChanged: (uid) => trigger(uid, 'pleg'),
      onRelist: (snap, ms) => {
        this.metrics.plegRelistDuration.observe({}, ms / 1000);
        reader.retainOnly(new Set(snap.containers.map((c) => c.id)));
        this.metrics.runningPods.set({}, snap.sandboxes.filter((s) => s.state === 'ready').length);
        for (const st of ['running', 'exited', 'created', 'unknown']) this.metrics.runningContainers.set({ container_state: st }, snap.containers.filter((c) => c.state === st).length);
      },
    });
    plegRef.pleg = pleg;
    const host = new KubeletHost({ nodeName: o.nodeName, runtime: o.runtime, reader, pods: () => pods.all(), status: (uid) => status.getPodStatus(uid), startTime: new Date(clock.now()) });
    this.parts = { syncer, workers, pods, status, nodes, pleg, host, reader };

    // The API listens before the Node is registered, so that the port the Node reports is the one served.
    try {
      if (o.server) this.parts.server = await this.listen('server', new KubeletServer({ ...o.server, host, log: log.child({ part: 'server' }), address: o.address ?? '0.0.0.0', port: o.port }), stop.signal, run);
      if (o.readOnlyPort) this.parts.readOnlyServer = await this.listen('read-only-server', new KubeletServer({ host, log: log.child({ part: 'read-only-server' }), address: o.address ?? '0.0.0.0', port: o.readOnlyPort, readOnly: true }), stop.signal, run);
    } catch (err) {
      stop.abort();
      await Promise.all(runs);
      signal.removeEventListener('abort', onAbort);
      this.parts = undefined;
      throw err;
    }

    // Node: registration, status, lease; the pod network once spec.podCIDR is set.
    run('node', nodes.start(stop.signal));
    // Node changes (this node's podCIDR, other nodes' ranges and addresses) are handled a moment
    // later, together; a loop repeats it every 30s, which also retries a failed network setup.
    let routesTimer: NodeJS.Timeout | undefined;
    const networkReady = () => {
      nodes.triggerStatusUpdate();
      for (const p of pods.all()) trigger(p.metadata.uid!, 'network-ready');
    };
    const syncRoutes = () => {
      if (routesTimer || stop.signal.aborted) return;
      routesTimer = setTimeout(() => {
        routesTimer = undefined;
        void this.syncNetwork(knownNodes(), networkReady);
      }, 100);
    };
    run(
      'network',
      (async () => {
        while (!stop.signal.aborted) {
          await clock.sleep(30_000, stop.signal);
          if (!stop.signal.aborted && nodeInformer.hasSynced()) await this.syncNetwork(knownNodes(), networkReady);
        }
      })(),
    );
    nodeInformer.addEventHandler({ onAdd: syncRoutes, onUpdate: syncRoutes, onDelete: syncRoutes });
    peerInformer.addEventHandler({ onAdd: syncRoutes, onUpdate: syncRoutes, onDelete: syncRoutes });

    // Pods from the API server.
    const onPod = (p: Pod, why: string) => {
      if (isMirrorPod(p)) {
        const st = pods.staticFor(p);
        if (st) trigger(st.metadata.uid!, 'mirror');
        else if (fileSynced) void this.deleteMirror(p);
        return;
      }
      if (p.metadata.uid) trigger(p.metadata.uid, why);
    };
    let fileSynced = !o.podManifestPath;
    podInformer.addEventHandler({
      onAdd: (p) => onPod(p, 'added'),
      // A status-only change (most often the kubelet's own write) needs no sync, unless readiness gates may have moved.
      onUpdate: (a, p) => (podSpecChanged(a, p) || (p.spec?.readinessGates?.length ?? 0) > 0 ? onPod(p, 'updated') : undefined),
      onDelete: (x) => onPod(deletedObject(x), isTombstone(x) ? 'gone' : 'deleted'),
    });
    run('informers', factory.start(stop.signal));
    run('peer-informers', peerFactory.start(stop.signal));

    // Static pods.
    if (o.podManifestPath) {
      const source = new FileSource({
        dir: o.podManifestPath,
        nodeName: o.nodeName,
        log: log.child({ part: 'static-pods' }),
        clock,
        onChange: (list) => {
          const before = new Set(pods.static().map((p) => p.metadata.uid!));
          pods.setStaticPods(list);
          for (const p of list) trigger(p.metadata.uid!, 'static');
          for (const uid of before) if (!pods.isStatic(uid)) trigger(uid, 'static-removed');
          for (const p of podInformer.getIndexer().list()) if (isMirrorPod(p) && !pods.staticFor(p)) void this.deleteMirror(p);
        },
      });
      run('static-pods', source.start(stop.signal));
      void source.synced.then(() => (fileSynced = true));
      await Promise.race([source.synced, new Promise((r) => stop.signal.addEventListener('abort', r, { once: true }))]);
    }

    // Nothing is adopted or collected before the caches hold every pod of this node.
    await factory.waitForCacheSync(stop.signal);
    if (stop.signal.aborted) return this.stopAll(runs, workers, probes, configMaps, secrets, signal, onAbort);
    log.info({ pods: pods.all().length }, 'caches synced');
    // With a podCIDR known already (a restart), the network is set up before any pod is synced.
    await this.syncNetwork(knownNodes(), networkReady);
    ready = true;
    for (const uid of new Set([...early, ...pods.all().map((p) => p.metadata.uid!)])) trigger(uid, 'initial');

    run('pleg', pleg.start(stop.signal));
    run('status', status.start(stop.signal));
    const gc = new GarbageCollector({
      runtime: o.runtime,
      log: log.child({ part: 'gc' }),
      clock,
      snapshot: () => pleg.last,
      knownPod: (uid) => !!pods.get(uid) || workers.state(uid) !== undefined,
      busy: (uid) => workers.isBusy(uid),
      onOrphan: (uid) => trigger(uid, 'orphan'),
      imageDir: o.imageDir ?? '/var/lib/docker',
      imageGCHighThresholdPercent: o.imageGCHighThresholdPercent,
      imageGCLowThresholdPercent: o.imageGCLowThresholdPercent,
      podInfraContainerImage: o.podInfraContainerImage,
    });
    run('gc', gc.start(stop.signal));
    // Pods of this node no source knows (deleted while the kubelet was away): terminate them once the first relist is in.
    run(
      'orphans',
      (async () => {
        while (!stop.signal.aborted && !pleg.last) await clock.sleep(100, stop.signal);
        await gc.collectContainers();
      })(),
    );
    run('resync', this.resyncLoop(stop.signal, () => pods.all().map((p) => p.metadata.uid!), trigger));

    if (o.healthzPort > 0) {
      const healthz = new HealthzServer({
        address: o.healthzBindAddress,
        port: o.healthzPort,
        log: log.child({ part: 'healthz' }),
        registry: this.metrics.registry,
        problem: () => (pleg.healthy() ? undefined : 'pleg: the last relist of the container runtime is too old'),
      });
      this.parts.healthz = healthz;
      try {
        run('healthz', (await healthz.listen(stop.signal)).closed);
      } catch (err) {
        log.error({ err, port: o.healthzPort }, 'the healthz server cannot listen');
      }
    }

    await new Promise<void>((r) => (stop.signal.aborted ? r() : stop.signal.addEventListener('abort', () => r(), { once: true })));
    if (routesTimer) clearTimeout(routesTimer);
    await this.stopAll(runs, workers, probes, configMaps, secrets, signal, onAbort);
  }

  /** Starts a server and waits until it listens; rejects (as upstream's kubelet exits) when it cannot. */
  private async listen(part: string, server: KubeletServer, signal: AbortSignal, run: (what: string, p: Promise<unknown>) => void): Promise<KubeletServer> {
    const running = server.start(signal);
    const failed = running.then(() => {
      throw new Error(`the kubelet ${part} stopped before it listened`);
    });
    try {
      await Promise.race([server.listening(), failed]);
    } catch (err) {
      failed.catch(() => undefined);
      throw new Error(`the kubelet ${part} cannot serve on ${server.describeAddress()}: ${(err as Error).message}`, { cause: err });
    }
    failed.catch(() => undefined);
    run(part, running);
    return server;
  }

  private async stopAll(runs: Array<Promise<unknown>>, workers: PodWorkers, probes: ProbeManager, cm: ObjectWatcher<ConfigMap>, sec: ObjectWatcher<Secret>, signal: AbortSignal, onAbort: () => void): Promise<void> {
    await workers.stop();
    await probes.stop();
    await Promise.all([cm.stop(), sec.stop()]);
    await Promise.all(runs);
    signal.removeEventListener('abort', onAbort);
    this.parts = undefined;
    this.log.info('kubelet stopped');
  }

  private async waitForRuntime(signal: AbortSignal) {
    let delay = 500;
    for (;;) {
      try {
        const v = await this.o.runtime.version();
        this.runtimeMessage = undefined;
        return v;
      } catch (err) {
        this.runtimeMessage = (err as Error).message;
        if (signal.aborted) throw err;
        this.log.warn({ err: this.runtimeMessage, retryInMs: delay }, 'the container runtime does not answer yet');
        await this.clock.sleep(delay, signal);
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  private async resyncLoop(signal: AbortSignal, uids: () => string[], trigger: (uid: string, why: string) => void): Promise<void> {
    while (!signal.aborted) {
      await this.clock.sleep(this.o.syncFrequencyMs, signal);
      if (!signal.aborted) for (const uid of uids()) trigger(uid, 'periodic');
    }
  }

  /** Pods using a ConfigMap or Secret that changed are synced (volumes refreshed, waiting containers retried). */
  private triggerUsers(pods: PodManager, kind: 'configmap' | 'secret', ns: string, name: string, trigger: (uid: string, why: string) => void): void {
    const key = `${ns}/${name}`;
    for (const p of pods.all()) {
      const refs = podObjectReferences(p);
      if ((kind === 'configmap' ? refs.configMaps : refs.secrets).has(key)) trigger(p.metadata.uid!, kind);
    }
  }

  private async nodeStatusInputs(machine: MachineInfo, nodeIP: string, runtimeName: string, runtimeVersion: string, pleg: PLEG | undefined) {
    const o = this.o;
    let images: Awaited<ReturnType<ContainerRuntime['listImages']>> = [];
    let runtimeReady = true;
    try {
      images = await o.runtime.listImages();
      this.runtimeMessage = undefined;
    } catch (err) {
      runtimeReady = false;
      this.runtimeMessage = (err as Error).message;
    }
    return {
      machine,
      maxPods: o.maxPods,
      nodeIP,
      hostname: o.nodeName,
      kubeletPort: this.parts?.server?.address?.port ?? o.port,
      kubeletVersion,
      containerRuntimeVersion: `${runtimeName}://${runtimeVersion}`,
      images,
      pressure: await measurePressure(o.rootDir, o.imageDir ?? '/var/lib/docker'),
      runtimeReady,
      runtimeMessage: this.runtimeMessage,
      networkReady: !!this.network,
      networkMessage: this.networkMessage,
      // Before the first relist the kubelet is starting, not unhealthy.
      plegHealthy: !pleg?.last || pleg.healthy(),
    };
  }

  private networkQueue: Promise<void> = Promise.resolve();

  /** Sets up the pod network once the node has its podCIDR; keeps routes to the other nodes' pods. One at a time. */
  private syncNetwork(nodes: { me?: Node; peers?: Node[] }, onReady: () => void): Promise<void> {
    const next = this.networkQueue.then(() => this.syncNetworkNow(nodes, onReady));
    this.networkQueue = next.catch(() => undefined);
    return next;
  }

  private async syncNetworkNow({ me, peers }: { me?: Node; peers?: Node[] }, onReady: () => void): Promise<void> {
    const podCIDR = me?.spec?.podCIDR;
    if (!this.network && podCIDR) {
      try {
        const net = new PodNetwork({
          runner: this.o.runner,
          log: this.log.child({ part: 'network' }),
          podCIDR,
          clusterCIDR: this.o.clusterCIDR || undefined,
          bridgeName: this.o.bridgeName ?? 'cbr0',
          ipamDir: path.join(this.o.rootDir, 'networks', this.o.bridgeName ?? 'cbr0'),
        });
        await net.ensureNode();
        this.network = net;
        this.networkMessage = `pod network ready: bridge ${net.bridgeName} with ${net.gateway}/${net.podCIDR.prefixLength}`;
        this.log.info({ podCIDR, bridge: net.bridgeName }, 'pod network ready');
        onReady();
      } catch (err) {
        this.networkMessage = `setting up the pod network for podCIDR ${podCIDR} failed: ${(err as Error).message}`;
        this.log.error({ err, podCIDR }, 'setting up the pod network failed; retrying within 30s');
        return;
      }
    }
    if (!this.network || !peers) return;
    const remote: RemoteNode[] = peers.map((n) => ({ name: n.metadata.name ?? '', podCIDR: n.spec?.podCIDR ?? '', nodeIP: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '' }));
    await this.network.syncRoutes(remote).catch((err) => this.log.warn({ err: (err as Error).message }, 'syncing routes to other nodes failed'));
  }

  /** Deletes a mirror pod whose static pod is gone (or stale), with grace 0. */
  private async deleteMirror(p: Pod): Promise<void> {
    try {
      await this.o.client.resource(Resources.pods, p.metadata.namespace).delete(p.metadata.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: p.metadata.uid } });
      this.log.info({ pod: `${p.metadata.namespace}/${p.metadata.name}` }, 'mirror pod deleted');
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) this.log.warn({ err: (err as Error).message }, 'deleting a mirror pod failed');
    }
  }

  /** Keeps a static pod's mirror pod in the API server: created when missing, replaced when stale. */
  private async ensureMirror(pod: Pod, pods: PodManager): Promise<void> {
    const mirror = pods.mirrorOf(pod);
    const hash = pod.metadata.annotations?.[configHashAnnotation];
    if (mirror && mirror.metadata.annotations?.[configMirrorAnnotation] === hash && !mirror.metadata.deletionTimestamp) return;
    if (mirror) {
      await this.deleteMirror(mirror);
      return;
    }
    const node = await this.parts?.nodes.registered;
    if (!node) return;
    try {
      await this.o.client.resource(Resources.pods, pod.metadata.namespace).create(mirrorPodFor(pod, node));
      this.log.info({ pod: `${pod.metadata.namespace}/${pod.metadata.name}` }, 'mirror pod created');
    } catch (err) {
      if (!isAlreadyExists(err)) this.log.warn({ err: (err as Error).message, pod: pod.metadata.name }, 'creating the mirror pod failed');
    }
  }

  /** Upstream's pods-per-node admission: a pod beyond --max-pods is rejected (OutOfpods). */
  private admit(pod: Pod, all: Pod[], apiStatus: PodStatus | undefined): { ok: true } | { ok: false; message: string } {
    const uid = pod.metadata.uid!;
    if (this.admitted.has(uid)) return { ok: true };
    // A pod that already runs (the kubelet restarted) is not admitted again.
    if (apiStatus?.phase && apiStatus.phase !== 'Pending') {
      this.admitted.add(uid);
      return { ok: true };
    }
    const active = all.filter((p) => this.admitted.has(p.metadata.uid!) && !this.terminated.has(p.metadata.uid!)).length;
    if (active >= this.o.maxPods) return { ok: false, message: `Node didn't have enough resource: pods, requested: 1, used: ${active}, capacity: ${this.o.maxPods}` };
    this.admitted.add(uid);
    return { ok: true };
  }

  /** One sync of one pod, by what its sources say about it (see PodWorkers for the states). */
  private async syncPod(uid: string, _why: string, k: { pods: PodManager; syncer: PodSyncer; status: StatusManager; events: PodEvents }): Promise<SyncResult> {
    const pod = k.pods.get(uid);
    const isStatic = k.pods.isStatic(uid);
    if (!pod) {
      // Gone from every source: stop and remove whatever is left of it.
      const last = k.syncer.records.get(uid)?.lastPod;
      const stub: Pod = last ?? { apiVersion: 'v1', kind: 'Pod', metadata: { uid, name: uid, namespace: 'default' }, spec: { containers: [], terminationGracePeriodSeconds: minimumGracePeriodSeconds } };
      await k.syncer.terminatePod(stub, podGracePeriodSeconds(stub), { remove: true });
      k.status.removePod(uid);
      this.admitted.delete(uid);
      this.terminated.delete(uid);
      this.confirmed.delete(uid);
      return { state: 'removed' };
    }
    if (isStatic) await this.ensureMirror(pod, k.pods);
    const target = k.pods.statusTarget(uid);
    const apiStatus = target?.status;
    const where = { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' };

    if (pod.metadata.deletionTimestamp) {
      if (this.confirmed.has(uid)) return { state: 'terminated' };
      await k.syncer.terminatePod(pod, podGracePeriodSeconds(pod), { remove: false });
      k.status.setPodStatus(uid, where, await k.syncer.currentStatus(pod, apiStatus, true));
      await k.status.writeNow(uid);
      await k.syncer.removePod(uid);
      await k.status.confirmDeletion(pod);
      this.confirmed.add(uid);
      return { state: 'terminated' };
    }
    if (!isStatic) {
      const verdict = this.admit(pod, k.pods.all(), apiStatus);
      if (!verdict.ok) {
        k.events.pod(pod, 'Warning', Reason.OutOfpods, verdict.message);
        k.status.setPodStatus(uid, where, { ...(apiStatus ?? {}), phase: 'Failed', reason: 'OutOfpods', message: verdict.message });
        this.terminated.add(uid);
        return { state: 'terminated' };
      }
    }
    if (this.terminated.has(uid)) return { state: 'terminated' };
    if (apiStatus?.phase === 'Succeeded' || apiStatus?.phase === 'Failed') {
      await k.syncer.terminatePod(pod, podGracePeriodSeconds(pod), { remove: false });
      this.terminated.add(uid);
      return { state: 'terminated' };
    }
    if (!apiStatus?.containerStatuses?.length && !k.status.getPodStatus(uid)) {
      // A pod no kubelet has reported on yet: as upstream's SyncPod, its status goes out
      // before anything is started (Pending, each container waiting with ContainerCreating,
      // startTime), so that `kubectl get pods` shows ContainerCreating while the sandbox,
      // volumes and containers come up. A pod adopted after a restart already has statuses.
      k.status.setPodStatus(uid, where, await k.syncer.currentStatus(pod, apiStatus, false));
    }
    const r = await k.syncer.syncPod(pod, apiStatus);
    k.status.setPodStatus(uid, where, r.status);
    if (r.terminal) {
      // Done for good (restartPolicy Never/OnFailure): stop the sandbox, release the IP, keep the containers for their logs.
      await k.syncer.terminatePod(pod, minimumGracePeriodSeconds, { remove: false });
      this.terminated.add(uid);
      return { state: 'terminated' };
    }
    return { state: 'syncing', ...(r.resyncAfterMs !== undefined ? { resyncAfterMs: r.resyncAfterMs } : {}) };
  }
}
