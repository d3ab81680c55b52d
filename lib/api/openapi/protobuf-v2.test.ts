import { describe, expect, test } from 'vitest';
import { parse as parseYAML } from 'yaml';
import { builtinResources } from '../builtin.js';
import { OpenAPIGenerator } from './documents.js';
import { encodeSwaggerProtobuf } from './protobuf-v2.js';

/** A small protobuf reader for the test: field number → raw values (Buffers for wire type 2, bigints for varints). */
type Fields = Map<number, (Buffer | bigint)[]>;

function decode(buf: Buffer): Fields {
  const out: Fields = new Map();
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++]!;
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const field = key >> 3;
    const wire = key & 7;
    let value: Buffer | bigint;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const len = Number(varint());
      value = buf.subarray(i, i + len);
      i += len;
    } else if (wire === 1) {
      value = buf.subarray(i, i + 8);
      i += 8;
    } else throw new Error(`unexpected wire type ${wire} at ${i}`);
    out.set(field, [...(out.get(field) ?? []), value]);
  }
  return out;
}

const str = (f: Fields, n: number) => (f.get(n)?.[0] as Buffer | undefined)?.toString('utf8');
const msgs = (f: Fields, n: number) => (f.get(n) ?? []).map((b) => decode(b as Buffer));

describe('encodeSwaggerProtobuf', () => {
  const docs = new OpenAPIGenerator({ title: 'tkube', version: 'test' }).documents(builtinResources);
  const json = JSON.parse(docs.v2().json);
  const doc = decode(docs.v2Protobuf());

  test('Document: swagger, info, every definition and path by name', () => {
    expect(str(doc, 1)).toBe('2.0');
    expect(str(msgs(doc, 2)[0]!, 1)).toBe('tkube');
    const defs = msgs(msgs(doc, 9)[0]!, 1).map((named) => str(named, 1));
    expect(defs).toEqual(Object.keys(json.definitions));
    const paths = msgs(msgs(doc, 8)[0]!, 2).map((named) => str(named, 1));
    expect(paths).toEqual(Object.keys(json.paths));
  });

  test('a definition keeps its type, description, required fields, properties and vendor extensions (as YAML)', () => {
    const named = msgs(msgs(doc, 9)[0]!, 1).find((n) => str(n, 1) === 'io.k8s.api.core.v1.Container')!;
    const schema = msgs(named, 2)[0]!;
    expect(str(schema, 4)).toBe(json.definitions['io.k8s.api.core.v1.Container'].description);
    expect(str(msgs(schema, 22)[0]!, 1)).toBe('object');
    expect((schema.get(19) ?? []).map((b) => (b as Buffer).toString())).toEqual(['name']);
    const props = msgs(msgs(schema, 25)[0]!, 1);
    const ports = props.find((p) => str(p, 1) === 'ports')!;
    const portsSchema = msgs(ports, 2)[0]!;
    const exts = Object.fromEntries(msgs(portsSchema, 31).map((e) => [str(e, 1), parseYAML(str(msgs(e, 2)[0]!, 2)!)]));
    expect(exts['x-kubernetes-patch-merge-key']).toBe('containerPort');
    expect(exts['x-kubernetes-list-map-keys']).toEqual(['containerPort', 'protocol']);
    const items = msgs(msgs(portsSchema, 23)[0]!, 1)[0]!;
    expect(str(items, 1)).toBe('#/definitions/io.k8s.api.core.v1.ContainerPort');
  });

  test('kinds carry x-kubernetes-group-version-kind as a YAML list, which is how kubectl finds them', () => {
    const named = msgs(msgs(doc, 9)[0]!, 1).find((n) => str(n, 1) === 'io.k8s.api.apps.v1.Deployment')!;
    const ext = msgs(msgs(named, 2)[0]!, 31).find((e) => str(e, 1) === 'x-kubernetes-group-version-kind')!;
    expect(parseYAML(str(msgs(ext, 2)[0]!, 2)!)).toEqual([{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
  });

  test('operations: query parameters as non-body parameters, the body as a body parameter', () => {
    const item = msgs(msgs(doc, 8)[0]!, 2).find((n) => str(n, 1) === '/apis/apps/v1/namespaces/{namespace}/deployments/{name}')!;
    const patch = msgs(msgs(item, 2)[0]!, 8)[0]!;
    expect(str(patch, 5)).toBe('patchAppsV1NamespacedDeployment');
    const consumes = (patch.get(7) ?? []).map((b) => (b as Buffer).toString());
    expect(consumes).toContain('application/strategic-merge-patch+json');
    const params = msgs(patch, 8).map((pi) => msgs(pi, 1)[0]!);
    const body = msgs(params[0]!, 1)[0]!;
    expect(str(body, 2)).toBe('body');
    const query = params.slice(1).map((p) => msgs(msgs(p, 2)[0]!, 3)[0]!);
    expect(query.map((q) => str(q, 4))).toContain('fieldValidation');
    expect(query.every((q) => str(q, 2) === 'query')).toBe(true);
  });

  test('long strings and nested messages round-trip (multi-byte lengths, UTF-8)', () => {
    const long = 'é'.repeat(300);
    const out = decode(encodeSwaggerProtobuf({ swagger: '2.0', info: { title: long, version: 'v' } }));
    expect(str(msgs(out, 2)[0]!, 1)).toBe(long);
  });
});
