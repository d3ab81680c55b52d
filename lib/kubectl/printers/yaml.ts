/**
 * YAML exactly as `kubectl -o yaml` writes it. kubectl turns the object into JSON and the JSON
 * into YAML with go-yaml v2, so its output has go-yaml's habits, which this emitter copies:
 * map keys in go-yaml's order (digits compared by value, letters after other characters),
 * sequences not indented under their key, strings quoted only when they would otherwise read
 * as something else (`"1"`, `"true"`, `"2024-01-02T03:04:05Z"`, `""`), single quotes for
 * strings plain style cannot hold (`'*'`, `'a: b'`), double quotes with escapes for
 * non-printable characters, `|` blocks for strings with newlines, and plain or quoted text
 * folded at the first space past column 80.
 */

const bestWidth = 80;
const bestIndent = 2;

type Style = 'plain' | 'single' | 'double' | 'literal';

// ---- key order -----------------------------------------------------------------------

const isLetter = (c: string) => /\p{L}/u.test(c);
const isDigit = (c: string) => c >= '0' && c <= '9';

/** go-yaml v2's keyList.Less for string keys. */
export function yamlKeyLess(a: string, b: string): boolean {
  const ar = [...a];
  const br = [...b];
  for (let i = 0; i < ar.length && i < br.length; i++) {
    if (ar[i] === br[i]) continue;
    const al = isLetter(ar[i]!);
    const bl = isLetter(br[i]!);
    if (al && bl) return ar[i]! < br[i]!;
    if (al || bl) return bl;
    let an = 0;
    let bn = 0;
    if (ar[i] === '0' || br[i] === '0') {
      for (let j = i - 1; j >= 0 && isDigit(ar[j]!); j--) {
        if (ar[j] !== '0') {
          an = 1;
          bn = 1;
          break;
        }
      }
    }
    let ai = i;
    for (; ai < ar.length && isDigit(ar[ai]!); ai++) an = an * 10 + Number(ar[ai]);
    let bi = i;
    for (; bi < br.length && isDigit(br[bi]!); bi++) bn = bn * 10 + Number(br[bi]);
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return ar[i]! < br[i]!;
  }
  return ar.length < br.length;
}

export function sortYAMLKeys(keys: string[]): string[] {
  return [...keys].sort((x, y) => (yamlKeyLess(x, y) ? -1 : yamlKeyLess(y, x) ? 1 : 0));
}

// ---- what a plain string would be read as --------------------------------------------

const resolveMap = new Set([
  'y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON',
  'n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF',
  '', '~', 'null', 'Null', 'NULL',
  '.nan', '.NaN', '.NAN', '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF', '<<',
]);
const yamlStyleFloat = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const base60Float = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;

function isGoInt(s: string): boolean {
  // strconv.ParseInt(s, 0, 64) or ParseUint(s, 0, 64)
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return false;
  const body = m[2]!;
  let v: bigint;
  if (/^0[oO]/.test(body)) v = BigInt(`0o${body.slice(2)}`);
  else if (/^0[0-7]+$/.test(body)) v = BigInt(`0o${body.slice(1)}`);
  else v = BigInt(body);
  if (m[1] === '-') return v <= 2n ** 63n;
  return v <= 2n ** 64n - 1n;
}

function isTimestamp(s: string): boolean {
  if (!/^\d{4}-/.test(s)) return false;
  const date = '\\d{4}-(0?[1-9]|1[0-2])-(0?[1-9]|[12]\\d|3[01])';
  const time = '([01]?\\d|2[0-3]):[0-5]?\\d:[0-5]?\\d(\\.\\d+)?';
  return (
    new RegExp(`^${date}$`).test(s) ||
    new RegExp(`^${date}[Tt]${time}(Z|[+-]\\d{2}:\\d{2})$`).test(s) ||
    new RegExp(`^${date} ${time}$`).test(s)
  );
}

