/**
 * Request limits: --max-requests-inflight and --max-mutating-requests-inflight answer 429 with
 * Retry-After past their limits (watches do not count), and --request-timeout answers 504.
 * Storage is made slow on purpose to hold requests in flight.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { KubeObject } from '../../lib/api/index.js';
import { MemoryStorage } from '../../lib/storage/index.js';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';

/** Delays reads and creates of keys containing "slow" by `delayMs`. */
class SlowStorage extends MemoryStorage {
  delayMs = 0;
  override async get(key: string): Promise<KubeObject | null> {
    if (key.includes('slow')) await new Promise((r) => setTimeout(r, this.delayMs));
    return super.get(key);
  }
  override async create(key: string, obj: KubeObject): Promise<KubeObject> {
    if (key.includes('slow')) await new Promise((r) => setTimeout(r, this.delayMs));
    return super.create(key, obj);
  }
}

let s: TestAPIServer;
const storage = new SlowStorage();
beforeAll(async () => {
  s = await startAPIServer({ storage, maxRequestsInflight: 1, maxMutatingRequestsInflight: 1, requestTimeoutMs: 1500 });
  expect((await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'slow' } })).status).toBe(201);
});
afterAll(async () => s?.stop());

describe('limits', () => {
  test('past --max-requests-inflight: 429 with Retry-After and a Status', async () => {
    storage.delayMs = 800;
    const first = api(s.url, 'GET', '/api/v1/namespaces/default/configmaps/slow');
    await new Promise((r) => setTimeout(r, 100));
    const second = await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps/fast');
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('1');
    expect(second.body).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', code: 429, message: 'Too many requests, please try again later.', details: { retryAfterSeconds: 1 } });
    // A mutating request has its own budget.
    expect((await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'during' } })).status).toBe(201);
    expect((await first).status).toBe(200);
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps/fast')).status).toBe(404);
  });

  test('past --max-mutating-requests-inflight: 429; reads still pass', async () => {
    storage.delayMs = 800;
    const first = api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'slow-2' } });
    await new Promise((r) => setTimeout(r, 100));
    const second = await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'other' } });
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('1');
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps')).status).toBe(200);
    expect((await first).status).toBe(201);
  });

  test('watches are long-running and do not hold a slot', async () => {
    storage.delayMs = 0;
    const ctl = new AbortController();
    const watch = await fetch(`${s.url}/api/v1/namespaces/default/configmaps?watch=1`, { signal: ctl.signal });
    expect(watch.status).toBe(200);
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps')).status).toBe(200);
    ctl.abort();
  });

  test('past --request-timeout: 504', async () => {
    storage.delayMs = 3000;
    const started = Date.now();
    const r = await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps/slow');
    expect(r.status).toBe(504);
    expect(r.body).toMatchObject({ kind: 'Status', reason: 'Timeout', code: 504 });
    expect(Date.now() - started).toBeLessThan(2900);
    storage.delayMs = 0;
  });
});
