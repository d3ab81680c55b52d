/**
 * Turns the notation of messages.ts into message definitions the decoder walks. Parsing
 * checks the whole table (every referenced message exists, every type is known), so a typo
 * fails the first decode and the table's unit test rather than a request months later.
 */
import { kindTable, messageTable } from './messages.js';

export const scalarTypes = ['s', 'b', 'i32', 'i64', 'f64', 'y'] as const;
export type ScalarType = (typeof scalarTypes)[number];

/** Kubernetes types with a protobuf form unlike their JSON form, decoded by hand. */
export const specialTypes = ['Time', 'MicroTime', 'Quantity', 'IntOrString', 'RawExtension', 'FieldsV1'] as const;
export type SpecialType = (typeof specialTypes)[number];

export type ValueType = { kind: 'scalar'; type: ScalarType } | { kind: 'special'; type: SpecialType } | { kind: 'message'; type: string };

export interface FieldDef {
  number: number;
  /** JSON name; empty for inline fields. */
  json: string;
  value: ValueType;
  repeated: boolean;
  /** map<string, value>: repeated entry messages {key = 1, value = 2}. */
  map: boolean;
  /** Keep a zero scalar that is on the wire (pointer or non-omitempty field). */
  keepZero: boolean;
  /** Merge the embedded message's fields into the enclosing object. */
  inline: boolean;
}

export interface MessageDef {
  name: string;
  fields: ReadonlyMap<number, FieldDef>;
  /** A Go slice wrapped in a message: its JSON is the array in field 1. */
  list: boolean;
}

export class TableError extends Error {
  override name = 'TableError';
}

function parseValueType(text: string, pkg: string, known: Set<string>, where: string): ValueType {
  if ((scalarTypes as readonly string[]).includes(text)) return { kind: 'scalar', type: text as ScalarType };
  if ((specialTypes as readonly string[]).includes(text)) return { kind: 'special', type: text as SpecialType };
  const name = text.includes('.') ? text : `${pkg}.${text}`;
  if (!known.has(name)) throw new TableError(`${where}: unknown type ${JSON.stringify(text)}`);
  return { kind: 'message', type: name };
}

function parseField(spec: string, pkg: string, known: Set<string>, where: string): FieldDef {
  const m = /^(\d+):(\w*):(\{?)([\w.]+)(\}?)([*?^]*)$/.exec(spec);
  if (!m || (m[3] === '{') !== (m[5] === '}')) throw new TableError(`${where}: cannot parse field ${JSON.stringify(spec)}`);
  const [, num, json, open, type, , flags] = m as unknown as [string, string, string, string, string, string, string];
  const f: FieldDef = {
    number: Number(num),
    json,
    value: parseValueType(type, pkg, known, `${where} field ${num}`),
    repeated: flags.includes('*'),
    map: open === '{',
    keepZero: flags.includes('?'),
    inline: flags.includes('^'),
  };
  if (f.inline !== (json === '')) throw new TableError(`${where} field ${num}: inline fields, and only they, have no JSON name`);
  if (f.inline && (f.value.kind !== 'message' || f.repeated || f.map)) throw new TableError(`${where} field ${num}: only a single message can be inline`);
  if (f.keepZero && f.value.kind !== 'scalar') throw new TableError(`${where} field ${num}: '?' applies to scalars only`);
  return f;
}

/** Parses a table in the notation of messages.ts. */
export function parseMessageTable(table: Readonly<Record<string, string>>): Map<string, MessageDef> {
  const known = new Set(Object.keys(table));
  const defs = new Map<string, MessageDef>();
  for (const [name, text] of Object.entries(table)) {
    const pkg = name.slice(0, name.indexOf('.'));
    let specs = text.trim().split(/\s+/).filter(Boolean);
    const list = specs[0] === 'list';
    if (list) specs = specs.slice(1);
    const fields = new Map<number, FieldDef>();
    for (const spec of specs) {
      const f = parseField(spec, pkg, known, name);
      if (fields.has(f.number)) throw new TableError(`${name}: field ${f.number} is defined twice`);
      fields.set(f.number, f);
    }
    if (list && (fields.size !== 1 || !fields.get(1)?.repeated)) throw new TableError(`${name}: a list message has exactly one field, repeated, numbered 1`);
    defs.set(name, { name, fields, list });
  }
  return defs;
}

export interface ProtobufTables {
  messages: ReadonlyMap<string, MessageDef>;
  /** Message name of a top-level kind, or undefined when tkube cannot decode it. */
  kindMessage(apiVersion: string, kind: string): MessageDef | undefined;
}

let builtin: ProtobufTables | undefined;

/** The built-in tables, parsed (and checked) on first use. */
export function builtinTables(): ProtobufTables {
  if (builtin) return builtin;
  const messages = parseMessageTable(messageTable);
  const kinds = new Map<string, MessageDef>();
  for (const [key, name] of Object.entries(kindTable)) {
    const def = messages.get(name);
    if (!def) throw new TableError(`kind ${key}: unknown message ${name}`);
    kinds.set(key, def);
  }
  const deleteOptions = messages.get('meta.DeleteOptions')!;
  builtin = {
    messages,
    // DeleteOptions is registered in every group version, so a typed client may label it
    // with its own group's apiVersion (v1, apps/v1, ...).
    kindMessage: (apiVersion, kind) => kinds.get(`${apiVersion}/${kind}`) ?? (kind === 'DeleteOptions' && /^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/.test(apiVersion) ? deleteOptions : undefined),
  };
  return builtin;
}
