/**
 * Label selectors: the string form (`a=b,c!=d,e in (x,y),f notin (z),g,!h`) and the
 * metav1.LabelSelector object form (matchLabels, matchExpressions), both compiled to
 * a list of requirements that are ANDed.
 */
import { newBadRequest } from './status.js';
import { isQualifiedName, isValidLabelValue } from './validation.js';

export type Operator = 'in' | 'notin' | 'exists' | '!' | '=' | '!=' | 'gt' | 'lt';

export interface Requirement {
  key: string;
  op: Operator;
  values: string[];
}

export type Labels = Record<string, string> | undefined | null;

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

/** metav1.LabelSelector */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export class LabelSelector {
  /** `nothing` selects no object at all (a nil selector in upstream's terms). */
  constructor(
    readonly requirements: readonly Requirement[],
    private readonly nothing = false,
  ) {}

  static everything(): LabelSelector {
    return new LabelSelector([]);
  }
  static nothing(): LabelSelector {
    return new LabelSelector([], true);
  }

  matches(labels: Labels): boolean {
    if (this.nothing) return false;
    const l = labels ?? {};
    for (const r of this.requirements) if (!matchRequirement(r, l)) return false;
    return true;
  }

  isEmpty(): boolean {
    return !this.nothing && this.requirements.length === 0;
  }

  /** If the selector pins `key` to one value (`key=v` or `key in (v)`), that value. */
  exactValue(key: string): string | undefined {
    for (const r of this.requirements) {
      if (r.key === key && (r.op === '=' || (r.op === 'in' && r.values.length === 1))) return r.values[0];
    }
    return undefined;
  }

  toString(): string {
    return this.requirements.map(requirementString).join(',');
  }
}

function matchRequirement(r: Requirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = labels[r.key];
  switch (r.op) {
    case '=':
    case 'in':
      return has && r.values.includes(v!);
    case '!=':
    case 'notin':
      return !has || !r.values.includes(v!);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || !/^-?\d+$/.test(v!)) return false;
      const n = Number(v);
      const bound = Number(r.values[0]);
      return r.op === 'gt' ? n > bound : n < bound;
    }
  }
}

function requirementString(r: Requirement): string {
  switch (r.op) {
    case '=':
      return `${r.key}=${r.values[0]}`;
    case '!=':
      return `${r.key}!=${r.values[0]}`;
    case 'in':
      return `${r.key} in (${r.values.join(',')})`;
    case 'notin':
      return `${r.key} notin (${r.values.join(',')})`;
    case 'exists':
      return r.key;
    case '!':
      return `!${r.key}`;
    case 'gt':
      return `${r.key}>${r.values[0]}`;
    case 'lt':
      return `${r.key}<${r.values[0]}`;
  }
}

// ---- string parser -------------------------------------------------------

type Tok =
  | { t: 'id'; v: string }
  | { t: 'op'; v: '=' | '==' | '!=' | '>' | '<' | '!' }
  | { t: '(' }
  | { t: ')' }
  | { t: ',' }
  | { t: 'in' }
  | { t: 'notin' }
  | { t: 'end' };

function lex(s: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const isIdChar = (c: string) => !/[\s=!<>(),]/.test(c);
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      toks.push({ t: c } as Tok);
      i++;
      continue;
    }
    if (c === '=' && s[i + 1] === '=') {
      toks.push({ t: 'op', v: '==' });
      i += 2;
      continue;
    }
    if (c === '!' && s[i + 1] === '=') {
      toks.push({ t: 'op', v: '!=' });
      i += 2;
      continue;
    }
    if (c === '=' || c === '>' || c === '<' || c === '!') {
      toks.push({ t: 'op', v: c });
      i++;
      continue;
    }
    let j = i;
    while (j < s.length && isIdChar(s[j]!)) j++;
    const word = s.slice(i, j);
    if (word === 'in') toks.push({ t: 'in' });
    else if (word === 'notin') toks.push({ t: 'notin' });
    else toks.push({ t: 'id', v: word });
    i = j;
  }
  toks.push({ t: 'end' });
  return toks;
}

function tokText(t: Tok): string {
  switch (t.t) {
    case 'id':
    case 'op':
      return t.v;
    case 'end':
      return 'EOS';
    default:
      return t.t;
  }
}

class SelectorParseError extends Error {}

function checkKey(key: string) {
  const errs = isQualifiedName(key);
  if (errs.length) throw new SelectorParseError(`key: Invalid value: ${JSON.stringify(key)}: ${errs.join('; ')}`);
}
function checkValue(v: string) {
  const errs = isValidLabelValue(v);
  if (errs.length) throw new SelectorParseError(`values[0]: Invalid value: ${JSON.stringify(v)}: ${errs.join('; ')}`);
}

/**
 * Parses the string form. Throws a 400 BadRequest StatusError whose message names the
 * problem, as the API server does for a bad `labelSelector` parameter.
 */
