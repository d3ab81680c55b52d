import type { KubeObject } from '../api/index.js';

/** Who is making a request, as established by authentication. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** Per-request values the registry needs. */
export interface RequestContext {
  user: UserInfo;
  /** The namespace of the request URL ('' for cluster-scoped or all namespaces). */
  namespace: string;
  /** Run every step but do not persist (`?dryRun=All`). */
  dryRun: boolean;
  /** `?fieldManager=` for managedFields bookkeeping. */
  fieldManager?: string;
  /** The subresource of the request ('' for the main resource). */
  subresource: string;
  /** Warnings to return in `Warning` headers. */
  warnings: string[];
}

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** What admission plugins see of a request (upstream's admission.Attributes). */
export interface AdmissionAttributes {
  operation: Operation;
  group: string;
  version: string;
  resource: string;
  kind: string;
  subresource: string;
  namespace: string;
  name: string;
  object?: KubeObject;
  oldObject?: KubeObject;
  user: UserInfo;
  dryRun: boolean;
  /** DeleteOptions / CreateOptions / UpdateOptions of the request. */
  options?: unknown;
  /** Warnings for the client (`Warning` headers); plugins may add to them. */
  warnings?: string[];
}

/**
 * Admission as the registry calls it: `mutate` may change `attrs.object`; `validate` may only
 * refuse. Both throw a StatusError to refuse the request.
 */
export interface Admission {
  mutate(attrs: AdmissionAttributes): Promise<void>;
  validate(attrs: AdmissionAttributes): Promise<void>;
}

export const noAdmission: Admission = {
  mutate: async () => {},
  validate: async () => {},
};

export function newContext(partial: Partial<RequestContext> = {}): RequestContext {
  return {
    user: { username: 'system:admin', groups: ['system:masters', 'system:authenticated'] },
    namespace: '',
    dryRun: false,
    subresource: '',
    warnings: [],
    ...partial,
  };
}
