/**
 * Swagger 2.0 JSON → the protobuf form kubectl asks /openapi/v2 for
 * (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`): the gnostic
 * `openapi.v2.Document` message. kubectl parses it for client-side validation (kind: List
 * manifests, servers without fieldValidation) and for `kubectl explain
 * --output=plaintext-openapiv2`.
 *
 * Only the parts our documents use are encoded. Field numbers are those of gnostic's
 * OpenAPIv2.proto. Free-form values (enum items, defaults, vendor extensions) travel as the
 * `yaml` string of an `Any`; JSON text is valid YAML, so they are written as JSON.
 */
import type { SchemaObject } from './schema-convert.js';

/** A minimal protobuf writer: varints, length-delimited fields, nested messages. */
class Writer {
  private chunks: Buffer[] = [];
  private size = 0;

  private push(b: Buffer) {
    this.chunks.push(b);
    this.size += b.length;
  }

  private varint(n: number) {
    const bytes: number[] = [];
    let v = BigInt(n);
    if (v < 0n) v += 1n << 64n;
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) byte |= 0x80;
      bytes.push(byte);
    } while (v > 0n);
    this.push(Buffer.from(bytes));
  }

  private tag(field: number, wire: number) {
    this.varint((field << 3) | wire);
  }

  string(field: number, v: unknown) {
    if (typeof v !== 'string' || v === '') return;
    const b = Buffer.from(v, 'utf8');
    this.tag(field, 2);
    this.varint(b.length);
    this.push(b);
  }

  strings(field: number, v: unknown) {
    if (Array.isArray(v)) for (const s of v) if (typeof s === 'string') this.forceString(field, s);
  }

  /** A repeated string element is written even when empty. */
  private forceString(field: number, s: string) {
    const b = Buffer.from(s, 'utf8');
    this.tag(field, 2);
    this.varint(b.length);
    this.push(b);
  }

  bool(field: number, v: unknown) {
    if (v !== true) return;
    this.tag(field, 0);
    this.varint(1);
  }

  int(field: number, v: unknown) {
    if (typeof v !== 'number' || v === 0) return;
    this.tag(field, 0);
    this.varint(Math.trunc(v));
  }

  double(field: number, v: unknown) {
    if (typeof v !== 'number' || v === 0) return;
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    this.tag(field, 1);
    this.push(b);
  }

  message(field: number, build: (w: Writer) => void) {
    const w = new Writer();
    build(w);
    const b = w.finish();
    this.tag(field, 2);
    this.varint(b.length);
    this.push(b);
  }

  finish(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}

type Obj = SchemaObject;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** gnostic Any: { value = 1 (google.protobuf.Any), yaml = 2 }. */
function any(w: Writer, field: number, v: unknown) {
  w.message(field, (a) => a.string(2, JSON.stringify(v)));
}

/** Vendor extensions: repeated NamedAny { name = 1, value = 2 }. */
function extensions(w: Writer, field: number, o: Obj) {
  for (const [k, v] of Object.entries(o)) {
    if (!k.startsWith('x-')) continue;
    w.message(field, (n) => {
      n.string(1, k);
      any(n, 2, v);
    });
  }
}

function schema(w: Writer, s: Obj) {
  w.string(1, s['$ref']);
  w.string(2, s['format']);
  w.string(3, s['title']);
  w.string(4, s['description']);
  if (s['default'] !== undefined) any(w, 5, s['default']);
  w.double(6, s['multipleOf']);
  w.double(7, s['maximum']);
  w.bool(8, s['exclusiveMaximum']);
  w.double(9, s['minimum']);
  w.bool(10, s['exclusiveMinimum']);
  w.int(11, s['maxLength']);
  w.int(12, s['minLength']);
  w.string(13, s['pattern']);
  w.int(14, s['maxItems']);
  w.int(15, s['minItems']);
  w.bool(16, s['uniqueItems']);
  w.strings(19, s['required']);
  if (Array.isArray(s['enum'])) for (const e of s['enum']) any(w, 20, e);
  const ap = s['additionalProperties'];
  if (isObj(ap)) w.message(21, (a) => a.message(1, (x) => schema(x, ap)));
  else if (typeof ap === 'boolean') w.message(21, (a) => a.bool(2, ap));
  if (typeof s['type'] === 'string') w.message(22, (t) => t.strings(1, [s['type']]));
  const items = s['items'];
  if (isObj(items)) w.message(23, (i) => i.message(1, (x) => schema(x, items)));
  if (Array.isArray(s['allOf'])) for (const sub of s['allOf']) if (isObj(sub)) w.message(24, (x) => schema(x, sub));
  const props = s['properties'];
  if (isObj(props)) {
    w.message(25, (p) => {
      for (const [name, sub] of Object.entries(props)) {
        if (!isObj(sub)) continue;
        p.message(1, (n) => {
          n.string(1, name);
          n.message(2, (x) => schema(x, sub));
        });
      }
    });
  }
  w.bool(27, s['readOnly']);
  extensions(w, 31, s);
}

