/**
 * tkube-kubelet: the node agent (kubelet.ts) and its parts.
 *
 *   runtime/              the ContainerRuntime interface, DockerRuntime, FakeRuntime
 *   network/              the node's pod network: bridge, veth pairs, host-local IPAM, routes, iptables
 *   runtime-config.ts     pod spec → runtime settings; oom.ts what OOM scores the kernel takes
 *   pod/                  pod workers, the pod sync (named steps), status computation, the pod manager
 *   volumes/              pod volumes, the atomic writer, safe subPath, tmpfs mounts, tokens
 *   images/               pull policy, pull backoff, registry credentials
 *   probes/               liveness/readiness/startup workers and the prober
 *   node/                 machine facts, node status, registration and Lease
 *   status-manager.ts     pod status writes; pleg.ts relist; gc.ts garbage collection
 *   server/               the HTTPS API (--port): logs, exec, attach, port-forward, stats; authn/authz
 *   server-host.ts        what that API serves from: the pod manager, the status manager, the runtime
 */
export * from './runtime/index.js';
export * from './network/index.js';
export * from './runtime-config.js';
export * from './oom.js';
export * from './api-types.js';
export * from './backoff.js';
export * from './dns.js';
export * from './env.js';
export * from './events.js';
export * from './config-objects.js';
export * from './lifecycle.js';
export * from './status-manager.js';
export * from './pleg.js';
export * from './gc.js';
export * from './metrics.js';
export * from './healthz.js';
export * from './server-host.js';
export * from './static-pods.js';
export * from './kubelet.js';
export * from './pod/pod-workers.js';
export * from './pod/pod-status.js';
export * from './pod/pod-sync.js';
export * from './pod/pod-manager.js';
export * from './pod/runtime-state.js';
export * from './pod/container-config.js';
export * from './volumes/atomic-writer.js';
export * from './volumes/subpath.js';
export * from './volumes/mounter.js';
export * from './volumes/volume-manager.js';
export * from './volumes/token-provider.js';
export * from './images/image-manager.js';
export * from './images/pull-secrets.js';
export * from './probes/prober.js';
export * from './probes/probe-manager.js';
export * from './node/machine-info.js';
export * from './node/node-status.js';
export * from './node/node-manager.js';
export * from './server/index.js';
