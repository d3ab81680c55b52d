/**
 * Docker's stream framing. Without a TTY, the engine multiplexes stdout and stderr over one
 * connection in frames: an 8-byte header [stream(1=stdout, 2=stderr), 0, 0, 0, size (uint32
 * big-endian)] followed by `size` bytes. With a TTY the bytes come raw.
 */
import { Transform, Writable, type TransformCallback } from 'node:stream';

/**
 * A Writable that takes the multiplexed byte stream and writes each frame's payload to the
 * stdout or stderr target, waiting for a target's 'drain' when it pushes back. Targets are
 * not ended. Stream 0 (stdin echo) goes to stdout, like Docker's own client does.
 */
export class DockerDemuxer extends Writable {
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly stdout: NodeJS.WritableStream | undefined,
    private readonly stderr: NodeJS.WritableStream | undefined,
  ) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const waits: Array<Promise<void>> = [];
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const kind = this.pending[0];
      const payload = this.pending.subarray(8, 8 + size);
      this.pending = this.pending.subarray(8 + size);
      const target = kind === 2 ? this.stderr : this.stdout;
      if (target && payload.length && !target.write(payload)) waits.push(new Promise((r) => target.once('drain', () => r())));
    }
    if (waits.length) void Promise.all(waits).then(() => cb());
    else cb();
  }
}

/** Demultiplexes into one merged byte stream (for logs: the frames of both streams in arrival order). */
export class DockerMergedDemux extends Transform {
  private pending: Buffer = Buffer.alloc(0);

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const payload = this.pending.subarray(8, 8 + size);
      this.pending = this.pending.subarray(8 + size);
      if (payload.length) this.push(payload);
    }
    cb();
  }
}

/** Passes at most `limit` bytes, then ends (kubectl logs --limit-bytes). */
export class ByteLimit extends Transform {
  private left: number;
  constructor(limit: number, private readonly onLimit?: () => void) {
    super();
    this.left = limit;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.left <= 0) return cb();
    const part = chunk.length > this.left ? chunk.subarray(0, this.left) : chunk;
    this.left -= part.length;
    this.push(part);
    if (this.left <= 0) {
      this.push(null);
      this.onLimit?.();
    }
    cb();
  }
}
