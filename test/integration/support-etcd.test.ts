/**
 * The test harness's etcd: tests start members in parallel, and a port found free can be taken
 * by another process before etcd binds it (a CI run failed that way). The start must survive it.
 */
import net from 'node:net';
import { expect, test } from 'vitest';
import { startEtcd } from '../support/etcd.js';
import { freePort } from '../support/ports.js';

test('a member whose port was taken meanwhile is started again on other ports', async () => {
  // The first port handed out is already in use by someone else when etcd binds it.
  const squatter = net.createServer();
  await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
  const taken = (squatter.address() as net.AddressInfo).port;
  let calls = 0;
  const etcd = await startEtcd({ port: async () => (calls++ === 0 ? taken : freePort()) });
  try {
    expect(etcd.endpoints[0]).not.toContain(`:${taken}`);
    const r = await fetch(`${etcd.endpoints[0]}/health`);
    expect(JSON.parse(await r.text())).toMatchObject({ health: 'true' });
    expect(calls).toBeGreaterThan(2);
  } finally {
    await etcd.stop();
    squatter.close();
  }
}, 60_000);
