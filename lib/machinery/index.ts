export * from './status.js';
export * from './field-errors.js';
export * from './validation.js';
export * from './labels.js';
export * from './fields.js';
export * from './gvk.js';
export * from './patch/index.js';
export * from './json.js';
