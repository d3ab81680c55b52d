/**
 * CertificateSigningRequests, after upstream's pkg/registry/certificates/certificates/strategy.go:
 *
 *   create     spec.username/uid/groups/extra come from the requesting user (what the client
 *              sent is ignored); status starts empty
 *   update     only metadata changes: spec and status are kept
 *   /status    only status.certificate (once, on an approved request) and conditions other
 *              than Approved/Denied (those are kept as they were)
 *   /approval  only status.conditions; Approved/Denied may be added, never removed
 */
import { validateCertificateSigningRequest, type CertificateSigningRequest, type CertificateSigningRequestCondition, type KubeObject } from '../../api/index.js';
import { rfc3339 } from '../../base/index.js';
import type { Strategy } from '../strategy.js';

function conditionsOf(o: CertificateSigningRequest): CertificateSigningRequestCondition[] {
  return o.status?.conditions ?? [];
}

/** Keeps the old instances of conditions of `type` when their number did not change (upstream's preserveConditionInstances). */
function preserveConditions(csr: CertificateSigningRequest, old: CertificateSigningRequest, type: string): void {
  const before = conditionsOf(old).filter((c) => c.type === type);
  const after = conditionsOf(csr).filter((c) => c.type === type);
  if (before.length !== after.length || before.length === 0) return;
  let i = 0;
  csr.status!.conditions = conditionsOf(csr).map((c) => (c.type === type ? before[i++]! : c));
}

/** Fills lastUpdateTime and lastTransitionTime of new or changed conditions (upstream's populateConditionTimestamps). */
function populateConditionTimestamps(csr: CertificateSigningRequest, old: CertificateSigningRequest | undefined): void {
  const now = rfc3339();
  for (const c of conditionsOf(csr)) {
    c.lastUpdateTime ||= now;
    if (!c.lastTransitionTime) {
      const prev = old ? conditionsOf(old).find((o) => o.type === c.type) : undefined;
      c.lastTransitionTime = prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now;
    }
  }
}

function setStatus(csr: CertificateSigningRequest, status: CertificateSigningRequest['status']): void {
  if (status === undefined) delete csr.status;
  else csr.status = status;
}

export const certificateSigningRequestStrategy: Strategy = {
  prepareForCreate(obj, ctx) {
    const csr = obj as CertificateSigningRequest;
    const spec = (csr.spec ??= {} as CertificateSigningRequest['spec']);
    delete spec.username;
    delete spec.uid;
    delete spec.groups;
    delete spec.extra;
    if (ctx.user.username) spec.username = ctx.user.username;
    if (ctx.user.uid) spec.uid = ctx.user.uid;
    if (ctx.user.groups.length) spec.groups = [...ctx.user.groups];
    if (ctx.user.extra && Object.keys(ctx.user.extra).length) spec.extra = structuredClone(ctx.user.extra);
    // Users cannot create pre-approved (or pre-issued) requests.
    delete csr.status;
    csr.metadata.generation = 1;
  },
  prepareForUpdate(obj, oldObj, ctx) {
    const csr = obj as CertificateSigningRequest;
    const old = oldObj as CertificateSigningRequest;
    for (const k of Object.keys(csr)) if (k !== 'metadata' && k !== 'apiVersion' && k !== 'kind' && k !== 'status') delete (csr as KubeObject)[k];
    for (const k of Object.keys(old)) if (k !== 'metadata' && k !== 'apiVersion' && k !== 'kind' && k !== 'status') (csr as KubeObject)[k] = structuredClone((old as KubeObject)[k]);
    csr.metadata.generation = old.metadata.generation ?? 1;
    switch (ctx.subresource) {
      case 'status':
        preserveConditions(csr, old, 'Approved');
        preserveConditions(csr, old, 'Denied');
        populateConditionTimestamps(csr, old);
        if (csr.status && !csr.status.conditions?.length) delete csr.status.conditions;
        return;
      case 'approval': {
        const conditions = csr.status?.conditions;
        const status = structuredClone(old.status) ?? {};
        if (conditions?.length) status.conditions = conditions;
        else delete status.conditions;
        setStatus(csr, Object.keys(status).length ? status : undefined);
        populateConditionTimestamps(csr, old);
        return;
      }
      default:
        setStatus(csr, structuredClone(old.status));
    }
  },
  validate(obj, old, ctx) {
    return validateCertificateSigningRequest(obj as CertificateSigningRequest, old as CertificateSigningRequest | undefined, {
      allowSettingCertificate: ctx.subresource === 'status',
      allowSettingApprovalConditions: ctx.subresource === 'approval',
    });
  },
  validatesUpdateAlone: (ctx) => ctx.subresource === 'approval',
};