/** A non-body parameter (query or path); the two sub-schemas number their fields differently. */
function nonBodyParameter(w: Writer, p: Obj) {
  const query = p['in'] === 'query';
  w.message(query ? 3 : 4, (q) => {
    q.bool(1, p['required']);
    q.string(2, p['in']);
    q.string(3, p['description']);
    q.string(4, p['name']);
    if (query) {
      q.string(6, p['type']);
      q.string(7, p['format']);
      q.bool(20, p['uniqueItems']);
      if (Array.isArray(p['enum'])) for (const e of p['enum']) any(q, 21, e);
      extensions(q, 23, p);
    } else {
      q.string(5, p['type']);
      q.string(6, p['format']);
      q.bool(19, p['uniqueItems']);
      if (Array.isArray(p['enum'])) for (const e of p['enum']) any(q, 20, e);
      extensions(q, 22, p);
    }
  });
}

/** ParametersItem { parameter = 1 { body_parameter = 1 | non_body_parameter = 2 } }. */
function parametersItem(w: Writer, field: number, p: Obj) {
  w.message(field, (item) =>
    item.message(1, (param) => {
      if (p['in'] === 'body') {
        param.message(1, (b) => {
          b.string(1, p['description']);
          b.string(2, p['name']);
          b.string(3, p['in']);
          b.bool(4, p['required']);
          if (isObj(p['schema'])) b.message(5, (x) => schema(x, p['schema'] as Obj));
        });
      } else param.message(2, (nb) => nonBodyParameter(nb, p));
    }),
  );
}

function operation(w: Writer, op: Obj) {
  w.strings(1, op['tags']);
  w.string(2, op['summary']);
  w.string(3, op['description']);
  w.string(5, op['operationId']);
  w.strings(6, op['produces']);
  w.strings(7, op['consumes']);
  if (Array.isArray(op['parameters'])) for (const p of op['parameters']) if (isObj(p)) parametersItem(w, 8, p);
  const responses = op['responses'];
  if (isObj(responses)) {
    w.message(9, (rs) => {
      for (const [code, r] of Object.entries(responses)) {
        if (!isObj(r)) continue;
        rs.message(1, (named) => {
          named.string(1, code);
          named.message(2, (rv) =>
            rv.message(1, (resp) => {
              resp.string(1, r['description']);
              if (isObj(r['schema'])) resp.message(2, (si) => si.message(1, (x) => schema(x, r['schema'] as Obj)));
            }),
          );
        });
      }
    });
  }
  w.strings(10, op['schemes']);
  w.bool(11, op['deprecated']);
  extensions(w, 13, op);
}

const methodFields: Record<string, number> = { get: 2, put: 3, post: 4, delete: 5, options: 6, head: 7, patch: 8 };

function pathItem(w: Writer, item: Obj) {
  for (const [method, field] of Object.entries(methodFields)) {
    const op = item[method];
    if (isObj(op)) w.message(field, (o) => operation(o, op));
  }
  if (Array.isArray(item['parameters'])) for (const p of item['parameters']) if (isObj(p)) parametersItem(w, 9, p);
  extensions(w, 10, item);
}

/** Encodes a Swagger 2.0 document (as produced by the generator) as openapi.v2.Document. */
export function encodeSwaggerProtobuf(doc: Obj): Buffer {
  const w = new Writer();
  w.string(1, doc['swagger']);
  const info = doc['info'];
  if (isObj(info)) {
    w.message(2, (i) => {
      i.string(1, info['title']);
      i.string(2, info['version']);
      i.string(3, info['description']);
    });
  }
  const paths = doc['paths'];
  if (isObj(paths)) {
    w.message(8, (ps) => {
      for (const [path, item] of Object.entries(paths)) {
        if (!isObj(item)) continue;
        ps.message(2, (n) => {
          n.string(1, path);
          n.message(2, (x) => pathItem(x, item));
        });
      }
    });
  }
  const defs = doc['definitions'];
  if (isObj(defs)) {
    w.message(9, (ds) => {
      for (const [name, s] of Object.entries(defs)) {
        if (!isObj(s)) continue;
        ds.message(1, (n) => {
          n.string(1, name);
          n.message(2, (x) => schema(x, s));
        });
      }
    });
  }
  extensions(w, 16, doc);
  return w.finish();
}
