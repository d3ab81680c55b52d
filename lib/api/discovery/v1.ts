/** discovery.k8s.io/v1: EndpointSlices. */
import { z, typeMeta, named, StringMap, atomicList, setList, str, bool, i32, opt, req, optEnum } from '../schema.js';
import { ObjectMetaSchema } from '../meta/v1.js';
import { keepsEmpty } from '../schema-walk.js';
import { ObjectReferenceSchema } from '../core/v1.js';

const P = 'io.k8s.api.discovery.v1';

export const EndpointConditionsSchema = named(
  z.object({
    ready: bool('The endpoint can take traffic: serving and not terminating. Unset means unknown (treat as ready).'),
    serving: bool('The endpoint passes readiness, whether or not it is terminating.'),
    terminating: bool('The endpoint is terminating.'),
  }),
  `${P}.EndpointConditions`,
  'The state of an endpoint.',
);

export const ForZoneSchema = named(z.object({ name: req(z.string(), 'Name of the zone.') }), `${P}.ForZone`, 'A zone that should use an endpoint.');

export const EndpointHintsSchema = named(
  z.object({ forZones: atomicList(ForZoneSchema, 'Zones whose clients should be sent to this endpoint (topology aware routing).').optional() }),
  `${P}.EndpointHints`,
  'Routing hints for consumers of an endpoint.',
);

export const EndpointSchema = named(
  z.object({
    addresses: setList(z.string(), 'Addresses of the endpoint (one for IP address types); consumers use the first.', { merge: false }),
    conditions: opt(EndpointConditionsSchema, 'State of the endpoint.'),
    hostname: str('Host name of the endpoint, a DNS label, for DNS records.'),
    targetRef: opt(ObjectReferenceSchema, 'The object (usually a pod) behind the endpoint.'),
    deprecatedTopology: opt(StringMap, 'Topology labels of v1beta1; not written any more.'),
    nodeName: str('Node hosting the endpoint.'),
    zone: str('Zone of the endpoint.'),
    hints: opt(EndpointHintsSchema, 'Routing hints.'),
  }),
  `${P}.Endpoint`,
  'One backend of a service.',
);

export const EndpointSlicePortSchema = named(
  z.object({
    name: str('Name of the port, matching the service port name; empty with a single port.'),
    protocol: optEnum(['TCP', 'UDP', 'SCTP'], 'TCP (default), UDP or SCTP.'),
    port: i32('Port number; unset means all ports.'),
    appProtocol: str('Application protocol, as in the service port.'),
  }),
  `${P}.EndpointPort`,
  'A port served by every endpoint of the slice.',
);

export const EndpointSliceSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    addressType: req(z.enum(['IPv4', 'IPv6', 'FQDN']), 'Type of the addresses: IPv4, IPv6 or FQDN. Immutable.'),
    endpoints: atomicList(EndpointSchema, 'The backends, at most 1000.'),
    // Not omitempty upstream: an empty list stays.
    ports: keepsEmpty(atomicList(EndpointSlicePortSchema, 'Ports of every backend in the slice; empty means no ports, unset port means all ports.').optional()),
  }),
  `${P}.EndpointSlice`,
  'A slice of the backends of a service.',
);
export type EndpointSlice = z.infer<typeof EndpointSliceSchema>;
