/**
 * The streams a command reads and writes. Commands never touch process.* directly, so that
 * tests run them in-process with memory streams and read exactly what a user would see.
 */
import { PassThrough, type Readable, type Writable } from 'node:stream';

export interface IOStreams {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Environment (KUBECONFIG, KUBE_EDITOR, EDITOR, HOME, ...). */
  env: Record<string, string | undefined>;
  /** Directory relative file names are resolved against. */
  cwd: string;
  /** Whether stdout is a terminal (colour, `watch` niceties). */
  stdoutIsTTY: boolean;
  /** Aborted when the user interrupts (Ctrl-C): long-running commands (watch, logs -f) end cleanly. */
  signal?: AbortSignal;
  /** Clock for ages and timeouts (tests pin it). */
  now?: () => number;
}

/** Streams backed by memory, for tests and the in-process runner. */
export interface BufferedIO extends IOStreams {
  out(): string;
  err(): string;
}

export function bufferedIO(o: { stdin?: string; env?: Record<string, string | undefined>; cwd?: string; tty?: boolean; signal?: AbortSignal } = {}): BufferedIO {
  const stdin = new PassThrough();
  stdin.end(o.stdin ?? '');
  let out = '';
  let err = '';
  const stdout = new PassThrough();
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  const stderr = new PassThrough();
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  return {
    stdin,
    stdout,
    stderr,
    env: o.env ?? {},
    cwd: o.cwd ?? process.cwd(),
    stdoutIsTTY: o.tty ?? false,
    signal: o.signal,
    out: () => out,
    err: () => err,
  };
}

/** Reads a whole stream as text. */
export async function readAll(r: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
