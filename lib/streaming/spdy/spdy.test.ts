import net from 'node:net';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { HeaderCompressor, HeaderDecompressor } from './compression.js';
import { spdyHeaderDictionary } from './dictionary.js';
import { FrameReader, SpdyProtocolError, decodeHeaderBlock, encodeFrame, encodeHeaderBlock, flagFin, type SpdyFrame } from './frames.js';
import { SpdySession, type SpdyStream } from './session.js';

function adler32(b: Buffer): number {
  let a = 1;
  let s = 0;
  for (const x of b) {
    a = (a + x) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}

describe('SPDY/3 header dictionary', () => {
  it('is the 1423 bytes of the spec, whose Adler-32 is the dictionary id 0xe3c6a7c2', () => {
    expect(spdyHeaderDictionary.length).toBe(1423);
    expect(adler32(spdyHeaderDictionary)).toBe(0xe3c6a7c2);
    expect(spdyHeaderDictionary.subarray(0, 11)).toEqual(Buffer.from([0, 0, 0, 7, ...Buffer.from('options')]));
    expect(spdyHeaderDictionary.subarray(-9).toString()).toBe(',*,enq=0.');
  });
});

describe('SPDY/3 frames', () => {
  const table: Array<[string, SpdyFrame, string]> = [
    // Fixed byte layouts from the SPDY/3 draft.
    ['PING', { type: 'ping', id: 1 }, '80030006 00000004 00000001'],
    ['data with FIN', { type: 'data', streamId: 3, flags: flagFin, data: Buffer.from('hi') }, '00000003 01000002 6869'],
    ['RST_STREAM cancel', { type: 'rst_stream', streamId: 5, status: 5 }, '80030003 00000008 00000005 00000005'],
    ['GOAWAY ok', { type: 'goaway', lastGoodStreamId: 7, status: 0 }, '80030007 00000008 00000007 00000000'],
    ['WINDOW_UPDATE', { type: 'window_update', streamId: 1, delta: 65536 }, '80030009 00000008 00000001 00010000'],
    ['SETTINGS', { type: 'settings', flags: 0, entries: [{ flags: 1, id: 7, value: 65536 }] }, '80030004 0000000c 00000001 01000007 00010000'],
    [
      'SYN_STREAM',
      { type: 'syn_stream', streamId: 1, associatedStreamId: 0, priority: 2, slot: 0, flags: 0, headerBlock: Buffer.from('abc') },
      '80030001 0000000d 00000001 00000000 4000 616263',
    ],
    ['SYN_REPLY with FIN', { type: 'syn_reply', streamId: 2, flags: flagFin, headerBlock: Buffer.from('x') }, '80030002 01000005 00000002 78'],
    ['HEADERS', { type: 'headers', streamId: 2, flags: 0, headerBlock: Buffer.from('y') }, '80030008 00000005 00000002 79'],
  ];

  it.each(table)('%s encodes to the draft layout and decodes back', (_name, frame, hex) => {
    const bytes = encodeFrame(frame);
    expect(bytes.toString('hex')).toBe(hex.replace(/ /g, ''));
    expect(new FrameReader().push(bytes)).toEqual([frame]);
  });

  it('reassembles frames cut anywhere and keeps the rest for later', () => {
    const all = Buffer.concat(table.map(([, f]) => encodeFrame(f)));
    const reader = new FrameReader();
    const got: SpdyFrame[] = [];
    for (let i = 0; i < all.length; i += 3) got.push(...reader.push(all.subarray(i, i + 3)));
    expect(got).toEqual(table.map(([, f]) => f));
    expect(reader.pending).toBe(0);
    expect(reader.push(all.subarray(0, 5))).toEqual([]);
    expect(reader.pending).toBe(5);
  });

  it('refuses another version, bad lengths and stream 0', () => {
    const v2ping = Buffer.from('80020006000000040000000a', 'hex');
    expect(() => new FrameReader().push(v2ping)).toThrow(/unsupported SPDY version 2/);
    expect(() => new FrameReader().push(Buffer.from('800300030000000400000001', 'hex'))).toThrow(SpdyProtocolError);
    expect(() => new FrameReader().push(Buffer.from('0000000000000000', 'hex'))).toThrow(/stream 0/);
  });

  it('passes unknown control frames through for the session to ignore', () => {
    const f = new FrameReader().push(Buffer.from('8003000a0000000100ff', 'hex').subarray(0, 9));
    expect(f).toEqual([{ type: 'unknown', version: 3, controlType: 10, flags: 0, payload: Buffer.from([0]) }]);
  });
});

describe('SPDY/3 header blocks', () => {
  it('encode count, lengths, lower-case names and NUL-joined values', () => {
    const block = encodeHeaderBlock({ streamtype: ['data'], port: ['80', '81'] });
    expect(block.toString('hex')).toBe(
      '00000002' + '0000000a' + Buffer.from('streamtype').toString('hex') + '00000004' + Buffer.from('data').toString('hex') + '00000004' + Buffer.from('port').toString('hex') + '00000005' + Buffer.from('80\u000081').toString('hex'),
    );
    expect(decodeHeaderBlock(block)).toEqual({ streamtype: ['data'], port: ['80', '81'] });
    expect(decodeHeaderBlock(encodeHeaderBlock({}))).toEqual({});
  });

  it('refuses upper-case or repeated names and bytes past the last pair', () => {
    const one = (name: string) => Buffer.concat([Buffer.from([0, 0, 0, name.length]), Buffer.from(name), Buffer.from([0, 0, 0, 1]), Buffer.from('v')]);
    const block = (...pairs: Buffer[]) => Buffer.concat([Buffer.from([0, 0, 0, pairs.length]), ...pairs]);
    expect(() => decodeHeaderBlock(block(one('Port')))).toThrow(/not lower case/);
    expect(() => decodeHeaderBlock(block(one('port'), one('port')))).toThrow(/twice/);
    expect(() => decodeHeaderBlock(Buffer.concat([block(one('port')), Buffer.from([0])]))).toThrow(/after the last pair/);
    expect(() => decodeHeaderBlock(Buffer.from([0, 0, 0, 1, 0, 0, 0, 9, 1]))).toThrow(/runs past/);
  });
});

describe('SPDY/3 header compression', () => {
  it('starts a zlib stream that names the SPDY dictionary and continues it block after block', async () => {
    const c = new HeaderCompressor();
    const b1 = encodeHeaderBlock({ streamtype: ['error'] });
    const b2 = encodeHeaderBlock({ streamtype: ['stdout'] });
    const z1 = await c.compress(b1);
    const z2 = await c.compress(b2);
    // CMF/FLG with FDICT set, then the dictionary id.
    expect(z1[0]).toBe(0x78);
    expect(z1[1]! & 0x20).toBe(0x20);
    expect(z1.readUInt32BE(2)).toBe(0xe3c6a7c2);
    // Each block ends with a sync flush (an empty stored block).
    expect(z1.subarray(-4).toString('hex')).toBe('0000ffff');
    expect(z2.subarray(-4).toString('hex')).toBe('0000ffff');
    // An independent inflater with the dictionary reads both as one stream.
    const inflated = zlib.inflateSync(Buffer.concat([z1, z2]), { dictionary: spdyHeaderDictionary, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    expect(inflated).toEqual(Buffer.concat([b1, b2]));
    c.close();
  });

  it('reads blocks compressed by another zlib writer primed with the dictionary', async () => {
    const peer = zlib.createDeflate({ dictionary: spdyHeaderDictionary });
    const chunks: Buffer[] = [];
    peer.on('data', (d: Buffer) => chunks.push(d));
    const emit = (b: Buffer) =>
      new Promise<Buffer>((resolve) => {
        peer.write(b);
        peer.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve(Buffer.concat(chunks.splice(0))));
      });
    const d = new HeaderDecompressor();
    const blocks = [{ streamtype: ['error'], port: ['8080'], requestid: ['0'] }, { streamtype: ['data'], port: ['8080'], requestid: ['0'] }];
    for (const h of blocks) expect(decodeHeaderBlock(await d.decompress(await emit(encodeHeaderBlock(h))))).toEqual(h);
    await expect(d.decompress(Buffer.from('not zlib at all'))).rejects.toThrow(SpdyProtocolError);
    d.close();
    peer.destroy();
  });
});

describe('SpdySession', () => {
  const cleanup: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanup.splice(0)) c();
  });

  async function pair(onStream: (s: SpdyStream) => void) {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
    const clientSocket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    const serverSocket = await accepted;
    const serverSession = new SpdySession(serverSocket, { role: 'server', onStream });
    const clientSession = new SpdySession(clientSocket, { role: 'client' });
    cleanup.push(() => {
      clientSession.destroy();
      serverSession.destroy();
      server.close();
    });
    return { serverSession, clientSession };
  }

  const readAll = async (s: NodeJS.ReadableStream) => {
    const parts: Buffer[] = [];
    for await (const c of s) parts.push(c as Buffer);
    return Buffer.concat(parts).toString();
  };

  it('opens streams with headers, carries data both ways and half-closes each direction', async () => {
    const seen: SpdyStream[] = [];
    const { clientSession } = await pair((s) => {
      seen.push(s);
      void s.accept();
      // Echo in upper case, then close our direction once theirs is closed.
      s.on('data', (d: Buffer) => s.write(d.toString().toUpperCase()));
      s.on('end', () => s.end());
    });
    const a = await clientSession.openStream({ streamtype: ['data'], port: ['80'] });
    const b = await clientSession.openStream({ streamtype: ['error'], port: ['80'] });
    expect([a.id, b.id]).toEqual([1, 3]);
    expect(seen.map((s) => [s.id, s.header('streamType'), s.header('port')])).toEqual([
      [1, 'data', '80'],
      [3, 'error', '80'],
    ]);
    const reply = readAll(a);
    a.write('hello ');
    a.end('world');
    expect(await reply).toBe('HELLO WORLD');
    b.end();
    expect(await readAll(b)).toBe('');
    await new Promise((r) => setTimeout(r, 20));
    expect(clientSession.streamCount).toBe(0);
  });

  it('carries large writes in pieces and in order', async () => {
    const { clientSession } = await pair((s) => {
      void s.accept();
      s.pipe(s);
    });
    const s = await clientSession.openStream({ streamtype: ['data'] });
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    const back = (async () => {
      const parts: Buffer[] = [];
      for await (const c of s) parts.push(c as Buffer);
      return Buffer.concat(parts);
    })();
    s.end(big);
    expect((await back).equals(big)).toBe(true);
  });

  it('ends a reset stream for its reader and refuses streams after GOAWAY', async () => {
    let serverStream: SpdyStream | undefined;
    const { clientSession, serverSession } = await pair((s) => {
      serverStream = s;
      void s.accept();
    });
    const s = await clientSession.openStream({ streamtype: ['stdin'] });
    const reset = new Promise<number>((r) => serverStream!.once('reset', r));
    const ended = readAll(serverStream!);
    s.write('partial');
    await new Promise((r) => setTimeout(r, 20));
    s.reset();
    expect(await reset).toBe(5);
    expect(await ended).toBe('partial');
    await serverSession.goAway();
    await new Promise((r) => setTimeout(r, 20));
    await expect(clientSession.openStream({ streamtype: ['stdout'] }, { timeoutMs: 200 })).rejects.toThrow(/closing|reset|no reply/);
  });

  it('answers PING from the peer and times its own', async () => {
    const { clientSession, serverSession } = await pair(() => undefined);
    expect(await clientSession.ping()).toBeGreaterThanOrEqual(0);
    expect(await serverSession.ping()).toBeGreaterThanOrEqual(0);
  });

  it('closes after the peer said GOAWAY and its last stream ended', async () => {
    const { clientSession, serverSession } = await pair((s) => {
      void s.accept();
      s.on('end', () => s.end());
      s.resume();
    });
    const s = await clientSession.openStream({ streamtype: ['data'] });
    await clientSession.goAway();
    await new Promise((r) => setTimeout(r, 20));
    expect(serverSession.isGone).toBe(false);
    s.end();
    s.resume();
    await serverSession.closed;
    await clientSession.closed;
  });

  it('ends the connection with GOAWAY on bytes that are not SPDY', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => server.close());
    const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
    const raw = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    const session = new SpdySession(await accepted, { role: 'server', onStream: () => undefined });
    const received: Buffer[] = [];
    raw.on('data', (d: Buffer) => received.push(d));
    raw.write(Buffer.from('80020006000000040000000a', 'hex'));
    await session.closed;
    await new Promise((r) => raw.once('close', r));
    const frames = new FrameReader().push(Buffer.concat(received));
    expect(frames).toEqual([{ type: 'goaway', lastGoodStreamId: 0, status: 1 }]);
  });
});
