/**
 * Admission: named plugins run after authorization and before validation and storage, as the
 * design notes describe: mutating plugins may change the object, validating ones may only
 * refuse. `--enable-admission-plugins` / `--disable-admission-plugins` pick them by name.
 */
import type { KubeObject } from '../../api/index.js';
import type { Admission, AdmissionAttributes } from '../../registry/index.js';

export interface AdmissionPlugin {
  readonly name: string;
  mutate?(attrs: AdmissionAttributes): Promise<void>;
  validate?(attrs: AdmissionAttributes): Promise<void>;
}

/** Objects a mutating plugin changed in this request (see markMutated). */
const mutated = new WeakSet<object>();

/**
 * A plugin that changed `attrs.object` says so: the chain then puts the object's fields back
 * in schema order, so that it compares equal to the same object decoded from a later request.
 */
export function markMutated(obj: KubeObject | undefined): void {
  if (obj) mutated.add(obj);
}

export interface AdmissionChainOptions {
  /** Rewrites an object in its kind's canonical field order (in place). */
  canonicalize?(attrs: AdmissionAttributes): void;
}

export class AdmissionChain implements Admission {
  constructor(
    readonly plugins: AdmissionPlugin[],
    private readonly opts: AdmissionChainOptions = {},
  ) {}

  async mutate(attrs: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) if (p.mutate) await p.mutate(attrs);
    if (attrs.object && mutated.has(attrs.object)) {
      mutated.delete(attrs.object);
      this.opts.canonicalize?.(attrs);
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
