/**
 * --encryption-provider-config: upstream's EncryptionConfiguration (apiserver.config.k8s.io/v1).
 *
 *   apiVersion: apiserver.config.k8s.io/v1
 *   kind: EncryptionConfiguration
 *   resources:
 *   - resources: [secrets]            # or configmaps, deployments.apps, *.apps, *.*
 *     providers:                      # the first writes; all read
 *     - aescbc: {keys: [{name: key1, secret: <base64 of 16, 24 or 32 bytes>}]}
 *     - aesgcm: {keys: [...]}         # 16, 24 or 32 bytes
 *     - secretbox: {keys: [...]}      # 32 bytes
 *     - identity: {}
 *
 * The first matching entry of `resources` decides for a resource.
 */
import fs from 'node:fs';
import { parse } from 'yaml';
import { aesCBC, aesGCM, identity, PrefixTransformers, ResourceTransformers, secretbox, type PrefixedTransformer } from './transformer.js';

interface KeyConfig {
  name?: unknown;
  secret?: unknown;
}

const keySizes: Record<string, number[]> = { aescbc: [16, 24, 32], aesgcm: [16, 24, 32], secretbox: [32] };

function keysOf(kind: string, cfg: unknown, where: string): PrefixedTransformer[] {
  const keys = (cfg as { keys?: KeyConfig[] } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new Error(`${where}.${kind}.keys: at least one key is required`);
  const names = new Set<string>();
  return keys.map((k, i) => {
    const at = `${where}.${kind}.keys[${i}]`;
    if (typeof k.name !== 'string' || k.name === '') throw new Error(`${at}.name: required`);
    if (k.name.includes(':')) throw new Error(`${at}.name: may not contain ':'`);
    if (names.has(k.name)) throw new Error(`${at}.name: duplicate key name "${k.name}"`);
    names.add(k.name);
    if (typeof k.secret !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(k.secret)) throw new Error(`${at}.secret: must be base64`);
    const secret = Buffer.from(k.secret, 'base64');
    if (!keySizes[kind]!.includes(secret.length)) throw new Error(`${at}.secret: ${kind} keys are ${keySizes[kind]!.join(', ')} bytes; this one is ${secret.length}`);
    if (kind === 'aescbc') return aesCBC(k.name, secret);
    if (kind === 'aesgcm') return aesGCM(k.name, secret);
    return secretbox(k.name, secret);
  });
}

export interface EncryptionRule {
  /** resource or resource.group; '*.group' and '*.*' as wildcards. */
  resources: string[];
  transformers: PrefixTransformers;
}

export function parseEncryptionConfig(text: string): EncryptionRule[] {
  const doc = parse(text) as { apiVersion?: string; kind?: string; resources?: { resources?: string[]; providers?: Record<string, unknown>[] }[] };
  if (doc?.kind !== 'EncryptionConfiguration') throw new Error('kind must be EncryptionConfiguration');
  if (doc.apiVersion !== 'apiserver.config.k8s.io/v1') throw new Error('apiVersion must be apiserver.config.k8s.io/v1');
  if (!Array.isArray(doc.resources) || doc.resources.length === 0) throw new Error('resources: at least one entry is required');
  return doc.resources.map((r, i) => {
    const where = `resources[${i}]`;
    if (!Array.isArray(r.resources) || r.resources.length === 0) throw new Error(`${where}.resources: at least one resource is required`);
    if (!Array.isArray(r.providers) || r.providers.length === 0) throw new Error(`${where}.providers: at least one provider is required`);
    const providers: PrefixedTransformer[] = [];
    r.providers.forEach((p, j) => {
      const kinds = Object.keys(p ?? {});
      if (kinds.length !== 1) throw new Error(`${where}.providers[${j}]: exactly one provider type must be given`);
      const kind = kinds[0]!;
      if (kind === 'identity') providers.push(identity);
      else if (kind in keySizes) providers.push(...keysOf(kind, p[kind], `${where}.providers[${j}]`));
      else throw new Error(`${where}.providers[${j}]: provider "${kind}" is not supported (aescbc, aesgcm, secretbox, identity)`);
    });
    return { resources: r.resources, transformers: new PrefixTransformers(providers) };
  });
}

function matches(pattern: string, resource: string, group: string): boolean {
  const full = group ? `${resource}.${group}` : resource;
  if (pattern === '*.*' || pattern === full) return true;
  // "*." is every resource of the core group; "*.apps" every resource of apps.
  if (pattern.startsWith('*.')) return pattern.slice(2) === group;
  return false;
}

/**
 * The transformer for Etcd3Storage: `resourceOfKey` maps an etcd key to its resource and
 * group (from the registry's key layout).
 */
export function encryptionTransformer(rules: EncryptionRule[], resourceOfKey: (key: string) => { resource: string; group: string } | undefined): ResourceTransformers {
  const memo = new Map<string, PrefixTransformers | undefined>();
  return new ResourceTransformers((key) => {
    const r = resourceOfKey(key);
    if (!r) return undefined;
    const id = `${r.group}/${r.resource}`;
    if (!memo.has(id)) memo.set(id, rules.find((rule) => rule.resources.some((p) => matches(p, r.resource, r.group)))?.transformers);
    return memo.get(id);
  });
}

export function loadEncryptionConfig(file: string): EncryptionRule[] {
  try {
    return parseEncryptionConfig(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`--encryption-provider-config=${file}: ${(err as Error).message}`, { cause: err });
  }
}
