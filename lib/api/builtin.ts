/**
 * The built-in kinds tkube serves, with upstream's URL names, scopes, short names and
 * categories (what `kubectl api-resources` prints).
 */
import { defineResource, type AnyResourceType } from './resource-type.js';
import * as core from './core/v1.js';
import * as coreDefaults from './core/v1-defaults.js';
import * as coreValidation from './core/v1-validation.js';
import * as apps from './apps/v1.js';
import * as appsDefaults from './apps/v1-defaults.js';
import * as appsValidation from './apps/v1-validation.js';
import * as batch from './batch/v1.js';
import * as batchBehaviour from './batch/v1-behaviour.js';
import { LeaseSchema } from './coordination/v1.js';
import { EndpointSliceSchema } from './discovery/v1.js';
import { PodDisruptionBudgetSchema } from './policy/v1.js';
import { CertificateSigningRequestSchema } from './certificates/v1.js';
import { defaultCertificateSigningRequest } from './certificates/v1-behaviour.js';
import * as coreQuota from './core/v1-quota-validation.js';
import * as coreStorage from './core/v1-storage-validation.js';
import { EventsV1EventSchema } from './events/v1.js';
import { validateEventsV1Event } from './events/v1-behaviour.js';
import * as networking from './networking/v1.js';
import * as networkingBehaviour from './networking/v1-behaviour.js';
import { PriorityClassSchema } from './scheduling/v1.js';
import * as schedulingBehaviour from './scheduling/v1-behaviour.js';
import { RuntimeClassSchema } from './node/v1.js';
import { validateRuntimeClass } from './node/v1-behaviour.js';
import { StorageClassSchema } from './storage/v1.js';
import * as storageBehaviour from './storage/v1-behaviour.js';
import { HorizontalPodAutoscalerSchema } from './autoscaling/v2.js';
import { HorizontalPodAutoscalerV1Schema, type HorizontalPodAutoscalerV1 } from './autoscaling/v1.js';
import { hpaFromV1, hpaToV1 } from './autoscaling/v1-conversion.js';
import * as autoscalingBehaviour from './autoscaling/v2-behaviour.js';
import { z } from 'zod';
import { CustomResourceDefinitionSchema } from './apiextensions/v1.js';
import { defaultCRD, validateCRD } from './apiextensions/crd.js';
import { rbacResources } from './rbac/resources.js';
import { APIServiceSchema } from './apiregistration/v1.js';
import { validateAPIService } from './apiregistration/v1-behaviour.js';
import { MutatingWebhookConfigurationSchema, ValidatingWebhookConfigurationSchema } from './admissionregistration/v1.js';
import * as admissionregistration from './admissionregistration/v1-behaviour.js';

const all = ['all'];

