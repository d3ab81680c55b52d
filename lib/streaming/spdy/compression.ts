/**
 * Header block compression for SPDY/3: each direction of a connection is one zlib stream,
 * primed with the SPDY dictionary, and every header block ends with a sync flush so that the
 * peer can decode it on arrival. A block therefore depends on every block before it in the
 * same direction: a connection needs exactly one compressor and one decompressor, used in order.
 *
 * Node's zlib streams are asynchronous; each call here waits for its flush and calls are queued,
 * so that blocks leave (and are read) in the order they were given.
 */
import zlib from 'node:zlib';
import { spdyHeaderDictionary } from './dictionary.js';
import { SpdyProtocolError } from './frames.js';

abstract class ZlibContext {
  private queue: Promise<unknown> = Promise.resolve();
  private failed?: Error;

  constructor(protected readonly stream: zlib.Deflate | zlib.Inflate) {
    // Read in paused mode: after a flush, everything it produced is in the readable buffer.
    stream.on('error', (err) => (this.failed = err));
  }

  protected run(input: Buffer): Promise<Buffer> {
    const next = this.queue.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          if (this.failed) return reject(this.failed);
          const onError = (err: Error) => reject(err);
          this.stream.once('error', onError);
          if (input.length > 0) this.stream.write(input);
          this.stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
            this.stream.off('error', onError);
            if (this.failed) return reject(this.failed);
            const chunks: Buffer[] = [];
            for (let c = this.stream.read() as Buffer | null; c !== null; c = this.stream.read() as Buffer | null) chunks.push(c);
            resolve(Buffer.concat(chunks));
          });
        }),
    );
    this.queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.stream.destroy();
  }
}

/** Compresses the header blocks one side sends. */
export class HeaderCompressor extends ZlibContext {
  constructor() {
    super(zlib.createDeflate({ dictionary: spdyHeaderDictionary, level: zlib.constants.Z_BEST_COMPRESSION }));
  }

  compress(block: Buffer): Promise<Buffer> {
    return this.run(block);
  }
}

/** Decompresses the header blocks one side receives. */
export class HeaderDecompressor extends ZlibContext {
  constructor() {
    super(zlib.createInflate({ dictionary: spdyHeaderDictionary }));
  }

  async decompress(data: Buffer): Promise<Buffer> {
    try {
      return await this.run(data);
    } catch (err) {
      throw new SpdyProtocolError(`header block does not decompress: ${(err as Error).message}`);
    }
  }
}
