import { afterEach, describe, expect, test } from 'vitest';
import type { RESTClient } from '../client/index.js';
import { newAlreadyExists, newNotFound } from '../machinery/index.js';
import { ServiceAccountCredentials } from './service-account-credentials.js';

const gr = { group: '', resource: 'serviceaccounts' };

/** A stand-in for the manager's client: kube-system's accounts, and tokens that live `lifetimeMs`. */
function fakeRoot(o: { existing?: string[]; lifetimeMs: number; failTokens?: () => boolean; createRace?: boolean }) {
  const calls: string[] = [];
  const accounts = new Set(o.existing ?? []);
  let issued = 0;
  const root = {
    resource: (_d: unknown, ns: string) => ({
      get: async (name: string) => {
        calls.push(`get ${ns}/${name}`);
        if (!accounts.has(name)) throw newNotFound(gr, name);
        return {};
      },
      create: async (sa: { metadata: { name: string } }) => {
        calls.push(`create ${ns}/${sa.metadata.name}`);
        if (o.createRace) throw newAlreadyExists(gr, sa.metadata.name);
        accounts.add(sa.metadata.name);
        return sa;
      },
      createSubresource: async (name: string, sub: string, body: { spec: { expirationSeconds: number } }) => {
        calls.push(`${sub} ${ns}/${name} ${body.spec.expirationSeconds}s`);
        if (o.failTokens?.()) throw new Error('connection refused');
        issued++;
        return { status: { token: `${name}-${issued}`, expirationTimestamp: new Date(Date.now() + o.lifetimeMs).toISOString() } };
      },
    }),
    withToken: (name: string, token: () => string | undefined, shared?: { name: string }) => ({
      name,
      token,
      shared: shared?.name,
      forPart: (part: string) => ({ account: name, part, token, shared: shared?.name }),
    }),
  };
  return { root: root as unknown as RESTClient, calls };
}

type Fake = { account: string; part: string; token: () => string | undefined; shared?: string };

let creds: ServiceAccountCredentials | undefined;
afterEach(() => creds?.stop());

describe('ServiceAccountCredentials', () => {
  test('creates a missing account once, asks for an hour-long token, and shares it between the controllers of one account', async () => {
    const { root, calls } = fakeRoot({ existing: ['deployment-controller'], lifetimeMs: 3600_000 });
    creds = new ServiceAccountCredentials({ root });
    const [a, b] = (await Promise.all([creds.clientFor('node-controller', 'nodeipam'), creds.clientFor('node-controller', 'nodelifecycle')])) as unknown as Fake[];
    const c = (await creds.clientFor('deployment-controller', 'deployment')) as unknown as Fake;
    expect(calls).toEqual(['get kube-system/node-controller', 'create kube-system/node-controller', 'token kube-system/node-controller 3600s', 'get kube-system/deployment-controller', 'token kube-system/deployment-controller 3600s']);
    expect([a.account, a.part, a.token()]).toEqual(['node-controller', 'nodeipam', 'node-controller-1']);
    expect([b.account, b.part, b.token()]).toEqual(['node-controller', 'nodelifecycle', 'node-controller-1']);
    // The second account's connections are the first one's (neither carries a certificate).
    expect([c.token(), c.shared]).toEqual(['deployment-controller-2', 'node-controller']);
  });

  test('an account made meanwhile by another manager is used as it is', async () => {
    const { root, calls } = fakeRoot({ lifetimeMs: 3600_000, createRace: true });
    creds = new ServiceAccountCredentials({ root });
    const c = (await creds.clientFor('job-controller', 'job')) as unknown as Fake;
    expect(c.token()).toBe('job-controller-1');
    expect(calls).toEqual(['get kube-system/job-controller', 'create kube-system/job-controller', 'token kube-system/job-controller 3600s']);
  });

  test('renews the token at 80% of its lifetime; a failed renewal keeps the old token and is tried again', async () => {
    let failing = false;
    const { root, calls } = fakeRoot({ existing: ['job-controller'], lifetimeMs: 1500, failTokens: () => failing });
    creds = new ServiceAccountCredentials({ root, retryMs: 200 });
    const c = (await creds.clientFor('job-controller', 'job')) as unknown as Fake;
    expect(c.token()).toBe('job-controller-1');
    await new Promise((r) => setTimeout(r, 1400));
    expect(c.token()).toBe('job-controller-2');
    failing = true;
    await new Promise((r) => setTimeout(r, 1400));
    expect(c.token()).toBe('job-controller-2');
    const failed = calls.filter((x) => x.startsWith('token')).length;
    failing = false;
    await new Promise((r) => setTimeout(r, 400));
    expect(c.token()).toBe('job-controller-3');
    expect(failed).toBeGreaterThanOrEqual(3);
  });

  test('a failure to get the account rejects, and the next call tries again', async () => {
    let fail = true;
    const { root } = fakeRoot({ existing: ['job-controller'], lifetimeMs: 3600_000, failTokens: () => fail });
    creds = new ServiceAccountCredentials({ root });
    await expect(creds.clientFor('job-controller', 'job')).rejects.toThrow(/connection refused/);
    fail = false;
    expect(((await creds.clientFor('job-controller', 'job')) as unknown as Fake).token()).toBe('job-controller-1');
  });
});