export const builtinResources: AnyResourceType[] = [
  defineResource({
    group: '', version: 'v1', kind: 'Namespace', resource: 'namespaces', namespaced: false, shortNames: ['ns'],
    schema: core.NamespaceSchema, subresources: ['status', 'finalize'], nameFormat: 'label', hasStatus: true,
    defaults: coreDefaults.defaultNamespace, validate: coreValidation.validateNamespace,
    selectableFields: (o) => ({ 'status.phase': o.status?.phase ?? '' }),
  }),
  defineResource({
    group: '', version: 'v1', kind: 'Pod', resource: 'pods', namespaced: true, shortNames: ['po'], categories: all,
    schema: core.PodSchema, subresources: ['status', 'binding', 'eviction', 'log', 'exec', 'attach', 'portforward', 'proxy', 'ephemeralcontainers'],
    hasStatus: true, defaults: coreDefaults.defaultPod, validate: coreValidation.validatePod,
    selectableFields: (o) => ({
      'spec.nodeName': o.spec?.nodeName ?? '',
      'spec.restartPolicy': o.spec?.restartPolicy ?? '',
      'spec.schedulerName': o.spec?.schedulerName ?? '',
      'spec.serviceAccountName': o.spec?.serviceAccountName ?? '',
      'spec.hostNetwork': String(o.spec?.hostNetwork ?? false),
      'status.phase': o.status?.phase ?? '',
      'status.podIP': o.status?.podIP ?? '',
      'status.nominatedNodeName': o.status?.nominatedNodeName ?? '',
    }),
  }),
  defineResource({
    group: '', version: 'v1', kind: 'Service', resource: 'services', namespaced: true, shortNames: ['svc'], categories: all,
    schema: core.ServiceSchema, subresources: ['status', 'proxy'], nameFormat: 'dns1035', hasStatus: true,
    defaults: coreDefaults.defaultService, validate: coreValidation.validateService,
    selectableFields: (o) => ({ 'spec.clusterIP': o.spec?.clusterIP ?? '', 'spec.type': o.spec?.type ?? '' }),
  }),
  defineResource({
    group: '', version: 'v1', kind: 'Endpoints', listKind: 'EndpointsList', resource: 'endpoints', singularName: 'endpoints', namespaced: true, shortNames: ['ep'],
    schema: core.EndpointsSchema, defaults: coreDefaults.defaultEndpoints,
  }),
  defineResource({
    group: '', version: 'v1', kind: 'ConfigMap', resource: 'configmaps', namespaced: true, shortNames: ['cm'],
    schema: core.ConfigMapSchema, validate: coreValidation.validateConfigMap,
  }),
  defineResource({
    group: '', version: 'v1', kind: 'Secret', resource: 'secrets', namespaced: true,
    schema: core.SecretSchema, defaults: coreDefaults.defaultSecret, validate: coreValidation.validateSecret,
    selectableFields: (o) => ({ type: o.type ?? '' }),
  }),
  defineResource({
    group: '', version: 'v1', kind: 'ServiceAccount', resource: 'serviceaccounts', namespaced: true, shortNames: ['sa'],
    schema: core.ServiceAccountSchema, subresources: ['token'],
  }),
  defineResource({
    group: '', version: 'v1', kind: 'Event', resource: 'events', namespaced: true, shortNames: ['ev'],
    schema: core.EventSchema, validate: coreValidation.validateEvent, nameFormat: 'path-segment',
    selectableFields: (o) => ({
      'involvedObject.kind': o.involvedObject?.kind ?? '',
      'involvedObject.namespace': o.involvedObject?.namespace ?? '',
      'involvedObject.name': o.involvedObject?.name ?? '',
      'involvedObject.uid': o.involvedObject?.uid ?? '',
      'involvedObject.apiVersion': o.involvedObject?.apiVersion ?? '',
      'involvedObject.resourceVersion': o.involvedObject?.resourceVersion ?? '',
      'involvedObject.fieldPath': o.involvedObject?.fieldPath ?? '',
      reason: o.reason ?? '',
      reportingComponent: o.reportingComponent ?? '',
      source: o.source?.component ?? '',
      type: o.type ?? '',
    }),
  }),
  defineResource({
    group: '', version: 'v1', kind: 'Node', resource: 'nodes', namespaced: false, shortNames: ['no'],
    schema: core.NodeSchema, subresources: ['status', 'proxy'], hasStatus: true,
    defaults: coreDefaults.defaultNode, validate: coreValidation.validateNode,
    selectableFields: (o) => ({ 'spec.unschedulable': String(o.spec?.unschedulable ?? false) }),
  }),
  defineResource({
    group: '', version: 'v1', kind: 'ReplicationController', resource: 'replicationcontrollers', namespaced: true, shortNames: ['rc'], categories: all,
    schema: core.ReplicationControllerSchema, subresources: ['status', 'scale'], hasStatus: true,
    defaults: coreDefaults.defaultReplicationController,
    validate: (rc, old) =>
      appsValidation.validateReplicaSet(
        { ...rc, spec: rc.spec && { ...rc.spec, selector: rc.spec.selector ? { matchLabels: rc.spec.selector } : undefined } } as apps.ReplicaSet,
        old && ({ ...old, spec: old.spec && { ...old.spec, selector: old.spec.selector ? { matchLabels: old.spec.selector } : undefined } } as apps.ReplicaSet),
      ),
    selectableFields: (o) => ({ 'status.replicas': String(o.status?.replicas ?? 0) }),
  }),
  defineResource({
    group: '', version: 'v1', kind: 'PodTemplate', resource: 'podtemplates', namespaced: true, schema: core.PodTemplateSchema,
  }),
  defineResource({
    group: '', version: 'v1', kind: 'ComponentStatus', resource: 'componentstatuses', singularName: 'componentstatus', namespaced: false, shortNames: ['cs'],
    schema: core.ComponentStatusSchema, verbs: ['get', 'list'],
  }),
  defineResource({
    group: '', version: 'v1', kind: 'ResourceQuota', resource: 'resourcequotas', namespaced: true, shortNames: ['quota'],
    schema: core.ResourceQuotaSchema, subresources: ['status'], hasStatus: true, validate: coreQuota.validateResourceQuota,
  }),
  defineResource({
    group: '', version: 'v1', kind: 'LimitRange', resource: 'limitranges', namespaced: true, shortNames: ['limits'],
    schema: core.LimitRangeSchema, defaults: coreDefaults.defaultLimitRange, validate: coreQuota.validateLimitRange,
  }),
  defineResource({
    group: '', version: 'v1', kind: 'PersistentVolume', resource: 'persistentvolumes', namespaced: false, shortNames: ['pv'],
    schema: core.PersistentVolumeSchema, subresources: ['status'], hasStatus: true, nameFormat: 'path-segment',
    defaults: coreDefaults.defaultPersistentVolume, validate: coreStorage.validatePersistentVolume,
  }),
  defineResource({
    group: '', version: 'v1', kind: 'PersistentVolumeClaim', resource: 'persistentvolumeclaims', namespaced: true, shortNames: ['pvc'],
    schema: core.PersistentVolumeClaimSchema, subresources: ['status'], hasStatus: true,
    defaults: coreDefaults.defaultPersistentVolumeClaim, validate: coreStorage.validatePersistentVolumeClaim,
  }),
  defineResource({
    group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespaced: true, shortNames: ['deploy'], categories: all,
    schema: apps.DeploymentSchema, subresources: ['status', 'scale'], hasStatus: true,
    defaults: appsDefaults.defaultDeployment, validate: appsValidation.validateDeployment,
  }),
  defineResource({
    group: 'apps', version: 'v1', kind: 'ReplicaSet', resource: 'replicasets', namespaced: true, shortNames: ['rs'], categories: all,
    schema: apps.ReplicaSetSchema, subresources: ['status', 'scale'], hasStatus: true,
    defaults: appsDefaults.defaultReplicaSet, validate: appsValidation.validateReplicaSet,
    selectableFields: (o) => ({ 'status.replicas': String(o.status?.replicas ?? 0) }),
  }),
  defineResource({
    group: 'apps', version: 'v1', kind: 'DaemonSet', resource: 'daemonsets', namespaced: true, shortNames: ['ds'], categories: all,
    schema: apps.DaemonSetSchema, subresources: ['status'], hasStatus: true,
    defaults: appsDefaults.defaultDaemonSet, validate: appsValidation.validateDaemonSet,
  }),
  defineResource({
    group: 'apps', version: 'v1', kind: 'StatefulSet', resource: 'statefulsets', namespaced: true, shortNames: ['sts'], categories: all,
    schema: apps.StatefulSetSchema, subresources: ['status', 'scale'], hasStatus: true,
    defaults: appsDefaults.defaultStatefulSet, validate: appsValidation.validateStatefulSet,
  }),
  defineResource({
    group: 'apps', version: 'v1', kind: 'ControllerRevision', resource: 'controllerrevisions', namespaced: true, schema: apps.ControllerRevisionSchema,
  }),
  defineResource({
    group: 'batch', version: 'v1', kind: 'Job', resource: 'jobs', namespaced: true, categories: all,
    schema: batch.JobSchema, subresources: ['status'], hasStatus: true,
    defaults: batchBehaviour.defaultJob, validate: batchBehaviour.validateJob,
  }),
  defineResource({
    group: 'batch', version: 'v1', kind: 'CronJob', resource: 'cronjobs', namespaced: true, shortNames: ['cj'], categories: all,
    schema: batch.CronJobSchema, subresources: ['status'], hasStatus: true, nameFormat: 'label',
    defaults: batchBehaviour.defaultCronJob, validate: batchBehaviour.validateCronJob,
  }),
  defineResource({
    group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', resource: 'leases', namespaced: true, schema: LeaseSchema,
  }),
  defineResource({
    group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', resource: 'endpointslices', namespaced: true, schema: EndpointSliceSchema,
  }),
  defineResource({
    group: 'policy', version: 'v1', kind: 'PodDisruptionBudget', resource: 'poddisruptionbudgets', namespaced: true, shortNames: ['pdb'],
    schema: PodDisruptionBudgetSchema, subresources: ['status'], hasStatus: true,
  }),
  // Validation depends on the subresource (approval, status): the registry's strategy runs it.
  defineResource({
    group: 'certificates.k8s.io', version: 'v1', kind: 'CertificateSigningRequest', resource: 'certificatesigningrequests', namespaced: false, shortNames: ['csr'],
    schema: CertificateSigningRequestSchema, subresources: ['status', 'approval'], hasStatus: true, nameFormat: 'path-segment', defaults: defaultCertificateSigningRequest,
  }),
  defineResource({
    group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition', resource: 'customresourcedefinitions', namespaced: false,
    shortNames: ['crd', 'crds'], categories: ['api-extensions'], schema: CustomResourceDefinitionSchema, subresources: ['status'], hasStatus: true,
    defaults: defaultCRD, validate: validateCRD,
  }),
  // Upstream serves one stored Event in both shapes; here events.k8s.io has its own keys.
  // `kubectl get events` still means core/v1: discovery lists the core group first.
  defineResource({
    group: 'events.k8s.io', version: 'v1', kind: 'Event', resource: 'events', namespaced: true, shortNames: ['ev'],
    schema: EventsV1EventSchema, validate: validateEventsV1Event, storageResource: 'events.k8s.io/events',
  }),
  defineResource({
    group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', resource: 'ingresses', namespaced: true, shortNames: ['ing'],
    schema: networking.IngressSchema, subresources: ['status'], hasStatus: true, validate: networkingBehaviour.validateIngress,
  }),
  defineResource({
    group: 'networking.k8s.io', version: 'v1', kind: 'IngressClass', resource: 'ingressclasses', namespaced: false,
    schema: networking.IngressClassSchema, defaults: networkingBehaviour.defaultIngressClass, validate: networkingBehaviour.validateIngressClass,
  }),
  defineResource({
    group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', listKind: 'NetworkPolicyList', resource: 'networkpolicies', singularName: 'networkpolicy', namespaced: true, shortNames: ['netpol'],
    schema: networking.NetworkPolicySchema, defaults: networkingBehaviour.defaultNetworkPolicy, validate: networkingBehaviour.validateNetworkPolicy,
  }),
  defineResource({
    group: 'scheduling.k8s.io', version: 'v1', kind: 'PriorityClass', resource: 'priorityclasses', namespaced: false, shortNames: ['pc'],
    schema: PriorityClassSchema, defaults: schedulingBehaviour.defaultPriorityClass, validate: schedulingBehaviour.validatePriorityClass,
  }),
  defineResource({
    group: 'apiregistration.k8s.io', version: 'v1', kind: 'APIService', resource: 'apiservices', namespaced: false, categories: ['api-extensions'],
    schema: APIServiceSchema, subresources: ['status'], hasStatus: true, nameFormat: 'path-segment', validate: validateAPIService,
  }),
  defineResource({
    group: 'admissionregistration.k8s.io', version: 'v1', kind: 'MutatingWebhookConfiguration', resource: 'mutatingwebhookconfigurations', namespaced: false, categories: ['api-extensions'],
    schema: MutatingWebhookConfigurationSchema, defaults: admissionregistration.defaultMutatingWebhookConfiguration, validate: admissionregistration.validateWebhookConfiguration,
  }),
  defineResource({
    group: 'admissionregistration.k8s.io', version: 'v1', kind: 'ValidatingWebhookConfiguration', resource: 'validatingwebhookconfigurations', namespaced: false, categories: ['api-extensions'],
    schema: ValidatingWebhookConfigurationSchema, defaults: admissionregistration.defaultValidatingWebhookConfiguration, validate: admissionregistration.validateWebhookConfiguration,
  }),
  defineResource({
    group: 'node.k8s.io', version: 'v1', kind: 'RuntimeClass', resource: 'runtimeclasses', namespaced: false,
    schema: RuntimeClassSchema, validate: validateRuntimeClass,
  }),
  defineResource({
    group: 'storage.k8s.io', version: 'v1', kind: 'StorageClass', resource: 'storageclasses', namespaced: false, shortNames: ['sc'],
    schema: StorageClassSchema, defaults: storageBehaviour.defaultStorageClass, validate: storageBehaviour.validateStorageClass,
  }),
  defineResource({
    group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler', resource: 'horizontalpodautoscalers', namespaced: true, shortNames: ['hpa'], categories: all,
    schema: HorizontalPodAutoscalerSchema, subresources: ['status'], hasStatus: true,
    defaults: autoscalingBehaviour.defaultHorizontalPodAutoscaler, validate: autoscalingBehaviour.validateHorizontalPodAutoscaler,
  }),
  // autoscaling/v1 (what `kubectl autoscale` sends): the same objects, stored as v2.
  defineResource({
    group: 'autoscaling', version: 'v1', kind: 'HorizontalPodAutoscaler', resource: 'horizontalpodautoscalers', namespaced: true, shortNames: ['hpa'], categories: all,
    schema: HorizontalPodAutoscalerV1Schema, subresources: ['status'], hasStatus: true, storageVersion: 'v2',
    defaults: (hpa: HorizontalPodAutoscalerV1) => {
      if (hpa.spec) hpa.spec.minReplicas ??= 1;
    },
    validate: autoscalingBehaviour.validateHorizontalPodAutoscaler as never,
    convert: {
      toStorage: (obj) => {
        const hpa = hpaFromV1(obj);
        autoscalingBehaviour.defaultHorizontalPodAutoscaler(hpa);
        return hpa;
      },
      fromStorage: hpaToV1,
    },
  }),
  // rbac.authorization.k8s.io/v1 (security: lib/api/rbac).
  ...rbacResources,
];

/** The schema of objects nobody validates beyond metadata (used for unknown subresource bodies). */
export const LooseObjectSchema = z.object({}).loose();
