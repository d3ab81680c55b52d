export * from './v1.js';
export * from './structural.js';
export * from './crd.js';
