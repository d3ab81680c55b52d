export * from './ephemeral-controller.js';
