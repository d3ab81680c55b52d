/** Group/version/kind and group/version/resource values, as upstream's schema package. */

export interface GroupVersion {
  group: string;
  version: string;
}
export interface GroupVersionKind extends GroupVersion {
  kind: string;
}
export interface GroupVersionResource extends GroupVersion {
  resource: string;
}

/** `apps/v1` for a named group, `v1` for the core group. */
export function apiVersionOf(gv: GroupVersion): string {
  return gv.group ? `${gv.group}/${gv.version}` : gv.version;
}

export function parseAPIVersion(apiVersion: string): GroupVersion {
  const i = apiVersion.indexOf('/');
  if (i < 0) return { group: '', version: apiVersion };
  return { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}
