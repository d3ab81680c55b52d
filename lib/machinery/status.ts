import { fieldErrorBody, fieldErrorString, type FieldError } from './field-errors.js';

/**
 * The Kubernetes Status object returned for every failed request (meta/v1 Status).
 */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

export type StatusReason =
  | ''
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Invalid'
  | 'ServerTimeout'
  | 'Timeout'
  | 'TooManyRequests'
  | 'BadRequest'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'InternalError'
  | 'Expired'
  | 'ServiceUnavailable';

/** A group and a resource, as upstream's schema.GroupResource. Printed `deployments.apps`. */
export interface GroupResource {
  group: string;
  resource: string;
}

export function groupResourceString(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

/**
 * An error carrying a Status. Everything that fails a request throws one of these;
 * the API server writes `status` as the body with `status.code` as the HTTP code.
 */
export class StatusError extends Error {
  override readonly name = 'StatusError';
  constructor(
    readonly status: Status,
    options?: { cause?: unknown },
  ) {
    super(status.message ?? status.reason ?? 'unknown error', options);
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): StatusReason | undefined {
    return this.status.reason;
  }
}

function make(code: number, reason: StatusReason, message: string, details?: StatusDetails, cause?: unknown): StatusError {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) status.details = details;
  return new StatusError(status, cause === undefined ? undefined : { cause });
}

export function newNotFound(gr: GroupResource, name: string): StatusError {
  return make(404, 'NotFound', `${groupResourceString(gr)} "${name}" not found`, { name, group: gr.group, kind: gr.resource });
}

export function newAlreadyExists(gr: GroupResource, name: string): StatusError {
  return make(409, 'AlreadyExists', `${groupResourceString(gr)} "${name}" already exists`, { name, group: gr.group, kind: gr.resource });
}

export function newConflict(gr: GroupResource, name: string, why: string): StatusError {
  return make(409, 'Conflict', `Operation cannot be fulfilled on ${groupResourceString(gr)} "${name}": ${why}`, {
    name,
    group: gr.group,
    kind: gr.resource,
  });
}

/** 409 for server-side apply conflicts: one FieldManagerConflict cause per field (upstream's NewApplyConflict). */
export function newApplyConflict(causes: StatusCause[], message: string): StatusError {
  return make(409, 'Conflict', message, { causes });
}

export const optimisticLockMessage = 'the object has been modified; please apply your changes to the latest version and try again';

export function newInvalid(group: string, kind: string, name: string, errs: FieldError[]): StatusError {
  const msgs = errs.map(fieldErrorString);
  let message = `${kind}${group ? `.${group}` : ''} "${name}" is invalid`;
  if (msgs.length === 1) message += `: ${msgs[0]}`;
  else if (msgs.length > 1) message += `: [${msgs.join(', ')}]`;
  return make(422, 'Invalid', message, {
    name,
    group,
    kind,
    causes: errs.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field })),
  });
}

export function newBadRequest(message: string, causes?: StatusCause[]): StatusError {
  return make(400, 'BadRequest', message, causes ? { causes } : undefined);
}

export function newMethodNotSupported(gr: GroupResource, verb: string): StatusError {
  return make(405, 'MethodNotAllowed', `${verb} is not supported on resources of kind "${groupResourceString(gr)}"`, {
    group: gr.group,
    kind: gr.resource,
  });
}

export function newGone(message: string): StatusError {
  return make(410, 'Gone', message);
}

/** 410 with reason Expired: a resourceVersion or continue token older than etcd's history. */
export function newResourceExpired(message: string): StatusError {
  return make(410, 'Expired', message);
}

export function newRequestEntityTooLarge(limit: number): StatusError {
  return make(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
}

export function newUnsupportedMediaType(contentType: string, accepted: string[]): StatusError {
  return make(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format${contentType ? ` (${contentType})` : ''} - accepted media types include: ${accepted.join(', ')}`,
  );
}

export function newNotAcceptable(accepted: string[]): StatusError {
  return make(406, 'NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`);
}

export function newForbidden(gr: GroupResource, name: string, why: string): StatusError {
  const what = name ? `${groupResourceString(gr)} "${name}"` : groupResourceString(gr);
  // Requests outside the resource space name no resource: upstream writes "forbidden: ...".
  if (!gr.resource && !name) return make(403, 'Forbidden', `forbidden: ${why}`, { group: gr.group, kind: gr.resource });
  return make(403, 'Forbidden', `${what} is forbidden: ${why}`, { name: name || undefined, group: gr.group, kind: gr.resource });
}

export function newUnauthorized(message = 'Unauthorized'): StatusError {
  return make(401, 'Unauthorized', message);
}

export function newTooManyRequests(message: string, retryAfterSeconds: number): StatusError {
  return make(429, 'TooManyRequests', message, { retryAfterSeconds });
}

export function newTimeout(message: string, retryAfterSeconds = 0): StatusError {
  return make(504, 'Timeout', message, { retryAfterSeconds });
}

export function newServiceUnavailable(message: string): StatusError {
  return make(503, 'ServiceUnavailable', message);
}

export function newInternalError(err: unknown): StatusError {
  const message = err instanceof Error ? err.message : String(err);
  return make(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }, err);
}

/** A Status with status Success, as DELETE returns for some resources. */
export function successStatus(details?: StatusDetails): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, code: 200 };
}

function reasonOf(err: unknown): StatusReason | undefined {
  return err instanceof StatusError ? err.reason : undefined;
}

export const isNotFound = (err: unknown) => reasonOf(err) === 'NotFound';
export const isAlreadyExists = (err: unknown) => reasonOf(err) === 'AlreadyExists';
export const isConflict = (err: unknown) => reasonOf(err) === 'Conflict';
export const isInvalid = (err: unknown) => reasonOf(err) === 'Invalid';
export const isGone = (err: unknown) => reasonOf(err) === 'Gone' || reasonOf(err) === 'Expired';
export const isForbidden = (err: unknown) => reasonOf(err) === 'Forbidden';
export const isBadRequest = (err: unknown) => reasonOf(err) === 'BadRequest';
export const isTooManyRequests = (err: unknown) => reasonOf(err) === 'TooManyRequests';

/** Turns anything thrown into a StatusError (500 for what is not one already). */
export function toStatusError(err: unknown): StatusError {
  return err instanceof StatusError ? err : newInternalError(err);
}

/** Reconstructs a StatusError from a Status body received over the wire. */
export function statusErrorFromBody(body: unknown, httpCode: number): StatusError {
  const b = body as Partial<Status> | undefined;
  if (b && b.kind === 'Status') {
    return new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', ...b, code: b.code ?? httpCode } as Status);
  }
  const reason: StatusReason =
    httpCode === 404 ? 'NotFound' : httpCode === 409 ? 'Conflict' : httpCode === 410 ? 'Gone' : httpCode === 403 ? 'Forbidden' : httpCode === 401 ? 'Unauthorized' : httpCode === 429 ? 'TooManyRequests' : httpCode >= 500 ? 'InternalError' : 'BadRequest';
  return make(httpCode, reason, typeof body === 'string' ? body : `the server responded with code ${httpCode}`);
}
