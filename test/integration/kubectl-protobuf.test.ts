/**
 * The real kubectl's typed clients against tkube: since v1.32 `kubectl create <kind>` sends
 * its object as Kubernetes protobuf (v1.31 still sends JSON). Whatever the encoding, the stored
 * object must be what kubectl meant: what it prints with `--dry-run=client -o json`, and the
 * same object tkube stores when that JSON is posted with `kubectl create -f`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeEnvelope, WireType, WireWriter, protobufMediaType } from '../../lib/api/index.js';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { kubectls, runKubectl, type Kubectl } from '../support/kubectl.js';

let s: TestAPIServer;

beforeAll(async () => {
  s = await startAPIServer();
});

afterAll(async () => {
  await s?.stop();
});

interface Case {
  what: string;
  /** Arguments after `kubectl create`, for an object called `name`. */
  args: (name: string) => string[];
  /** The container command, after `--`. */
  command?: string[];
  name: string;
  group: string;
  resource: string;
  clusterScoped?: boolean;
}

const cases: Case[] = [
  { what: 'namespace', args: (n) => ['namespace', n], name: 'demo', group: '', resource: 'namespaces', clusterScoped: true },
  { what: 'configmap --from-literal', args: (n) => ['configmap', n, '--from-literal=greeting=hello', '--from-literal=empty='], name: 'settings', group: '', resource: 'configmaps' },
  { what: 'secret generic --from-literal', args: (n) => ['secret', 'generic', n, '--from-literal=password=hunter2'], name: 'creds', group: '', resource: 'secrets' },
  { what: 'deployment --replicas=2 --port=8080', args: (n) => ['deployment', n, '--image=busybox:1.36', '--replicas=2', '--port=8080'], name: 'web', group: 'apps', resource: 'deployments' },
  { what: 'deployment --replicas=0', args: (n) => ['deployment', n, '--image=busybox:1.36', '--replicas=0'], name: 'idle', group: 'apps', resource: 'deployments' },
  { what: 'service clusterip --tcp', args: (n) => ['service', 'clusterip', n, '--tcp=5678:8080'], name: 'my-svc', group: '', resource: 'services' },
  { what: 'job', args: (n) => ['job', n, '--image=busybox:1.36'], command: ['echo', 'hi'], name: 'once', group: 'batch', resource: 'jobs' },
  { what: 'cronjob', args: (n) => ['cronjob', n, '--image=busybox:1.36', '--schedule=*/5 * * * *'], command: ['date'], name: 'tick', group: 'batch', resource: 'cronjobs' },
  { what: 'serviceaccount', args: (n) => ['serviceaccount', n], name: 'robot', group: '', resource: 'serviceaccounts' },
  { what: 'poddisruptionbudget --min-available=50%', args: (n) => ['poddisruptionbudget', n, '--selector=app=web', '--min-available=50%'], name: 'web-pdb', group: 'policy', resource: 'poddisruptionbudgets' },
  { what: 'poddisruptionbudget --max-unavailable=1', args: (n) => ['poddisruptionbudget', n, '--selector=app=web', '--max-unavailable=1'], name: 'web-pdb-int', group: 'policy', resource: 'poddisruptionbudgets' },
  { what: 'priorityclass', args: (n) => ['priorityclass', n, '--value=1000'], name: 'high', group: 'scheduling.k8s.io', resource: 'priorityclasses', clusterScoped: true },
];

const versionOf = (group: string) => (group ? `${group}/v1` : 'v1');
const base = (group: string) => (group ? `/apis/${group}/v1` : '/api/v1');

function urlOf(c: Case, ns: string, name: string): string {
  return c.clusterScoped ? `${base(c.group)}/${c.resource}/${name}` : `${base(c.group)}/namespaces/${ns}/${c.resource}/${name}`;
}

async function served(c: Case): Promise<boolean> {
  const r = await api(s.url, 'GET', base(c.group));
  return r.status === 200 && (r.body.resources as { name: string }[]).some((x) => x.name === c.resource);
}

