import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { KubeObject, SubjectAccessReview, TokenReview } from '../../api/index.js';
import { FakeClock } from '../../base/index.js';
import type { KubeClient, ResourceDescriptor } from '../../client/index.js';
import type { KubeletRequestAttributes } from './auth.js';
import { ExpiringCache, SubjectAccessReviewAuthorizer, TokenReviewAuthenticator, bearerToken } from './webhook.js';

/** A client that answers review creates with `answer` and records what it was sent. */
function reviewClient(answer: (resource: string, body: any) => any) {
  const sent: Array<{ resource: string; group: string; body: any }> = [];
  const client = {
    resource: (d: ResourceDescriptor<KubeObject>) => ({
      create: async (body: any) => {
        sent.push({ resource: d.resource, group: d.group, body: structuredClone(body) });
        return { ...body, status: answer(d.resource, body) };
      },
    }),
  } as unknown as KubeClient;
  return { client, sent };
}

const req = (authorization?: string) => ({ headers: authorization ? { authorization } : {} }) as IncomingMessage;
const attrs = (over: Partial<KubeletRequestAttributes> = {}): KubeletRequestAttributes => ({
  user: { name: 'bob', groups: ['devs', 'system:authenticated'], uid: '1001' },
  verb: 'get',
  resource: 'nodes',
  subresource: 'proxy',
  name: 'node-a',
  path: '/pods',
  ...over,
});

describe('bearerToken', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc ', 'abc'],
    ['Basic abc', undefined],
    ['Bearer a b', undefined],
    [undefined, undefined],
  ])('%j → %j', (h, token) => expect(bearerToken(req(h))).toBe(token));
});

describe('TokenReviewAuthenticator', () => {
  it('asks a TokenReview for the token and returns its user; no token is no opinion', async () => {
    const { client, sent } = reviewClient(() => ({ authenticated: true, user: { username: 'bob', uid: '1001', groups: ['devs', 'system:authenticated'], extra: { scope: ['a'] } } }));
    const a = new TokenReviewAuthenticator({ client });
    expect(await a.authenticate(req())).toBeNull();
    expect(await a.authenticate(req('Bearer tok-1'))).toEqual({ name: 'bob', uid: '1001', groups: ['devs', 'system:authenticated'], extra: { scope: ['a'] } });
    expect(sent).toEqual([{ resource: 'tokenreviews', group: 'authentication.k8s.io', body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: {}, spec: { token: 'tok-1' } } }]);
  });

  it('a token the API server does not accept is an error (401), not anonymous', async () => {
    const { client } = reviewClient(() => ({ authenticated: false, error: 'token expired' }));
    await expect(new TokenReviewAuthenticator({ client }).authenticate(req('Bearer old'))).rejects.toThrow('invalid bearer token: token expired');
  });

  it('caches answers, good and bad, for the TTL (2 minutes by default); failed reviews are not cached', async () => {
    const clock = new FakeClock();
    let up = true;
    const { client, sent } = reviewClient((_r, body: TokenReview) => {
      if (!up) throw new Error('connection refused');
      return body.spec.token === 'good' ? { authenticated: true, user: { username: 'bob' } } : { authenticated: false };
    });
    const a = new TokenReviewAuthenticator({ client, clock });
    for (let i = 0; i < 3; i++) {
      expect((await a.authenticate(req('Bearer good')))?.name).toBe('bob');
      await expect(a.authenticate(req('Bearer bad'))).rejects.toThrow('invalid bearer token');
    }
    expect(sent).toHaveLength(2);
    await clock.advance(119_000);
    await a.authenticate(req('Bearer good'));
    expect(sent).toHaveLength(2);
    await clock.advance(2_000);
    await a.authenticate(req('Bearer good'));
    expect(sent).toHaveLength(3);
    up = false;
    await expect(a.authenticate(req('Bearer other'))).rejects.toThrow('the TokenReview could not be made: connection refused');
    up = true;
    await expect(a.authenticate(req('Bearer other'))).rejects.toThrow('invalid bearer token');
  });
});

describe('SubjectAccessReviewAuthorizer', () => {
  it('sends the user and the node subresource as upstream kubelets do', async () => {
    const { client, sent } = reviewClient(() => ({ allowed: false, reason: 'no RBAC policy matched' }));
    const z = new SubjectAccessReviewAuthorizer({ client });
    expect(await z.authorize(attrs())).toEqual({ allowed: false, reason: 'no RBAC policy matched' });
    expect(sent[0]).toEqual({
      resource: 'subjectaccessreviews',
      group: 'authorization.k8s.io',
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        metadata: {},
        spec: {
          user: 'bob',
          uid: '1001',
          groups: ['devs', 'system:authenticated'],
          resourceAttributes: { namespace: '', verb: 'get', group: '', version: 'v1', resource: 'nodes', subresource: 'proxy', name: 'node-a' },
        },
      },
    });
  });

  it('caches allowed answers 5 minutes and denied ones 30 seconds, per user and attributes', async () => {
    const clock = new FakeClock();
    const { client, sent } = reviewClient((_r, body: SubjectAccessReview) => ({ allowed: body.spec.resourceAttributes?.subresource === 'stats' }));
    const z = new SubjectAccessReviewAuthorizer({ client, clock });
    const stats = attrs({ subresource: 'stats', path: '/stats/summary' });
    const proxy = attrs();
    for (let i = 0; i < 3; i++) {
      expect((await z.authorize(stats)).allowed).toBe(true);
      expect((await z.authorize(proxy)).allowed).toBe(false);
    }
    expect(sent).toHaveLength(2);
    // Another user is another question.
    await z.authorize(attrs({ user: { name: 'carol', groups: [] } }));
    expect(sent).toHaveLength(3);
    await clock.advance(31_000);
    await z.authorize(stats);
    await z.authorize(proxy);
    expect(sent).toHaveLength(4);
    await clock.advance(270_000);
    await z.authorize(stats);
    expect(sent).toHaveLength(5);
  });

  it('a review that cannot be made is an error (the server answers 500), and is asked again next time', async () => {
    let up = false;
    const { client } = reviewClient(() => {
      if (!up) throw new Error('connection refused');
      return { allowed: true };
    });
    const z = new SubjectAccessReviewAuthorizer({ client });
    await expect(z.authorize(attrs())).rejects.toThrow('the SubjectAccessReview could not be made: connection refused');
    up = true;
    expect(await z.authorize(attrs())).toEqual({ allowed: true });
  });

  it('an explicit denial wins over allowed', async () => {
    const { client } = reviewClient(() => ({ allowed: true, denied: true }));
    expect((await new SubjectAccessReviewAuthorizer({ client }).authorize(attrs())).allowed).toBe(false);
  });
});

describe('ExpiringCache', () => {
  it('forgets entries at their expiry and the oldest beyond its size', async () => {
    const clock = new FakeClock();
    const c = new ExpiringCache<number>(clock, 2);
    c.set('a', 1, 1000);
    c.set('b', 2, 5000);
    await clock.advance(1000);
    expect(c.get('a')).toBeUndefined();
    expect(c.get('b')).toBe(2);
    c.set('c', 3, 5000);
    c.set('d', 4, 5000);
    expect([c.get('b'), c.get('c'), c.get('d')]).toEqual([undefined, 3, 4]);
    c.set('e', 5, 0);
    expect(c.get('e')).toBeUndefined();
  });
});
