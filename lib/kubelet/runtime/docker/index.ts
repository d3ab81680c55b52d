export * from './docker-runtime.js';
export { cpuSharesFor, cpuQuotaFor, cpuPeriodMicros, dockerCapability } from './docker-config.js';
