/** The strategy of each built-in kind. */
import type { AnyResourceType } from '../../api/index.js';
import { composeStrategies, statusStrategy, type Strategy } from '../strategy.js';
import { podStrategy } from './pod.js';
import { namespaceStrategy } from './namespace.js';
import { jobStrategy } from './job.js';
import { certificateSigningRequestStrategy } from './certificatesigningrequest.js';
import { crdCleanupFinalizer, localAvailable } from '../../api/index.js';
import { rfc3339 } from '../../base/index.js';

/** A definition keeps a finalizer until the API server has deleted every object of it. */
const crdStrategy: Strategy = {
  prepareForCreate(obj) {
    const f = obj.metadata.finalizers ?? [];
    if (!f.includes(crdCleanupFinalizer)) obj.metadata.finalizers = [...f, crdCleanupFinalizer];
  },
};
import { serviceStrategy, type ServiceAllocators } from './service.js';

export interface StrategyDeps {
  allocators: ServiceAllocators;
  /** Seconds events live in storage (--event-ttl). */
  eventTTLSeconds: number;
}

const createOnUpdate: Strategy = { allowCreateOnUpdate: true };

export function strategyFor(rt: AnyResourceType, deps: StrategyDeps): Strategy {
  const key = `${rt.group}/${rt.resource}`;
  switch (key) {
    case '/pods':
      return podStrategy;
    case '/namespaces':
      return namespaceStrategy;
    case '/nodes':
      // Nodes may set every field on create, status included: the kubelet registers in one write.
      return statusStrategy(rt, () => {});
    case '/services':
      return serviceStrategy(deps.allocators);
    case '/events':
    case 'events.k8s.io/events':
      return { allowCreateOnUpdate: true, ttlSeconds: () => deps.eventTTLSeconds };
    case '/persistentvolumes':
      return statusStrategy(rt, (o) => void (o.status = { phase: 'Pending', lastPhaseTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }));
    case '/persistentvolumeclaims':
      return statusStrategy(rt, (o) => void (o.status = { phase: 'Pending' }));
    case '/endpoints':
    case 'coordination.k8s.io/leases':
    case 'discovery.k8s.io/endpointslices':
      return createOnUpdate;
    case 'apiextensions.k8s.io/customresourcedefinitions':
      return composeStrategies(statusStrategy(rt), crdStrategy);
    case 'certificates.k8s.io/certificatesigningrequests':
      return certificateSigningRequestStrategy;
    case 'apiregistration.k8s.io/apiservices':
      // This API server serves every APIService there is (tkube proxies to no other server),
      // so each is Available from the start, as upstream's availability controller marks Local ones.
      return statusStrategy(rt, (o) => void (o.status = { conditions: [localAvailable(rfc3339())] }));
    case 'batch/jobs':
      return composeStrategies(statusStrategy(rt), jobStrategy);
    default:
      return rt.hasStatus ? statusStrategy(rt) : {};
  }
}

export { podStrategy, namespaceStrategy, jobStrategy, serviceStrategy };
export { ServiceAllocators, parsePortRange } from './service.js';
export { qosClass } from './pod.js';
