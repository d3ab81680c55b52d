export * from './taints.js';
export * from './rate-limited-queue.js';
export * from './node-lifecycle-controller.js';
export * from './taint-eviction-controller.js';
