/** The figures `npm run bench` prints: measured next to a raw baseline, as a ratio, against a target. */

export interface Row {
  /** What was measured. */
  name: string;
  measured: number;
  unit: string;
  /** The raw floor or reference for the same work, when there is one. */
  baseline?: number;
  baselineName?: string;
  /** Pass condition, e.g. 'ratio >= 0.5' or 'measured <= 250'. */
  target?: string;
  /** true when measured meets the target. */
  ok?: boolean;
}

function fmt(n: number | undefined, unit: string): string {
  if (n === undefined) return '';
  const v = n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
  return `${v} ${unit}`;
}

export function printTable(title: string, rows: Row[]): void {
  const header = ['measurement', 'measured', 'baseline', 'ratio', 'target', ''];
  const lines = rows.map((r) => [
    r.name,
    fmt(r.measured, r.unit),
    r.baseline !== undefined ? `${fmt(r.baseline, r.unit)}${r.baselineName ? ` (${r.baselineName})` : ''}` : '',
    r.baseline ? (r.measured / r.baseline).toFixed(2) : '',
    r.target ?? '',
    r.ok === undefined ? '' : r.ok ? 'ok' : 'MISSED',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const out = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`\n${title}\n${out(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const l of lines) process.stdout.write(out(l) + '\n');
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Progress on stderr, so that stdout holds only the tables. */
export function progress(msg: string): void {
  process.stderr.write(`  … ${msg}\n`);
}
