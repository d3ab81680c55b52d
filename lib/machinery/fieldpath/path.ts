/**
 * Path elements of server-side apply field sets, in the text form Kubernetes stores them in
 * `managedFields[].fieldsV1`:
 *
 *   f:<name>          a field of a struct or an entry of a map
 *   k:<json object>   an item of an associative list, named by its key fields (sorted by name)
 *   v:<json value>    an item of a set (a list of unique scalars)
 *   i:<index>         an item of a list by position
 *
 * Elements are kept as these strings throughout: equal elements have equal strings, which
 * makes the set a plain trie of strings.
 */

export type PathElement = string;
export type Path = readonly PathElement[];

type Scalar = string | number | boolean | null;

export function fieldElement(name: string): PathElement {
  return `f:${name}`;
}

/** The element of an associative-list item; `keys` holds each key field's value. */
export function keyElement(keys: Record<string, Scalar>): PathElement {
  const sorted: Record<string, Scalar> = {};
  for (const k of Object.keys(keys).sort()) sorted[k] = keys[k]!;
  return `k:${JSON.stringify(sorted)}`;
}

export function valueElement(v: Scalar): PathElement {
  return `v:${JSON.stringify(v)}`;
}

export function indexElement(i: number): PathElement {
  return `i:${i}`;
}

export class PathError extends Error {
  override readonly name = 'PathError';
}

/**
 * Parses an element as found in stored fieldsV1, returning it in canonical form (key fields
 * sorted, JSON re-encoded) so that elements written by other clients compare equal to ours.
 */
export function canonicalElement(s: string): PathElement {
  const kind = s.slice(0, 2);
  const body = s.slice(2);
  switch (kind) {
    case 'f:':
      return s;
    case 'k:': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        throw new PathError(`invalid key element ${JSON.stringify(s)}`);
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new PathError(`invalid key element ${JSON.stringify(s)}`);
      return keyElement(parsed as Record<string, Scalar>);
    }
    case 'v:':
      try {
        return valueElement(JSON.parse(body) as Scalar);
      } catch {
        throw new PathError(`invalid value element ${JSON.stringify(s)}`);
      }
    case 'i:':
      if (!/^\d+$/.test(body)) throw new PathError(`invalid index element ${JSON.stringify(s)}`);
      return s;
    default:
      throw new PathError(`unexpected path element ${JSON.stringify(s)}: must start with f:, k:, v: or i:`);
  }
}

/** How Go prints a scalar in a path (`value.ToString`): strings quoted, the rest as JSON. */
function scalarText(v: unknown): string {
  return JSON.stringify(v);
}

/** One element as upstream prints it in conflict messages: `.name`, `[name="web"]`, `[="x"]`, `[0]`. */
export function elementText(e: PathElement): string {
  const body = e.slice(2);
  switch (e.slice(0, 2)) {
    case 'f:':
      return `.${body}`;
    case 'k:': {
      const keys = JSON.parse(body) as Record<string, Scalar>;
      return `[${Object.entries(keys)
        .map(([k, v]) => `${k}=${scalarText(v)}`)
        .join(',')}]`;
    }
    case 'v:':
      return `[=${scalarText(JSON.parse(body))}]`;
    case 'i:':
      return `[${body}]`;
    default:
      return '{{invalid path element}}';
  }
}

/** A path as upstream prints it: `.spec.template.spec.containers[name="web"].image`. */
export function pathText(p: Path): string {
  return p.map(elementText).join('');
}

/** The rank of an element's kind by its first letter (every element is "<letter>:..."). */
function kindRank(e: PathElement): number {
  if (e.charCodeAt(1) !== 0x3a /* : */) return 4;
  switch (e.charCodeAt(0)) {
    case 0x66 /* f */:
      return 0;
    case 0x6b /* k */:
      return 1;
    case 0x76 /* v */:
      return 2;
    case 0x69 /* i */:
      return 3;
    default:
      return 4;
  }
}

/** Orders elements as upstream serializes them: fields, then keys, values, indexes. */
export function compareElements(a: PathElement, b: PathElement): number {
  const ka = kindRank(a);
  const kb = kindRank(b);
  if (ka !== kb) return ka - kb;
  if (ka === 3) return Number(a.slice(2)) - Number(b.slice(2));
  return a < b ? -1 : a > b ? 1 : 0;
}
