/**
 * Placeholder for the workload controllers (replicaset, deployment, daemonset, statefulset,
 * job, cronjob, disruption, replicationcontroller), which are written on another branch; the
 * merge replaces this file with theirs.
 */
import type { ControllerDescriptor } from './types.js';

export const workloadControllers: ControllerDescriptor[] = [];
