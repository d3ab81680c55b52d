/** discovery.k8s.io/v1: EndpointSlices. */
import { z, named, int32, atomicList } from '../schema.js';
import { ObjectMetaSchema } from '../meta/v1.js';
import { ObjectReferenceSchema } from '../core/v1.js';

export const EndpointSchema = named(
  z.object({
    addresses: z.array(z.string()),
    conditions: z.object({ ready: z.boolean().optional(), serving: z.boolean().optional(), terminating: z.boolean().optional() }).optional(),
    hostname: z.string().optional(),
    targetRef: ObjectReferenceSchema.optional(),
    deprecatedTopology: z.record(z.string(), z.string()).optional(),
    nodeName: z.string().optional(),
    zone: z.string().optional(),
    hints: z.object({}).loose().optional(),
  }),
  'io.k8s.api.discovery.v1.Endpoint',
  'One backend of a service.',
);

export const EndpointSliceSchema = named(
  z.object({
    apiVersion: z.string().optional(),
    kind: z.string().optional(),
    metadata: ObjectMetaSchema,
    addressType: z.enum(['IPv4', 'IPv6', 'FQDN']),
    endpoints: atomicList(EndpointSchema, 'The backends.'),
    ports: atomicList(
      z.object({ name: z.string().optional(), protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(), port: int32().optional(), appProtocol: z.string().optional() }),
      'Ports of every backend in the slice.',
    ).optional(),
  }),
  'io.k8s.api.discovery.v1.EndpointSlice',
  'A slice of the backends of a service.',
);
export type EndpointSlice = z.infer<typeof EndpointSliceSchema>;
