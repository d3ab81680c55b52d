/**
 * Decodes Kubernetes protobuf bodies into the plain JSON objects tkube's schemas parse: the
 * object kubectl would have sent had it spoken JSON.
 *
 * A body is the magic `k8s\0` followed by a runtime.Unknown message:
 *
 *   Unknown { typeMeta = 1 { apiVersion = 1, kind = 2 }, raw = 2, contentEncoding = 3, contentType = 4 }
 *
 * and `raw` is the object's own message, described by the tables of messages.ts.
 */
import { ProtobufDecodeError, WireReader, WireType, wireTypeName } from './wire.js';
import { builtinTables, type FieldDef, type MessageDef, type ProtobufTables, type ScalarType, type SpecialType, type ValueType } from './table.js';

export const protobufMediaType = 'application/vnd.kubernetes.protobuf';

/** The magic prefix of every Kubernetes protobuf body: "k8s" and a zero byte. */
export const protobufMagic = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

/** Deeper nesting than any Kubernetes type has; guards the stack against hostile input. */
const maxDepth = 100;

/** A decoding failure at a field: `path` is the JSON path to it, e.g. spec.template.spec.containers[0].ports. */
export class ProtobufFieldError extends ProtobufDecodeError {
  override name = 'ProtobufFieldError';
  constructor(
    readonly reason: string,
    readonly path: string,
    offset?: number,
  ) {
    super(path ? `${path}: ${reason}` : reason, offset);
  }
}

/** The body names a kind tkube has no message table for. */
export class UnknownProtobufKindError extends Error {
  override name = 'UnknownProtobufKindError';
  constructor(
    readonly apiVersion: string,
    readonly kind: string,
  ) {
    super(`no protobuf decoding is known for kind ${JSON.stringify(kind)} in version ${JSON.stringify(apiVersion)}`);
  }
}

export interface ProtobufEnvelope {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
  contentEncoding: string;
  contentType: string;
}

export function hasProtobufMagic(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0x6b && buf[1] === 0x38 && buf[2] === 0x73 && buf[3] === 0x00;
}

function expectWireType(got: WireType, want: WireType, what: string): void {
  if (got !== want) throw new ProtobufDecodeError(`${what} arrived as ${wireTypeName(got)}, expected ${wireTypeName(want)}`);
}

/** Reads the magic prefix and the runtime.Unknown envelope around an object. */
export function readEnvelope(buf: Uint8Array): ProtobufEnvelope {
  if (!hasProtobufMagic(buf)) throw new ProtobufDecodeError('the body does not start with the Kubernetes protobuf prefix "k8s\\x00"', 0);
  const env: ProtobufEnvelope = { apiVersion: '', kind: '', raw: new Uint8Array(0), contentEncoding: '', contentType: '' };
  const r = new WireReader(buf, protobufMagic.length);
  while (!r.done) {
    const { field, wireType } = r.readTag();
    switch (field) {
      case 1: {
        expectWireType(wireType, WireType.LengthDelimited, 'typeMeta');
        const tm = r.readMessage();
        while (!tm.done) {
          const t = tm.readTag();
          if (t.field === 1 || t.field === 2) {
            expectWireType(t.wireType, WireType.LengthDelimited, t.field === 1 ? 'typeMeta.apiVersion' : 'typeMeta.kind');
            if (t.field === 1) env.apiVersion = tm.readString();
            else env.kind = tm.readString();
          } else tm.skip(t.wireType, t.field);
        }
        break;
      }
      case 2:
        expectWireType(wireType, WireType.LengthDelimited, 'raw');
        env.raw = r.readBytes();
        break;
      case 3:
        expectWireType(wireType, WireType.LengthDelimited, 'contentEncoding');
        env.contentEncoding = r.readString();
        break;
      case 4:
        expectWireType(wireType, WireType.LengthDelimited, 'contentType');
        env.contentType = r.readString();
        break;
      default:
        r.skip(wireType, field);
    }
  }
  return env;
}

export interface DecodeOptions {
  tables?: ProtobufTables;
}

/**
 * Decodes a whole body (magic, envelope, object) into a JSON object with apiVersion and kind
 * first. Throws ProtobufDecodeError for malformed input and UnknownProtobufKindError when the
 * kind has no table.
 */
export function decodeProtobufObject(buf: Uint8Array, opts: DecodeOptions = {}): Record<string, unknown> {
  return decodeEnvelope(buf, opts.tables ?? builtinTables(), 0);
}