/** The Content-Type of the first mutating request in kubectl's -v=8 log. */
function sentContentType(stderr: string): string | undefined {
  const lines = stderr.split('\n');
  const at = lines.findIndex((l) => /\] (POST|PUT|DELETE) http/.test(l));
  if (at < 0) return undefined;
  for (const l of lines.slice(at + 1)) {
    const m = /Content-Type: (\S+)/.exec(l);
    if (m) return m[1];
  }
  return undefined;
}

function kubectl(k: Kubectl, args: string[], input?: string) {
  return runKubectl(k, s.kubeconfig, args, { input });
}

/**
 * What two stored objects have in common once what the server assigns per object is set
 * aside: identity, timestamps, the namespace or name they were created under, and the
 * allocated cluster IP.
 */
function normalize(obj: Record<string, any>, name: string, ns: string): unknown {
  const o = structuredClone(obj);
  const uid = o.metadata.uid as string;
  for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'managedFields', 'selfLink']) delete o.metadata[k];
  if (o.spec?.clusterIP) {
    delete o.spec.clusterIP;
    delete o.spec.clusterIPs;
  }
  return JSON.parse(JSON.stringify(o).replaceAll(uid, '<uid>').replaceAll(ns, '<ns>').replaceAll(name, '<name>'));
}

