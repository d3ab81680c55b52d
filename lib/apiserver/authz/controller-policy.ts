/**
 * The per-controller half of the bootstrap policy (upstream's controller_policy): one ClusterRole
 * `system:controller:<name>` for each controller of the controller manager, bound to the service
 * account kube-system/<name>. A controller manager started with --use-service-account-credentials
 * runs each controller under that account, so each may do only what its role lists; without the
 * flag the roles and bindings still exist (as on every upstream cluster) but nothing uses them.
 *
 * The rules are upstream's, for the feature gates on by default in v1.32 (no DRA, no ServiceCIDR,
 * no storage-version roles).
 */
import type { PolicyRule } from '../../api/index.js';

/** The prefix of every controller's ClusterRole; the rest is its service account's name. */
export const controllerRolePrefix = 'system:controller:';

const legacy = '';
const apps = 'apps';
const extensions = 'extensions';
const batch = 'batch';
const storage = 'storage.k8s.io';
const certificates = 'certificates.k8s.io';
const discovery = 'discovery.k8s.io';

export type RuleOf = (verbs: string[], groups: string[], resources: string[], names?: string[]) => PolicyRule;

/** What each controller may do, by service account name (its ClusterRole is the prefix + the name). */
export function controllerRules(rule: RuleOf): Record<string, PolicyRule[]> {
  const events = rule(['create', 'update', 'patch'], [legacy, 'events.k8s.io'], ['events']);
  const read = ['get', 'list', 'watch'];
  return {
    'attachdetach-controller': [
      rule(['list', 'watch'], [legacy], ['persistentvolumes', 'persistentvolumeclaims']),
      rule(read, [legacy], ['nodes']),
      rule(['patch', 'update'], [legacy], ['nodes/status']),
      rule(['list', 'watch'], [legacy], ['pods']),
      events,
      rule(['get', 'create', 'delete', 'list', 'watch'], [storage], ['volumeattachments']),
      rule(['get', 'watch', 'list'], [storage], ['csidrivers']),
      rule(['get', 'watch', 'list'], [storage], ['csinodes']),
    ],
    'clusterrole-aggregation-controller': [rule(['escalate', 'get', 'list', 'watch', 'update', 'patch'], ['rbac.authorization.k8s.io'], ['clusterroles'])],
    'cronjob-controller': [
      rule(['get', 'list', 'watch', 'update'], [batch], ['cronjobs']),
      rule(['get', 'list', 'watch', 'create', 'update', 'delete', 'patch'], [batch], ['jobs']),
      rule(['update'], [batch], ['cronjobs/status']),
      rule(['update'], [batch], ['cronjobs/finalizers']),
      rule(['list', 'watch', 'delete'], [legacy], ['pods']),
      events,
    ],
    'daemon-set-controller': [
      rule(read, [extensions, apps], ['daemonsets']),
      rule(['update'], [extensions, apps], ['daemonsets/status']),
      rule(['update'], [extensions, apps], ['daemonsets/finalizers']),
      rule(['list', 'watch'], [legacy], ['nodes']),
      rule(['list', 'watch', 'create', 'delete', 'patch'], [legacy], ['pods']),
      rule(['create'], [legacy], ['pods/binding']),
      rule(['get', 'list', 'watch', 'create', 'delete', 'update', 'patch'], [apps], ['controllerrevisions']),
      events,
    ],
    'deployment-controller': [
      rule(['get', 'list', 'watch', 'update'], [extensions, apps], ['deployments']),
      rule(['update'], [extensions, apps], ['deployments/status']),
      rule(['update'], [extensions, apps], ['deployments/finalizers']),
      rule(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'], [apps, extensions], ['replicasets']),
      rule(['get', 'list', 'watch', 'update'], [legacy], ['pods']),
      events,
    ],
    'disruption-controller': [
      rule(read, [extensions, apps], ['deployments']),
      rule(read, [apps, extensions], ['replicasets']),
      rule(read, [legacy], ['replicationcontrollers']),
      rule(read, ['policy'], ['poddisruptionbudgets']),
      rule(read, [apps], ['statefulsets']),
      rule(['update'], ['policy'], ['poddisruptionbudgets/status']),
      rule(['patch', 'update'], [legacy], ['pods/status']),
      rule(['get'], ['*'], ['*/scale']),
      events,
    ],
    'endpoint-controller': [
      rule(read, [legacy], ['services', 'pods']),
      rule(['get', 'list', 'watch', 'create', 'update', 'delete'], [legacy], ['endpoints']),
      rule(['create'], [legacy], ['endpoints/restricted']),
      events,
    ],
    'endpointslice-controller': [
      rule(read, [legacy], ['services', 'pods', 'nodes']),
      rule(['update'], [legacy], ['services/finalizers']),
      rule(['get', 'list', 'watch', 'create', 'update', 'delete'], [discovery], ['endpointslices']),
      events,
    ],
    'endpointslicemirroring-controller': [
      rule(read, [legacy], ['services', 'endpoints']),
      rule(['update'], [legacy], ['services/finalizers']),
      rule(['update'], [legacy], ['endpoints/finalizers']),
      rule(['get', 'list', 'watch', 'create', 'update', 'delete'], [discovery], ['endpointslices']),
      events,
    ],
    'expand-controller': [
      rule(['get', 'list', 'watch', 'update', 'patch'], [legacy], ['persistentvolumes']),
      rule(['update', 'patch'], [legacy], ['persistentvolumeclaims/status']),
      rule(read, [legacy], ['persistentvolumeclaims']),
      events,
      rule(['get'], [legacy], ['services']),
    ],
    'ephemeral-volume-controller': [
      rule(read, [legacy], ['pods']),
      rule(['update'], [legacy], ['pods/finalizers']),
      rule(['get', 'list', 'watch', 'create'], [legacy], ['persistentvolumeclaims']),
      events,
    ],
    'generic-garbage-collector': [rule(['get', 'list', 'watch', 'patch', 'update', 'delete'], ['*'], ['*']), events],
    'horizontal-pod-autoscaler': [
      rule(read, ['autoscaling'], ['horizontalpodautoscalers']),
      rule(['update'], ['autoscaling'], ['horizontalpodautoscalers/status']),
      rule(['get', 'update'], ['*'], ['*/scale']),
      rule(['list', 'watch'], [legacy], ['pods']),
      rule(['list', 'watch'], ['metrics.k8s.io'], ['pods']),
      rule(read, ['custom.metrics.k8s.io'], ['*']),
      rule(read, ['external.metrics.k8s.io'], ['*']),
      events,
    ],
    'job-controller': [
      rule(['get', 'list', 'watch', 'update', 'patch'], [batch], ['jobs']),
      rule(['update'], [batch], ['jobs/status']),
      rule(['update'], [batch], ['jobs/finalizers']),
      rule(['list', 'watch', 'create', 'delete', 'patch'], [legacy], ['pods']),
      events,
    ],
    'namespace-controller': [
      rule(['get', 'list', 'watch', 'delete'], [legacy], ['namespaces']),
      rule(['update'], [legacy], ['namespaces/finalize', 'namespaces/status']),
      rule(['get', 'list', 'watch', 'delete', 'deletecollection'], ['*'], ['*']),
    ],
    'node-controller': [
      rule(['get', 'list', 'watch', 'update', 'delete', 'patch'], [legacy], ['nodes']),
      rule(['patch', 'update'], [legacy], ['nodes/status']),
      rule(['patch', 'update'], [legacy], ['pods/status']),
      rule(['list', 'watch', 'get', 'delete'], [legacy], ['pods']),
      events,
    ],
    'persistent-volume-binder': [
      rule(['get', 'list', 'watch', 'update', 'create', 'delete'], [legacy], ['persistentvolumes']),
      rule(['update'], [legacy], ['persistentvolumes/status']),
      rule(['get', 'list', 'watch', 'update'], [legacy], ['persistentvolumeclaims']),
      rule(['update'], [legacy], ['persistentvolumeclaims/status']),
      rule(['list', 'watch', 'get', 'create', 'delete'], [legacy], ['pods']),
      rule(read, [storage], ['storageclasses']),
      rule(['list', 'watch'], [legacy], ['nodes']),
      events,
      rule(['watch'], [legacy], ['events']),
      rule(['get'], [legacy], ['services']),
    ],
    'pod-garbage-collector': [rule(['list', 'watch', 'delete'], [legacy], ['pods']), rule(read, [legacy], ['nodes']), rule(['patch'], [legacy], ['pods/status'])],
    'replicaset-controller': [
      rule(['get', 'list', 'watch', 'update'], [apps, extensions], ['replicasets']),
      rule(['update'], [apps, extensions], ['replicasets/status']),
      rule(['update'], [apps, extensions], ['replicasets/finalizers']),
      rule(['list', 'watch', 'patch', 'create', 'delete'], [legacy], ['pods']),
      events,
    ],
    'replication-controller': [
      rule(['get', 'list', 'watch', 'update'], [legacy], ['replicationcontrollers']),
      rule(['update'], [legacy], ['replicationcontrollers/status']),
      rule(['update'], [legacy], ['replicationcontrollers/finalizers']),
      rule(['list', 'watch', 'patch', 'create', 'delete'], [legacy], ['pods']),
      events,
    ],
    'resourcequota-controller': [rule(['list', 'watch'], ['*'], ['*']), rule(['update'], [legacy], ['resourcequotas/status']), events],
    'route-controller': [rule(['list', 'watch'], [legacy], ['nodes']), rule(['patch'], [legacy], ['nodes/status']), events],
    'service-account-controller': [rule(['create'], [legacy], ['serviceaccounts']), events],
    'service-controller': [rule(read, [legacy], ['services']), rule(['patch', 'update'], [legacy], ['services/status']), rule(['list', 'watch'], [legacy], ['nodes']), events],
    'statefulset-controller': [
      rule(['list', 'watch'], [legacy], ['pods']),
      rule(read, [apps], ['statefulsets']),
      rule(['update'], [apps], ['statefulsets/status']),
      rule(['update'], [apps], ['statefulsets/finalizers']),
      rule(['get', 'create', 'delete', 'update', 'patch'], [legacy], ['pods']),
      rule(['get', 'create', 'delete', 'update', 'patch', 'list', 'watch'], [apps], ['controllerrevisions']),
      rule(['get', 'create', 'list', 'watch'], [legacy], ['persistentvolumeclaims']),
      rule(['update', 'delete'], [legacy], ['persistentvolumeclaims']),
      rule(['update'], [legacy], ['pods/finalizers']),
      events,
    ],
    'ttl-controller': [rule(['update', 'patch', 'list', 'watch'], [legacy], ['nodes']), events],
    'certificate-controller': [
      rule(['get', 'list', 'watch', 'delete'], [certificates], ['certificatesigningrequests']),
      rule(['update'], [certificates], ['certificatesigningrequests/status', 'certificatesigningrequests/approval']),
      rule(['approve'], [certificates], ['signers'], ['kubernetes.io/kube-apiserver-client-kubelet']),
      rule(['sign'], [certificates], ['signers'], ['kubernetes.io/legacy-unknown', 'kubernetes.io/kube-apiserver-client', 'kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      events,
    ],
    'pvc-protection-controller': [rule(['get', 'list', 'watch', 'update'], [legacy], ['persistentvolumeclaims']), rule(['list', 'watch', 'get'], [legacy], ['pods']), events],
    'pv-protection-controller': [rule(['get', 'list', 'watch', 'update'], [legacy], ['persistentvolumes']), events],
    'ttl-after-finished-controller': [rule(['get', 'list', 'watch', 'delete'], [batch], ['jobs']), events],
    'root-ca-cert-publisher': [rule(['create', 'update'], [legacy], ['configmaps']), events],
    'validatingadmissionpolicy-status-controller': [
      rule(read, ['admissionregistration.k8s.io'], ['validatingadmissionpolicies']),
      rule(['get', 'patch', 'update'], ['admissionregistration.k8s.io'], ['validatingadmissionpolicies/status']),
      events,
    ],
    'legacy-service-account-token-cleaner': [
      rule(['get'], [legacy], ['configmaps'], ['kube-apiserver-legacy-service-account-token-tracking']),
      rule(['patch', 'delete'], [legacy], ['secrets']),
    ],
  };
}
