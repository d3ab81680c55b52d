/**
 * Dynamic admission: the MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins. For a
 * request, each webhook of the MutatingWebhookConfigurations (in name order, one after another)
 * and ValidatingWebhookConfigurations (all at once) that wants it (webhook-match.ts) is sent an
 * admission.k8s.io AdmissionReview over HTTPS (webhook-client.ts). A mutating webhook may answer
 * with a JSONPatch, applied to the object before the next one sees it; either kind may refuse
 * the request, with its message given to the client. A webhook that cannot be called refuses the
 * request (failurePolicy Fail, the default) or is skipped (Ignore).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Counter, Histogram, MetricsRegistry } from '../../base/metrics.js';
import { decodeObject, type KubeObject, type MutatingWebhookConfiguration, type ValidatingWebhookConfiguration, type Webhook } from '../../api/index.js';
import { jsonEqual, labelSelectorFromObject, newBadRequest, newInternalError, newNotFound, StatusError, applyJSONPatch, type Status } from '../../machinery/index.js';
import type { AdmissionAttributes, Registry } from '../../registry/index.js';
import type { AdmissionPlugin } from './chain.js';
import { markMutated } from './chain.js';
import { lookup } from './lookup.js';
import { postReview, resolveWebhook, WebhookCallError, type WebhookRouting } from './webhook-client.js';
import { exemptFromWebhooks, namespaceSelectorSubject, webhookMatches } from './webhook-match.js';

/** Upstream's webhook metrics, on the API server's /metrics; type is admit (mutating) or validating. */
export interface WebhookMetrics {
  requests: Counter;
  duration: Histogram;
  rejections: Counter;
  failOpen: Counter;
}

export function webhookMetrics(r: MetricsRegistry): WebhookMetrics {
  return {
    requests: r.counter('apiserver_admission_webhook_request_total', 'Admission webhook calls by name, type (admit or validating), operation, HTTP code (0: no answer) and whether the request was rejected.'),
    duration: r.histogram('apiserver_admission_webhook_admission_duration_seconds', 'Admission webhook call latency by name, type, operation and whether the request was rejected.', [0.005, 0.025, 0.1, 0.5, 1, 2.5, 10, 25]),
    rejections: r.counter('apiserver_admission_webhook_rejection_count', 'Requests admission webhooks rejected, by name, type, operation, error_type (no_error: the webhook said no; calling_webhook_error: it could not be called) and rejection_code.'),
    failOpen: r.counter('apiserver_admission_webhook_fail_open_count', 'Calls that failed and were let through by failurePolicy Ignore, by name and type.'),
  };
}

export interface WebhookDeps {
  registry: Registry;
  log: Logger;
  metrics?: WebhookMetrics;
  /** How a webhook behind a Service is reached (`--enable-aggregator-routing` picks endpoints). */
  routing: WebhookRouting;
}

const group = 'admissionregistration.k8s.io';
const knownReviewVersions = ['v1', 'v1beta1'];

/**
 * The webhooks of every configuration of a kind, configurations in name order (the order of
 * their keys, in which both the watch cache and storage list them).
 */
async function webhooksOf(registry: Registry, resource: string): Promise<Webhook[]> {
  const store = registry.get(group, resource);
  if (!store) return [];
  let configs: Array<MutatingWebhookConfiguration | ValidatingWebhookConfiguration>;
  if (store.cache) configs = store.cache.list().items.map((c) => c.object as MutatingWebhookConfiguration);
  else configs = (await registry.storage.list(store.prefix)).items as unknown as MutatingWebhookConfiguration[];
  return configs.flatMap((c) => (c.webhooks ?? []) as Webhook[]);
}

/** Versions the request's resource is served in (for matchPolicy Equivalent). */
function servedVersions(registry: Registry, a: AdmissionAttributes): string[] {
  const versions = registry.versions(a.group, a.resource);
  return versions.includes(a.version) ? versions : [a.version, ...versions];
}

