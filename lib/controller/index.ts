export * from './rate-limiters.js';
export * from './work-queue.js';
export * from './run-workers.js';
export * from './expectations.js';
