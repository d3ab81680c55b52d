/**
 * How failures reach the user, in kubectl's words: `Error from server (NotFound): ...` for a
 * Status from the API server, `error: ...` for what kubectl itself refuses, and the connection
 * message kubectl prints when no server answers. Every failure exits 1, as kubectl's do.
 */
import { StatusError } from '../../machinery/index.js';
import { isTransportError } from '../../client/index.js';
import { ConfigError } from '../../client/index.js';
import { FlagParseError } from './flags.js';

/** A failure of the command itself (bad arguments, nothing to do): printed `error: <message>`. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Printed exactly as written (kubectl's few messages without the `error: ` prefix). */
export class PlainError extends CommandError {}

/** A usage mistake: printed with a pointer to the command's help, as kubectl's UsageErrorf. */
export class UsageError extends CommandError {}

/** Already reported to stderr (e.g. one of several objects failed); only the exit code is left. */
export class ReportedError extends CommandError {
  constructor(exitCode = 1) {
    super('', exitCode);
  }
}

/** The text kubectl prints for an error from the API server; `action` is e.g. `error when creating "x.yaml"`. */
export function serverErrorText(err: StatusError, action?: string): string {
  const reason = err.status.reason;
  const msg = err.status.message ?? 'unknown';
  const body = action ? `${action}: ${msg}` : msg;
  return reason ? `Error from server (${reason}): ${body}` : `Error from server: ${body}`;
}

/** kubectl's AddSourceToErr: a Status whose message names what was being done to which file. */
export function withSource(err: unknown, verb: string, source: string): unknown {
  if (!(err instanceof StatusError)) return err;
  return new StatusError({ ...err.status, message: `error when ${verb} "${source}": ${err.status.message ?? ''}` });
}

/** kubectl's standard line for a Status: `Error from server (Reason): message`. */
export function standardErrorText(err: unknown, commandPath = 'tkubectl'): string {
  if (err instanceof StatusError) {
    if (err.status.reason === 'Unauthorized') return `error: You must be logged in to the server (${err.status.message ?? 'Unauthorized'})`;
    return serverErrorText(err);
  }
  return errorText(err, commandPath);
}

/**
 * The message of an error that ends a command, as kubectl's CheckErr prints it: an Invalid
 * Status lists its causes (`The Deployment "web" is invalid: spec.replicas: ...`).
 */
export function errorText(err: unknown, commandPath = 'tkubectl'): string {
  if (err instanceof StatusError && err.status.reason === 'Invalid') {
    const d = err.status.details;
    if (!d) return 'The request is invalid';
    let s = 'The request is invalid';
    if (d.kind || d.name) s = `The ${d.kind ?? ''} ${JSON.stringify(d.name ?? '')} is invalid`;
    const causes = d.causes ?? [];
    if (causes.length === 0) return s;
    const lines = causes.map((c) => `${c.field}: ${c.message}`);
    if (lines.length === 1) return `${s}: ${lines[0]}`;
    return `${s}: \n${lines.map((l) => `* ${l}`).join('\n')}`;
  }
  if (err instanceof StatusError) return standardErrorText(err);
  if (err instanceof UsageError) return `error: ${err.message}\nSee '${commandPath} -h' for help and examples`;
  if (err instanceof FlagParseError) return `error: ${err.message}\nSee '${commandPath} --help' for usage.`;
  if (err instanceof PlainError) return err.message;
  if (err instanceof CommandError) return err.message.startsWith('error: ') || err.message === '' ? err.message : `error: ${err.message}`;
  if (err instanceof ConfigError) return `error: ${err.message}`;
  if (isTransportError(err)) return connectionText(err);
  const e = err as Error;
  return `error: ${e?.message ?? String(err)}`;
}

function connectionText(err: Error & { code?: string }): string {
  const m = /(?:https?:\/\/)([^/\s]+)/.exec(err.message);
  const host = m?.[1] ?? 'the API server';
  if (err.code === 'ECONNREFUSED') return `The connection to the server ${host} was refused - did you specify the right host or port?`;
  if (err.code === 'ETIMEDOUT') return `Unable to connect to the server: ${err.message}`;
  return `Unable to connect to the server: ${err.message}`;
}
