export * from './discovery.js';
export * from './graph.js';
export * from './garbage-collector.js';
