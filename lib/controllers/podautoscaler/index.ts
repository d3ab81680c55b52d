/** The horizontal pod autoscaler controller: replica counts of scalable workloads from their metrics. */
export * from './horizontal-controller.js';
export * from './metrics-source.js';
export * from './metrics-client.js';
export * from './replica-calculator.js';
export * from './normalization.js';
export * from './scale-client.js';
export * from './quantity.js';
