/** coordination.k8s.io/v1: Leases (node heartbeats, leader election). */
import { z, typeMeta, named, MicroTime, str, i32, opt } from '../schema.js';
import { ObjectMetaSchema } from '../meta/v1.js';

export const LeaseSpecSchema = named(
  z.object({
    holderIdentity: str('Who holds the lease.'),
    leaseDurationSeconds: i32('Seconds candidates wait after the last renewal before they may take the lease.'),
    acquireTime: opt(MicroTime, 'When the current holder acquired the lease.'),
    renewTime: opt(MicroTime, 'When the holder last renewed the lease.'),
    leaseTransitions: i32('Times the lease has changed holders.'),
    strategy: str('How a coordinated leader is chosen, e.g. OldestEmulationVersion (alpha).'),
    preferredHolder: str('Holder that should take over; the current holder should release the lease (alpha).'),
  }),
  'io.k8s.api.coordination.v1.LeaseSpec',
  'Holder and timing of a lease.',
);

export const LeaseSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    spec: opt(LeaseSpecSchema, 'Holder and timing of the lease.'),
  }),
  'io.k8s.api.coordination.v1.Lease',
  'A lease held by one holder at a time: node heartbeats and leader election.',
);
export type Lease = z.infer<typeof LeaseSchema>;