/** The labels of the request's namespace, when a webhook's namespace selector needs them; a namespace that is gone is NotFound, as upstream. */
async function namespaceLabels(registry: Registry, a: AdmissionAttributes, hooks: Webhook[]): Promise<Record<string, string> | undefined> {
  if (namespaceSelectorSubject(a) !== 'namespace') return undefined;
  if (hooks.every((h) => labelSelectorFromObject(h.namespaceSelector ?? {}).isEmpty())) return {};
  const ns = await lookup<KubeObject>(registry, '', 'namespaces', '', a.namespace);
  if (!ns) throw newNotFound({ group: '', resource: 'namespaces' }, a.namespace);
  return ns.metadata.labels ?? {};
}

async function matching(d: WebhookDeps, resource: string, a: AdmissionAttributes): Promise<Webhook[]> {
  if (exemptFromWebhooks(a)) return [];
  const hooks = await webhooksOf(d.registry, resource);
  if (hooks.length === 0) return [];
  const labels = await namespaceLabels(d.registry, a, hooks);
  const versions = servedVersions(d.registry, a);
  return hooks.filter((h) => webhookMatches(h, a, labels, versions));
}

/** meta.k8s.io/v1 CreateOptions, UpdateOptions or DeleteOptions of the request, as the review carries them. */
function optionsOf(a: AdmissionAttributes): unknown {
  const kind = a.operation === 'CREATE' ? 'CreateOptions' : a.operation === 'UPDATE' ? 'UpdateOptions' : a.operation === 'DELETE' ? 'DeleteOptions' : '';
  if (!kind) return a.options;
  const given = a.options && typeof a.options === 'object' ? (a.options as Record<string, unknown>) : {};
  const { kind: _k, apiVersion: _v, ...rest } = given;
  return { kind, apiVersion: 'meta.k8s.io/v1', ...rest, ...(a.dryRun ? { dryRun: ['All'] } : {}) };
}

/** The AdmissionReview request of `a`, in the first AdmissionReview version the webhook accepts. */
function reviewOf(a: AdmissionAttributes, reviewVersion: string) {
  const objVersion = (a.object ?? a.oldObject)?.apiVersion?.split('/').pop() ?? a.version;
  const kind = { group: a.group, version: objVersion, kind: a.kind };
  const resource = { group: a.group, version: objVersion, resource: a.resource };
  const user = { username: a.user.username, ...(a.user.uid ? { uid: a.user.uid } : {}), groups: a.user.groups, ...(a.user.extra ? { extra: a.user.extra } : {}) };
  return {
    kind: 'AdmissionReview',
    apiVersion: `admission.k8s.io/${reviewVersion}`,
    request: {
      uid: randomUUID(),
      kind,
      resource,
      ...(a.subresource ? { subResource: a.subresource } : {}),
      requestKind: { ...kind, version: a.version },
      requestResource: { ...resource, version: a.version },
      ...(a.subresource ? { requestSubResource: a.subresource } : {}),
      ...(a.name ? { name: a.name } : {}),
      // A Namespace's requests carry its own name as their namespace, as upstream's.
      ...(a.namespace ? { namespace: a.namespace } : a.group === '' && a.resource === 'namespaces' && a.name ? { namespace: a.name } : {}),
      operation: a.operation,
      userInfo: user,
      object: a.object ?? null,
      oldObject: a.oldObject ?? null,
      dryRun: a.dryRun,
      options: optionsOf(a) ?? null,
    },
  };
}

interface AdmissionResponse {
  uid?: string;
  allowed?: boolean;
  status?: Partial<Status>;
  patch?: string;
  patchType?: string;
  warnings?: string[];
}

/** Upstream's check of a webhook's answer; a bad answer is a failure to call the webhook. */
function checkResponse(hook: Webhook, sent: ReturnType<typeof reviewOf>, got: unknown, mutating: boolean): AdmissionResponse {
  const fail = (why: string): never => {
    throw new WebhookCallError(hook.name, `received invalid webhook response: ${why}`);
  };
  const r = (got ?? {}) as { apiVersion?: string; kind?: string; response?: AdmissionResponse };
  if (r.apiVersion !== sent.apiVersion || r.kind !== 'AdmissionReview') {
    fail(`expected webhook response of ${sent.apiVersion}, Kind=AdmissionReview, got ${r.apiVersion ?? ''}, Kind=${r.kind ?? ''}`);
  }
  const resp = r.response;
  if (!resp || typeof resp !== 'object') return fail('webhook response was absent');
  if (resp.uid !== sent.request.uid) fail(`expected response.uid="${sent.request.uid}", got "${resp.uid ?? ''}"`);
  const hasPatch = resp.patch !== undefined && resp.patch !== '';
  const hasType = resp.patchType !== undefined && resp.patchType !== '';
  if (!mutating) {
    if (hasPatch) fail('validating webhook may not return response.patch');
    if (hasType) fail('validating webhook may not return response.patchType');
    return resp;
  }
  if (hasPatch && !hasType) fail('webhook returned response.patch but not response.patchType');
  if (hasType && !hasPatch) fail('webhook returned response.patchType but not response.patch');
  if (hasType && resp.patchType !== 'JSONPatch') throw new WebhookCallError(hook.name, `unsupported patch type "${resp.patchType}"`);
  return resp;
}

