/** apiregistration.k8s.io/v1: APIServices, the aggregation layer's record of who serves each group version. */
import { z, typeMeta, named, int32, str, bool, req, opt, mergeList, Time } from '../schema.js';
import { ObjectMetaSchema } from '../meta/v1.js';

const P = 'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1';

export const ServiceReferenceSchema = named(
  z.object({
    namespace: str('Namespace of the service.'),
    name: str('Name of the service.'),
    port: opt(int32(), 'Port of the service that serves the API (default 443).'),
  }),
  `${P}.ServiceReference`,
  'A Service in front of the API server that serves the group version.',
);

export const APIServiceConditionSchema = named(
  z.object({
    type: req(z.string(), 'Type of the condition: Available.'),
    status: req(z.string(), 'True, False or Unknown.'),
    lastTransitionTime: opt(Time, 'When the condition last changed status.'),
    reason: str('CamelCase reason for the last transition, e.g. Local.'),
    message: str('What the last transition means, for people.'),
  }),
  `${P}.APIServiceCondition`,
  'The state of an APIService at one point.',
);

export const APIServiceSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    spec: req(
      named(
        z.object({
          service: opt(ServiceReferenceSchema, 'The Service that serves this group version; unset: served by this API server itself (Local).'),
          group: str('The API group, e.g. apps; empty only for the legacy core group v1.'),
          version: str('The API version, e.g. v1.'),
          insecureSkipTLSVerify: bool('Skip verifying the serving certificate of the service (discouraged).'),
          caBundle: opt(z.string().meta({ format: 'byte' }), 'PEM CA bundle the serving certificate of the service must chain to.'),
          groupPriorityMinimum: req(int32(), 'Priority of the group: higher groups come first in discovery (e.g. 18000 for core v1, 17800 for apps).'),
          versionPriority: req(int32(), 'Order of this version within its group: higher first.'),
        }),
        `${P}.APIServiceSpec`,
        'Where a group version is served and how it is ranked.',
      ),
      'Where the group version is served and its priorities.',
    ),
    status: opt(
      named(z.object({ conditions: mergeList(APIServiceConditionSchema, 'type', 'Current conditions of the APIService.').optional() }), `${P}.APIServiceStatus`, 'The observed state of an APIService.'),
      'The observed state: whether the group version is available.',
    ),
  }),
  `${P}.APIService`,
  'Who serves one API group version (this API server: Local, or a Service) and its discovery priorities.',
);
export type APIService = z.infer<typeof APIServiceSchema>;
