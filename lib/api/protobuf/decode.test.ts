import { describe, expect, it } from 'vitest';
import { StatusError } from '../../machinery/index.js';
import { DeploymentSchema } from '../apps/v1.js';
import { PodSchema } from '../core/v1.js';
import { decodeWith } from '../decode.js';
import { WireType } from './wire.js';
import { WireWriter, encodeEnvelope } from './writer.js';
import { decodeProtobufObject, ProtobufFieldError, readEnvelope, UnknownProtobufKindError } from './decode.js';
import { builtinTables, parseMessageTable, TableError } from './table.js';
import { kindTable, messageTable } from './messages.js';
import { decodeProtobufBody } from './index.js';

type W = WireWriter;
const decode = (apiVersion: string, kind: string, build: (w: W) => unknown) => {
  const w = new WireWriter();
  build(w);
  return decodeProtobufObject(encodeEnvelope(apiVersion, kind, w.finish()));
};
/** ObjectMeta as Go writes it for a new object: name, empty strings, zero generation, a zero creationTimestamp. */
const meta = (name: string, more: (m: W) => unknown = () => {}) => (m: W) => {
  m.string(1, name).string(2, '').string(3, '').string(4, '').string(5, '').string(6, '').int(7, 0).message(8, () => {});
  more(m);
};

describe('the envelope', () => {
  it('reads typeMeta and raw after the magic', () => {
    const body = encodeEnvelope('apps/v1', 'Deployment', Uint8Array.of(1, 2, 3));
    expect([...body.subarray(0, 4)]).toEqual([0x6b, 0x38, 0x73, 0x00]);
    const env = readEnvelope(body);
    expect(env).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', contentEncoding: '', contentType: '' });
    expect([...env.raw]).toEqual([1, 2, 3]);
  });

  it('rejects a body without the magic', () => {
    expect(() => readEnvelope(new TextEncoder().encode('{"kind":"Pod"}'))).toThrow(/does not start with the Kubernetes protobuf prefix/);
    expect(() => readEnvelope(Uint8Array.of(0x6b, 0x38))).toThrow(/prefix/);
  });

  it('decodes raw JSON when the envelope says so', () => {
    const body = new Uint8Array([...encodeEnvelope('v1', 'ConfigMap', new TextEncoder().encode('{"data":{"a":"b"}}')), ...new WireWriter().string(4, 'application/json').finish()]);
    expect(decodeProtobufObject(body)).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', data: { a: 'b' } });
  });

  it('rejects content encodings it cannot undo', () => {
    const body = new Uint8Array([...encodeEnvelope('v1', 'ConfigMap', new Uint8Array()), ...new WireWriter().string(3, 'gzip').finish()]);
    expect(() => decodeProtobufObject(body)).toThrow(/content encoding "gzip" is not supported/);
  });
});

