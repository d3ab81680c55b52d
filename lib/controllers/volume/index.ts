export * from './binding.js';
export * from './pv-controller.js';
export * from './protection.js';
