/** Reads a watch stream from the API server as parsed events, for tests. */
import http from 'node:http';

export interface WatchEvent {
  type: string;
  object: any;
}

export interface TestWatch {
  events: WatchEvent[];
  status: number;
  /** Resolves when `n` events have arrived (or rejects after timeout). */
  waitFor(n: number, timeoutMs?: number): Promise<WatchEvent[]>;
  /** Resolves once the stream has ended. */
  ended: Promise<void>;
  close(): void;
}

export function openWatch(url: string, path: string, headers: Record<string, string> = {}): Promise<TestWatch> {
  return new Promise((resolve, reject) => {
    const req = http.get(url + path, { headers }, (res) => {
      const events: WatchEvent[] = [];
      let buf = '';
      const waiters: { n: number; resolve: (e: WatchEvent[]) => void }[] = [];
      let endResolve!: () => void;
      const ended = new Promise<void>((r) => (endResolve = r));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line.trim()) events.push(JSON.parse(line) as WatchEvent);
        }
        for (const w of [...waiters]) if (events.length >= w.n) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(events.slice(0, w.n));
        }
      });
      res.on('end', () => endResolve());
      res.on('close', () => endResolve());
      resolve({
        events,
        status: res.statusCode ?? 0,
        ended,
        waitFor(n, timeoutMs = 10_000) {
          if (events.length >= n) return Promise.resolve(events.slice(0, n));
          return new Promise((res2, rej) => {
            const t = setTimeout(() => rej(new Error(`timed out waiting for ${n} events; got ${events.length}: ${JSON.stringify(events.map((e) => e.type))}`)), timeoutMs);
            waiters.push({ n, resolve: (e) => { clearTimeout(t); res2(e); } });
          });
        },
        close() {
          req.destroy();
        },
      });
    });
    req.on('error', reject);
  });
}
