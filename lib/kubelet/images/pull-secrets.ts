/**
 * Registry credentials from a pod's imagePullSecrets: Secrets of type
 * kubernetes.io/dockerconfigjson (`.dockerconfigjson`: {"auths": {"<registry>": {...}}}) or the
 * older kubernetes.io/dockercfg (`.dockercfg`: {"<registry>": {...}}). An entry matches an
 * image when its host matches the image's registry (a leading `*.` matches one label) and its
 * path, if any, is a prefix of the image's repository; the most specific entries come first,
 * as with upstream's keyring.
 */
import type { Secret } from '../../api/index.js';

export interface RegistryCredential {
  username?: string;
  password?: string;
  identityToken?: string;
  serverAddress: string;
}

interface AuthEntry {
  username?: string;
  password?: string;
  auth?: string;
  identitytoken?: string;
}

const dockerHubHosts = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** Splits an image reference into its registry host and repository path (`busybox` → docker.io, library/busybox). */
export function parseImageRef(image: string): { registry: string; repository: string } {
  let rest = image.split('@')[0]!;
  const slash = rest.indexOf('/');
  let registry = 'docker.io';
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }
  // Drop the tag (a ':' after the last '/').
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  let repository = colon >= 0 ? rest.slice(0, colon) : rest;
  if (dockerHubHosts.has(registry) && !repository.includes('/')) repository = `library/${repository}`;
  return { registry: dockerHubHosts.has(registry) ? 'docker.io' : registry, repository };
}

/** A config key (`https://index.docker.io/v1/`, `registry.example.com:5000/team`) as host and path. */
function parseKey(key: string): { host: string; path: string } {
  let k = key.replace(/^[a-z]+:\/\//i, '');
  k = k.replace(/\/+$/, '');
  const slash = k.indexOf('/');
  let host = slash >= 0 ? k.slice(0, slash) : k;
  let p = slash >= 0 ? k.slice(slash + 1) : '';
  if (dockerHubHosts.has(host)) {
    host = 'docker.io';
    // The Docker Hub's legacy key carries the API version as its path.
    if (p === 'v1' || p === 'v2') p = '';
  }
  return { host, path: p };
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (!pattern.startsWith('*.')) return false;
  const suffix = pattern.slice(1);
  return host.endsWith(suffix) && !host.slice(0, -suffix.length).includes('.');
}

function entriesOf(secret: Secret): Record<string, AuthEntry> {
  const data = secret.data ?? {};
  try {
    if (secret.type === 'kubernetes.io/dockerconfigjson' && data['.dockerconfigjson']) {
      return (JSON.parse(Buffer.from(data['.dockerconfigjson'], 'base64').toString()) as { auths?: Record<string, AuthEntry> }).auths ?? {};
    }
    if (secret.type === 'kubernetes.io/dockercfg' && data['.dockercfg']) {
      return JSON.parse(Buffer.from(data['.dockercfg'], 'base64').toString()) as Record<string, AuthEntry>;
    }
  } catch {
    // A malformed secret gives no credentials; the pull then goes without them.
  }
  return {};
}

/** Credentials to try for `image`, best match first. */
export function credentialsFor(image: string, secrets: readonly Secret[]): RegistryCredential[] {
  const { registry, repository } = parseImageRef(image);
  const matches: Array<{ score: number; cred: RegistryCredential }> = [];
  for (const s of secrets) {
    for (const [key, e] of Object.entries(entriesOf(s))) {
      const k = parseKey(key);
      if (!hostMatches(k.host, registry)) continue;
      if (k.path && repository !== k.path && !repository.startsWith(`${k.path}/`)) continue;
      let { username, password } = e;
      if (e.auth && (!username || !password)) {
        const decoded = Buffer.from(e.auth, 'base64').toString();
        const i = decoded.indexOf(':');
        if (i > 0) {
          username = decoded.slice(0, i);
          password = decoded.slice(i + 1);
        }
      }
      const cred: RegistryCredential = { serverAddress: key };
      if (username) cred.username = username;
      if (password) cred.password = password;
      if (e.identitytoken) cred.identityToken = e.identitytoken;
      matches.push({ score: (k.host.startsWith('*.') ? 0 : 1000) + k.path.length, cred });
    }
  }
  return matches.sort((a, b) => b.score - a.score).map((m) => m.cred);
}
