import crypto from 'node:crypto';
import { afterEach, expect, test } from 'vitest';
import type { KubeObject, Secret } from '../../api/index.js';
import { verificationKeysFromPEM } from '../../apiserver/authn/jwt.js';
import { ServiceAccountTokenAuthenticator } from '../../apiserver/authn/serviceaccount.js';
import { Resources } from '../../client/index.js';
import { eventually, fakeEnv, type FakeEnv } from '../../../test/support/controllers.js';
import { TokensController } from './tokens-controller.js';

let env: FakeEnv | undefined;
let running: Promise<void> | undefined;
afterEach(async () => {
  await env?.stop();
  await running;
});

const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
const ca = '-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n';
const tokenSecret = (name: string, account: string, extra: Record<string, string> = {}): Secret => ({
  apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token',
  metadata: { name, namespace: 'a', annotations: { 'kubernetes.io/service-account.name': account, ...extra } },
});
const decode = (v: string | undefined) => (v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8'));

async function setup() {
  env = fakeEnv();
  const c = new TokensController({ client: env.client, informers: env.informers, privateKey, rootCA: ca });
  await env.startInformers();
  running = c.start(env.signal);
  const secrets = env.client.resource(Resources.secrets, 'a');
  const accounts = env.client.resource(Resources.serviceAccounts, 'a');
  const get = (name: string) => secrets.get(name).catch(() => undefined) as Promise<Secret | undefined>;
  return { secrets, accounts, get };
}

test('a token secret of an account gets a legacy token the API server accepts, ca.crt, namespace and the account UID', async () => {
  const { secrets, accounts, get } = await setup();
  const sa = await accounts.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'a' } });
  await secrets.create(tokenSecret('robot-token', 'robot'));
  await secrets.create({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'plain', namespace: 'a', annotations: { 'kubernetes.io/service-account.name': 'robot' } } });
  const s = await eventually(async () => {
    const x = await get('robot-token');
    return x?.data?.token ? x : undefined;
  });
  expect(decode(s.data!['ca.crt'])).toBe(ca);
  expect(decode(s.data!.namespace)).toBe('a');
  expect(s.metadata.annotations?.['kubernetes.io/service-account.uid']).toBe(sa.metadata.uid);
  expect((await get('plain'))?.data).toBeUndefined();

  // What the API server's authenticator makes of it (lib/apiserver/authn/serviceaccount.ts).
  const token = decode(s.data!.token)!;
  const objects = new Map<string, KubeObject>([[`serviceaccounts/robot`, sa], ['secrets/robot-token', s]]);
  const authn = new ServiceAccountTokenAuthenticator({ keys: verificationKeysFromPEM(publicKey), issuers: ['https://kubernetes.default.svc.cluster.local'], get: async (r, _ns, name) => objects.get(`${r}/${name}`) ?? null });
  const r = await authn.authenticateToken(token, ['https://kubernetes.default.svc.cluster.local']);
  expect(r?.user.username).toBe('system:serviceaccount:a:robot');
  expect(r?.user.uid).toBe(sa.metadata.uid);
  expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())).toMatchObject({ iss: 'kubernetes/serviceaccount', 'kubernetes.io/serviceaccount/secret.name': 'robot-token' });

  // A token that is there is kept; ca.crt tampered with is put back.
  await secrets.update({ ...s, data: { ...s.data, 'ca.crt': Buffer.from('x').toString('base64') } });
  await eventually(async () => decode((await get('robot-token'))?.data?.['ca.crt']) === ca);
  expect((await get('robot-token'))?.data?.token).toBe(s.data!.token);
});

test('a secret naming a missing account, or another account of that name, is deleted; so are an account\'s secrets when it goes', async () => {
  const { secrets, accounts, get } = await setup();
  await secrets.create(tokenSecret('ghost-token', 'ghost'));
  await accounts.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'a' } });
  await secrets.create(tokenSecret('stale-token', 'robot', { 'kubernetes.io/service-account.uid': 'not-this-one' }));
  await secrets.create(tokenSecret('robot-token', 'robot'));
  await eventually(async () => (await get('ghost-token')) === undefined && (await get('stale-token')) === undefined);
  await eventually(async () => !!(await get('robot-token'))?.data?.token);
  await accounts.delete('robot');
  await eventually(async () => (await get('robot-token')) === undefined);
});