/** Upstream's ToStatusErr: a refusal as a Status, "admission webhook "<name>" denied the request: <why>". */
export function denial(name: string, status: Partial<Status> | undefined): StatusError {
  const deniedBy = `admission webhook "${name}" denied the request`;
  const s = { ...(status ?? {}) };
  const code = typeof s.code === 'number' && s.code >= 400 ? s.code : 400;
  const message = s.message ? `${deniedBy}: ${s.message}` : s.reason ? `${deniedBy}: ${s.reason}` : `${deniedBy} without explanation`;
  const out: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, code };
  if (s.reason) out.reason = s.reason;
  if (s.details) out.details = s.details;
  return new StatusError(out);
}

interface Outcome {
  /** Absent when the call failed and the failure policy is Ignore. */
  response?: AdmissionResponse;
}

/** Sends the review to one webhook; refusals and failures (under Fail) throw a StatusError. */
async function call(d: WebhookDeps, hook: Webhook, a: AdmissionAttributes, mutating: boolean): Promise<Outcome> {
  const sideEffects = hook.sideEffects;
  if (a.dryRun && sideEffects !== 'None' && sideEffects !== 'NoneOnDryRun') throw newBadRequest(`admission webhook "${hook.name}" does not support dry run`);
  const timeoutSeconds = hook.timeoutSeconds ?? 10;
  const started = performance.now();
  const labels = { name: hook.name, type: mutating ? 'admit' : 'validating', operation: a.operation };
  const record = (code: number, rejected: boolean, errorType?: string, rejectionCode?: number) => {
    const m = d.metrics;
    if (!m) return;
    m.requests.inc({ ...labels, code: String(code), rejected: String(rejected) });
    m.duration.observe({ ...labels, rejected: String(rejected) }, (performance.now() - started) / 1000);
    if (rejected) m.rejections.inc({ ...labels, error_type: errorType ?? 'no_error', rejection_code: String(rejectionCode ?? 0) });
  };
  try {
    const version = (hook.admissionReviewVersions ?? []).find((v) => knownReviewVersions.includes(v));
    if (!version) throw new WebhookCallError(hook.name, 'could not create admission objects: webhook does not accept known AdmissionReview versions (v1, v1beta1)');
    const review = reviewOf(a, version);
    let got: unknown;
    try {
      const target = await resolveWebhook(d.registry, hook.clientConfig, timeoutSeconds, d.routing);
      got = await postReview(target, hook.clientConfig.caBundle, review, timeoutSeconds * 1000);
    } catch (err) {
      throw new WebhookCallError(hook.name, (err as Error).message);
    }
    const response = checkResponse(hook, review, got, mutating);
    const code = typeof response.status?.code === 'number' && response.status.code >= 400 ? response.status.code : 400;
    record(200, !response.allowed, 'no_error', response.allowed ? undefined : code);
    d.log.debug({ webhook: hook.name, allowed: response.allowed, ms: Math.round(performance.now() - started) }, 'called admission webhook');
    return { response };
  } catch (err) {
    if (!(err instanceof WebhookCallError)) throw err;
    if (hook.failurePolicy === 'Ignore') {
      record(0, false);
      d.metrics?.failOpen.inc({ name: hook.name, type: labels.type });
      d.log.warn({ webhook: hook.name, err: err.message }, 'failed calling webhook, failing open');
      return {};
    }
    record(0, true, 'calling_webhook_error', 500);
    d.log.warn({ webhook: hook.name, err: err.message }, 'failed calling webhook, failing closed');
    throw newInternalError(err);
  }
}