/** True when go-yaml would read the plain string back as something other than a string. */
export function resolvesToNonString(s: string): boolean {
  if (resolveMap.has(s)) return true;
  const c = s[0]!;
  if (c === '.') return yamlStyleFloat.test(s);
  if (isDigit(c) || c === '+' || c === '-') {
    if (isTimestamp(s)) return true;
    const plain = s.replaceAll('_', '');
    if (isGoInt(plain)) return true;
    if (yamlStyleFloat.test(plain)) return true;
    if (/^-?0b[01]+$/.test(plain)) return true;
  }
  return false;
}

// ---- scalar analysis (libyaml's yaml_emitter_analyze_scalar) -------------------------

interface Analysis {
  multiline: boolean;
  flowPlain: boolean;
  blockPlain: boolean;
  singleQuoted: boolean;
  block: boolean;
}

const isBreak = (c: string | undefined) => c === '\r' || c === '\n' || c === '\u0085' || c === '\u2028' || c === '\u2029';
const isSpace = (c: string | undefined) => c === ' ';
const isBlank = (c: string | undefined) => c === ' ' || c === '\t';

function isPrintable(c: string): boolean {
  const v = c.codePointAt(0)!;
  return (
    v === 0x0a ||
    (v >= 0x20 && v <= 0x7e) ||
    v === 0x85 ||
    (v >= 0xa0 && v <= 0xd7ff) ||
    (v >= 0xe000 && v <= 0xfffd && v !== 0xfeff) ||
    (v >= 0x10000 && v <= 0x10ffff)
  );
}

