/** Printer for HorizontalPodAutoscalers (autoscaling/v2; v1 objects are read in their v2 form). */
import { hpaFromV1, type HorizontalPodAutoscaler } from '../../api/index.js';
import { age, ageColumn, nameColumn, registerPrinter } from './table.js';

type Spec = NonNullable<HorizontalPodAutoscaler['spec']>;
type MetricStatus = NonNullable<NonNullable<HorizontalPodAutoscaler['status']>['currentMetrics']>[number];

const q = (v: string | number | undefined) => (v === undefined ? '0' : String(v));

/** One metric of TARGETS: `<current>/<target>`, `cpu: 40%/80%` for resources, `(avg)` for average object or external values. */
function metricText(spec: NonNullable<Spec['metrics']>[number], status: MetricStatus | undefined): string {
  switch (spec.type) {
    case 'External':
    case 'Object': {
      const src = spec.type === 'External' ? spec.external : spec.object;
      const cur = spec.type === 'External' ? status?.external?.current : status?.object?.current;
      if (!src) return '<unknown type>';
      if (src.target.averageValue !== undefined) return `${cur?.averageValue !== undefined ? q(cur.averageValue) : '<unknown>'}/${q(src.target.averageValue)} (avg)`;
      return `${cur ? q(cur.value) : '<unknown>'}/${q(src.target.value)}`;
    }
    case 'Pods':
      return `${status?.pods ? q(status.pods.current.averageValue) : '<unknown>'}/${q(spec.pods?.target.averageValue)}`;
    case 'Resource':
    case 'ContainerResource': {
      const src = spec.type === 'Resource' ? spec.resource : spec.containerResource;
      const cur = spec.type === 'Resource' ? status?.resource?.current : status?.containerResource?.current;
      if (!src) return '<unknown type>';
      if (src.target.averageValue !== undefined) return `${src.name}: ${cur ? q(cur.averageValue) : '<unknown>'}/${q(src.target.averageValue)}`;
      const current = cur?.averageUtilization !== undefined ? `${cur.averageUtilization}%` : '<unknown>';
      const target = src.target.averageUtilization !== undefined ? `${src.target.averageUtilization}%` : '<auto>';
      return `${src.name}: ${current}/${target}`;
    }
    default:
      return '<unknown type>';
  }
}

/** TARGETS of an autoscaler: the first two metrics against their targets, then `+ N more...`. */
export function hpaTargets(hpa: HorizontalPodAutoscaler): string {
  const specs = hpa.spec?.metrics ?? [];
  if (specs.length === 0) return '<none>';
  const statuses = hpa.status?.currentMetrics ?? [];
  const list = specs.map((m, i) => metricText(m, statuses[i]));
  const max = 2;
  return list.length > max ? `${list.slice(0, max).join(', ')} + ${list.length - max} more...` : list.join(', ');
}

registerPrinter('autoscaling', 'horizontalpodautoscalers', {
  columns: [
    nameColumn,
    { name: 'Reference', type: 'string', description: 'The scaled object, as kind/name.' },
    { name: 'Targets', type: 'string', description: 'Current values of the metrics against their targets.' },
    { name: 'MinPods', type: 'string', description: 'Fewest replicas.' },
    { name: 'MaxPods', type: 'integer', description: 'Most replicas.' },
    { name: 'Replicas', type: 'integer', description: 'Current number of replicas.' },
    ageColumn,
  ],
  row(o, now) {
    const hpa = o.apiVersion === 'autoscaling/v1' ? hpaFromV1(o) : (o as HorizontalPodAutoscaler);
    const ref = hpa.spec?.scaleTargetRef;
    return [
      hpa.metadata.name,
      `${ref?.kind ?? ''}/${ref?.name ?? ''}`,
      hpaTargets(hpa),
      hpa.spec?.minReplicas !== undefined ? String(hpa.spec.minReplicas) : '<unset>',
      hpa.spec?.maxReplicas ?? 0,
      hpa.status?.currentReplicas ?? 0,
      age(hpa.metadata.creationTimestamp, now),
    ];
  },
});
