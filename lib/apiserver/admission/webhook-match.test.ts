import { describe, expect, test } from 'vitest';
import type { Webhook } from '../../api/index.js';
import type { AdmissionAttributes } from '../../registry/index.js';
import { exemptFromWebhooks, ruleMatches, webhookMatches } from './webhook-match.js';

const attrs = (over: Partial<AdmissionAttributes> = {}): AdmissionAttributes => ({
  operation: 'CREATE',
  group: '',
  version: 'v1',
  resource: 'pods',
  kind: 'Pod',
  subresource: '',
  namespace: 'default',
  name: 'p',
  object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { app: 'web' } } },
  user: { username: 'u', groups: [] },
  dryRun: false,
  ...over,
});

const rule = (resources: string[], over: object = {}) => ({ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources, ...over });

describe('rules', () => {
  test('a resource without a subresource matches only the resource; res/* the resource and its subresources; */* everything', () => {
    const status = attrs({ subresource: 'status', operation: 'UPDATE' });
    expect(ruleMatches(rule(['pods']), attrs())).toBe(true);
    expect(ruleMatches(rule(['pods']), status)).toBe(false);
    expect(ruleMatches(rule(['pods/*']), status)).toBe(true);
    // As upstream's matcher: the subresource * matches the empty one too.
    expect(ruleMatches(rule(['pods/*']), attrs())).toBe(true);
    expect(ruleMatches(rule(['pods/*']), attrs({ resource: 'services' }))).toBe(false);
    expect(ruleMatches(rule(['*/status']), status)).toBe(true);
    expect(ruleMatches(rule(['*']), status)).toBe(false);
    expect(ruleMatches(rule(['*']), attrs({ resource: 'services' }))).toBe(true);
    expect(ruleMatches(rule(['*/*']), status)).toBe(true);
    expect(ruleMatches(rule(['pods/status']), attrs({ subresource: 'exec' }))).toBe(false);
  });

  test('operations, groups and versions match exactly or by *', () => {
    expect(ruleMatches(rule(['pods'], { operations: ['UPDATE'] }), attrs())).toBe(false);
    expect(ruleMatches(rule(['pods'], { operations: ['CREATE', 'DELETE'] }), attrs({ operation: 'DELETE' }))).toBe(true);
    expect(ruleMatches(rule(['deployments'], { apiGroups: ['apps'] }), attrs({ group: 'apps', resource: 'deployments' }))).toBe(true);
    expect(ruleMatches(rule(['deployments'], { apiGroups: ['apps'] }), attrs({ resource: 'deployments' }))).toBe(false);
    expect(ruleMatches(rule(['pods'], { apiVersions: ['v2'] }), attrs())).toBe(false);
    // Another served version of the same resource matches under matchPolicy Equivalent.
    expect(ruleMatches(rule(['horizontalpodautoscalers'], { apiVersions: ['v2'] }), attrs({ group: 'autoscaling', version: 'v1', resource: 'horizontalpodautoscalers' }), ['v1', 'v2'])).toBe(true);
  });

  test('scope: a Namespace is cluster-scoped; a namespaced object is not', () => {
    const ns = attrs({ resource: 'namespaces', kind: 'Namespace', namespace: '', name: 'team' });
    expect(ruleMatches(rule(['namespaces'], { scope: 'Cluster' }), ns)).toBe(true);
    expect(ruleMatches(rule(['namespaces'], { scope: 'Namespaced' }), ns)).toBe(false);
    expect(ruleMatches(rule(['namespaces'], { scope: 'Namespaced' }), { ...ns, namespace: 'team' })).toBe(false);
    expect(ruleMatches(rule(['pods'], { scope: 'Namespaced' }), attrs())).toBe(true);
    expect(ruleMatches(rule(['pods'], { scope: 'Cluster' }), attrs())).toBe(false);
    expect(ruleMatches(rule(['nodes'], { scope: 'Cluster' }), attrs({ resource: 'nodes', namespace: '' }))).toBe(true);
  });
});

describe('selectors', () => {
  const hook = (over: Partial<Webhook> = {}): Webhook => ({ name: 'h.tkube.test', clientConfig: { url: 'https://x' }, rules: [rule(['*', 'pods/exec'])], sideEffects: 'None', admissionReviewVersions: ['v1'], ...over });

  test('the namespace selector reads the namespace\'s labels, a Namespace\'s own, and passes cluster-scoped objects', () => {
    const h = hook({ namespaceSelector: { matchLabels: { env: 'prod' } } });
    expect(webhookMatches(h, attrs(), { env: 'prod' }, ['v1'])).toBe(true);
    expect(webhookMatches(h, attrs(), { env: 'dev' }, ['v1'])).toBe(false);
    const ns = (labels: Record<string, string>) => attrs({ resource: 'namespaces', kind: 'Namespace', namespace: '', object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n', labels } } });
    expect(webhookMatches(h, ns({ env: 'prod' }), undefined, ['v1'])).toBe(true);
    expect(webhookMatches(h, ns({}), undefined, ['v1'])).toBe(false);
    expect(webhookMatches(h, attrs({ resource: 'nodes', namespace: '' }), undefined, ['v1'])).toBe(true);
  });

  test('the object selector matches the new or the old object, and never an object without metadata', () => {
    const h = hook({ objectSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['db'] }] } });
    expect(webhookMatches(h, attrs(), undefined, ['v1'])).toBe(true);
    const db = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { app: 'db' } } };
    expect(webhookMatches(h, attrs({ object: db }), undefined, ['v1'])).toBe(false);
    expect(webhookMatches(h, attrs({ operation: 'UPDATE', object: db, oldObject: { ...db, metadata: { name: 'p' } } }), undefined, ['v1'])).toBe(true);
    const exec = attrs({ operation: 'CONNECT', subresource: 'exec', kind: 'PodExecOptions', object: { apiVersion: 'v1', kind: 'PodExecOptions' } as never });
    expect(webhookMatches(h, exec, undefined, ['v1'])).toBe(false);
    expect(webhookMatches(hook(), exec, undefined, ['v1'])).toBe(true);
  });

  test('matchPolicy Exact does not match another version', () => {
    const h = hook({ rules: [rule(['horizontalpodautoscalers'], { apiVersions: ['v2'] })], matchPolicy: 'Exact' });
    const a = attrs({ group: 'autoscaling', version: 'v1', resource: 'horizontalpodautoscalers' });
    expect(webhookMatches(h, a, undefined, ['v1', 'v2'])).toBe(false);
    expect(webhookMatches({ ...h, matchPolicy: 'Equivalent' }, a, undefined, ['v1', 'v2'])).toBe(true);
  });
});

test('webhook and admission policy configurations are never sent to webhooks', () => {
  expect(exemptFromWebhooks(attrs({ group: 'admissionregistration.k8s.io', resource: 'validatingwebhookconfigurations' }))).toBe(true);
  expect(exemptFromWebhooks(attrs({ group: 'admissionregistration.k8s.io', resource: 'mutatingwebhookconfigurations' }))).toBe(true);
  expect(exemptFromWebhooks(attrs())).toBe(false);
});
