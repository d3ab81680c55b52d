/** coordination.k8s.io/v1: Leases (node heartbeats, leader election). */
import { z, doc, named, int32, MicroTime } from '../schema.js';
import { ObjectMetaSchema } from '../meta/v1.js';

export const LeaseSchema = named(
  z.object({
    apiVersion: z.string().optional(),
    kind: z.string().optional(),
    metadata: ObjectMetaSchema,
    spec: z
      .object({
        holderIdentity: doc(z.string().optional(), 'Who holds the lease.'),
        leaseDurationSeconds: doc(int32().optional(), 'Seconds a candidate waits after the last renewal before taking the lease.'),
        acquireTime: MicroTime.optional(),
        renewTime: doc(MicroTime.optional(), 'When the holder last renewed the lease.'),
        leaseTransitions: int32().optional(),
        strategy: z.string().optional(),
        preferredHolder: z.string().optional(),
      })
      .optional(),
  }),
  'io.k8s.api.coordination.v1.Lease',
  'A lease held by one holder at a time: node heartbeats and leader election.',
);
export type Lease = z.infer<typeof LeaseSchema>;
