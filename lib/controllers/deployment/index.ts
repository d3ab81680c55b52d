/** The Deployment controller: rollouts through ReplicaSets (RollingUpdate, Recreate), history, pause, progress. */
export * from './deployment-controller.js';
export * from './util.js';
