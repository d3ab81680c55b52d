/**
 * Listers: read-only views of an informer's cache. They never call the API server. What they
 * return is shared with every other reader: do not modify it (objects from an informer are
 * frozen; `deepCopy` first).
 */
import type { KubeObject } from '../api/index.js';
import type { LabelSelector } from '../machinery/index.js';
import { namespaceIndex, type Indexer } from './store.js';

export interface NamespaceLister<T> {
  list(selector?: LabelSelector): T[];
  get(name: string): T | undefined;
}

export class Lister<T extends KubeObject> {
  constructor(readonly indexer: Indexer<T>) {}

  /** Every object (in every namespace) matching the selector. */
  list(selector?: LabelSelector): T[] {
    const all = this.indexer.list();
    return selector && !selector.isEmpty() ? all.filter((o) => selector.matches(o.metadata.labels)) : all;
  }

  /** A cluster-scoped object by name (or any object by its `namespace/name` key). */
  get(nameOrKey: string): T | undefined {
    return this.indexer.getByKey(nameOrKey);
  }

  namespace(namespace: string): NamespaceLister<T> {
    const indexer = this.indexer;
    return {
      list(selector?: LabelSelector): T[] {
        let objs: T[];
        try {
          objs = indexer.byIndex(namespaceIndex, namespace);
        } catch {
          objs = indexer.list().filter((o) => o.metadata.namespace === namespace);
        }
        return selector && !selector.isEmpty() ? objs.filter((o) => selector.matches(o.metadata.labels)) : objs;
      },
      get(name: string): T | undefined {
        return indexer.getByKey(`${namespace}/${name}`);
      },
    };
  }

  byIndex(indexName: string, value: string): T[] {
    return this.indexer.byIndex(indexName, value);
  }
}