describe('decoding objects', () => {
  it('decodes a Namespace as kubectl would have sent it in JSON', () => {
    const ns = decode('v1', 'Namespace', (w) => w.message(1, meta('demo', (m) => m.mapEntry(11, 'team', 'a').mapEntry(11, 'tier', ''))).message(2, () => {}).message(3, (s) => s.string(1, '')));
    expect(ns).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      // Go writes the zero-valued strings and generation; its JSON would have left them out.
      metadata: { name: 'demo', creationTimestamp: null, labels: { team: 'a', tier: '' } },
      spec: {},
      status: {},
    });
  });

  it('keeps a present-but-zero pointer field (replicas: 0) and drops zero omitempty fields', () => {
    const d = decode('apps/v1', 'Deployment', (w) =>
      w
        .message(1, meta('idle'))
        .message(2, (s) =>
          s
            .int(1, 0) // replicas *int32
            .int(5, 0) // minReadySeconds int32 omitempty
            .bool(7, false) // paused bool omitempty
            .message(4, (st) => st.string(1, '')),
        ),
    );
    expect(d.spec).toEqual({ replicas: 0, strategy: {} });
  });

  it('leaves out a pointer field that is absent', () => {
    const d = decode('apps/v1', 'Deployment', (w) => w.message(1, meta('web')).message(2, () => {}));
    expect(d.spec).toEqual({});
  });

  it('decodes negative int32 and int64 values', () => {
    const pc = decode('scheduling.k8s.io/v1', 'PriorityClass', (w) => w.message(1, meta('low')).int(2, -10));
    expect(pc.value).toBe(-10);
    const opts = decode('v1', 'DeleteOptions', (w) => w.int(1, -1));
    expect(opts.gracePeriodSeconds).toBe(-1);
  });

  it('decodes bytes maps as base64 and string maps as text', () => {
    const s = decode('v1', 'Secret', (w) =>
      w
        .message(1, meta('creds'))
        .message(2, (e) => e.string(1, 'password').bytes(2, new TextEncoder().encode('hunter2')))
        .message(2, (e) => e.string(1, 'blob').bytes(2, [0, 255, 1]))
        .mapEntry(4, 'user', 'admin')
        .string(3, 'Opaque'),
    );
    expect(s.data).toEqual({ password: 'aHVudGVyMg==', blob: 'AP8B' });
    expect(s.stringData).toEqual({ user: 'admin' });
    expect(s.type).toBe('Opaque');
  });

  it('keeps a map key named __proto__ as a plain key', () => {
    const cm = decode('v1', 'ConfigMap', (w) => w.mapEntry(2, '__proto__', 'x').mapEntry(2, 'a', 'b'));
    const data = cm.data as Record<string, unknown>;
    expect(Object.keys(data)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(cm)).data).toEqual(JSON.parse('{"__proto__":"x","a":"b"}'));
  });

  it('gives a map entry without a value the zero value', () => {
    const cm = decode('v1', 'ConfigMap', (w) => w.message(1, meta('c')).message(2, (e) => e.string(1, 'empty')));
    expect(cm.data).toEqual({ empty: '' });
  });

  it('decodes repeated messages and repeated strings in order', () => {
    const pod = decode('v1', 'Pod', (w) =>
      w.message(1, meta('p')).message(2, (spec) =>
        spec
          .message(2, (c) => c.string(1, 'app').string(2, 'busybox:1.36').string(3, 'sh').string(3, '-c').string(3, 'sleep 1d').message(6, (p) => p.string(1, 'http').int(3, 8080).string(4, 'TCP')).message(8, () => {}))
          .message(2, (c) => c.string(1, 'sidecar').string(2, 'nginx').message(6, (p) => p.int(3, 9090)))
          .string(3, 'Never'),
      ),
    );
    expect(pod.spec).toEqual({
      containers: [
        { name: 'app', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 1d'], ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }], resources: {} },
        { name: 'sidecar', image: 'nginx', ports: [{ containerPort: 9090 }] },
      ],
      restartPolicy: 'Never',
    });
  });

  it('accepts repeated numbers both unpacked and packed', () => {
    const unpacked = decode('v1', 'Pod', (w) => w.message(2, (s) => s.message(14, (sc) => sc.int(4, 1000).int(4, 2000))));
    const packed = decode('v1', 'Pod', (w) =>
      w.message(2, (s) =>
        s.message(14, (sc) => {
          const p = new WireWriter().varint(1000).varint(2000).finish();
          sc.bytes(4, p);
        }),
      ),
    );
    expect(unpacked.spec).toEqual({ securityContext: { supplementalGroups: [1000, 2000] } });
    expect(packed.spec).toEqual(unpacked.spec);
  });

  it('prints Time as RFC 3339 to the second and MicroTime to the microsecond, in UTC', () => {
    const seconds = Date.UTC(2024, 0, 2, 3, 4, 5) / 1000;
    const lease = decode('coordination.k8s.io/v1', 'Lease', (w) =>
      w.message(1, meta('l', (m) => m.message(9, (t) => t.int(1, seconds).int(2, 999_000_000)))).message(2, (s) => s.string(1, 'node-a').message(4, (t) => t.int(1, seconds).int(2, 123_456_789)).message(3, () => {})),
    );
    expect((lease.metadata as Record<string, unknown>).deletionTimestamp).toBe('2024-01-02T03:04:05Z');
    expect(lease.spec).toEqual({ holderIdentity: 'node-a', renewTime: '2024-01-02T03:04:05.123456Z', acquireTime: null });
  });

  it('rejects times outside the years 0001 to 9999', () => {
    expect(() => decode('v1', 'Namespace', (w) => w.message(1, (m) => m.message(9, (t) => t.int(1, 253402300800))))).toThrow(/outside the years 0001-9999/);
  });

  it('decodes quantities as strings', () => {
    const pod = decode('v1', 'Pod', (w) =>
      w.message(2, (s) =>
        s.message(2, (c) =>
          c.string(1, 'app').message(8, (r) =>
            r
              .message(1, (e) => e.string(1, 'cpu').message(2, (q) => q.string(1, '500m')))
              .message(1, (e) => e.string(1, 'memory').message(2, (q) => q.string(1, '128Mi')))
              .message(2, (e) => e.string(1, 'cpu').message(2, () => {})),
          ),
        ),
      ),
    );
    expect((pod.spec as { containers: unknown[] }).containers[0]).toEqual({ name: 'app', resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '0' } } });
  });

  it('decodes IntOrString as a number or a string', () => {
    const svc = decode('v1', 'Service', (w) =>
      w.message(2, (s) =>
        s
          .message(1, (p) => p.string(1, 'web').int(3, 80).message(4, (i) => i.int(1, 0).int(2, 8080).string(3, '')))
          .message(1, (p) => p.string(1, 'metrics').int(3, 9090).message(4, (i) => i.int(1, 1).int(2, 0).string(3, 'http-metrics'))),
      ),
    );
    expect(svc.spec).toEqual({
      ports: [
        { name: 'web', port: 80, targetPort: 8080 },
        { name: 'metrics', port: 9090, targetPort: 'http-metrics' },
      ],
    });
    const d = decode('apps/v1', 'Deployment', (w) => w.message(2, (s) => s.message(4, (st) => st.string(1, 'RollingUpdate').message(2, (ru) => ru.message(1, (i) => i.int(1, 1).string(3, '25%')).message(2, (i) => i.int(2, 1))))));
    expect(d.spec).toEqual({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 1 } } });
  });

  it('merges inline (embedded) messages into their parent', () => {
    const pod = decode('v1', 'Pod', (w) =>
      w.message(2, (s) =>
        s
          .message(1, (v) => v.string(1, 'config').message(2, (src) => src.message(19, (cm) => cm.message(1, (ref) => ref.string(1, 'settings')).int(3, 420))))
          .message(2, (c) => c.string(1, 'app').message(11, (p) => p.message(1, (h) => h.message(2, (g) => g.string(1, '/healthz').message(2, (i) => i.int(2, 8080)))).int(3, 1))),
      ),
    );
    expect(pod.spec).toEqual({
      volumes: [{ name: 'config', configMap: { name: 'settings', defaultMode: 420 } }],
      containers: [{ name: 'app', readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, timeoutSeconds: 1 } }],
    });
  });

  it('decodes RawExtension as JSON, or as an embedded protobuf object', () => {
    const json = decode('apps/v1', 'ControllerRevision', (w) => w.message(2, (r) => r.bytes(1, new TextEncoder().encode('{"spec":{"x":1}}'))).int(3, 2));
    expect(json).toMatchObject({ data: { spec: { x: 1 } }, revision: 2 });
    const inner = encodeEnvelope('v1', 'ConfigMap', new WireWriter().mapEntry(2, 'k', 'v').finish());
    const nested = decode('apps/v1', 'ControllerRevision', (w) => w.message(2, (r) => r.bytes(1, inner)));
    expect(nested.data).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', data: { k: 'v' } });
    expect(() => decode('apps/v1', 'ControllerRevision', (w) => w.message(2, (r) => r.bytes(1, [0x7b])))).toThrow(/data: raw holds neither JSON nor a Kubernetes protobuf object/);
  });

  it('decodes list-typed messages (ExtraValue) as arrays', () => {
    const r = decode('authentication.k8s.io/v1', 'SelfSubjectReview', (w) =>
      w.message(2, (s) => s.message(1, (u) => u.string(1, 'alice').string(3, 'devs').message(4, (e) => e.string(1, 'scopes').message(2, (v) => v.string(1, 'a').string(1, 'b'))))),
    );
    expect(r.status).toEqual({ userInfo: { username: 'alice', groups: ['devs'], extra: { scopes: ['a', 'b'] } } });
  });

  it('skips unknown fields of every wire type', () => {
    const cm = decode('v1', 'ConfigMap', (w) =>
      w
        .message(1, meta('c', (m) => m.int(99, 7).string(98, 'x').double(97, 1).fixed32(96, 1)))
        .tag(50, WireType.StartGroup)
        .int(1, 1)
        .tag(50, WireType.EndGroup)
        .mapEntry(2, 'a', 'b'),
    );
    expect(cm).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', creationTimestamp: null }, data: { a: 'b' } });
  });

  it('merges a message field that appears twice, as protobuf does', () => {
    const cm = decode('v1', 'ConfigMap', (w) => w.message(1, (m) => m.string(1, 'c')).message(1, (m) => m.string(3, 'ns').string(1, 'renamed')));
    expect(cm.metadata).toEqual({ name: 'renamed', namespace: 'ns' });
  });

  it('decodes DeleteOptions under any group version (typed clients label it with their own)', () => {
    for (const gv of ['v1', 'apps/v1', 'meta.k8s.io/v1']) {
      const o = decode(gv, 'DeleteOptions', (w) => w.message(2, (p) => p.string(1, 'uid-1')).string(4, 'Foreground').string(5, 'All'));
      expect(o).toEqual({ apiVersion: gv, kind: 'DeleteOptions', preconditions: { uid: 'uid-1' }, propagationPolicy: 'Foreground', dryRun: ['All'] });
    }
  });

  it('decodes an Eviction with its nested DeleteOptions', () => {
    const ev = decode('policy/v1', 'Eviction', (w) => w.message(1, meta('p', (m) => m.string(3, 'default'))).message(2, (o) => o.int(1, 0)));
    expect(ev).toEqual({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'p', namespace: 'default', creationTimestamp: null }, deleteOptions: { gracePeriodSeconds: 0 } });
  });

  it('produces objects that tkube’s schemas accept', () => {
    const d = decode('apps/v1', 'Deployment', (w) =>
      w.message(1, meta('web', (m) => m.mapEntry(11, 'app', 'web'))).message(2, (s) =>
        s
          .int(1, 2)
          .message(2, (sel) => sel.mapEntry(1, 'app', 'web'))
          .message(3, (t) =>
            t.message(1, meta('', (m) => m.mapEntry(11, 'app', 'web'))).message(2, (ps) => ps.message(2, (c) => c.string(1, 'busybox').string(2, 'busybox:1.36').message(6, (p) => p.int(3, 8080).string(4, 'TCP')).message(8, () => {}))),
          )
          .message(4, () => {}),
      ),
    );
    const parsed = decodeWith(DeploymentSchema, d, 'apps', 'Deployment', 'v1');
    expect(parsed.spec?.replicas).toBe(2);
    expect(parsed.spec?.template?.spec?.containers[0]?.ports).toEqual([{ containerPort: 8080, protocol: 'TCP' }]);
    const pod = decode('v1', 'Pod', (w) => w.message(1, meta('p')).message(2, (s) => s.message(2, (c) => c.string(1, 'a').string(2, 'busybox'))));
    expect(() => decodeWith(PodSchema, pod, '', 'Pod', 'v1')).not.toThrow();
  });
});

