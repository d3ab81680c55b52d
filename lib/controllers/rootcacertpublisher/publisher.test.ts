import { afterEach, expect, test } from 'vitest';
import type { ConfigMap } from '../../api/index.js';
import { Resources } from '../../client/index.js';
import { createAll, eventually, fakeEnv, makeNamespace, type FakeEnv } from '../../../test/support/controllers.js';
import { RootCACertPublisher, rootCADescription } from './publisher.js';

let env: FakeEnv | undefined;
let running: Promise<void> | undefined;
afterEach(async () => {
  await env?.stop();
  await running;
});

const ca = '-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n';

test('every active namespace gets kube-root-ca.crt; deleted or edited, it comes back; other keys are kept', async () => {
  env = fakeEnv();
  const c = new RootCACertPublisher({ client: env.client, informers: env.informers, rootCA: ca });
  await env.startInformers();
  running = c.start(env.signal);
  const terminating = { ...makeNamespace('going'), status: { phase: 'Terminating' as const } };
  await createAll(env.client, [makeNamespace('a'), makeNamespace('b'), terminating]);
  const cms = (ns: string) => env!.client.resource(Resources.configMaps, ns);
  const get = (ns: string) => cms(ns).get('kube-root-ca.crt').catch(() => undefined) as Promise<ConfigMap | undefined>;

  await eventually(async () => (await get('a'))?.data?.['ca.crt'] === ca && (await get('b'))?.data?.['ca.crt'] === ca);
  expect((await get('a'))?.metadata.annotations?.['kubernetes.io/description']).toBe(rootCADescription);
  expect(await get('going')).toBeUndefined();

  await cms('a').delete('kube-root-ca.crt');
  await eventually(async () => (await get('a'))?.data?.['ca.crt'] === ca);

  const cur = (await get('b'))!;
  await cms('b').update({ ...cur, data: { 'ca.crt': 'tampered', extra: 'mine' } });
  await eventually(async () => (await get('b'))?.data?.['ca.crt'] === ca);
  expect((await get('b'))?.data?.extra).toBe('mine');
});
