/**
 * The parameters of the REST operations, with the names and types upstream uses (kubectl
 * looks for `fieldValidation` on PATCH operations by name). Written in one neutral form and
 * rendered per dialect: v3 puts the type under `schema`, v2 beside the name.
 */
import type { Dialect, SchemaObject } from './schema-convert.js';

export interface Param {
  name: string;
  in: 'query' | 'path';
  description: string;
  type: 'string' | 'integer' | 'boolean';
  required?: boolean;
  enum?: string[];
}

const q = (name: string, type: Param['type'], description: string, extra: Partial<Param> = {}): Param => ({ name, in: 'query', type, description, ...extra });

export const params = {
  name: (kind: string): Param => ({ name: 'name', in: 'path', type: 'string', required: true, description: `Name of the ${kind}.` }),
  namespace: { name: 'namespace', in: 'path', type: 'string', required: true, description: 'Namespace of the objects: the object name and auth scope.' } as Param,
  path: { name: 'path', in: 'path', type: 'string', required: true, description: 'Path to forward to, after the proxy prefix.' } as Param,
  pretty: q('pretty', 'string', "If 'true', the output is indented for humans."),

  dryRun: q('dryRun', 'string', "When set to 'All', the request is checked, defaulted and admitted but nothing is stored. 'All' is the only value accepted."),
  fieldManager: q('fieldManager', 'string', 'Name of the actor making the change, recorded in managedFields. Required for apply patches; at most 128 printable characters.'),
  fieldValidation: q(
    'fieldValidation',
    'string',
    'What to do with fields the schema does not know (and duplicate fields): Ignore drops them silently; Warn (the default) drops them and adds a Warning header per field; Strict refuses the request with 400 Bad Request naming them.',
    { enum: ['Ignore', 'Warn', 'Strict'] },
  ),
  force: q('force', 'boolean', 'For apply patches only: take ownership of fields other managers own instead of failing with a conflict.'),

  labelSelector: q('labelSelector', 'string', 'Only objects whose labels match this selector, e.g. app=web,tier!=cache.'),
  fieldSelector: q('fieldSelector', 'string', 'Only objects whose fields match this selector, e.g. metadata.name=web,status.phase=Running.'),
  limit: q('limit', 'integer', 'Most items to return in one response; when more remain, metadata.continue holds a token for the next page.'),
  continue: q('continue', 'string', 'The token from a previous page (metadata.continue) to get the next one. An expired token is answered with 410 Gone.'),
  resourceVersion: q('resourceVersion', 'string', 'For reads: the version to read at (unset: the latest; "0": any, served from cache). For watches: start after this version.'),
  resourceVersionMatch: q('resourceVersionMatch', 'string', 'How resourceVersion is matched on lists: Exact or NotOlderThan.'),
  watch: q('watch', 'boolean', 'Instead of a list, stream added, modified and deleted events, one JSON object per line.'),
  allowWatchBookmarks: q('allowWatchBookmarks', 'boolean', 'Let the server send BOOKMARK events that only carry a newer resourceVersion.'),
  sendInitialEvents: q('sendInitialEvents', 'boolean', 'Begin a watch with an ADDED event per existing object, then a bookmark marking the end of them.'),
  timeoutSeconds: q('timeoutSeconds', 'integer', 'End a list or watch call after this many seconds.'),

  gracePeriodSeconds: q('gracePeriodSeconds', 'integer', 'Seconds the object may take to terminate; 0 deletes at once. Unset: the kind default.'),
  orphanDependents: q('orphanDependents', 'boolean', 'Deprecated, use propagationPolicy: if true, dependents are orphaned rather than deleted.'),
  propagationPolicy: q('propagationPolicy', 'string', 'How the garbage collector treats dependents: Orphan, Background (delete them afterwards) or Foreground (delete them first).'),

  container: q('container', 'string', 'The container to use; may be left out when the pod has only one.'),
  follow: q('follow', 'boolean', 'Keep streaming the log as it grows.'),
  previous: q('previous', 'boolean', 'Read the log of the previous, terminated instance of the container.'),
  sinceSeconds: q('sinceSeconds', 'integer', 'Only log lines newer than this many seconds.'),
  tailLines: q('tailLines', 'integer', 'Only this many lines from the end of the log.'),
  limitBytes: q('limitBytes', 'integer', 'Stop after this many bytes of log.'),
  timestamps: q('timestamps', 'boolean', 'Prefix each log line with its RFC 3339 timestamp.'),
  command: q('command', 'string', 'The command to run, one parameter per argument.'),
  stdin: q('stdin', 'boolean', 'Attach the standard input stream.'),
  stdout: q('stdout', 'boolean', 'Attach the standard output stream.'),
  stderr: q('stderr', 'boolean', 'Attach the standard error stream.'),
  tty: q('tty', 'boolean', 'Allocate a terminal; stderr is merged into stdout.'),
  ports: q('ports', 'integer', 'Container ports to forward to.'),
  proxyPath: q('path', 'string', 'Path to forward to when the URL has none after the proxy prefix.'),
};

export const listParams = [
  params.allowWatchBookmarks,
  params.continue,
  params.fieldSelector,
  params.labelSelector,
  params.limit,
  params.resourceVersion,
  params.resourceVersionMatch,
  params.sendInitialEvents,
  params.timeoutSeconds,
  params.watch,
];
export const writeParams = [params.dryRun, params.fieldManager, params.fieldValidation];
export const patchParams = [...writeParams, params.force];
export const deleteParams = [params.dryRun, params.gracePeriodSeconds, params.orphanDependents, params.propagationPolicy];

export function renderParam(p: Param, dialect: Dialect): SchemaObject {
  const out: SchemaObject = { name: p.name, in: p.in, description: p.description };
  if (p.required) out['required'] = true;
  const type: SchemaObject = { type: p.type, uniqueItems: true };
  if (p.enum) type['enum'] = p.enum;
  if (dialect === 'v3') out['schema'] = type;
  else Object.assign(out, type);
  return out;
}
