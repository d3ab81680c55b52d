/**
 * The ReplicaSet controller (which also runs ReplicationControllers), and the machinery the
 * other workload controllers share with it: pod predicates and orderings, PodControl,
 * adoption (ControllerRefManager), name hashes, ControllerRevision history, slow start.
 */
export * from './replica-set-controller.js';
export * from './pod-util.js';
export * from './pod-control.js';
export * from './controller-ref-manager.js';
export * from './controller-support.js';
export * from './hash.js';
export * from './history.js';
