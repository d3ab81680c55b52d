import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError, inClusterConfig, loadClientConfig, type ClientConfig } from './kubeconfig.js';
import { RESTClient } from './rest-client.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-kubeconfig-test-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  return p;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

function kubeconfig(user: string, cluster = 'server: https://10.0.0.1:6443', extra = ''): string {
  return `apiVersion: v1
kind: Config
current-context: ctx
clusters:
- name: c
  cluster:
    ${cluster}
contexts:
- name: ctx
  context: {cluster: c, user: u, namespace: team-a}
users:
- name: u
  user:
    ${user}
${extra}`;
}

const noEnv = { env: {}, homeDir: '/nonexistent' };

describe('kubeconfig: auth styles', () => {
  test('bearer token', () => {
    const cfg = loadClientConfig({ ...noEnv, kubeconfig: write('token', kubeconfig('token: abc123')) });
    expect(cfg).toMatchObject({ server: 'https://10.0.0.1:6443', token: 'abc123', namespace: 'team-a' });
  });

  test('token file, relative to the kubeconfig', () => {
    write('tf/token.txt', 'from-file\n');
    const cfg = loadClientConfig({ ...noEnv, kubeconfig: write('tf/config', kubeconfig('tokenFile: token.txt')) });
    expect(cfg.tokenFile).toBe(path.join(dir, 'tf/token.txt'));
  });

  test('client certificate and key, as files and as data', () => {
    write('cert/client.crt', 'CERT');
    write('cert/client.key', 'KEY');
    const files = loadClientConfig({ ...noEnv, kubeconfig: write('cert/config', kubeconfig('client-certificate: client.crt\n    client-key: client.key')) });
    expect(files.certData?.toString()).toBe('CERT');
    expect(files.keyData?.toString()).toBe('KEY');
    const data = loadClientConfig({ ...noEnv, kubeconfig: write('certdata', kubeconfig(`client-certificate-data: ${b64('CERT2')}\n    client-key-data: ${b64('KEY2')}`)) });
    expect(data.certData?.toString()).toBe('CERT2');
    expect(data.keyData?.toString()).toBe('KEY2');
  });

  test('basic auth', () => {
    const cfg = loadClientConfig({ ...noEnv, kubeconfig: write('basic', kubeconfig('username: admin\n    password: s3cret')) });
    expect(cfg).toMatchObject({ username: 'admin', password: 's3cret' });
  });

  test('cluster CA as file or data, insecure-skip-tls-verify and tls-server-name', () => {
    write('ca/ca.crt', 'CA');
    const file = loadClientConfig({ ...noEnv, kubeconfig: write('ca/config', kubeconfig('token: t', 'server: https://h:6443\n    certificate-authority: ca.crt\n    tls-server-name: kubernetes.default')) });
    expect(file.caData?.toString()).toBe('CA');
    expect(file.tlsServerName).toBe('kubernetes.default');
    const data = loadClientConfig({ ...noEnv, kubeconfig: write('cadata', kubeconfig('token: t', `server: https://h:6443\n    certificate-authority-data: ${b64('CA2')}`)) });
    expect(data.caData?.toString()).toBe('CA2');
    const insecure = loadClientConfig({ ...noEnv, kubeconfig: write('insecure', kubeconfig('token: t', 'server: https://h:6443\n    insecure-skip-tls-verify: true')) });
    expect(insecure.insecureSkipTLSVerify).toBe(true);
  });

  test('no credentials at all (an insecure local port)', () => {
    const cfg = loadClientConfig({ ...noEnv, kubeconfig: write('anon', kubeconfig('{}', 'server: http://127.0.0.1:8080')) });
    expect(cfg).toMatchObject({ server: 'http://127.0.0.1:8080' });
    expect(cfg.token ?? cfg.certData ?? cfg.username).toBeUndefined();
  });
});

