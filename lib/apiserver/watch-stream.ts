/**
 * Writes a watch to an HTTP response: one JSON object per line (`{"type","object"}`) over a
 * chunked 200 response, with bookmarks, a timeout, and an ERROR event carrying a Status when
 * the watch fails (410 Expired when the client must re-list).
 */
import type { ServerResponse } from 'node:http';
import type { AnyResourceType, KubeObject } from '../api/index.js';
import type { Status } from '../machinery/index.js';
import type { CacheWatcherSink, FilteredEvent, StorageError } from '../storage/index.js';

export interface WatchStreamOptions {
  rt: AnyResourceType;
  res: ServerResponse;
  /** Turns an object into what the client asked for (plain JSON, a Table row, metadata). */
  encode?: (e: FilteredEvent) => string;
  bookmarks: boolean;
  bookmarkIntervalMs: number;
  timeoutMs: number;
  /** Stop writing to a client that does not read: bytes queued before the watch is closed. */
  maxBufferedBytes?: number;
  onClose: () => void;
}

export class WatchStream implements CacheWatcherSink {
  private lastRV = 0;
  private closed = false;
  private bookmarkTimer?: NodeJS.Timeout;
  private timeoutTimer?: NodeJS.Timeout;
  sent = 0;

  constructor(private readonly o: WatchStreamOptions) {
    o.res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
      'X-Content-Type-Options': 'nosniff',
    });
    o.res.flushHeaders();
    o.res.on('close', () => this.finish());
    if (o.bookmarks) this.bookmarkTimer = setInterval(() => this.bookmark(), o.bookmarkIntervalMs);
    this.timeoutTimer = setTimeout(() => {
      // Upstream sends a last bookmark before a timed-out watch ends, so clients resume cleanly.
      if (o.bookmarks) this.bookmark();
      this.end();
    }, o.timeoutMs);
  }

  private write(text: string): boolean {
    if (this.closed) return false;
    this.o.res.write(text);
    if (this.o.res.writableLength > (this.o.maxBufferedBytes ?? 64 * 1024 * 1024)) {
      // A client this far behind would only fall further behind; it re-lists on reconnect.
      this.end();
      return false;
    }
    return true;
  }

  send(events: FilteredEvent[]): boolean {
    if (this.closed) return false;
    let out = '';
    for (const e of events) {
      out += this.o.encode ? this.o.encode(e) : `{"type":"${e.type}","object":${e.object.json}}\n`;
      if (e.revision > this.lastRV) this.lastRV = e.revision;
      this.sent++;
    }
    return this.write(out);
  }

  progress(revision: number): void {
    if (revision > this.lastRV) this.lastRV = revision;
  }

  /** A BOOKMARK event: the client may resume from this resourceVersion. */
  bookmark(annotations?: Record<string, string>): void {
    if (this.closed || this.lastRV === 0) return;
    const rt = this.o.rt;
    const obj: KubeObject = {
      kind: rt.kind,
      apiVersion: rt.group ? `${rt.group}/${rt.version}` : rt.version,
      metadata: { resourceVersion: String(this.lastRV), ...(annotations ? { annotations } : {}) },
    };
    this.write(`{"type":"BOOKMARK","object":${JSON.stringify(obj)}}\n`);
  }

  setInitialRV(rv: number): void {
    if (rv > this.lastRV) this.lastRV = rv;
  }

  close(reason: StorageError): void {
    const expired = reason.code === 'Expired';
    const status: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: expired ? reason.message : `watch closed: ${reason.message}`,
      reason: expired ? 'Expired' : 'InternalError',
      code: expired ? 410 : 500,
    };
    this.error(status);
  }

  error(status: Status): void {
    this.write(`{"type":"ERROR","object":${JSON.stringify(status)}}\n`);
    this.end();
  }

  end(): void {
    if (this.closed) return;
    this.finish();
    this.o.res.end();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.bookmarkTimer);
    clearTimeout(this.timeoutTimer);
    this.o.onClose();
  }
}
