/**
 * ImageLocality: prefers nodes that already have the pod's images (node.status.images), by
 * their size, scaled by how widespread each image is (an image on every node says nothing
 * about this one). The sum is clamped between 23MB and 1000MB per container and mapped to 0..100,
 * so small images do not count and huge ones do not dominate.
 */
import { maxNodeScore, skipStatus, type ClusterSnapshot, type CycleState, type PluginHandle, type PreScorePlugin, type ScorePlugin, type StateData, type Status } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';

const mb = 1024 * 1024;
export const minImageThreshold = 23 * mb;
export const maxContainerImageThreshold = 1000 * mb;

/**
 * The name under which an image is matched: registry and tag made explicit, so that `nginx`,
 * `nginx:latest` and `docker.io/library/nginx:latest` are the same image.
 */
export function normalizedImageName(name: string): string {
  let n = name;
  const at = n.indexOf('@');
  const digest = at >= 0 ? n.slice(at) : '';
  if (at >= 0) n = n.slice(0, at);
  if (!digest && n.lastIndexOf(':') <= n.lastIndexOf('/')) n += ':latest';
  const slash = n.indexOf('/');
  const first = slash < 0 ? '' : n.slice(0, slash);
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) n = `docker.io/${slash < 0 ? `library/${n}` : n}`;
  return n + digest;
}

/** Maps the summed, spread-scaled image sizes to 0..100. */
export function imageLocalityScore(sumScores: number, numContainers: number): number {
  const maxThreshold = maxContainerImageThreshold * numContainers;
  const s = Math.min(Math.max(sumScores, minImageThreshold), maxThreshold);
  return Math.trunc((maxNodeScore * (s - minImageThreshold)) / (maxThreshold - minImageThreshold));
}

class PreScoreState implements StateData {
  constructor(
    /** The pod's images, normalized. */
    readonly images: string[],
    readonly numContainers: number,
    readonly totalNodes: number,
  ) {}
  clone(): StateData {
    return this;
  }
}

const preScoreKey = 'PreScoreImageLocality';

export class ImageLocality implements PreScorePlugin, ScorePlugin {
  static readonly pluginName = 'ImageLocality';
  readonly name = ImageLocality.pluginName;
  private readonly snapshot: ClusterSnapshot;

  constructor(h: { snapshot: ClusterSnapshot } | PluginHandle) {
    this.snapshot = h.snapshot;
  }

  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | undefined {
    if (!nodes.some((n) => n.imageStates.size > 0)) return skipStatus(this.name);
    const spec = pod.pod.spec;
    const containers = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
    const images = containers.filter((c) => c.image).map((c) => normalizedImageName(c.image!));
    if (images.length === 0) return skipStatus(this.name);
    state.write(preScoreKey, new PreScoreState(images, containers.length, this.snapshot.nodeInfos().length));
    return undefined;
  }

  score(state: CycleState, _pod: PodInfo, nodeInfo: NodeInfo): number {
    const s = state.read<PreScoreState>(preScoreKey);
    if (!s || nodeInfo.imageStates.size === 0 || s.totalNodes === 0) return 0;
    let sum = 0;
    for (const name of s.images) {
      const st = nodeInfo.imageStates.get(name);
      if (st) sum += Math.trunc(st.size * (st.numNodes / s.totalNodes));
    }
    return imageLocalityScore(sum, s.numContainers);
  }
}
