export * from './podgc-controller.js';
