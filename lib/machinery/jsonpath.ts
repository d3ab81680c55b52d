/**
 * JSONPath as Kubernetes uses it (kubectl -o jsonpath, custom-columns, CRD printer columns,
 * CRD scale paths): `.spec.replicas`, `.items[*].metadata.name`, `.spec.containers[0].image`,
 * `.status.conditions[?(@.type=="Ready")].status`, `..name`, `['key.with.dots']`, `[1:3]`.
 * `evaluate` returns every match; templates (`{range}` ...) live with the printers.
 */

type Step =
  | { kind: 'field'; name: string }
  | { kind: 'wildcard' }
  | { kind: 'recursive'; name?: string }
  | { kind: 'index'; index: number }
  | { kind: 'slice'; start?: number; end?: number; step?: number }
  | { kind: 'union'; keys: (string | number)[] }
  | { kind: 'filter'; path: Step[]; op?: string; value?: unknown };

export class JSONPathError extends Error {}

function parseLiteral(s: string): unknown {
  const t = s.trim();
  if (/^(['"]).*\1$/.test(t)) return t.slice(1, -1);
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t === 'null') return null;
  throw new JSONPathError(`unrecognized literal ${t}`);
}

/** Parses a path such as `.spec.containers[0].image` (a leading `$` and braces are allowed). */
export function parseJSONPath(expr: string): Step[] {
  let s = expr.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1).trim();
  if (s.startsWith('$')) s = s.slice(1);
  const steps: Step[] = [];
  let i = 0;
  const name = () => {
    const m = /^[^.[\]\s]+/.exec(s.slice(i));
    if (!m) return '';
    i += m[0].length;
    return m[0];
  };
  while (i < s.length) {
    const c = s[i]!;
    if (c === '.') {
      if (s[i + 1] === '.') {
        i += 2;
        const n = s[i] === '*' ? (i++, undefined) : name();
        steps.push({ kind: 'recursive', name: n || undefined });
        continue;
      }
      i++;
      if (s[i] === '*') {
        i++;
        steps.push({ kind: 'wildcard' });
        continue;
      }
      const n = name();
      if (n) steps.push({ kind: 'field', name: n });
      continue;
    }
    if (c === '[') {
      const end = findClose(s, i);
      const inner = s.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === '*') steps.push({ kind: 'wildcard' });
      else if (inner.startsWith('?(') && inner.endsWith(')')) steps.push(parseFilter(inner.slice(2, -1)));
      else if (/^-?\d*:-?\d*(:-?\d*)?$/.test(inner)) {
        const [a, b, st] = inner.split(':');
        steps.push({ kind: 'slice', start: a ? Number(a) : undefined, end: b ? Number(b) : undefined, step: st ? Number(st) : undefined });
      } else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else steps.push({ kind: 'union', keys: inner.split(',').map((k) => (/^-?\d+$/.test(k.trim()) ? Number(k) : String(parseLiteral(k)))) });
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    // A bare name at the start: `spec.replicas`.
    const n = name();
    if (!n) throw new JSONPathError(`unexpected ${JSON.stringify(c)} at ${i} in ${expr}`);
    steps.push({ kind: 'field', name: n });
  }
  return steps;
}

function findClose(s: string, open: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let j = open; j < s.length; j++) {
    const c = s[j]!;
    if (quote) {
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return j;
  }
  throw new JSONPathError(`unclosed [ in ${s}`);
}

function parseFilter(body: string): Step {
  const m = /^@(.*?)\s*(==|!=|<=|>=|<|>)\s*(.+)$/.exec(body.trim());
  if (!m) {
    const p = body.trim().replace(/^@/, '');
    return { kind: 'filter', path: parseJSONPath(p) };
  }
  return { kind: 'filter', path: parseJSONPath(m[1]!), op: m[2], value: parseLiteral(m[3]!) };
}

function children(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v && typeof v === 'object') return Object.values(v);
  return [];
}

function apply(values: unknown[], step: Step): unknown[] {
  const out: unknown[] = [];
  for (const v of values) {
    switch (step.kind) {
      case 'field':
        if (v && typeof v === 'object' && !Array.isArray(v) && step.name in v) out.push((v as Record<string, unknown>)[step.name]);
        break;
      case 'wildcard':
        out.push(...children(v));
        break;
      case 'index':
        if (Array.isArray(v)) {
          const i = step.index < 0 ? v.length + step.index : step.index;
          if (i >= 0 && i < v.length) out.push(v[i]);
        }
        break;
      case 'slice':
        if (Array.isArray(v)) {
          const len = v.length;
          const norm = (x: number | undefined, d: number) => (x === undefined ? d : x < 0 ? Math.max(0, len + x) : Math.min(len, x));
          const st = step.step ?? 1;
          for (let i = norm(step.start, 0); i < norm(step.end, len); i += st > 0 ? st : 1) out.push(v[i]);
        }
        break;
      case 'union':
        for (const k of step.keys) {
          if (typeof k === 'number' && Array.isArray(v)) {
            const i = k < 0 ? v.length + k : k;
            if (i >= 0 && i < v.length) out.push(v[i]);
          } else if (v && typeof v === 'object' && String(k) in v) out.push((v as Record<string, unknown>)[String(k)]);
        }
        break;
      case 'recursive': {
        const walk = (x: unknown) => {
          if (step.name === undefined) out.push(...children(x));
          else if (x && typeof x === 'object' && !Array.isArray(x) && step.name in x) out.push((x as Record<string, unknown>)[step.name]);
          for (const c of children(x)) if (c && typeof c === 'object') walk(c);
        };
        walk(v);
        break;
      }
      case 'filter':
        for (const item of children(v)) {
          const got = evaluateSteps(item, step.path);
          if (step.op === undefined) {
            if (got.length > 0) out.push(item);
            continue;
          }
          if (got.some((g) => compare(g, step.op!, step.value))) out.push(item);
        }
        break;
    }
  }
  return out;
}

function compare(a: unknown, op: string, b: unknown): boolean {
  switch (op) {
    case '==':
      return a === b || String(a) === String(b);
    case '!=':
      return !(a === b || String(a) === String(b));
    case '<':
      return Number(a) < Number(b);
    case '>':
      return Number(a) > Number(b);
    case '<=':
      return Number(a) <= Number(b);
    case '>=':
      return Number(a) >= Number(b);
  }
  return false;
}

function evaluateSteps(root: unknown, steps: Step[]): unknown[] {
  let values = [root];
  for (const st of steps) values = apply(values, st);
  return values;
}

/** Every value the path selects in `root` (an empty list when nothing matches). */
export function evaluateJSONPath(root: unknown, expr: string): unknown[] {
  return evaluateSteps(root, parseJSONPath(expr));
}

/** Sets the value at a simple dotted path (`.spec.replicas`), creating objects on the way. */
export function setJSONPath(root: Record<string, unknown>, expr: string, value: unknown): void {
  const steps = parseJSONPath(expr);
  let cur: Record<string, unknown> = root;
  steps.forEach((st, i) => {
    if (st.kind !== 'field') throw new JSONPathError(`${expr}: only .field paths can be written`);
    if (i === steps.length - 1) cur[st.name] = value;
    else {
      if (!cur[st.name] || typeof cur[st.name] !== 'object') cur[st.name] = {};
      cur = cur[st.name] as Record<string, unknown>;
    }
  });
}
