/**
 * Every admission plugin tkube has, in upstream's recommended order, and the ones on by
 * default (upstream's default set, of those tkube has; NodeRestriction is recommended but,
 * as upstream, must be asked for).
 */
import type { Logger } from 'pino';
import type { Registry } from '../../registry/index.js';
import type { AdmissionPlugin } from './chain.js';
import type { Authorizer } from '../auth.js';
import { certificateApproval, certificateSigning, certificateSubjectRestriction } from './certificates.js';
import { defaultTolerationSeconds } from './default-toleration-seconds.js';
import { limitRanger } from './limit-ranger.js';
import { namespaceLifecycle } from './namespace-lifecycle.js';
import { nodeRestriction } from './node-restriction.js';
import { podSecurity, type PodSecurityDefaults } from './pod-security.js';
import { priority } from './priority.js';
import { resourceQuota, type QuotaTracker } from './resource-quota.js';
import { serviceAccount } from './service-account.js';
import { runtimeClass } from './runtime-class.js';
import { defaultIngressClass, defaultStorageClass, persistentVolumeClaimResize, storageObjectInUseProtection } from './storage.js';
import { taintNodesByCondition } from './taint-nodes-by-condition.js';
import { mutatingAdmissionWebhook, validatingAdmissionWebhook, webhookMetrics } from './webhook.js';
import type { MetricsRegistry } from '../../base/metrics.js';
import type { WebhookRouting } from './webhook-client.js';

export const defaultAdmissionPlugins = ['NamespaceLifecycle', 'LimitRanger', 'ServiceAccount', 'TaintNodesByCondition', 'PodSecurity', 'Priority', 'DefaultTolerationSeconds', 'DefaultStorageClass', 'StorageObjectInUseProtection', 'PersistentVolumeClaimResize', 'RuntimeClass', 'CertificateApproval', 'CertificateSigning', 'CertificateSubjectRestriction', 'DefaultIngressClass', 'MutatingAdmissionWebhook', 'ValidatingAdmissionWebhook', 'ResourceQuota'];

export interface PluginDeps {
  registry: Registry;
  log: Logger;
  quota: QuotaTracker;
  podSecurity?: PodSecurityDefaults;
  /** Certificate approval and signing check the signers verbs with it. */
  authorizer: Authorizer;
  /** How webhooks behind Services are reached: their cluster IP (default) or an endpoint. */
  webhookRouting?: WebhookRouting;
  /** Where the webhook plugins count their calls (the API server's /metrics). */
  metrics?: MetricsRegistry;
}

export function allAdmissionPlugins(d: PluginDeps): AdmissionPlugin[] {
  const hooks = { registry: d.registry, routing: d.webhookRouting ?? 'clusterIP', metrics: d.metrics && webhookMetrics(d.metrics) } as const;
  return [
    namespaceLifecycle(d.registry),
    limitRanger(d.registry),
    serviceAccount(d.registry, d.log.child({ plugin: 'ServiceAccount' })),
    nodeRestriction(d.registry),
    taintNodesByCondition(),
    podSecurity(d.registry, d.log.child({ plugin: 'PodSecurity' }), d.podSecurity),
    priority(d.registry),
    defaultTolerationSeconds(),
    defaultStorageClass(d.registry),
    storageObjectInUseProtection(),
    persistentVolumeClaimResize(d.registry),
    runtimeClass(d.registry),
    certificateApproval(d.authorizer),
    certificateSigning(d.authorizer),
    certificateSubjectRestriction(),
    defaultIngressClass(d.registry),
    mutatingAdmissionWebhook({ ...hooks, log: d.log.child({ plugin: 'MutatingAdmissionWebhook' }) }),
    validatingAdmissionWebhook({ ...hooks, log: d.log.child({ plugin: 'ValidatingAdmissionWebhook' }) }),
    resourceQuota(d.registry, d.quota),
  ];
}
