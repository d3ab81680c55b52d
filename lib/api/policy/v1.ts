/** policy/v1: Eviction (the pods/eviction subresource body) and PodDisruptionBudgets. */
import { z, named, IntOrString, int32, int64 } from '../schema.js';
import { ObjectMetaSchema, LabelSelectorSchema, DeleteOptionsSchema } from '../meta/v1.js';

export const EvictionSchema = named(
  z.object({ apiVersion: z.string().optional(), kind: z.string().optional(), metadata: ObjectMetaSchema, deleteOptions: DeleteOptionsSchema.optional() }),
  'io.k8s.api.policy.v1.Eviction',
  'Asks for a pod to be evicted, honouring disruption budgets.',
);
export type Eviction = z.infer<typeof EvictionSchema>;

export const PodDisruptionBudgetSchema = named(
  z.object({
    apiVersion: z.string().optional(),
    kind: z.string().optional(),
    metadata: ObjectMetaSchema,
    spec: z
      .object({ minAvailable: IntOrString.optional(), maxUnavailable: IntOrString.optional(), selector: LabelSelectorSchema.optional(), unhealthyPodEvictionPolicy: z.string().optional() })
      .optional(),
    status: z
      .object({
        observedGeneration: int64().optional(),
        disruptedPods: z.record(z.string(), z.string()).optional(),
        disruptionsAllowed: int32(),
        currentHealthy: int32(),
        desiredHealthy: int32(),
        expectedPods: int32(),
        conditions: z.array(z.object({}).loose()).optional(),
      })
      .optional(),
  }),
  'io.k8s.api.policy.v1.PodDisruptionBudget',
  'Limits how many pods of a set may be voluntarily disrupted at once.',
);
export type PodDisruptionBudget = z.infer<typeof PodDisruptionBudgetSchema>;
