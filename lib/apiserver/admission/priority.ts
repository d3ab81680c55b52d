/**
 * Priority: a pod's spec.priority comes from its PriorityClass (or the class marked
 * globalDefault, or 0), and a pod naming a class that does not exist is refused. Also keeps
 * at most one PriorityClass marked globalDefault.
 */
import type { Pod, PriorityClass } from '../../api/index.js';
import type { Registry } from '../../registry/index.js';
import { markMutated, type AdmissionPlugin } from './chain.js';
import { admissionForbidden, isPodCreate, listCached, lookup } from './lookup.js';

const group = 'scheduling.k8s.io';

/** The globalDefault class with the lowest value, as upstream picks when there are several. */
function globalDefault(registry: Registry): PriorityClass | undefined {
  const all = listCached<PriorityClass>(registry, group, 'priorityclasses').filter((c) => c.globalDefault);
  return all.sort((x, y) => x.value - y.value)[0];
}

export function priority(registry: Registry): AdmissionPlugin {
  return {
    name: 'Priority',
    async mutate(a) {
      if (!isPodCreate(a)) return;
      const spec = ((a.object as Pod).spec ??= {} as NonNullable<Pod['spec']>);
      let value = 0;
      let policy: string | undefined;
      if (spec.priorityClassName) {
        const pc = await lookup<PriorityClass>(registry, group, 'priorityclasses', '', spec.priorityClassName);
        if (!pc) throw admissionForbidden(a, `no PriorityClass with name ${spec.priorityClassName} was found`);
        value = pc.value;
        policy = pc.preemptionPolicy;
      } else {
        const def = globalDefault(registry);
        if (def) {
          spec.priorityClassName = def.metadata.name;
          value = def.value;
          policy = def.preemptionPolicy;
        }
      }
      if (spec.priority !== undefined && spec.priority !== value) {
        throw admissionForbidden(a, `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`);
      }
      spec.priority = value;
      markMutated(a.object, ['spec', 'priority'], ['spec', 'priorityClassName'], ['spec', 'preemptionPolicy']);
      if (policy) {
        if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== policy) {
          throw admissionForbidden(a, `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`);
        }
        spec.preemptionPolicy = policy as never;
      }
    },
    async validate(a) {
      if (a.group !== group || a.resource !== 'priorityclasses' || (a.operation !== 'CREATE' && a.operation !== 'UPDATE')) return;
      const pc = a.object as PriorityClass | undefined;
      if (!pc?.globalDefault) return;
      const other = listCached<PriorityClass>(registry, group, 'priorityclasses').find((c) => c.globalDefault && c.metadata.name !== pc.metadata.name);
      if (other) throw admissionForbidden(a, `PriorityClass ${other.metadata.name} is already marked as default. Only one default can exist`);
    },
  };
}
