/**
 * Secrets encrypted at rest: what etcd holds (read with the real etcdctl) is
 * k8s:enc:<provider>:v1:<key>:ciphertext; the API serves plaintext; keys rotate (first provider
 * writes, all read) and identity reads what was stored before encryption was turned on.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { startEtcd, type EtcdCluster } from '../support/etcd.js';

let etcd: EtcdCluster;
let dir: string;
const key32 = () => crypto.randomBytes(32).toString('base64');
const keys = { cbc: key32(), gcm: key32(), box: key32() };

function config(name: string, providers: string): string {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(
    file,
    `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets]
  providers:
${providers}`,
    { mode: 0o600 },
  );
  return file;
}
const aescbc = `  - aescbc:\n      keys:\n      - name: key1\n        secret: ${keys.cbc}\n`;
const aesgcm = `  - aesgcm:\n      keys:\n      - name: key2\n        secret: ${keys.gcm}\n`;
const box = `  - secretbox:\n      keys:\n      - name: key3\n        secret: ${keys.box}\n`;
const identity = `  - identity: {}\n`;

function etcdctlGet(key: string): Buffer {
  return execFileSync('etcdctl', ['--endpoints', etcd.endpoints.join(','), 'get', key, '--print-value-only'], { env: { ...process.env, ETCDCTL_API: '3' } });
}

async function withServer<T>(encryptionProviderConfig: string | undefined, fn: (s: TestAPIServer) => Promise<T>): Promise<T> {
  const s = await startAPIServer({ etcd, encryptionProviderConfig });
  try {
    return await fn(s);
  } finally {
    await s.stop();
  }
}

const secret = (name: string) => ({ metadata: { name }, stringData: { password: 'hunter2' } });

beforeAll(async () => {
  etcd = await startEtcd();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-enc-'));
});
afterAll(async () => {
  await etcd?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('encryption at rest', () => {
  test('before encryption: plaintext in etcd', async () => {
    await withServer(undefined, async (s) => {
      expect((await api(s.url, 'POST', '/api/v1/namespaces/default/secrets', secret('plain'))).status).toBe(201);
    });
    expect(etcdctlGet('/registry/secrets/default/plain').toString()).toContain('"kind":"Secret"');
  });

  test('aescbc: etcd holds k8s:enc:aescbc:v1:key1: and ciphertext; the API serves the secret; configmaps stay plain', async () => {
    await withServer(config('cbc', aescbc + identity), async (s) => {
      expect((await api(s.url, 'POST', '/api/v1/namespaces/default/secrets', secret('cbc'))).status).toBe(201);
      await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'open' }, data: { a: 'b' } });
      const raw = etcdctlGet('/registry/secrets/default/cbc');
      const prefix = 'k8s:enc:aescbc:v1:key1:';
      expect(raw.subarray(0, prefix.length).toString()).toBe(prefix);
      expect(raw.toString('latin1')).not.toContain('hunter2');
      expect(raw.toString('latin1')).not.toContain(Buffer.from('hunter2').toString('base64'));
      // The format is upstream's: a 16-byte IV, then AES-256-CBC with PKCS#7 padding.
      const body = raw.subarray(prefix.length).subarray(0, -1); // etcdctl adds a newline
      const d = crypto.createDecipheriv('aes-256-cbc', Buffer.from(keys.cbc, 'base64'), body.subarray(0, 16));
      const plain = JSON.parse(Buffer.concat([d.update(body.subarray(16)), d.final()]).toString());
      expect(plain.data.password).toBe(Buffer.from('hunter2').toString('base64'));
      const got = await api(s.url, 'GET', '/api/v1/namespaces/default/secrets/cbc');
      expect(got.body.data.password).toBe(Buffer.from('hunter2').toString('base64'));
      // Stored before encryption was on: still readable (identity reads it).
      expect((await api(s.url, 'GET', '/api/v1/namespaces/default/secrets/plain')).status).toBe(200);
      expect(etcdctlGet('/registry/configmaps/default/open').toString()).toContain('"kind":"ConfigMap"');
      // Lists and watches decrypt too.
      const list = await api(s.url, 'GET', '/api/v1/namespaces/default/secrets');
      expect(list.body.items.map((i: any) => i.metadata.name)).toEqual(expect.arrayContaining(['cbc', 'plain']));
    });
  });

  test('rotation: aesgcm first writes, aescbc still reads; then secretbox', async () => {
    await withServer(config('gcm', aesgcm + aescbc + identity), async (s) => {
      expect((await api(s.url, 'GET', '/api/v1/namespaces/default/secrets/cbc')).body.data.password).toBe(Buffer.from('hunter2').toString('base64'));
      expect((await api(s.url, 'POST', '/api/v1/namespaces/default/secrets', secret('gcm'))).status).toBe(201);
      expect(etcdctlGet('/registry/secrets/default/gcm').subarray(0, 23).toString()).toBe('k8s:enc:aesgcm:v1:key2:');
      // Rewriting an old secret re-encrypts it with the first provider.
      const cur = (await api(s.url, 'GET', '/api/v1/namespaces/default/secrets/cbc')).body;
      expect((await api(s.url, 'PUT', '/api/v1/namespaces/default/secrets/cbc', { ...cur, metadata: { ...cur.metadata, labels: { rotated: 'yes' } } })).status).toBe(200);
      expect(etcdctlGet('/registry/secrets/default/cbc').subarray(0, 23).toString()).toBe('k8s:enc:aesgcm:v1:key2:');
    });
    await withServer(config('box', box + aesgcm + identity), async (s) => {
      expect((await api(s.url, 'POST', '/api/v1/namespaces/default/secrets', secret('box'))).status).toBe(201);
      expect(etcdctlGet('/registry/secrets/default/box').subarray(0, 26).toString()).toBe('k8s:enc:secretbox:v1:key3:');
      for (const n of ['box', 'gcm', 'cbc', 'plain']) expect((await api(s.url, 'GET', `/api/v1/namespaces/default/secrets/${n}`)).body.data.password, n).toBe(Buffer.from('hunter2').toString('base64'));
    });
  });

  test('a bad configuration stops the API server from starting', async () => {
    await expect(startAPIServer({ etcd, encryptionProviderConfig: config('bad', `  - aescbc:\n      keys:\n      - name: short\n        secret: ${crypto.randomBytes(7).toString('base64')}\n`) })).rejects.toThrow(
      /aescbc keys are 16, 24, 32 bytes; this one is 7/,
    );
  });
});
