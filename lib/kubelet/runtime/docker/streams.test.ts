import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { ByteLimit, DockerDemuxer, DockerMergedDemux } from './streams.js';

function frame(kind: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = kind;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

/** Splits a buffer into chunks of `n` bytes, to cut frames (and headers) in odd places. */
function chunks(b: Buffer, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += n) out.push(b.subarray(i, i + n));
  return out;
}

const collect = () => {
  const parts: Buffer[] = [];
  const w = new PassThrough();
  w.on('data', (d: Buffer) => parts.push(d));
  return { w, text: () => Buffer.concat(parts).toString() };
};

describe('Docker stream framing', () => {
  const wire = Buffer.concat([frame(1, 'hello '), frame(2, 'oops\n'), frame(1, 'world\n'), frame(2, '')]);

  it.each([1, 3, 7, 8, 9, 1000])('splits stdout from stderr whatever the chunk size (%i bytes)', async (n) => {
    const out = collect();
    const err = collect();
    await pipeline(Readable.from(chunks(wire, n)), new DockerDemuxer(out.w, err.w));
    expect(out.text()).toBe('hello world\n');
    expect(err.text()).toBe('oops\n');
  });

  it('merges both streams in the order they were written (logs)', async () => {
    const merged = collect();
    await pipeline(Readable.from(chunks(wire, 5)), new DockerMergedDemux(), merged.w);
    expect(merged.text()).toBe('hello oops\nworld\n');
  });

  it('waits for a slow target instead of queueing everything in it', async () => {
    let maxQueued = 0;
    const slow = new Writable({
      highWaterMark: 1,
      write(_c, _e, cb) {
        setTimeout(cb, 2);
      },
    });
    const write = slow.write.bind(slow) as (c: Buffer) => boolean;
    slow.write = ((c: Buffer) => {
      const ok = write(c);
      maxQueued = Math.max(maxQueued, slow.writableLength);
      return ok;
    }) as typeof slow.write;
    // One frame per chunk, as a socket delivers them when the writer is quick.
    const frames = Array.from({ length: 30 }, (_, i) => frame(1, `line ${String(i).padStart(2, '0')}\n`));
    await pipeline(Readable.from(frames), new DockerDemuxer(slow, undefined));
    expect(maxQueued).toBeLessThanOrEqual(8); // one payload ("line nn\n"), never a backlog
  });

  it('limits bytes and then ends', async () => {
    const out = collect();
    let hit = false;
    await pipeline(Readable.from([Buffer.from('abcdef'), Buffer.from('ghij')]), new ByteLimit(8, () => (hit = true)), out.w);
    expect(out.text()).toBe('abcdefgh');
    expect(hit).toBe(true);
  });
});
