export * from './pod-status.js';
export * from './sim-nodes.js';