describe('kubeconfig: errors name the file and the missing piece', () => {
  const cases: [string, string, RegExp][] = [
    ['missing-user', kubeconfig('token: t').replace('user: u,', 'user: ghost,'), /missing-user: context "ctx" refers to user "ghost", which is not defined/],
    ['missing-cluster', kubeconfig('token: t').replace('cluster: c,', 'cluster: ghost,'), /missing-cluster: context "ctx" refers to cluster "ghost", which is not defined/],
    ['no-server', kubeconfig('token: t', 'insecure-skip-tls-verify: true'), /no-server: cluster "c" has no server/],
    ['cert-no-key', kubeconfig(`client-certificate-data: ${b64('C')}`), /cert-no-key: user "u" has a client certificate but no client-key/],
    ['two-methods', kubeconfig('token: t\n    username: a\n    password: b'), /two-methods: user "u" has more than one authentication method/],
    ['exec', kubeconfig('exec: {command: aws}'), /exec: user "u" uses "exec" credentials, which tkube's client does not support/],
    ['missing-ca', kubeconfig('token: t', 'server: https://h\n    certificate-authority: nope.crt'), /missing-ca: cluster "c": cannot read certificate-authority .*nope\.crt: no such file/],
    ['ca-and-insecure', kubeconfig('token: t', `server: https://h\n    insecure-skip-tls-verify: true\n    certificate-authority-data: ${b64('x')}`), /ca-and-insecure: cluster "c" sets insecure-skip-tls-verify together with a certificate authority/],
    ['bad-yaml', 'clusters: [', /bad-yaml: not valid YAML/],
    ['missing-token-file', kubeconfig('tokenFile: /nonexistent/token'), /missing-token-file: user "u": tokenFile \/nonexistent\/token does not exist/],
  ];
  test.each(cases)('%s', (name, text, re) => {
    const p = write(`err/${name}`, text);
    expect(() => loadClientConfig({ ...noEnv, kubeconfig: p })).toThrow(ConfigError);
    expect(() => loadClientConfig({ ...noEnv, kubeconfig: p })).toThrow(re);
  });

  test('an unknown --context lists the defined ones', () => {
    const p = write('ctxs', kubeconfig('token: t'));
    expect(() => loadClientConfig({ ...noEnv, kubeconfig: p, context: 'prod' })).toThrow(/context "prod" not found \(defined: ctx\)/);
  });

  test('an explicit --kubeconfig that does not exist is an error', () => {
    expect(() => loadClientConfig({ ...noEnv, kubeconfig: path.join(dir, 'nope') })).toThrow(/kubeconfig .*nope: cannot read it: no such file/);
  });

  test('nothing to go on', () => {
    expect(() => loadClientConfig(noEnv)).toThrow(/no configuration found: pass --kubeconfig or --master/);
  });
});

describe('kubeconfig: loading rules', () => {
  test('KUBECONFIG merges files: first definition of a name wins, first current-context wins, missing files skipped', () => {
    const a = write(
      'merge/a',
      `current-context: one
clusters:
- {name: shared, cluster: {server: "https://from-a"}}
users:
- {name: ua, user: {token: ta}}
contexts:
- {name: one, context: {cluster: shared, user: ub}}
`,
    );
    const b = write(
      'merge/b',
      `current-context: two
clusters:
- {name: shared, cluster: {server: "https://from-b"}}
- {name: onlyb, cluster: {server: "https://b-only"}}
users:
- {name: ub, user: {token: tb}}
contexts:
- {name: two, context: {cluster: onlyb, user: ua, namespace: nb}}
`,
    );
    const env = { KUBECONFIG: [a, path.join(dir, 'merge/missing'), b].join(':') };
    const one = loadClientConfig({ env, homeDir: '/nonexistent' });
    expect(one).toMatchObject({ server: 'https://from-a', token: 'tb', namespace: 'default' });
    expect(one.source).toBe(`${a}:${b}`);
    const two = loadClientConfig({ env, homeDir: '/nonexistent', context: 'two' });
    expect(two).toMatchObject({ server: 'https://b-only', token: 'ta', namespace: 'nb' });
    const ns = loadClientConfig({ env, homeDir: '/nonexistent', context: 'two', namespace: 'override' });
    expect(ns.namespace).toBe('override');
  });

  test('~/.kube/config when nothing else is given; --master overrides the server', () => {
    const home = path.join(dir, 'home');
    write('home/.kube/config', kubeconfig('token: home-token'));
    expect(loadClientConfig({ env: {}, homeDir: home }).token).toBe('home-token');
    const m = loadClientConfig({ env: {}, homeDir: home, master: '127.0.0.1:6443' });
    expect(m.server).toBe('https://127.0.0.1:6443');
    expect(m.token).toBe('home-token');
  });

  test('--master alone', () => {
    expect(loadClientConfig({ ...noEnv, master: 'http://127.0.0.1:8080' })).toMatchObject({ server: 'http://127.0.0.1:8080', namespace: 'default', source: '--master' });
  });

  test('in-cluster: the kubernetes service, the service account token, CA and namespace', () => {
    const sa = path.join(dir, 'sa');
    write('sa/token', 'sa-token');
    write('sa/ca.crt', 'CA');
    write('sa/namespace', 'kube-system\n');
    const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    const cfg = loadClientConfig({ env, homeDir: '/nonexistent', serviceAccountDir: sa });
    expect(cfg).toMatchObject({ server: 'https://10.96.0.1:443', tokenFile: path.join(sa, 'token'), namespace: 'kube-system', source: 'in-cluster' });
    expect(cfg.caData?.toString()).toBe('CA');
    expect(inClusterConfig({ env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: sa }).server).toBe('https://[fd00::1]:443');
    expect(() => inClusterConfig({ env: {}, serviceAccountDir: sa })).toThrow(/KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined/);
    expect(() => inClusterConfig({ env, serviceAccountDir: path.join(dir, 'nosa') })).toThrow(/service account token .*nosa\/token does not exist/);
  });
});

describe('credentials on the wire', () => {
  async function serve(): Promise<{ url: string; seen: http.IncomingHttpHeaders[]; close: () => Promise<void> }> {
    const seen: http.IncomingHttpHeaders[] = [];
    const srv = http.createServer((req, res) => {
      seen.push(req.headers);
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    return { url, seen, close: () => new Promise((r) => srv.close(() => r())) };
  }

  test('token, token file (re-read on rotation), basic auth, impersonation and user agent', async () => {
    const s = await serve();
    const send = async (cfg: Partial<ClientConfig>) => {
      const c = new RESTClient({ config: { server: s.url, source: 'test', namespace: 'default', ...cfg }, component: 'scheduler', version: '1.2.3' });
      await c.request({ path: '/version' });
      c.close();
      return s.seen[s.seen.length - 1]!;
    };
    expect((await send({ token: 'abc' })).authorization).toBe('Bearer abc');
    const tf = write('wire/token', 'file-token\n');
    expect((await send({ tokenFile: tf })).authorization).toBe('Bearer file-token');
    expect((await send({ username: 'admin', password: 'pw' })).authorization).toBe(`Basic ${b64('admin:pw')}`);
    const imp = await send({ token: 't', impersonateUser: 'jane', impersonateGroups: ['devs'] });
    expect(imp['impersonate-user']).toBe('jane');
    expect(imp['impersonate-group']).toBe('devs');
    expect(imp['user-agent']).toMatch(/^tkube-scheduler\/1\.2\.3 \(linux\/\w+\)$/);
    await s.close();
  });

  test('TLS: the server is verified against the CA and tls-server-name, and sees the client certificate', async () => {
    const tls = path.join(dir, 'tls');
    fs.mkdirSync(tls, { recursive: true });
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: tls, stdio: 'ignore' });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=test-ca');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=apiserver');
    fs.writeFileSync(path.join(tls, 'server.ext'), 'subjectAltName=DNS:kubernetes.test\n');
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'server.ext');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=jane/O=devs');
    ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '1');
    const read = (f: string) => fs.readFileSync(path.join(tls, f));
    let clientCN = '';
    const srv = https.createServer({ cert: read('server.crt'), key: read('server.key'), ca: read('ca.crt'), requestCert: true, rejectUnauthorized: true }, (req, res) => {
      clientCN = String((req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '');
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    const cfgFile = write(
      'tls/config',
      kubeconfig('client-certificate: client.crt\n    client-key: client.key', `server: https://127.0.0.1:${port}\n    certificate-authority: ca.crt\n    tls-server-name: kubernetes.test`),
    );
    const good = new RESTClient({ config: loadClientConfig({ ...noEnv, kubeconfig: cfgFile }) });
    expect(await good.request({ path: '/version' })).toEqual({ ok: true });
    expect(clientCN).toBe('jane');
    good.close();
    // Without tls-server-name the certificate does not match 127.0.0.1: refused.
    const cfg = loadClientConfig({ ...noEnv, kubeconfig: cfgFile });
    const bad = new RESTClient({ config: { ...cfg, tlsServerName: undefined }, connectionRetries: 0 });
    await expect(bad.request({ path: '/version' })).rejects.toThrow(/IP: 127\.0\.0\.1 is not in the cert's list|does not match/);
    bad.close();
    await new Promise<void>((r) => srv.close(() => r()));
  });
});
