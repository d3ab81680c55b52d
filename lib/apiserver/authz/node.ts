/**
 * The Node authorizer: what a kubelet (user `system:node:<name>` in group `system:nodes`) may
 * read and write, after upstream's node authorizer with selector-based authorization:
 *
 *   secrets, configmaps      get/list/watch of those its pods refer to (list/watch by metadata.name)
 *   persistentvolumeclaims   get (and status updates) of those its pods mount; their volumes too
 *   serviceaccounts/token    create, for accounts its pods run as
 *   leases                   its own, in kube-node-lease
 *   nodes                    its own Node (list/watch with fieldSelector metadata.name=<self>)
 *   pods                     pods bound to it (list/watch with fieldSelector spec.nodeName=<self>)
 *   everything else          the static system:node rules (events, pod status, mirror pods...)
 *
 * Writes are narrowed further by the NodeRestriction admission plugin. Anything else gets no
 * opinion (so RBAC may still allow it).
 */
import type { PersistentVolumeClaim, Pod } from '../../api/index.js';
import { parseFieldSelector } from '../../machinery/index.js';
import type { Registry, UserInfo } from '../../registry/index.js';
import type { AuthorizationAttributes, Authorizer, Decision } from '../auth.js';
import type { PolicyRule } from '../../api/index.js';
import { nodeRules } from './bootstrap-policy.js';
import { podReferences } from './pod-references.js';
import { rulesAllow } from './rules.js';
import type { RuleResolver } from './rbac.js';

export const nodesGroup = 'system:nodes';
const nodeUserPrefix = 'system:node:';

/** The node a user is, or undefined for users that are not kubelets. */
export function nodeIdentity(user: UserInfo): string | undefined {
  if (!user.username.startsWith(nodeUserPrefix) || !user.groups.includes(nodesGroup)) return undefined;
  return user.username.slice(nodeUserPrefix.length);
}

type Result = { decision: Decision; reason?: string };
const noOpinion = (reason: string): Result => ({ decision: 'noOpinion', reason });
const allow: Result = { decision: 'allow' };

export class NodeAuthorizer implements Authorizer, RuleResolver {
  constructor(private readonly registry: Registry) {}

  private podsOn(node: string, namespace?: string): Pod[] {
    const cache = this.registry.mustGet('', 'pods').cache;
    const items = cache?.list((o) => (o as Pod).spec?.nodeName === node && (namespace === undefined || o.metadata.namespace === namespace)).items ?? [];
    return items.map((c) => c.object as Pod);
  }

  private related(node: string, kind: 'secrets' | 'configmaps' | 'persistentvolumeclaims' | 'serviceaccounts', namespace: string, name: string): boolean {
    for (const pod of this.podsOn(node, namespace)) {
      const refs = podReferences(pod);
      if (kind === 'serviceaccounts' ? refs.serviceaccount === name : refs[kind].has(name)) return true;
    }
    return false;
  }

  private persistentVolumeRelated(node: string, pvName: string): boolean {
    const claims = this.registry.mustGet('', 'persistentvolumeclaims').cache;
    for (const pod of this.podsOn(node)) {
      for (const claim of podReferences(pod).persistentvolumeclaims) {
        const pvc = claims?.get(`${claims.prefix}${pod.metadata.namespace}/${claim}`)?.object as PersistentVolumeClaim | undefined;
        if (pvc?.spec?.volumeName === pvName) return true;
      }
    }
    return false;
  }

  async authorize(a: AuthorizationAttributes): Promise<Result> {
    const node = nodeIdentity(a.user);
    if (node === undefined) return { decision: 'noOpinion' };
    if (!node) return noOpinion(`unknown node for user "${a.user.username}"`);
    const unrelated = noOpinion(`no relationship found between node '${node}' and this object`);
    if (a.isResourceRequest) {
      const gr = `${a.apiGroup}/${a.resource}`;
      switch (gr) {
        case '/secrets':
        case '/configmaps': {
          if (!['get', 'list', 'watch'].includes(a.verb)) return noOpinion('can only read resources of this type');
          if (a.subresource) return noOpinion('cannot read subresource');
          if (!a.name || !a.namespace) return noOpinion('can only read namespaced object of this type');
          return this.related(node, a.resource as 'secrets' | 'configmaps', a.namespace, a.name) ? allow : unrelated;
        }
        case '/persistentvolumeclaims': {
          if (a.subresource === 'status') {
            if (!['get', 'update', 'patch'].includes(a.verb)) return noOpinion('can only get or update persistentvolumeclaim status');
          } else if (a.subresource) return noOpinion('cannot get subresource');
          else if (a.verb !== 'get') return noOpinion('can only get individual resources of this type');
          if (!a.name || !a.namespace) return noOpinion('can only get individual resources of this type');
          return this.related(node, 'persistentvolumeclaims', a.namespace, a.name) ? allow : unrelated;
        }
        case '/persistentvolumes': {
          if (a.verb !== 'get' || a.subresource || !a.name) return noOpinion('can only get individual resources of this type');
          return this.persistentVolumeRelated(node, a.name) ? allow : unrelated;
        }
        case '/serviceaccounts': {
          if (a.verb !== 'create' || a.subresource !== 'token' || !a.name) return noOpinion('can only create tokens for individual service accounts');
          return this.related(node, 'serviceaccounts', a.namespace, a.name) ? allow : unrelated;
        }
        case 'coordination.k8s.io/leases': {
          if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) return noOpinion(`can only get, create, update, patch, or delete a node lease`);
          if (a.namespace !== 'kube-node-lease') return noOpinion(`can only access leases in the kube-node-lease namespace`);
          if (a.verb !== 'create' && a.name !== node) return noOpinion(`can only access node lease with the same name as the requesting node`);
          break;
        }
        case '/nodes': {
          if (a.verb === 'create') break;
          if (a.verb === 'list' || a.verb === 'watch') {
            if (a.name !== node) return noOpinion(`can only list/watch its own Node object with fieldSelector metadata.name=${node}`);
          } else if (a.name !== node) return noOpinion(`node '${node}' cannot ${a.verb} '${a.name}', only its own Node object`);
          break;
        }
        case '/pods': {
          if (a.subresource || !['get', 'list', 'watch'].includes(a.verb)) break;
          if (a.verb === 'get') {
            // A pod bound elsewhere is refused; one that does not exist may be asked for (the
            // kubelet learns it is gone from the 404). Not cached yet: storage decides.
            const store = this.registry.mustGet('', 'pods');
            const key = `${store.prefix}${a.namespace}/${a.name}`;
            const pod = (store.cache?.get(key)?.object ?? (await this.registry.storage.get(key))) as Pod | null;
            if (pod && pod.spec?.nodeName !== node) return unrelated;
            break;
          }
          let boundTo: string | undefined;
          try {
            boundTo = a.fieldSelector ? parseFieldSelector(a.fieldSelector).exactValue('spec.nodeName') : undefined;
          } catch {
            boundTo = undefined;
          }
          if (boundTo !== node) return noOpinion(`can only list/watch pods with spec.nodeName=${node} field selector`);
          break;
        }
      }
    }
    return rulesAllow(a, nodeRules) ? allow : { decision: 'noOpinion' };
  }

  /** The static rules of a node (what SelfSubjectRulesReview lists; narrowed per object at request time). */
  async rulesFor(user: UserInfo) {
    if (nodeIdentity(user) === undefined) return { resourceRules: [], nonResourceRules: [], incomplete: false, errors: [] };
    const rules: PolicyRule[] = nodeRules;
    return { resourceRules: rules, nonResourceRules: [], incomplete: true, errors: [] };
  }
}
