/** The event recorder against the real API server. */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Event, Pod } from '../../lib/api/index.js';
import { EventBroadcaster, RESTClient, Resources, loadClientConfig } from '../../lib/client/index.js';
import { startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { kubectls, runKubectl } from '../support/kubectl.js';

let s: TestAPIServer;
let client: RESTClient;
beforeAll(async () => {
  s = await startAPIServer();
  client = new RESTClient({ config: loadClientConfig({ kubeconfig: s.kubeconfig, env: {} }), component: 'events-test', qps: 0 });
});
afterAll(async () => {
  client?.close();
  await s?.stop();
});

test('five identical events become one Event with count 5, which kubectl shows', async () => {
  const pod = await client.resource(Resources.pods, 'default').create({
    metadata: { name: 'noisy' },
    spec: { containers: [{ name: 'app', image: 'busybox:1.36' }] },
  } as Pod);
  const b = new EventBroadcaster({ client });
  const ctl = new AbortController();
  const running = b.start(ctl.signal);
  const rec = b.newRecorder({ component: 'kubelet', host: 'node-1' });
  for (let i = 0; i < 5; i++) rec.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container app');
  rec.event(pod, 'Normal', 'Scheduled', 'Successfully assigned default/noisy to node-1');
  await b.flush();
  ctl.abort();
  await running;

  const list = await client.resource(Resources.events, 'default').list({ fieldSelector: 'involvedObject.name=noisy' });
  const backoff = list.items.filter((e: Event) => e.reason === 'BackOff');
  expect(backoff.length).toBe(1);
  expect(backoff[0]).toMatchObject({
    count: 5,
    type: 'Warning',
    involvedObject: { kind: 'Pod', name: 'noisy', namespace: 'default', uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion },
    source: { component: 'kubelet', host: 'node-1' },
  });
  expect(list.items.filter((e: Event) => e.reason === 'Scheduled').length).toBe(1);
  const k = kubectls()[0];
  if (!k) return; // no kubectl on this machine: the API checks above stand alone
  const out = await runKubectl(k, s.kubeconfig, ['get', 'events', '--field-selector', 'reason=BackOff', '-o', 'custom-columns=COUNT:.count,REASON:.reason,OBJECT:.involvedObject.name', '--no-headers']);
  expect(out.code, out.stderr).toBe(0);
  expect(out.stdout.trim().split(/\s+/)).toEqual(['5', 'BackOff', 'noisy']);
});
