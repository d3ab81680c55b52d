/**
 * The review kinds, answered in the request that creates them:
 *
 *   authorization.k8s.io/v1  SelfSubjectAccessReview (kubectl auth can-i), SubjectAccessReview,
 *                            LocalSubjectAccessReview, SelfSubjectRulesReview (can-i --list)
 *   authentication.k8s.io/v1 TokenReview, SelfSubjectReview (kubectl auth whoami)
 */
import { reviewResources, type PolicyRule } from '../../api/index.js';
import { fieldPath, newBadRequest, newInvalid, type FieldError } from '../../machinery/index.js';
import type { UserInfo } from '../../registry/index.js';
import type { AuthorizationAttributes, Authorizer } from '../auth.js';
import type { RequestInfo } from '../request-info.js';
import type { VirtualResource } from '../server.js';
import type { TokenAuthenticator } from '../authn/types.js';
import { authenticateToken, withAuthenticatedGroup } from '../authn/request.js';
import type { RuleResolver } from './rbac.js';

export interface ReviewDeps {
  authorizer: Authorizer;
  resolvers: RuleResolver[];
  tokens: TokenAuthenticator[];
  audiences: string[];
}

type Obj = Record<string, any>;

function attributesOf(kind: string, spec: Obj, user: UserInfo): AuthorizationAttributes {
  const ra = spec.resourceAttributes as Obj | undefined;
  const nra = spec.nonResourceAttributes as Obj | undefined;
  const errs: FieldError[] = [];
  if (ra && nra) errs.push(fieldPath('spec.resourceAttributes').invalid(ra, 'cannot be specified in combination with nonResourceAttributes'));
  if (!ra && !nra) errs.push(fieldPath('spec.resourceAttributes').required('exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  if (errs.length) throw newInvalid('authorization.k8s.io', kind, '', errs);
  if (ra) {
    return {
      user,
      verb: ra.verb ?? '',
      isResourceRequest: true,
      path: '',
      namespace: ra.namespace ?? '',
      apiGroup: ra.group ?? '',
      apiVersion: ra.version ?? '',
      resource: ra.resource ?? '',
      subresource: ra.subresource ?? '',
      name: ra.name ?? '',
      fieldSelector: ra.fieldSelector?.rawSelector,
      labelSelector: ra.labelSelector?.rawSelector,
    };
  }
  return { user, verb: nra!.verb ?? '', isResourceRequest: false, path: nra!.path ?? '', namespace: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', name: '' };
}

function answer(kind: string, group: string, body: Obj, status: Obj, extraMeta: Obj = {}): Obj {
  return { kind, apiVersion: `${group}/v1`, metadata: { ...(body.metadata ?? {}), creationTimestamp: null, ...extraMeta }, ...(body.spec !== undefined ? { spec: body.spec } : {}), status };
}

async function decide(authorizer: Authorizer, attrs: AuthorizationAttributes): Promise<Obj> {
  try {
    const d = await authorizer.authorize(attrs);
    const status: Obj = { allowed: d.decision === 'allow' };
    if (d.decision === 'deny') status.denied = true;
    if (d.reason) status.reason = d.reason;
    return status;
  } catch (err) {
    return { allowed: false, evaluationError: (err as Error).message };
  }
}

function resourceRule(r: PolicyRule): Obj {
  const out: Obj = { verbs: r.verbs };
  if (r.apiGroups?.length) out.apiGroups = r.apiGroups;
  if (r.resources?.length) out.resources = r.resources;
  if (r.resourceNames?.length) out.resourceNames = r.resourceNames;
  return out;
}

function userOfSpec(spec: Obj): UserInfo {
  const u: UserInfo = { username: spec.user ?? '', groups: spec.groups ?? [] };
  if (spec.uid) u.uid = spec.uid;
  if (spec.extra) u.extra = spec.extra;
  return u;
}

export function reviewHandlers(d: ReviewDeps): Record<string, VirtualResource> {
  const rt = (resource: string) => reviewResources.find((r) => r.resource === resource)!;
  const handlers: VirtualResource[] = [
    {
      rt: rt('selfsubjectaccessreviews'),
      async create(body, _info, user) {
        const attrs = attributesOf('SelfSubjectAccessReview', body.spec as Obj, user);
        return answer('SelfSubjectAccessReview', 'authorization.k8s.io', body, await decide(d.authorizer, attrs));
      },
    },
    {
      rt: rt('subjectaccessreviews'),
      async create(body) {
        const spec = body.spec as Obj;
        if (!spec.user && !(spec.groups ?? []).length) throw newInvalid('authorization.k8s.io', 'SubjectAccessReview', '', [fieldPath('spec.user').invalid(spec.user ?? '', 'at least one of user or group must be specified')]);
        const attrs = attributesOf('SubjectAccessReview', spec, userOfSpec(spec));
        return answer('SubjectAccessReview', 'authorization.k8s.io', body, await decide(d.authorizer, attrs));
      },
    },
    {
      rt: rt('localsubjectaccessreviews'),
      async create(body, info: RequestInfo) {
        const spec = body.spec as Obj;
        if (!spec.user && !(spec.groups ?? []).length) throw newInvalid('authorization.k8s.io', 'LocalSubjectAccessReview', '', [fieldPath('spec.user').invalid(spec.user ?? '', 'at least one of user or group must be specified')]);
        if (spec.nonResourceAttributes) throw newInvalid('authorization.k8s.io', 'LocalSubjectAccessReview', '', [fieldPath('spec.nonResourceAttributes').invalid(spec.nonResourceAttributes, 'disallowed on this kind of request')]);
        const ns = spec.resourceAttributes?.namespace ?? '';
        if (ns !== info.namespace) throw newBadRequest(`spec.resourceAttributes.namespace must match namespace: ${info.namespace}`);
        const attrs = attributesOf('LocalSubjectAccessReview', spec, userOfSpec(spec));
        return answer('LocalSubjectAccessReview', 'authorization.k8s.io', body, await decide(d.authorizer, attrs), { namespace: info.namespace });
      },
    },
    {
      rt: rt('selfsubjectrulesreviews'),
      async create(body, _info, user) {
        const ns = (body.spec as Obj | undefined)?.namespace ?? '';
        const resourceRules: Obj[] = [];
        const nonResourceRules: Obj[] = [];
        let incomplete = false;
        const errors: string[] = [];
        for (const r of d.resolvers) {
          const got = await r.rulesFor(user, ns);
          resourceRules.push(...got.resourceRules.map(resourceRule));
          nonResourceRules.push(...got.nonResourceRules.map((x) => ({ verbs: x.verbs, nonResourceURLs: x.nonResourceURLs ?? [] })));
          incomplete ||= got.incomplete;
          errors.push(...got.errors);
        }
        const status: Obj = { resourceRules, nonResourceRules, incomplete };
        if (errors.length) status.evaluationError = errors.join(', ');
        return answer('SelfSubjectRulesReview', 'authorization.k8s.io', body, status);
      },
    },
    {
      rt: rt('tokenreviews'),
      async create(body) {
        const spec = (body.spec ?? {}) as Obj;
        if (!spec.token) throw newInvalid('authentication.k8s.io', 'TokenReview', '', [fieldPath('spec.token').required('token must not be empty')]);
        const wanted: string[] = spec.audiences?.length ? spec.audiences : d.audiences;
        const { result, errors } = await authenticateToken(d.tokens, spec.token, wanted);
        const status: Obj = { user: {} };
        if (result) {
          const u = withAuthenticatedGroup(result.user);
          status.authenticated = true;
          status.user = { username: u.username, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups, ...(u.extra ? { extra: u.extra } : {}) };
          status.audiences = result.audiences;
        } else status.error = `[${(errors.length ? errors : ['invalid bearer token']).join(', ')}]`;
        // The token is not echoed back.
        return answer('TokenReview', 'authentication.k8s.io', { ...body, spec: { ...spec, token: spec.token } }, status);
      },
    },
    {
      rt: rt('selfsubjectreviews'),
      async create(body, _info, user) {
        const info: Obj = { username: user.username, groups: user.groups };
        if (user.uid) info.uid = user.uid;
        if (user.extra) info.extra = user.extra;
        return { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { ...((body.metadata as Obj) ?? {}), creationTimestamp: null }, status: { userInfo: info } };
      },
    },
  ];
  return Object.fromEntries(handlers.map((h) => [`${h.rt.group}/${h.rt.resource}`, h]));
}
