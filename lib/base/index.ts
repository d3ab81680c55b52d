export * from './logger.js';
export * from './clock.js';
export * from './backoff.js';
export * from './runnable.js';
export * from './flags.js';
export * from './metrics.js';
export * from './verbosity.js';
export * from './fake-clock.js';
