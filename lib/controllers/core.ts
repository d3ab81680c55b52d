/**
 * The cluster-level controllers of the controller manager, as ControllerDescriptors. Names are
 * upstream's `--controllers` names; `controllerAliases` maps the newer `*-controller` names
 * (kube-controller-manager accepts both) to them.
 */
import { waitForAbort, type Runnable } from '../base/index.js';
import { EndpointsController } from './endpoints/index.js';
import { EndpointSliceController } from './endpointslice/index.js';
import { EndpointSliceMirroringController } from './endpointslicemirroring/index.js';
import { GarbageCollector, builtinDiscovery } from './garbagecollector/index.js';
import { NamespaceController } from './namespace/index.js';
import { NodeIpamController } from './nodeipam/index.js';
import { NodeLifecycleController, TaintEvictionController } from './nodelifecycle/index.js';
import { PodGCController } from './podgc/index.js';
import { ServiceAccountsController, TokensController } from './serviceaccount/index.js';
import { RootCACertPublisher } from './rootcacertpublisher/index.js';
import { TTLAfterFinishedController } from './ttlafterfinished/index.js';
import { EphemeralVolumeController } from './ephemeral/index.js';
import { PersistentVolumeController, PVCProtectionController, PVProtectionController } from './volume/index.js';
import { concurrentSyncsFor, type ControllerContext, type ControllerDescriptor } from './types.js';

function idle(ctx: ControllerContext, name: string, why: string): Runnable {
  return {
    async start(signal) {
      ctx.log.info({ controller: name }, why);
      await waitForAbort(signal);
    },
  };
}

