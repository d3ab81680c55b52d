/**
 * The Factory hands commands what they need from the global flags: the client configuration
 * (kubeconfig, context, overrides), a REST client, the namespace, and the discovery mapper.
 * Everything is built lazily, so `tkubectl config view` or `--help` never dial the server.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, RESTClient, loadClientConfig, type ClientConfig } from '../client/index.js';
import { f, parseGoDuration, type FlagDefs } from './cli/flags.js';
import { CommandError, PlainError } from './cli/errors.js';
import type { IOStreams } from './cli/io.js';
import { RESTMapper, discover } from './discovery.js';

/** kubectl's global flags (the ones `tkubectl options` lists). */
export const globalFlags = {
  kubeconfig: f('string', '', 'Path to the kubeconfig file to use for CLI requests.'),
  context: f('string', '', 'The name of the kubeconfig context to use'),
  cluster: f('string', '', 'The name of the kubeconfig cluster to use'),
  user: f('string', '', 'The name of the kubeconfig user to use'),
  namespace: f('string', '', 'If present, the namespace scope for this CLI request', { short: 'n' }),
  server: f('string', '', 'The address and port of the Kubernetes API server', { short: 's' }),
  'insecure-skip-tls-verify': f('bool', false, "If true, the server's certificate will not be checked for validity. This will make your HTTPS connections insecure"),
  token: f('string', '', 'Bearer token for authentication to the API server'),
  'request-timeout': f('string', '0', 'The length of time to wait before giving up on a single server request. Non-zero values should contain a corresponding time unit (e.g. 1s, 2m, 3h). A value of zero means don\'t timeout requests.'),
  as: f('string', '', 'Username to impersonate for the operation. User could be a regular user or a service account in a namespace.'),
  'as-group': f('stringArray', [], 'Group to impersonate for the operation, this flag can be repeated to specify multiple groups.'),
  'tls-server-name': f('string', '', 'Server name to use for server certificate validation. If it is not provided, the hostname used to contact the server is used'),
  'certificate-authority': f('string', '', 'Path to a cert file for the certificate authority'),
  'client-certificate': f('string', '', 'Path to a client certificate file for TLS'),
  'client-key': f('string', '', 'Path to a client key file for TLS'),
  username: f('string', '', 'Username for basic authentication to the API server'),
  password: f('string', '', 'Password for basic authentication to the API server'),
  v: f('int', 0, 'number for the log level verbosity (accepted for compatibility; tkubectl does not log requests)', { short: 'v' }),
  'match-server-version': f('bool', false, 'Require server version to match client version'),
  'cache-dir': f('string', '', 'Default cache directory (accepted for compatibility; tkubectl keeps no discovery cache)'),
  'disable-compression': f('bool', false, 'If true, opt-out of response compression for all requests to the server'),
  'warnings-as-errors': f('bool', false, 'Treat warnings received from the server as errors and exit with a non-zero exit code'),
  help: f('bool', false, 'help for the command', { short: 'h' }),
} satisfies FlagDefs;

export type GlobalOptions = {
  kubeconfig: string;
  context: string;
  cluster: string;
  user: string;
  namespace: string;
  server: string;
  insecureSkipTLSVerify: boolean;
  token: string;
  requestTimeout: string;
  as: string;
  asGroups: string[];
  tlsServerName: string;
  certificateAuthority: string;
  clientCertificate: string;
  clientKey: string;
  username: string;
  password: string;
};

export function globalOptionsFrom(values: Record<string, unknown>): GlobalOptions {
  return {
    kubeconfig: values.kubeconfig as string,
    context: values.context as string,
    cluster: values.cluster as string,
    user: values.user as string,
    namespace: values.namespace as string,
    server: values.server as string,
    insecureSkipTLSVerify: values['insecure-skip-tls-verify'] as boolean,
    token: values.token as string,
    requestTimeout: values['request-timeout'] as string,
    as: values.as as string,
    asGroups: values['as-group'] as string[],
    tlsServerName: values['tls-server-name'] as string,
    certificateAuthority: values['certificate-authority'] as string,
    clientCertificate: values['client-certificate'] as string,
    clientKey: values['client-key'] as string,
    username: values.username as string,
    password: values.password as string,
  };
}

