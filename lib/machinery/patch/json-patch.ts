/** JSON Patch (RFC 6902): add, remove, replace, move, copy, test. */
import { newBadRequest, newInvalid, StatusError } from '../status.js';
import { jsonEqual } from '../json.js';

interface Op {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

function parsePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw newBadRequest(`the JSON pointer "${p}" must start with '/'`);
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

function walk(doc: unknown, tokens: string[], op: string, path: string): { parent: Container; key: string } {
  let cur = doc;
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i]!;
    if (Array.isArray(cur)) {
      const idx = Number(t);
      if (!/^\d+$/.test(t) || idx >= cur.length) throw fail(op, path, `array index ${t} out of bounds`);
      cur = cur[idx];
    } else if (cur && typeof cur === 'object') {
      if (!(t in (cur as object))) throw fail(op, path, `missing path element "${t}"`);
      cur = (cur as Record<string, unknown>)[t];
    } else throw fail(op, path, `cannot traverse into a ${cur === null ? 'null' : typeof cur}`);
  }
  if (cur === null || typeof cur !== 'object') throw fail(op, path, 'the parent of the target is not an object or array');
  return { parent: cur as Container, key: tokens[tokens.length - 1]! };
}

function fail(op: string, path: string, why: string): StatusError {
  return newInvalid('', 'JSONPatch', '', [{ type: 'FieldValueInvalid', field: path, badValue: op, detail: `the JSON patch ${op} operation failed: ${why}` }]);
}

function getAt(doc: unknown, path: string, op: string): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return doc;
  const { parent, key } = walk(doc, tokens, op, path);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!/^\d+$/.test(key) || i >= parent.length) throw fail(op, path, `array index ${key} out of bounds`);
    return parent[i];
  }
  if (!(key in parent)) throw fail(op, path, `missing value at "${path}"`);
  return parent[key];
}

function removeAt(doc: unknown, path: string, op: string): unknown {
  const tokens = parsePointer(path);
  const { parent, key } = walk(doc, tokens, op, path);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!/^\d+$/.test(key) || i >= parent.length) throw fail(op, path, `array index ${key} out of bounds`);
    return parent.splice(i, 1)[0];
  }
  if (!(key in parent)) throw fail(op, path, `unable to remove nonexistent key: ${key}`);
  const v = parent[key];
  delete parent[key];
  return v;
}

function addAt(doc: unknown, path: string, value: unknown, op: string): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return value;
  const { parent, key } = walk(doc, tokens, op, path);
  if (Array.isArray(parent)) {
    if (key === '-') parent.push(value);
    else {
      const i = Number(key);
      if (!/^\d+$/.test(key) || i > parent.length) throw fail(op, path, `array index ${key} out of bounds`);
      parent.splice(i, 0, value);
    }
  } else parent[key] = value;
  return doc;
}

/** Applies a JSON patch document to a copy of `doc`. Errors are 400/422 Status errors. */
export function applyJSONPatch(doc: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw newBadRequest('the JSON patch must be an array of operations');
  let out = structuredClone(doc);
  for (const raw of patch as Op[]) {
    if (!raw || typeof raw !== 'object' || typeof raw.op !== 'string' || typeof raw.path !== 'string')
      throw newBadRequest('each JSON patch operation must be an object with "op" and "path"');
    switch (raw.op) {
      case 'add':
        if (!('value' in raw)) throw newBadRequest(`JSON patch "add" at ${raw.path} has no value`);
        out = addAt(out, raw.path, structuredClone(raw.value), 'add');
        break;
      case 'remove':
        removeAt(out, raw.path, 'remove');
        break;
      case 'replace': {
        if (!('value' in raw)) throw newBadRequest(`JSON patch "replace" at ${raw.path} has no value`);
        const tokens = parsePointer(raw.path);
        if (tokens.length === 0) out = structuredClone(raw.value);
        else {
          getAt(out, raw.path, 'replace');
          const { parent, key } = walk(out, tokens, 'replace', raw.path);
          if (Array.isArray(parent)) parent[Number(key)] = structuredClone(raw.value);
          else parent[key] = structuredClone(raw.value);
        }
        break;
      }
      case 'move': {
        if (typeof raw.from !== 'string') throw newBadRequest('JSON patch "move" needs "from"');
        const v = removeAt(out, raw.from, 'move');
        out = addAt(out, raw.path, v, 'move');
        break;
      }
      case 'copy': {
        if (typeof raw.from !== 'string') throw newBadRequest('JSON patch "copy" needs "from"');
        out = addAt(out, raw.path, structuredClone(getAt(out, raw.from, 'copy')), 'copy');
        break;
      }
      case 'test':
        if (!jsonEqual(getAt(out, raw.path, 'test'), raw.value)) throw fail('test', raw.path, 'testing value failed');
        break;
      default:
        throw newBadRequest(`unsupported JSON patch operation "${raw.op}"`);
    }
  }
  return out;
}
