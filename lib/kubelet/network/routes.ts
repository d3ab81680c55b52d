/**
 * Routes to the pods of other nodes: each node's podCIDR via that node's IP. Without an
 * overlay, this is what makes a pod on node A reach a pod on node B (the nodes must share an
 * L2 segment or have routes between them, as with Kubernetes' kubenet).
 *
 * Routes are tagged with their own routing protocol number so that a sync can tell the routes
 * it owns from every other route on the node and remove only those of nodes that are gone.
 */
import type { Logger } from '../../base/index.js';
import { isMissingError, type CommandRunner } from './command-runner.js';
import { parseCIDR, parseIPv4 } from './ipv4.js';

/** Routing protocol number of tkube's pod routes (`ip route show proto 76`). */
export const podRouteProtocol = 76;

export interface RemoteNode {
  /** Node name, for logs. */
  name: string;
  /** The node's podCIDR, e.g. 10.244.2.0/24. */
  podCIDR: string;
  /** The node's InternalIP, the next hop to its pods. */
  nodeIP: string;
}

export interface PodRoute {
  podCIDR: string;
  via: string;
}

export interface RouteSyncResult {
  /** podCIDRs whose route was added or changed. */
  replaced: string[];
  /** podCIDRs whose route was removed. */
  removed: string[];
  /** Nodes left out, with why (no podCIDR, malformed address, this node's own range). */
  skipped: Array<{ node: string; reason: string }>;
}

/** The pod routes currently installed by tkube. */
export async function listPodRoutes(runner: CommandRunner): Promise<PodRoute[]> {
  const { stdout } = await runner.run(['ip', '-j', '-4', 'route', 'show', 'proto', String(podRouteProtocol)]);
  const rows = JSON.parse(stdout || '[]') as Array<{ dst: string; gateway?: string }>;
  return rows.map((r) => ({ podCIDR: r.dst.includes('/') ? r.dst : `${r.dst}/32`, via: r.gateway ?? '' }));
}

/** Adds or changes the route to one node's pods. */
export async function replacePodRoute(runner: CommandRunner, route: PodRoute): Promise<void> {
  await runner.run(['ip', 'route', 'replace', route.podCIDR, 'via', route.via, 'proto', String(podRouteProtocol)]);
}

/** Removes the route to one node's pods; no error when it is not there. */
export async function removePodRoute(runner: CommandRunner, podCIDR: string): Promise<void> {
  try {
    await runner.run(['ip', 'route', 'del', podCIDR, 'proto', String(podRouteProtocol)]);
  } catch (err) {
    if (!isMissingError(err)) throw err;
  }
}

/**
 * Makes the installed pod routes match `nodes`: adds missing ones, replaces those whose next
 * hop changed, removes those of nodes no longer listed. `localPodCIDR` (this node's own range,
 * served by the bridge) is never routed. Call it whenever the node list changes; it is cheap
 * when nothing did.
 */
export async function syncPodRoutes(runner: CommandRunner, nodes: readonly RemoteNode[], localPodCIDR?: string, log?: Logger): Promise<RouteSyncResult> {
  const result: RouteSyncResult = { replaced: [], removed: [], skipped: [] };
  const desired = new Map<string, string>();
  const local = localPodCIDR ? parseCIDR(localPodCIDR).cidr : undefined;
  for (const n of nodes) {
    if (!n.podCIDR) {
      result.skipped.push({ node: n.name, reason: 'no podCIDR yet' });
      continue;
    }
    let cidr: string;
    try {
      cidr = parseCIDR(n.podCIDR).cidr;
    } catch (err) {
      result.skipped.push({ node: n.name, reason: (err as Error).message });
      continue;
    }
    if (cidr === local) continue;
    if (!n.nodeIP || parseIPv4(n.nodeIP) === undefined) {
      result.skipped.push({ node: n.name, reason: `no usable IPv4 node address (${n.nodeIP || 'none'})` });
      continue;
    }
    desired.set(cidr, n.nodeIP);
  }
  const current = new Map((await listPodRoutes(runner)).map((r) => [r.podCIDR, r.via]));
  for (const [cidr, via] of desired) {
    if (current.get(cidr) === via) continue;
    await replacePodRoute(runner, { podCIDR: cidr, via });
    result.replaced.push(cidr);
  }
  for (const cidr of current.keys()) {
    if (desired.has(cidr)) continue;
    await removePodRoute(runner, cidr);
    result.removed.push(cidr);
  }
  if (result.replaced.length || result.removed.length) log?.info({ replaced: result.replaced, removed: result.removed }, 'pod routes synced');
  for (const s of result.skipped) log?.debug(s, 'node left out of pod routes');
  return result;
}