export function parseLabelSelector(s: string): LabelSelector {
  try {
    return new LabelSelector(parseRequirements(s));
  } catch (e) {
    if (e instanceof SelectorParseError) throw newBadRequest(`unable to parse requirement: ${e.message}`);
    throw e;
  }
}

function parseRequirements(s: string): Requirement[] {
  const toks = lex(s);
  let p = 0;
  const peek = () => toks[p]!;
  const next = () => toks[p++]!;
  const reqs: Requirement[] = [];
  if (peek().t === 'end') return reqs;
  for (;;) {
    let t = next();
    if (t.t === 'op' && t.v === '!') {
      const k = next();
      if (k.t !== 'id') throw new SelectorParseError(`found '${tokText(k)}', expected: identifier after '!'`);
      checkKey(k.v);
      reqs.push({ key: k.v, op: '!', values: [] });
    } else if (t.t === 'id') {
      const key = t.v;
      checkKey(key);
      t = peek();
      if (t.t === ',' || t.t === 'end') {
        reqs.push({ key, op: 'exists', values: [] });
      } else if (t.t === 'op') {
        next();
        const vt = peek();
        let value = '';
        if (vt.t === 'id') {
          value = vt.v;
          next();
        } else if (t.v === '>' || t.v === '<') {
          throw new SelectorParseError(`found '${tokText(vt)}', expected: an integer value`);
        }
        if (t.v === '!') throw new SelectorParseError(`found '!', expected: '=', '!=', '==', 'in', notin'`);
        if (t.v === '>' || t.v === '<') {
          if (!/^-?\d+$/.test(value)) throw new SelectorParseError(`for 'Gt', 'Lt' operators, the value must be an integer`);
          reqs.push({ key, op: t.v === '>' ? 'gt' : 'lt', values: [value] });
        } else {
          checkValue(value);
          reqs.push({ key, op: t.v === '!=' ? '!=' : '=', values: [value] });
        }
      } else if (t.t === 'in' || t.t === 'notin') {
        next();
        const open = next();
        if (open.t !== '(') throw new SelectorParseError(`found '${tokText(open)}', expected: '('`);
        const values: string[] = [];
        for (;;) {
          const v = peek();
          if (v.t === ')') {
            next();
            break;
          }
          if (v.t === 'id') {
            checkValue(v.v);
            values.push(v.v);
            next();
          } else if (v.t === ',') {
            // an empty value between commas is the empty string
            if (values.length === 0 || toks[p - 1]!.t === ',') values.push('');
          } else {
            throw new SelectorParseError(`found '${tokText(v)}', expected: ',', ')' or identifier`);
          }
          const sep = peek();
          if (sep.t === ',') next();
          else if (sep.t !== ')') throw new SelectorParseError(`found '${tokText(sep)}', expected: ',' or ')'`);
        }
        if (values.length === 0) throw new SelectorParseError(`for 'in', 'notin' operators, values set can't be empty`);
        reqs.push({ key, op: t.t, values });
      } else {
        throw new SelectorParseError(`found '${tokText(t)}', expected: in, notin, =, ==, !=, gt, lt`);
      }
    } else {
      throw new SelectorParseError(`found '${tokText(t)}', expected: !, identifier, or 'end of string'`);
    }
    const sep = next();
    if (sep.t === 'end') break;
    if (sep.t !== ',') throw new SelectorParseError(`found '${tokText(sep)}', expected: ',' or 'end of string'`);
  }
  return reqs;
}

/**
 * Converts a metav1.LabelSelector. A missing selector (undefined) selects nothing, an
 * empty one ({}) everything, as upstream's LabelSelectorAsSelector.
 */
export function labelSelectorFromObject(sel: LabelSelectorObject | undefined | null): LabelSelector {
  if (!sel) return LabelSelector.nothing();
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key: k, op: '=', values: [v] });
  for (const e of sel.matchExpressions ?? []) {
    switch (e.operator) {
      case 'In':
        reqs.push({ key: e.key, op: 'in', values: [...(e.values ?? [])] });
        break;
      case 'NotIn':
        reqs.push({ key: e.key, op: 'notin', values: [...(e.values ?? [])] });
        break;
      case 'Exists':
        reqs.push({ key: e.key, op: 'exists', values: [] });
        break;
      case 'DoesNotExist':
        reqs.push({ key: e.key, op: '!', values: [] });
        break;
      default:
        throw newBadRequest(`${JSON.stringify((e as { operator: string }).operator)} is not a valid label selector operator`);
    }
  }
  return new LabelSelector(reqs);
}

/** A selector matching exactly the given labels (`a=b,c=d`), as for a Service's spec.selector. */
export function selectorFromSet(set: Record<string, string> | undefined | null): LabelSelector {
  return new LabelSelector(Object.entries(set ?? {}).map(([key, v]) => ({ key, op: '=' as const, values: [v] })));
}

/** The string form of a LabelSelector object, as `kubectl` and status.selector print it. */
export function formatLabelSelector(sel: LabelSelectorObject | undefined | null): string {
  if (!sel) return '<none>';
  const s = labelSelectorFromObject(sel).toString();
  return s === '' ? '<none>' : s;
}
