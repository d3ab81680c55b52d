/**
 * The workload controllers of tkube-controller-manager, under upstream's `--controllers`
 * names. Each builds its controller from the shared context: one informer per resource for
 * the whole process, the process's client, a recorder naming the controller as the source
 * of its events, and the manager's clock.
 */
import type { ControllerContext, ControllerDescriptor } from './types.js';
import { CronJobController } from './cronjob/index.js';
import { DaemonSetController } from './daemonset/index.js';
import { DeploymentController } from './deployment/index.js';
import { DisruptionController } from './disruption/index.js';
import { JobController } from './job/index.js';
import { ReplicaSetController, replicaSetKind, replicationControllerKind } from './replicaset/index.js';
import { StatefulSetController } from './statefulset/index.js';

function common(ctx: ControllerContext, name: string, component: string) {
  return {
    client: ctx.client,
    informers: ctx.informers,
    recorder: ctx.recorder(component),
    log: ctx.log,
    clock: ctx.clock,
    workers: ctx.options.concurrentSyncs,
  };
}

export const workloadControllers: ControllerDescriptor[] = [
  {
    name: 'replicaset',
    enabledByDefault: true,
    create: (ctx) => new ReplicaSetController(replicaSetKind, common(ctx, 'replicaset', replicaSetKind.component)),
  },
  {
    name: 'replicationcontroller',
    enabledByDefault: true,
    create: (ctx) => new ReplicaSetController(replicationControllerKind, common(ctx, 'replicationcontroller', replicationControllerKind.component)),
  },
  {
    name: 'deployment',
    enabledByDefault: true,
    create: (ctx) => new DeploymentController({ ...common(ctx, 'deployment', 'deployment-controller'), log: ctx.log.child({ controller: 'deployment' }) }),
  },
  {
    name: 'daemonset',
    enabledByDefault: true,
    create: (ctx) => new DaemonSetController({ ...common(ctx, 'daemonset', 'daemonset-controller'), log: ctx.log.child({ controller: 'daemonset' }) }),
  },
  {
    name: 'statefulset',
    enabledByDefault: true,
    create: (ctx) => new StatefulSetController({ ...common(ctx, 'statefulset', 'statefulset-controller'), log: ctx.log.child({ controller: 'statefulset' }) }),
  },
  {
    name: 'job',
    enabledByDefault: true,
    create: (ctx) => new JobController({ ...common(ctx, 'job', 'job-controller'), log: ctx.log.child({ controller: 'job' }) }),
  },
  {
    name: 'cronjob',
    enabledByDefault: true,
    create: (ctx) => new CronJobController({ ...common(ctx, 'cronjob', 'cronjob-controller'), log: ctx.log.child({ controller: 'cronjob' }) }),
  },
  {
    name: 'disruption',
    enabledByDefault: true,
    // Upstream's disruption controller records events as "controllermanager".
    create: (ctx) => new DisruptionController({ ...common(ctx, 'disruption', 'controllermanager'), log: ctx.log.child({ controller: 'disruption' }) }),
  },
];