export const coreControllers: ControllerDescriptor[] = [
  {
    name: 'endpoint',
    serviceAccount: 'endpoint-controller',
    enabledByDefault: true,
    create: (ctx) => new EndpointsController({ client: ctx.client, informers: ctx.informers, workers: concurrentSyncsFor(ctx.options, 'endpoint', 5), log: ctx.log, clock: ctx.clock }),
  },
  {
    name: 'endpointslice',
    serviceAccount: 'endpointslice-controller',
    enabledByDefault: true,
    create: (ctx) =>
      new EndpointSliceController({
        client: ctx.client,
        informers: ctx.informers,
        workers: concurrentSyncsFor(ctx.options, 'endpointslice', 5),
        maxEndpointsPerSlice: ctx.options.maxEndpointsPerSlice ?? 100,
        log: ctx.log,
        clock: ctx.clock,
      }),
  },
  {
    name: 'endpointslicemirroring',
    serviceAccount: 'endpointslicemirroring-controller',
    enabledByDefault: true,
    create: (ctx) =>
      new EndpointSliceMirroringController({
        client: ctx.client,
        informers: ctx.informers,
        recorder: ctx.recorder('endpoint-slice-mirroring-controller'),
        workers: concurrentSyncsFor(ctx.options, 'endpointslicemirroring', 5),
        maxEndpointsPerSubset: ctx.options.mirroringMaxEndpointsPerSubset ?? 1000,
        log: ctx.log,
        clock: ctx.clock,
      }),
  },
  {
    name: 'garbagecollector',
    serviceAccount: 'generic-garbage-collector',
    enabledByDefault: true,
    create: (ctx) =>
      ctx.options.enableGarbageCollector === false
        ? idle(ctx, 'garbagecollector', '--enable-garbage-collector is false; not collecting garbage')
        : new GarbageCollector({
            client: ctx.client,
            informers: ctx.informers,
            discovery: ctx.discovery ?? builtinDiscovery(),
            workers: concurrentSyncsFor(ctx.options, 'garbagecollector', 20),
            discoveryPeriodMs: ctx.options.discoveryPeriodMs,
            log: ctx.log,
            clock: ctx.clock,
            metrics: ctx.metrics,
          }),
  },
  {
    name: 'namespace',
    serviceAccount: 'namespace-controller',
    enabledByDefault: true,
    create: (ctx) =>
      new NamespaceController({
        client: ctx.client,
        informers: ctx.informers,
        discovery: ctx.discovery ?? builtinDiscovery(),
        workers: concurrentSyncsFor(ctx.options, 'namespace', 10),
        log: ctx.log,
        clock: ctx.clock,
      }),
  },
  {
    name: 'nodeipam',
    serviceAccount: 'node-controller',
    enabledByDefault: true,
    create: (ctx) =>
      new NodeIpamController({
        client: ctx.client,
        informers: ctx.informers,
        allocateNodeCIDRs: ctx.options.allocateNodeCIDRs,
        clusterCIDR: ctx.options.clusterCIDR,
        serviceCIDR: ctx.options.serviceClusterIPRange,
        nodeCIDRMaskSize: ctx.options.nodeCIDRMaskSize,
        recorder: ctx.recorder('node-ipam-controller'),
        log: ctx.log,
        clock: ctx.clock,
      }),
  },
  {
    name: 'nodelifecycle',
    serviceAccount: 'node-controller',
    enabledByDefault: true,
    create: (ctx) =>
      new NodeLifecycleController({
        client: ctx.client,
        informers: ctx.informers,
        recorder: ctx.recorder('node-controller'),
        log: ctx.log,
        clock: ctx.clock,
        metrics: ctx.metrics,
        nodeMonitorPeriodMs: ctx.options.nodeMonitorPeriodMs,
        nodeMonitorGracePeriodMs: ctx.options.nodeMonitorGracePeriodMs,
        nodeStartupGracePeriodMs: ctx.options.nodeStartupGracePeriodMs,
        evictionLimiterQPS: ctx.options.nodeEvictionRate,
        secondaryEvictionLimiterQPS: ctx.options.secondaryNodeEvictionRate,
        largeClusterThreshold: ctx.options.largeClusterSizeThreshold,
        unhealthyZoneThreshold: ctx.options.unhealthyZoneThreshold,
      }),
  },
  {
    name: 'taint-eviction-controller',
    serviceAccount: 'node-controller',
    enabledByDefault: true,
    create: (ctx) => new TaintEvictionController({ client: ctx.client, informers: ctx.informers, recorder: ctx.recorder('taint-eviction-controller'), log: ctx.log, clock: ctx.clock, metrics: ctx.metrics }),
  },
  {
    name: 'podgc',
    serviceAccount: 'pod-garbage-collector',
    enabledByDefault: true,
    create: (ctx) =>
      new PodGCController({
        client: ctx.client,
        informers: ctx.informers,
        terminatedPodThreshold: ctx.options.terminatedPodGCThreshold,
        gcPeriodMs: ctx.options.podGCPeriodMs,
        quarantineMs: ctx.options.podGCQuarantineMs,
        log: ctx.log,
        clock: ctx.clock,
        metrics: ctx.metrics,
      }),
  },
  {
    name: 'serviceaccount',
    serviceAccount: 'service-account-controller',
    enabledByDefault: true,
    create: (ctx) => new ServiceAccountsController({ client: ctx.client, informers: ctx.informers, workers: concurrentSyncsFor(ctx.options, 'serviceaccount', 1), log: ctx.log, clock: ctx.clock }),
  },
  {
    name: 'serviceaccount-token',
    enabledByDefault: true,
    create: (ctx) =>
      ctx.options.serviceAccountPrivateKey
        ? new TokensController({
            client: ctx.client,
            informers: ctx.informers,
            privateKey: ctx.options.serviceAccountPrivateKey,
            rootCA: ctx.options.rootCA ?? '',
            workers: concurrentSyncsFor(ctx.options, 'serviceaccount-token', 5),
            log: ctx.log,
            clock: ctx.clock,
          })
        : idle(ctx, 'serviceaccount-token', '--service-account-private-key-file is not set; not filling service account token secrets'),
  },
  {
    name: 'root-ca-cert-publisher',
    serviceAccount: 'root-ca-cert-publisher',
    enabledByDefault: true,
    create: (ctx) => new RootCACertPublisher({ client: ctx.client, informers: ctx.informers, rootCA: ctx.options.rootCA ?? '', log: ctx.log, clock: ctx.clock }),
  },
  {
    name: 'ttl-after-finished',
    serviceAccount: 'ttl-after-finished-controller',
    enabledByDefault: true,
    create: (ctx) => new TTLAfterFinishedController({ client: ctx.client, informers: ctx.informers, workers: concurrentSyncsFor(ctx.options, 'ttl-after-finished', 5), log: ctx.log, clock: ctx.clock }),
  },
  {
    name: 'persistentvolume-binder',
    serviceAccount: 'persistent-volume-binder',
    enabledByDefault: true,
    create: (ctx) =>
      new PersistentVolumeController({
        client: ctx.client,
        informers: ctx.informers,
        recorder: ctx.recorder('persistentvolume-controller'),
        syncPeriodMs: ctx.options.pvClaimBinderSyncPeriodMs,
        enableHostPathProvisioner: ctx.options.enableHostPathProvisioner,
        log: ctx.log,
        clock: ctx.clock,
      }),
  },
  {
    name: 'pvc-protection',
    serviceAccount: 'pvc-protection-controller',
    enabledByDefault: true,
    create: (ctx) => new PVCProtectionController({ client: ctx.client, informers: ctx.informers, log: ctx.log, clock: ctx.clock }),
  },
  {
    name: 'pv-protection',
    serviceAccount: 'pv-protection-controller',
    enabledByDefault: true,
    create: (ctx) => new PVProtectionController({ client: ctx.client, informers: ctx.informers, log: ctx.log, clock: ctx.clock }),
  },
  {
    name: 'ephemeral-volume',
    serviceAccount: 'ephemeral-volume-controller',
    enabledByDefault: true,
    create: (ctx) => new EphemeralVolumeController({ client: ctx.client, informers: ctx.informers, recorder: ctx.recorder('ephemeral_volume'), log: ctx.log, clock: ctx.clock }),
  },
];

