/**
 * The default roles and bindings every cluster has, after upstream's bootstrap policy
 * (plugin/pkg/auth/authorizer/rbac/bootstrappolicy). The API server creates them at startup
 * and adds back missing permissions and subjects of the ones marked for auto-update.
 */
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject } from '../../api/index.js';
import { rbacGroup } from '../../api/index.js';
import { controllerRolePrefix, controllerRules } from './controller-policy.js';

const read = ['get', 'list', 'watch'];
const readWrite = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const write = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const legacy = '';

function rule(verbs: string[], groups: string[], resources: string[], names?: string[]): PolicyRule {
  return names ? { verbs, apiGroups: groups, resources, resourceNames: names } : { verbs, apiGroups: groups, resources };
}

function urls(verbs: string[], nonResourceURLs: string[]): PolicyRule {
  return { verbs, nonResourceURLs };
}

export const autoupdateAnnotation = 'rbac.authorization.kubernetes.io/autoupdate';
export const aggregateToAdmin = 'rbac.authorization.k8s.io/aggregate-to-admin';
export const aggregateToEdit = 'rbac.authorization.k8s.io/aggregate-to-edit';
export const aggregateToView = 'rbac.authorization.k8s.io/aggregate-to-view';

const bootstrapLabels = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };

function clusterRole(name: string, rules: PolicyRule[], extra: { labels?: Record<string, string>; aggregateFrom?: string } = {}): ClusterRole {
  const cr: ClusterRole = {
    apiVersion: `${rbacGroup}/v1`,
    kind: 'ClusterRole',
    metadata: { name, labels: { ...bootstrapLabels, ...extra.labels }, annotations: { [autoupdateAnnotation]: 'true' } },
    rules,
  };
  if (extra.aggregateFrom) {
    cr.aggregationRule = { clusterRoleSelectors: [{ matchLabels: { [extra.aggregateFrom]: 'true' } }] };
    cr.rules = [];
  }
  return cr;
}

function user(name: string): Subject {
  return { kind: 'User', apiGroup: rbacGroup, name };
}
function group(name: string): Subject {
  return { kind: 'Group', apiGroup: rbacGroup, name };
}
function serviceAccount(namespace: string, name: string): Subject {
  return { kind: 'ServiceAccount', apiGroup: '', name, namespace };
}