/** `--request-timeout`: a bare integer is seconds; otherwise a Go duration. */
export function parseRequestTimeout(v: string): number {
  if (v === '' || v === '0') return 0;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  try {
    return parseGoDuration(v);
  } catch {
    throw new CommandError(`invalid timeout value. Timeout must be a single integer in seconds, or an integer followed by a corresponding time unit (e.g. 1s | 2m | 3h)`);
  }
}

export class Factory {
  private cfg?: ClientConfig;
  private rest?: RESTClient;
  private mapperP?: Promise<RESTMapper>;

  constructor(
    readonly io: IOStreams,
    readonly opts: GlobalOptions,
  ) {}

  now(): number {
    return this.io.now ? this.io.now() : Date.now();
  }

  /** The client configuration, with kubectl's messages for the mistakes people make. */
  config(): ClientConfig {
    if (this.cfg) return this.cfg;
    const o = this.opts;
    if (o.kubeconfig) {
      const p = path.resolve(this.io.cwd, o.kubeconfig);
      if (!fs.existsSync(p)) throw new CommandError(`stat ${o.kubeconfig}: no such file or directory`);
    }
    let cfg: ClientConfig;
    try {
      cfg = loadClientConfig({
        kubeconfig: o.kubeconfig ? path.resolve(this.io.cwd, o.kubeconfig) : undefined,
        context: o.context || undefined,
        cluster: o.cluster || undefined,
        user: o.user || undefined,
        namespace: o.namespace || undefined,
        master: o.server || undefined,
        env: this.io.env,
        homeDir: this.io.env.HOME,
      });
    } catch (err) {
      if (err instanceof ConfigError) {
        const ctx = /context "([^"]*)" not found/.exec(err.message);
        if (ctx) throw new PlainError(`Error in configuration: context was not found for specified context: ${ctx[1]}`);
        if (/^no configuration found/.test(err.message)) {
          throw new PlainError('The connection to the server localhost:8080 was refused - did you specify the right host or port?');
        }
      }
      throw err;
    }
    cfg = { ...cfg };
    if (o.token) {
      cfg.token = o.token;
      delete cfg.tokenFile;
      delete cfg.username;
      delete cfg.password;
    }
    if (o.username) cfg.username = o.username;
    if (o.password) cfg.password = o.password;
    if (o.insecureSkipTLSVerify) {
      cfg.insecureSkipTLSVerify = true;
      delete cfg.caData;
    }
    if (o.certificateAuthority) cfg.caData = fs.readFileSync(path.resolve(this.io.cwd, o.certificateAuthority));
    if (o.clientCertificate) cfg.certData = fs.readFileSync(path.resolve(this.io.cwd, o.clientCertificate));
    if (o.clientKey) cfg.keyData = fs.readFileSync(path.resolve(this.io.cwd, o.clientKey));
    if (o.tlsServerName) cfg.tlsServerName = o.tlsServerName;
    if (o.as) cfg.impersonateUser = o.as;
    if (o.asGroups.length) cfg.impersonateGroups = o.asGroups;
    this.cfg = cfg;
    return cfg;
  }

  client(): RESTClient {
    if (!this.rest) {
      this.rest = new RESTClient({
        config: this.config(),
        component: 'tkubectl',
        // kubectl's own limits: generous, a person is waiting.
        qps: 50,
        burst: 300,
        timeoutMs: parseRequestTimeout(this.opts.requestTimeout),
      });
    }
    return this.rest;
  }

  /** The namespace to work in, and whether the user named it (`-n`). */
  namespace(): { namespace: string; explicit: boolean } {
    if (this.opts.namespace) return { namespace: this.opts.namespace, explicit: true };
    return { namespace: this.config().namespace, explicit: false };
  }

  mapper(): Promise<RESTMapper> {
    this.mapperP ??= discover(this.client()).then((d) => new RESTMapper(d));
    return this.mapperP;
  }

  close(): void {
    this.rest?.close();
  }
}
