/** Errors of a ContainerRuntime, typed by reason so that callers branch on `reason`, not on text. */

export type RuntimeErrorReason =
  /** No such sandbox, container or image. */
  | 'NotFound'
  /** A sandbox or container of that pod, name and attempt exists already. */
  | 'AlreadyExists'
  /** The object is in a state that forbids the operation (e.g. exec in a stopped container). */
  | 'Conflict'
  /** The request cannot work as given (bad signal name, bad mount). */
  | 'InvalidArgument'
  /** An image could not be pulled. */
  | 'ImagePullFailed'
  /** The engine does not answer. */
  | 'Unavailable'
  | 'Internal';

export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  constructor(
    readonly reason: RuntimeErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const reasonOf = (err: unknown) => (err instanceof RuntimeError ? err.reason : undefined);
export const isRuntimeNotFound = (err: unknown) => reasonOf(err) === 'NotFound';
export const isRuntimeAlreadyExists = (err: unknown) => reasonOf(err) === 'AlreadyExists';
export const isRuntimeConflict = (err: unknown) => reasonOf(err) === 'Conflict';
export const isImagePullFailed = (err: unknown) => reasonOf(err) === 'ImagePullFailed';
export const isRuntimeUnavailable = (err: unknown) => reasonOf(err) === 'Unavailable';
