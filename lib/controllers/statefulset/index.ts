/** The StatefulSet controller: stable names, ordered start and stop, per-pod claims, partitioned rolling updates. */
export * from './statefulset-controller.js';
export * from './identity.js';
