export * from './mirror.js';
export * from './endpointslicemirroring-controller.js';
