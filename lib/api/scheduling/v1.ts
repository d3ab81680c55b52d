/** scheduling.k8s.io/v1: PriorityClasses. */
import { z, typeMeta, named, int32, str, bool, req, optEnum } from '../schema.js';
import { ObjectMetaSchema } from '../meta/v1.js';

/**
 * Priority classes every cluster has (the API server creates them): values above any a
 * user may define (at most 1000000000), for pods the cluster or a node cannot do without.
 */
export const systemPriorityClasses = [
  { name: 'system-node-critical', value: 2000001000, description: 'For pods a node cannot work without (node agents, per-node networking); they stay on their node.' },
  { name: 'system-cluster-critical', value: 2000000000, description: 'For pods the cluster cannot work without (DNS, metrics); they may be moved to another node.' },
] as const;

/** The highest value a user-defined PriorityClass may have. */
export const highestUserDefinablePriority = 1000000000;

export const PriorityClassSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    value: req(int32(), 'Priority of pods of this class; higher schedules first. At most 1000000000 for user classes; system-cluster-critical is 2000000000 and system-node-critical 2000001000.'),
    globalDefault: bool('Use this class for pods that name none; at most one class may be the default.'),
    description: str('What the class is for, for people.'),
    preemptionPolicy: optEnum(['PreemptLowerPriority', 'Never'], 'Whether pods of this class may preempt lower-priority pods: PreemptLowerPriority (default) or Never.'),
  }),
  'io.k8s.api.scheduling.v1.PriorityClass',
  'Maps a priority class name to an integer priority. The built-in classes are system-cluster-critical (2000000000) and system-node-critical (2000001000).',
);
export type PriorityClass = z.infer<typeof PriorityClassSchema>;
