/** The node layer of tkube-kubelet: the container runtime and the pod network. */
export * from './runtime/index.js';
export * from './network/index.js';
export * from './runtime-config.js';
export * from './server/index.js';
