/**
 * authentication.k8s.io/v1: TokenReview (is this token valid, and whose is it?), TokenRequest
 * (the serviceaccounts/token subresource) and SelfSubjectReview (who am I?). None is stored:
 * each is created and answered in the same request.
 */
import { z, typeMeta, named, str, bool, opt, i64, Time, atomicList } from '../schema.js';
import { ObjectMetaSchema } from '../meta/v1.js';

export const authenticationGroup = 'authentication.k8s.io';

export const UserInfoSchema = named(
  z.object({
    username: str('The name that uniquely identifies the user.'),
    uid: str('A unique value that identifies the user across time.'),
    groups: atomicList(z.string(), 'Groups the user belongs to.').optional(),
    extra: opt(z.record(z.string(), z.array(z.string())), 'Further information the authenticator provided.'),
  }),
  'io.k8s.api.authentication.v1.UserInfo',
  'What authentication established about a user.',
);
export type AuthnUserInfo = z.infer<typeof UserInfoSchema>;

export const TokenReviewSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    spec: z
      .object({
        token: str('The opaque bearer token to check.'),
        audiences: atomicList(z.string(), 'Audiences the token must be valid for; empty means the API server\'s own.').optional(),
      })
      .meta({ description: 'The token to check.' }),
    status: opt(
      z.object({
        authenticated: bool('Whether the token is valid.'),
        user: opt(UserInfoSchema, 'Whose token it is.'),
        audiences: atomicList(z.string(), 'Audiences the token is valid for.').optional(),
        error: str('Why the token is not valid.'),
      }),
      'The answer.',
    ),
  }),
  'io.k8s.api.authentication.v1.TokenReview',
  'Asks whether a bearer token is valid and whose it is.',
);
export type TokenReview = z.infer<typeof TokenReviewSchema>;

export const BoundObjectReferenceSchema = named(
  z.object({
    kind: str('Pod, Secret or Node.'),
    apiVersion: str('API version of the object (v1).'),
    name: str('Name of the object.'),
    uid: str('UID of the object.'),
  }),
  'io.k8s.api.authentication.v1.BoundObjectReference',
  'The object a token is bound to: the token stops working when it is deleted.',
);

export const TokenRequestSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    spec: z
      .object({
        audiences: atomicList(z.string(), 'Who the token is for; empty means the API server\'s own audiences.').optional(),
        expirationSeconds: i64('Requested lifetime in seconds (at least 600); the server may shorten it.'),
        boundObjectRef: opt(BoundObjectReferenceSchema, 'A pod, secret or node the token is bound to.'),
      })
      .meta({ description: 'What the token is for.' }),
    status: opt(
      z.object({
        token: str('The signed token.'),
        expirationTimestamp: opt(Time, 'When the token expires.'),
      }),
      'The token issued.',
    ),
  }),
  'io.k8s.api.authentication.v1.TokenRequest',
  'Asks for a token for a service account.',
);
export type TokenRequest = z.infer<typeof TokenRequestSchema>;

export const SelfSubjectReviewSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    status: opt(z.object({ userInfo: opt(UserInfoSchema, 'Who made the request.') }), 'The answer.'),
  }),
  'io.k8s.api.authentication.v1.SelfSubjectReview',
  'Asks who the requester is, as authentication saw them (kubectl auth whoami).',
);
export type SelfSubjectReview = z.infer<typeof SelfSubjectReviewSchema>;