function decodeEnvelope(buf: Uint8Array, tables: ProtobufTables, depth: number): Record<string, unknown> {
  const env = readEnvelope(buf);
  if (!env.kind) throw new ProtobufDecodeError('the envelope names no kind (typeMeta.kind is empty)');
  if (env.contentEncoding) throw new ProtobufDecodeError(`content encoding ${JSON.stringify(env.contentEncoding)} is not supported`);
  const head = { apiVersion: env.apiVersion, kind: env.kind };
  if (env.contentType === 'application/json') {
    const obj = parseJSON(env.raw, 'raw');
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new ProtobufDecodeError('raw JSON is not an object');
    return { ...head, ...(obj as Record<string, unknown>) };
  }
  if (env.contentType && env.contentType !== protobufMediaType) throw new ProtobufDecodeError(`content type ${JSON.stringify(env.contentType)} of raw is not supported`);
  const def = tables.kindMessage(env.apiVersion, env.kind);
  if (!def) throw new UnknownProtobufKindError(env.apiVersion, env.kind);
  const out: Record<string, unknown> = { ...head };
  const r = new WireReader(env.raw);
  decodeInto(def, r, out, { tables, depth, path: [] });
  return out;
}

interface State {
  tables: ProtobufTables;
  depth: number;
  /** JSON path of the field being decoded, for error messages. */
  path: string[];
}

function pathString(path: string[]): string {
  return path.reduce((acc, seg) => (seg.startsWith('[') ? acc + seg : acc ? `${acc}.${seg}` : seg), '');
}

/** Decodes one message into `out` (merging, as protobuf does when a message field repeats). */
function decodeInto(def: MessageDef, r: WireReader, out: Record<string, unknown>, st: State): void {
  if (st.depth > maxDepth) throw new ProtobufFieldError(`messages nested deeper than ${maxDepth}`, pathString(st.path), r.offset);
  while (!r.done) {
    const { field, wireType } = r.readTag();
    const f = def.fields.get(field);
    if (!f) {
      r.skip(wireType, field);
      continue;
    }
    if (!f.inline) st.path.push(f.json);
    try {
      readField(f, wireType, r, out, st);
    } catch (e) {
      if (e instanceof ProtobufDecodeError && !(e instanceof ProtobufFieldError)) {
        throw new ProtobufFieldError(e.message, pathString(st.path), e.offset);
      }
      throw e;
    }
    if (!f.inline) st.path.pop();
  }
}

function readField(f: FieldDef, wireType: WireType, r: WireReader, out: Record<string, unknown>, st: State): void {
  if (f.inline) {
    expectWireType(wireType, WireType.LengthDelimited, 'an embedded message');
    decodeInto(st.tables.messages.get(f.value.type)!, r.readMessage(), out, { ...st, depth: st.depth + 1 });
    return;
  }
  if (f.map) {
    expectWireType(wireType, WireType.LengthDelimited, 'a map entry');
    const [key, value] = readMapEntry(f.value, r.readMessage(), st);
    // defineProperty, so that a key such as "__proto__" stays a plain key (as in JSON.parse).
    Object.defineProperty((out[f.json] ??= {}) as Record<string, unknown>, key, { value, enumerable: true, writable: true, configurable: true });
    return;
  }
  if (f.repeated) {
    const list = (out[f.json] ??= []) as unknown[];
    if (f.value.kind === 'scalar' && wireType === WireType.LengthDelimited && isPackable(f.value.type)) {
      // Packed encoding: proto2 writers do not use it for Kubernetes types, but readers accept both.
      const p = r.readMessage();
      while (!p.done) list.push(readScalar(f.value.type, p));
      return;
    }
    st.path.push(`[${list.length}]`);
    const v = readValue(f.value, wireType, r, st);
    st.path.pop();
    if (v !== undefined) list.push(v);
    return;
  }
  if (f.value.kind === 'message' && wireType === WireType.LengthDelimited) {
    // A message field seen twice merges, as in every protobuf implementation.
    const prev = out[f.json];
    const def = st.tables.messages.get(f.value.type)!;
    if (!def.list && prev !== null && typeof prev === 'object' && !Array.isArray(prev)) {
      decodeInto(def, r.readMessage(), prev as Record<string, unknown>, { ...st, depth: st.depth + 1 });
      return;
    }
  }
  const v = readValue(f.value, wireType, r, st);
  if (v === undefined || (!f.keepZero && f.value.kind === 'scalar' && isZero(v))) delete out[f.json];
  else out[f.json] = v;
}

function readMapEntry(value: ValueType, r: WireReader, st: State): [string, unknown] {
  let key = '';
  let v: unknown;
  let seen = false;
  while (!r.done) {
    const t = r.readTag();
    if (t.field === 1) {
      expectWireType(t.wireType, WireType.LengthDelimited, 'a map key');
      key = r.readString();
    } else if (t.field === 2) {
      v = readValue(value, t.wireType, r, st);
      seen = true;
    } else r.skip(t.wireType, t.field);
  }
  // An entry without a value holds the zero value of the value type.
  return [key, seen ? v : zeroValue(value, st)];
}

function zeroValue(v: ValueType, st: State): unknown {
  switch (v.kind) {
    case 'scalar':
      return v.type === 'b' ? false : v.type === 's' || v.type === 'y' ? '' : 0;
    case 'special':
      return readSpecial(v.type, new WireReader(new Uint8Array(0)), st);
    case 'message':
      return st.tables.messages.get(v.type)!.list ? [] : {};
  }
}

