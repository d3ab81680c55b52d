import { describe, expect, it } from 'vitest';
import type { Secret } from '../../api/index.js';
import { credentialsFor, parseImageRef } from './pull-secrets.js';

const dockerconfigjson = (auths: Record<string, unknown>): Secret => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'pull', namespace: 'ns' },
  type: 'kubernetes.io/dockerconfigjson',
  data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths })).toString('base64') },
});

describe('parseImageRef', () => {
  it.each([
    ['busybox', 'docker.io', 'library/busybox'],
    ['busybox:1.36', 'docker.io', 'library/busybox'],
    ['team/app:2', 'docker.io', 'team/app'],
    ['docker.io/library/nginx@sha256:abc', 'docker.io', 'library/nginx'],
    ['registry.example.com:5000/team/app:1', 'registry.example.com:5000', 'team/app'],
    ['localhost/app', 'localhost', 'app'],
  ])('%s → %s %s', (image, registry, repository) => {
    expect(parseImageRef(image)).toEqual({ registry, repository });
  });
});

describe('credentialsFor (imagePullSecrets)', () => {
  const auth = (u: string, p: string) => Buffer.from(`${u}:${p}`).toString('base64');

  it('matches the registry host, most specific path first, decoding auth', () => {
    const s = dockerconfigjson({
      'registry.example.com': { auth: auth('general', 'g') },
      'https://registry.example.com/team': { username: 'team', password: 't' },
      'other.example.com': { username: 'x', password: 'y' },
    });
    expect(credentialsFor('registry.example.com/team/app:1', [s]).map((c) => c.username)).toEqual(['team', 'general']);
    expect(credentialsFor('registry.example.com/else/app:1', [s]).map((c) => c.username)).toEqual(['general']);
    expect(credentialsFor('registry.example.com/else/app:1', [s])[0]).toEqual({ serverAddress: 'registry.example.com', username: 'general', password: 'g' });
  });

  it('knows the Docker Hub by all its names', () => {
    const s = dockerconfigjson({ 'https://index.docker.io/v1/': { username: 'hub', password: 'h' } });
    expect(credentialsFor('busybox', [s]).map((c) => c.username)).toEqual(['hub']);
    expect(credentialsFor('docker.io/team/app', [s]).map((c) => c.username)).toEqual(['hub']);
    expect(credentialsFor('quay.io/team/app', [s])).toEqual([]);
  });

  it('matches wildcard hosts on one label only, after exact hosts', () => {
    const s = dockerconfigjson({ '*.example.com': { username: 'wild', password: 'w' }, 'eu.example.com': { username: 'eu', password: 'e' } });
    expect(credentialsFor('eu.example.com/app', [s]).map((c) => c.username)).toEqual(['eu', 'wild']);
    expect(credentialsFor('us.example.com/app', [s]).map((c) => c.username)).toEqual(['wild']);
    expect(credentialsFor('a.b.example.com/app', [s])).toEqual([]);
  });

  it('reads legacy .dockercfg secrets and ignores malformed ones', () => {
    const legacy: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'old' }, type: 'kubernetes.io/dockercfg', data: { '.dockercfg': Buffer.from(JSON.stringify({ 'reg.example.com': { auth: Buffer.from('old:pw').toString('base64') } })).toString('base64') } };
    const broken: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'broken' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from('{nope').toString('base64') } };
    expect(credentialsFor('reg.example.com/app', [broken, legacy])).toEqual([{ serverAddress: 'reg.example.com', username: 'old', password: 'pw' }]);
  });
});
