/** policy/v1: Eviction (the pods/eviction subresource body) and PodDisruptionBudgets. */
import { z, typeMeta, named, IntOrString, int32, int64, mergeList, Time, opt, req, optEnum, patchStrategy } from '../schema.js';
import { ObjectMetaSchema, LabelSelectorSchema, DeleteOptionsSchema, ConditionSchema } from '../meta/v1.js';

const P = 'io.k8s.api.policy.v1';

export const EvictionSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    deleteOptions: opt(DeleteOptionsSchema, 'Options of the delete the eviction performs.'),
  }),
  `${P}.Eviction`,
  'Asks for a pod to be evicted, honouring disruption budgets.',
);
export type Eviction = z.infer<typeof EvictionSchema>;

export const PodDisruptionBudgetSpecSchema = named(
  z.object({
    minAvailable: opt(IntOrString, 'Pods that must stay available after an eviction, as a number or a percentage; exclusive with maxUnavailable.'),
    selector: patchStrategy(LabelSelectorSchema.optional(), 'replace', 'The pods the budget covers; an empty selector selects every pod of the namespace.'),
    maxUnavailable: opt(IntOrString, 'Pods that may be unavailable after an eviction, as a number or a percentage; exclusive with minAvailable.'),
    unhealthyPodEvictionPolicy: optEnum(['IfHealthyBudget', 'AlwaysAllow'], 'When running but not ready pods may be evicted: IfHealthyBudget (default: only while the budget is met) or AlwaysAllow.'),
  }),
  `${P}.PodDisruptionBudgetSpec`,
  'The desired state of a disruption budget.',
);

export const PodDisruptionBudgetStatusSchema = named(
  z.object({
    observedGeneration: opt(int64(), 'Generation the status was computed for.'),
    disruptedPods: opt(z.record(z.string(), Time), 'Pods evicted but not yet deleted, with the eviction time; they are not counted as healthy for a while.'),
    disruptionsAllowed: req(int32(), 'Evictions allowed right now.'),
    currentHealthy: req(int32(), 'Healthy pods now.'),
    desiredHealthy: req(int32(), 'Least number of healthy pods wanted.'),
    expectedPods: req(int32(), 'Pods counted by the budget.'),
    conditions: mergeList(ConditionSchema, 'type', 'DisruptionAllowed and other conditions.').optional(),
  }),
  `${P}.PodDisruptionBudgetStatus`,
  'The observed state of a disruption budget.',
);

export const PodDisruptionBudgetSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    spec: opt(PodDisruptionBudgetSpecSchema, 'Which pods and how many may be disrupted.'),
    status: opt(PodDisruptionBudgetStatusSchema, 'How many disruptions are allowed now.'),
  }),
  `${P}.PodDisruptionBudget`,
  'Limits how many pods of a set may be voluntarily disrupted at once.',
);
export type PodDisruptionBudget = z.infer<typeof PodDisruptionBudgetSchema>;
