/** The Job controller: completions, parallelism, Indexed jobs, backoff, deadlines, suspend, finalizer-based counting. */
export * from './job-controller.js';
export * from './backoff.js';
export * from './indexes.js';
