/**
 * kubectl's JSONPath templates (`-o jsonpath=...`, `-o jsonpath-file=...`): literal text with
 * `{expression}` actions, `{range EXPR}...{end}` loops, quoted strings (`{"\n"}`), `@` for the
 * current value and `$` for the root. Paths are evaluated by lib/machinery's JSONPath; this
 * file adds the template layer and kubectl's way of printing results: several results of one
 * action joined by spaces, strings as they are, maps and lists as compact JSON. Missing keys
 * print nothing (kubectl's --allow-missing-template-keys=true).
 */
import { evaluateJSONPath, JSONPathError } from '../../machinery/index.js';
import { goJSON } from './json.js';
import { goFloat } from './yaml.js';

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'path'; expr: string }
  | { kind: 'range'; expr: string; body: Node[] };

export class TemplateError extends Error {}

/** Go's unquoting of a double-quoted string literal. */
function unquote(s: string): string {
  try {
    return JSON.parse(s.replace(/\\([abfv])/g, (_m, c: string) => ({ a: '\\u0007', b: '\\b', f: '\\f', v: '\\u000b' })[c]!)) as string;
  } catch {
    throw new TemplateError(`invalid string literal ${s}`);
  }
}

/** Splits a template into text and actions, checking braces. */
function tokenize(template: string): { text?: string; action?: string }[] {
  const out: { text?: string; action?: string }[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open < 0) {
      out.push({ text: template.slice(i) });
      break;
    }
    if (open > i) out.push({ text: template.slice(i, open) });
    // Find the matching close brace, skipping quoted strings.
    let j = open + 1;
    let quote: string | undefined;
    for (; j < template.length; j++) {
      const c = template[j]!;
      if (quote) {
        if (c === '\\') j++;
        else if (c === quote) quote = undefined;
        continue;
      }
      if (c === '"' || c === "'") quote = c;
      else if (c === '}') break;
    }
    if (j >= template.length) throw new TemplateError(`unclosed action`);
    out.push({ action: template.slice(open + 1, j).trim() });
    i = j + 1;
  }
  return out;
}

/** `.metadata.labels.app\.kubernetes\.io/name` → `.metadata.labels['app.kubernetes.io/name']` */
function rewriteEscapedDots(expr: string): string {
  if (!expr.includes('\\.')) return expr;
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (c === '\\' && expr[i + 1] === '.') {
      cur += '.';
      i++;
    } else if (c === '.' && cur !== '') {
      parts.push(cur);
      cur = '';
    } else if (c !== '.') cur += c;
  }
  if (cur) parts.push(cur);
  return parts.map((p) => (p.includes('.') ? `['${p}']` : `.${p}`)).join('');
}

export function parseTemplate(template: string): Node[] {
  const tokens = tokenize(template);
  const stack: Node[][] = [[]];
  const ranges: Extract<Node, { kind: 'range' }>[] = [];
  for (const t of tokens) {
    const cur = stack[stack.length - 1]!;
    if (t.text !== undefined) {
      cur.push({ kind: 'text', text: t.text });
      continue;
    }
    const a = t.action!;
    if (a === 'end') {
      if (ranges.length === 0) throw new TemplateError('not in range, nothing to end');
      ranges.pop();
      stack.pop();
      continue;
    }
    if (a.startsWith('range ') || a === 'range') {
      const r: Extract<Node, { kind: 'range' }> = { kind: 'range', expr: a.slice(5).trim(), body: [] };
      cur.push(r);
      ranges.push(r);
      stack.push(r.body);
      continue;
    }
    if (/^"(?:[^"\\]|\\.)*"$/.test(a)) {
      cur.push({ kind: 'text', text: unquote(a) });
      continue;
    }
    if (/^'[^']*'$/.test(a)) {
      cur.push({ kind: 'text', text: a.slice(1, -1) });
      continue;
    }
    // Validate the path now, so errors come before any output.
    const expr = rewriteEscapedDots(a);
    if (expr !== '@' && expr !== '$' && expr !== '') {
      try {
        evaluateJSONPath({}, expr.replace(/^[@$]/, ''));
      } catch (e) {
        throw new TemplateError((e as Error).message);
      }
    }
    cur.push({ kind: 'path', expr });
  }
  if (ranges.length > 0) throw new TemplateError('unclosed range');
  return stack[0]!;
}

function evaluate(expr: string, current: unknown, root: unknown): unknown[] {
  if (expr === '' || expr === '@') return [current];
  if (expr === '$') return [root];
  let base = current;
  let e = expr;
  if (e.startsWith('$')) {
    base = root;
    e = e.slice(1);
  } else if (e.startsWith('@')) e = e.slice(1);
  try {
    return evaluateJSONPath(base, e);
  } catch (err) {
    if (err instanceof JSONPathError) throw new TemplateError(err.message);
    throw err;
  }
}

/** How kubectl prints one value found by a template. */
export function printValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return goJSON(v);
  if (typeof v === 'number') return goFloat(v);
  return String(v);
}

function run(nodes: Node[], current: unknown, root: unknown, out: string[]): void {
  for (const n of nodes) {
    if (n.kind === 'text') out.push(n.text);
    else if (n.kind === 'path') out.push(evaluate(n.expr, current, root).map(printValue).join(' '));
    else for (const item of evaluate(n.expr, current, root)) run(n.body, item, root, out);
  }
}

/** Executes a template against a value (an object or a List). */
export function executeTemplate(template: string, value: unknown): string {
  const out: string[] = [];
  run(parseTemplate(template), value, value, out);
  return out.join('');
}

/** `{.a.b}`, `.a.b`, `a.b` and `{a.b}` all mean `{.a.b}` where kubectl relaxes paths (custom-columns, --sort-by). */
export function relaxedJSONPath(expr: string): string {
  if (expr === '') return expr;
  const m = /^\{\.?([^{}]+)\}$|^\.?([^{}]+)$/.exec(expr);
  if (!m) throw new TemplateError("unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'");
  return `{.${m[1] ?? m[2]}}`;
}

/** Every value a relaxed path finds in an object. */
export function findValues(obj: unknown, relaxed: string): unknown[] {
  const nodes = parseTemplate(relaxed);
  const vals: unknown[] = [];
  for (const n of nodes) if (n.kind === 'path') vals.push(...evaluate(n.expr, obj, obj));
  return vals;
}
