/**
 * Go's text/tabwriter as kubectl configures it (minwidth 6, padding 3, blanks): cells end with
 * a tab, the text after a line's last tab is not aligned, and a column is as wide as its
 * widest cell plus the padding within each block of consecutive lines that have that column.
 */

/** kubectl get's settings; describe uses minWidth 0 and padding 2. */
export interface TabOptions {
  minWidth: number;
  padding: number;
}
const getOptions: TabOptions = { minWidth: 6, padding: 3 };

const width = (s: string) => [...s].length;

/** Aligns tab-separated text (lines end with `\n`). */
export function alignTabs(text: string, o: TabOptions = getOptions): string {
  const rawLines = text.split('\n');
  const trailingNewline = rawLines[rawLines.length - 1] === '';
  if (trailingNewline) rawLines.pop();
  const lines = rawLines.map((l) => l.split('\t'));
  const out: string[] = [];
  formatAll(lines, [], out, o);
  return out.join('\n') + (trailingNewline ? '\n' : '');
}

/** Go tabwriter's format() over all lines. */
function formatAll(lines: string[][], widths: number[], out: string[], o: TabOptions): void {
  const writeLines = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const cells = lines[i]!;
      let s = '';
      cells.forEach((c, j) => {
        if (j < widths.length) s += c + ' '.repeat(Math.max(0, widths[j]! - width(c)));
        else s += c;
      });
      out.push(s);
    }
  };
  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    let t = line0;
    while (t < line1) {
      if (column >= lines[t]!.length - 1) {
        t++;
        continue;
      }
      writeLines(line0, t);
      line0 = t;
      let w = o.minWidth;
      for (; t < line1; t++) {
        const cells = lines[t]!;
        if (column >= cells.length - 1) break;
        w = Math.max(w, width(cells[column]!) + o.padding);
      }
      widths.push(w);
      format(line0, t);
      widths.pop();
      line0 = t;
    }
    writeLines(line0, line1);
  };
  format(0, lines.length);
}

/** Rows of cells to aligned text, one line per row. */
export function alignRows(rows: string[][]): string {
  if (rows.length === 0) return '';
  return alignTabs(rows.map((r) => r.join('\t')).join('\n') + '\n');
}
