/**
 * Pod priority as the scheduler resolves it. Normally the Priority admission plugin writes
 * spec.priority at creation; tkube's API server has no such plugin yet, so the scheduler
 * resolves it itself: spec.priority when set, else the value of spec.priorityClassName, else
 * the globalDefault class, else 0. The same goes for preemptionPolicy.
 */
import type { Pod, PriorityClass } from '../api/index.js';
import type { Lister } from '../client/index.js';
import type { PreemptionPolicy } from './pod-info.js';

export interface ResolvedPriority {
  priority: number;
  preemptionPolicy: PreemptionPolicy;
}

export function resolvePriority(pod: Pod, classes: Lister<PriorityClass> | undefined): ResolvedPriority {
  const spec = pod.spec;
  let cls: PriorityClass | undefined;
  if (spec?.priorityClassName) cls = classes?.get(spec.priorityClassName);
  else if (spec?.priority === undefined) cls = classes?.list().find((c) => c.globalDefault);
  const priority = spec?.priority ?? cls?.value ?? 0;
  const preemptionPolicy = spec?.preemptionPolicy ?? cls?.preemptionPolicy ?? 'PreemptLowerPriority';
  return { priority, preemptionPolicy };
}
