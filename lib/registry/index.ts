export * from './context.js';
export * from './strategy.js';
export * from './store.js';
export * from './registry.js';
export * from './subresources.js';
export * from './object-meta.js';
export * from './allocator/range.js';
export { strategyFor, ServiceAllocators, parsePortRange, qosClass } from './strategies/index.js';
export { trackUpdate, applyConfiguration, lastAppliedAnnotation, maxFieldManagerLength, type FieldManagerRequest } from './field-manager.js';
