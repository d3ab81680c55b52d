/**
 * DefaultTolerationSeconds: every new pod tolerates the not-ready and unreachable NoExecute
 * taints for 300 seconds (unless it says otherwise), so that the node lifecycle controller
 * evicts it five minutes after its node goes away.
 */
import type { Pod } from '../../api/index.js';
import { markMutated, type AdmissionPlugin } from './chain.js';
import { isPodCreate } from './lookup.js';

export const notReadyTaintKey = 'node.kubernetes.io/not-ready';
export const unreachableTaintKey = 'node.kubernetes.io/unreachable';

type Toleration = NonNullable<NonNullable<Pod['spec']>['tolerations']>[number];

/** Whether some toleration already covers a NoExecute taint with this key. */
function tolerates(list: Toleration[], key: string): boolean {
  return list.some((t) => (t.effect === undefined || t.effect === '' || t.effect === 'NoExecute') && (t.key === key || ((t.key === undefined || t.key === '') && t.operator === 'Exists')));
}

export function defaultTolerationSeconds(seconds = 300): AdmissionPlugin {
  return {
    name: 'DefaultTolerationSeconds',
    async mutate(a) {
      if (!isPodCreate(a)) return;
      const spec = ((a.object as Pod).spec ??= {} as NonNullable<Pod['spec']>);
      const list = (spec.tolerations ??= []);
      for (const key of [notReadyTaintKey, unreachableTaintKey]) {
        if (!tolerates(list, key)) {
          list.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });
          markMutated(a.object, ['spec', 'tolerations']);
        }
      }
    },
  };
}
