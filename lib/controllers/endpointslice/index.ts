export * from './reconcile.js';
export * from './endpointslice-controller.js';
export * from './tracker.js';
