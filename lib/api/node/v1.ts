/** node.k8s.io/v1: RuntimeClasses. */
import { z, typeMeta, named, StringMap, atomicList, opt, req } from '../schema.js';
import { ObjectMetaSchema } from '../meta/v1.js';
import { ResourceListSchema, TolerationSchema } from '../core/v1.js';

const P = 'io.k8s.api.node.v1';

export const OverheadSchema = named(
  z.object({ podFixed: opt(ResourceListSchema, 'Fixed resources added to every pod of this runtime class, e.g. the memory of a VM sandbox.') }),
  `${P}.Overhead`,
  'Resources the runtime itself uses for each pod.',
);

export const SchedulingSchema = named(
  z.object({
    nodeSelector: opt(StringMap, 'Labels of the nodes that support the runtime class; merged into the pod node selector by admission.'),
    tolerations: atomicList(TolerationSchema, 'Tolerations added to pods of this runtime class by admission.').optional(),
  }),
  `${P}.Scheduling`,
  'Where pods of a runtime class can be scheduled.',
);

export const RuntimeClassSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    handler: req(z.string(), 'Name of the container runtime handler (a DNS label) the CRI implementation runs pods of this class with. Immutable.'),
    overhead: opt(OverheadSchema, 'Resources the runtime uses per pod; added to pod overhead by admission.'),
    scheduling: opt(SchedulingSchema, 'Nodes that support the runtime class; unset means every node.'),
  }),
  'io.k8s.api.node.v1.RuntimeClass',
  'A container runtime configuration (handler) pods can choose with runtimeClassName.',
);
export type RuntimeClass = z.infer<typeof RuntimeClassSchema>;
