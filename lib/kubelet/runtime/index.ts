export * from './runtime.js';
export * from './errors.js';
export * from './labels.js';
export * from './previous.js';
export * from './fake-runtime.js';
export * from './docker/index.js';
