export * from './cidr-set.js';
export * from './node-ipam-controller.js';
