import type { KubeList, KubeObject } from '../api/index.js';
import { isGone } from '../machinery/index.js';
import type { ListAllOptions, ListOptions } from './interface.js';

export const defaultPageSize = 500;

/**
 * Walks every page of a list (limit/continue) and returns one list. All pages come from the
 * snapshot of the first (the continue token pins its resourceVersion). If the token expires
 * mid-way (410), falls back to one unpaged list, as client-go's pager does.
 */
export async function listAllPages<T extends KubeObject>(list: (o: ListOptions) => Promise<KubeList<T>>, opts: ListAllOptions = {}): Promise<KubeList<T>> {
  const { pageSize, ...rest } = opts;
  const limit = pageSize ?? defaultPageSize;
  const first = await list({ ...rest, limit });
  const items = [...first.items];
  let token = first.metadata.continue;
  while (token) {
    let page: KubeList<T>;
    try {
      page = await list({ labelSelector: rest.labelSelector, fieldSelector: rest.fieldSelector, signal: rest.signal, timeoutMs: rest.timeoutMs, limit, continue: token });
    } catch (err) {
      if (!isGone(err)) throw err;
      return list({ ...rest, resourceVersion: rest.resourceVersion === '0' ? '0' : undefined, resourceVersionMatch: undefined });
    }
    items.push(...page.items);
    token = page.metadata.continue;
  }
  return { ...first, metadata: { resourceVersion: first.metadata.resourceVersion }, items };
}