/** A webhook's warnings go to the client as Warning headers (repeats once, control characters dropped), whether it allowed the request or not. */
function addWarnings(a: AdmissionAttributes, warnings: unknown): void {
  if (!Array.isArray(warnings) || !a.warnings) return;
  for (const w of warnings) {
    if (typeof w !== 'string' || !w.trim() || /[\u0000-\u0008\u000a-\u001f\u007f]/.test(w) || a.warnings.includes(w)) continue;
    a.warnings.push(w.length > 4096 ? `${w.slice(0, 4093)}...` : w);
  }
}

/**
 * Applies a webhook's JSONPatch to the object in place (the registry holds the reference) and
 * tells whether anything changed. The result must still be the same kind of object.
 */
function applyPatch(d: WebhookDeps, hook: Webhook, a: AdmissionAttributes, patchB64: string): boolean {
  const obj = a.object!;
  let patched: KubeObject;
  try {
    const ops = JSON.parse(Buffer.from(patchB64, 'base64').toString('utf8')) as unknown;
    patched = applyJSONPatch(JSON.parse(JSON.stringify(obj)), ops) as KubeObject;
  } catch (err) {
    throw newInternalError(new Error(`admission webhook "${hook.name}" returned a patch that could not be applied: ${(err as Error).message}`));
  }
  const version = obj.apiVersion?.split('/').pop();
  const rt = d.registry.get(a.group, a.resource, version)?.rt ?? d.registry.get(a.group, a.resource)?.rt;
  if (rt) {
    try {
      patched = decodeObject<KubeObject>(rt, patched, a.name);
    } catch (err) {
      throw newInternalError(new Error(`admission webhook "${hook.name}" returned a patch whose result is not a valid ${a.kind}: ${(err as Error).message}`));
    }
  }
  if (jsonEqual(patched, obj)) return false;
  for (const k of Object.keys(obj)) delete (obj as unknown as Record<string, unknown>)[k];
  Object.assign(obj, patched);
  markMutated(obj);
  return true;
}

export function mutatingAdmissionWebhook(d: WebhookDeps): AdmissionPlugin {
  return {
    name: 'MutatingAdmissionWebhook',
    async mutate(a) {
      const hooks = await matching(d, 'mutatingwebhookconfigurations', a);
      if (hooks.length === 0) return;
      // The object's state when each webhook that may be called again last saw it.
      let changes = 0;
      const seenAt = new Map<Webhook, number>();
      const run = async (hook: Webhook) => {
        const { response } = await call(d, hook, a, true);
        if (!response) return;
        addWarnings(a, response.warnings);
        if (!response.allowed) throw denial(hook.name, response.status);
        if (!response.patch) return;
        if (!a.object || a.operation === 'CONNECT') throw newInternalError(new Error(`admission webhook "${hook.name}" attempted to modify the object, which is not supported for this operation`));
        if (applyPatch(d, hook, a, response.patch)) changes++;
      };
      for (const hook of hooks) {
        await run(hook);
        if (hook.reinvocationPolicy === 'IfNeeded') seenAt.set(hook, changes);
      }
      // reinvocationPolicy IfNeeded: once more for a webhook whose view a later one changed.
      for (const hook of hooks) {
        const seen = seenAt.get(hook);
        if (seen !== undefined && seen < changes) await run(hook);
      }
    },
  };
}

export function validatingAdmissionWebhook(d: WebhookDeps): AdmissionPlugin {
  return {
    name: 'ValidatingAdmissionWebhook',
    async validate(a) {
      const hooks = await matching(d, 'validatingwebhookconfigurations', a);
      if (hooks.length === 0) return;
      const results = await Promise.allSettled(hooks.map((h) => call(d, h, a, false)));
      for (const r of results) if (r.status === 'fulfilled') addWarnings(a, r.value.response?.warnings);
      // The first refusal in webhook order answers the request.
      for (let i = 0; i < hooks.length; i++) {
        const r = results[i]!;
        if (r.status === 'rejected') throw r.reason;
        const response = r.value.response;
        if (response && !response.allowed) throw denial(hooks[i]!.name, response.status);
      }
    },
  };
}
