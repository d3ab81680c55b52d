/**
 * The workload controllers of tkube-controller-manager, under upstream's `--controllers`
 * names. Each builds its controller from the shared context: one informer per resource for
 * the whole process, the process's client, a recorder naming the controller as the source
 * of its events (upstream's component names, which `kubectl describe` shows under From),
 * and the manager's clock.
 */
import { concurrentSyncsFor, type ControllerContext, type ControllerDescriptor } from './types.js';
import { CronJobController } from './cronjob/index.js';
import { DaemonSetController } from './daemonset/index.js';
import { DeploymentController } from './deployment/index.js';
import { DisruptionController } from './disruption/index.js';
import { JobController } from './job/index.js';
import { HorizontalController, type HorizontalControllerOptions } from './podautoscaler/index.js';
import { ReplicaSetController, replicaSetKind, replicationControllerKind } from './replicaset/index.js';
import { StatefulSetController } from './statefulset/index.js';

/** What every workload controller takes from the context. */
function deps(ctx: ControllerContext, name: string, eventSource: string) {
  return {
    client: ctx.client,
    informers: ctx.informers,
    recorder: ctx.recorder(eventSource),
    log: ctx.log.child({ controller: name }),
    clock: ctx.clock,
    workers: ctx.options.concurrentSyncs,
  };
}

/**
 * What the horizontal pod autoscaler controller takes from the context: its flags, its own
 * worker count, discovery for custom scale targets, and (by default) the API server's
 * metrics.k8s.io as its metrics source. Tests build it from here and swap the source.
 */
export function horizontalControllerOptions(ctx: ControllerContext): HorizontalControllerOptions {
  const o = ctx.options;
  return {
    ...deps(ctx, 'horizontalpodautoscaling', 'horizontal-pod-autoscaler'),
    workers: concurrentSyncsFor(o, 'horizontalpodautoscaling', 5),
    discovery: ctx.discovery,
    syncPeriodMs: o.hpaSyncPeriodMs,
    tolerance: o.hpaTolerance,
    downscaleStabilizationWindowMs: o.hpaDownscaleStabilizationWindowMs,
    cpuInitializationPeriodMs: o.hpaCPUInitializationPeriodMs,
    initialReadinessDelayMs: o.hpaInitialReadinessDelayMs,
  };
}

export const workloadControllers: ControllerDescriptor[] = [
  {
    name: 'replicaset',
    serviceAccount: 'replicaset-controller',
    enabledByDefault: true,
    create: (ctx) => new ReplicaSetController(replicaSetKind, deps(ctx, 'replicaset', 'replicaset-controller')),
  },
  {
    name: 'replicationcontroller',
    serviceAccount: 'replication-controller',
    enabledByDefault: true,
    create: (ctx) => new ReplicaSetController(replicationControllerKind, deps(ctx, 'replicationcontroller', 'replication-controller')),
  },
  {
    name: 'deployment',
    serviceAccount: 'deployment-controller',
    enabledByDefault: true,
    create: (ctx) => new DeploymentController(deps(ctx, 'deployment', 'deployment-controller')),
  },
  {
    name: 'daemonset',
    serviceAccount: 'daemon-set-controller',
    enabledByDefault: true,
    create: (ctx) => new DaemonSetController(deps(ctx, 'daemonset', 'daemonset-controller')),
  },
  {
    name: 'statefulset',
    serviceAccount: 'statefulset-controller',
    enabledByDefault: true,
    create: (ctx) => new StatefulSetController(deps(ctx, 'statefulset', 'statefulset-controller')),
  },
  {
    name: 'job',
    serviceAccount: 'job-controller',
    enabledByDefault: true,
    create: (ctx) => new JobController(deps(ctx, 'job', 'job-controller')),
  },
  {
    name: 'cronjob',
    serviceAccount: 'cronjob-controller',
    enabledByDefault: true,
    create: (ctx) => new CronJobController(deps(ctx, 'cronjob', 'cronjob-controller')),
  },
  {
    name: 'disruption',
    serviceAccount: 'disruption-controller',
    enabledByDefault: true,
    // Upstream's disruption controller records its events as "controllermanager".
    create: (ctx) => new DisruptionController(deps(ctx, 'disruption', 'controllermanager')),
  },
  {
    name: 'horizontalpodautoscaling',
    serviceAccount: 'horizontal-pod-autoscaler',
    enabledByDefault: true,
    create: (ctx) => new HorizontalController(horizontalControllerOptions(ctx)),
  },
];
