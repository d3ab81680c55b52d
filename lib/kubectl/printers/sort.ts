/**
 * `--sort-by`: orders objects (or table rows, by their embedded objects) by the first value a
 * relaxed JSONPath finds, as kubectl does: numbers by value, strings that both parse as
 * quantities (`100m`, `1Gi`) by amount, other strings in natural order (`pod-2` < `pod-10`);
 * objects without the field first. The sort is stable.
 */
import { quantityToNumber } from '../../api/index.js';
import { CommandError } from '../cli/errors.js';
import { findValues, relaxedJSONPath } from './jsonpath-template.js';

/** vbom.ml/util/sortorder.NaturalLess: runs of digits compare by value. */
export function naturalLess(a: string, b: string): boolean {
  const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const da = isDigit(a[i]);
    const db = isDigit(b[j]);
    if (da !== db) return da;
    if (!da) {
      if (a[i] !== b[j]) return a[i]! < b[j]!;
      i++;
      j++;
      continue;
    }
    // Both at digits: skip leading zeros, compare run lengths then digits.
    let zi = i;
    while (a[zi] === '0') zi++;
    let zj = j;
    while (b[zj] === '0') zj++;
    let ei = zi;
    while (isDigit(a[ei])) ei++;
    let ej = zj;
    while (isDigit(b[ej])) ej++;
    const na = a.slice(zi, ei);
    const nb = b.slice(zj, ej);
    if (na.length !== nb.length) return na.length < nb.length;
    if (na !== nb) return na < nb;
    // Equal values: fewer leading zeros first.
    if (zi - i !== zj - j) return zi - i < zj - j;
    i = ei;
    j = ej;
  }
  return a.length - i < b.length - j;
}

function isQuantity(s: string): boolean {
  return !Number.isNaN(quantityToNumber(s)) && /^[+-]?(\d|\.\d)/.test(s.trim());
}

export function valueLess(x: unknown, y: unknown): boolean {
  if (x === null || x === undefined) return y !== null && y !== undefined;
  if (y === null || y === undefined) return false;
  if (typeof x === 'number' && typeof y === 'number') return x < y;
  if (typeof x === 'string' && typeof y === 'string') {
    if (isQuantity(x) && isQuantity(y)) return quantityToNumber(x) < quantityToNumber(y);
    return naturalLess(x, y);
  }
  if (typeof x === 'boolean' && typeof y === 'boolean') return !x && y;
  throw new CommandError(`unsortable type: ${typeof x} and ${typeof y} cannot be compared`);
}

/** Sorts `items` by `sortBy` (kubectl's relaxed path), reading each item's object with `objectOf`. */
export function sortByPath<T>(items: T[], sortBy: string, objectOf: (t: T) => unknown): T[] {
  const path = relaxedJSONPath(sortBy);
  const keyed = items.map((it, index) => {
    const vals = findValues(objectOf(it), path);
    return { it, index, has: vals.length > 0, v: vals[0] };
  });
  if (items.length > 0 && !keyed.some((k) => k.has)) throw new CommandError(`couldn't find any field with path "${path}" in the list of objects`);
  keyed.sort((a, b) => {
    if (!a.has || !b.has) return a.has === b.has ? a.index - b.index : a.has ? 1 : -1;
    if (valueLess(a.v, b.v)) return -1;
    if (valueLess(b.v, a.v)) return 1;
    return a.index - b.index;
  });
  return keyed.map((k) => k.it);
}
