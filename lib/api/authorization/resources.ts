/**
 * The review kinds of authentication.k8s.io and authorization.k8s.io: create-only and never
 * stored. They are served by handlers in lib/apiserver/authz/reviews.ts, not by the registry.
 */
import { defineResource, type AnyResourceType } from '../resource-type.js';
import { SelfSubjectReviewSchema, TokenReviewSchema, authenticationGroup } from '../authentication/v1.js';
import { LocalSubjectAccessReviewSchema, SelfSubjectAccessReviewSchema, SelfSubjectRulesReviewSchema, SubjectAccessReviewSchema, authorizationGroup } from './v1.js';

const create: ['create'] = ['create'];

export const reviewResources: AnyResourceType[] = [
  defineResource({ group: authenticationGroup, version: 'v1', kind: 'TokenReview', resource: 'tokenreviews', namespaced: false, verbs: create, schema: TokenReviewSchema }),
  defineResource({ group: authenticationGroup, version: 'v1', kind: 'SelfSubjectReview', resource: 'selfsubjectreviews', namespaced: false, verbs: create, schema: SelfSubjectReviewSchema }),
  defineResource({ group: authorizationGroup, version: 'v1', kind: 'SubjectAccessReview', resource: 'subjectaccessreviews', namespaced: false, verbs: create, schema: SubjectAccessReviewSchema }),
  defineResource({ group: authorizationGroup, version: 'v1', kind: 'LocalSubjectAccessReview', resource: 'localsubjectaccessreviews', namespaced: true, verbs: create, schema: LocalSubjectAccessReviewSchema }),
  defineResource({ group: authorizationGroup, version: 'v1', kind: 'SelfSubjectAccessReview', resource: 'selfsubjectaccessreviews', namespaced: false, verbs: create, schema: SelfSubjectAccessReviewSchema }),
  defineResource({ group: authorizationGroup, version: 'v1', kind: 'SelfSubjectRulesReview', resource: 'selfsubjectrulesreviews', namespaced: false, verbs: create, schema: SelfSubjectRulesReviewSchema }),
];
