import { describe, expect, it } from 'vitest';
import type { KubeletRequestAttributes } from './auth.js';
import { WebhookAuthorizer } from './webhook-authz.js';

const attrs = (user: string, subresource = 'proxy'): KubeletRequestAttributes => ({ user: { name: user, groups: ['system:authenticated'] }, verb: 'create', resource: 'nodes', subresource, name: 'node-a', path: '/exec/default/web/app' });

describe('WebhookAuthorizer (--authorization-mode=Webhook)', () => {
  it('asks the API server a SubjectAccessReview for the verb on nodes/<subresource> of this node', async () => {
    const asked: Array<Record<string, unknown>> = [];
    const a = new WebhookAuthorizer({ createReview: async (r) => (asked.push(r), { status: { allowed: true } }) });
    expect(await a.authorize(attrs('kube-apiserver-kubelet-client'))).toEqual({ allowed: true });
    expect(asked).toEqual([
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user: 'kube-apiserver-kubelet-client', groups: ['system:authenticated'], resourceAttributes: { verb: 'create', resource: 'nodes', subresource: 'proxy', name: 'node-a', version: 'v1' } },
      },
    ]);
  });

  it('refuses what the API server does not allow, with its reason; keeps decisions for a while', async () => {
    let now = 0;
    let calls = 0;
    const a = new WebhookAuthorizer({ now: () => now, createReview: async () => (calls++, { status: { allowed: false, reason: 'no RBAC policy matched' } }) });
    expect(await a.authorize(attrs('system:node:node-b'))).toEqual({ allowed: false, reason: 'no RBAC policy matched' });
    await a.authorize(attrs('system:node:node-b'));
    expect(calls).toBe(1);
    now = 31_000;
    await a.authorize(attrs('system:node:node-b'));
    expect(calls).toBe(2);
  });

  it('refuses when the review cannot be made, and asks again next time', async () => {
    let fail = true;
    const a = new WebhookAuthorizer({ createReview: async () => { if (fail) throw new Error('connect ECONNREFUSED'); return { status: { allowed: true } }; } });
    expect(await a.authorize(attrs('u'))).toEqual({ allowed: false, reason: 'the authorization webhook failed: connect ECONNREFUSED' });
    fail = false;
    expect(await a.authorize(attrs('u'))).toEqual({ allowed: true });
  });
});
