/**
 * Streaming decode of a watch response: one JSON event per line, decoded as lines arrive
 * (a large object may span many chunks; a chunk may carry many events).
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { WatchEvent, WatchStream } from './interface.js';
import { TransportError } from './transport.js';

const eventTypes = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

/** Parses one line of a watch stream; a malformed line is a TransportError (code EBADMSG). */
export function parseWatchEvent<T>(line: string): WatchEvent<T> {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw new TransportError(`watch: undecodable event: ${(e as Error).message}`, 'EBADMSG', false, { cause: e });
  }
  const ev = v as { type?: unknown; object?: unknown };
  if (!ev || typeof ev !== 'object' || typeof ev.type !== 'string' || !eventTypes.has(ev.type) || !ev.object || typeof ev.object !== 'object') {
    throw new TransportError(`watch: not a watch event: ${line.slice(0, 200)}`, 'EBADMSG', false);
  }
  return ev as WatchEvent<T>;
}

/** Splits text into lines across chunk boundaries. */
export class LineSplitter {
  private buf = '';
  private readonly decoder = new StringDecoder('utf8');

  /** Complete lines in this chunk (plus any carried over), without their newlines. */
  push(chunk: Buffer | string): string[] {
    this.buf += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const out: string[] = [];
    let start = 0;
    for (let i = this.buf.indexOf('\n'); i >= 0; i = this.buf.indexOf('\n', start)) {
      out.push(this.buf.slice(start, i));
      start = i + 1;
    }
    this.buf = this.buf.slice(start);
    return out;
  }

  /** What is left after the last newline. */
  end(): string {
    const rest = this.buf + this.decoder.end();
    this.buf = '';
    return rest;
  }
}

/**
 * Wraps a watch response body. Iteration ends when the server ends the response; a broken
 * connection throws a TransportError; `stop()` destroys the response and ends iteration
 * quietly. Leaving the loop early (break) also closes the response.
 */
export function watchStreamFrom<T>(res: Readable, what: string): WatchStream<T> {
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      res.destroy();
    },
    async *[Symbol.asyncIterator]() {
      const lines = new LineSplitter();
      try {
        for await (const chunk of res) {
          for (const line of lines.push(chunk as Buffer)) {
            if (line.trim() === '') continue;
            yield parseWatchEvent<T>(line);
            if (stopped) return;
          }
        }
        const rest = lines.end().trim();
        if (rest !== '' && !stopped) yield parseWatchEvent<T>(rest);
      } catch (err) {
        if (stopped) return;
        if (err instanceof TransportError) throw err;
        const e = err as NodeJS.ErrnoException;
        throw new TransportError(`watch ${what}: the stream broke off: ${e.message}`, e.code ?? 'ECONNRESET', false, { cause: err });
      } finally {
        if (!res.destroyed) res.destroy();
      }
    },
  };
}