function isPackable(t: ScalarType): boolean {
  return t === 'b' || t === 'i32' || t === 'i64' || t === 'f64';
}

function isZero(v: unknown): boolean {
  return v === '' || v === false || v === 0;
}

function wireTypeOf(v: ValueType): WireType {
  if (v.kind !== 'scalar') return WireType.LengthDelimited;
  switch (v.type) {
    case 'b':
    case 'i32':
    case 'i64':
      return WireType.Varint;
    case 'f64':
      return WireType.Fixed64;
    default:
      return WireType.LengthDelimited;
  }
}

/** Reads one value; `undefined` means "leave the field out". */
function readValue(v: ValueType, wireType: WireType, r: WireReader, st: State): unknown {
  expectWireType(wireType, wireTypeOf(v), `a ${v.kind === 'scalar' ? scalarNames[v.type] : v.type}`);
  switch (v.kind) {
    case 'scalar':
      return readScalar(v.type, r);
    case 'special':
      return readSpecial(v.type, r.readMessage(), st);
    case 'message': {
      const def = st.tables.messages.get(v.type)!;
      const out: Record<string, unknown> = {};
      decodeInto(def, r.readMessage(), out, { ...st, depth: st.depth + 1 });
      return def.list ? (out[def.fields.get(1)!.json] ?? []) : out;
    }
  }
}

const scalarNames: Record<ScalarType, string> = { s: 'string', b: 'bool', i32: 'int32', i64: 'int64', f64: 'double', y: 'bytes' };

function readScalar(t: ScalarType, r: WireReader): unknown {
  switch (t) {
    case 's':
      return r.readString();
    case 'y':
      return Buffer.from(r.readBytes()).toString('base64');
    case 'b':
      return r.readBool();
    case 'i32':
      return r.readInt32();
    case 'i64':
      return r.readInt64();
    case 'f64':
      return r.readDouble();
  }
}

/** Reads the fields of a small fixed message: field number → value. */
function readSmall(r: WireReader, kinds: Record<number, ScalarType>): Map<number, unknown> {
  const got = new Map<number, unknown>();
  while (!r.done) {
    const t = r.readTag();
    const k = kinds[t.field];
    if (!k) {
      r.skip(t.wireType, t.field);
      continue;
    }
    expectWireType(t.wireType, wireTypeOf({ kind: 'scalar', type: k }), `field ${t.field}, a ${scalarNames[k]}`);
    got.set(t.field, k === 'y' ? r.readBytes() : readScalar(k, r));
  }
  return got;
}

function readSpecial(t: SpecialType, r: WireReader, st: State): unknown {
  switch (t) {
    case 'Time':
    case 'MicroTime': {
      // Go writes a zero time as an empty message and prints it as null in JSON.
      if (r.done) return null;
      const f = readSmall(r, { 1: 'i64', 2: 'i32' });
      return formatTime((f.get(1) as number | undefined) ?? 0, (f.get(2) as number | undefined) ?? 0, t === 'MicroTime');
    }
    case 'Quantity': {
      const f = readSmall(r, { 1: 's' });
      return f.has(1) ? f.get(1) : '0';
    }
    case 'IntOrString': {
      // {type = 1 (0 Int, 1 String), intVal = 2, strVal = 3}
      const f = readSmall(r, { 1: 'i64', 2: 'i32', 3: 's' });
      return f.get(1) === 1 ? ((f.get(3) as string | undefined) ?? '') : ((f.get(2) as number | undefined) ?? 0);
    }
    case 'RawExtension':
    case 'FieldsV1': {
      const raw = readSmall(r, { 1: 'y' }).get(1) as Uint8Array | undefined;
      if (!raw || raw.length === 0) return t === 'RawExtension' ? null : undefined;
      // An embedded object may itself be a protobuf body (k8s\0...), or JSON.
      if (t === 'RawExtension' && hasProtobufMagic(raw)) return decodeEnvelope(raw, st.tables, st.depth + 1);
      return parseJSON(raw, t === 'RawExtension' ? 'raw' : 'fieldsV1');
    }
  }
}

function parseJSON(raw: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(raw).toString('utf8'));
  } catch (e) {
    throw new ProtobufDecodeError(`${what} holds neither JSON nor a Kubernetes protobuf object: ${(e as Error).message}`);
  }
}

const minSeconds = -62135596800; // 0001-01-01T00:00:00Z
const maxSeconds = 253402300799; // 9999-12-31T23:59:59Z

/** metav1.Time prints RFC 3339 to the second; MicroTime to the microsecond. Both in UTC. */
export function formatTime(seconds: number, nanos: number, micro: boolean): string {
  if (seconds < minSeconds || seconds > maxSeconds) throw new ProtobufDecodeError(`time ${seconds}s lies outside the years 0001-9999`);
  if (nanos < 0 || nanos > 999_999_999) throw new ProtobufDecodeError(`nanoseconds ${nanos} out of range`);
  const iso = new Date(seconds * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  const base = iso.slice(0, 19);
  return micro ? `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${base}Z`;
}