describe.each(kubectls().map((k) => ({ k, version: k.version })))('kubectl $version typed create', ({ k, version }) => {
  const tag = version.replace('.', '');
  const pbNs = `typed-${tag}`;
  const jsonNs = `manifest-${tag}`;
  const sendsProtobuf = Number(version.split('.')[1]) >= 32;

  beforeAll(async () => {
    for (const ns of [pbNs, jsonNs]) {
      const r = await api(s.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      expect(r.status).toBe(201);
    }
  });

  it.each(cases)('create $what stores what kubectl meant', async (c) => {
    const name = c.clusterScoped ? `${c.name}-${tag}` : c.name;
    const twinName = c.clusterScoped ? `${c.name}-${tag}-manifest` : c.name;
    const nsArgs = (ns: string) => (c.clusterScoped ? [] : ['-n', ns]);
    const create = (...flags: string[]) => ['create', ...c.args(name), ...flags, ...(c.command ? ['--', ...c.command] : [])];

    const dry = await kubectl(k, create(...nsArgs(pbNs), '--dry-run=client', '-o', 'json'));
    expect(dry.code, dry.stderr).toBe(0);
    const sent = JSON.parse(dry.stdout) as Record<string, any>;
    expect(sent.apiVersion).toBe(versionOf(c.group));

    const created = await kubectl(k, ['-v=8', ...create(...nsArgs(pbNs))]);
    if (!(await served(c))) {
      // Not served by tkube yet: the request must fail on the missing resource, not on its encoding.
      expect(created.code).not.toBe(0);
      expect(created.stderr).toMatch(/the server could not find the requested resource/);
      return;
    }
    expect(created.code, created.stderr.split('\n').slice(-5).join('\n')).toBe(0);
    expect(sentContentType(created.stderr)).toBe(sendsProtobuf ? protobufMediaType : 'application/json');

    const got = await api(s.url, 'GET', urlOf(c, pbNs, name));
    expect(got.status).toBe(200);
    const stored = got.body as Record<string, any>;

    // 1. Every field kubectl sent is stored as sent. The server adds defaults and metadata, and
    //    owns status (reset on create), so those are left out of the comparison.
    const expected = structuredClone(sent);
    delete expected.metadata.creationTimestamp;
    delete expected.status;
    expect(stored).toMatchObject(expected);

    // 2. The same command's JSON, created as a manifest, is stored identically.
    const manifest = structuredClone(sent);
    manifest.metadata.name = twinName;
    delete manifest.metadata.namespace;
    const fromFile = await kubectl(k, ['-v=8', 'create', '--validate=false', '-f', '-', ...nsArgs(jsonNs)], JSON.stringify(manifest));
    expect(fromFile.code, fromFile.stderr.split('\n').slice(-5).join('\n')).toBe(0);
    expect(sentContentType(fromFile.stderr)).toBe('application/json');
    const twin = (await api(s.url, 'GET', urlOf(c, jsonNs, twinName))).body as Record<string, any>;
    expect(normalize(stored, name, pbNs)).toEqual(normalize(twin, twinName, jsonNs));
  });

  it('keeps replicas: 0 rather than defaulting it', async () => {
    const d = await api(s.url, 'GET', `/apis/apps/v1/namespaces/${pbNs}/deployments/idle`);
    expect(d.body.spec.replicas).toBe(0);
  });

  it('drain --disable-eviction deletes pods with the grace period it was given', async () => {
    const node = `drain-${tag}`;
    expect((await api(s.url, 'POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: node } })).status).toBe(201);
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `bound-${tag}` }, spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox:1.36' }] } };
    expect((await api(s.url, 'POST', `/api/v1/namespaces/${pbNs}/pods`, pod)).status).toBe(201);
    // Without a kubelet a bound pod only goes away at once when the delete says grace 0,
    // which kubectl sends inside its (protobuf, from v1.32) DeleteOptions.
    const r = await kubectl(k, ['-v=8', 'drain', node, '--force', '--disable-eviction', '--grace-period=0', '--timeout=20s']);
    expect(r.code, r.stderr.split('\n').slice(-5).join('\n')).toBe(0);
    const lines = r.stderr.split('\n');
    const del = lines.findIndex((l) => /\] DELETE http.*\/pods\//.test(l));
    expect(del).toBeGreaterThan(0);
    expect(lines.slice(del + 1).find((l) => l.includes('Content-Type:'))).toContain(sendsProtobuf ? protobufMediaType : 'application/json');
    expect((await api(s.url, 'GET', `/api/v1/namespaces/${pbNs}/pods/bound-${tag}`)).status).toBe(404);
  });
});

describe('protobuf bodies the server cannot use', () => {
  const ns = 'garbage';
  const post = (path: string, body: Uint8Array, method = 'POST', type = protobufMediaType) =>
    fetch(s.url + path, { method, headers: { 'content-type': type, accept: 'application/json' }, body }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, any> }));
  const configMap = (build: (w: WireWriter) => unknown) => {
    const w = new WireWriter();
    build(w);
    return encodeEnvelope('v1', 'ConfigMap', w.finish());
  };
  const countConfigMaps = async () => ((await api(s.url, 'GET', `/api/v1/namespaces/${ns}/configmaps`)).body.items as unknown[]).length;

  beforeAll(async () => {
    expect((await api(s.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).status).toBe(201);
  });

  it.each([
    { name: 'no magic prefix', body: new TextEncoder().encode('\x0a\x04\x0a\x02hi'), message: /does not start with the Kubernetes protobuf prefix/ },
    { name: 'random bytes after the magic', body: Uint8Array.of(0x6b, 0x38, 0x73, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), message: /varint longer than 10 bytes|field number/ },
    {
      name: 'a truncated varint inside the object',
      // immutable (field 4, a varint) whose value never ends
      body: configMap((w) => w.message(1, (m) => m.string(1, 'half-written')).tag(4, WireType.Varint).raw([0x80])),
      message: /truncated varint/,
    },
    {
      name: 'a length past the end',
      body: (() => {
        const ok = configMap((w) => w.message(1, (m) => m.string(1, 'half-written')).mapEntry(2, 'a', 'b'));
        return ok.subarray(0, ok.length - 2);
      })(),
      message: /runs past the end/,
    },
  ])('$name: 400 BadRequest and nothing stored', async ({ body, message }) => {
    const before = await countConfigMaps();
    const r = await post(`/api/v1/namespaces/${ns}/configmaps`, body);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'BadRequest', code: 400 });
    expect(r.body.message).toMatch(/^the body of the request is not valid Kubernetes protobuf: /);
    expect(r.body.message).toMatch(message);
    expect(await countConfigMaps()).toBe(before);
    expect((await api(s.url, 'GET', `/api/v1/namespaces/${ns}/configmaps/half-written`)).status).toBe(404);
  });

  it('a valid protobuf ConfigMap is created', async () => {
    const r = await post(`/api/v1/namespaces/${ns}/configmaps`, configMap((w) => w.message(1, (m) => m.string(1, 'whole')).mapEntry(2, 'a', 'b')));
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'whole', namespace: ns }, data: { a: 'b' } });
  });

  it('a kind without a protobuf table: 415 naming JSON', async () => {
    const r = await post(`/api/v1/namespaces/${ns}/configmaps`, encodeEnvelope('example.com/v1', 'Widget', new Uint8Array()));
    expect(r.status).toBe(415);
    expect(r.body.reason).toBe('UnsupportedMediaType');
    expect(r.body.message).toContain('application/json');
  });

  it('a protobuf object of another kind than the URL: 400', async () => {
    const r = await post(`/api/v1/namespaces/${ns}/configmaps`, encodeEnvelope('v1', 'Secret', new WireWriter().message(1, (m) => m.string(1, 'wrong')).finish()));
    expect(r.status).toBe(400);
    expect(r.body.message).toContain('the kind in the data does not match the expected kind (ConfigMap)');
  });

  it('updates (PUT) take protobuf bodies, including a Scale to 0 replicas', async () => {
    const put = await post(
      `/api/v1/namespaces/${ns}/configmaps/whole`,
      configMap((w) => w.message(1, (m) => m.string(1, 'whole').string(3, ns)).mapEntry(2, 'a', 'changed')),
      'PUT',
    );
    expect(put.status).toBe(200);
    expect(put.body.data).toEqual({ a: 'changed' });

    const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'scaled' }, spec: { replicas: 3, selector: { matchLabels: { app: 's' } }, template: { metadata: { labels: { app: 's' } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } } } };
    expect((await api(s.url, 'POST', `/apis/apps/v1/namespaces/${ns}/deployments`, d)).status).toBe(201);
    // Go writes Scale.spec.replicas even when it is 0; that 0 must arrive as 0, not as "unset".
    const scale = encodeEnvelope('autoscaling/v1', 'Scale', new WireWriter().message(1, (m) => m.string(1, 'scaled').string(3, ns)).message(2, (sp) => sp.int(1, 0)).finish());
    const r = await post(`/apis/apps/v1/namespaces/${ns}/deployments/scaled/scale`, scale, 'PUT');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ kind: 'Scale', spec: { replicas: 0 } });
    expect((await api(s.url, 'GET', `/apis/apps/v1/namespaces/${ns}/deployments/scaled`)).body.spec.replicas).toBe(0);
  });

  it('protobuf is not a patch type: 415', async () => {
    const r = await post(`/api/v1/namespaces/${ns}/configmaps/whole`, configMap(() => {}), 'PATCH');
    expect(r.status).toBe(415);
  });

  it('protobuf DeleteOptions are honoured (preconditions)', async () => {
    const cm = await api(s.url, 'POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'guarded' } });
    expect(cm.status).toBe(201);
    const opts = (uid: string) => encodeEnvelope('v1', 'DeleteOptions', new WireWriter().message(2, (p) => p.string(1, uid)).finish());
    const wrong = await post(`/api/v1/namespaces/${ns}/configmaps/guarded`, opts('not-the-uid'), 'DELETE');
    expect(wrong.status).toBe(409);
    expect((await api(s.url, 'GET', `/api/v1/namespaces/${ns}/configmaps/guarded`)).status).toBe(200);
    const right = await post(`/api/v1/namespaces/${ns}/configmaps/guarded`, opts(cm.body.metadata.uid), 'DELETE');
    expect(right.status).toBe(200);
    expect((await api(s.url, 'GET', `/api/v1/namespaces/${ns}/configmaps/guarded`)).status).toBe(404);
  });
});
