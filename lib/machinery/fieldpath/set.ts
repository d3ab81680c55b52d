/**
 * FieldSet: a set of field paths, kept as a trie. A node is a member of the set when `member`
 * is true; it may also have children (a list item owned as a whole, and fields inside it).
 *
 * Sets are values once built: union, difference and intersection never change their operands,
 * and their results share unchanged subtrees with them instead of copying (a create's managed
 * fields went through three whole copies). So `insert`, `child` and `member` are only for a
 * set that is still being built and not yet shared.
 *
 * The fieldsV1 form is the trie as JSON: each child is `"<element>": {...}`, a leaf member is
 * `{}`, and a member that also has children carries `".": {}` among them.
 */
import { canonicalElement, compareElements, PathError, type Path, type PathElement } from './path.js';

export class FieldSet {
  member = false;
  readonly children = new Map<PathElement, FieldSet>();

  static of(...paths: Path[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  /** Adds a path (and makes it a member). */
  insert(path: Path): this {
    let n: FieldSet = this;
    for (const e of path) {
      let c = n.children.get(e);
      if (!c) n.children.set(e, (c = new FieldSet()));
      n = c;
    }
    n.member = true;
    return this;
  }

  /** The node at `path`, if any path of the set goes through it. */
  at(path: Path): FieldSet | undefined {
    let n: FieldSet | undefined = this;
    for (const e of path) {
      n = n.children.get(e);
      if (!n) return undefined;
    }
    return n;
  }

  has(path: Path): boolean {
    return this.at(path)?.member === true;
  }

  /** Every operation here keeps branches that hold no member out of the trie, so this is O(1). */
  isEmpty(): boolean {
    return !this.member && this.children.size === 0;
  }

  /** The child at `e`, created when missing (callers drop it again if it stays empty). */
  child(e: PathElement): FieldSet {
    let c = this.children.get(e);
    if (!c) this.children.set(e, (c = new FieldSet()));
    return c;
  }

  clone(): FieldSet {
    const s = new FieldSet();
    s.member = this.member;
    for (const [e, c] of this.children) s.children.set(e, c.clone());
    return s;
  }

  union(other: FieldSet): FieldSet {
    if (other.isEmpty()) return this;
    if (this.isEmpty()) return other;
    const s = new FieldSet();
    s.member = this.member || other.member;
    for (const [e, c] of this.children) {
      const o = other.children.get(e);
      s.children.set(e, o ? c.union(o) : c);
    }
    for (const [e, o] of other.children) if (!this.children.has(e)) s.children.set(e, o);
    return s;
  }

  /** Members of this set that are not members of `other`. */
  difference(other: FieldSet): FieldSet {
    if (other.isEmpty() || this.isEmpty()) return this;
    const s = new FieldSet();
    s.member = this.member && !other.member;
    for (const [e, c] of this.children) {
      const o = other.children.get(e);
      const d = o ? c.difference(o) : c;
      if (!d.isEmpty()) s.children.set(e, d);
    }
    return s;
  }

  intersection(other: FieldSet): FieldSet {
    const s = new FieldSet();
    s.member = this.member && other.member;
    for (const [e, c] of this.children) {
      const o = other.children.get(e);
      if (!o) continue;
      const i = c.intersection(o);
      if (!i.isEmpty()) s.children.set(e, i);
    }
    return s;
  }

  equals(other: FieldSet): boolean {
    return this.difference(other).isEmpty() && other.difference(this).isEmpty();
  }

  /** Every member path, in serialization order. */
  paths(): Path[] {
    const out: Path[] = [];
    const walk = (n: FieldSet, prefix: PathElement[]) => {
      if (n.member && prefix.length) out.push([...prefix]);
      for (const e of [...n.children.keys()].sort(compareElements)) walk(n.children.get(e)!, [...prefix, e]);
    };
    walk(this, []);
    return out;
  }

  /** The fieldsV1 JSON of the set. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (this.member && this.children.size) out['.'] = {};
    const keys = [...this.children.keys()];
    if (keys.length > 1) keys.sort(compareElements);
    for (const e of keys) {
      const c = this.children.get(e)!;
      if (!c.isEmpty()) out[e] = c.toJSON();
    }
    return out;
  }

  /** Parses fieldsV1 JSON; throws PathError on anything that is not a field set. */
  static fromJSON(json: unknown): FieldSet {
    const s = new FieldSet();
    if (json === undefined || json === null) return s;
    parseInto(s, json, true);
    return s;
  }
}

function parseInto(node: FieldSet, json: unknown, root: boolean) {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new PathError('fieldsV1 must be a JSON object of path elements');
  const entries = Object.entries(json as Record<string, unknown>);
  // A leaf: an element whose value is an empty object is a member.
  if (!root && entries.length === 0) node.member = true;
  for (const [k, v] of entries) {
    if (k === '.') {
      if (root) throw new PathError('fieldsV1 may not have "." at its top level');
      node.member = true;
      continue;
    }
    const e = canonicalElement(k);
    const c = node.child(e);
    parseInto(c, v, false);
    if (c.isEmpty()) node.children.delete(e);
  }
}