/** Upstream's canonical names (kube-controller-manager ≥ 1.28) → the names above. */
export const controllerAliases: Readonly<Record<string, string>> = Object.freeze({
  'endpoints-controller': 'endpoint',
  'endpointslice-controller': 'endpointslice',
  'endpointslice-mirroring-controller': 'endpointslicemirroring',
  'garbage-collector-controller': 'garbagecollector',
  'namespace-controller': 'namespace',
  'node-ipam-controller': 'nodeipam',
  'node-lifecycle-controller': 'nodelifecycle',
  'pod-garbage-collector-controller': 'podgc',
  'serviceaccount-controller': 'serviceaccount',
  'serviceaccount-token-controller': 'serviceaccount-token',
  'root-ca-certificate-publisher-controller': 'root-ca-cert-publisher',
  'ttl-after-finished-controller': 'ttl-after-finished',
  'persistentvolume-binder-controller': 'persistentvolume-binder',
  'persistentvolumeclaim-protection-controller': 'pvc-protection',
  'persistentvolume-protection-controller': 'pv-protection',
  'ephemeral-volume-controller': 'ephemeral-volume',
  // The workload controllers (lib/controllers/workloads.ts).
  'replicaset-controller': 'replicaset',
  'replicationcontroller-controller': 'replicationcontroller',
  'deployment-controller': 'deployment',
  'daemonset-controller': 'daemonset',
  'statefulset-controller': 'statefulset',
  'job-controller': 'job',
  'cronjob-controller': 'cronjob',
  'disruption-controller': 'disruption',
  'horizontal-pod-autoscaler-controller': 'horizontalpodautoscaling',
  'certificatesigningrequest-signing-controller': 'csrsigning',
  'certificatesigningrequest-approving-controller': 'csrapproving',
  'certificatesigningrequest-cleaner-controller': 'csrcleaner',
});
