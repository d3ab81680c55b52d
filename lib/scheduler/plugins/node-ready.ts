/**
 * NodeReady: keeps pods off nodes whose Ready condition is not True.
 *
 * Upstream leaves this to taints: the node lifecycle controller (and the kubelet at
 * registration) puts node.kubernetes.io/not-ready or /unreachable NoSchedule taints on such
 * nodes and TaintToleration rejects them. This plugin gives the same answer when nobody has
 * tainted the node yet: a node that is not Ready is treated as if it carried the taint the
 * controller would add, so pods that tolerate it (DaemonSet pods) still fit. When the taint is
 * already there, TaintToleration reports it and this plugin stays silent.
 */
import type { Node } from '../../api/index.js';
import { unresolvable, type ClusterEvent, type FilterPlugin, type Status } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';
import { taintNodeNotReady, taintNodeUnreachable, tolerationsTolerateTaint } from '../taints.js';

export const errReasonNodeNotReady = 'node(s) were not ready';

/** The taint key the node lifecycle controller would give this node; undefined when Ready. */
export function notReadyTaintKey(node: Node): string | undefined {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status === 'True') return undefined;
  return ready?.status === 'Unknown' ? taintNodeUnreachable : taintNodeNotReady;
}

/**
 * Node objects are immutable (a change is a new object), so what this plugin derives from one
 * is kept per object: the filter runs for hundreds of nodes per pod. `null`: Ready, or already
 * tainted (TaintToleration's business).
 */
const derived = new WeakMap<Node, string | null>();

function untaintedNotReadyKey(node: Node): string | null {
  let v = derived.get(node);
  if (v === undefined) {
    const key = notReadyTaintKey(node);
    const tainted = (node.spec?.taints ?? []).some((t) => (t.key === taintNodeNotReady || t.key === taintNodeUnreachable) && (t.effect === 'NoSchedule' || t.effect === 'NoExecute'));
    v = key === undefined || tainted ? null : key;
    derived.set(node, v);
  }
  return v;
}

export class NodeReady implements FilterPlugin {
  static readonly pluginName = 'NodeReady';
  readonly name = NodeReady.pluginName;
  readonly events: readonly ClusterEvent[] = ['NodeAdd', 'NodeConditionChange', 'NodeTaintChange'];

  filter(_state: unknown, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    const node = nodeInfo.node;
    if (!node) return undefined;
    const key = untaintedNotReadyKey(node);
    if (key === null) return undefined;
    if (tolerationsTolerateTaint(pod.pod.spec?.tolerations, { key, effect: 'NoSchedule' })) return undefined;
    return unresolvable(this.name, errReasonNodeNotReady);
  }
}
