/** The DaemonSet controller: one pod per eligible node, rolling updates, ControllerRevision history. */
export * from './daemonset-controller.js';
export * from './node-eligibility.js';
