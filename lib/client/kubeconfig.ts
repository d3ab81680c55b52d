/**
 * Client configuration: which API server to talk to and how to prove who we are. Loaded from
 * kubeconfig files (as kubectl and client-go's clientcmd do) or from a pod's service account
 * (in-cluster), with `--master` able to override the server.
 *
 * Loading order, as kubectl's: `--kubeconfig` (that file only, it must exist); otherwise the
 * files of $KUBECONFIG (colon-separated, merged, missing ones skipped); otherwise
 * ~/.kube/config if it exists; otherwise the in-cluster service account; otherwise `--master`
 * alone. Merging follows clientcmd: the first file to define a cluster, user or context by name
 * wins, and the first file to set current-context wins. Relative paths in a file are relative
 * to that file's directory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYAML } from 'yaml';

export interface ClientConfig {
  /** Base URL of the API server, e.g. `https://10.0.0.1:6443`. */
  server: string;
  /** Where the configuration came from (file names, `in-cluster`, `--master`), for messages. */
  source: string;
  /** The namespace of the context (or of the service account); `default` if none. */
  namespace: string;
  /** PEM CA bundle the server certificate must chain to; system roots when absent. */
  caData?: Buffer;
  insecureSkipTLSVerify?: boolean;
  /** Name to verify the server certificate against (and send as SNI) instead of the URL's host. */
  tlsServerName?: string;
  /** Client certificate and key (PEM). */
  certData?: Buffer;
  keyData?: Buffer;
  token?: string;
  /** Re-read periodically, so rotated service account tokens are picked up. */
  tokenFile?: string;
  username?: string;
  password?: string;
  impersonateUser?: string;
  impersonateGroups?: string[];
}

/** A configuration problem; the message names the file and what is missing or wrong. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface LoadConfigOptions {
  /** `--kubeconfig`: use exactly this file. */
  kubeconfig?: string;
  /** `--master`: the API server URL, overriding the cluster's server. */
  master?: string;
  /** `--context`: overrides current-context. */
  context?: string;
  /** `--cluster`, `--user`: override the context's cluster and user. */
  cluster?: string;
  user?: string;
  /** `--namespace`: overrides the context's namespace. */
  namespace?: string;
  /** Environment to read KUBECONFIG and KUBERNETES_SERVICE_* from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Home directory for ~/.kube/config (default os.homedir()). */
  homeDir?: string;
  /** Where the service account files are (default /var/run/secrets/kubernetes.io/serviceaccount). */
  serviceAccountDir?: string;
}

export const defaultServiceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

// ---- kubeconfig files ------------------------------------------------------------

interface Named<T> {
  name: string;
  value: T;
  /** The file it was defined in. */
  file: string;
}

export interface KubeconfigCluster {
  server?: string;
  certificateAuthority?: string;
  certificateAuthorityData?: string;
  insecureSkipTLSVerify?: boolean;
  tlsServerName?: string;
}

export interface KubeconfigUser {
  clientCertificate?: string;
  clientCertificateData?: string;
  clientKey?: string;
  clientKeyData?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  as?: string;
  asGroups?: string[];
  /** Present when the file uses a mechanism this client does not implement. */
  unsupported?: string;
}

export interface KubeconfigContext {
  cluster?: string;
  user?: string;
  namespace?: string;
}

