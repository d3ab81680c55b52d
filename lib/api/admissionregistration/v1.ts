/**
 * admissionregistration.k8s.io/v1: MutatingWebhookConfigurations and ValidatingWebhookConfigurations,
 * which tell the API server's webhook admission plugins (lib/apiserver/admission/webhook.ts)
 * which requests to send to which HTTPS endpoints before an object is stored.
 */
import { z, typeMeta, named, atomicList, mergeList, int32, str, i32, opt, req, optEnum } from '../schema.js';
import { ObjectMetaSchema, LabelSelectorSchema } from '../meta/v1.js';

const P = 'io.k8s.api.admissionregistration.v1';

export const WebhookServiceReferenceSchema = named(
  z.object({
    namespace: req(z.string(), 'Namespace of the service.'),
    name: req(z.string(), 'Name of the service.'),
    path: str('URL path the request is sent to, e.g. /validate; must start with /.'),
    port: opt(int32(), 'Port of the service (default 443).'),
  }),
  `${P}.ServiceReference`,
  'A Service in front of the webhook server.',
);

export const WebhookClientConfigSchema = named(
  z.object({
    url: str('https:// URL of the webhook (no user info, query or fragment); exclusive with service.'),
    service: opt(WebhookServiceReferenceSchema, 'The Service of the webhook; exclusive with url. The API server checks the certificate against <name>.<namespace>.svc.'),
    caBundle: opt(z.string().meta({ format: 'byte' }), 'PEM CA bundle the webhook\'s serving certificate must chain to (default: the system\'s roots).'),
  }),
  `${P}.WebhookClientConfig`,
  'How the API server reaches a webhook: a URL or a Service, and the CA to trust.',
);

export const RuleWithOperationsSchema = named(
  z.object({
    operations: atomicList(z.string(), 'Operations the rule matches: CREATE, UPDATE, DELETE, CONNECT, or * for all.').optional(),
    apiGroups: atomicList(z.string(), 'API groups ("" is the core group, * all).').optional(),
    apiVersions: atomicList(z.string(), 'API versions (* all).').optional(),
    resources: atomicList(z.string(), 'Resources: pods, pods/status, pods/* (pods and its subresources), */status, * (all resources, no subresources), */* (everything).').optional(),
    scope: str('Cluster (cluster-scoped resources), Namespaced, or * (default): which objects the rule matches.'),
  }),
  `${P}.RuleWithOperations`,
  'Requests a webhook is sent: operations on resources of groups and versions.',
);

export const MatchConditionSchema = named(
  z.object({
    name: req(z.string(), 'Name of the condition.'),
    expression: req(z.string(), 'CEL expression that must be true for the webhook to be called.'),
  }),
  `${P}.MatchCondition`,
  'A CEL expression that narrows the requests sent to a webhook.',
);

const webhookFields = {
  name: req(z.string(), 'Name of the webhook, fully qualified (at least three DNS labels), e.g. deny.example.com.'),
  clientConfig: req(WebhookClientConfigSchema, 'How to reach the webhook.'),
  rules: atomicList(RuleWithOperationsSchema, 'Requests the webhook is sent; a request matching any rule is sent.').optional(),
  failurePolicy: optEnum(['Ignore', 'Fail'], 'What a failure to call the webhook does: Fail refuses the request (default), Ignore lets it through.', 'Fail'),
  matchPolicy: optEnum(['Exact', 'Equivalent'], 'Equivalent (default) also sends requests for the same resource through another group or version.', 'Equivalent'),
  namespaceSelector: opt(LabelSelectorSchema, 'Labels of the namespace the object is in (or of a Namespace itself) for the webhook to be called; default: every namespace.'),
  objectSelector: opt(LabelSelectorSchema, 'Labels of the object (new or old) for the webhook to be called; default: every object.'),
  // Required, as upstream: validation names it, so that one request reports every problem.
  sideEffects: str('Required. Whether calling the webhook changes anything elsewhere: None or NoneOnDryRun; dry-run requests are only sent to such webhooks.'),
  timeoutSeconds: i32('How long a call may take, 1 to 30 seconds (default 10); on timeout the failure policy applies.'),
  admissionReviewVersions: atomicList(z.string(), 'Required. AdmissionReview versions the webhook understands, preferred first (v1, v1beta1).').optional(),
  matchConditions: mergeList(MatchConditionSchema, 'name', 'CEL conditions that must all hold for the webhook to be called.').optional(),
};

export const MutatingWebhookSchema = named(
  z.object({
    ...webhookFields,
    reinvocationPolicy: optEnum(['Never', 'IfNeeded'], 'IfNeeded: called once more if a later webhook changed the object; Never (default).', 'Never'),
  }),
  `${P}.MutatingWebhook`,
  'A webhook that may change objects (with a JSON patch) or refuse requests.',
);

export const ValidatingWebhookSchema = named(z.object(webhookFields), `${P}.ValidatingWebhook`, 'A webhook that may refuse requests.');

export const MutatingWebhookConfigurationSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    webhooks: mergeList(MutatingWebhookSchema, 'name', 'The webhooks, called in order; configurations are taken in name order.').optional(),
  }),
  `${P}.MutatingWebhookConfiguration`,
  'Webhooks that may change or refuse objects before they are stored.',
);
export type MutatingWebhookConfiguration = z.infer<typeof MutatingWebhookConfigurationSchema>;
export type MutatingWebhook = z.infer<typeof MutatingWebhookSchema>;

export const ValidatingWebhookConfigurationSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    webhooks: mergeList(ValidatingWebhookSchema, 'name', 'The webhooks, called at once.').optional(),
  }),
  `${P}.ValidatingWebhookConfiguration`,
  'Webhooks that may refuse requests before objects are stored.',
);
export type ValidatingWebhookConfiguration = z.infer<typeof ValidatingWebhookConfigurationSchema>;
export type ValidatingWebhook = z.infer<typeof ValidatingWebhookSchema>;
export type Webhook = ValidatingWebhook & { reinvocationPolicy?: 'Never' | 'IfNeeded' };
export type RuleWithOperations = z.infer<typeof RuleWithOperationsSchema>;
