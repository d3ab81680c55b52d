import crypto from 'node:crypto';
import nacl from 'tweetnacl';
import { describe, expect, test } from 'vitest';
import { aesCBC, aesGCM, identity, PrefixTransformers, secretbox } from './transformer.js';
import { encryptionTransformer, parseEncryptionConfig } from './config.js';

const k = (n = 32) => crypto.randomBytes(n);
const plain = Buffer.from('{"kind":"Secret","data":{"a":"Yg=="}}');

describe('providers', () => {
  test.each([
    ['aescbc', (key: Buffer) => aesCBC('key1', key), 'k8s:enc:aescbc:v1:key1:'],
    ['aesgcm', (key: Buffer) => aesGCM('key1', key), 'k8s:enc:aesgcm:v1:key1:'],
    ['secretbox', (key: Buffer) => secretbox('key1', key), 'k8s:enc:secretbox:v1:key1:'],
  ])('%s: prefixed, random each time, round-trips, and fails under another key', (_n, make, prefix) => {
    const key = k();
    const t = new PrefixTransformers([make(key)]);
    const a = t.toStorage('/registry/secrets/ns/x', plain);
    const b = t.toStorage('/registry/secrets/ns/x', plain);
    expect(a.subarray(0, prefix.length).toString()).toBe(prefix);
    expect(a.equals(b)).toBe(false);
    expect(a.includes(plain)).toBe(false);
    expect(t.fromStorage('/registry/secrets/ns/x', a)).toEqual(plain);
    expect(() => new PrefixTransformers([make(k())]).fromStorage('/registry/secrets/ns/x', a)).toThrow();
  });

  test('aesgcm binds the ciphertext to its etcd key (copying it to another key fails)', () => {
    const t = new PrefixTransformers([aesGCM('k', k())]);
    const sealed = t.toStorage('/registry/secrets/a/x', plain);
    expect(() => t.fromStorage('/registry/secrets/b/x', sealed)).toThrow();
  });

  test('formats are upstream\'s: cbc = IV + blocks, gcm = nonce + ciphertext + tag, secretbox = nonce + box', () => {
    const key = k();
    const cbc = aesCBC('k', key).seal('x', plain);
    const d = crypto.createDecipheriv('aes-256-cbc', key, cbc.subarray(0, 16));
    expect(Buffer.concat([d.update(cbc.subarray(16)), d.final()])).toEqual(plain);
    const gcm = aesGCM('k', key).seal('/key', plain);
    const g = crypto.createDecipheriv('aes-256-gcm', key, gcm.subarray(0, 12));
    g.setAAD(Buffer.from('/key'));
    g.setAuthTag(gcm.subarray(gcm.length - 16));
    expect(Buffer.concat([g.update(gcm.subarray(12, gcm.length - 16)), g.final()])).toEqual(plain);
    const box = secretbox('k', key).seal('x', plain);
    const opened = nacl.secretbox.open(new Uint8Array(box.subarray(24)), new Uint8Array(box.subarray(0, 24)), new Uint8Array(key));
    expect(opened && Buffer.from(opened)).toEqual(plain);
    expect(box.length).toBe(24 + 16 + plain.length);
  });

  test('the first provider writes, every provider reads; identity reads only unencrypted data', () => {
    const old = aesCBC('old', k());
    const cur = aesGCM('new', k());
    const before = new PrefixTransformers([old, identity]).toStorage('x', plain);
    const t = new PrefixTransformers([cur, old, identity]);
    expect(t.fromStorage('x', before)).toEqual(plain);
    expect(t.fromStorage('x', plain)).toEqual(plain);
    expect(t.toStorage('x', plain).subarray(0, 22).toString()).toBe('k8s:enc:aesgcm:v1:new:');
    const plainFirst = new PrefixTransformers([identity, cur]);
    expect(plainFirst.toStorage('x', plain)).toEqual(plain);
    expect(() => new PrefixTransformers([identity]).fromStorage('x', before)).toThrow(/no matching prefix/);
    expect(() => new PrefixTransformers([cur]).fromStorage('x', plain)).toThrow(/no matching prefix/);
  });
});

describe('EncryptionConfiguration', () => {
  const cfg = (providers: string, resources = '[secrets]') => `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: ${resources}
  providers:
${providers}`;

  test('resources pick their rule: exact names, *.group and *.*', () => {
    const rules = parseEncryptionConfig(`apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets, configmaps]
  providers: [{aescbc: {keys: [{name: a, secret: ${k().toString('base64')}}]}}]
- resources: ['*.apps']
  providers: [{aesgcm: {keys: [{name: b, secret: ${k(16).toString('base64')}}]}}]
`);
    const layout: Record<string, { resource: string; group: string }> = {
      '/registry/secrets/': { resource: 'secrets', group: '' },
      '/registry/deployments/': { resource: 'deployments', group: 'apps' },
      '/registry/pods/': { resource: 'pods', group: '' },
    };
    const t = encryptionTransformer(rules, (key) => Object.entries(layout).find(([p]) => key.startsWith(p))?.[1]);
    expect(t.toStorage('/registry/secrets/ns/a', plain).subarray(0, 20).toString()).toBe('k8s:enc:aescbc:v1:a:');
    expect(t.toStorage('/registry/deployments/ns/a', plain).subarray(0, 20).toString()).toBe('k8s:enc:aesgcm:v1:b:');
    expect(t.toStorage('/registry/pods/ns/a', plain)).toEqual(plain);
    expect(() => t.fromStorage('/registry/pods/ns/a', Buffer.from('k8s:enc:aescbc:v1:a:xxxx'))).toThrow(/no encryption provider/);
  });

  test.each([
    [cfg('  - aescbc:\n      keys:\n      - name: a\n        secret: ' + k(7).toString('base64')), 'aescbc keys are 16, 24, 32 bytes; this one is 7'],
    [cfg('  - secretbox:\n      keys:\n      - name: a\n        secret: ' + k(16).toString('base64')), 'secretbox keys are 32 bytes; this one is 16'],
    [cfg('  - aescbc:\n      keys: []'), 'at least one key is required'],
    [cfg('  - kms: {name: x}'), 'provider "kms" is not supported'],
    [cfg('  - identity: {}\n    aescbc: {}'), 'exactly one provider type must be given'],
    [cfg('  - aescbc:\n      keys:\n      - name: a\n        secret: ' + k().toString('base64') + '\n      - name: a\n        secret: ' + k().toString('base64')), 'duplicate key name "a"'],
    ['kind: Something', 'kind must be EncryptionConfiguration'],
  ])('refuses bad configurations (%#)', (text, message) => {
    expect(() => parseEncryptionConfig(text)).toThrow(message);
  });
});