function analyze(value: string): Analysis {
  if (value.length === 0) return { multiline: false, flowPlain: false, blockPlain: true, singleQuoted: true, block: false };
  const chars = [...value];
  let blockIndicators = false;
  let flowIndicators = false;
  let lineBreaks = false;
  let specialCharacters = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let previousSpace = false;
  let previousBreak = false;
  if (value.startsWith('---') || value.startsWith('...')) {
    blockIndicators = true;
    flowIndicators = true;
  }
  let precededByWhitespace = true;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    const next = chars[i + 1];
    const followedByWhitespace = i + 1 >= chars.length || isBlank(next) || isBreak(next);
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(c)) {
        flowIndicators = true;
        blockIndicators = true;
      } else if (c === '?' || c === ':') {
        flowIndicators = true;
        if (followedByWhitespace) blockIndicators = true;
      } else if (c === '-' && followedByWhitespace) {
        flowIndicators = true;
        blockIndicators = true;
      }
    } else {
      if (',?[]{}'.includes(c)) flowIndicators = true;
      else if (c === ':') {
        flowIndicators = true;
        if (followedByWhitespace) blockIndicators = true;
      } else if (c === '#' && precededByWhitespace) {
        flowIndicators = true;
        blockIndicators = true;
      }
    }
    if (!isPrintable(c)) specialCharacters = true;
    if (isSpace(c)) {
      if (i === 0) leadingSpace = true;
      if (i === chars.length - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (isBreak(c)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (i === chars.length - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = isBlank(c) || isBreak(c);
  }
  const a: Analysis = { multiline: lineBreaks, flowPlain: true, blockPlain: true, singleQuoted: true, block: true };
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) a.flowPlain = a.blockPlain = false;
  if (trailingSpace) a.block = false;
  if (breakSpace) a.flowPlain = a.blockPlain = a.singleQuoted = false;
  if (spaceBreak || specialCharacters) a.flowPlain = a.blockPlain = a.singleQuoted = a.block = false;
  if (lineBreaks) a.flowPlain = a.blockPlain = false;
  if (flowIndicators) a.flowPlain = false;
  if (blockIndicators) a.blockPlain = false;
  return a;
}

function chooseStyle(s: string, simpleKey: boolean): { style: Style; a: Analysis } {
  const a = analyze(s);
  let style: Style;
  if (s.includes('\n')) style = 'literal';
  else if (!resolvesToNonString(s) && !(base60Float.test(s))) style = 'plain';
  else style = 'double';
  if (simpleKey && a.multiline) style = 'double';
  if (style === 'plain') {
    if (!a.blockPlain) style = 'single';
    if (s.length === 0 && simpleKey) style = 'single';
  }
  if (style === 'single' && !a.singleQuoted) style = 'double';
  if (style === 'literal' && (!a.block || simpleKey)) style = 'double';
  return { style, a };
}

// ---- the writer ----------------------------------------------------------------------

class Emitter {
  private out = '';
  /** Characters on the current line. */
  column = 0;
  /** The last thing written was whitespace (or a line start). */
  whitespace = true;

  text(): string {
    return this.out;
  }

  put(s: string): void {
    this.out += s;
    this.column += [...s].length;
    this.whitespace = false;
  }

  newline(): void {
    this.out += '\n';
    this.column = 0;
    this.whitespace = true;
  }

  /** A new line indented to `indent` (no new line when already at the start of one). */
  indent(indent: number): void {
    if (this.column > indent || (this.column === indent && !this.whitespace)) this.newline();
    if (this.column < indent) {
      this.out += ' '.repeat(indent - this.column);
      this.column = indent;
    }
    this.whitespace = true;
  }

  indicator(s: string, needWhitespace: boolean): void {
    if (needWhitespace && !this.whitespace) this.put(' ');
    this.put(s);
  }

  scalar(s: string, indent: number, simpleKey: boolean): void {
    const { style } = chooseStyle(s, simpleKey);
    const allowBreaks = !simpleKey;
    const chars = [...s];
    switch (style) {
      case 'plain': {
        if (!this.whitespace) this.put(' ');
        let spaces = false;
        for (let i = 0; i < chars.length; i++) {
          const c = chars[i]!;
          if (isSpace(c)) {
            if (allowBreaks && !spaces && this.column > bestWidth && !isSpace(chars[i + 1])) this.indent(indent);
            else this.put(c);
            spaces = true;
          } else {
            this.put(c);
            spaces = false;
          }
        }
        return;
      }
      case 'single': {
        this.indicator("'", true);
        let spaces = false;
        for (let i = 0; i < chars.length; i++) {
          const c = chars[i]!;
          if (isSpace(c)) {
            if (allowBreaks && !spaces && this.column > bestWidth && i > 0 && i < chars.length - 1 && !isSpace(chars[i + 1])) this.indent(indent);
            else this.put(c);
            spaces = true;
          } else {
            if (c === "'") this.put("'");
            this.put(c);
            spaces = false;
          }
        }
        this.put("'");
        return;
      }
      case 'double': {
        this.indicator('"', true);
        let spaces = false;
        for (let i = 0; i < chars.length; i++) {
          const c = chars[i]!;
          if (!isPrintable(c) || c === '\ufeff' || isBreak(c) || c === '"' || c === '\\') {
            this.put(`\\${escapeOf(c)}`);
            spaces = false;
          } else if (isSpace(c)) {
            if (allowBreaks && !spaces && this.column > bestWidth && i !== 0 && i !== chars.length - 1) {
              this.indent(indent);
              if (isSpace(chars[i + 1])) this.put('\\');
            } else this.put(c);
            spaces = true;
          } else {
            this.put(c);
            spaces = false;
          }
        }
        this.put('"');
        return;
      }
      case 'literal': {
        this.indicator('|', true);
        if (isSpace(chars[0]) || isBreak(chars[0])) this.put(String(bestIndent));
        this.put(chompHint(chars));
        this.newline();
        let breaks = true;
        for (const c of chars) {
          if (isBreak(c)) {
            this.newline();
            breaks = true;
          } else {
            if (breaks) {
              this.out += ' '.repeat(indent);
              this.column = indent;
              breaks = false;
            }
            this.put(c);
          }
        }
        return;
      }
    }
  }
}

function chompHint(chars: string[]): string {
  if (chars.length === 0) return '-';
  const last = chars.length - 1;
  if (!isBreak(chars[last])) return '-';
  if (last === 0) return '+';
  return isBreak(chars[last - 1]) ? '+' : '';
}

function escapeOf(c: string): string {
  const v = c.codePointAt(0)!;
  const named: Record<number, string> = { 0: '0', 7: 'a', 8: 'b', 9: 't', 10: 'n', 11: 'v', 12: 'f', 13: 'r', 0x1b: 'e', 0x22: '"', 0x5c: '\\', 0x85: 'N', 0xa0: '_', 0x2028: 'L', 0x2029: 'P' };
  if (named[v] !== undefined) return named[v]!;
  const hex = v.toString(16).toUpperCase();
  if (v <= 0xff) return `x${hex.padStart(2, '0')}`;
  if (v <= 0xffff) return `u${hex.padStart(4, '0')}`;
  return `U${hex.padStart(8, '0')}`;
}

/** Go's strconv.FormatFloat(f, 'g', -1, 64). */
export function goFloat(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? '+Inf' : '-Inf';
  const exp = Math.floor(Math.log10(Math.abs(n)));
  if (exp < -4 || exp >= 21) {
    const [m, e] = n.toExponential().split('e');
    const en = Number(e);
    return `${m}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
  }
  return String(n);
}

function yamlNumber(n: number): string {
  if (Number.isNaN(n)) return '.nan';
  if (n === Infinity) return '.inf';
  if (n === -Infinity) return '-.inf';
  return goFloat(n);
}

type JSONValue = unknown;

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function emitNode(e: Emitter, v: JSONValue, indent: number, ctx: 'doc' | 'mapValue' | 'seqItem'): void {
  if (Array.isArray(v)) {
    if (v.length === 0) {
      e.indicator('[]', true);
      return;
    }
    // Sequences under a mapping key are not indented (go-yaml's "indentless" sequences).
    const seqIndent = ctx === 'mapValue' ? indent - bestIndent : indent;
    let first = true;
    for (const item of v) {
      if (!(ctx === 'seqItem' && first)) e.indent(seqIndent);
      first = false;
      e.indicator('-', true);
      emitNode(e, item, seqIndent + bestIndent, 'seqItem');
    }
    return;
  }
  if (isMap(v)) {
    const keys = sortYAMLKeys(Object.keys(v).filter((k) => v[k] !== undefined));
    if (keys.length === 0) {
      e.indicator('{}', true);
      return;
    }
    let first = true;
    for (const k of keys) {
      // The first key of a mapping in a sequence item stays on the `- ` line.
      if (!(ctx === 'seqItem' && first)) e.indent(indent);
      first = false;
      e.scalar(k, indent + bestIndent, true);
      e.indicator(':', false);
      const val = v[k];
      if ((Array.isArray(val) && val.length > 0) || (isMap(val) && Object.keys(val).some((x) => val[x] !== undefined))) {
        emitNode(e, val, indent + bestIndent, 'mapValue');
      } else emitNode(e, val, indent + bestIndent, 'mapValue');
    }
    return;
  }
  if (v === null || v === undefined) e.indicator('null', true);
  else if (typeof v === 'boolean') e.indicator(String(v), true);
  else if (typeof v === 'number') e.indicator(yamlNumber(v), true);
  else e.scalar(String(v), indent, false);
}

/** The YAML document go-yaml v2 writes for a JSON value (ends with a newline). */
export function toYAML(v: JSONValue): string {
  const e = new Emitter();
  if (isMap(v) || Array.isArray(v)) emitNode(e, v, 0, 'doc');
  else emitNode(e, v, 0, 'doc');
  const text = e.text();
  return text.endsWith('\n') ? text : `${text}\n`;
}
