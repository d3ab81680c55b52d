import { afterEach, expect, test } from 'vitest';
import { Resources } from '../../client/index.js';
import { createAll, eventually, fakeEnv, makeNamespace, type FakeEnv } from '../../../test/support/controllers.js';
import { ServiceAccountsController } from './serviceaccounts-controller.js';

let env: FakeEnv | undefined;
let running: Promise<void> | undefined;
afterEach(async () => {
  await env?.stop();
  await running;
});

test('every active namespace gets a default service account, recreated when deleted; terminating namespaces do not', async () => {
  env = fakeEnv();
  const c = new ServiceAccountsController({ client: env.client, informers: env.informers });
  await env.startInformers();
  running = c.start(env.signal);
  const terminating = { ...makeNamespace('going'), status: { phase: 'Terminating' as const } };
  await createAll(env.client, [makeNamespace('a'), makeNamespace('b'), terminating]);
  const sa = (ns: string) => env!.client.resource(Resources.serviceAccounts, ns).get('default').then(() => true, () => false);
  await eventually(async () => (await sa('a')) && (await sa('b')));
  expect(await sa('going')).toBe(false);
  await env.client.resource(Resources.serviceAccounts, 'a').delete('default');
  await eventually(() => sa('a'));
});
