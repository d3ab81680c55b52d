export * from './path.js';
export * from './set.js';
export * from './types.js';
export * from './typed.js';
