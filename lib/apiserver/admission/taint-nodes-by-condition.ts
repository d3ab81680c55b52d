/**
 * TaintNodesByCondition: a node is registered tainted node.kubernetes.io/not-ready:NoSchedule,
 * so that nothing is scheduled on it before the node lifecycle controller has seen it Ready
 * (and removed the taint).
 */
import type { Node } from '../../api/index.js';
import { markMutated, type AdmissionPlugin } from './chain.js';
import { notReadyTaintKey } from './default-toleration-seconds.js';

export function taintNodesByCondition(): AdmissionPlugin {
  return {
    name: 'TaintNodesByCondition',
    async mutate(a) {
      if (a.group !== '' || a.resource !== 'nodes' || a.subresource !== '' || a.operation !== 'CREATE' || !a.object) return;
      const spec = ((a.object as Node).spec ??= {});
      const taints = (spec.taints ??= []);
      if (!taints.some((t) => t.key === notReadyTaintKey && t.effect === 'NoSchedule')) {
        taints.push({ key: notReadyTaintKey, effect: 'NoSchedule' });
        markMutated(a.object);
      }
    },
  };
}