function clusterRoleBinding(name: string, role: string, subjects: Subject[]): ClusterRoleBinding {
  return {
    apiVersion: `${rbacGroup}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { ...bootstrapLabels }, annotations: { [autoupdateAnnotation]: 'true' } },
    roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: role },
    subjects,
  };
}

/** What a kubelet may do, before the Node authorizer narrows it to its own node's objects. */
export const nodeRules: PolicyRule[] = [
  rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
  rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews', 'localsubjectaccessreviews']),
  rule(read, [legacy], ['services']),
  rule(['create', 'get', 'list', 'watch'], [legacy], ['nodes']),
  rule(['update', 'patch'], [legacy], ['nodes/status']),
  rule(['update', 'patch'], [legacy], ['nodes']),
  rule(['create', 'update', 'patch'], [legacy], ['events']),
  rule(['create', 'update', 'patch'], ['events.k8s.io'], ['events']),
  rule(read, [legacy], ['pods']),
  rule(['create', 'delete'], [legacy], ['pods']),
  rule(['update', 'patch'], [legacy], ['pods/status']),
  rule(['create'], [legacy], ['pods/eviction']),
  rule(read, [legacy], ['secrets', 'configmaps']),
  rule(['get'], [legacy], ['persistentvolumeclaims', 'persistentvolumes']),
  rule(['get'], [legacy], ['endpoints']),
  rule(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
  rule(['get', 'create', 'update', 'patch', 'delete'], ['coordination.k8s.io'], ['leases']),
  rule(['get'], ['storage.k8s.io'], ['volumeattachments']),
  rule(['create'], [legacy], ['serviceaccounts/token']),
  rule(['get', 'update', 'patch'], [legacy], ['persistentvolumeclaims/status']),
  rule(read, ['storage.k8s.io'], ['csidrivers']),
  rule(['get', 'create', 'update', 'patch', 'delete'], ['storage.k8s.io'], ['csinodes']),
  rule(read, ['node.k8s.io'], ['runtimeclasses']),
];

const viewRules: PolicyRule[] = [
  rule(read, [legacy], ['pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'configmaps']),
  rule(read, [legacy], ['limitranges', 'resourcequotas', 'bindings', 'events', 'pods/status', 'resourcequotas/status', 'namespaces/status', 'replicationcontrollers/status', 'pods/log']),
  rule(read, [legacy], ['namespaces']),
  rule(read, ['discovery.k8s.io'], ['endpointslices']),
  rule(read, ['apps'], ['controllerrevisions', 'statefulsets', 'statefulsets/status', 'statefulsets/scale', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/status', 'deployments/scale', 'replicasets', 'replicasets/status', 'replicasets/scale']),
  rule(read, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
  rule(read, ['batch'], ['jobs', 'jobs/status', 'cronjobs', 'cronjobs/status']),
  rule(read, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
  rule(read, ['networking.k8s.io'], ['networkpolicies', 'ingresses', 'ingresses/status']),
  rule(read, ['events.k8s.io'], ['events']),
];

const editRules: PolicyRule[] = [
  rule(['impersonate'], [legacy], ['serviceaccounts']),
  rule(write, [legacy], ['pods', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward']),
  rule(['create'], [legacy], ['pods/eviction']),
  rule(read, [legacy], ['pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward', 'secrets', 'services/proxy']),
  rule(write, [legacy], ['replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/proxy', 'persistentvolumeclaims', 'configmaps', 'secrets', 'events']),
  rule(['create'], [legacy], ['serviceaccounts/token']),
  rule(write, ['apps'], ['statefulsets', 'statefulsets/scale', 'daemonsets', 'deployments', 'deployments/scale', 'deployments/rollback', 'replicasets', 'replicasets/scale']),
  rule(write, ['autoscaling'], ['horizontalpodautoscalers']),
  rule(write, ['batch'], ['jobs', 'cronjobs']),
  rule(write, ['policy'], ['poddisruptionbudgets']),
  rule(write, ['networking.k8s.io'], ['networkpolicies', 'ingresses']),
];

const adminRules: PolicyRule[] = [
  rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
  rule(write.concat(read), [rbacGroup], ['rolebindings', 'roles']),
];

const eventsWrite = [rule(['create', 'update', 'patch'], [legacy], ['events']), rule(['create', 'update', 'patch'], ['events.k8s.io'], ['events'])];

export function bootstrapClusterRoles(): ClusterRole[] {
  return [
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    clusterRole('admin', [], { aggregateFrom: aggregateToAdmin }),
    clusterRole('edit', [], { aggregateFrom: aggregateToEdit, labels: { [aggregateToAdmin]: 'true' } }),
    clusterRole('view', [], { aggregateFrom: aggregateToView, labels: { [aggregateToEdit]: 'true' } }),
    clusterRole('system:aggregate-to-admin', adminRules, { labels: { [aggregateToAdmin]: 'true' } }),
    clusterRole('system:aggregate-to-edit', editRules, { labels: { [aggregateToEdit]: 'true' } }),
    clusterRole('system:aggregate-to-view', viewRules, { labels: { [aggregateToView]: 'true' } }),
    clusterRole('system:basic-user', [
      rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
    ]),
    clusterRole('system:discovery', [urls(['get'], ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'])]),
    clusterRole('system:public-info-viewer', [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])]),
    clusterRole('system:monitoring', [urls(['get'], ['/metrics', '/metrics/slis', '/livez', '/readyz', '/healthz', '/livez/*', '/readyz/*', '/healthz/*'])]),
    clusterRole('system:auth-delegator', [rule(['create'], ['authentication.k8s.io'], ['tokenreviews']), rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews'])]),
    clusterRole('system:service-account-issuer-discovery', [urls(['get'], ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'])]),
    clusterRole('system:node', nodeRules),
    clusterRole('system:node-proxier', [
      rule(['list', 'watch'], [legacy], ['services', 'endpoints']),
      rule(read, [legacy], ['nodes']),
      rule(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
      ...eventsWrite,
    ]),
    clusterRole('system:kube-dns', [rule(['list', 'watch'], [legacy], ['endpoints', 'services']), rule(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices'])]),
    clusterRole('system:kube-scheduler', [
      ...eventsWrite,
      rule(['create'], ['coordination.k8s.io'], ['leases']),
      rule(['get', 'update'], ['coordination.k8s.io'], ['leases'], ['kube-scheduler']),
      rule(['create'], [legacy], ['endpoints']),
      rule(['get', 'update'], [legacy], ['endpoints'], ['kube-scheduler']),
      rule(read, [legacy], ['nodes']),
      rule(['get', 'list', 'watch', 'delete'], [legacy], ['pods']),
      rule(['create'], [legacy], ['pods/binding', 'bindings']),
      rule(['patch', 'update'], [legacy], ['pods/status']),
      rule(read, [legacy], ['replicationcontrollers', 'services', 'namespaces', 'persistentvolumeclaims', 'persistentvolumes', 'configmaps']),
      rule(read, ['apps'], ['replicasets', 'statefulsets']),
      rule(read, ['policy'], ['poddisruptionbudgets']),
      rule(read, ['storage.k8s.io'], ['storageclasses', 'csinodes', 'csidrivers', 'csistoragecapacities']),
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      rule(read, ['scheduling.k8s.io'], ['priorityclasses']),
    ]),
    clusterRole('system:volume-scheduler', [
      rule(['get', 'list', 'patch', 'update', 'watch'], [legacy], ['persistentvolumes']),
      rule(read, ['storage.k8s.io'], ['storageclasses']),
      rule(['get', 'list', 'patch', 'update', 'watch'], [legacy], ['persistentvolumeclaims']),
    ]),
    // The controller manager's own identity. With --use-service-account-credentials (as the lab
    // runs it) it only feeds the shared informers, records events, leads, and gets each
    // controller its service account and token; the controllers then act under their own
    // system:controller:* roles below. Upstream's role covers just that; tkube's is broad (short
    // of escalate, bind and impersonate) so that a controller manager run without the flag,
    // every controller under this identity, works too.
    clusterRole('system:kube-controller-manager', [
      rule(readWrite, ['*'], ['*']),
      rule(['create'], [legacy], ['serviceaccounts/token']),
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    ]),
    // tkube's kubelet routes pod traffic to every other node's podCIDR through its InternalIP
    // (the job a CNI daemon does upstream, with an account of its own), so kubelets list and
    // watch all Nodes. The Node authorizer stays upstream's (its own Node only); RBAC adds this.
    clusterRole(nodeRoutesRole, [rule(['list', 'watch'], [legacy], ['nodes'])]),
    clusterRole('system:kubelet-api-admin', [
      rule(['get', 'list', 'watch', 'proxy'], [legacy], ['nodes']),
      rule(['*'], [legacy], ['nodes/log', 'nodes/metrics', 'nodes/proxy', 'nodes/stats', 'nodes/configz', 'nodes/healthz', 'nodes/pods', 'nodes/checkpoint']),
    ]),
    // Certificate requests, as upstream: what csrapproving checks before approving a kubelet's
    // client certificate, and who may approve for each built-in signer (bind them to use them).
    clusterRole('system:certificates.k8s.io:certificatesigningrequests:nodeclient', [rule(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/nodeclient'])]),
    clusterRole('system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [rule(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/selfnodeclient'])]),
    ...['kube-apiserver-client', 'kube-apiserver-client-kubelet', 'kubelet-serving', 'legacy-unknown'].map((signer) =>
      clusterRole(`system:certificates.k8s.io:${signer}-approver`, [rule(['approve'], ['certificates.k8s.io'], ['signers'], [`kubernetes.io/${signer}`])]),
    ),
    ...Object.entries(controllerRules(rule)).map(([account, rules]) => clusterRole(controllerRolePrefix + account, rules)),
  ];
}

/** The ClusterRole that lets kubelets list and watch every Node (tkube's routes between nodes). */
export const nodeRoutesRole = 'tkube:node-routes';

/** The user name of the API server's client certificate towards kubelets (tkube-pki issues it). */
export const apiserverKubeletClientUser = 'kube-apiserver-kubelet-client';

export function bootstrapClusterRoleBindings(): ClusterRoleBinding[] {
  return [
    clusterRoleBinding('cluster-admin', 'cluster-admin', [group('system:masters')]),
    clusterRoleBinding('system:basic-user', 'system:basic-user', [group('system:authenticated')]),
    clusterRoleBinding('system:discovery', 'system:discovery', [group('system:authenticated')]),
    clusterRoleBinding('system:public-info-viewer', 'system:public-info-viewer', [group('system:authenticated'), group('system:unauthenticated')]),
    clusterRoleBinding('system:monitoring', 'system:monitoring', [group('system:monitoring')]),
    clusterRoleBinding('system:service-account-issuer-discovery', 'system:service-account-issuer-discovery', [group('system:serviceaccounts')]),
    // As upstream: no subjects; kubelets get their rights from the Node authorizer.
    clusterRoleBinding('system:node', 'system:node', []),
    clusterRoleBinding('system:node-proxier', 'system:node-proxier', [user('system:kube-proxy')]),
    clusterRoleBinding('system:kube-dns', 'system:kube-dns', [serviceAccount('kube-system', 'kube-dns')]),
    clusterRoleBinding('system:kube-scheduler', 'system:kube-scheduler', [user('system:kube-scheduler')]),
    clusterRoleBinding('system:volume-scheduler', 'system:volume-scheduler', [user('system:kube-scheduler')]),
    clusterRoleBinding('system:kube-controller-manager', 'system:kube-controller-manager', [user('system:kube-controller-manager')]),
    clusterRoleBinding('system:kubelet-api-admin', 'system:kubelet-api-admin', [user(apiserverKubeletClientUser)]),
    clusterRoleBinding(nodeRoutesRole, nodeRoutesRole, [group('system:nodes')]),
    ...Object.keys(controllerRules(rule)).map((account) => clusterRoleBinding(controllerRolePrefix + account, controllerRolePrefix + account, [serviceAccount('kube-system', account)])),
  ];
}

function role(namespace: string, name: string, rules: PolicyRule[]): Role {
  return {
    apiVersion: `${rbacGroup}/v1`,
    kind: 'Role',
    metadata: { name, namespace, labels: { ...bootstrapLabels }, annotations: { [autoupdateAnnotation]: 'true' } },
    rules,
  };
}

function roleBinding(namespace: string, name: string, roleName: string, subjects: Subject[]): RoleBinding {
  return {
    apiVersion: `${rbacGroup}/v1`,
    kind: 'RoleBinding',
    metadata: { name, namespace, labels: { ...bootstrapLabels }, annotations: { [autoupdateAnnotation]: 'true' } },
    roleRef: { apiGroup: rbacGroup, kind: 'Role', name: roleName },
    subjects,
  };
}

/** The ConfigMap in kube-system that tells other servers which client CA the API server trusts. */
export const authenticationConfigMap = 'extension-apiserver-authentication';

const leaderLocking = [rule(['create', 'get', 'list', 'update', 'watch'], ['coordination.k8s.io'], ['leases']), rule(['create', 'get', 'list', 'update', 'watch'], ['coordination.k8s.io'], ['leasecandidates'])];
const eventsAnyGroup = rule(['create', 'patch', 'update'], [legacy, 'events.k8s.io'], ['events']);

/** Upstream's Roles in kube-system and kube-public (bootstrappolicy's namespace policy). */
export function bootstrapRoles(): Role[] {
  return [
    role('kube-public', 'system:controller:bootstrap-signer', [rule(read, [legacy], ['configmaps']), rule(['update'], [legacy], ['configmaps'], ['cluster-info']), eventsAnyGroup]),
    role('kube-system', 'extension-apiserver-authentication-reader', [rule(read, [legacy], ['configmaps'], [authenticationConfigMap])]),
    role('kube-system', 'system::leader-locking-kube-controller-manager', leaderLocking),
    role('kube-system', 'system::leader-locking-kube-scheduler', leaderLocking),
    role('kube-system', 'system:controller:bootstrap-signer', [rule(read, [legacy], ['secrets'])]),
    role('kube-system', 'system:controller:cloud-provider', [rule(['create', 'get', 'list', 'watch'], [legacy], ['configmaps'])]),
    role('kube-system', 'system:controller:token-cleaner', [rule(['delete', 'get', 'list', 'watch'], [legacy], ['secrets']), eventsAnyGroup]),
  ];
}

export function bootstrapRoleBindings(): RoleBinding[] {
  const sa = (name: string) => serviceAccount('kube-system', name);
  return [
    roleBinding('kube-public', 'system:controller:bootstrap-signer', 'system:controller:bootstrap-signer', [sa('bootstrap-signer')]),
    roleBinding('kube-system', 'system::extension-apiserver-authentication-reader', 'extension-apiserver-authentication-reader', [user('system:kube-controller-manager'), user('system:kube-scheduler')]),
    roleBinding('kube-system', 'system::leader-locking-kube-controller-manager', 'system::leader-locking-kube-controller-manager', [user('system:kube-controller-manager'), sa('kube-controller-manager'), sa('leader-election-controller')]),
    roleBinding('kube-system', 'system::leader-locking-kube-scheduler', 'system::leader-locking-kube-scheduler', [user('system:kube-scheduler'), sa('kube-scheduler')]),
    roleBinding('kube-system', 'system:controller:bootstrap-signer', 'system:controller:bootstrap-signer', [sa('bootstrap-signer')]),
    roleBinding('kube-system', 'system:controller:cloud-provider', 'system:controller:cloud-provider', [sa('cloud-provider')]),
    roleBinding('kube-system', 'system:controller:token-cleaner', 'system:controller:token-cleaner', [sa('token-cleaner')]),
  ];
}
