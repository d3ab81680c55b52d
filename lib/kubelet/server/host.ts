/**
 * What the kubelet program gives its HTTPS server. The server answers from the kubelet's own
 * view (its pod manager, its status manager, the runtime): nothing here calls the API server,
 * so a node keeps serving logs and exec while the control plane is away.
 */
import type { Pod } from '../../api/index.js';
import type { ContainerRuntime } from '../runtime/index.js';

/** A pod the kubelet runs, with where its containers are in the runtime. */
export interface KubeletPodRef {
  /** The pod as the kubelet knows it: its spec and the latest status it computed. */
  pod: Pod;
  /** The pod's current sandbox; undefined while it has none (port-forward needs one). */
  sandboxId?: string;
  /**
   * The runtime id of the current instance of each container (app, init and ephemeral), by
   * container name; a container that was never created is absent.
   */
  containerIds: Record<string, string>;
  /**
   * The instance before the current one, by container name (kubectl logs --previous). When
   * absent, the server asks the runtime for it (same pod and name, the highest lower restart
   * count: findPreviousContainer).
   */
  previousContainerIds?: Record<string, string>;
}

/** Node-wide usage for /stats/summary; cumulative CPU, instantaneous memory. */
export interface NodeUsage {
  timestamp: Date;
  cpuUsageCoreNanoSeconds: number;
  memoryUsageBytes: number;
  memoryWorkingSetBytes: number;
  memoryAvailableBytes?: number;
  memoryRssBytes?: number;
}

/**
 * Contract: methods may be called concurrently, from any request; they return snapshots the
 * server does not modify. `findPod` with a uid returns only the pod of that uid (a pod deleted
 * and re-created under the same name is another pod).
 */
export interface KubeletServerHost {
  /** This node's name, as registered. */
  readonly nodeName: string;
  readonly runtime: ContainerRuntime;
  /** The pods bound to this node that the kubelet runs (GET /pods). */
  listPods(): Promise<Pod[]>;
  findPod(namespace: string, name: string, uid?: string): Promise<KubeletPodRef | undefined>;
  /** When the node (the kubelet) started, for /stats/summary; default the server's start. */
  readonly startTime?: Date;
  /** Node usage; default: read from /proc (the whole machine). */
  nodeUsage?(): Promise<NodeUsage>;
}
