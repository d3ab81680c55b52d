export * from './serviceaccounts-controller.js';
