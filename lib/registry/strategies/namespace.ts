/**
 * Namespaces: Active on create; a delete marks them Terminating and keeps them until the
 * namespace controller has emptied them and cleared spec.finalizers through /finalize.
 */
import type { Namespace } from '../../api/index.js';
import type { Strategy } from '../strategy.js';

export const namespaceStrategy: Strategy = {
  prepareForCreate(obj) {
    const ns = obj as Namespace;
    ns.status = { phase: 'Active' };
    ns.spec ??= {};
    ns.spec.finalizers ??= ['kubernetes'];
  },
  prepareForUpdate(obj, old, ctx) {
    const ns = obj as Namespace;
    const prev = old as Namespace;
    if (ctx.subresource === 'finalize') {
      // Only spec.finalizers may change through /finalize.
      const finalizers = ns.spec?.finalizers;
      Object.assign(ns, { ...prev, metadata: ns.metadata, spec: { ...prev.spec, finalizers } });
      return;
    }
    if (ctx.subresource === 'status') {
      ns.spec = prev.spec;
      return;
    }
    ns.status = prev.status;
    ns.spec = { ...(ns.spec ?? {}), finalizers: prev.spec?.finalizers };
  },
  holdOnDelete(obj) {
    return ((obj as Namespace).spec?.finalizers ?? []).length > 0;
  },
  prepareForDelete(obj) {
    const ns = obj as Namespace;
    ns.status = { ...(ns.status ?? {}), phase: 'Terminating' };
  },
};
