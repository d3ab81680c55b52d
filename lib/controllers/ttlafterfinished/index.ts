export * from './ttl-after-finished-controller.js';