describe('malformed bodies', () => {
  it('names the field where a nested varint is cut short', () => {
    // containers[0] = { name: "a", ports: [{ containerPort: <varint cut short> }] }
    const raw = new WireWriter().message(2, (s) => s.message(3, (t) => t.message(2, (ps) => ps.bytes(2, [0x0a, 0x01, 0x61, 0x32, 0x02, 0x18, 0x80])))).finish();
    const err = (() => {
      try {
        decodeProtobufObject(encodeEnvelope('apps/v1', 'Deployment', raw));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ProtobufFieldError);
    expect((err as ProtobufFieldError).path).toBe('spec.template.spec.containers[0].ports[0].containerPort');
    expect((err as Error).message).toMatch(/^spec.template.spec.containers\[0\].ports\[0\].containerPort: truncated varint at byte \d+$/);
  });

  it('fails when a length runs past the end', () => {
    const raw = Uint8Array.of(0x0a, 0x10, 0x0a, 0x03, 0x61);
    expect(() => decodeProtobufObject(encodeEnvelope('v1', 'ConfigMap', raw))).toThrow(/metadata: length 16 runs past the end/);
  });

  it('fails when a field arrives with the wrong wire type', () => {
    expect(() => decode('apps/v1', 'Deployment', (w) => w.message(2, (s) => s.string(1, 'two')))).toThrow(/spec.replicas: a int32 arrived as length-delimited, expected varint/);
    expect(() => decode('v1', 'ConfigMap', (w) => w.int(1, 1))).toThrow(/metadata: a meta.ObjectMeta arrived as varint/);
  });

  it('fails on a truncated envelope', () => {
    const body = encodeEnvelope('v1', 'ConfigMap', new WireWriter().mapEntry(2, 'a', 'b').finish());
    for (const cut of [5, 8, body.length - 1]) expect(() => decodeProtobufObject(body.subarray(0, cut)), `cut at ${cut}`).toThrow(/runs past the end|truncated/);
  });

  it('refuses runaway nesting instead of exhausting the stack', () => {
    // RawExtension bodies can nest envelopes; build 150 levels of ControllerRevision.data.
    let body = encodeEnvelope('v1', 'ConfigMap', new Uint8Array());
    for (let i = 0; i < 150; i++) body = encodeEnvelope('apps/v1', 'ControllerRevision', new WireWriter().message(2, (r) => r.bytes(1, body)).finish());
    expect(() => decodeProtobufObject(body)).toThrow(/nested deeper than 100/);
  });

  it('reports kinds it has no table for', () => {
    expect(() => decode('example.com/v1', 'Widget', () => {})).toThrow(UnknownProtobufKindError);
  });
});

describe('decodeProtobufBody', () => {
  const statusOf = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (e instanceof StatusError) return e.status;
      throw e;
    }
    throw new Error('no error');
  };

  it('answers malformed input with 400 BadRequest', () => {
    const s = statusOf(() => decodeProtobufBody(Uint8Array.of(0x6b, 0x38, 0x73, 0x00, 0x0a, 0x80), ['application/json']));
    expect(s).toMatchObject({ code: 400, reason: 'BadRequest' });
    expect(s.message).toMatch(/^the body of the request is not valid Kubernetes protobuf: truncated varint at byte 5/);
  });

  it('answers unknown kinds with 415 naming JSON', () => {
    const s = statusOf(() => decodeProtobufBody(encodeEnvelope('example.com/v1', 'Widget', new Uint8Array()), ['application/json', 'application/yaml']));
    expect(s).toMatchObject({ code: 415, reason: 'UnsupportedMediaType' });
    expect(s.message).toContain('Widget (example.com/v1)');
    expect(s.message).toContain('accepted media types include: application/json, application/yaml');
  });
});

