/**
 * The first two stages of every request: authentication (who is this?) and authorization
 * (may they do this?). Each is a chain of pluggable parts; the security issue adds x509,
 * tokens and RBAC. Reads and writes both pass through here; admission follows for writes.
 */
import type { IncomingMessage } from 'node:http';
import type { UserInfo } from '../registry/index.js';
import type { RequestInfo } from './request-info.js';
import { parseFieldSelector } from '../machinery/index.js';

/**
 * Establishes the user of a request. Returns null when the request carries no credentials this
 * authenticator understands; throws a 401 StatusError when it carries bad ones.
 */
export interface Authenticator {
  authenticate(req: IncomingMessage): Promise<UserInfo | null>;
}

export interface AuthorizationAttributes {
  user: UserInfo;
  verb: string;
  isResourceRequest: boolean;
  /** For non-resource requests: the URL path. */
  path: string;
  namespace: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  name: string;
  /** The request's raw field and label selectors (list, watch), for authorizers that look at them (Node). */
  fieldSelector?: string;
  labelSelector?: string;
}

export type Decision = 'allow' | 'deny' | 'noOpinion';

export interface Authorizer {
  authorize(attrs: AuthorizationAttributes): Promise<{ decision: Decision; reason?: string }>;
}

export const anonymousUser: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

/** The user of the loopback-only insecure port: everything is allowed there. */
export const insecureUser: UserInfo = { username: 'system:admin', groups: ['system:masters', 'system:authenticated'] };

/** Authenticates everyone as one user (the insecure port). */
export function fixedUserAuthenticator(user: UserInfo): Authenticator {
  return { authenticate: async () => user };
}

export const alwaysAllow: Authorizer = { authorize: async () => ({ decision: 'allow' }) };
export const alwaysDeny: Authorizer = { authorize: async () => ({ decision: 'deny', reason: 'all requests are denied' }) };

/** Tries authorizers in order; the first allow or deny decides. */
export function unionAuthorizer(list: Authorizer[]): Authorizer {
  return {
    async authorize(attrs) {
      const reasons: string[] = [];
      for (const a of list) {
        const r = await a.authorize(attrs);
        if (r.decision !== 'noOpinion') return r;
        if (r.reason) reasons.push(r.reason);
      }
      return { decision: 'noOpinion', reason: reasons.join(', ') };
    },
  };
}

/**
 * The attributes of a request. As upstream, a list or watch narrowed to one object by
 * `fieldSelector=metadata.name=x` is authorized as a request for that object (so that rules
 * with resourceNames and the Node authorizer can allow it).
 */
export function authorizationAttributes(user: UserInfo, info: RequestInfo, query?: URLSearchParams, method?: string): AuthorizationAttributes {
  const fieldSelector = query?.get('fieldSelector') ?? undefined;
  const labelSelector = query?.get('labelSelector') ?? undefined;
  let name = info.name;
  if (!name && fieldSelector && (info.verb === 'list' || info.verb === 'watch')) {
    try {
      name = parseFieldSelector(fieldSelector).exactValue('metadata.name') ?? '';
    } catch {
      /* a bad selector fails later, with a 400 from the store */
    }
  }
  // Streaming subresources (exec, attach, portforward, proxy) are authorized by their HTTP
  // verb, as upstream: POST is create, GET is get (what RBAC rules name).
  let verb: string = info.verb;
  if ((verb === 'connect' || verb === 'proxy') && info.subresource && method) verb = httpVerb(method);
  // Outside the resource space the verb is the HTTP method in lower case (get, post, put...).
  if (!info.isResourceRequest && method) verb = method.toLowerCase();
  return {
    fieldSelector,
    labelSelector,
    user,
    verb,
    isResourceRequest: info.isResourceRequest,
    path: info.path,
    namespace: info.namespace,
    apiGroup: info.apiGroup,
    apiVersion: info.apiVersion,
    resource: info.resource,
    subresource: info.subresource,
    name,
  };
}

function httpVerb(method: string): string {
  switch (method.toUpperCase()) {
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return 'get';
  }
}

/** The 403 message upstream writes for a denied request. */
export function forbiddenMessage(a: AuthorizationAttributes): string {
  const who = `User "${a.user.username}"`;
  if (!a.isResourceRequest) return `${who} cannot ${a.verb} path "${a.path}"`;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const ns = a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
  return `${who} cannot ${a.verb} resource "${res}" in API group "${a.apiGroup}"${ns}`;
}
