/**
 * Field selectors: `metadata.name=web,status.phase!=Running`. Only `=`, `==` and `!=`;
 * `\,` and `\=` escape. Each kind declares which fields it supports.
 */
import { newBadRequest } from './status.js';

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export class FieldSelector {
  constructor(readonly requirements: readonly FieldRequirement[]) {}
  static everything(): FieldSelector {
    return new FieldSelector([]);
  }
  isEmpty(): boolean {
    return this.requirements.length === 0;
  }
  matches(fields: Record<string, string>): boolean {
    for (const r of this.requirements) {
      const v = fields[r.field] ?? '';
      if (r.op === '=' ? v !== r.value : v === r.value) return false;
    }
    return true;
  }
  /** The value the selector requires for `field`, if it pins one (`field=value`). */
  exactValue(field: string): string | undefined {
    return this.requirements.find((r) => r.field === field && r.op === '=')?.value;
  }
  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.op}${r.value.replace(/[\\,=]/g, (c) => `\\${c}`)}`).join(',');
  }
}

function splitUnescaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
    } else if (c === sep) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

function unescape(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      const n = s[i + 1];
      if (n === '\\' || n === ',' || n === '=') {
        out += n;
        i++;
        continue;
      }
      throw newBadRequest(`invalid field selector: invalid escape sequence: \\${n ?? ''}`);
    }
    out += c;
  }
  return out;
}

/** Parses the string form; a bad selector is a 400 naming the part that failed. */
export function parseFieldSelector(s: string): FieldSelector {
  const reqs: FieldRequirement[] = [];
  if (s.trim() === '') return new FieldSelector(reqs);
  for (const part of splitUnescaped(s, ',')) {
    const m = /^(.*?)(!=|==|=)(.*)$/s.exec(part);
    if (!m || m[1]!.trim() === '') throw newBadRequest(`invalid field selector: invalid selector: '${s}'; can't understand '${part}'`);
    reqs.push({ field: m[1]!.trim(), op: m[2] === '!=' ? '!=' : '=', value: unescape(m[3]!) });
  }
  return new FieldSelector(reqs);
}
