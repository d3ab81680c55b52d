/** pods/binding, pods/eviction and the scale subresource, built on the generic store. */
import { rfc3339 } from '../base/index.js';
import type { Binding, KubeObject, Pod, PodDisruptionBudget, Scale, Eviction } from '../api/index.js';
import { evaluateJSONPath, setJSONPath, labelSelectorFromObject, formatLabelSelector, newConflict, newBadRequest, newNotFound, newTooManyRequests, newInvalid, fieldPath, type LabelSelectorObject } from '../machinery/index.js';
import type { RequestContext } from './context.js';
import type { Store, UpdatedObject } from './store.js';

/** Binds a pod to a node (the scheduler's only write). */
export async function bindPod(pods: Store, ctx: RequestContext, name: string, binding: Binding): Promise<void> {
  const node = binding.target?.name;
  if (!node) throw newInvalid('', 'Binding', name, [fieldPath('target.name').required()]);
  if (binding.metadata.name && binding.metadata.name !== name) throw newBadRequest(`binding name ${binding.metadata.name} does not match the pod name ${name}`);
  await pods.update({ ...ctx, subresource: 'binding' }, name, (cur) => {
    const pod = cur as Pod | null;
    if (!pod) throw newNotFound(pods.gr, name);
    if (pod.metadata.deletionTimestamp) throw newConflict(pods.gr, name, `pod ${name} is being deleted, cannot be assigned to a host`);
    if (pod.spec?.nodeName) throw newConflict(pods.gr, name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
    if (binding.metadata.uid && binding.metadata.uid !== pod.metadata.uid) throw newConflict(pods.gr, name, 'Precondition failed: UID in precondition does not match');
    pod.spec!.nodeName = node;
    if (binding.metadata.annotations) pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), ...binding.metadata.annotations };
    const status = (pod.status ??= {});
    const conds = (status.conditions ??= []).filter((c) => c.type !== 'PodScheduled');
    conds.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339() });
    status.conditions = conds;
    delete status.nominatedNodeName;
    return pod;
  });
}

/**
 * Evicts a pod: a delete that honours PodDisruptionBudgets. Refused with 429 while a budget
 * covering the pod allows no disruption.
 */
export async function evictPod(pods: Store, pdbs: Store | undefined, ctx: RequestContext, name: string, eviction: Eviction): Promise<void> {
  const pod = (await pods.get(ctx, name)) as Pod;
  const done = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed' || pod.metadata.deletionTimestamp;
  if (pdbs && !done) {
    const list = await pdbs.list({ ...ctx, subresource: '' }, {});
    for (const c of list.items) {
      const pdb = c.object as PodDisruptionBudget;
      const sel = pdb.spec?.selector;
      if (!sel || !labelSelectorFromObject(sel as LabelSelectorObject).matches(pod.metadata.labels)) continue;
      const allowed = pdb.status?.disruptionsAllowed ?? 0;
      if (allowed < 1 || (pdb.status?.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0)) {
        throw newTooManyRequests(`Cannot evict pod as it would violate the pod's disruption budget.`, 10);
      }
      await pdbs.update({ ...ctx, subresource: 'status' }, pdb.metadata.name!, (cur) => {
        const p = cur as PodDisruptionBudget;
        if (!p.status || p.status.disruptionsAllowed < 1) throw newTooManyRequests(`Cannot evict pod as it would violate the pod's disruption budget.`, 10);
        p.status.disruptionsAllowed--;
        p.status.disruptedPods = { ...(p.status.disruptedPods ?? {}), [name]: rfc3339() };
        return p;
      });
    }
  }
  await pods.delete(ctx, name, { ...(eviction.deleteOptions ?? {}), preconditions: eviction.deleteOptions?.preconditions ?? { uid: pod.metadata.uid } });
}

interface Scalable extends KubeObject {
  spec?: { replicas?: number; selector?: LabelSelectorObject | Record<string, string> };
  status?: { replicas?: number; labelSelector?: string };
}

function selectorString(o: Scalable, store: Store): string {
  const path = store.rt.scale?.labelSelectorPath;
  if (store.rt.scale) return path ? String(evaluateJSONPath(o, path)[0] ?? '') : '';
  const sel = o.spec?.selector;
  if (!sel) return '';
  if ('matchLabels' in sel || 'matchExpressions' in sel) return formatLabelSelector(sel as LabelSelectorObject).replace('<none>', '');
  return Object.entries(sel as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',');
}

function replicasAt(o: KubeObject, path: string): number {
  const v = evaluateJSONPath(o, path)[0];
  return typeof v === 'number' ? v : 0;
}

export function toScale(o: KubeObject, store: Store): Scale {
  const s = o as Scalable;
  const paths = store.rt.scale ?? { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' };
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: s.metadata.name,
      namespace: s.metadata.namespace,
      uid: s.metadata.uid,
      resourceVersion: s.metadata.resourceVersion,
      creationTimestamp: s.metadata.creationTimestamp,
    },
    spec: { replicas: replicasAt(s, paths.specReplicasPath) },
    status: { replicas: replicasAt(s, paths.statusReplicasPath), selector: selectorString(s, store) },
  };
}

/** Updates spec.replicas of the parent from a new Scale computed from the current one. */
export async function updateScale(store: Store, ctx: RequestContext, name: string, updated: (current: Scale) => Promise<KubeObject> | KubeObject): Promise<Scale> {
  const fn: UpdatedObject = async (cur) => {
    if (!cur) throw newNotFound(store.gr, name);
    const next = (await updated(toScale(cur, store))) as Scale;
    if (next.metadata?.resourceVersion && next.metadata.resourceVersion !== cur.metadata.resourceVersion) {
      throw newConflict(store.gr, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    const replicas = next.spec?.replicas;
    if (replicas === undefined || !Number.isInteger(replicas) || replicas < 0)
      throw newInvalid('autoscaling', 'Scale', name, [fieldPath('spec.replicas').invalid(replicas, 'must be greater than or equal to 0')]);
    setJSONPath(cur, store.rt.scale?.specReplicasPath ?? '.spec.replicas', replicas);
    delete cur.metadata.resourceVersion;
    return cur;
  };
  const { object } = await store.update({ ...ctx, subresource: 'scale' }, name, fn);
  return toScale(object, store);
}
