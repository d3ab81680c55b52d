export * from './host.js';
export * from './auth.js';
export * from './certs.js';
export * from './containers.js';
export * from './stats.js';
export * from './server.js';
export * from './memory-host.js';
export * from './webhook.js';
