/** The default plugin set, in upstream's order, and the default score weights. */
import { Framework, type Plugin, type PluginHandle } from '../framework.js';
import { BalancedAllocation } from './balanced-allocation.js';
import { ImageLocality } from './image-locality.js';
import { InterPodAffinity } from './inter-pod-affinity.js';
import { NodeAffinity } from './node-affinity.js';
import { NodeName } from './node-name.js';
import { NodePorts } from './node-ports.js';
import { NodeReady } from './node-ready.js';
import { NodeResourcesFit } from './node-resources-fit.js';
import { NodeUnschedulable } from './node-unschedulable.js';
import { PodTopologySpread } from './pod-topology-spread.js';
import { TaintToleration } from './taint-toleration.js';
import { VolumeBinding } from './volume-binding.js';
import { VolumeRestrictions } from './volume-restrictions.js';

export * from './balanced-allocation.js';
export * from './image-locality.js';
export * from './inter-pod-affinity.js';
export * from './node-affinity.js';
export * from './node-name.js';
export * from './node-ports.js';
export * from './node-ready.js';
export * from './node-resources-fit.js';
export * from './node-unschedulable.js';
export * from './pod-topology-spread.js';
export * from './taint-toleration.js';
export * from './volume-binding.js';
export * from './volume-restrictions.js';

/** Upstream's default weights: user preferences count double, taints triple. */
export const defaultScoreWeights: Readonly<Record<string, number>> = Object.freeze({
  [TaintToleration.pluginName]: 3,
  [NodeAffinity.pluginName]: 2,
  [PodTopologySpread.pluginName]: 2,
  [InterPodAffinity.pluginName]: 2,
  [NodeResourcesFit.pluginName]: 1,
  [BalancedAllocation.pluginName]: 1,
  [ImageLocality.pluginName]: 1,
});

/**
 * Filters run in this order and a node's first failure is the reason reported for it:
 * node-level checks first (cheap, unresolvable), then resources, volumes, and the inter-pod
 * constraints last (the most expensive).
 */
export function defaultPlugins(h: PluginHandle): Plugin[] {
  return [
    new NodeUnschedulable(),
    new NodeName(),
    new NodeReady(),
    new TaintToleration(),
    new NodeAffinity(),
    new NodePorts(),
    new NodeResourcesFit(),
    new VolumeRestrictions(h),
    new VolumeBinding(h),
    new PodTopologySpread(h),
    new InterPodAffinity(h),
    new BalancedAllocation(),
    new ImageLocality(h),
  ];
}

export function defaultFramework(h: PluginHandle, scoreWeights: Record<string, number> = { ...defaultScoreWeights }): Framework {
  return new Framework({ plugins: defaultPlugins(h), scoreWeights });
}
