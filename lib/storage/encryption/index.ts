export * from './transformer.js';
export * from './config.js';
