/**
 * RuntimeClass: a pod naming a RuntimeClass gets the class's pod overhead (spec.overhead) and
 * its scheduling constraints (nodeSelector merged, tolerations added), and is refused if the
 * class does not exist or the pod sets an overhead the class does not define (upstream's texts).
 */
import type { Pod, RuntimeClass } from '../../api/index.js';
import { jsonEqual } from '../../machinery/index.js';
import type { Registry } from '../../registry/index.js';
import { markMutated, type AdmissionPlugin } from './chain.js';
import { admissionForbidden, isPodCreate, lookup } from './lookup.js';

export function runtimeClass(registry: Registry): AdmissionPlugin {
  return {
    name: 'RuntimeClass',
    async mutate(a) {
      if (!isPodCreate(a)) return;
      const spec = (a.object as Pod).spec;
      if (!spec?.runtimeClassName) return;
      const rc = await lookup<RuntimeClass>(registry, 'node.k8s.io', 'runtimeclasses', '', spec.runtimeClassName);
      if (!rc) throw admissionForbidden(a, `pod rejected: RuntimeClass "${spec.runtimeClassName}" not found`);
      const podFixed = rc.overhead?.podFixed;
      if (podFixed) {
        if (spec.overhead && !jsonEqual(spec.overhead, podFixed)) throw admissionForbidden(a, "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead");
        spec.overhead = { ...podFixed };
      }
      const sel = rc.scheduling?.nodeSelector ?? {};
      for (const [k, v] of Object.entries(sel)) {
        const have = spec.nodeSelector?.[k];
        if (have !== undefined && have !== v) throw admissionForbidden(a, `conflict: runtimeClass.scheduling.nodeSelector[${k}] = ${v}; pod.spec.nodeSelector[${k}] = ${have}`);
      }
      if (Object.keys(sel).length) spec.nodeSelector = { ...(spec.nodeSelector ?? {}), ...sel };
      for (const t of rc.scheduling?.tolerations ?? []) {
        if (!(spec.tolerations ?? []).some((x) => jsonEqual(x, t))) spec.tolerations = [...(spec.tolerations ?? []), t];
      }
      markMutated(a.object, ['spec', 'overhead'], ['spec', 'nodeSelector'], ['spec', 'tolerations']);
    },
    async validate(a) {
      if (!isPodCreate(a)) return;
      const spec = (a.object as Pod).spec;
      if (!spec?.overhead) return;
      const rc = spec.runtimeClassName ? await lookup<RuntimeClass>(registry, 'node.k8s.io', 'runtimeclasses', '', spec.runtimeClassName) : null;
      if (!rc?.overhead?.podFixed) throw admissionForbidden(a, 'pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead');
    },
  };
}
