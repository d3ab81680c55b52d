export * from './pods.js';
export * from './endpoints-controller.js';
