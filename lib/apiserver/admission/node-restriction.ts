/**
 * NodeRestriction: what a kubelet (system:node:<name>) may write, beyond what the Node
 * authorizer lets it reach:
 *
 *   pods              create mirror pods bound to itself only; update status and delete only
 *                     of pods bound to itself; evict only those
 *   nodes             create, update and delete only its own Node; not its taints, not
 *                     node-restriction.kubernetes.io/ labels, nor other kubernetes.io labels
 *                     outside the kubelet's own set
 *   serviceaccounts/token
 *                     only tokens bound to a pod on itself
 */
import type { KubeObject, Node, Pod } from '../../api/index.js';
import type { AdmissionAttributes, Registry } from '../../registry/index.js';
import { nodeIdentity } from '../authz/node.js';
import type { AdmissionPlugin } from './chain.js';
import { admissionForbidden, lookup } from './lookup.js';
import { mirrorPodAnnotation } from './service-account.js';

/** Labels under kubernetes.io and k8s.io a kubelet may set on its Node (upstream's list). */
const kubeletLabels = new Set([
  'kubernetes.io/hostname',
  'kubernetes.io/arch',
  'kubernetes.io/os',
  'beta.kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'failure-domain.beta.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'topology.kubernetes.io/zone',
  'node.kubernetes.io/windows-build',
]);
const kubeletLabelNamespaces = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

function labelNamespace(key: string): string {
  const i = key.indexOf('/');
  return i < 0 ? '' : key.slice(0, i);
}

/** Whether a kubelet may set this label on its own Node. */
export function kubeletMaySetLabel(key: string): boolean {
  const ns = labelNamespace(key);
  if (ns === 'node-restriction.kubernetes.io' || ns.endsWith('.node-restriction.kubernetes.io')) return false;
  if (kubeletLabels.has(key)) return true;
  if (kubeletLabelNamespaces.some((n) => ns === n || ns.endsWith(`.${n}`))) return true;
  const reserved = ns === 'kubernetes.io' || ns.endsWith('.kubernetes.io') || ns === 'k8s.io' || ns.endsWith('.k8s.io');
  return !reserved;
}

function changedLabels(obj: KubeObject, old?: KubeObject): string[] {
  const now = obj.metadata.labels ?? {};
  const before = old?.metadata.labels ?? {};
  const keys = new Set([...Object.keys(now), ...Object.keys(before)]);
  return [...keys].filter((k) => now[k] !== before[k]).sort();
}

export function nodeRestriction(registry: Registry): AdmissionPlugin {
  const admitPod = async (node: string, a: AdmissionAttributes) => {
    switch (a.subresource) {
      case '': {
        if (a.operation === 'CREATE') {
          const pod = a.object as Pod;
          if (pod.metadata.annotations?.[mirrorPodAnnotation] === undefined) throw admissionForbidden(a, `pod does not have "${mirrorPodAnnotation}" annotation, node "${node}" can only create mirror pods`);
          if (pod.spec?.nodeName !== node) throw admissionForbidden(a, `node "${node}" can only create pods with spec.nodeName set to itself`);
          const owners = pod.metadata.ownerReferences ?? [];
          if (owners.length > 1 || (owners.length === 1 && (owners[0]!.kind !== 'Node' || owners[0]!.name !== node))) {
            throw admissionForbidden(a, `node "${node}" can only create pods with an owner reference set to itself`);
          }
          if (pod.spec?.serviceAccountName) throw admissionForbidden(a, `node "${node}" can not create pods that reference a service account`);
          return;
        }
        if (a.operation === 'DELETE') {
          const pod = (a.oldObject ?? (await lookup<Pod>(registry, '', 'pods', a.namespace, a.name))) as Pod | null;
          if (!pod) return;
          if (pod.spec?.nodeName !== node) throw admissionForbidden(a, `node "${node}" can only delete pods with spec.nodeName set to itself`);
          return;
        }
        throw admissionForbidden(a, `unexpected operation ${a.operation}, node "${node}" can only create and delete mirror pods`);
      }
      case 'status': {
        if (a.operation !== 'UPDATE') throw admissionForbidden(a, `unexpected operation ${a.operation}`);
        const old = a.oldObject as Pod | undefined;
        if (old?.spec?.nodeName !== node) throw admissionForbidden(a, `node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
        return;
      }
      case 'eviction': {
        const pod = await lookup<Pod>(registry, '', 'pods', a.namespace, a.name);
        if (!pod) return;
        if (pod.spec?.nodeName !== node) throw admissionForbidden(a, `node "${node}" can only evict pods with spec.nodeName set to itself`);
        return;
      }
      default:
        throw admissionForbidden(a, `unexpected pod subresource "${a.subresource}", only 'status' and 'eviction' are allowed`);
    }
  };

  const admitNode = (node: string, a: AdmissionAttributes) => {
    const name = a.name || a.object?.metadata.name || '';
    if (name !== node) throw admissionForbidden(a, `node "${node}" is not allowed to modify node "${name}"`);
    if (a.operation === 'DELETE' || !a.object) return;
    const obj = a.object as Node;
    const old = a.oldObject as Node | undefined;
    const labels = changedLabels(obj, old).filter((k) => !kubeletMaySetLabel(k));
    if (labels.length) {
      throw admissionForbidden(a, a.operation === 'CREATE' ? `node "${node}" is not allowed to set the following labels: ${labels.join(', ')}` : `is not allowed to modify labels: ${labels.join(', ')}`);
    }
    if (a.operation === 'UPDATE' && old && JSON.stringify(old.spec?.taints ?? []) !== JSON.stringify(obj.spec?.taints ?? [])) {
      throw admissionForbidden(a, `node "${node}" is not allowed to modify taints`);
    }
    if (a.operation === 'UPDATE' && old && JSON.stringify(old.spec?.configSource) !== JSON.stringify(obj.spec?.configSource)) {
      throw admissionForbidden(a, `node "${node}" is not allowed to update configSource`);
    }
  };

  const admitToken = async (node: string, a: AdmissionAttributes) => {
    const ref = (a.object as { spec?: { boundObjectRef?: { kind?: string; name?: string; uid?: string } } } | undefined)?.spec?.boundObjectRef;
    if (!ref) throw admissionForbidden(a, 'node requested token not bound to a pod');
    if (ref.kind !== 'Pod') throw admissionForbidden(a, `node requested token bound to a ${ref.kind ?? 'nothing'}, only pods are allowed`);
    const pod = await lookup<Pod>(registry, '', 'pods', a.namespace, ref.name ?? '');
    if (!pod) throw admissionForbidden(a, 'node requested token bound to a pod that does not exist');
    if (pod.spec?.nodeName !== node) throw admissionForbidden(a, 'node requested token bound to a pod scheduled on a different node');
  };

  return {
    name: 'NodeRestriction',
    async validate(a) {
      const node = nodeIdentity(a.user);
      if (node === undefined) return;
      if (!node) throw admissionForbidden(a, `could not determine node from user "${a.user.username}"`);
      const gr = `${a.group}/${a.resource}`;
      if (gr === '/pods') return admitPod(node, a);
      if (gr === '/nodes') return admitNode(node, a);
      if (gr === '/serviceaccounts' && a.subresource === 'token') return admitToken(node, a);
    },
  };
}
