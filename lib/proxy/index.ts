/**
 * lib/proxy: Services + EndpointSlices → rules, in two modes.
 *
 *   iptables mode:  IptablesProxier (iptables/proxier.ts), built on the pure generateRules →
 *                   renderRestore pipeline; one iptables-restore --noflush per sync.
 *   userspace mode: UserspaceProxier (userspace/proxier.ts): a listener per service port,
 *                   REDIRECT rules to it, round-robin relaying.
 * Host side effects go through a ProxyHost (ExecProxyHost, or FakeProxyHost in tests).
 */
export type { Proxier } from './proxier.js';
export { ProxyStateStore, StoreBackedSink, type ProxyState, type ProxyStateSink } from './state.js';
export {
  buildServicePorts,
  proxiedClusterIP,
  servicePortKey,
  servicePortName,
  isIPv4,
  externallyAccessible,
  usesClusterEndpoints,
  usesLocalEndpoints,
  defaultStickyTimeoutSeconds,
  type ServicePortInfo,
  type Protocol,
} from './service-port.js';
export {
  buildEndpointsMap,
  categorizeEndpoints,
  endpointSlicesFromEndpoints,
  serviceNameLabel,
  type EndpointInfo,
  type EndpointsMap,
  type CategorizedEndpoints,
} from './endpoints.js';
export { ExecProxyHost, HostCommandError, type ProxyHost, type ConntrackFilter, type ExecProxyHostOptions } from './host.js';
export { FakeProxyHost } from './fake-host.js';
export { makeService, makeEndpointSlice, type ServiceSpecInput, type ServicePortSpec, type EndpointInput } from './objects.js';
export * from './iptables/chain-names.js';
export { probability } from './iptables/probability.js';
export {
  generateRules,
  RuleCache,
  changedServices,
  natChainsOf,
  masqueradeMark,
  iptablesJumpRules,
  type RuleGeneratorOptions,
  type RuleModel,
  type ServicePortRules,
  type JumpRule,
} from './iptables/rules.js';
export { renderRestore, parseSave, type RenderOptions, type SavedTables } from './iptables/restore.js';
export { renderCleanup } from './iptables/cleanup.js';
export { IptablesProxier, type IptablesProxierOptions, type SyncResult } from './iptables/proxier.js';
export { SyncRunner, type SyncRunnerOptions } from './sync-runner.js';
export { UserspaceProxier, type UserspaceProxierOptions } from './userspace/proxier.js';
export { RoundRobinBalancer } from './userspace/round-robin.js';
export { generateUserspaceRules, renderUserspaceRestore, userspaceJumpRules, type ProxiedPort, type UserspaceRules } from './userspace/rules.js';
export { ProxyServer, newProxier, nodeAddresses, type ProxyMode, type ProxyServerOptions } from './server.js';