/** One or more kubeconfig files merged. */
export interface Kubeconfig {
  files: string[];
  currentContext?: string;
  clusters: Map<string, Named<KubeconfigCluster>>;
  users: Map<string, Named<KubeconfigUser>>;
  contexts: Map<string, Named<KubeconfigContext>>;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function resolvePath(p: string | undefined, file: string): string | undefined {
  if (p === undefined) return undefined;
  if (p.startsWith('~/')) return path.join(os.homedir(), p.slice(2));
  return path.isAbsolute(p) ? p : path.resolve(path.dirname(file), p);
}

function entries(doc: Record<string, unknown>, key: string, inner: string, file: string): { name: string; body: Record<string, unknown> }[] {
  const list = doc[key];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new ConfigError(`kubeconfig ${file}: "${key}" must be a list`);
  return list.map((e, i) => {
    const o = (e ?? {}) as Record<string, unknown>;
    const name = str(o.name);
    if (!name) throw new ConfigError(`kubeconfig ${file}: ${key}[${i}] has no name`);
    const body = o[inner];
    return { name, body: body && typeof body === 'object' ? (body as Record<string, unknown>) : {} };
  });
}

/** Parses one kubeconfig file's text; `file` names it in errors and anchors relative paths. */
export function parseKubeconfig(text: string, file: string): Kubeconfig {
  let doc: unknown;
  try {
    doc = parseYAML(text);
  } catch (e) {
    throw new ConfigError(`kubeconfig ${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`kubeconfig ${file}: expected a mapping at the top level`);
  const d = doc as Record<string, unknown>;
  const out: Kubeconfig = { files: [file], currentContext: str(d['current-context']), clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const { name, body: c } of entries(d, 'clusters', 'cluster', file)) {
    if (out.clusters.has(name)) continue;
    out.clusters.set(name, {
      name,
      file,
      value: {
        server: str(c.server),
        certificateAuthority: resolvePath(str(c['certificate-authority']), file),
        certificateAuthorityData: str(c['certificate-authority-data']),
        insecureSkipTLSVerify: c['insecure-skip-tls-verify'] === true || c['insecure-skip-tls-verify'] === 'true',
        tlsServerName: str(c['tls-server-name']),
      },
    });
  }
  for (const { name, body: u } of entries(d, 'users', 'user', file)) {
    if (out.users.has(name)) continue;
    const unsupported = u.exec ? 'exec' : u['auth-provider'] ? 'auth-provider' : undefined;
    out.users.set(name, {
      name,
      file,
      value: {
        clientCertificate: resolvePath(str(u['client-certificate']), file),
        clientCertificateData: str(u['client-certificate-data']),
        clientKey: resolvePath(str(u['client-key']), file),
        clientKeyData: str(u['client-key-data']),
        token: str(u.token),
        tokenFile: resolvePath(str(u.tokenFile) ?? str(u['token-file']), file),
        username: str(u.username),
        password: str(u.password),
        as: str(u.as),
        asGroups: Array.isArray(u['as-groups']) ? (u['as-groups'] as unknown[]).map(String) : undefined,
        unsupported,
      },
    });
  }
  for (const { name, body: c } of entries(d, 'contexts', 'context', file)) {
    if (out.contexts.has(name)) continue;
    out.contexts.set(name, { name, file, value: { cluster: str(c.cluster), user: str(c.user), namespace: str(c.namespace) } });
  }
  return out;
}

/** Merges parsed files: earlier files win, as clientcmd's loading rules. */
export function mergeKubeconfigs(list: Kubeconfig[]): Kubeconfig {
  const out: Kubeconfig = { files: [], clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const k of list) {
    out.files.push(...k.files);
    out.currentContext ??= k.currentContext;
    for (const [n, v] of k.clusters) if (!out.clusters.has(n)) out.clusters.set(n, v);
    for (const [n, v] of k.users) if (!out.users.has(n)) out.users.set(n, v);
    for (const [n, v] of k.contexts) if (!out.contexts.has(n)) out.contexts.set(n, v);
  }
  return out;
}

/** Reads and merges kubeconfig files; `mustExist` files that are missing are an error. */
export function readKubeconfigFiles(files: string[], mustExist: boolean): Kubeconfig | undefined {
  const parsed: Kubeconfig[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT' && !mustExist) continue;
      throw new ConfigError(`kubeconfig ${f}: cannot read it: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, { cause: e });
    }
    parsed.push(parseKubeconfig(text, f));
  }
  return parsed.length ? mergeKubeconfigs(parsed) : undefined;
}

