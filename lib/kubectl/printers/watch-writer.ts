/**
 * Aligned output that grows as a watch runs. kubectl's tabwriter remembers the widths of the
 * columns it has flushed, so rows printed later (one per event) stay aligned with the header
 * and earlier rows unless a cell is wider. This writer does the same, and optionally colours
 * whole lines (after alignment, so the escape codes do not disturb the columns).
 */
import { alignRows } from './tabwriter.js';

const minWidth = 6;
const padding = 3;
const width = (s: string) => [...s].length;

export class RememberingTabWriter {
  private widths: number[] = [];

  /** Formats rows, widening remembered columns as needed; returns the text (lines end with `\n`). */
  format(rows: string[][], colour?: (line: string, row: number) => string): string {
    if (rows.length === 0) return '';
    // Every cell but each row's last is aligned (a row's last cell is not tab-terminated).
    const cols = Math.max(...rows.map((r) => r.length - 1));
    for (let c = 0; c < cols; c++) {
      let w = Math.max(minWidth, this.widths[c] ?? 0);
      for (const r of rows) if (c < r.length - 1) w = Math.max(w, width(r[c]!) + padding);
      this.widths[c] = w;
    }
    return rows
      .map((r, i) => {
        const line = r.map((cell, c) => (c < r.length - 1 ? cell + ' '.repeat(Math.max(0, this.widths[c]! - width(cell))) : cell)).join('');
        return `${colour ? colour(line, i) : line}\n`;
      })
      .join('');
  }

  /** Starts column `col` at least `w` wide. */
  remember(col: number, w: number): void {
    this.widths[col] = Math.max(this.widths[col] ?? 0, w);
  }

  reset(): void {
    this.widths = [];
  }
}

export { alignRows };

const codes: Record<string, string> = { ADDED: '32', MODIFIED: '33', DELETED: '31', ERROR: '35', BOOKMARK: '36' };

/** A line in the colour of its watch event type. */
export function colourFor(type: string, line: string): string {
  const c = codes[type];
  return c ? `\u001b[${c}m${line}\u001b[0m` : line;
}
