/**
 * The shape of a kind as server-side apply sees it: which objects are structs (named fields)
 * and which are maps, which lists are atomic, sets, or associative lists keyed by some of
 * their items' fields, and which structs and maps are owned only as a whole. lib/api builds
 * these from the zod schemas of built-in kinds and from the structural schemas of custom
 * resources; this folder only walks them.
 */

export interface ScalarType {
  kind: 'scalar';
}

/** Free-form data: objects are maps of free-form values, lists are atomic (upstream's "deduced" type). */
export interface UntypedType {
  kind: 'untyped';
}

export interface StructType {
  kind: 'struct';
  /** The type of a declared field, or undefined when the struct has no such field. */
  field(name: string): FieldType | undefined;
  /** The type of fields the struct does not declare, when it keeps them (preserve-unknown-fields). */
  extra?(): FieldType | undefined;
  /** x-kubernetes-map-type: atomic — owned and replaced as a whole. */
  atomic?: boolean;
}

export interface MapType {
  kind: 'map';
  value(): FieldType;
  atomic?: boolean;
}

export interface ListType {
  kind: 'list';
  listType: 'atomic' | 'set' | 'map';
  /** x-kubernetes-list-map-keys of an associative list. */
  keys: string[];
  item(): FieldType;
  /** A default for a key field an item leaves out (ports' protocol is TCP). */
  keyDefault?(key: string): string | number | boolean | undefined;
}

export type FieldType = ScalarType | UntypedType | StructType | MapType | ListType;

export const scalarType: ScalarType = { kind: 'scalar' };
export const untypedType: UntypedType = { kind: 'untyped' };