function readData(kind: string, owner: string, file: string, p: string | undefined, data: string | undefined): Buffer | undefined {
  if (data !== undefined) {
    if (p !== undefined) throw new ConfigError(`kubeconfig ${file}: ${owner} sets both ${kind} and ${kind}-data; keep one`);
    return Buffer.from(data, 'base64');
  }
  if (p === undefined) return undefined;
  try {
    return fs.readFileSync(p);
  } catch (e) {
    throw new ConfigError(`kubeconfig ${file}: ${owner}: cannot read ${kind} ${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, { cause: e });
  }
}

function normalizeServer(server: string, where: string): string {
  const s = /^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `https://${server}`;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new ConfigError(`${where}: server "${server}" is not a valid URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`${where}: server "${server}" must be an http:// or https:// URL`);
  return s.replace(/\/+$/, '');
}

/** Builds a ClientConfig from a (merged) kubeconfig and the command-line overrides. */
export function configFromKubeconfig(kc: Kubeconfig, o: Pick<LoadConfigOptions, 'context' | 'cluster' | 'user' | 'namespace' | 'master'> = {}): ClientConfig {
  const files = kc.files.join(':');
  const ctxName = o.context ?? kc.currentContext;
  let ctx: KubeconfigContext = {};
  let ctxFile = files;
  if (ctxName) {
    const c = kc.contexts.get(ctxName);
    if (!c) {
      const known = [...kc.contexts.keys()];
      throw new ConfigError(`kubeconfig ${files}: context "${ctxName}" not found (${known.length ? `defined: ${known.join(', ')}` : 'no contexts are defined'})`);
    }
    ctx = c.value;
    ctxFile = c.file;
  } else if (!o.cluster && !o.master) {
    throw new ConfigError(`kubeconfig ${files}: no current-context is set; set one (kubectl config use-context NAME) or pass --context`);
  }
  const clusterName = o.cluster ?? ctx.cluster;
  const userName = o.user ?? ctx.user;
  let cluster: KubeconfigCluster = {};
  let clusterFile = ctxFile;
  if (clusterName) {
    const c = kc.clusters.get(clusterName);
    if (!c) throw new ConfigError(`kubeconfig ${ctxFile}: context "${ctxName ?? ''}" refers to cluster "${clusterName}", which is not defined`);
    cluster = c.value;
    clusterFile = c.file;
  } else if (!o.master) {
    throw new ConfigError(`kubeconfig ${ctxFile}: context "${ctxName ?? ''}" names no cluster`);
  }
  let user: KubeconfigUser = {};
  let userFile = ctxFile;
  if (userName) {
    const u = kc.users.get(userName);
    if (!u) throw new ConfigError(`kubeconfig ${ctxFile}: context "${ctxName ?? ''}" refers to user "${userName}", which is not defined`);
    user = u.value;
    userFile = u.file;
  }
  const server = o.master ?? cluster.server;
  if (!server) throw new ConfigError(`kubeconfig ${clusterFile}: cluster "${clusterName}" has no server (set clusters[].cluster.server, or pass --master)`);

  const cfg: ClientConfig = {
    server: normalizeServer(server, o.master ? '--master' : `kubeconfig ${clusterFile}: cluster "${clusterName}"`),
    source: o.master ? `${files} with --master` : files,
    namespace: o.namespace ?? ctx.namespace ?? 'default',
  };
  const clusterOwner = `cluster "${clusterName}"`;
  cfg.caData = readData('certificate-authority', clusterOwner, clusterFile, cluster.certificateAuthority, cluster.certificateAuthorityData);
  if (cluster.insecureSkipTLSVerify) {
    if (cfg.caData) throw new ConfigError(`kubeconfig ${clusterFile}: ${clusterOwner} sets insecure-skip-tls-verify together with a certificate authority; keep one`);
    cfg.insecureSkipTLSVerify = true;
  }
  if (cluster.tlsServerName) cfg.tlsServerName = cluster.tlsServerName;

  const userOwner = `user "${userName}"`;
  if (user.unsupported) {
    throw new ConfigError(`kubeconfig ${userFile}: ${userOwner} uses "${user.unsupported}" credentials, which tkube's client does not support; use a client certificate, a token or tokenFile`);
  }
  cfg.certData = readData('client-certificate', userOwner, userFile, user.clientCertificate, user.clientCertificateData);
  cfg.keyData = readData('client-key', userOwner, userFile, user.clientKey, user.clientKeyData);
  if (cfg.certData && !cfg.keyData) throw new ConfigError(`kubeconfig ${userFile}: ${userOwner} has a client certificate but no client-key or client-key-data`);
  if (cfg.keyData && !cfg.certData) throw new ConfigError(`kubeconfig ${userFile}: ${userOwner} has a client key but no client-certificate or client-certificate-data`);
  const methods = [user.token || user.tokenFile ? 'token' : '', user.username || user.password ? 'basicAuth' : ''].filter(Boolean);
  if (methods.length > 1) throw new ConfigError(`kubeconfig ${userFile}: ${userOwner} has more than one authentication method (${methods.join(', ')}); keep one`);
  if (user.token) cfg.token = user.token;
  else if (user.tokenFile) {
    if (!fs.existsSync(user.tokenFile)) throw new ConfigError(`kubeconfig ${userFile}: ${userOwner}: tokenFile ${user.tokenFile} does not exist`);
    cfg.tokenFile = user.tokenFile;
  }
  if (user.username || user.password) {
    if (!user.username || !user.password) throw new ConfigError(`kubeconfig ${userFile}: ${userOwner} needs both username and password for basic authentication`);
    cfg.username = user.username;
    cfg.password = user.password;
  }
  if (user.as) cfg.impersonateUser = user.as;
  if (user.asGroups?.length) cfg.impersonateGroups = user.asGroups;
  return cfg;
}

/**
 * The configuration of a process running in a pod: the `kubernetes` service's address from
 * KUBERNETES_SERVICE_HOST/PORT, and the service account's token, CA and namespace.
 */
export function inClusterConfig(o: Pick<LoadConfigOptions, 'env' | 'serviceAccountDir' | 'namespace'> = {}): ClientConfig {
  const env = o.env ?? process.env;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new ConfigError('unable to load in-cluster configuration: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined');
  const dir = o.serviceAccountDir ?? defaultServiceAccountDir;
  const tokenFile = path.join(dir, 'token');
  if (!fs.existsSync(tokenFile)) throw new ConfigError(`unable to load in-cluster configuration: service account token ${tokenFile} does not exist`);
  const caFile = path.join(dir, 'ca.crt');
  let caData: Buffer | undefined;
  try {
    caData = fs.readFileSync(caFile);
  } catch (e) {
    throw new ConfigError(`unable to load in-cluster configuration: cannot read the service account CA ${caFile}: ${(e as Error).message}`, { cause: e });
  }
  let namespace = o.namespace;
  if (!namespace) {
    try {
      namespace = fs.readFileSync(path.join(dir, 'namespace'), 'utf8').trim() || undefined;
    } catch {
      /* as upstream: no namespace file means "default" */
    }
  }
  const h = host.includes(':') ? `[${host}]` : host;
  return { server: `https://${h}:${port}`, source: 'in-cluster', namespace: namespace ?? 'default', caData, tokenFile };
}

/** Loads the configuration by the order described at the top of this file. */
export function loadClientConfig(o: LoadConfigOptions = {}): ClientConfig {
  const env = o.env ?? process.env;
  if (o.kubeconfig) return configFromKubeconfig(readKubeconfigFiles([o.kubeconfig], true)!, o);
  const fromEnv = env.KUBECONFIG?.split(':').filter((f) => f !== '');
  if (fromEnv && fromEnv.length > 0) {
    const kc = readKubeconfigFiles(fromEnv, false);
    if (kc) return configFromKubeconfig(kc, o);
  }
  const home = path.join(o.homeDir ?? os.homedir(), '.kube', 'config');
  if (fs.existsSync(home)) return configFromKubeconfig(readKubeconfigFiles([home], true)!, o);
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) {
    const cfg = inClusterConfig(o);
    if (o.master) cfg.server = normalizeServer(o.master, '--master');
    return cfg;
  }
  if (o.master) return { server: normalizeServer(o.master, '--master'), source: '--master', namespace: o.namespace ?? 'default' };
  throw new ConfigError(
    `no configuration found: pass --kubeconfig or --master, set KUBECONFIG${fromEnv?.length ? ` (none of ${fromEnv.join(':')} exists)` : ''}, create ${home}, or run in a pod with a service account`,
  );
}
