/**
 * Pods: status starts Pending with a QoS class; deletion of a bound pod is graceful; the
 * ephemeralcontainers subresource changes spec.ephemeralContainers and nothing else.
 */
import type { KubeObject, Pod, PodSpec, DeleteOptions } from '../../api/index.js';
import { quantityToNumber, validatePodEphemeralContainersUpdate } from '../../api/index.js';
import { jsonEqual } from '../../machinery/index.js';
import type { Strategy } from '../strategy.js';

/** Guaranteed, Burstable or BestEffort, from the containers' requests and limits. */
export function qosClass(spec: PodSpec | undefined): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      if (req[r] !== undefined || lim[r] !== undefined) any = true;
      if (lim[r] === undefined || (req[r] !== undefined && quantityToNumber(req[r]!) !== quantityToNumber(lim[r]!))) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export const podStrategy: Strategy = {
  prepareForCreate(obj) {
    const pod = obj as Pod;
    pod.status = { phase: 'Pending', qosClass: qosClass(pod.spec) };
    pod.metadata.generation = 1;
  },
  prepareForUpdate(obj, old, ctx) {
    const pod = obj as Pod;
    const prev = old as Pod;
    if (ctx.subresource === 'binding') return; // sets spec.nodeName and the PodScheduled condition together
    if (ctx.subresource === 'ephemeralcontainers') {
      // Upstream's dropNonEphemeralContainerUpdates: the live pod, with the body's ephemeral
      // containers (and the identity a precondition or validation looks at). Generation stays
      // as it was: 1.32 keeps none for pods, and tkube's counts the changes of a pod update.
      const ephemeral = pod.spec?.ephemeralContainers;
      const { name, namespace, uid, resourceVersion } = pod.metadata;
      for (const k of Object.keys(obj)) delete obj[k];
      Object.assign(obj, structuredClone(prev));
      for (const [k, v] of Object.entries({ name, namespace, uid, resourceVersion })) if (v !== undefined) (pod.metadata as Record<string, unknown>)[k] = v;
      pod.spec ??= { containers: [] };
      if (ephemeral?.length) pod.spec.ephemeralContainers = ephemeral;
      else delete pod.spec.ephemeralContainers;
      return;
    }
    if (ctx.subresource === 'status') {
      pod.spec = prev.spec;
      pod.metadata.ownerReferences = prev.metadata.ownerReferences;
      pod.metadata.generation = prev.metadata.generation;
      // The QoS class is fixed at creation.
      if (pod.status && prev.status?.qosClass) pod.status.qosClass = prev.status.qosClass;
      return;
    }
    pod.status = prev.status;
    pod.metadata.generation = prev.metadata.generation ?? 1;
    if (!jsonEqual(pod.spec, prev.spec)) pod.metadata.generation = (prev.metadata.generation ?? 1) + 1;
  },
  validatesUpdateAlone: (ctx) => ctx.subresource === 'ephemeralcontainers',
  validate(obj, old, ctx) {
    if (ctx.subresource !== 'ephemeralcontainers' || !old) return [];
    return validatePodEphemeralContainersUpdate(obj as Pod, old as Pod);
  },
  gracePeriod(obj: KubeObject, options: DeleteOptions): number | undefined {
    const pod = obj as Pod;
    // Not bound to a node, or finished: nothing runs that could be stopped gracefully.
    if (!pod.spec?.nodeName) return undefined;
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return undefined;
    const grace = options.gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    return grace > 0 ? grace : undefined;
  },
};
