/**
 * "Default" classes (StorageClasses, IngressClasses) are marked by an annotation set to "true".
 * When several are marked, the newest wins (ties: the first name), as upstream picks since 1.26.
 */
export interface Annotated {
  metadata: { name?: string | null; creationTimestamp?: string | null; annotations?: Record<string, string> | null };
}

export function newestDefault<T extends Annotated>(items: readonly T[], annotations: readonly string[]): T | undefined {
  const defaults = items.filter((o) => annotations.some((a) => o.metadata.annotations?.[a] === 'true'));
  defaults.sort((x, y) => (y.metadata.creationTimestamp ?? '').localeCompare(x.metadata.creationTimestamp ?? '') || (x.metadata.name ?? '').localeCompare(y.metadata.name ?? ''));
  return defaults[0];
}

/** The annotations that mark the default StorageClass (the beta one is still honoured). */
export const defaultStorageClassAnnotations: readonly string[] = ['storageclass.kubernetes.io/is-default-class', 'storageclass.beta.kubernetes.io/is-default-class'];
