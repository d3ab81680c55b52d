/**
 * The API server's side of the kubelet API: streaming subresources proxied to kubelets
 * (pods/log, pods/exec, pods/attach, pods/portforward, nodes/proxy), the routing that lets
 * upgrade requests through the normal request chain, and metrics.k8s.io from kubelet stats.
 */
import type { Logger } from 'pino';
import type { Registry } from '../../registry/index.js';
import type { APIGroupHandler, SubresourceHandler } from '../server.js';
import { KubeletClient, type KubeletClientConfig } from './kubelet-client.js';
import { metricsAPI } from './metrics-api.js';
import { kubeletProxyHandlers } from './pod-streams.js';

export * from './kubelet-client.js';
export * from './pod-streams.js';
export * from './metrics-api.js';
export * from './upgrade-routing.js';

export interface KubeletAPIs {
  kubelets: KubeletClient;
  subresources: Record<string, SubresourceHandler>;
  apiGroupHandlers: APIGroupHandler[];
}

/** Everything the API server serves from kubelets, ready for APIServerConfig. */
export function kubeletAPIs(deps: { registry: Registry; log: Logger; client?: KubeletClientConfig }): KubeletAPIs {
  const kubelets = new KubeletClient(deps.client);
  return {
    kubelets,
    subresources: kubeletProxyHandlers({ registry: deps.registry, kubelets, log: deps.log }),
    apiGroupHandlers: [metricsAPI({ registry: deps.registry, kubelets, log: deps.log })],
  };
}
