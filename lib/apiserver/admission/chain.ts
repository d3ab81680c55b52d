/**
 * Admission: named plugins run after authorization and before validation and storage, as the
 * design notes describe: mutating plugins may change the object, validating ones may only
 * refuse. `--enable-admission-plugins` / `--disable-admission-plugins` pick them by name.
 */
import type { FieldPath, KubeObject } from '../../api/index.js';
import type { Admission, AdmissionAttributes } from '../../registry/index.js';

export interface AdmissionPlugin {
  readonly name: string;
  mutate?(attrs: AdmissionAttributes): Promise<void>;
  validate?(attrs: AdmissionAttributes): Promise<void>;
}

/** Objects a mutating plugin changed in this request, with the fields it set ('all': unknown). */
const mutated = new WeakMap<object, FieldPath[] | 'all'>();

/**
 * A plugin that changed `attrs.object` says so: the chain then gives what it added the kind's
 * defaults and puts the fields back in schema order, so that the object compares equal to the
 * same object decoded from a later request. Naming the fields set (`['spec', 'tolerations']`)
 * spares the walk over the whole object; without paths, all of it is put in order.
 */
export function markMutated(obj: KubeObject | undefined, ...paths: FieldPath[]): void {
  if (!obj) return;
  const known = mutated.get(obj);
  if (known === 'all') return;
  if (paths.length === 0) mutated.set(obj, 'all');
  else if (known) known.push(...paths);
  else mutated.set(obj, [...paths]);
}

export interface AdmissionChainOptions {
  /** Defaults and canonical field order (in place) for an object plugins changed: at `paths`, or all over. */
  canonicalize?(attrs: AdmissionAttributes, paths?: FieldPath[]): void;
}

export class AdmissionChain implements Admission {
  constructor(
    readonly plugins: AdmissionPlugin[],
    private readonly opts: AdmissionChainOptions = {},
  ) {}

  async mutate(attrs: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) if (p.mutate) await p.mutate(attrs);
    const changed = attrs.object && mutated.get(attrs.object);
    if (changed) {
      mutated.delete(attrs.object!);
      this.opts.canonicalize?.(attrs, changed === 'all' ? undefined : changed);
    }
  }

  async validate(attrs: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) if (p.validate) await p.validate(attrs);
  }

  names(): string[] {
    return this.plugins.map((p) => p.name);
  }
}

/**
 * Picks plugins: `enabled` (or the defaults) minus `disabled`, in the recommended order of
 * `all`. Unknown names are an error that lists the known ones.
 */
export function selectPlugins(all: AdmissionPlugin[], defaults: string[], enabled: string[], disabled: string[]): AdmissionPlugin[] {
  const known = new Set(all.map((p) => p.name));
  for (const n of [...enabled, ...disabled]) {
    if (!known.has(n)) throw new Error(`unknown admission plugin "${n}"; known plugins: ${[...known].join(', ')}`);
  }
  const on = new Set([...defaults, ...enabled]);
  for (const d of disabled) on.delete(d);
  return all.filter((p) => on.has(p.name));
}
