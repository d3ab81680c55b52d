/**
 * Templates of deploy/ (systemd units, kubeconfigs) and how their variables expand.
 *
 * Variables follow systemd's ExecStart rules so that a unit reads the same whether systemd or
 * tkube-lab runs it: `${NAME}` is replaced as is (inside a word, never split), `$NAME` alone as a
 * word is split on whitespace into several words (and vanishes when empty). `$$` is a literal `$`.
 * Every variable must be given: an unknown name is an error naming it, never an empty string.
 */

export type TemplateVars = Readonly<Record<string, string>>;

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

function lookup(vars: TemplateVars, name: string, where: string): string {
  const v = vars[name];
  if (v === undefined) throw new TemplateError(`${where}: variable ${name} is not set (known: ${Object.keys(vars).sort().join(', ')})`);
  return v;
}

/** Replaces `${NAME}` everywhere in a text (kubeconfigs, whole unit files). */
export function renderTemplate(text: string, vars: TemplateVars, where = 'template'): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, name: string | undefined) => (m === '$$' ? '$$' : lookup(vars, name!, where)));
}

/** The variables a template uses, `${NAME}` and word-splitting `$NAME`, in order of appearance. */
export function templateVariables(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|(?<![$\w])\$([A-Za-z_][A-Za-z0-9_]*)/g)) out.add(m[1] ?? m[2]!);
  return [...out];
}

/** Splits a command line into words as systemd does: whitespace separates, quotes group. */
export function splitWords(line: string, where = 'command'): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i]!;
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new TemplateError(`${where}: unterminated ${quote} quote`);
  if (inWord) words.push(cur);
  return words;
}

/**
 * Expands a command line (an ExecStart value) into argv: `$NAME` as a whole word splits,
 * `${NAME}` does not, `$$` is `$`.
 */
export function expandCommand(line: string, vars: TemplateVars, where = 'command'): string[] {
  const out: string[] = [];
  for (const word of splitWords(line, where)) {
    const bare = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
    if (bare) {
      out.push(...lookup(vars, bare[1]!, where).split(/\s+/).filter(Boolean));
      continue;
    }
    out.push(word.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, name: string | undefined) => (m === '$$' ? '$' : lookup(vars, name!, where))));
  }
  return out;
}

/** One systemd unit file, as far as tkube-lab needs it. */
export interface UnitFile {
  /** File name, e.g. tkube-kubelet.service. */
  name: string;
  description: string;
  /** ExecStartPre= lines, unexpanded, in order (a leading `-` means failure is ignored). */
  execStartPre: string[];
  /** The ExecStart= line, unexpanded. */
  execStart: string;
  /** Environment= assignments of [Service]. */
  environment: Record<string, string>;
}

/** Reads the [Unit] Description, [Service] ExecStartPre/ExecStart/Environment of a unit file (with `\` continuations). */
export function parseUnit(name: string, text: string): UnitFile {
  const lines: string[] = [];
  let acc = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+$/, '');
    if (acc === '' && /^\s*[#;]/.test(line)) continue;
    if (line.endsWith('\\')) {
      acc += line.slice(0, -1) + ' ';
      continue;
    }
    lines.push(acc + line);
    acc = '';
  }
  if (acc) lines.push(acc);
  let section = '';
  const unit: UnitFile = { name, description: '', execStartPre: [], execStart: '', environment: {} };
  for (const line of lines) {
    const sec = /^\s*\[(\w+)\]\s*$/.exec(line);
    if (sec) {
      section = sec[1]!;
      continue;
    }
    const kv = /^\s*([A-Za-z]+)\s*=\s*(.*)$/.exec(line);
    if (!kv) continue;
    const [, key, value] = kv as unknown as [string, string, string];
    if (section === 'Unit' && key === 'Description') unit.description = value;
    if (section !== 'Service') continue;
    if (key === 'ExecStart') unit.execStart = value.trim();
    else if (key === 'ExecStartPre') unit.execStartPre.push(value.trim());
    else if (key === 'Environment') for (const w of splitWords(value, `${name} Environment=`)) {
      const eq = w.indexOf('=');
      if (eq > 0) unit.environment[w.slice(0, eq)] = w.slice(eq + 1);
    }
  }
  if (!unit.execStart) throw new TemplateError(`${name}: no ExecStart= in [Service]`);
  return unit;
}