describe('the message table', () => {
  it('parses, and every kind names a message in it', () => {
    const t = builtinTables();
    for (const key of Object.keys(kindTable)) {
      const i = key.lastIndexOf('/');
      expect(t.kindMessage(key.slice(0, i), key.slice(i + 1)), key).toBeDefined();
    }
    expect(t.messages.size).toBe(Object.keys(messageTable).length);
  });

  it('covers the kinds kubectl sends through typed clients', () => {
    const t = builtinTables();
    for (const [gv, kind] of [
      ['v1', 'Namespace'],
      ['v1', 'ConfigMap'],
      ['v1', 'Secret'],
      ['v1', 'Service'],
      ['v1', 'ServiceAccount'],
      ['apps/v1', 'Deployment'],
      ['batch/v1', 'Job'],
      ['batch/v1', 'CronJob'],
      ['policy/v1', 'Eviction'],
      ['policy/v1', 'PodDisruptionBudget'],
      ['autoscaling/v1', 'Scale'],
      ['autoscaling/v1', 'HorizontalPodAutoscaler'],
      ['authorization.k8s.io/v1', 'SelfSubjectAccessReview'],
      ['authorization.k8s.io/v1', 'SelfSubjectRulesReview'],
      ['authentication.k8s.io/v1', 'TokenRequest'],
      ['authentication.k8s.io/v1', 'SelfSubjectReview'],
      ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'],
      ['networking.k8s.io/v1', 'Ingress'],
      ['scheduling.k8s.io/v1', 'PriorityClass'],
    ] as const) {
      expect(t.kindMessage(gv, kind), `${gv} ${kind}`).toBeDefined();
    }
  });

  it.each<{ name: string; table: Record<string, string>; error: RegExp }>([
    { name: 'an unknown type', table: { 'x.A': '1:b:Missing' }, error: /x.A field 1: unknown type "Missing"/ },
    { name: 'a field number used twice', table: { 'x.A': '1:a:s 1:b:s' }, error: /field 1 is defined twice/ },
    { name: 'a malformed field', table: { 'x.A': '1-a-s' }, error: /cannot parse field "1-a-s"/ },
    { name: 'an inline field with a JSON name', table: { 'x.A': '1:a:B^', 'x.B': '' }, error: /inline fields, and only they/ },
    { name: 'keepZero on a message', table: { 'x.A': '1:a:B?', 'x.B': '' }, error: /'\?' applies to scalars only/ },
  ])('rejects $name', ({ table, error }) => {
    expect(() => parseMessageTable(table)).toThrow(TableError);
    expect(() => parseMessageTable(table)).toThrow(error);
  });
});
