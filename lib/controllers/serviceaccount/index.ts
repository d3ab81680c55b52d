export * from './serviceaccounts-controller.js';
export * from './tokens-controller.js';
