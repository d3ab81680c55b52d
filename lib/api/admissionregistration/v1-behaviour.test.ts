import { describe, expect, test } from 'vitest';
import { fieldErrorString } from '../../machinery/index.js';
import { defaultMutatingWebhookConfiguration, validateWebhookConfiguration } from './v1-behaviour.js';
import type { ValidatingWebhookConfiguration } from './v1.js';

const config = (hook: object): ValidatingWebhookConfiguration => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingWebhookConfiguration',
  metadata: { name: 'c' },
  webhooks: [{ name: 'a.b.c', clientConfig: { url: 'https://h/p' }, sideEffects: 'None', admissionReviewVersions: ['v1'], ...hook } as never],
});
const errors = (hook: object) => validateWebhookConfiguration(config(hook)).map(fieldErrorString);

describe('webhook configuration validation', () => {
  test('a good webhook passes', () => {
    expect(errors({ rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods', 'pods/status'] }] })).toEqual([]);
  });

  test('resource wildcards may not overlap what they cover, checked in order as upstream', () => {
    const r = (resources: string[]) => errors({ rules: [{ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources }] });
    expect(r(['*/*', 'pods'])).toEqual([`webhooks[0].rules[0].resources: Invalid value: []string{"*/*", "pods"}: if '*/*' is present, must not specify other resources`]);
    expect(r(['pods/*', 'pods/status'])).toEqual([`webhooks[0].rules[0].resources[1]: Invalid value: "pods/status": if 'pods/*' is present, must not specify pods/status`]);
    expect(r(['*/status', 'pods/status'])).toEqual([`webhooks[0].rules[0].resources[1]: Invalid value: "pods/status": if '*/status' is present, must not specify pods/status`]);
    expect(r(['pods/status', 'pods/*'])).toEqual([]);
    expect(r(['*', 'pods/status', 'pods/*'])).toEqual([]);
    expect(r(['pods', '*'])).toEqual([]);
    expect(r(['*', 'pods'])).toHaveLength(1);
    expect(r([''])).toEqual(['webhooks[0].rules[0].resources[0]: Required value']);
  });

  test('service paths are / or DNS-subdomain segments', () => {
    const p = (path: string) => errors({ clientConfig: { service: { namespace: 'n', name: 's', path } } });
    expect(p('/')).toEqual([]);
    expect(p('/validate/pods/')).toEqual([]);
    expect(p('//')).toEqual(['webhooks[0].clientConfig.service.path: Invalid value: "//": segment[0] may not be empty']);
    expect(p('/foo//bar')).toEqual(['webhooks[0].clientConfig.service.path: Invalid value: "/foo//bar": segment[1] may not be empty']);
    expect(p('/Upper')[0]).toMatch(/^webhooks\[0\]\.clientConfig\.service\.path: Invalid value: "\/Upper": segment\[0\]: a lowercase RFC 1123 subdomain/);
  });

  test('URLs: https only, no user info, fragment or query; the bad part is named', () => {
    expect(errors({ clientConfig: { url: 'https://u:p@h/x#frag' } })).toEqual([
      'webhooks[0].clientConfig.url: Invalid value: "u:p": user information is not permitted in the URL',
      'webhooks[0].clientConfig.url: Invalid value: "frag": fragments are not permitted in the URL',
    ]);
    expect(errors({ clientConfig: { url: 'not a url' } })[0]).toMatch(/^webhooks\[0\]\.clientConfig\.url: Required value: url must be a valid URL: .*; desired format: https:\/\/host\[\/path\]$/);
  });

  test('selectors are checked; CEL match conditions are refused, since tkube cannot evaluate them', () => {
    expect(errors({ objectSelector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] } })).toEqual([
      "webhooks[0].objectSelector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
    ]);
    expect(errors({ matchConditions: [{ name: 'c', expression: 'true' }] })[0]).toMatch(/^webhooks\[0\]\.matchConditions: Forbidden: tkube does not evaluate CEL/);
  });

  test('mutating defaults include reinvocationPolicy Never and the service port 443', () => {
    const c = { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'm' }, webhooks: [{ name: 'a.b.c', clientConfig: { service: { namespace: 'n', name: 's' } }, rules: [{}] }] } as never;
    defaultMutatingWebhookConfiguration(c);
    expect((c as { webhooks: object[] }).webhooks[0]).toMatchObject({ failurePolicy: 'Fail', matchPolicy: 'Equivalent', timeoutSeconds: 10, reinvocationPolicy: 'Never', rules: [{ scope: '*' }], clientConfig: { service: { port: 443 } } });
  });
});
